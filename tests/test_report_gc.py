"""A report part is built with few full garbage collections (collector.py `few_full_collections`): a layout
creates millions of long-lived objects, and Python's default thresholds walked the whole heap about 20 times per
render (18% of a term's report CPU); during a part the collector does not run by itself at all, only the write's own
collection frees the layout. The thresholds are restored afterwards, and objects frozen before (a Celery
worker's preloaded modules) stay frozen."""

from __future__ import annotations

import dataclasses
import gc

import pytest

from school_improvement import pipeline
from school_improvement import collector


@pytest.fixture
def gc_state():
    old = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.set_threshold(*old)
    gc.unfreeze()


def test_thresholds_are_raised_inside_and_restored_after(gc_state):
    gc.set_threshold(700, 10, 10)
    with collector.few_full_collections():
        assert gc.get_threshold() == collector.REPORT_GC_THRESHOLDS
        assert gc.get_freeze_count() > 0  # what was alive before is out of the collector's reach
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


@pytest.mark.slow  # a report rendered beyond the shared fixtures (over test-fast's CPU budget)
def test_the_collector_does_not_run_by_itself_inside(gc_state):
    collections = []
    gc.callbacks.append(lambda phase, info: collections.append(info["generation"]))
    try:
        with collector.few_full_collections():
            held = [[] for _ in range(300_000)]  # six times Python's default threshold for three generations
            assert collections == [] and gc.get_count()[0] > len(held) // 2
        assert gc.collect() >= 0 and collections  # ...and runs as before once the part is done
    finally:
        gc.callbacks.pop()


def test_objects_frozen_before_stay_frozen(gc_state):
    gc.freeze()  # as a preloaded Celery worker leaves its task processes
    before = gc.get_freeze_count()
    with collector.few_full_collections():
        pass
    assert gc.get_freeze_count() >= before > 0


def test_thresholds_are_restored_when_the_build_fails(gc_state):
    gc.set_threshold(700, 10, 10)
    with pytest.raises(RuntimeError), collector.few_full_collections():
        raise RuntimeError("a broken render")
    assert gc.get_threshold() == (700, 10, 10)


@dataclasses.dataclass
class _Inputs:
    drafts: list
    rule_set_id: str = "r"


@pytest.mark.parametrize("part", pipeline.REPORT_PARTS)
def test_every_report_part_is_built_inside_it(part, tmp_path, monkeypatch, gc_state):
    from school_improvement.editions import drafts, report

    seen = []

    def record(*args, **kwargs):
        seen.append(gc.get_threshold())
        return []

    monkeypatch.setattr(report, "build_edition", record)
    monkeypatch.setattr(drafts, "render_drafts", record)
    cfg = pipeline.RunConfig(la_code="999", term="2025-26-spring", landing=str(tmp_path), work_dir=str(tmp_path / "w"),
                             history_url=f"sqlite:///{tmp_path / 'h.sqlite'}", run_id="gc")
    pipeline.build_report_part(cfg, part, _Inputs(drafts=[{"urn": 1, "letter": "x"}]))
    assert seen == [collector.REPORT_GC_THRESHOLDS]
    assert gc.get_threshold() != collector.REPORT_GC_THRESHOLDS
