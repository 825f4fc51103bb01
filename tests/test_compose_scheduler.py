"""docker-compose.yaml's scheduler settings: the shortcut in the scheduler's loop (plugins/scheduler_fastpath.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_every_airflow_service_keeps_the_scheduler_fastpath_on():
    compose = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
    for name in ("airflow-scheduler", "airflow-apiserver", "airflow-dag-processor"):
        assert compose["services"][name]["environment"]["SI_SCHEDULER_FASTPATH"] == "1", name
    volumes = compose["services"]["airflow-scheduler"]["volumes"]
    assert "./plugins:/opt/airflow/plugins:ro" in volumes  # where Airflow's plugin loader imports it from


def test_make_airflow_loads_it_too():
    makefile = (REPO / "Makefile").read_text()
    assert "export AIRFLOW__CORE__PLUGINS_FOLDER := $(REPO)/plugins" in makefile
    assert "SI_SCHEDULER_FASTPATH" not in makefile  # on by default: nothing turns it off
