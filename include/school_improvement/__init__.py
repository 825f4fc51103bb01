"""School improvement categorisation: the domain package behind the termly Airflow pipeline.

Stages, one subpackage each: ingest -> quality -> evidence -> decisions -> editions -> publish.
The demo feeds live apart, in `demo_feeds`, which this package never imports.
Nothing here imports Airflow; the DAG in dags/ only wires these functions together.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
INCLUDE_DIR = PACKAGE_DIR.parent
RULES_DIR = INCLUDE_DIR / "rules"
TEMPLATES_DIR = INCLUDE_DIR / "templates"
EXPECTATIONS_DIR = INCLUDE_DIR / "expectations"
CALENDAR_FILE = INCLUDE_DIR / "calendar" / "term_dates.yaml"
LA_TEMPLATES_DIR = INCLUDE_DIR / "la_feed_templates"

DEMO_LA_CODE = "999"
DEMO_LA_NAME = "Wealdshire (demo)"
