"""The fetch_sources DAGs through Airflow itself (`airflow dags test`), against a GIAS-shaped server on 127.0.0.1.

The Connection si_gias points at the test server; a successful fetch versions the source's Asset; an unreachable
source fails its task with a clear message and an alert; the termly run then uses the latest good copy, records
which Asset version it saw, and its published inputs say where each file came from.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from small_demo import demo_file, small_demo
from source_server import Route, source_server

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # Airflow runs whole terms
TERM = "2025-26-autumn"  # run date 2025-09-24
GIAS = "/edubase/downloads/public/edubasealldata{:%Y%m%d}.csv"
LINKS = "/edubase/downloads/public/links_edubasealldata{:%Y%m%d}.csv"
LINKS_BODY = b'"URN","LinkURN","LinkName","LinkType","LinkEstablishedDate"\r\n'


def _airflow(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True,
                          timeout=900)


@pytest.fixture(scope="module")
def world(tmp_path_factory, airflow_db):
    root = tmp_path_factory.mktemp("fetch")
    home = root / "airflow-home"
    home.mkdir()
    env = {**os.environ, "AIRFLOW_HOME": str(home), "SI_WORK_DIR": str(root / "work"),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
           "PYTHONPATH": f"{REPO / 'include'}:{REPO / 'plugins'}",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    airflow_db(home)  # a copy of the session's migrated database (tests/conftest.py)
    small_demo(root / "demo", terms=[TERM])  # the fetched copy is under test, not the county's size
    demo = root / "demo" / "999" / TERM
    landing = root / "landing" / "999" / TERM
    landing.mkdir(parents=True)
    (root / "drive").mkdir()
    (root / "drive" / ".school-improvement-share").write_text("")  # the LA marks the real share once
    gias = demo_file(demo, "edubasealldata")
    for p in demo.iterdir():
        if p != gias:  # nobody dropped GIAS this term: the fetched copy must be used
            shutil.copy2(p, landing / p.name)
    with source_server() as srv:
        env["AIRFLOW_CONN_SI_GIAS"] = json.dumps({"conn_type": "http", "host": "127.0.0.1", "port": srv.port,
                                                  "schema": "http"})
        env["AIRFLOW_CONN_SI_WEBHOOK"] = json.dumps({"conn_type": "http", "host": f"{srv.base}/webhook/si"})
        env.pop("AIRFLOW_CONN_SI_SMTP", None)
        yield {"root": root, "env": env, "srv": srv, "gias": gias.read_bytes(),
               "db": home / "airflow.db"}


def _asset_events(db: Path, name: str) -> list[dict]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.name = ? "
                           "ORDER BY e.id", (name,)).fetchall()
    return [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in rows]


def test_the_gias_dag_fetches_through_its_connection_and_versions_the_asset(world):
    srv, env = world["srv"], world["env"]
    monday = date(2025, 9, 22)
    srv.routes[GIAS.format(monday - timedelta(days=1))] = Route(world["gias"])  # nothing yet for the run date
    srv.routes[LINKS.format(monday - timedelta(days=1))] = Route(LINKS_BODY)
    done = _airflow(env, "dags", "test", "fetch_sources_gias", "2025-09-22T06:00:00+01:00")
    assert done.returncode == 0 and "state=success" in done.stdout + done.stderr, (done.stdout + done.stderr)[-5000:]
    # Airflow loaded the plugins before the first task: the in-process execution API was built for one version
    # (plugins/in_process_api.py), 8 s of CPU less for this `dags test`
    assert "In-process execution API: built for API version" in done.stdout + done.stderr
    assert srv.count(GIAS.format(monday)) == 1
    events = _asset_events(world["db"], "si_source_gias")
    assert events, "no Asset event for si_source_gias"
    files = {f["kind"]: f for f in events[-1]["files"]}
    assert files["gias"]["file"] == "edubasealldata20250921.csv" and files["gias"]["status"] == "downloaded"
    import hashlib
    assert files["gias"]["sha256"] == hashlib.sha256(world["gias"]).hexdigest()


def test_an_unreachable_source_fails_its_task_clearly_with_an_alert(world):
    srv, env = world["srv"], world["env"]
    srv.posts.clear()
    monday = date(2025, 9, 29)
    for back in range(8):
        srv.routes[GIAS.format(monday - timedelta(days=back))] = Route(status=503)
    env = {**env, "SI_FETCH_RETRIES": "0"}  # no later Airflow retry inside the test
    done = _airflow(env, "dags", "test", "fetch_sources_gias", "2025-09-29T06:00:00+01:00")
    out = done.stdout + done.stderr
    assert "state=failed" in out, out[-5000:]
    assert "Get Information about Schools could not be fetched" in out and "HTTP 503" in out
    assert "latest good copy: edubasealldata20250921.csv" in out
    alerts = [json.loads(body)["text"] for path, body in srv.posts if path == "/webhook/si"]
    assert alerts and "FAILED: fetch_gias" in alerts[-1] and "could not be fetched" in alerts[-1]
    for back in range(8):
        del srv.routes[GIAS.format(monday - timedelta(days=back))]


def test_the_termly_run_uses_the_latest_good_copy_and_records_the_asset_version(world):
    env, root = world["env"], world["root"]
    done = subprocess.run([sys.executable, "-m", "school_improvement", "run-dag", "--term", TERM,
                           "--landing", str(root / "landing"), "--shared-drive", str(root / "drive")],
                          env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
    folder = root / "drive" / "999" / "2025-26" / "autumn"
    edition = folder / json.loads((folder / "current.json").read_text())["edition"]
    feeds = {f["file"]: f for f in json.loads((edition / "inputs.json").read_text())["feeds"]}
    fetched = feeds["edubasealldata20250921.csv"]
    assert fetched["origin"] == "fetched" and fetched["age_days"] == 3
    assert fetched["url"] == world["srv"].base + GIAS.format(date(2025, 9, 21))
    assert "origin" not in feeds[demo_file(root / "landing" / "999" / TERM, "999_ks2final").name]  # dropped by hand
    (seen,) = list((root / "work" / "999" / TERM).glob("*/source_assets.json"))
    versions = json.loads(seen.read_text())
    assert fetched["sha256"] in {f["sha256"] for f in versions["gias"]["extra"]["files"]}


def test_the_fetch_dags_are_documented_retried_alerting_and_on_their_own_schedules():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    crons = {}
    for source in ("gias", "ofsted", "ees"):
        dag = bag.dags[f"fetch_sources_{source}"]
        (t,) = dag.tasks
        for part in ("What it does", "Usual causes of failure", "Fix and re-run"):
            assert part in t.doc_md
        assert t.retries >= 1 and t.on_failure_callback and dag.catchup is False
        assert [o.name for o in t.outlets] == [f"si_source_{source}"]
        crons[source] = getattr(dag.timetable, "_expression", None) or getattr(dag.timetable, "expression", None)
    assert crons["gias"] == "0 6 * * 1" and crons["ofsted"] == "0 6 20 * *"  # weekly; monthly
    extract = bag.dags["termly_school_improvement_999"].get_task("extract")
    assert sorted(i.name for i in extract.inlets) == ["si_source_ees", "si_source_gias", "si_source_ofsted"]


def test_the_hook_builds_the_base_url_from_the_connection_and_names_a_missing_one(monkeypatch):
    from si_sources import PublicSourceHook

    monkeypatch.setenv("AIRFLOW_CONN_SI_OFSTED", json.dumps({"conn_type": "http", "host": "www.gov.uk",
                                                             "schema": "https"}))
    assert PublicSourceHook("ofsted").base_url() == ("https://www.gov.uk", None)
    monkeypatch.setenv("AIRFLOW_CONN_SI_EES", json.dumps({"conn_type": "http", "host": "127.0.0.1", "port": 8081,
                                                          "schema": "http", "login": "u", "password": "p"}))
    assert PublicSourceHook("ees").base_url() == ("http://127.0.0.1:8081", ("u", "p"))
    monkeypatch.delenv("AIRFLOW_CONN_SI_GIAS", raising=False)
    with pytest.raises(LookupError, match="Connection 'si_gias' is missing.*ea-edubase-api-prod"):
        PublicSourceHook("gias").base_url()
