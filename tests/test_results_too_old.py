"""Results too old to judge: a 2025-26 run on 2018-19 results drafts no letter and moves no level on them.

The rule set's `oldest_results` (data, quoted and reasoned in each YAML) says how many academic years before the
term's the results a data check rests on may be; older ones are "not judged", the reason names their year, the
front page says so first in its data box, and each school's level rests on its other evidence.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from factories import NATIONAL_ABS, NATIONAL_KS2, absence, decide, feed, gias, ks2
from school_improvement.decisions.categorise import categorise
from school_improvement.decisions.letters import flag_letters
from school_improvement.errors import RulesError
from school_improvement.ingest.termdata import TermData
from school_improvement.pipeline import with_rule_set_review
from school_improvement.quality.data_age import too_old_problems
from school_improvement.quality.notes import front_page_notes
from school_improvement.rules import RULES_DIR, load_rule_set, rule_set_for
from school_improvement.terms import Term

URN_UP, URN_GAP = 990701, 990702  # a school whose KS2 results rose sharply; one with a wide disadvantaged gap
TERM = "2025-26-spring"
AS_OF = date(2026, 1, 20)


def test_every_rule_set_says_how_old_the_results_may_be():
    for rid in ("cambs-2021-23", "cambs-2025-report-cards", "northmoor-2024-27"):
        rule = load_rule_set(rid).oldest_results
        assert rule is not None and rule.years_before_term >= 1, rid
        assert {"ks2", "ks4", "absence"} <= set(rule.kinds), rid
        # Quoted or reasoned in the YAML itself, beside the key.
        text = (RULES_DIR / f"{rid}.yaml").read_text(encoding="utf-8")
        block = text[:text.index("oldest_results:")].rsplit("\n\n", 1)[-1]
        assert block.count("#") >= 3, rid


@pytest.mark.parametrize("value, said", [
    ("{years_before_term: 0, kinds: [ks2]}", "greater than or equal to 1"),
    ("{years_before_term: three, kinds: [ks2]}", "valid integer"),
    ("{years_before_term: 3, kinds: [ks3]}", "oldest_results.kinds"),
    ("{years_before_term: 3, kinds: []}", "oldest_results.kinds"),
    ("{years: 3, kinds: [ks2]}", "oldest_results"),
])
def test_a_bad_oldest_results_is_refused_naming_the_key(tmp_path, value, said):
    (tmp_path / "draft-too-old.yaml").write_text(
        f"id: draft-too-old\ntitle: draft\nextends: cambs-2021-23\nreview_by: 2027-08-31\noldest_results: {value}\n")
    with pytest.raises(RulesError) as err:
        load_rule_set("draft-too-old", tmp_path)
    assert "oldest_results" in str(err.value) and said in str(err.value)


def _data(year: str) -> TermData:
    """Two schools whose KS2 results (of `year`) would draft a congratulations letter and a significant concerns
    letter, and absence that has risen; generated here, in the readers' columns."""
    schools = [gias(URN_UP), gias(URN_GAP)]
    results = [ks2(URN_UP, rwm_exp=78.0, rwm_exp_prev1=60.0, rwm_exp_prev2=61.0),
               ks2(URN_GAP, rwm_exp_disadv=38.0, rwm_exp_other=72.0, rwm_exp_disadv_prev1=39.0,
                   rwm_exp_other_prev1=71.0)]
    return TermData("999", Term.parse(TERM), [
        feed("gias", schools, year=None, source="edubasealldata20260105.csv"),
        feed("ks2", results, [NATIONAL_KS2], year=year, source=f"999_ks2_{year}.csv"),
        feed("absence", [absence(URN_UP), absence(URN_GAP, overall_absence=9.5)], [NATIONAL_ABS], year=year,
             source=f"999_abs_{year}.csv")])


def _run(year: str):
    data = _data(year)
    rules = rule_set_for(Term.parse(TERM).reference_date)
    return data, rules, *decide(data, rules, {}, AS_OF)


def test_recent_results_draft_the_letters_they_meet():
    """The control: the same figures of 2024-25 draft both letters (so the test below can fail)."""
    data, rules, _, out = _run("2024-25")
    assert set(zip(out.letters["urn"], out.letters["letter"])) >= {(URN_UP, "congratulations"),
                                                                   (URN_GAP, "significant_concerns_letter")}
    assert too_old_problems(data, rules) == []


def test_results_older_than_the_rule_set_allows_are_not_judged_and_said_first():
    data, rules, cat, out = _run("2018-19")
    # No letter rests on the 2018-19 results.
    assert out.letters.empty, out.letters[["urn", "letter", "evidence"]].to_dict("records")
    # Each data check on them says why it was not judged, naming the year and the rule set's limit.
    why = ("not judged: KS2 results from 2018-19 are older than the rule set allows (7 years before 2025-26; "
           f"at most {rules.oldest_results.years_before_term} years)")
    ev = cat.evidence
    for urn in (URN_UP, URN_GAP):
        mine = ev[ev["urn"].eq(urn)]
        attainment = mine[mine["measure"].str.startswith("data: attainment")]
        assert len(attainment) and attainment["met"].isna().all(), urn
        assert attainment["reason"].str.contains(why, regex=False).all(), urn
        attendance = mine[mine["measure"].str.startswith("data: attendance")]
        assert len(attendance) and attendance["reason"].str.contains(
            "not judged: absence figures from 2018-19 are older than the rule set allows", regex=False).all(), urn
    # The levels rest on the other evidence; with none, the default placement, said as such.
    for reasons in cat.table["reasons"]:
        assert "No criterion could be judged from the evidence available" in reasons
    # The front page's data box says it first, once per kind, as data_quality.csv does.
    problems = too_old_problems(data, rules)
    assert [p.check for p in problems] == ["results_too_old", "results_too_old"]
    assert {p.file for p in problems} == {"999_ks2_2018-19.csv", "999_abs_2018-19.csv"}
    dq = with_rule_set_review(pd.DataFrame(), rules, Term.parse(TERM), problems)
    notes = front_page_notes(dq)
    assert notes[0].startswith("KS2 results and absence figures are for 2018-19, 7 years before 2025-26: older than "
                               f"rule set {rules.id} allows (3 years), so not judged"), notes
    assert "no level, letter or academy concern rests on them" in notes[0]
    assert sum("older than rule set" in n for n in notes) == 1  # one sentence for both kinds
    assert set(dq.loc[dq["check"].eq("results_too_old"), "feed_kind"]) == {"results"}


def test_the_limit_is_the_rule_sets_own():
    """A draft allowing ten years judges the same 2018-19 figures (the limit is data, not code)."""
    folder = Path(RULES_DIR)
    rules = load_rule_set(rule_set_for(Term.parse(TERM).reference_date).id, folder)
    lenient = rules.model_copy(update={"oldest_results": rules.oldest_results.model_copy(
        update={"years_before_term": 10})})
    data = _data("2018-19")
    cat = categorise(data, lenient, {})
    out = flag_letters(data, lenient, cat.table, {}, AS_OF)
    assert (URN_UP, "congratulations") in set(zip(out.letters["urn"], out.letters["letter"]))
    assert too_old_problems(data, lenient) == []


def test_a_rule_set_without_the_key_judges_everything_and_says_so():
    rules = rule_set_for(Term.parse(TERM).reference_date)
    silent = rules.model_copy(update={"oldest_results": None})
    [p] = too_old_problems(_data("2018-19"), silent)
    assert p.severity == "warning" and "does not say how old" in p.message and "oldest_results" in p.message


@pytest.mark.slow  # a whole real Surrey term through the stages (GX validation of every feed)
def test_real_surrey_2018_19_results_in_2025_26_draft_no_letter(shared_dfe, tmp_path):
    """The real Surrey downloads (KS2 to 2018-19, absence and KS4 2018-19) run for spring 2026: no congratulations
    or significant concerns letter, and no academy concern, rests on them; the front page says why, first.
    (test_real_la runs the same folder for 2021-22 autumn, three years on, where those letters are drafted.)"""
    import re

    from real_la import LA, build_landing
    from school_improvement import pipeline
    from school_improvement.editions import render, report

    cfg = pipeline.RunConfig(la_code=LA, term=TERM, landing=str(build_landing(shared_dfe, tmp_path / "landing")),
                             work_dir=str(tmp_path / "work"), history_url=f"sqlite:///{tmp_path / 'h.sqlite'}",
                             run_id="r1")
    for stage in ("extract", "validate", "assess_evidence", "categorise", "flag_letters"):
        getattr(pipeline, stage)(cfg)
    inputs = pipeline.report_inputs(cfg)
    letters = inputs.letters
    assert not letters["letter"].isin(["congratulations", "significant_concerns_letter"]).any(), \
        letters[["urn", "letter", "evidence"]].to_dict("records")
    assert not letters["evidence"].astype(str).str.contains("KS2|KS4|absence", regex=True).any()
    acads = inputs.academy_concerns
    assert acads.empty or not acads["evidence"].astype(str).str.contains("KS2|KS4|absence", regex=True).any()
    # Every school open on the term's first day is categorised (GIAS read as the run reads it), none on its 2018-19
    # results: each data check on them says why.
    from real_la import surrey_open_maintained

    assert set(inputs.categorisation["urn"].astype(int)) == surrey_open_maintained(
        shared_dfe, Term.parse(TERM).dates()[0])
    ev = inputs.evidence
    on_ks2 = ev[ev["measure"].str.startswith("data: attainment") & ev["source"].eq("936_ks2_2018-19.csv")]
    assert len(on_ks2) and on_ks2["met"].isna().all()
    assert on_ks2["reason"].str.contains("not judged: KS2 results from 2018-19 are older than the rule set allows "
                                         "(7 years before 2025-26; at most 3 years)", regex=False).all()
    # The letters' own checks on those results (evidence.csv's letter rows) say the same.
    dec = inputs.decision_evidence
    cg2 = dec[dec["decision"].eq("letter: congratulations") & dec["source"].eq("936_ks2_2018-19.csv")]
    assert len(cg2) and cg2["met"].isna().all() and cg2["reason"].str.contains(
        "not judged: KS2 results from 2018-19", regex=False).all()
    dq = inputs.data_quality
    assert set(dq.loc[dq["check"].eq("results_too_old"), "file"]) == {
        "936_ks2_2018-19.csv", "england_abs_2018-19.csv", "england_ks4provisional_2018-19.csv"}
    first = ("KS2 results, KS4 results and absence figures are for 2018-19, 7 years before 2025-26: older than rule set "
             "cambs-2025-report-cards allows (3 years), so not judged")
    assert inputs.data_notes[0].startswith(first), inputs.data_notes[:2]
    assert sum("older than rule set" in n for n in inputs.data_notes) == 1
    html = render._environment().get_template("report.html.j2").render(**report._context(inputs, "general"))
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    box = page[page.index("What you must know about the data"):]
    assert box.index(first) < 200, box[:600]


def test_the_demo_term_of_make_run_has_results_recent_enough(tmp_path):
    """`make run` runs the demo for 2025-26 spring: its results are judged (none older than the rule set allows)."""
    from small_demo import small_demo
    from school_improvement.ingest.termdata import read_files

    small_demo(tmp_path, terms=[TERM])
    folder = tmp_path / "999" / TERM
    feeds, problems = read_files(sorted(folder.glob("*.csv")), "999")
    assert not problems
    data = TermData("999", Term.parse(TERM), feeds)
    rules = rule_set_for(Term.parse(TERM).reference_date)
    assert {"ks2", "ks4", "absence"} <= {f.kind for f in feeds}
    assert too_old_problems(data, rules) == []


def test_the_newer_figures_folded_into_the_too_old_sentence_are_said_to_be_published_not_used():
    """A trial (s31): "(newer: absence figures 2020-21)" read as if newer figures had been used; none was supplied."""
    rows = [{"file": "936_abs_2018-19.csv", "feed_kind": "results", "row": None, "column": None, "severity": "warning",
             "check": "results_too_old",
             "message": "absence figures are for 2018-19, 4 years before 2022-23: older than rule set cambs-2021-23 "
                        "allows (3 years), so not judged"},
            {"file": "936_abs_2018-19.csv", "feed_kind": "absence", "row": None, "column": None, "severity": "warning",
             "check": "data_age", "message": "the absence figures are for 2018-19, but 2020-21 figures should exist "
                                             "for 2022-23-autumn: the evidence is out of date"}]
    (note,) = [n for n in front_page_notes(pd.DataFrame(rows)) if "older than" in n]
    assert "(newer figures are published, not supplied: absence figures 2020-21)" in note, note
