"""Test session set-up: an isolated Airflow home, include/ and plugins/ importable, GX analytics off."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DFE = REPO.parent / "shared" / "dfe"

# Before anything imports Airflow: never touch a developer's own Airflow home or database.
_home = Path(tempfile.mkdtemp(prefix="si-airflow-home-"))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ["AIRFLOW_HOME"] = str(_home)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_home / 'airflow.db'}"
os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO / "include"), str(REPO / "plugins"), os.environ.get("PYTHONPATH", "")])


@pytest.fixture(scope="session")
def shared_dfe() -> Path:
    if not SHARED_DFE.is_dir():
        pytest.skip(f"real DfE files not present at {SHARED_DFE}")
    return SHARED_DFE


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory):
    """Demo feeds built once per test session for each term list: `root, summary = demo_landing([term, ...])`.

    The folders are shared by every test that asks for the same terms: read them, never write into them (copy
    first, as test_pipeline's broken-feed test does)."""
    from demo_feeds.generate import generate_demo

    built: dict = {}

    def build(terms=None, seed: int = 2025):
        key = (tuple(terms) if terms else None, seed)
        if key not in built:
            root = tmp_path_factory.mktemp("demo-landing")
            built[key] = (root, generate_demo(root, terms=list(terms) if terms else None, seed=seed))
        return built[key]

    return build
