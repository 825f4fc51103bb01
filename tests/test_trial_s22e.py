"""Helper E's trial (session 22) as a data officer new to the project: damaged real downloads and readings of the
Strategy not seen before. Each test failed before its fix."""

from __future__ import annotations

from datetime import date

import pytest

from factories import feed, gias, term_data
from school_improvement.errors import FeedError
from school_improvement.evidence.assess import assess, gias_close_date_problems, maintained_schools
from school_improvement.ingest.feeds import read_feed
from school_improvement.ingest.termdata import TermData
from school_improvement.rules import load_rule_set
from school_improvement.terms import Term

GIAS = "gias_850_936_extract_2022-04-20.csv"


def _gias_with_header(shared_dfe, tmp_path, old: bytes, new: bytes):
    raw = (shared_dfe / "samples" / GIAS).read_bytes()
    end = raw.index(b"\n")
    assert old in raw[:end]
    path = tmp_path / GIAS
    path.write_bytes(raw[:end].replace(old, new) + raw[end:])
    return read_feed(path)


def test_a_gias_extract_with_closedate_renamed_stops_the_term_it_postdates_naming_the_column(shared_dfe, tmp_path):
    """Trial: the real Surrey extract of 20 April 2022 with 'CloseDate' saved as 'Close Date' ran 2021-22-autumn with
    166 schools instead of 172 (six converted or closed after the term began) and not a word anywhere."""
    real = TermData("936", Term.parse("2021-22-autumn"), [read_feed(shared_dfe / "samples" / GIAS)])
    assert gias_close_date_problems(real) == []
    damaged = TermData("936", Term.parse("2021-22-autumn"),
                       [_gias_with_header(shared_dfe, tmp_path, b"CloseDate", b"Close Date")])
    lost = {int(u) for u in maintained_schools(real)["urn"]} - {int(u) for u in maintained_schools(damaged)["urn"]}
    assert len(lost) == 6  # what the run would have left out
    [p] = gias_close_date_problems(damaged)
    assert p.severity == "critical" and p.column == "CloseDate" and p.file == GIAS and p.row
    assert "is the column named CloseDate" in p.message and "after 2021-22-autumn began" in p.message
    # The same extract for a term that began after it was taken: a closed school closed before the term; nothing said.
    later = TermData("936", Term.parse("2022-23-autumn"),
                     [_gias_with_header(shared_dfe, tmp_path, b"CloseDate", b"Close Date")])
    assert gias_close_date_problems(later) == []


def test_a_closed_school_with_no_close_date_stops_assess_or_is_warned_when_the_extract_is_undated():
    rules = load_rule_set("cambs-2021-23")
    rows = [gias(100001), gias(100002, status="Closed"), gias(100003, status="Closed")]
    dated = term_data("2021-22-autumn", gias=feed("gias", rows, source="edubasealldata20220420.csv"))
    with pytest.raises(FeedError) as err:
        assess(dated, rules)
    assert "CloseDate" in str(err.value) and "URN 100002, 100003" in str(err.value) and "row 3" in str(err.value)
    # One closed school of several with no date (an old record, not the column): said, the run goes on.
    one = term_data("2021-22-autumn", gias=feed("gias", [*rows[:2], gias(100003, status="Closed",
                                                                          close_date=date(2020, 7, 31))],
                                                 source="edubasealldata20220420.csv"))
    [p] = [p for p in assess(one, rules).problems if p.check == "gias_close_date"]
    assert p.severity == "warning" and "URN 100002" in p.message and "is the column named" not in p.message
    # Dated, with the close date given: the school closed after the term began, so it is the LA's in the term.
    fine = term_data("2021-22-autumn", gias=feed("gias", [gias(100001), gias(100002, status="Closed",
                                                                            close_date=date(2022, 3, 31))],
                                                 source="edubasealldata20220420.csv"))
    assert {int(u) for u in maintained_schools(fine)["urn"]} == {100001, 100002}
    undated = term_data("2021-22-autumn", gias=feed("gias", rows, source="gias.csv"))
    problems = [p for p in assess(undated, rules).problems if p.check == "gias_close_date"]
    assert len(problems) == 1 and problems[0].severity == "warning" and "cannot be told" in problems[0].message


def test_a_move_from_last_terms_no_evidence_placement_is_not_called_improving(tmp_path):
    """Trial: three years of real Surrey in one history; in 2019-20-autumn the 2018-19 absence file became usable and
    90 of 183 schools moved from the default medium of 2018-19-autumn (no bullet met) to low on attendance alone,
    each called "improving", and the front page said 90 schools need less support."""
    from factories import judgement
    from school_improvement import history
    from school_improvement.decisions.categorise import categorise
    from school_improvement.editions.front_page import movers

    rules = load_rule_set("cambs-2021-23")
    eng = history.engine_for(f"sqlite:///{tmp_path / 'h.sqlite'}")
    a, b = 990301, 990302

    def run(term, judgements):
        t = Term.parse(term)
        data = term_data(term, gias=[gias(a), gias(b)], adviser_judgements=judgements)
        result = categorise(data, rules, history.previous(eng, "999", t))
        history.record_term(eng, "999", t, f"run-{term}", rules.id, {}, result.table, result.evidence,
                            result.measures)
        return result.table.set_index("urn")

    first = run("2025-26-autumn", [judgement(b, "LM-H2")])
    assert first.loc[a, "category"] == rules.best_fit.no_evidence_level  # no bullet met: the default placement
    second = run("2025-26-spring", [judgement(a, "LM-L2", visit=date(2026, 2, 1)),
                                    judgement(b, "LM-M2", visit=date(2026, 2, 1))])
    assert (second.loc[a, "previous_category"], second.loc[a, "category"]) == ("medium", "low")
    assert second.loc[a, "direction_of_travel"] == "default"
    assert second.loc[b, "direction_of_travel"] == "improving"  # high on evidence, now medium on evidence
    moved = {m["urn"]: m for m in movers(second.reset_index())}
    assert moved[a]["from_default"] and not moved[a]["by_default"]
    assert not moved[b]["from_default"]


def test_ees_low_in_a_figure_is_no_figure_with_its_reason_not_a_stop(tmp_path):
    """Trial: a disadvantaged pupils' figure written 'low' (EES: rounds to 0 but is not 0) stopped the run as 'not a
    number'; 'low' in a severity column is still the severity."""
    path = tmp_path / "ks2_2018-19.csv"
    path.write_text("URN,LEA,ESTAB,SCHNAME,RECTYPE,TELIG,PTRWM_EXP,PTRWM_EXP_FSM6CLA1A,PTRWM_EXP_NOTFSM6CLA1A\n"
                    "100001,999,2001,Oak,1,30,60%,low,70%\n100002,999,2002,Elm,1,30,55%,u,65%\n", encoding="utf-8")
    f = read_feed(path)
    assert f.schools["rwm_exp_disadv"].isna().all() and f.schools["rwm_exp_other"].tolist() == [70.0, 65.0]
    st = f.statuses[f.statuses["column"] == "rwm_exp_disadv"]
    assert sorted(st["code"]) == ["low", "u"] and "Rounds to 0" in " ".join(st["reason"])
    intel = tmp_path / "la_intelligence.csv"
    intel.write_text("urn,flag,severity,detail,raised_by_team,raised_on\n100001,finance,low,x,Finance,2025-10-01\n",
                     encoding="utf-8")
    assert read_feed(intel).schools["severity"].tolist() == ["low"]


def test_a_rule_set_that_changes_within_the_term_is_said_with_which_one_the_edition_follows(tmp_path):
    """Trial: two rule sets in one school year. 2025-26-autumn is decided under cambs-2021-23 (in force when the term
    began), though it ends on 9 November 2025 and the report-card rule set starts the next day, within the term; an
    edition of the term dated in December said nothing of it. A rule set starting mid-term in a draft folder too."""
    import pandas as pd

    from school_improvement.pipeline import with_rule_set_review
    from school_improvement.quality.notes import front_page_notes
    from school_improvement.rules import in_force_problem

    autumn = in_force_problem(load_rule_set("cambs-2021-23"), Term.parse("2025-26-autumn"))
    assert autumn is not None and autumn.severity == "warning" and autumn.check == "rule_set_in_force"
    assert "follows cambs-2021-23" in autumn.message and "only until 09 November 2025" in autumn.message
    assert "cambs-2025-report-cards" in autumn.message and "from 10 November 2025" in autumn.message
    assert in_force_problem(load_rule_set("cambs-2025-report-cards"), Term.parse("2025-26-spring")) is None
    assert in_force_problem(load_rule_set("cambs-2021-23"), Term.parse("2024-25-summer")) is None
    dq = with_rule_set_review(pd.DataFrame(), load_rule_set("cambs-2021-23"), Term.parse("2025-26-autumn"))
    assert any("The LA's rules change during 2025-26-autumn" in n for n in front_page_notes(dq))
    # A draft folder: the LA's next rule set starts mid-spring (15 January 2022).
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "old.yaml").write_text("id: old\ntitle: Old\nextends: cambs-2021-23\nin_force: {from: 2021-09-01, "
                                     "to: 2022-01-14}\nreview_by: 2023-08-31\n", encoding="utf-8")
    (folder / "new.yaml").write_text("id: new\ntitle: New\nextends: cambs-2021-23\nin_force: {from: 2022-01-15}\n"
                                     "review_by: 2026-08-31\n", encoding="utf-8")
    p = in_force_problem(load_rule_set("old", folder), Term.parse("2021-22-spring"), folder)
    assert p is not None and "new (New) is in force from 15 January 2022" in p.message
    assert in_force_problem(load_rule_set("old", folder), Term.parse("2021-22-autumn"), folder) is None


def test_a_gias_extract_with_opendate_renamed_stops_the_term_it_postdates(shared_dfe, tmp_path):
    """Trial: 'OpenDate' saved as 'Date opened' put six academies that opened after 1 September 2021 into real Surrey's
    2021-22-autumn beside the maintained schools they replaced (129 academies became 135), with no word."""
    from school_improvement.evidence.assess import academies, gias_open_date_problems

    real = TermData("936", Term.parse("2021-22-autumn"), [read_feed(shared_dfe / "samples" / GIAS)])
    assert gias_open_date_problems(real) == []
    damaged = TermData("936", Term.parse("2021-22-autumn"),
                       [_gias_with_header(shared_dfe, tmp_path, b"OpenDate", b"Date opened")])
    assert len(set(academies(damaged)["urn"]) - set(academies(real)["urn"])) == 6  # what the run would have judged
    [p] = gias_open_date_problems(damaged)
    assert p.severity == "critical" and p.column == "OpenDate" and p.row and "is the column named OpenDate" in p.message
    with pytest.raises(FeedError, match="OpenDate"):
        assess(damaged, load_rule_set("cambs-2021-23"))
    assert gias_open_date_problems(TermData("936", Term.parse("2022-23-autumn"), damaged.feeds)) == []


@pytest.mark.parametrize("old, new, says", [
    (b"AdministrativeWard (name)", b"Ward (name)", "member alerts cannot be matched to wards"),
    (b"Trusts (name)", b"Trust (name)", "academies' trusts are not named"),
    (b"CloseDate", b"Close Date", "closed after the term began"),
])
def test_a_whole_gias_download_missing_a_column_the_run_reads_is_said_on_the_front_page(shared_dfe, tmp_path, old, new,
                                                                                       says):
    """Trial: the real extract with a column renamed was read with every cell of it blank, and `check` said nothing."""
    import pandas as pd

    from school_improvement.quality.notes import front_page_notes

    assert [w for w in read_feed(shared_dfe / "samples" / GIAS).warnings if w.check == "gias_column_missing"] == []
    [w] = [w for w in _gias_with_header(shared_dfe, tmp_path, old, new).warnings if w.check == "gias_column_missing"]
    assert w.severity == "warning" and w.column == old.decode() and says in w.message and w.file == GIAS
    dq = pd.DataFrame([{"file": w.file, "feed_kind": "gias", "row": w.row, "column": w.column, "severity": w.severity,
                        "check": w.check, "message": w.message}])
    assert any(says in n for n in front_page_notes(dq))


def test_a_ks2_file_named_for_one_year_with_another_years_columns_is_said(shared_dfe, tmp_path):
    """Trial: the real 2018-19 KS2 download saved as 936_ks2_2017-18.csv was read as 2018-19 (its columns say so),
    and nothing said that its name disagrees: the officer who meant 2017-18's results was not told."""
    from school_improvement.quality.notes import front_page_notes
    import pandas as pd

    for name in ("936_ks2_2016-17.csv", "936_ks2_2017-18.csv", "936_ks2_2018-19.csv"):
        assert not [w for w in read_feed(shared_dfe / "samples" / name).warnings if w.check == "year_in_name"]
    path = tmp_path / "936_ks2_2017-18.csv"
    path.write_bytes((shared_dfe / "samples" / "936_ks2_2018-19.csv").read_bytes())
    f = read_feed(path)
    assert f.academic_year == "2018-19"
    [w] = [w for w in f.warnings if w.check == "year_in_name"]
    assert "name says 2017-18" in w.message and "read as 2018-19's results" in w.message and w.row == 1
    dq = pd.DataFrame([{"file": w.file, "feed_kind": "ks2", "row": w.row, "column": w.column, "severity": w.severity,
                        "check": w.check, "message": w.message}])
    assert any("name says 2017-18" in n for n in front_page_notes(dq))


def test_a_members_list_by_county_division_is_said_not_left_to_name_no_member():
    """Trial: a county's members sit for electoral divisions; a list written by division matches no GIAS ward, so
    every member alert read '[no member listed for this ward]' and nothing said why."""
    from school_improvement.evidence.la_files import ward_problems

    members = [{"ward": "Farnham Central", "member_name": "Cllr A", "party": "", "email": ""},
               {"ward": "Waverley Eastern Villages", "member_name": "Cllr B", "party": "", "email": ""}]
    d = term_data("2025-26-autumn", gias=[gias(100001, ward="Northgate"), gias(100002, ward="Abbey")],
                  ward_members=members)
    [p] = ward_problems(d)
    assert p.check == "ward_spelling" and p.severity == "warning" and p.column == "ward"
    assert "none of the 2 wards" in p.message and "county electoral divisions" in p.message and "'Abbey'" in p.message
    # One ward of the list is a school's ward: a list by ward (the others have no school in them), nothing said.
    assert ward_problems(term_data("2025-26-autumn", gias=[gias(100001, ward="Northgate")],
                                   ward_members=[*members, {"ward": "Northgate", "member_name": "Cllr C"}])) == []


def test_a_bullet_for_secondaries_only_is_judged_for_them_and_said_not_judged_for_the_others(tmp_path):
    """Trial: a reading with a bullet on KS4 (Progress 8) for secondary schools only could not be written (`phases` was
    refused as a typo), and without it the same indicator judged primaries on KS2 progress under a Progress 8 bullet."""
    from factories import judgement
    from school_improvement.decisions.categorise import categorise
    from school_improvement.errors import RulesError
    from school_improvement.rules import load_rule_set_arg

    head = "id: {n}\ntitle: A reading\nextends: cambs-2021-23\nreview_by: 2026-08-31\ncriteria_add:\n"
    bullet = ("  - {{id: QE-H8, area: quality_of_education, level: high, wording: \"Progress 8 is well below average\", "
              "phases: [{ph}], evidence: [{{adviser: QE-H8}}]}}\n")
    path = tmp_path / "p8.yaml"
    path.write_text(head.format(n="p8") + bullet.format(ph="Secondary"), encoding="utf-8")
    rules = load_rule_set_arg(str(path))
    a, b = 100001, 100002
    d = term_data("2025-26-autumn", gias=[gias(a, phase="Primary"), gias(b, phase="Secondary")],
                  adviser_judgements=[judgement(a, "QE-H8"), judgement(b, "QE-H8")])
    table = categorise(d, rules).table.set_index("urn")
    assert "QE-H8" in table.loc[b, "criteria_met"] and "QE-H8" not in table.loc[a, "criteria_met"]
    ev = assess(d, rules)
    row = ev.checks[(ev.checks["urn"] == a) & (ev.checks["criterion_id"] == "QE-H8")].iloc[0]
    assert pd_isna(row["met"])  # not judged
    assert "for Secondary schools only (GIAS phase: Primary)" in row["reason"]
    bad = tmp_path / "p8typo.yaml"
    bad.write_text(head.format(n="p8typo") + bullet.format(ph="Secondry"), encoding="utf-8")
    with pytest.raises(RulesError, match="'Secondry' is not a GIAS phase"):
        load_rule_set_arg(str(bad))


def pd_isna(v) -> bool:
    import pandas as pd
    return bool(pd.isna(v))


def test_letters_flagged_again_without_the_log_showing_them_sent_are_said(tmp_path):
    """Trial: real Surrey with no letters log drafted the same 11 Significant Concerns and 13 congratulations letters
    in 2021-22-autumn and again in 2021-22-spring, on the same results, and nothing said they were flagged before."""
    import pandas as pd

    from factories import letter
    from school_improvement import history
    from school_improvement.decisions.letters import LETTER_COLUMNS, flagged_again_problem

    rules = load_rule_set("cambs-2021-23")
    eng = history.engine_for(f"sqlite:///{tmp_path / 'h.sqlite'}")
    autumn, spring = Term.parse("2025-26-autumn"), Term.parse("2025-26-spring")

    def letters(*pairs):
        return pd.DataFrame([{c: "" for c in LETTER_COLUMNS} | {"urn": u, "letter": k, "school_name": f"School {u}"}
                             for u, k in pairs], columns=LETTER_COLUMNS)

    assert history.letters_flagged_before(eng, "999", autumn) == (None, {})
    history.record_term(eng, "999", autumn, "r1", rules.id, {}, pd.DataFrame(columns=["urn", "school_name", "category",
                        "computed_category", "previous_category", "direction_of_travel", "reasons", "criteria_met",
                        "override_reason"]), pd.DataFrame(columns=["urn"]), {})
    history.record_flags(eng, "999", autumn, "r1", letters((1, "significant_concerns_letter"), (2, "congratulations")),
                         "letter")
    before = history.letters_flagged_before(eng, "999", spring)
    assert before == ("2025-26-autumn", {1: {"significant_concerns_letter"}, 2: {"congratulations"}})
    now = letters((1, "significant_concerns_letter"), (2, "congratulations"), (3, "significant_concerns_letter"))
    d = term_data("2025-26-spring", gias=[gias(1), gias(2), gias(3)])
    p = flagged_again_problem(d, rules, now, *before)
    assert p is not None and p.severity == "warning" and p.check == "letters_flagged_again"
    assert p.message.startswith("2 letter(s) flagged this term") and "in 2025-26-autumn too" in p.message
    assert "School 1 (URN 1): Significant Concerns letter" in p.message and "URN 3" not in p.message
    # The log shows the concern letter sent in the autumn: only the congratulations is said.
    logged = term_data("2025-26-spring", gias=[gias(1), gias(2), gias(3)],
                       letters_log=[letter(1, "significant_concerns_letter", date(2025, 10, 20))])
    p = flagged_again_problem(logged, rules, now, *before)
    assert p.message.startswith("1 letter(s)") and "URN 1)" not in p.message
    assert flagged_again_problem(d, rules, letters((3, "warning_notice")), *before) is None


def test_academy_route_steps_flagged_again_without_the_log_are_said(tmp_path):
    """Trial: the same 33 real Surrey academies were put to 'the Director of Education contacts the principal' in
    2021-22-autumn, -spring and -summer, with no letters log, and nothing said they were flagged before."""
    import pandas as pd

    from school_improvement import history
    from school_improvement.decisions.letters import flagged_again_problem

    rules = load_rule_set("cambs-2021-23")
    eng = history.engine_for(f"sqlite:///{tmp_path / 'h.sqlite'}")
    autumn, spring = Term.parse("2025-26-autumn"), Term.parse("2025-26-spring")
    history.record_term(eng, "999", autumn, "r1", rules.id, {}, pd.DataFrame(columns=["urn", "school_name", "category",
                        "computed_category", "previous_category", "direction_of_travel", "reasons", "criteria_met",
                        "override_reason"]), pd.DataFrame(columns=["urn"]), {})
    history.record_flags(eng, "999", autumn, "r1", pd.DataFrame([{"urn": 7, "next_step": "academy_meeting",
                                                                  "concerns": "AC-2"}]), "next_step")
    before = history.letters_flagged_before(eng, "999", spring, academy=True)
    assert before == ("2025-26-autumn", {7: {"academy_meeting"}})
    assert history.letters_flagged_before(eng, "999", spring) == ("2025-26-autumn", {})
    now = pd.DataFrame([{"urn": 7, "school_name": "Academy 7", "letter": "academy_meeting"}])
    p = flagged_again_problem(term_data("2025-26-spring", gias=[gias(1)]), rules, now, *before,
                              what="academy route step(s)")
    assert p.message.startswith("1 academy route step(s) flagged this term") and "Academy 7 (URN 7)" in p.message


def test_a_congratulations_on_the_results_a_concern_letter_was_written_on_says_so():
    """Trial (three real Surrey years, a letters log of the letters flagged): the re-run of the term in which a
    Significant Concerns letter was sent drafted a congratulations to the same school on the same results (the
    concern letter, sent, no longer due), and the warning said the draft 'rests on other evidence'."""
    from factories import ks2, letter
    from school_improvement.decisions.categorise import categorise
    from school_improvement.decisions.letters import flag_letters

    rules, a = load_rule_set("cambs-2021-23"), 100001
    results = ks2(a, rwm_exp=70.0, rwm_exp_prev1=68.0, rwm_exp_disadv=55.0, rwm_exp_other=73.0,
                  rwm_exp_disadv_prev1=40.0, rwm_exp_other_prev1=70.0)  # 2024-25 results (the year ended 31 Aug 2025)

    def said(sent_on):
        data = term_data("2025-26-autumn", gias=[gias(a)], ks2=[results],
                         letters_log=[{**letter(a, "significant_concerns_letter", sent_on), "_row": 2}])
        out = flag_letters(data, rules, categorise(data, rules, {}).table, {}, date(2025, 10, 20))
        assert list(out.letters["letter"]) == ["congratulations"]  # the decision is the rule set's, unchanged
        [p] = [p for p in out.problems if p.check == "recognition_after_concern"]
        return p.message

    assert "rests on evidence the concern letter was written on" in said(date(2025, 10, 1))  # after the results
    assert "rests on other evidence" in said(date(2025, 6, 2))  # before the year ended: the results are newer


def test_a_bullet_for_other_phases_does_not_count_towards_a_share_of_the_bullets(tmp_path):
    """min_share: half of the area's high bullets. A secondaries-only bullet is not one a primary school could meet:
    counted, a primary with half of the others met fell short of the share."""
    from factories import judgement
    from school_improvement.decisions.categorise import categorise
    from school_improvement.rules import load_rule_set_arg

    path = tmp_path / "share.yaml"
    path.write_text("id: share\ntitle: A reading\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"
                    "best_fit: {min_share: {high: 0.6}}\ncriteria_replace:\n"
                    "  - {id: PD-H2, area: personal_development, level: high, wording: x, phases: [Secondary], "
                    "evidence: [{adviser: PD-H2}]}\n", encoding="utf-8")
    rules = load_rule_set_arg(str(path))
    d = term_data("2025-26-autumn", gias=[gias(100001, phase="Primary")],
                  adviser_judgements=[judgement(100001, "PD-H1")])
    row = categorise(d, rules).table.iloc[0]
    assert row["category"] == "high" and "fewer than the rule set asks" not in row["borderline"]
