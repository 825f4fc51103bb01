"""Policy what-if: one term under two rule sets, which schools change category or letters and why."""

from __future__ import annotations

from datetime import date

import pytest
from pypdf import PdfReader

from factories import gias, judgement, letter, term_data
from school_improvement import __main__ as cli
from school_improvement.rules import load_rule_set
from school_improvement.decisions.what_if import compare_rule_sets, write_what_if

RULES = load_rule_set("cambs-2021-23")
ROUND_UP = RULES.model_copy(update={"id": "draft-round-up", "best_fit": RULES.best_fit.model_copy(
    update={"school_ties": "more_support"})})
URN = 990301


def _data():
    # URN: areas medium and high (mean 2.5, a tie); URN+1: unaffected; URN+2: a letter decides nothing either way.
    return term_data(gias=[gias(URN), gias(URN + 1), gias(URN + 2)], adviser_judgements=[
        judgement(URN, "LM-M2"), judgement(URN, "QE-H2"), judgement(URN + 1, "LM-L2"), judgement(URN + 2, "LM-L2")],
        letters_log=[letter(URN + 2, "congratulations", date(2025, 9, 20))])


def test_compare_lists_only_the_schools_that_change_and_why():
    result = compare_rule_sets(_data(), RULES, ROUND_UP)
    t = result.table
    assert result.schools == 3 and list(t["urn"]) == [URN]
    row = t.iloc[0]
    assert (row["category_a"], row["category_b"], row["category_changed"]) == ("medium", "high", True)
    assert "halfway between medium and high: resolved to medium (less support)" in row["why"]
    assert "resolved to high (more support)" in row["why"]
    # The same rule set twice changes nothing.
    assert compare_rule_sets(_data(), RULES, RULES).table.empty


@pytest.mark.slow  # a term decided under two rule sets and its PDF rendered (over test-fast's CPU budget)
def test_what_if_writes_csv_and_pdf_to_its_own_folder_and_nothing_else(tmp_path):
    out = write_what_if(compare_rule_sets(_data(), RULES, ROUND_UP), tmp_path / "what-if")
    folder = tmp_path / "what-if" / "999" / "2025-26-autumn" / "cambs-2021-23-vs-draft-round-up"
    assert out["folder"] == str(folder) and out["category_changes"] == 1
    assert sorted(p.name for p in folder.iterdir()) == ["compare.csv", "compare.pdf"]
    assert [p.name for p in (tmp_path / "what-if" / "999" / "2025-26-autumn").iterdir()] == [folder.name]  # no staging
    text = " ".join(p.extract_text() for p in PdfReader(folder / "compare.pdf").pages)
    assert "Not a published edition" in text and "Test School 990301" in text
    assert "990301" in (folder / "compare.csv").read_text(encoding="utf-8-sig")


def test_compare_command_needs_two_rule_sets_and_passes_them_in_order(monkeypatch, capsys):
    seen = {}

    def fake(la, term, landing, a, b, out, history_url):
        seen.update(la=la, term=term, a=a, b=b, out=out)
        return {"folder": out, "schools": 3, "changed": 1, "category_changes": 1, "letter_changes": 0}

    monkeypatch.setattr("school_improvement.decisions.what_if.run_what_if", fake)
    assert cli.main(["compare", "--term", "2025-26-spring", "--rules", "cambs-2021-23"]) == 2
    assert cli.main(["compare", "--term", "2025-26-spring", "--rules", "A", "--rules", "B", "--out", "x"]) == 0
    assert (seen["a"], seen["b"], seen["term"]) == ("A", "B", "2025-26-spring")
    assert "1 change category" in capsys.readouterr().out


def test_a_reading_of_academy_concerns_or_member_alerts_shows_in_the_what_if():
    """Before, compare.csv listed only category and letter changes: a reading of "concerns about an academy" or
    of members' alerts changed the edition and the what-if said nothing changed."""
    from factories import absence

    acad = 990401
    data = term_data(gias=[gias(URN), gias(acad, type="Academy converter", type_group="Academies", trust="Test Trust",
                                                   is_academy=True, is_la_maintained=False)],
                     absence=[absence(acad, overall_absence=9.0, persistent_absence=30.0)])
    no_absence_concern = RULES.model_copy(update={"id": "draft-no-absence", "academy_concerns": RULES.academy_concerns
                                                  .model_copy(update={"indicators": [i for i in RULES.academy_concerns.indicators
                                                                                     if i.id != "AC-2"]})})
    # "Causing significant concern" read as any school offered more than low support.
    wider_alerts = RULES.model_copy(update={"id": "draft-alerts", "member_alerts": RULES.member_alerts.model_copy(
        update={"categories": ["medium", "high"]})})
    t = compare_rule_sets(data, RULES, no_absence_concern).table
    row = t[t["urn"] == acad].iloc[0]
    assert row["academy_concerns_a"] == "AC-2" and row["academy_concerns_b"] == "" and "academy concerns" in row["why"]
    result = compare_rule_sets(data, RULES, wider_alerts)
    row = result.table[result.table["urn"] == URN].iloc[0]  # no bullet met: placed at medium under both
    assert (row["category_a"], row["category_b"]) == ("medium", "medium") and not row["letter_changed"]
    assert row["member_alert_a"] == "" and "medium level of support" in row["member_alert_b"].lower(), row.to_dict()
    totals = {t["what"]: (t["a"], t["b"]) for t in result.totals}
    assert totals["schools whose members are alerted"] == (0, 1)


def test_a_rule_set_dated_for_other_terms_is_said():
    later = load_rule_set("cambs-2025-report-cards")  # from 2025-11-10; the term's reference date is in September
    warnings = compare_rule_sets(_data(), RULES, later).warnings
    assert any("cambs-2025-report-cards is in force 2025-11-10 to open, not on" in w for w in warnings), warnings
    assert not any("cambs-2021-23 is in force" in w for w in warnings)
