"""The stages as the DAG's tasks call them: a broken feed stops the run before anything is published."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from small_demo import demo_file
from school_improvement import pipeline
from demo_feeds.demo_generator import generate_demo
from school_improvement.errors import ValidationFailed

TERM = "2025-26-autumn"


@pytest.fixture(scope="module")
def landing(demo_landing) -> Path:
    return demo_landing([TERM])[0]  # built once per session (tests/conftest.py); copied before any change


def _cfg(landing: Path, tmp: Path, run_id: str = "r1") -> pipeline.RunConfig:
    return pipeline.RunConfig(la_code="999", term=TERM, landing=str(landing), work_dir=str(tmp / "work"),
                              history_url=f"sqlite:///{tmp / 'history.sqlite'}", run_id=run_id)


@pytest.mark.slow  # a whole demo term through extract and validate
def test_a_broken_attendance_feed_stops_the_run_naming_file_row_and_column(landing, tmp_path):
    broken = tmp_path / "landing"
    folder = broken / "999" / TERM
    folder.mkdir(parents=True)
    for p in (landing / "999" / TERM).iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
    absence = demo_file(folder, "999_abs")  # 999_abs_<year>.csv
    lines = absence.read_text(encoding="utf-8-sig").splitlines()
    cells = lines[3].split(",")
    cells[3] = "abc"  # PERCTOT
    lines[3] = ",".join(cells)
    absence.write_text("\n".join(lines), encoding="utf-8")
    cfg = _cfg(broken, tmp_path)
    pipeline.extract(cfg, archive_dir=str(tmp_path / "archive"))
    with pytest.raises(ValidationFailed) as err:
        pipeline.validate(cfg)
    assert f"{absence.name}, row 4, column 'PERCTOT'" in str(err.value)
    # The raw feeds were archived unchanged, with their SHA-256, for tracing the run.
    archived = tmp_path / "archive" / "999" / TERM / "r1"
    manifest = json.loads((archived / "raw_manifest.json").read_text())
    assert {m["file"] for m in manifest} == {p.name for p in folder.iterdir()}
    assert (archived / absence.name).read_bytes() == absence.read_bytes()
    # The later stages refuse to run on what validation rejected: there is nothing to categorise.
    with pytest.raises(FileNotFoundError):
        pipeline.flag_letters(cfg)


def test_a_missing_landing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="landing folder"):
        pipeline.extract(_cfg(tmp_path / "nowhere", tmp_path))


@pytest.mark.slow  # a whole demo term through the stages, twice
def test_stages_are_idempotent_when_cleared_and_rerun(landing, tmp_path):
    cfg = _cfg(landing, tmp_path)
    first = pipeline.extract(cfg)
    assert pipeline.extract(cfg) == first  # a cleared task replaces its output, never appends
    pipeline.validate(cfg)
    assessed = pipeline.assess_evidence(cfg)
    assert pipeline.assess_evidence(cfg) == assessed
    counts = pipeline.categorise(cfg)
    assert pipeline.categorise(cfg) == counts
    assert counts["rule_set"] == "cambs-2021-23" and sum(v for k, v in counts.items() if k != "rule_set") == 200


def test_build_reports_reads_the_report_inputs_once_for_all_its_parts(tmp_path, monkeypatch):
    """In one process the three parts share one reading of their inputs; a part run on its own (a DAG task)
    still reads them itself."""
    cfg = _cfg(tmp_path, tmp_path)
    calls, given = [], []
    monkeypatch.setattr(pipeline, "report_inputs", lambda c: calls.append(c) or object())
    monkeypatch.setattr(pipeline, "assemble_reports", lambda c: {"staged": "", "files": 0})
    real_part = pipeline.build_report_part

    def part(c, name, inputs=None):
        given.append((name, inputs))
        return {"part": name}

    monkeypatch.setattr(pipeline, "build_report_part", part)
    pipeline.build_reports(cfg)
    assert len(calls) == 1
    assert [n for n, _ in given] == list(pipeline.REPORT_PARTS)
    assert all(i is given[0][1] and i is not None for _, i in given)

    # The part on its own: no inputs given, so it reads them (and fails here on the stub's object, after reading).
    calls.clear()
    with pytest.raises(TypeError):
        real_part(cfg, "general")
    assert len(calls) == 1
    # ... the drafts part only what its drafts need (pipeline.drafts_inputs, tests/test_drafts_inputs.py)
    monkeypatch.setattr(pipeline, "drafts_inputs", lambda c: calls.append(("drafts", c)) or object())
    with pytest.raises(AttributeError):
        real_part(cfg, "drafts")
    assert calls[1:] == [("drafts", cfg)]
