"""A damaged CSV (a cell over Python's field limit, often a quote never closed) is the operator's to fix: the run
names the file and row, and the Airflow task fails at once instead of retrying three times into a traceback."""

from __future__ import annotations

import csv

import pytest

from school_improvement import pipeline
from school_improvement.ingest.termdata import read_files


def _damaged(folder):
    """A KS2 download whose second row holds a quote mark never closed: the rest of the file is one cell."""
    rows = ["URN,LEA,RECTYPE,PTRWM_EXP", "100001,999,1,65", '100002,999,1,"70', *(f"1{i:05d},999,1,60" for i in range(30000))]
    path = folder / "999_ks2_2024-25.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_cell_over_the_field_limit_is_a_problem_naming_file_and_row(tmp_path):
    feeds, problems = read_files([_damaged(tmp_path)], "999")
    assert not feeds
    [p] = problems
    assert p.file == "999_ks2_2024-25.csv" and p.row == 3 and p.check == "cell_size"
    assert f"more than {csv.field_size_limit():,} characters" in p.message


def test_the_task_fails_at_once_on_a_csv_error(tmp_path, monkeypatch):
    pytest.importorskip("airflow")
    from airflow.sdk.exceptions import AirflowFailException
    from si_airflow import run_stage

    def extract(cfg, **kw):
        raise csv.Error("line contains NUL")  # from a reader path that does not name its file

    monkeypatch.setattr(pipeline, "extract", extract)
    cfg = pipeline.RunConfig(la_code="999", term="2025-26-autumn", landing=str(tmp_path), work_dir=str(tmp_path / "w"),
                             history_url=f"sqlite:///{tmp_path / 'h.sqlite'}")
    with pytest.raises(AirflowFailException, match="extract failed for LA 999 term 2025-26-autumn:\nline contains NUL"):
        run_stage("extract", cfg.to_dict())
