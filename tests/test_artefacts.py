"""Stage artefacts: Parquet tables and JSON facts that come back exactly as written, and no pickle anywhere."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from school_improvement import artefacts, pipeline
from school_improvement.errors import Problem
from school_improvement.ingest.feeds import read_feed, read_landing

REPO = Path(__file__).resolve().parents[1]


def _assert_same_frame(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for c in a.columns:  # the same Python types cell by cell: a date stays a date, None stays None
        assert [type(v) for v in a[c]] == [type(v) for v in b[c]], c


def _assert_same_feed(a, b) -> None:
    for name in artefacts.FEED_FRAMES:
        _assert_same_frame(getattr(a, name), getattr(b, name))
    for name in ("kind", "source", "path", "sha256", "academic_year", "rows", "warnings"):
        assert getattr(a, name) == getattr(b, name), name


def test_a_table_mixing_types_in_a_column_comes_back_exactly(tmp_path):
    df = pd.DataFrame({
        "urn": [100001, 100002, 100003],
        "name": ["A school", None, "C school"],
        "when": [dt.date(2025, 9, 1), None, dt.date(2026, 1, 5)],
        "mixed": [dt.date(2025, 9, 1), "not a date", 3],  # Arrow cannot type this: kept as typed JSON
        "met": [True, None, False],
        "figure": [1.5, np.nan, -0.25],
        "count": pd.array([1, None, 3], dtype="Int64"),
    })
    artefacts.write_table(tmp_path / "t.parquet", df)
    assert (tmp_path / "t.parquet").read_bytes()[:4] == b"PAR1"
    _assert_same_frame(df, artefacts.read_table(tmp_path / "t.parquet"))


def test_json_facts_keep_dates_tuples_int_keys_and_non_finite_floats(tmp_path):
    facts = {100001: {"previous_category": "high", "prior": {"absence": (12.5, "2024-25"), "head": (None, None)}},
             100002: {"previous_category": None, "prior": {"gap": (math.inf, dt.date(2025, 7, 1))}},
             "actions": [{"by_date": dt.date(2026, 2, 1), "when": dt.datetime(2026, 1, 1, 9, 30)}]}
    artefacts.write_json(tmp_path / "f.json", facts)
    text = (tmp_path / "f.json").read_text()
    assert "Infinity" not in text and "NaN" not in text  # strict JSON a non-Python reader can parse
    assert artefacts.read_json(tmp_path / "f.json") == facts
    assert math.isnan(artefacts.loads(artefacts.dumps({"x": float("nan")}))["x"])


@pytest.mark.slow  # every demo or real feed written to Parquet and read back (over test-fast's CPU budget)
def test_every_demo_feed_round_trips(demo_landing, tmp_path):
    root, _ = demo_landing(["2025-26-autumn"])
    feeds = read_landing(root / "999" / "2025-26-autumn")
    problems = [Problem("x.csv", 3, "PERCTOT", "not a number", "critical", "read")]
    artefacts.write_feeds(tmp_path / "feeds", feeds, problems)
    back, back_problems = artefacts.read_feeds(tmp_path / "feeds")
    assert back_problems == problems and len(back) == len(feeds)
    for a, b in zip(feeds, back):
        _assert_same_feed(a, b)


@pytest.mark.slow  # every demo or real feed written to Parquet and read back (over test-fast's CPU budget)
def test_real_surrey_and_other_la_files_round_trip(shared_dfe, tmp_path):
    names = ["936_ks2_2018-19.csv", "936_abs_2018-19.csv", "936_census_2019-20.csv", "936_ks4provisional_2018-19.csv",
             "gias_850_936_extract_2022-04-20.csv", "873_ofsted_mi_latest_inspections_2026_sample.csv",
             "ees_absence_3term_school_380_excerpt.csv"]
    for name in names:
        feed = read_feed(shared_dfe / "samples" / name)
        artefacts.write_feed(tmp_path / name, feed)
        _assert_same_feed(feed, artefacts.read_feed_artefact(tmp_path / name))


def test_an_object_store_path_works_as_a_local_folder_does():
    from upath import UPath

    store = UPath("memory:///si-artefacts/run1")
    df = pd.DataFrame({"urn": [1, 2], "category": ["low", "high"]})
    artefacts.write_table(store / "categorisation" / "t.parquet", df)
    artefacts.write_json(store / "categorisation" / "f.json", {"rule_set": "x"})
    _assert_same_frame(df, artefacts.read_table(store / "categorisation" / "t.parquet"))
    artefacts.remove_tree(store / "categorisation")
    with pytest.raises(FileNotFoundError, match="run the earlier task first"):
        artefacts.read_json(store / "categorisation" / "f.json")


def test_a_missing_artefact_names_the_task_to_rerun(tmp_path):
    with pytest.raises(FileNotFoundError, match="clear it in the UI"):
        artefacts.read_feeds(tmp_path / "feeds")


@pytest.mark.slow  # validates and categorises the demo LA
def test_stages_write_parquet_and_json_only(demo_landing, tmp_path):
    root, _ = demo_landing(["2025-26-autumn"])
    cfg = pipeline.RunConfig(la_code="999", term="2025-26-autumn", landing=str(root), work_dir=str(tmp_path / "w"),
                             history_url=f"sqlite:///{tmp_path / 'h.sqlite'}", run_id="r1")
    pipeline.extract(cfg)
    pipeline.validate(cfg)
    pipeline.assess_evidence(cfg)
    pipeline.categorise(cfg)
    pipeline.flag_letters(cfg)
    written = {p.relative_to(cfg.run_dir).as_posix() for p in cfg.run_dir.rglob("*") if p.is_file()
               and not p.relative_to(cfg.run_dir).as_posix().startswith(("raw/", "quality/data_docs"))}
    # quality/data_quality.csv is the operator's copy, written even when validation fails (the error names it).
    assert not [p for p in written if not p.endswith((".parquet", ".json")) and p != "quality/data_quality.csv"], written
    assert {"evidence/checks.parquet", "evidence/evidence.json", "categorisation/categorisation.parquet",
            "categorisation/evidence.parquet", "letters/drafts.json",
            "letters/letters.parquet", "quality/data_quality.parquet", "feeds/index.json"} <= written
    # The next stage reads them back as the objects it used to get.
    cat = pipeline._load_categorisation(cfg)
    assert cat["rule_set"] == "cambs-2021-23" and len(cat["table"]) == 200
    letters = pipeline._load_letters(cfg)
    assert len(letters.drafts) == len(letters.letters) and isinstance(letters.drafts[0]["date"], dt.date)


# Airflow's own metadata column TaskInstance.executor_config is a dill pickle, written by Airflow. The scheduler patch
# reads it (an empty dict's bytes answered without the unpickler) and writes nothing: it may name it, never import a
# pickler or give the project's data to one.
READS_AIRFLOWS_PICKLED_COLUMN = {"plugins/scheduler_fastpath.py"}


def test_no_pickle_anywhere_in_the_product():
    found = []
    for folder in ("include", "plugins", "dags"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            name = str(path.relative_to(REPO))
            if name in READS_AIRFLOWS_PICKLED_COLUMN:
                assert not re.search(r"^\s*(import|from)\s+(pickle|dill|cloudpickle)\b|\.dump\(|to_pickle", text, re.M), name
                continue
            if re.search(r"\bpickle\b|to_pickle|read_pickle|\.pkl\b|\bdill\b|cloudpickle", text):
                found.append(name)
    assert found == []
