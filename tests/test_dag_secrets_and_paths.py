"""Secrets and paths through the real DAG (dag.test() in its own Python process, so every log line is captured).

- The history database URL holds a password (SI_HISTORY_URL, PostgreSQL on 127.0.0.1). After a whole run the
  password is searched for in everything the run left: the task logs, every table of Airflow's metadata
  database (XCom, rendered fields, the run's conf, asset events, the log table) and the work and drive folders.
- The LA is bound to its DAG: a run whose conf tries la_code/landing/shared_drive `../../..` still runs LA 999
  from its configured folders, and nothing appears outside them. A term `../../..` is refused before any task.
- Every value that becomes a path is validated: la_code, term, run id, the config's folders and drive.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from servers import postgres_server

REPO = Path(__file__).resolve().parents[1]
TERM = "2025-26-autumn"
PASSWORD = "Hist0ry-S3cret-pw"
DAG_ID = "termly_school_improvement_999"

RUNNER = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
try:
    dr = bag.dags[sys.argv[2]].test(run_conf=json.loads(sys.argv[3]))
except Exception as exc:
    print(f"RUN REFUSED: {type(exc).__name__}: {exc}", flush=True)
    sys.exit(3)
print(f"RUN STATE: {dr.state}", flush=True)
"""


def _env(root: Path, history_url: str) -> dict:
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "PYTHONPATH": f"{REPO / 'include'}:{REPO / 'plugins'}", "GX_ANALYTICS_ENABLED": "False",
            "SI_WORK_DIR": str(root / "work"), "SI_LANDING": str(root / "landing"),
            "SI_SHARED_DRIVE": str(root / "drive"), "SI_HISTORY_URL": history_url}


def _run(env: dict, conf: dict, log: Path) -> subprocess.CompletedProcess:
    with open(log, "w") as fh:
        return subprocess.run([sys.executable, "-c", RUNNER, str(REPO / "dags"), DAG_ID, json.dumps(conf)],
                              env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=1800)


def _database_text(db: Path) -> str:
    """Every row of every table of Airflow's metadata database, as text (XCom values are JSON in it)."""
    with sqlite3.connect(db) as con:
        return "\n".join(con.iterdump())


def _files_containing(folder: Path, needle: bytes) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.fixture(scope="module")
def run(tmp_path_factory, airflow_db):
    from small_demo import small_demo  # where the secret goes is under test, not the county's size

    root = tmp_path_factory.mktemp("secrets")
    small_demo(root / "landing", terms=[TERM])
    (root / "drive").mkdir()
    (root / "drive" / ".school-improvement-share").write_text("")  # the LA marks the real share once
    with postgres_server() as url:
        history_url = url.replace("postgresql+psycopg2://si@", f"postgresql+psycopg2://si:{PASSWORD}@")
        env = _env(root, history_url)
        airflow_db(root / "home")  # a copy of the session's migrated database (tests/conftest.py)
        # The conf tries to move the LA and its folders: none of these is a Param of the DAG.
        attack = {"term": TERM, "la_code": "../../..", "landing": str(root / "landing" / ".." / ".."),
                  "shared_drive": str(root / "evil-drive")}
        done = _run(env, attack, root / "run.log")
        from sqlalchemy import create_engine, text

        with create_engine(url).connect() as con:  # the history really went to the database with the password
            recorded = con.execute(text("select la_code, term from runs")).fetchall()
    return {"root": root, "rc": done.returncode, "log": (root / "run.log").read_text(errors="replace"),
            "db": root / "home" / "airflow.db", "recorded": recorded}


@pytest.mark.slow  # the DAG run on a real PostgreSQL
def test_the_run_succeeds_and_records_history_in_the_password_protected_database(run):
    assert run["rc"] == 0 and "RUN STATE: success" in run["log"], run["log"][-4000:]
    assert [tuple(r) for r in run["recorded"]] == [("999", TERM)]


@pytest.mark.slow  # the DAG run on a real PostgreSQL
def test_the_password_is_in_no_log_no_xcom_and_no_file(run):
    assert PASSWORD not in run["log"]
    db = _database_text(run["db"])
    # The search can find what is there: the run's XComs (paths and counts) are in the dump.
    assert "xcom" in db.lower() and f"{run['root'] / 'work'}" in db and "edition-001" in db
    assert PASSWORD not in db
    assert "postgresql" not in db  # not even the URL without its password
    for folder in ("work", "drive"):
        assert _files_containing(run["root"] / folder, PASSWORD.encode()) == [], folder


@pytest.mark.slow  # the DAG run on a real PostgreSQL
def test_xcom_carries_paths_and_counts_only(run):
    with sqlite3.connect(run["db"]) as con:
        rows = con.execute("select task_id, map_index, value from xcom where key = 'return_value'").fetchall()
    values = {(t, m): json.loads(v) if isinstance(v, str) else json.loads(v.decode()) for t, m, v in rows}
    assert {t for t, _ in values} == {"extract", "validate", "assess_evidence", "categorise", "flag_letters",
                                      "build_reports", "assemble_reports", "publish"}
    for (task, _), value in values.items():
        assert value["la_code"] == "999" and value["term"] == TERM, task
        assert not ({"history_url", "landing", "cfg"} & set(value)), (task, sorted(value))
        assert len(json.dumps(value)) < 2000, task  # small facts, never data
    assert {values[("build_reports", i)]["part"] for i in range(3)} == {"general", "restricted", "drafts"}


@pytest.mark.slow  # the DAG run on a real PostgreSQL
def test_the_conf_cannot_move_the_la_or_its_folders(run):
    root = run["root"]
    assert sorted(p.name for p in (root / "work").iterdir()) == ["999", "archive"]
    assert sorted(p.name for p in (root / "work" / "archive").iterdir()) == ["999"]
    assert not (root / "evil-drive").exists()
    assert (root / "drive" / "999" / "2025-26" / "autumn" / "current.json").is_file()
    assert sorted(p.name for p in root.iterdir()) == ["drive", "home", "landing", "run.log", "work"]


@pytest.mark.slow  # the DAG run on a real PostgreSQL
def test_a_term_that_climbs_out_is_refused_before_any_task(run):
    root = run["root"]
    env = _env(root, "sqlite:///" + str(root / "unused.sqlite"))
    before = sorted(str(p) for p in root.rglob("*") if "home" not in p.parts)
    done = _run(env, {"term": "../../.."}, root / "refused.log")
    text = (root / "refused.log").read_text(errors="replace")
    assert done.returncode == 3, text[-3000:]
    assert "RUN REFUSED" in text and "term" in text and "does not match" in text, text[-3000:]
    (root / "refused.log").unlink()
    assert sorted(str(p) for p in root.rglob("*") if "home" not in p.parts) == before


# ------------------------------------------------------------------ every value that becomes a path
@pytest.mark.parametrize("field, value", [
    ("la_code", "../../.."), ("la_code", "87"), ("la_code", "8730"), ("la_code", "E10000015"), ("la_code", "٨٧٣"),
    ("term", "../../.."), ("term", "2025-26-autumn/../../x"), ("term", " 2025-26-autumn"), ("as_of", "../x"),
])
def test_run_config_refuses_values_that_become_paths(tmp_path, field, value):
    from school_improvement.pipeline import RunConfig, extract

    kwargs = {"la_code": "999", "term": TERM, "landing": str(tmp_path / "landing"), "work_dir": str(tmp_path / "w"),
              field: value}
    with pytest.raises(ValueError, match=rf"^{field}\b"):
        extract(RunConfig(**kwargs))
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("run_id", ["..", ".", "../../..", "a/../../b"])
def test_a_run_id_never_climbs_out_of_the_term_folder(tmp_path, run_id):
    from school_improvement.pipeline import RunConfig

    cfg = RunConfig(la_code="999", term=TERM, landing="/x", work_dir=str(tmp_path), run_id=run_id)
    term_folder = (tmp_path / "999" / TERM).resolve()
    assert cfg.run_dir.resolve().parent == term_folder


def test_run_config_holds_no_secret_in_its_dict_or_repr(tmp_path):
    from school_improvement.pipeline import RunConfig

    cfg = RunConfig(la_code="999", term=TERM, landing="/x", work_dir=str(tmp_path),
                    history_url=f"postgresql://si:{PASSWORD}@db/si")
    assert PASSWORD not in repr(cfg) and PASSWORD not in json.dumps(cfg.to_dict())
    assert cfg.history_url.endswith("@db/si")  # kept in memory for the stage that needs it


@pytest.mark.parametrize("entry, message", [
    ({"la_code": "../../.."}, "la_code must be a three-digit"),
    ({"la_code": "873", "landing": "/srv/feeds/../../etc"}, "landing must not contain '..'"),
    ({"la_code": "873", "landing": "feeds/873"}, "landing must be an absolute folder"),
    ({"la_code": "873", "shared_drive": "/mnt/reports/../.."}, "shared_drive must not contain '..'"),
    ({"la_code": "873", "shared_drive": "smb://user:pw@files/share"}, "no '..', query or credentials"),
    ({"la_code": "873", "shared_drive": "smb://files/share/../../x"}, "no '..', query or credentials"),
    ({"la_code": "873", "shared_drive": "s3://bucket/x"}, "a folder or smb://"),
    ({"la_code": "873", "region": "East of England"}, "region must be lower-case"),
    ({"la_code": "873", "shared_drive_conn_id": "../x"}, "Airflow Connection id"),
    ({"la_code": "873", "surprise": 1}, "Extra inputs are not permitted"),
])
def test_la_config_refuses_bad_entries_naming_file_entry_and_field(tmp_path, entry, message):
    import yaml
    from la_config import load_las

    path = tmp_path / "las.yaml"
    good = {"la_code": "999", "landing": "/srv/landing", "shared_drive": "/srv/drive"}
    path.write_text(yaml.safe_dump({"las": [good, {"landing": "/srv/l", "shared_drive": "/srv/d", **entry}]}))
    with pytest.raises(ValueError) as err:
        load_las(path)
    assert str(path) in str(err.value) and "LA entry 2" in str(err.value) and message in str(err.value)


def test_la_config_refuses_a_duplicate_la_and_accepts_the_shipped_file(tmp_path):
    import yaml
    from la_config import LAS_FILE, load_las

    good = {"la_code": 873, "landing": "/srv/landing", "shared_drive": "smb://files/share/reports"}
    path = tmp_path / "las.yaml"
    path.write_text(yaml.safe_dump({"las": [good, {**good, "la_code": "873"}]}))
    with pytest.raises(ValueError, match="873 is listed twice"):
        load_las(path)
    assert [la.la_code for la in load_las(LAS_FILE)][0] == "999"


def test_the_shared_drive_refuses_a_path_that_climbs_out(tmp_path):
    from shared_drive import shared_drive_path

    with pytest.raises(ValueError, match="must not contain"):
        shared_drive_path(str(tmp_path / "drive" / ".." / ".." / "x"))
    assert not (tmp_path / "drive").exists()


def test_a_drive_without_the_share_marker_is_not_the_share_and_nothing_is_created(tmp_path):
    from shared_drive import shared_drive_path
    from school_improvement.publish.edition import NotTheShare, publish_edition

    staged = tmp_path / "staged"
    (staged / "general").mkdir(parents=True)
    (staged / "general" / "report.csv").write_text("urn\n1\n")
    mount = tmp_path / "mnt" / "reports"  # an unmounted share: the empty mount point is still there
    mount.mkdir(parents=True)
    for folder in (mount, tmp_path / "gone"):  # nor is a mount point that is missing altogether created
        with pytest.raises(NotTheShare, match=r"does not hold the file \.school-improvement-share.*Nothing was published"):
            publish_edition(staged, shared_drive_path(str(folder)), "873", "2025-26-spring")
    assert not (tmp_path / "gone").exists() and list(mount.iterdir()) == []


def test_an_old_per_la_sentinel_setting_is_refused_not_ignored():
    """One marker for every LA (the domain's `.school-improvement-share`): a stale per-LA setting is an error."""
    from la_config import LAConfig

    with pytest.raises(ValueError, match="shared_drive_sentinel"):
        LAConfig(la_code="873", landing="/srv/l", shared_drive="/srv/d", shared_drive_sentinel=".si-share")


def test_only_the_stages_that_use_the_history_look_its_connection_up(tmp_path, monkeypatch):
    """Each look-up is a request to the api-server (a 404 where the deployment gives SI_HISTORY_URL): extract,
    validate and assemble_reports never open the history, so their tasks do not ask; the others get the Connection's
    URL, which takes precedence over SI_HISTORY_URL as before."""
    import inspect

    import stage_runner
    from school_improvement import pipeline

    secret = f"postgresql://si:{PASSWORD}@db/si"
    asked, seen = [], {}
    monkeypatch.setattr(stage_runner, "_connection_url", lambda: asked.append(1) or secret)
    monkeypatch.setenv("SI_HISTORY_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    cfg = {"la_code": "999", "term": TERM, "landing": "/x", "work_dir": str(tmp_path), "run_id": "r1"}
    for stage in ("extract", "validate", "assess_evidence", "categorise", "flag_letters", "build_report_part",
                  "assemble_reports", "publish"):
        monkeypatch.setattr(pipeline, stage, lambda config, _s=stage, **kw: seen.__setitem__(_s, config.history_url))
        asked.clear()
        stage_runner.run_stage(stage, cfg)
        uses = stage in stage_runner.HISTORY_STAGES
        assert bool(asked) == uses, stage
        assert (seen[stage] == secret) == uses, stage
    monkeypatch.undo()
    # The stages left out really never touch the history (if one starts to, it must join HISTORY_STAGES).
    for stage in ("extract", "validate", "assemble_reports"):
        assert stage not in stage_runner.HISTORY_STAGES
        assert "history" not in inspect.getsource(getattr(pipeline, stage)), stage
    assert set(pipeline.STAGES) - {"extract", "validate"} <= stage_runner.HISTORY_STAGES


HISTORY_STAGES_IN_ORDER = ("assess_evidence", "categorise", "flag_letters", "build_report_part", "build_report_part",
                           "build_report_part", "publish")


def _history_run(tmp_path, monkeypatch, connection: dict, run_id="r1"):
    """The history stages of one run through run_stage, the Connection's presence given by `connection["url"]`
    (None: not defined); returns the URL each stage was handed and how many times the Connection was asked for."""
    import stage_runner
    from school_improvement import pipeline

    asked, seen = [], []
    monkeypatch.setattr(stage_runner, "_connection_url", lambda: asked.append(1) or connection["url"])
    for stage in set(HISTORY_STAGES_IN_ORDER):
        monkeypatch.setattr(pipeline, stage, lambda config, **kw: seen.append(config.history_url))
    cfg = {"la_code": "999", "term": TERM, "landing": "/x", "work_dir": str(tmp_path), "run_id": run_id}
    for stage in HISTORY_STAGES_IN_ORDER:
        stage_runner.run_stage(stage, cfg)
    return seen, len(asked), cfg


def test_where_the_deployment_gives_si_history_url_a_run_asks_for_the_connection_once(tmp_path, monkeypatch):
    """Without an si_history Connection, each history task asked the api-server for it and got a 404 (7 of an LA's
    10 tasks): the run's first history task asks, records that there is none, and the rest read SI_HISTORY_URL."""
    env_url = f"sqlite:///{tmp_path / 'env.sqlite'}"
    monkeypatch.setenv("SI_HISTORY_URL", env_url)
    seen, asked, cfg = _history_run(tmp_path, monkeypatch, {"url": None})
    assert seen == [env_url] * len(HISTORY_STAGES_IN_ORDER)
    assert asked == 1


def test_the_si_history_connection_still_takes_precedence_over_si_history_url(tmp_path, monkeypatch):
    """The README's precedence: the Connection, else SI_HISTORY_URL. Each task reads the Connection (its URL is a
    secret, never stored), and the run folder records only which source the run uses."""
    import stage_runner
    from school_improvement import pipeline

    secret = f"postgresql://si:{PASSWORD}@db/si"
    monkeypatch.setenv("SI_HISTORY_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    seen, asked, cfg = _history_run(tmp_path, monkeypatch, {"url": secret})
    assert seen == [secret] * len(HISTORY_STAGES_IN_ORDER)
    assert asked == len(HISTORY_STAGES_IN_ORDER)
    marker = pipeline.RunConfig(**cfg).run_dir / stage_runner.HISTORY_SOURCE
    assert PASSWORD not in marker.read_text() and "connection" in marker.read_text()


def test_a_run_keeps_one_history_database_and_a_restart_from_extract_decides_again(tmp_path, monkeypatch):
    """A Connection defined part-way through a run does not split the run's history across two databases; the run
    started again from extract uses it. A Connection the run used that has gone stops the task, not switches."""
    import stage_runner
    from school_improvement import pipeline

    env_url, secret = f"sqlite:///{tmp_path / 'env.sqlite'}", f"postgresql://si:{PASSWORD}@db/si"
    monkeypatch.setenv("SI_HISTORY_URL", env_url)
    connection = {"url": None}
    seen, _, cfg = _history_run(tmp_path, monkeypatch, connection)
    connection["url"] = secret  # the operator defines si_history now
    seen, asked, _ = _history_run(tmp_path, monkeypatch, connection)  # a task of the same run cleared
    assert seen == [env_url] * len(HISTORY_STAGES_IN_ORDER) and asked == 0

    stage_runner.forget_history_source(pipeline.RunConfig(**cfg).run_dir)  # what the run's extract task does
    seen, asked, _ = _history_run(tmp_path, monkeypatch, connection)
    assert seen == [secret] * len(HISTORY_STAGES_IN_ORDER)

    connection["url"] = None  # the Connection this run writes through is deleted part-way
    with pytest.raises(RuntimeError, match="si_history.*no longer"):
        stage_runner.run_stage("categorise", cfg)


def test_the_extract_task_forgets_the_runs_history_source(tmp_path, monkeypatch):
    """run_task_stage's extract drops the record, so a run started again from its first task decides anew."""
    import airflow.sdk
    import stage_runner
    from school_improvement import artefacts, pipeline

    monkeypatch.setenv("SI_WORK_DIR", str(tmp_path))
    monkeypatch.setattr(pipeline, "extract", lambda config, **kw: {})
    ctx = {"params": {"term": TERM}, "run_id": "r1"}
    monkeypatch.setattr(airflow.sdk, "get_current_context", lambda: ctx)
    marker = pipeline.RunConfig(la_code="999", term=TERM, landing="/x", work_dir=str(tmp_path),
                                run_id="r1").run_dir / stage_runner.HISTORY_SOURCE
    artefacts.write_json(marker, {"source": "environment", "connection": "si_history"})
    stage_runner.run_task_stage("extract", "999")
    assert not marker.exists()


def test_a_task_logs_weasyprints_steps_but_not_a_line_per_page(caplog):
    """Every task log line is a message to the supervisor and a line in the task's log: WeasyPrint's progress logger
    said one per page laid out (thousands per county edition); its steps are still said."""
    import logging

    import stage_runner
    from weasyprint import HTML

    html = "<html><body>" + "".join(f"<p style='page-break-after: always'>{i}</p>" for i in range(3)) + "</body></html>"
    progress = logging.getLogger("weasyprint.progress")
    saved = list(progress.filters)
    try:
        # No filter at all for WeasyPrint's own lines: one installed earlier in this process (by a stage run in an
        # earlier test, possibly through another copy of the module) would leave them out (seen in CI).
        progress.filters = []
        with caplog.at_level(logging.INFO, logger="weasyprint.progress"):
            HTML(string=html).write_pdf()
        before = [r.getMessage() for r in caplog.records if r.name == "weasyprint.progress"]
        assert any(m.startswith("Step 5 - Creating layout - Page 3") for m in before)  # WeasyPrint's own
        caplog.clear()
        stage_runner.quiet_per_page_progress()
        stage_runner.quiet_per_page_progress()  # once per process, however many stages it runs
        assert sum(isinstance(f, stage_runner.PerPageProgressLeftOut) for f in progress.filters) == 1
        with caplog.at_level(logging.INFO, logger="weasyprint.progress"):
            HTML(string=html).write_pdf()
        after = [r.getMessage() for r in caplog.records if r.name == "weasyprint.progress"]
        assert not any("Page" in m for m in after)
        assert {"Step 4 - Creating formatting structure", "Step 6 - Creating PDF"} <= set(after)
    finally:
        progress.filters = saved
