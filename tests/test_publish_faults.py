"""Fault injection for publishing and running a term: one test per fault of issue 12.

A real SIGKILL (in a child process) mid-publish and between the rename and current.json; corrupt manifest.json
and current.json; an unmounted share; a held or stale lock; two publishes of one term at once; a history that
another run of the term has overwritten; run-dag's error first; no staff names or bidi controls in the general
edition.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from school_improvement import history, pipeline
from school_improvement.publish import edition as publish
from school_improvement.publish.edition import NotTheShare, PublishBusy, PublishConflict, PublishError, publish_edition

from publish_helpers import LA, TERM, make_staged

REPO = Path(__file__).resolve().parents[1]
SEASON = ("2025-26", "autumn")


def term_dir(drive: Path) -> Path:
    return drive / LA / SEASON[0] / SEASON[1]


@pytest.fixture
def drive(tmp_path) -> Path:
    publish.mark_as_share(tmp_path / "share")
    return tmp_path / "share"


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


KILLER = """
import os, signal, sys
from pathlib import Path
from school_improvement.publish import edition as publish
where = sys.argv[3]
if where == "copy":
    real, n = publish.shutil.copyfileobj, []
    def copy(fin, fout, *a):
        n.append(1)
        if len(n) == 3:
            fout.write(b"partial"); fout.flush(); os.kill(os.getpid(), signal.SIGKILL)
        return real(fin, fout, *a)
    publish.shutil.copyfileobj = copy
else:  # killed after the edition is renamed into place, before current.json is replaced
    publish._replace_file = lambda s, d: os.kill(os.getpid(), signal.SIGKILL)
publish.publish_edition(Path(sys.argv[1]), Path(sys.argv[2]), "999", "2025-26-autumn")
"""


def publish_killed(staged: Path, drive: Path, where: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "include")}
    res = subprocess.run([sys.executable, "-c", KILLER, str(staged), str(drive), where], env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == -9, res.stderr  # really killed: no except/finally ran


def test_unmounted_share_whose_mount_point_exists_is_refused(tmp_path):
    mount_point = tmp_path / "mnt" / "reports"
    mount_point.mkdir(parents=True)  # what an unmounted share looks like: an empty local folder
    with pytest.raises(NotTheShare, match=r"does not hold the file \.school-improvement-share.*mounted"):
        publish_edition(make_staged(tmp_path), mount_point, LA, TERM)
    assert list(mount_point.iterdir()) == []  # nothing written to local disk
    publish.mark_as_share(mount_point)
    assert publish_edition(make_staged(tmp_path, "v2"), mount_point, LA, TERM).status == "published"


def test_a_killed_publish_leaves_staging_that_the_next_run_cleans(drive, tmp_path):
    publish_edition(make_staged(tmp_path, "v1"), drive, LA, TERM)
    publish_killed(make_staged(tmp_path, "v2"), drive, "copy")
    folder = term_dir(drive)
    left = [p.name for p in folder.iterdir() if p.name.startswith(".staging-")]
    assert len(left) == 1 and (folder / publish.LOCK).exists()  # the kill left its staging folder and its lock
    lock = json.loads((folder / publish.LOCK).read_text())
    stale = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=publish.STALE_LOCK_SECONDS + 60)
    (folder / publish.LOCK).write_text(json.dumps({**lock, "taken_at": stale.isoformat()}))
    res = publish_edition(make_staged(tmp_path, "v3"), drive, LA, TERM)
    assert res.edition == "edition-002" and publish.read_current(drive, LA, TERM)["edition"] == "edition-002"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
    assert any("stale publish lock" in w for w in res.warnings)
    assert any(left[0] in w for w in res.warnings)


def test_a_kill_between_rename_and_current_leaves_an_orphan_the_next_run_removes(drive, tmp_path):
    publish_edition(make_staged(tmp_path, "v1"), drive, LA, TERM)
    publish_killed(make_staged(tmp_path, "v2"), drive, "current")
    folder = term_dir(drive)
    (folder / publish.LOCK).unlink()  # (the stale lock is covered above)
    assert (folder / "edition-002" / "manifest.json").exists()
    assert publish.read_current(drive, LA, TERM)["edition"] == "edition-001"
    res = publish_edition(make_staged(tmp_path, "v3"), drive, LA, TERM)
    assert res.edition == "edition-003" and not (folder / "edition-002").exists()  # numbers are never reused
    assert any("removed edition-002" in w for w in res.warnings)
    assert publish.read_current(drive, LA, TERM)["edition"] == "edition-003"


def test_an_orphan_holding_what_is_being_published_is_adopted(drive, tmp_path):
    publish_edition(make_staged(tmp_path, "v1"), drive, LA, TERM)
    publish_killed(make_staged(tmp_path, "v2"), drive, "current")
    (term_dir(drive) / publish.LOCK).unlink()
    res = publish_edition(make_staged(tmp_path / "again", "v2"), drive, LA, TERM)  # the same CSVs again
    assert res.edition == "edition-002" and "adopted" in res.message
    assert publish.read_current(drive, LA, TERM)["edition"] == "edition-002"
    assert sorted(p.name for p in term_dir(drive).iterdir()) == ["current.json", "edition-001", "edition-002"]


def test_a_corrupt_manifest_of_the_current_edition_does_not_block(drive, tmp_path):
    publish_edition(make_staged(tmp_path, "v1"), drive, LA, TERM)
    (term_dir(drive) / "edition-001" / "manifest.json").write_text('{"files": [')
    res = publish_edition(make_staged(tmp_path / "b", "v1"), drive, LA, TERM)
    assert res.status == "published" and res.edition == "edition-002"
    assert any("edition-001/manifest.json is corrupt" in w for w in res.warnings)


def test_a_corrupt_current_json_does_not_block_and_is_reported(drive, tmp_path):
    publish_edition(make_staged(tmp_path, "v1"), drive, LA, TERM)
    (term_dir(drive) / "current.json").write_bytes(b"\x00\x00garbage")
    with pytest.raises(PublishError, match="current.json is not valid JSON"):
        publish.read_current(drive, LA, TERM)
    res = publish_edition(make_staged(tmp_path, "v2"), drive, LA, TERM)
    assert res.edition == "edition-002" and any("current.json is corrupt" in w for w in res.warnings)
    assert publish.read_current(drive, LA, TERM)["edition"] == "edition-002"
    assert (term_dir(drive) / "edition-001" / "manifest.json").exists()  # older editions are never removed


def test_a_held_lock_refuses_a_second_publish_and_changes_nothing(drive, tmp_path):
    publish_edition(make_staged(tmp_path, "v1"), drive, LA, TERM)
    folder = term_dir(drive)
    (folder / publish.LOCK).write_text(json.dumps({"owner": "run other", "taken_at": dt.datetime.now(
        dt.timezone.utc).isoformat()}))
    before = snapshot(folder)
    with pytest.raises(PublishBusy, match="another publish of this term is running \\(run other"):
        publish_edition(make_staged(tmp_path, "v2"), drive, LA, TERM)
    assert snapshot(folder) == before


def test_two_publishes_of_one_term_at_once(drive, tmp_path, monkeypatch):
    """The first holds the lock mid-copy; the second is refused; current.json names the first's edition."""
    inside, go = threading.Event(), threading.Event()
    real = publish.shutil.copyfileobj

    def slow(fin, fout, *a):
        if threading.current_thread().name == "first":
            inside.set()
            go.wait(30)
        return real(fin, fout, *a)

    monkeypatch.setattr(publish.shutil, "copyfileobj", slow)
    results = {}
    first = threading.Thread(name="first", target=lambda: results.update(
        first=publish_edition(make_staged(tmp_path, "A"), drive, LA, TERM, owner="run A")))
    first.start()
    assert inside.wait(30)
    with pytest.raises(PublishBusy, match="run A"):
        publish_edition(make_staged(tmp_path, "B"), drive, LA, TERM, owner="run B")
    go.set()
    first.join(30)
    current = publish.read_current(drive, LA, TERM)
    assert current["edition"] == results["first"].edition == "edition-001"
    assert current["content_hash"] == publish.content_hash(make_staged(tmp_path / "x", "A"))


def _run(tmp_path: Path, run_id: str, feeds: dict[str, str]) -> pipeline.RunConfig:
    cfg = pipeline.RunConfig(la_code=LA, term=TERM, landing=str(tmp_path), work_dir=str(tmp_path / "work"),
                             history_url=f"sqlite:///{tmp_path / 'history.sqlite'}", run_id=run_id)
    staged = cfg.run_dir / "staged"
    staged.parent.mkdir(parents=True, exist_ok=True)
    make_staged(tmp_path / run_id, run_id).rename(staged)
    (staged / "inputs.json").write_text(json.dumps(
        {"term": TERM, "feeds": [{"file": f, "sha256": s} for f, s in feeds.items()]}))
    return cfg


def _record(cfg: pipeline.RunConfig, feeds: dict[str, str]) -> None:
    eng = history.engine_for(cfg.history_url)
    with eng.begin() as conn:
        conn.execute(history.runs.delete())
        conn.execute(history.runs.insert().values(la_code=LA, term=TERM, run_id=cfg.run_id, rule_set="r",
                                                  feed_checksums=feeds, recorded_at=dt.datetime.now(dt.timezone.utc)))


def test_an_overlapping_run_of_the_term_cannot_make_its_edition_current(drive, tmp_path):
    """Run A categorised, then run B categorised (the history now holds B's inputs): A must not publish."""
    a_feeds, b_feeds = {"999_abs.csv": "a" * 64}, {"999_abs.csv": "b" * 64}
    run_a, run_b = _run(tmp_path, "run-A", a_feeds), _run(tmp_path, "run-B", b_feeds)
    _record(run_b, b_feeds)
    with pytest.raises(PublishConflict, match="holds run 'run-B'.*not this run \\('run-A'\\)"):
        pipeline.publish(run_a, drive)
    assert not term_dir(drive).exists() or publish.read_current(drive, LA, TERM) is None
    assert pipeline.publish(run_b, drive)["status"] == "published"
    _record(run_b, {"999_abs.csv": "c" * 64})  # same run id, but the history now holds other feeds
    staged_b = run_b.run_dir / "staged"
    (staged_b / "general" / "categorisation.csv").write_text("urn,category\r\n1,changed\r\n")
    with pytest.raises(PublishConflict):
        pipeline.publish(run_b, drive)
    assert publish.read_current(drive, LA, TERM)["edition"] == "edition-001"


def test_history_moving_on_during_the_copy_stops_current_json(drive, tmp_path, monkeypatch):
    feeds = {"999_abs.csv": "a" * 64}
    run_a = _run(tmp_path, "run-A", feeds)
    _record(run_a, feeds)
    real = publish._rename_dir

    def rename_then_history_moves(src, dst):
        real(src, dst)
        _record(pipeline.RunConfig(**{**run_a.to_dict(), "run_id": "run-B", "history_url": run_a.history_url}), feeds)

    monkeypatch.setattr(publish, "_rename_dir", rename_then_history_moves)
    with pytest.raises(PublishConflict):
        pipeline.publish(run_a, drive)
    assert publish.read_current(drive, LA, TERM) is None
    assert not [p for p in term_dir(drive).iterdir() if p.name != "current.json"]  # edition and lock removed


def test_publish_conflict_is_not_retried_but_an_unmounted_share_is(drive, tmp_path):
    pytest.importorskip("airflow")
    from airflow.sdk.exceptions import AirflowFailException
    from si_airflow import run_stage

    feeds = {"999_abs.csv": "a" * 64}
    run_a = _run(tmp_path, "run-A", feeds)
    _record(pipeline.RunConfig(**{**run_a.to_dict(), "run_id": "run-B", "history_url": run_a.history_url}), feeds)
    with pytest.raises(AirflowFailException, match="publish failed for LA 999"):
        run_stage("publish", run_a.to_dict(), shared_drive=drive)
    _record(run_a, feeds)
    with pytest.raises(NotTheShare):  # an ordinary exception: Airflow retries it (the share may come back)
        run_stage("publish", run_a.to_dict(), shared_drive=tmp_path / "not-mounted")


def test_run_dag_prints_the_error_before_the_log_tail():
    from school_improvement.__main__ import error_message

    log = [
        "2026-11-26T03:21:40.1Z [info     ] starting                [task]",
        "Traceback (most recent call last):",
        '  File "/x/si_airflow.py", line 88, in run_stage',
        "    raise AirflowFailException(...)",
        "airflow.sdk.exceptions.AirflowFailException: validate failed for LA 999 term 2025-26-autumn:",
        "1 critical data problem(s); nothing will be published:",
        "  - 999_abs.csv, row 4, column 'PERCTOT': '4,1' has a comma that is not a thousands separator",
        "2026-11-26T03:21:41.2Z [info     ] ::group::Post Execute  [task]",
        "2026-11-26T03:21:44.5Z [info     ] DagRun Finished: state=failed",
    ]
    assert error_message(log) == [
        "validate failed for LA 999 term 2025-26-autumn:", "1 critical data problem(s); nothing will be published:",
        "  - 999_abs.csv, row 4, column 'PERCTOT': '4,1' has a comma that is not a thousands separator"]
    assert error_message(log[:1]) == []


def test_general_edition_withholds_staff_names_and_neutralises_bidi(tmp_path):
    import dataclasses

    from school_improvement.editions import confidentiality, render, tables
    from test_report import make_inputs

    inputs = make_inputs(4)
    gias = pd.DataFrame({"head_title": ["Mrs", "Mr"], "head_first_name": ["Jo", "Sam"],
                         "head_last_name": ["Bloggs", "Okonkwo"]})
    cat = inputs.categorisation.copy()
    cat.loc[1, "reasons"] = "Headteacher changed: GIAS headteacher Jo Bloggs, in post since 2025-26-autumn"
    cat.loc[2, "reasons"] = "Letter to Mr Okonkwo about KS2"
    cat.loc[3, "school_name"] = "Oak\u202eloohcS yrammirP\u202c field"
    inputs = dataclasses.replace(inputs, categorisation=cat, staff_names=confidentiality.staff_names(gias))
    view = confidentiality.general_view(inputs)
    text = view.categorisation.to_csv()
    for name in ("Jo Bloggs", "Okonkwo", "Bloggs"):
        assert name not in text
    assert "GIAS headteacher (name withheld)" in text and "Letter to (name withheld) about KS2" in text
    tables.write_csv(view.categorisation, tmp_path / "c.csv", tables.CATEGORISATION_COLUMNS)
    written = (tmp_path / "c.csv").read_text(encoding="utf-8-sig")
    assert "\u202e" not in written and "Oak[U+202E]loohcS yrammirP[U+202C] field" in written
    restricted = tables.write_csv(inputs.categorisation, tmp_path / "r.csv", tables.CATEGORISATION_COLUMNS)
    assert restricted is None and "Jo Bloggs" in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    html = render._ENV.from_string("<p>{{ name }}</p>").render(name="a\u2066b\u200fc\u061c")
    assert html == "<p>a[U+2066]b[U+200F]c[U+061C]</p>"


def test_run_dag_output_starts_with_the_error(tmp_path, monkeypatch, capsys):
    import subprocess as sp

    from school_improvement.__main__ import main

    failing_log = "\n".join(["2026-11-26T03:21:40.1Z [info] starting"] * 100 + [
        "airflow.sdk.exceptions.AirflowFailException: extract failed for LA 999 term 2025-26-autumn:",
        "  - 999_ks2final.csv, row 144: the file looks truncated",
        "2026-11-26T03:21:44.5Z [info] DagRun Finished: state=failed"] + ["2026-11-26T03:21:45Z [info] tail"] * 50)

    def fake_call(cmd, stdout=None, stderr=None, env=None):
        stdout.write(failing_log)
        return 1

    monkeypatch.setattr(sp, "call", fake_call)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / ".school-improvement-share").write_text("")
    rc = main(["run-dag", "--term", "2025-26-autumn", "--landing", str(tmp_path), "--shared-drive", str(tmp_path / "d")])
    out = capsys.readouterr().out.splitlines()
    assert rc == 1
    assert out[1] == "The DAG run for 2025-26-autumn failed:"  # after the echoed command
    assert out[2:4] == ["extract failed for LA 999 term 2025-26-autumn:",
                        "  - 999_ks2final.csv, row 144: the file looks truncated"]
    assert out.index("  - 999_ks2final.csv, row 144: the file looks truncated") < out.index(
        "2026-11-26T03:21:45Z [info] tail")


def test_run_dag_reads_the_deployments_las_file(tmp_path, monkeypatch, capsys):
    """SI_LAS_FILE names the deployment's LA list for the DAGs; run-dag must read the same one, not the repo's."""
    import subprocess as sp

    from school_improvement.__main__ import main

    own = tmp_path / "las.yaml"
    own.write_text('las:\n  - la_code: "936"\n    landing: "${SI_LANDING}"\n    shared_drive: "${SI_SHARED_DRIVE}"\n')
    calls = []
    monkeypatch.setattr(sp, "call", lambda cmd, **kw: calls.append(cmd) or 0)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("SI_LAS_FILE", str(own))
    args = ["--term", "2021-22-autumn", "--landing", str(tmp_path), "--shared-drive", str(tmp_path / "d")]
    (tmp_path / "d").mkdir()
    assert main(["run-dag", "--la", "936", *args]) == 2 and not calls  # an unmarked drive: said before any run
    assert "does not hold the file .school-improvement-share" in capsys.readouterr().out
    (tmp_path / "d" / ".school-improvement-share").write_text("")
    main(["run-dag", "--la", "936", *args])
    assert calls and "termly_school_improvement_936" in calls[0]
    assert main(["run-dag", "--la", "999", *args]) == 2  # not in the deployment's file
    assert f"LA 999 is not in {own}" in capsys.readouterr().out


def test_the_success_summary_lists_what_publish_tidied(drive, tmp_path):
    pytest.importorskip("airflow")
    import si_airflow

    publish_edition(make_staged(tmp_path, "v1"), drive, LA, TERM)
    (term_dir(drive) / ".staging-0123456789abcdef").mkdir()
    res = publish_edition(make_staged(tmp_path, "v2"), drive, LA, TERM)
    result = json.loads(json.dumps(vars(res), default=str))  # as the publish task's XCom carries it
    _, body = si_airflow._summary_message({"params": {"la_code": LA}}, {"published": result})
    assert "Note: removed .staging-0123456789abcdef, left by an interrupted publish" in body
