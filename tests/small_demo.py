"""The demo LA at the size a test of the machinery needs: Airflow's scheduler, REST API, UI, Celery hand-offs,
secrets, the regional fan-out and the bad-input corpus prove how a run is driven, not how big a county is.

40 schools (42: 32 maintained, 10 academies) is enough because the generator still places every one of the
demo's 21 scenarios (every letter type, moderation, suppressed cohorts, academies causing concern) among them
(test_demo_scale checks it for each demo LA code the tests use; at 20 schools the generator cannot place them).
The report is still rendered whole, with every section and a profile for each school, in about a fifth of the time.

Scale is tested elsewhere: the real Surrey download (test_real_la) and the 250-school demo feeds
(test_demo, test_artefacts, test_pipeline); cost against size is for `make bench`, never a test."""

from __future__ import annotations

from pathlib import Path

SCHOOLS = 40


def small_demo(landing_root: Path, la_code: str = "999", terms=None, seed: int = 2025) -> dict:
    """generate_demo at SCHOOLS schools; same arguments and summary."""
    from demo_feeds.demo_generator import generate_demo

    return generate_demo(landing_root, la_code=la_code, terms=terms, seed=seed, schools=SCHOOLS)


def demo_file(folder: Path, prefix: str) -> Path:
    """A demo DfE or GIAS file in a landing folder by the start of its name ("999_abs", "edubasealldata"): the
    names carry the results' year, or the day the GIAS extract was taken."""
    found = sorted(Path(folder).glob(f"{prefix}*.csv"))
    assert len(found) == 1, (folder, prefix, found)
    return found[0]
