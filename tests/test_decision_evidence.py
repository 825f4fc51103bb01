"""evidence.csv holds the letters' and academy concerns' checks beside the bullets', each saying which decision it
belongs to: the file shows which figures made a letter due (or kept one from being due), not only the level."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from factories import NATIONAL_KS2, decide, feed, gias, ks2
from school_improvement.decisions.letters import DECISION_EVIDENCE_COLUMNS
from school_improvement.editions import tables
from school_improvement.ingest.termdata import TermData
from school_improvement.rules import load_rule_set
from school_improvement.terms import Term

RULES = load_rule_set("cambs-2021-23")
UP, GAP = 990801, 990802


def _letters():
    data = TermData("999", Term.parse("2025-26-autumn"), [
        feed("gias", [gias(UP), gias(GAP), gias(990803, is_academy=True, is_la_maintained=False,
                                                type_group="Academies", type="Academy converter", trust="T")],
             year=None),
        feed("ks2", [ks2(UP, rwm_exp=78.0, rwm_exp_prev1=60.0, rwm_exp_prev2=61.0),
                     ks2(GAP, rwm_exp_disadv=38.0, rwm_exp_other=72.0, rwm_exp_disadv_prev1=39.0,
                         rwm_exp_other_prev1=71.0), ks2(990803)], [NATIONAL_KS2])])
    return decide(data, RULES, {}, date(2025, 9, 24))


def test_the_letters_checks_say_which_figures_made_a_letter_due():
    cat, out = _letters()
    ev = out.evidence
    assert list(ev.columns) == DECISION_EVIDENCE_COLUMNS
    assert set(zip(out.letters["urn"], out.letters["letter"])) >= {(UP, "congratulations"),
                                                                   (GAP, "significant_concerns_letter")}
    # The congratulations letter's check: met, on the KS2 figures, naming the indicator and the Strategy's words.
    [cg2] = ev[(ev["urn"] == UP) & (ev["decision"] == "letter: congratulations")
               & (ev["criterion_id"] == "CG-2")].to_dict("records")
    assert cg2["met"] is True and "KS2 reading, writing and maths" in cg2["value"] and cg2["source"] == "ks2.csv"
    assert cg2["wording"] == next(i.wording for i in RULES.letters["congratulations"].indicators if i.id == "CG-2")
    [scl8] = ev[(ev["urn"] == GAP) & (ev["criterion_id"] == "SCL-8")].to_dict("records")
    assert scl8["decision"] == "letter: significant_concerns_letter" and scl8["met"] is True
    assert "gap" in scl8["value"]
    # Evidence that counts only at some levels of support says so where it does not count (SCL-1: medium, high).
    low = set(cat.table.loc[cat.table["category"] == "low", "urn"])
    scl1 = ev[(ev["criterion_id"] == "SCL-1") & ev["urn"].isin(low)]
    assert scl1.empty or scl1["reason"].str.contains("not counted: this evidence counts only for schools at").all()
    # Academies' checks are there too, as the academy concern's; the bullets' are not repeated.
    assert set(ev.loc[ev["urn"] == 990803, "decision"]) == {"academy concern"}
    assert not ev["decision"].eq(tables.LEVEL_BULLET).any()


class _CsvsWritten(Exception):
    pass


def test_evidence_csv_has_both_and_says_which_decision(tmp_path, monkeypatch):
    from school_improvement.editions import report
    from test_report import make_inputs

    cat, out = _letters()
    inputs = make_inputs()
    inputs.decision_evidence = out.evidence
    # The edition's CSVs are written before its report is laid out; the report is test_report's: stopped there.
    monkeypatch.setattr(report, "_context", lambda *a: (_ for _ in ()).throw(_CsvsWritten()))
    with pytest.raises(_CsvsWritten):
        report.build_edition(inputs, tmp_path, "restricted")
    ev = pd.read_csv(tmp_path / "evidence.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(ev.columns) == tables.EVIDENCE_COLUMNS
    assert set(ev["decision"]) >= {tables.LEVEL_BULLET, "letter: congratulations", "letter: significant_concerns_letter",
                                   "academy concern"}
    assert len(ev[ev["decision"] == tables.LEVEL_BULLET]) == len(inputs.evidence)
    assert len(ev) == len(inputs.evidence) + len(out.evidence)
    assert "CG-2" in set(ev.loc[ev["urn"] == str(UP), "criterion_id"])
