"""docker-compose.yaml's executor parallelism: enough task instances queued in Celery per worker slot that a worker
coming free finds its next task waiting, and the national benchmark deploys the same per slot."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))


def _default(value: str) -> int:
    m = re.fullmatch(r"\$\{\w+:-(\d+)\}", str(value))
    return int(m.group(1) if m else value)


def test_the_executor_holds_queued_per_slot_times_the_worker_slots():
    from celery_region import QUEUED_PER_SLOT

    services = yaml.safe_load((REPO / "docker-compose.yaml").read_text())["services"]
    workers = [s for s in services.values() if s.get("command") == "celery worker"]
    slots = sum(_default(w["environment"]["AIRFLOW__CELERY__WORKER_CONCURRENCY"]) for w in workers)
    for name in ("airflow-scheduler", "airflow-worker", "airflow-dag-processor", "airflow-apiserver"):
        assert int(services[name]["environment"]["AIRFLOW__CORE__PARALLELISM"]) == QUEUED_PER_SLOT * slots, name
    assert QUEUED_PER_SLOT >= 3  # more than the slot's running task and the one its executor has not yet seen end
