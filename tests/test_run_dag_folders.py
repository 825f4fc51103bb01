"""`run-dag` runs the LA's DAG, whose folders come from las.yaml: a flag the LA's entry would override is refused,
and the edition printed is the one the run published, read from the drive it published to (the Surrey trial)."""

from __future__ import annotations

import json
import subprocess as sp

import pytest

from school_improvement.__main__ import main

TERM = "2021-22-autumn"


@pytest.fixture
def deployment(tmp_path, monkeypatch):
    """An LA whose las.yaml entry names literal folders, with an earlier edition current on its drive."""
    landing, drive = tmp_path / "landing", tmp_path / "share"
    landing.mkdir()
    current = drive / "936" / "2021-22" / "autumn" / "current.json"
    current.parent.mkdir(parents=True)
    (drive / ".school-improvement-share").write_text("")
    current.write_text(json.dumps({"edition": "edition-001", "published_at": "2026-01-01T00:00:00Z"}))
    own = tmp_path / "las.yaml"
    own.write_text(f'las:\n  - la_code: "936"\n    landing: "{landing}"\n    shared_drive: "{drive}"\n')
    monkeypatch.setenv("SI_LAS_FILE", str(own))
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    calls, commands = [], []

    def publish(cmd, stdout=None, stderr=None, env=None):  # the DAG publishing a new edition to las.yaml's drive
        calls.append(env)
        commands.append(cmd)
        n = len(calls) + 1
        current.write_text(json.dumps({"edition": f"edition-00{n}", "published_at": f"2026-11-26T10:0{n}:00Z"}))
        stdout.write("2026-11-26T10:00:00Z [info] DagRun Finished: state=success\n")
        return 0

    monkeypatch.setattr(sp, "call", publish)
    return {"landing": landing, "drive": drive, "own": own, "calls": calls, "commands": commands, "tmp": tmp_path}


def test_a_folder_flag_the_las_file_would_override_is_refused(deployment, capsys):
    other = deployment["tmp"] / "elsewhere"
    other.mkdir()
    (other / ".school-improvement-share").write_text("")
    for flag in ("--landing", "--shared-drive"):
        assert main(["run-dag", "--la", "936", "--term", TERM, flag, str(other)]) == 2
        out = capsys.readouterr().out
        assert f"{flag} {other} would be ignored" in out and str(deployment["own"]) in out
        assert "nothing was run" in out
    assert not deployment["calls"]


def test_the_edition_printed_is_the_one_the_run_published(deployment, capsys):
    # The flags naming the LA's own folders are accepted; without them las.yaml's folders are used.
    for n, args in ((2, []), (3, ["--landing", str(deployment["landing"]), "--shared-drive", str(deployment["drive"])])):
        assert main(["run-dag", "--la", "936", "--term", TERM, *args]) == 0
        out = capsys.readouterr().out
        assert f"edition-00{n} is current" in out and "published by this run" in out
        assert f"edition-00{n - 1}" not in out
        assert str(deployment["drive"]) in out and str(deployment["landing"]) in out
    assert len(deployment["calls"]) == 2


def test_a_run_whose_reports_are_unchanged_says_the_current_edition_stays(deployment, capsys, monkeypatch):
    def unchanged(cmd, stdout=None, stderr=None, env=None):  # publish keeps the current edition: same content
        stdout.write("2026-11-26T10:00:00Z [info] DagRun Finished: state=success\n")
        return 0

    monkeypatch.setattr(sp, "call", unchanged)
    assert main(["run-dag", "--la", "936", "--term", TERM]) == 0
    out = capsys.readouterr().out
    assert "unchanged, edition-001 stays current" in out and "published by this run" not in out


def test_the_command_printed_can_be_pasted_into_a_shell(deployment, capsys):
    """The `$ airflow dags test ... -c {"term": ...}` line, read back as a shell reads it, is the command run."""
    import shlex

    assert main(["run-dag", "--la", "936", "--term", TERM]) == 0
    (line,) = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("$ ")]
    assert shlex.split(line[2:]) == deployment["commands"][0]
    assert json.loads(shlex.split(line[2:])[-1]) == {"term": TERM}


def test_a_term_in_words_is_run_as_its_canonical_form_and_an_unreadable_one_is_a_usage_error(deployment, capsys):
    """A trial (s31): `run-dag --term "Autumn 2021"` ended in a traceback; the feeds' term columns read such words."""
    import shlex

    assert main(["run-dag", "--la", "936", "--term", "Autumn 2021"]) == 0
    printed = next(line for line in capsys.readouterr().out.splitlines() if "airflow" in line and "dags" in line)
    conf = json.loads(shlex.split(printed)[shlex.split(printed).index("-c") + 1])
    assert conf["term"] == TERM
    with pytest.raises(SystemExit) as refused:
        main(["run-dag", "--la", "936", "--term", "next term"])
    err = capsys.readouterr().err
    assert refused.value.code == 2 and "argument --term: term 'next term' is not of the form" in err
    assert "Traceback" not in err
