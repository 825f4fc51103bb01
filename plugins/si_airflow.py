"""Airflow-side glue for the school-improvement DAGs, gathered in one import for the DAG files and tests.

Each concern has its own module in plugins/: la_config (the LAs, validated by pydantic), stage_runner (run
settings, the history secret, running a stage), shared_drive (local folder or SMB), notifiers (alerts).
"""

from __future__ import annotations

from la_config import LAS_FILE, REPO, LAConfig, la_by_code, load_las, regions  # noqa: F401
from notifiers import (LEVELS, WebhookNotifier, _message, _summary_message, email_notifier,  # noqa: F401
                       notifiers, on_task_failure, send_alert, send_success_summary)
from shared_drive import _attach_smb, shared_drive_path  # noqa: F401
from stage_runner import (history_url, run_config, run_policy_what_if, run_stage, run_task_stage,  # noqa: F401
                          work_dir)


def configured_las() -> list[dict]:
    """The LAs of include/config/las.yaml as plain dicts (validated: see la_config.LAConfig)."""
    return [la.model_dump() for la in load_las()]
