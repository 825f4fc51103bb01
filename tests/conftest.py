"""Test session set-up: an isolated Airflow home, include/ and plugins/ importable, GX analytics off."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


# The longest modules first (each starts Airflow, PostgreSQL or a browser, or renders reports), so that the
# processes of `make test` (-n 3 --dist loadfile --no-loadscope-reorder: a module stays on one process, with its
# module-scoped fixtures) start them at once and finish together. The order within a module is kept.
LONGEST_FIRST = ("test_celery_regional.py", "test_end_to_end.py", "test_scheduler_rest.py",
                 "test_dag_secrets_and_paths.py", "test_fetch_sources_dag.py",
                 "test_real_la.py", "test_bad_input_corpus.py", "test_report.py", "test_sources.py",
                 # then the modules of 15-35 s of CPU in slow tests alone (out of `make test-fast`)
                 "test_replaced_edition.py", "test_pagination_patches.py", "test_profile_content.py",
                 "test_drafts_inputs.py", "test_after_term.py", "test_render_patches.py",
                 # then the longest of `make test-fast` (CPU per module, measured with tests/cpu_budget.py): started
                 # first, so that the two processes end on short modules together rather than one waiting for the
                 # other's last long one
                 "test_unseen_readings.py", "test_letters.py", "test_strategy_readings.py", "test_quality.py",
                 "test_feed_set.py", "test_categorise.py", "test_trial_s22e.py", "test_la_files.py")


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # a stable sort


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
    from demo_feeds.demo_generator import generate_demo

    built: dict = {}

    def build(terms=None, seed: int = 2025):
        key = (tuple(terms) if terms else None, seed)
        if key not in built:
            root = tmp_path_factory.mktemp("demo-landing")
            built[key] = (root, generate_demo(root, terms=list(terms) if terms else None, seed=seed))
        return built[key]

    return build


def _migrated_template(tmp_path_factory) -> Path:
    """A folder holding airflow.db as `airflow db migrate` leaves it (7 s of CPU). Under xdist the run's workers share
    one, made by the first that needs it (their base folders are in one folder per test run); alone, a process
    makes its own (its base folder's parent holds every run's)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        template = tmp_path_factory.mktemp("airflow-db-template")
        _migrate(template)
        return template
    import fcntl

    template = tmp_path_factory.getbasetemp().parent / "airflow-db-template"
    with open(f"{template}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait for the first worker's migration
        if not (template / "airflow.db").exists():
            building = Path(tempfile.mkdtemp(prefix="airflow-db-", dir=template.parent))
            _migrate(building)
            building.rename(template)  # whole or not at all: a failed migration leaves no template behind
    return template


def _migrate(folder: Path) -> None:
    env = {**os.environ, "AIRFLOW_HOME": str(folder),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{folder / 'airflow.db'}"}
    done = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="session")
def airflow_db(tmp_path_factory):
    """`airflow db migrate` once per test run (xdist's workers share it): the migrated SQLite file is a template.

    Returns `copy_to(home)`, which puts a fresh copy of it at `home/airflow.db` for a test that runs Airflow with
    its own AIRFLOW_HOME; called with no argument it readies this session's own home (the in-process `dag.test()`
    runs). A copy is a database exactly as `airflow db migrate` leaves it, without paying the migration again."""
    template = _migrated_template(tmp_path_factory)

    own: list[Path] = []

    def copy_to(home: Path | None = None) -> Path:
        if home is None:  # the session's own home: readied once, shared by the in-process runs as before
            if not own:
                if (_home / "airflow.db").exists():  # something opened it already: migrate it in place
                    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True,
                                   capture_output=True)
                else:
                    shutil.copyfile(template / "airflow.db", _home / "airflow.db")
                own.append(_home / "airflow.db")
            return own[0]
        home = Path(home)
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template / "airflow.db", home / "airflow.db")
        return home / "airflow.db"

    return copy_to
