"""The stages that build the evidence, the categories and the letters (assess_evidence, categorise, flag_letters)
run with few full garbage collections (collector.py STAGE_GC_THRESHOLDS, pipeline.with_few_full_collections): their
long-lived objects grow with the schools, and the collector's full passes over them made the stages' CPU grow faster
than the schools.
The young generations are still collected (the cycles the stages make are freed as before, their peak memory
unchanged); the oldest is not collected by itself; the thresholds are restored afterwards."""

from __future__ import annotations

import gc

import pytest

from school_improvement import collector, pipeline
from test_report_gc import gc_state  # noqa: F401  (the collector's settings restored after each test)


class _Seen(Exception):
    pass


@pytest.mark.parametrize("stage", ["assess_evidence", "categorise", "flag_letters"])
def test_the_stage_runs_with_few_full_collections(stage, tmp_path, monkeypatch, gc_state):
    gc.set_threshold(700, 10, 10)
    seen = []

    def record(cfg):  # the stage's first step: where the collector stands while it runs
        seen.append((gc.get_threshold(), gc.get_freeze_count() > 0))
        raise _Seen

    monkeypatch.setattr(pipeline, "_term_data", record)
    cfg = pipeline.RunConfig(la_code="999", term="2025-26-spring", landing=str(tmp_path), work_dir=str(tmp_path / "w"),
                             history_url=f"sqlite:///{tmp_path / 'h.sqlite'}", run_id="gc")
    with pytest.raises(_Seen):
        getattr(pipeline, stage)(cfg)
    assert seen == [(collector.STAGE_GC_THRESHOLDS, True)]
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0


def test_young_collections_go_on_and_no_full_one_runs_by_itself(gc_state):
    collections = []
    gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
    try:
        with collector.few_full_collections(collector.STAGE_GC_THRESHOLDS):
            held = [[] for _ in range(300_000)]  # 400 times the youngest generation's threshold
            assert 0 in collections and 2 not in collections and len(held)
    finally:
        gc.callbacks.pop()
