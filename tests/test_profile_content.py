"""School profiles say each thing once: the "Results:" line of the reasons restates the figures table, so the profile
leaves it out and shows beneath the table what the table did not (the disadvantaged pupils' and the other pupils'
own figures, last year's gap, why a gap is not judged); a letter is named with the Strategy's wording of its trigger
and points to the letters table for its evidence, rather than printing the evidence a second time.

Run on the small demo through the pipeline's stages, so the profile is checked against what categorise and the
letters wrote for every school, in both editions."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from school_improvement import pipeline
from school_improvement.editions import profiles, report
from school_improvement.editions.confidentiality import general_view
from school_improvement.rules import load_rule_set
from small_demo import small_demo

# Every test reads the module's term: the 40-school demo through extract, validate (Great Expectations), the evidence
# and the decisions, and both editions' contexts built; over `make test-fast`'s CPU budget (tests/cpu_budget.py).
pytestmark = pytest.mark.slow

TERM = "2025-26-spring"


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    root = tmp_path_factory.mktemp("profiles")
    small_demo(root / "landing", terms=[TERM])
    cfg = pipeline.RunConfig(la_code="999", term=TERM, landing=str(root / "landing"), work_dir=str(root / "work"),
                             history_url=f"sqlite:///{root / 'history.sqlite'}", run_id="r1")
    for stage in pipeline.STAGES[:5]:  # up to the reports
        getattr(pipeline, stage)(cfg)
    inputs = pipeline.report_inputs(cfg)
    views = {"restricted": inputs, "general": general_view(inputs)}
    return cfg, inputs, {ed: (views[ed], report._context(views[ed], ed)) for ed in report.EDITIONS}


def test_general_reasons_keep_every_bullet_whole(term):
    """test_general_reasons's check, on this module's term (its stages run once for both)."""
    from test_general_reasons import assert_general_reasons_whole

    assert_general_reasons_whole(term[1])


def _results_items(reasons: str) -> list[str]:
    line = next((ln for ln in reasons.splitlines() if ln.startswith("Results: ")), "")
    return line[len("Results: "):].split(" | ") if line else []


@pytest.mark.parametrize("edition", report.EDITIONS)
def test_the_results_line_is_left_out_and_what_only_it_said_is_under_the_table(term, edition):
    _, _, contexts = term
    view, ctx = contexts[edition]
    reasons = {r["urn"]: r["reasons"] for r in view.categorisation.to_dict("records")}
    seen = {"figures": 0, "not_judged": 0, "previous": 0, "other_key_stage": 0}
    for p in ctx["profiles"]:
        shown = " ".join(b["heading"] + b["text"] for b in p["bullets"])
        assert "Results:" not in shown
        detail = p["figures"]["gap"]["detail"] if p["figures"] else ""
        for item in _results_items(reasons[p["school"]["urn"]]):
            gap = re.search(r": disadvantaged ([\d.]+%?) vs others ([\d.]+%?), gap", item)
            if gap:  # the two groups' own figures: not in the table's gap row, so said beneath it
                assert f"Disadvantaged pupils {gap[1]}, other pupils {gap[2]}" in detail, (item, detail)
                seen["figures"] += 1
                prev = re.search(r"previous year gap (-?[\d.]+)$", item)
                if prev:
                    assert f"previous year's gap {prev[1]} points" in detail, (item, detail)
                    seen["previous"] += 1
            elif item.startswith("Disadvantaged gap: "):  # why the gap is not judged (a small cohort, say)
                assert detail == item, (item, detail)
                seen["not_judged"] += 1
            elif item in p["figures"]["attainment_more_reasons"]:  # the other key stage, not judged: under the table
                seen["other_key_stage"] += 1
            else:  # the attainment: in the table, its latest year and national, or why it is not judged
                att = p["figures"]["attainment"]
                assert att, item
                if att["reason"]:
                    assert att["reason"] in item, (item, att)
                else:
                    assert att["values"][-1] in item and att["national"] in item, (item, att)
    assert seen["figures"] and seen["not_judged"] and seen["previous"], seen  # the demo has each kind


@pytest.mark.parametrize("edition", report.EDITIONS)
def test_every_reason_for_not_judging_is_said_once(term, edition):
    _, _, contexts = term
    view, ctx = contexts[edition]
    reasons = {r["urn"]: r["reasons"] for r in view.categorisation.to_dict("records")}
    dropped = 0
    for p in ctx["profiles"]:
        line = next((ln for ln in reasons[p["school"]["urn"]].splitlines() if ln.startswith("Not judged from data: ")), "")
        kept = next((b["text"] for b in p["bullets"] if b["text"].startswith("Not judged from data: ")), "")
        table = profiles.table_reasons(p["figures"])
        for item in filter(None, line[len("Not judged from data: "):].split(" | ")):
            in_table = any(item in t or item.startswith(t) for t in table)  # "no KS2 or KS4 results ... (phase X)"
            assert in_table != (item in kept), (item, kept, table)  # in the table or in the line, never both
            dropped += in_table
    assert dropped  # the demo's small cohorts are said in the table only


@pytest.mark.parametrize("edition", report.EDITIONS)
def test_a_letter_is_named_with_its_trigger_in_the_strategys_words(term, edition):
    cfg, inputs, contexts = term
    view, ctx = contexts[edition]
    rules = load_rule_set(inputs.rule_set_id)
    flagged = 0
    for p in ctx["profiles"]:
        for letter in p["letters"]:
            ids = [c for c in letter["indicators"].split("; ") if c]
            wording = {i.id: i.wording for i in rules.letters[letter["letter"]].indicators}
            if edition == "restricted":
                assert letter["triggers"] == [wording[c] for c in ids], letter
            # Taken from the edition's own evidence cell: never more than its letters table shows.
            assert all(t in letter["evidence"] for t in letter["triggers"])
            flagged += bool(letter["triggers"])
    assert flagged


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")  # renders both editions
def test_the_profiles_in_print(term):
    cfg, inputs, contexts = term
    pipeline.build_reports(cfg)
    for edition in report.EDITIONS:
        view, ctx = contexts[edition]
        pdf = cfg.run_dir / "staged" / edition / "report.pdf"
        pages = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout.split("\f")
        text = " ".join(" ".join(pages).split())
        profiles_part = text[text.index("School profiles One page per maintained school"):text.index("Appendix A: data quality Every")]
        assert "Results:" not in profiles_part
        assert "Disadvantaged pupils" in profiles_part
        for p in ctx["profiles"]:
            for letter in p["letters"]:
                at = profiles_part.index(f"(URN {p['school']['urn']})")
                start = profiles_part.index("Letters flagged:", at)
                said = profiles_part[start:profiles_part.index("Evidence: the letters table", start) + 100]
                assert "Evidence: the letters table (Letters flagged and academies of concern)" in said, said
                assert " ".join(letter["evidence"].split()) not in said  # the evidence is not printed twice
                if edition == "restricted":
                    assert "and the draft letter" in said
                else:
                    assert "draft letter" not in said


def test_the_restricted_edition_is_laid_out_once(term, monkeypatch):
    """A page reference to another page from every profile made WeasyPrint lay out a third of the pages again;
    the edition's pages are laid out once each, bar the few the front page's and contents' references re-make."""
    import weasyprint.layout.page as page_layout

    from school_improvement.editions import render

    _, _, contexts = term
    calls = []
    library = page_layout.make_page
    monkeypatch.setattr(page_layout, "make_page", lambda *a, **k: calls.append(1) or library(*a, **k))
    doc, _ = render._layout("report.html.j2", contexts["restricted"][1])
    assert len(doc.pages) > len(contexts["restricted"][1]["profiles"])
    assert len(calls) <= len(doc.pages) + 5, (len(calls), len(doc.pages))
