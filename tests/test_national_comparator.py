"""The national comparator is chosen by the rule set (state-funded schools), not the first national row of the
file, and named in the evidence: on the real Surrey KS2 and KS4 downloads, whose national rows come in different
orders from year to year."""

from __future__ import annotations

import csv

import pytest

from school_improvement.evidence.assess import academies, maintained_schools
from school_improvement.evidence.indicators import SchoolIndicators
from school_improvement.ingest.feeds import read_feed
from school_improvement.ingest.termdata import TermData
from school_improvement.rules import load_rule_set
from school_improvement.terms import Term

GIAS = "gias_850_936_extract_2022-04-20.csv"
# The metadata's record types for the state-funded national row (ks2_meta_2018-19.csv, ks4provisional_meta).
STATE_FUNDED = {"ks2": "5", "ks4": "7"}


def _national_in_file(path, rectype: str, column: str) -> float:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["RECTYPE"].strip() == rectype]
    assert len(rows) == 1
    return float(rows[0][column].rstrip("%"))


@pytest.mark.parametrize("name,kind,column,field", [
    ("936_ks2_2016-17.csv", "ks2", "PTRWM_EXP", "rwm_exp"),
    ("936_ks2_2017-18.csv", "ks2", "PTRWM_EXP", "rwm_exp"),
    ("936_ks2_2018-19.csv", "ks2", "PTRWM_EXP", "rwm_exp"),
    ("936_ks4provisional_2018-19.csv", "ks4", "ATT8SCR", "att8")])
def test_the_rule_sets_national_row_is_taken_whatever_the_files_order(shared_dfe, name, kind, column, field):
    rules = load_rule_set("cambs-2021-23")
    assert rules.national_comparator[kind] == "state_funded"
    path = shared_dfe / "samples" / name
    data = TermData("936", Term.parse("2021-22-autumn"), [read_feed(path)])
    nat = data.national(kind, scope=rules.national_comparator[kind])
    assert str(nat["rectype"]).strip() == STATE_FUNDED[kind]
    assert nat[field] == _national_in_file(path, STATE_FUNDED[kind], column)
    assert nat["_label"] == "national (state-funded schools)"


def test_ks4_schools_are_compared_with_the_state_funded_attainment_8_and_the_evidence_says_so(shared_dfe):
    """Trial: KS4 schools were compared with 44.5 (all schools, independent included) instead of 46.5."""
    s = shared_dfe / "samples"
    rules = load_rule_set("cambs-2021-23")
    data = TermData("936", Term.parse("2021-22-autumn"),
                    [read_feed(s / GIAS), read_feed(s / "936_ks4provisional_2018-19.csv")])
    all_schools = _national_in_file(s / "936_ks4provisional_2018-19.csv", "5", "ATT8SCR")
    state_funded = _national_in_file(s / "936_ks4provisional_2018-19.csv", "7", "ATT8SCR")
    assert all_schools != state_funded
    judged = 0
    for urn in [*maintained_schools(data)["urn"], *academies(data)["urn"]]:  # academies: AC concerns compare too
        ind = SchoolIndicators(int(urn), data, rules)
        ks4 = [e for e in ind._attainment() if e["ks"] == "KS4" and "reason" not in e]
        if not ks4:
            continue
        judged += 1
        assert ks4[0]["national"] == state_funded
        f = ind.get("attainment_broadly_in_line")
        assert f"vs national (state-funded schools) {state_funded:.1f}" in f.value, f.value
    assert judged >= 1  # the real GIAS extract holds few of the KS4 file's schools


def test_without_the_chosen_row_the_school_is_not_judged_against_another(shared_dfe, tmp_path):
    """A KS4 file holding only the all-schools national row: no national (state-funded) figure, so no comparison,
    rather than the other average quietly."""
    src = shared_dfe / "samples" / "936_ks4provisional_2018-19.csv"
    text = src.read_bytes().decode("utf-8-sig")
    lines = text.splitlines(keepends=True)
    kept = [ln for ln in lines if not ln.startswith("7,")]
    assert len(kept) == len(lines) - 1
    cut = tmp_path / "936_ks4provisional_2018-19.csv"
    cut.write_text("".join(kept), encoding="utf-8")
    data = TermData("936", Term.parse("2021-22-autumn"), [read_feed(cut)])
    assert data.national("ks4", scope="state_funded") == {}
    from school_improvement.evidence.assess import comparator_problems

    warned = comparator_problems(data, load_rule_set("cambs-2021-23"))
    assert [(p.file, p.severity, p.check) for p in warned] == [(cut.name, "warning", "national_comparator")]
    assert "national (state-funded schools) row (RECTYPE 7)" in warned[0].message
    whole = TermData("936", Term.parse("2021-22-autumn"), [read_feed(src)])
    assert comparator_problems(whole, load_rule_set("cambs-2021-23")) == []
    assert data.national("ks4", scope="all_schools")["att8"] == _national_in_file(src, "5", "ATT8SCR")


def test_the_disadvantaged_gap_names_its_national_comparator(shared_dfe):
    s = shared_dfe / "samples"
    rules = load_rule_set("cambs-2021-23")
    data = TermData("936", Term.parse("2021-22-autumn"), [read_feed(s / GIAS), read_feed(s / "936_ks2_2018-19.csv")])
    values = [SchoolIndicators(int(u), data, rules).get("disadvantaged_gap_wide") for u in maintained_schools(data)["urn"]]
    judged = [f for f in values if f.met is not None]
    assert judged and all("vs national (state-funded schools) gap" in f.value for f in judged)


def test_a_rule_set_that_does_not_choose_is_told_and_the_row_used_is_named(shared_dfe):
    from school_improvement.evidence.assess import comparator_problems

    src = shared_dfe / "samples" / "936_ks4provisional_2018-19.csv"
    data = TermData("936", Term.parse("2021-22-autumn"), [read_feed(src)])
    rules = load_rule_set("cambs-2021-23").model_copy(update={"national_comparator": {}})
    warned = comparator_problems(data, rules)
    assert [(p.file, p.check) for p in warned] == [(src.name, "national_comparator")]
    assert "does not say which national average" in warned[0].message
    assert data.national("ks4")["_label"] in warned[0].message
