"""Letters say only what is true of the school and give their actions in date order (new-user trial, s22)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from factories import flag, gias, letter, ofsted, term_data
from school_improvement.decisions.categorise import categorise
from school_improvement.decisions.letters import flag_letters
from school_improvement.errors import RulesError
from school_improvement.rules import load_rule_set, load_rule_set_arg

URN = 990301


@pytest.mark.parametrize("rule_set", ["cambs-2021-23", "cambs-2025-report-cards"])
def test_a_school_already_in_special_measures_is_not_told_it_is_at_risk_of_them(rule_set):
    """The demo's Warning Notice told a school in special measures it "is at risk of being put in Serious Weaknesses
    or Special Measures" (WN-5, on its Inadequate judgement): the risk is not evidence of the category itself."""
    rules = load_rule_set(rule_set)
    data = term_data("2025-26-autumn", gias=[gias(URN)],
                     ofsted=[ofsted(URN, oeif_overall=4, oeif_date=date(2025, 9, 10),
                                    oeif_category_of_concern="Special Measures")],
                     letters_log=[letter(URN, "significant_concerns_letter", date(2025, 6, 1), "SCL-9")])
    table = categorise(data, rules, {}).table
    assert table.iloc[0]["category"] == "high"  # LM-H5: "has been judged ... Special Measures"
    out = flag_letters(data, rules, table, {}, date(2025, 9, 24))
    cited = "; ".join(out.letters["indicators"]) if not out.letters.empty else ""
    risk = [i.id for r in rules.letters.values() for i in r.indicators if "at risk of being put" in i.wording]
    assert risk and not any(i in cited.split("; ") for i in risk), cited


@pytest.mark.parametrize("rule_set", ["cambs-2021-23", "cambs-2025-report-cards", "northmoor-2024-27"])
def test_no_shipped_indicator_of_a_risk_of_a_category_rests_on_the_category_itself(rule_set):
    rules = load_rule_set(rule_set)
    for r in rules.letters.values():
        for i in r.indicators:
            if "risk" in i.wording.lower() and ("special measures" in i.wording.lower()
                                                or "category of concern" in i.wording.lower()):
                assert "ofsted_inadequate" not in {e.indicator for e in i.evidence}, (rule_set, i.id)


# The demo's Warning Notice (s22): "comply by 10 February", then "written response by 9 February".
SENDS = {"significant_concerns_letter": [flag(URN, "finance", "medium", raised=date(2025, 10, 1))],
         "warning_notice": [flag(URN, "leaders_not_acting", "low", raised=date(2025, 10, 1))]}


@pytest.mark.parametrize("as_of", [date(2025, 10, 15), date(2025, 10, 22), date(2026, 1, 27), date(2026, 2, 4)])
@pytest.mark.parametrize("letter_name", sorted(SENDS))
def test_a_shipped_letter_lists_its_actions_in_the_order_they_fall_due(letter_name, as_of):
    """Over a half term and not: each action is due on or after the one above it."""
    rules = load_rule_set("cambs-2021-23")
    term = "2025-26-autumn" if as_of.year == 2025 else "2025-26-spring"
    data = term_data(term, gias=[gias(URN)], la_intelligence=SENDS[letter_name])
    (draft,) = flag_letters(data, rules, categorise(data, rules, {}).table, {}, as_of).drafts
    dates = [a["by_date"] for a in draft["actions"]]
    assert draft["letter"] == letter_name and len(dates) == 3 and dates == sorted(dates), draft["actions"]


@pytest.mark.parametrize("actions, says", [
    ("    - {action: Comply, within_days: 15}\n    - {action: Reply, within_school_days: 10}\n",
     "line 7: letter_actions.warning_notice: letter_actions for 'warning_notice' give some deadlines in calendar days"),
    ("    - {action: Comply, within_school_days: 15}\n    - {action: Reply, within_school_days: 10}\n",
     "line 9: letter_actions.warning_notice[1].within_school_days: letter_actions for 'warning_notice': 'Reply' is "
     "due 10 school days after the letter, before the action above it (15)"),
])
def test_a_letter_whose_later_action_could_fall_due_before_an_earlier_one_is_refused(tmp_path, actions, says):
    path = tmp_path / "cambs-reading.yaml"
    path.write_text("id: cambs-reading\ntitle: A reading\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"
                    f"letter_actions:\n  congratulations: []\n  warning_notice:\n{actions}", encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rule_set_arg(str(path))
    said = str(err.value)
    assert "cambs-reading.yaml, " + says in said, said


def test_the_draft_greets_the_head_by_title_and_surname():
    """"Dear Mrs Kate Barnes": a title goes with the surname alone."""
    rules = load_rule_set("cambs-2021-23")
    data = term_data("2025-26-autumn", gias=[gias(URN)], la_intelligence=SENDS["warning_notice"])
    (draft,) = flag_letters(data, rules, categorise(data, rules, {}).table, {}, date(2025, 10, 15)).drafts
    assert (draft["head_name"], draft["head_salutation"]) == ("Mrs Ann Example", "Mrs Example")
    data = term_data("2025-26-autumn", gias=[gias(URN, head_title=None)], la_intelligence=SENDS["warning_notice"])
    (draft,) = flag_letters(data, rules, categorise(data, rules, {}).table, {}, date(2025, 10, 15)).drafts
    assert draft["head_salutation"] == "Ann Example"  # no title: the name as GIAS gives it


def test_a_rendered_draft_says_draft_restricted_once_at_its_top_and_greets_by_surname(tmp_path):
    import subprocess

    from school_improvement.editions.drafts import render_drafts
    from test_report import make_inputs

    inputs = make_inputs()
    draft = {**inputs.drafts[1], "head_name": "Mrs Kate Barnes", "head_salutation": "Mrs Barnes"}
    paths = render_drafts(inputs, [draft], tmp_path)
    pdf = next(p for p in paths if p.name.startswith(str(draft["urn"])))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    top = text.split("Dear")[0]
    assert top.count("DRAFT – RESTRICTED") == 1, top  # the banner; the footer marks every page
    assert text.count("DRAFT – RESTRICTED") == 2, text
    assert "Dear Mrs Barnes and Dr D Chair," in " ".join(text.split())


@pytest.mark.slow
def test_the_letters_box_says_how_many_were_drafted_last_term_too(tmp_path):
    """Real Surrey spring: "Letters awaiting the Director's approval (24)", and only Appendix A said they had all been
    drafted in autumn too."""
    import dataclasses

    import pandas as pd

    from school_improvement.decisions.letters import flagged_again_problem
    from school_improvement.editions.report import build_edition
    from test_report import flat, make_inputs, pdf_text

    inputs = make_inputs()
    letters = inputs.letters
    first = letters.iloc[0]
    p = flagged_again_problem(term_data(inputs.term, gias=[gias(int(first["urn"]))]), load_rule_set("cambs-2021-23"),
                              letters.iloc[:1], "2025-26-summer", {int(first["urn"]): {str(first["letter"])}})
    dq = pd.concat([inputs.data_quality, pd.DataFrame([{"file": p.file, "feed_kind": "letters_log", "row": None,
                                                        "column": p.column, "severity": p.severity,
                                                        "check": p.check, "message": p.message}])],
                   ignore_index=True)
    build_edition(dataclasses.replace(inputs, data_quality=dq), tmp_path / "r", "restricted")
    text = flat(pdf_text(tmp_path / "r" / "report.pdf"))
    assert "Drafted last term too: 1 of these was flagged for the same school last term, with no record of its " \
           "being sent since" in text, text[:3000]
    # Without that problem the words are nowhere in the edition's markup (every word the PDF could print is in it;
    # the layout would be a second render of the same edition, as test_report's).
    from school_improvement.editions import render, report

    html = render._ENV.get_template("report.html.j2").render(**report._context(inputs, "restricted"))
    assert "Drafted last term too" not in html and "Letters awaiting" in html


def test_cg3_evidence_shows_the_disadvantaged_pupils_own_rise_it_reads():
    """CG-3 ("significantly accelerated the achievement of disadvantaged groups") needs the gap narrowed and the
    disadvantaged pupils' own figure up: its evidence showed only the gaps."""
    from factories import ks2

    rules = load_rule_set("cambs-2021-23")
    data = term_data("2025-26-autumn", gias=[gias(URN)],
                     ks2=[ks2(URN, rwm_exp_disadv=55.0, rwm_exp_other=73.0, rwm_exp_disadv_prev1=40.0,
                              rwm_exp_other_prev1=70.0)])
    out = flag_letters(data, rules, categorise(data, rules, {}).table, {}, date(2025, 9, 24))
    row = out.letters.set_index("urn").loc[URN]
    assert "CG-3" in row["indicators"]
    assert "previous year gap 30.0, disadvantaged 40.0%" in row["evidence"], row["evidence"]


def test_a_proposed_closing_date_reads_as_the_proposals_not_the_listings():
    """"is listed as 'Open, but proposed to close' on 31 May 2022 in the extract of 20 April 2022" read as listed on
    31 May: the date is the proposed closure's."""
    from school_improvement.evidence.assess import proposed_closures

    data = term_data("2025-26-autumn", gias=[gias(URN, status="Open, but proposed to close",
                                                  close_date=date(2026, 5, 31))])
    [p] = proposed_closures(data)
    assert "is listed as 'Open, but proposed to close'" in p.message
    assert ", with a proposed closing date of 31 May 2026: a proposal, not a closure" in p.message, p.message
    assert "close' on 31 May" not in p.message


def test_an_ofsted_file_with_no_row_for_the_la_is_one_front_page_bullet_not_two(shared_dfe):
    """Real Surrey 2021-22-autumn: "873_ofsted_mi_...: 12 rows, none for this LA's schools, hold an Ofsted inspection
    dated after ..." and "The Ofsted file(s) hold no rows for LA 936's schools" both on the front page: the first sets
    aside nothing this LA's edition rests on (information, for Appendix A)."""
    from school_improvement.ingest.termdata import scope_urns
    from school_improvement.quality.data_age import known_at_term
    from school_improvement.quality.notes import front_page_notes
    from school_improvement.terms import Term
    from test_after_term import GIAS, KNOWN, LA, _real

    feeds = _real(shared_dfe, [GIAS, "873_ofsted_mi_latest_inspections_2026_sample.csv"])
    _, [p] = known_at_term(feeds, Term.parse("2021-22-autumn"), KNOWN, scope_urns(feeds, LA))
    assert "none for this LA's schools" in p.message and p.severity == "info"
    frame = pd.DataFrame([{"file": p.file, "feed_kind": "ofsted", "row": p.row, "column": p.column,
                           "severity": p.severity, "check": p.check, "message": p.message}])
    assert front_page_notes(frame) == []
