"""The bad-input corpus (tests/bad_input_cases.py): every case gives exactly its recorded outcome, and the
dangerous ones, run through the pipeline's stages, publish nothing new or publish with the warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from bad_input_cases import ACCEPTED, CASES, ERROR, WARNING, run_case, run_pipeline_case
from small_demo import small_demo

REAL_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "dfe" / "samples"
DANGEROUS = [c for c in CASES if c.dangerous]


def test_the_corpus_is_large_varied_and_uniquely_named():
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES)
    assert {c.outcome for c in CASES} == {ERROR, WARNING, ACCEPTED}
    assert len(DANGEROUS) >= 6 and all(c.demo_edit for c in DANGEROUS)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_gives_its_recorded_outcome(case, tmp_path):
    res = run_case(case, tmp_path, REAL_SAMPLES if REAL_SAMPLES.is_dir() else None)
    if res.outcome == "skipped":
        pytest.skip(res.detail)
    assert res.mismatches(case) == []
    if case.outcome == ERROR:
        assert res.problem.severity == "critical" and res.problem.file == Path(case.write(tmp_path)).name


@pytest.fixture(scope="module")
def demo_landing(tmp_path_factory) -> Path:
    # The small demo (tests/small_demo.py): each edit damages one file the same way whatever the county's size,
    # and the stages must refuse it or carry the warning into the edition; the size is not what is checked.
    root = tmp_path_factory.mktemp("corpus-landing")
    small_demo(root, terms=["2025-26-autumn"])
    return root


@pytest.mark.slow  # a demo term through the stages (GX validation; the "warned" case renders and publishes)
@pytest.mark.parametrize("case", DANGEROUS, ids=[c.name for c in DANGEROUS])
def test_dangerous_case_through_the_stages(case, demo_landing, tmp_path):
    res = run_pipeline_case(case, demo_landing, tmp_path)
    assert not res.crash, res.error
    assert not res.wrong_edition(case), res
    if case.pipeline == "blocked":
        # Stopped before anything was categorised, with the file named, and the earlier edition still current.
        assert res.stopped_at in ("extract", "validate") and not res.published, res
        assert res.error.startswith(("ValidationFailed", "FeedError")), res.error
        for w in case.pipeline_words or case.words:
            assert w in res.error, (w, res.error)
    elif case.pipeline == "warned":
        assert res.stopped_at is None and res.published and res.warning_in_edition, res
    else:
        assert res.stopped_at is None, res.error
        assert case.pipeline_check({"categorisation": res.categorisation, "moderated_urn": res.moderated_urn})
