"""The drafts task reads only what its drafts need (pipeline.drafts_inputs): the same drafts, byte for byte, as from
the editions' inputs (pipeline.report_inputs), with and without the LA's name in the run's settings."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pandas as pd
import pytest

from school_improvement import artefacts, pipeline
from small_demo import small_demo

TERM = "2025-26-autumn"


def _files(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow  # the small demo through the stages and its drafts written four times
def test_drafts_from_their_own_inputs_are_the_editions_drafts(tmp_path):
    # The 40-school demo: every letter type is drafted in it (tests/small_demo.py), which is what is compared here.
    root = tmp_path / "landing"
    small_demo(root, terms=[TERM])
    cfg = pipeline.RunConfig(la_code="999", term=TERM, landing=str(root), work_dir=str(tmp_path / "work"),
                             history_url=f"sqlite:///{tmp_path / 'history.sqlite'}", run_id="drafts")
    for stage in ("extract", "validate", "assess_evidence", "categorise", "flag_letters"):
        getattr(pipeline, stage)(cfg)
    # Figures of a known age (the demo's are all current): each concern citing them says how old they are.
    dq_path = cfg.run_dir / "quality" / "data_quality.parquet"
    dq = artefacts.read_table(dq_path)
    aged = pd.DataFrame([{"file": f"{kind}.csv", "feed_kind": kind, "row": None, "column": None, "severity": "info",
                          "check": "data_age", "message": f"{kind} figures are for 2023-24"}
                         for kind in ("ks2", "ks4", "absence", "census")])
    artefacts.write_table(dq_path, pd.concat([dq, aged.astype({"row": "Int64"})], ignore_index=True))
    for run in (cfg, replace(cfg, la_name="Wealdshire (named in las.yaml)")):
        part = run.run_dir / "parts" / "drafts"
        pipeline.build_report_part(run, "drafts")  # the task: its own inputs
        own = _files(part)
        pipeline.build_report_part(run, "drafts", pipeline.report_inputs(run))  # as build_reports gives them
        assert _files(part) == own
        assert sum(name.endswith(".pdf") for name in own) >= 5  # the demo term drafts letters
    inputs = pipeline.drafts_inputs(cfg)
    full = pipeline.report_inputs(cfg)
    assert inputs.drafts == full.drafts  # each concern with its figures' age, as the editions say
    assert any("[Data age: " in c for d in inputs.drafts for c in d["concerns"])
    assert (inputs.la_name, inputs.rule_set_id, inputs.run_date) == (full.la_name, full.rule_set_id, full.run_date)
