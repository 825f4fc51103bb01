"""Which files a run takes: never a silent pick; missing, empty and old feeds are said; problems judged where they matter."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from real_la import england_shaped
from school_improvement import pipeline
from school_improvement.__main__ import main
from school_improvement.errors import ValidationFailed
from school_improvement.ingest.feeds import read_feed, year_from_name
from school_improvement.quality.data_age import data_age
from school_improvement.quality.feed_set import feed_presence, feed_set_checks
from school_improvement.rules import load_rule_set
from school_improvement.terms import Term, TermCalendar

GIAS = ('"URN","LA (code)","LA (name)","EstablishmentNumber","EstablishmentName","TypeOfEstablishment (name)",'
        '"EstablishmentTypeGroup (name)","EstablishmentStatus (name)","OpenDate","CloseDate","PhaseOfEducation (name)",'
        '"HeadTitle (name)","HeadFirstName","HeadLastName","HeadPreferredJobTitle","AdministrativeWard (name)","Trusts (name)"\n'
        '"110001","999","Wealdshire","2001","Oak Primary","Community school","Local authority maintained schools","Open","","","Primary","Mrs","Ann","Lee","Headteacher","Oakley",""\n'
        '"110003","999","Wealdshire","2003","Elm Infant","Community school","Local authority maintained schools","Open","","","Primary","Mr","Bo","Ng","Headteacher","Elmfield",""\n')
KS2 = ("RECTYPE,LEA,ESTAB,URN,SCHNAME,NFTYPE,TELIG,PTRWM_EXP,PTRWM_EXP_18\n"
       "1,999,2001,110001,Oak,CY,30,60%,55%\n1,999,2003,110003,Elm,CY,25,70%,65%\n"
       "4,,,,,,600000,61%,59%\n5,,,,,,550000,62%,60%\n")  # a whole download ends with its national rows
ADVISER = "urn,criterion_id,area,met,adviser,visit_date,note\n110001,LM-H1,leadership_management,yes,A Adviser,2025-10-01,ok\n"
MODERATION = "urn,term,final_category,reason,approved_by,approved_on\n110001,2025-26-autumn,{cat},panel,Head of SI,2025-10-20\n"


def _feeds(tmp: Path, files: dict[str, str]) -> list:
    for name, text in files.items():
        (tmp / name).write_text(text, encoding="utf-8")
    return [read_feed(tmp / name) for name in files]


def _critical(problems) -> list:
    return [p for p in problems if p.severity == "critical"]


def test_two_ks2_files_for_the_same_year_is_an_error_naming_both(tmp_path):
    feeds = _feeds(tmp_path, {"gias.csv": GIAS, "999_ks2_2018-19.csv": KS2, "999_ks2_2018-19_copy.csv": KS2})
    assert {f.academic_year for f in feeds if f.kind == "ks2"} == {"2018-19"}
    [p] = _critical(feed_set_checks(feeds, "999"))
    assert "999_ks2_2018-19.csv" in p.message and "999_ks2_2018-19_copy.csv" in p.message and "2018-19" in p.message
    # Different years are each year's results: no error.
    (tmp_path / "999_ks2_2017-18.csv").write_text(KS2.replace("PTRWM_EXP_18", "PTRWM_EXP_17"), encoding="utf-8")
    two_years = [feeds[0], feeds[1], read_feed(tmp_path / "999_ks2_2017-18.csv")]
    assert not _critical(feed_set_checks(two_years, "999"))


def test_a_stale_copy_of_an_la_held_feed_is_an_error_naming_both_files(tmp_path):
    stale = ADVISER.replace("ok", "ok (older note)")
    feeds = _feeds(tmp_path, {"gias.csv": GIAS, "adviser_judgements.csv": ADVISER, "adviser_judgements_old.csv": stale})
    [p] = _critical(feed_set_checks(feeds, "999"))
    assert "adviser_judgements.csv row 2" in p.message and "adviser_judgements_old.csv row 2" in p.message
    # An exact copy is named as such.
    feeds = _feeds(tmp_path, {"gias.csv": GIAS, "adviser_judgements.csv": ADVISER, "adviser_judgements_old.csv": ADVISER})
    [p] = _critical(feed_set_checks(feeds, "999"))
    assert "stale copy" in p.message and "adviser_judgements_old.csv" in p.message


def test_two_gias_files_is_an_error(tmp_path):
    feeds = _feeds(tmp_path, {"gias_2025-09-01.csv": GIAS, "gias_2025-10-01.csv": GIAS})
    [p] = _critical(feed_set_checks(feeds, "999"))
    assert "gias_2025-09-01.csv" in p.message and "gias_2025-10-01.csv" in p.message and "GIAS" in p.message


def test_two_moderation_files_that_disagree_is_an_error(tmp_path):
    feeds = _feeds(tmp_path, {"gias.csv": GIAS, "moderation_a.csv": MODERATION.format(cat="low"),
                              "moderation_b.csv": MODERATION.format(cat="high")})
    [p] = _critical(feed_set_checks(feeds, "999"))
    assert "disagree" in p.message and "moderation_a.csv" in p.message and "moderation_b.csv" in p.message


# a landing folder of feeds read and checked together (Great Expectations): over test-fast's CPU budget
@pytest.mark.slow
def test_a_stale_copy_stops_the_run_and_reaches_data_quality_csv(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    _feeds(landing, {"gias.csv": GIAS, "999_ks2_2024-25.csv": KS2, "adviser_judgements.csv": ADVISER,
                     "adviser_judgements_old.csv": ADVISER})
    cfg = pipeline.RunConfig(la_code="999", term="2025-26-autumn", landing=str(landing), work_dir=str(tmp_path / "w"),
                             history_url=f"sqlite:///{tmp_path / 'h.sqlite'}")
    pipeline.extract(cfg)
    with pytest.raises(ValidationFailed, match="adviser_judgements_old.csv"):
        pipeline.validate(cfg)
    dq = pd.read_csv(cfg.run_dir / "quality" / "data_quality.csv", encoding="utf-8-sig", keep_default_na=False)
    assert (dq["check"].eq("feed_set") & dq["severity"].eq("critical")).sum() == 1


def test_empty_ward_members_and_empty_adviser_judgements_are_said(tmp_path):
    feeds = _feeds(tmp_path, {"gias.csv": GIAS, "ward_members.csv": "ward,member_name,party,email\n",
                              "adviser_judgements.csv": ADVISER.splitlines()[0] + "\n"})
    empty = [p for p in feed_presence(feeds, "999") if p.check == "feed_empty"]
    msgs = " ".join(p.message for p in empty)
    assert "ward members file(s) hold no rows" in msgs and "adviser judgements file(s) hold no rows" in msgs
    assert len(empty) == 2 and all(p.severity == "warning" for p in empty)


def test_no_open_maintained_school_never_publishes(tmp_path):
    closed = GIAS.replace('"Open"', '"Closed"')
    feeds = _feeds(tmp_path, {"gias.csv": closed})
    [p] = _critical(feed_presence(feeds, "999"))
    assert p.check == "no_schools" and "0 schools" in p.message


def test_every_feeds_academic_year_is_known_from_file_name_or_data(shared_dfe):
    s = shared_dfe / "samples"
    assert read_feed(s / "936_abs_2018-19.csv").academic_year == "2018-19"
    assert read_feed(s / "936_census_2019-20.csv").academic_year == "2019-20"
    assert read_feed(s / "936_ks4provisional_2018-19.csv").academic_year == "2018-19"
    assert read_feed(s / "936_ks2_2017-18.csv").academic_year == "2017-18"  # from its header's prior-year columns
    assert read_feed(s / "873_ofsted_mi_latest_inspections_2026_sample.csv").academic_year  # from inspection dates
    assert year_from_name("gias_850_936_extract_2022-04-20.csv") == "2021-22"
    assert year_from_name("england_abs.csv") is None


def test_data_age_follows_the_rule_sets_published_results(tmp_path):
    published = load_rule_set("cambs-2021-23").published_results
    assert {"2019-20", "2020-21"} <= set(published["ks2"]["not_published"])
    ks2_1819 = _feeds(tmp_path, {"999_ks2_2018-19.csv": KS2})
    # 2021-22: 2018-19 is the newest KS2 that exists; said as information, with how old it is.
    [p] = data_age(ks2_1819, Term.parse("2021-22-autumn"), published)
    assert p.severity == "info" and "3 years before 2021-22" in p.message and "2019-20, 2020-21" in p.message
    # 2022-23: DfE published no school-level KS2 for 2021-22 either (s23), so 2018-19 is still the newest published.
    [p] = data_age(ks2_1819, Term.parse("2022-23-autumn"), published)
    assert p.severity == "info" and "the newest published" in p.message and "2019-20, 2020-21, 2021-22" in p.message
    # 2023-24: 2022-23 results exist, so 2018-19 is out of date: a warning.
    [p] = data_age(ks2_1819, Term.parse("2023-24-autumn"), published)
    assert p.severity == "warning" and "2022-23 figures should exist" in p.message
    ks2_2425 = _feeds(tmp_path, {"999_ks2_2024-25.csv": KS2.replace("_18", "_24")})
    assert data_age(ks2_2425, Term.parse("2025-26-autumn"), published) == []
    nameless = _feeds(tmp_path, {"england_abs.csv": "LA,ESTAB,URN,PERCTOT,PPERSABS10\n999,2001,110001,5,9\n"})
    [p] = data_age(nameless, Term.parse("2025-26-autumn"), published)
    assert "unknown" in p.message and p.severity == "warning"


def test_due_dates_fall_on_school_days():
    cal = TermCalendar.load()
    assert cal.school_day_on_or_after(date(2025, 10, 25)) == date(2025, 11, 3)  # Saturday in half term -> Monday after
    assert cal.school_day_on_or_after(date(2021, 9, 11)) == date(2021, 9, 13)  # a term the calendar lacks: Monday
    assert cal.school_day_on_or_after(date(2025, 12, 20)) == date(2026, 1, 5)  # Christmas -> first day of spring
    assert cal.school_day_on_or_after(date(2025, 11, 12)) == date(2025, 11, 12)


def _impossible_ehcp(rows, h):
    rows[0][h["PSENELSE"]] = "104.17"  # as the real England census 2024-25 has, in another LA's school


def test_check_an_impossible_value_in_another_las_row_is_a_warning(shared_dfe, tmp_path, capsys):
    src = shared_dfe / "samples" / "936_census_2019-20.csv"
    other = england_shaped(src, tmp_path / "england_census.csv", "LA", "URN", _impossible_ehcp)
    assert main(["check", "--la", "936", str(other)]) == 0
    out = capsys.readouterr().out
    assert "WARNING" in out and "PSENELSE" in out and "104.17" in out and "RESULT: ok" in out


def test_check_an_impossible_value_in_the_las_own_row_stops(shared_dfe, tmp_path, capsys):
    src = shared_dfe / "samples" / "936_census_2019-20.csv"
    text = src.read_bytes().decode("utf-8-sig").split("\n")
    cells = text[2].split(",")  # a Surrey school's row
    header = text[0].split(",")
    cells[header.index("PSENELSE")] = "104.17"
    text[2] = ",".join(cells)
    own = tmp_path / "936_census.csv"
    own.write_bytes(b"\xef\xbb\xbf" + "\n".join(text).encode())
    assert main(["check", "--la", "936", str(own)]) == 1
    out = capsys.readouterr().out
    assert "CRITICAL" in out and "row 3, column 'PSENELSE'" in out and "104.17: PSENELSE is outside" in out


# a landing folder of feeds read and checked together (Great Expectations): over test-fast's CPU budget
@pytest.mark.slow
def test_a_converter_academy_keeps_its_predecessors_results(shared_dfe):
    from school_improvement.ingest.links import read_links
    from school_improvement.ingest.termdata import TermData

    s = shared_dfe / "samples"
    feeds = [read_feed(s / "gias_850_936_extract_2022-04-20.csv"), read_feed(s / "936_ks2_2018-19.csv"),
             read_links(s / "gias_links_2024-01-29.csv")]
    data = TermData("936", Term.parse("2021-22-autumn"), feeds)
    ks2 = feeds[1].schools.set_index("urn")
    # 146023 converted in 2018-19; its 2018-19 results are published under its predecessor, 125040.
    assert 146023 not in ks2.index and 125040 in ks2.index
    assert data.row("ks2", 146023)["rwm_exp"] == ks2.loc[125040, "rwm_exp"]
    assert data.carry_forward({125040: {"category": "medium"}})[146023] == {"category": "medium", "carried_from": 125040}
    no_links = TermData("936", Term.parse("2021-22-autumn"), feeds[:2])
    assert no_links.row("ks2", 146023) is None


def test_ks4_is_expected_only_when_the_la_has_secondaries(tmp_path):
    feeds = _feeds(tmp_path, {"gias.csv": GIAS})
    missing = {p.message.split(" was supplied")[0] for p in feed_presence(feeds, "999") if p.check == "feed_missing"}
    assert "No KS2 results file" in missing and "No KS4 results file" not in missing
    secondary = GIAS.replace('"Primary","Mr"', '"Secondary","Mr"')
    feeds = _feeds(tmp_path, {"gias.csv": secondary})
    assert any(p.message.startswith("No KS4 results file") for p in feed_presence(feeds, "999"))


def test_another_las_results_file_beside_the_las_own_stops_the_run_naming_whose_it_is(shared_dfe):
    """A trial (s31): real Surrey with Hampshire's KS2 file in place of its newest year's was read as that year's
    results with every row set aside (an "info" line in Appendix A): the front page still gave the year, and 24
    letters went. The LA's other years' files are there, so no kind is missing: the file itself is said, critical."""
    s = shared_dfe / "samples"
    feeds = [read_feed(s / "gias_850_936_extract_2022-04-20.csv"), read_feed(s / "936_ks2_2017-18.csv"),
             read_feed(s / "919_ks2final_2024-25_sample.csv"),  # Hertfordshire's
             read_feed(s / "873_census_2019-20.csv"),  # Cambridgeshire's
             read_feed(s / "936_abs_2018-19.csv"),
             read_feed(s / "873_ofsted_mi_latest_inspections_2026_sample.csv")]  # national in form: feed_presence's
    found = {p.file: p for p in feed_set_checks(feeds, "936") if p.check == "feed_other_la"}
    assert sorted(found) == ["873_census_2019-20.csv", "919_ks2final_2024-25_sample.csv"], found
    ks2, census = found["919_ks2final_2024-25_sample.csv"], found["873_census_2019-20.csv"]
    assert ks2.severity == census.severity == "critical"
    assert "none of its" in ks2.message and "they are LA 919's, so it is another LA's download" in ks2.message
    assert "Put LA 936's KS2 file for 2024-25 in its place, or take it out" in ks2.message
    assert "they are LA 873's" in census.message
    assert (ks2.column, census.column) == ("LEA", "LA") and ks2.row and census.row
    first_school = next(i for i, line in enumerate((s / "919_ks2final_2024-25_sample.csv").read_text(
        encoding="utf-8-sig").splitlines(), start=1) if line.startswith(("1,", "2,")))
    assert ks2.row == first_school
    # The LA's own files, and the same files checked for the LA they are for, say nothing of the kind.
    assert not [p for p in feed_set_checks(feeds[:2] + feeds[4:5], "936") if p.check == "feed_other_la"]
    assert not [p for p in feed_set_checks(feeds[2:3], "919") if p.check == "feed_other_la"]


def test_the_newest_absence_file_cut_before_its_national_rows_stops_the_run(shared_dfe, tmp_path):
    """A trial (s31): real Surrey's absence file cut at a row boundary, its NAT rows gone, published with attendance
    judged nowhere and no word of it (75 fewer schools at low support). An EES data set need not hold NAT rows."""
    s = shared_dfe / "samples"
    lines = (s / "936_abs_2018-19.csv").read_bytes().split(b"\n")
    kept = [ln for ln in lines if not ln.startswith(b"NAT,")]
    assert len(kept) == len(lines) - 3
    (tmp_path / "936_abs_2018-19.csv").write_bytes(b"\n".join(kept))
    gias = read_feed(s / "gias_850_936_extract_2022-04-20.csv")
    cut = read_feed(tmp_path / "936_abs_2018-19.csv")
    [p] = [p for p in feed_set_checks([gias, cut], "936") if p.check == "no_national_row"]
    assert p.severity == "critical" and (p.row, p.column) == (int(cut.schools["_row"].max()), "LA")
    assert "the newest absence file (for 2018-19) has no national summary rows (NAT in column LA)" in p.message
    assert "download it again, whole" in p.message
    whole = [gias, read_feed(s / "936_abs_2018-19.csv"), read_feed(s / "ees_absence_3term_school_380_excerpt.csv")]
    assert not [p for p in feed_set_checks(whole[:2], "936") + feed_set_checks([whole[0], whole[2]], "936")
                if p.check == "no_national_row"]


@pytest.mark.parametrize("name, lost", [("936_ks2_2018-19.csv", "RECTYPE 5, national (state-funded schools)"),
                                        ("936_ks4provisional_2018-19.csv", "RECTYPE 7, national (state-funded schools)")])
def test_a_results_file_cut_before_its_last_national_row_stops_the_run(shared_dfe, tmp_path, name, lost):
    """Verify (s31): real Surrey's KS2 file cut before its last line (the state-funded national row, which the rule
    set compares with) kept its all-schools row, passed, and lost all 24 letters without a word."""
    s = shared_dfe / "samples"
    data = (s / name).read_bytes()
    cut = data[:data.rstrip(b"\r\n").rfind(b"\n")].rstrip(b"\r")  # the last line gone, as a download cut short
    (tmp_path / name).write_bytes(cut)
    gias = read_feed(s / "gias_850_936_extract_2022-04-20.csv")
    short = read_feed(tmp_path / name)
    [p] = [p for p in feed_set_checks([gias, short], "936") if p.check == "no_national_row"]
    assert p.severity == "critical" and p.column == "RECTYPE"
    assert f"lacks a national row a whole download has ({lost})" in p.message
    assert p.row == int(short.comparators["_row"].max())
    assert not [p for p in feed_set_checks([gias, read_feed(s / name)], "936") if p.check == "no_national_row"]


def test_an_ofsted_file_for_another_la_is_said_to_hold_none_of_the_las_schools(shared_dfe):
    s = shared_dfe / "samples"
    feeds = [read_feed(s / "gias_850_936_extract_2022-04-20.csv"),
             read_feed(s / "873_ofsted_mi_latest_inspections_2026_sample.csv")]  # Cambridgeshire's schools
    [p] = [p for p in feed_presence(feeds, "936") if p.check == "feed_missing" and "Ofsted" in p.message]
    assert "hold no rows for LA 936's schools" in p.message and p.severity == "warning"


# a landing folder of feeds read and checked together (Great Expectations): over test-fast's CPU budget
@pytest.mark.slow
def test_check_judges_the_files_together_as_the_run_does(shared_dfe, tmp_path, capsys):
    """`check` passing files the run would refuse would tell an officer they are fine when they are not."""
    s = shared_dfe / "samples"
    gias, ks2, ofsted = (s / "gias_850_936_extract_2022-04-20.csv", s / "936_ks2_2018-19.csv",
                         s / "873_ofsted_mi_latest_inspections_2026_sample.csv")
    copy = tmp_path / "936_ks2_2018-19 (1).csv"
    copy.write_bytes(ks2.read_bytes())
    assert main(["check", "--no-gx", "--la", "936", str(gias), str(ks2), str(copy)]) == 1
    assert "2 KS2 files for academic year 2018-19" in capsys.readouterr().out
    assert main(["check", "--no-gx", "--la", "873", str(gias), str(ks2)]) == 1
    assert "the GIAS extract has no schools for LA 873" in capsys.readouterr().out
    # Another LA's Ofsted sample beside Surrey's GIAS: not critical, but said (the run's front page says it too).
    assert main(["check", "--no-gx", "--la", "936", str(gias), str(ks2), str(ofsted)]) == 0
    out = capsys.readouterr().out
    assert "the Ofsted file(s) hold no rows for LA 936's schools" in out and "RESULT: ok" in out
    assert "no absence file" not in out  # kinds not given to check are not 'missing'


def test_a_gias_extract_long_before_the_term_is_said(shared_dfe):
    """Surrey's extract of April 2022 used for 2025-26: schools, conversions and headteachers three years old."""
    from school_improvement.rules import rule_set_for

    gias = read_feed(shared_dfe / "samples" / "gias_850_936_extract_2022-04-20.csv")
    for term, expect in (("2025-26-autumn", True), ("2021-22-spring", False)):
        t = Term.parse(term)
        rules = rule_set_for(t.reference_date)
        assert rules.extract_max_age_days == {"gias": 120}  # in every rule set in force, extended ones too
        said = [p for p in data_age([gias], t, rules.published_results, rules.extract_max_age_days)
                if p.check == "gias_old"]
        assert bool(said) == expect, (term, said)
    old = data_age([gias], Term.parse("2025-26-autumn"), {}, {"gias": 120})
    msg = next(p.message for p in old if p.check == "gias_old")
    assert "dated 20 April 2022, 3 years and 4 months before 2025-26-autumn began" in msg and "headteachers" in msg
    # Under two years, in months: 16 and a half months is not "1 year" (trial s31).
    msg = next(p.message for p in data_age([gias], Term.parse("2023-24-autumn"), {}, {"gias": 120})
               if p.check == "gias_old")
    assert "dated 20 April 2022, 16 months before 2023-24-autumn began" in msg, msg
    assert not [p for p in data_age([gias], Term.parse("2025-26-autumn"), {}, {}) if p.check == "gias_old"]


def test_a_dated_gias_extract_is_said_with_its_day_and_an_undated_one_as_of_unknown_year(tmp_path):
    """GIAS names its extracts with the day they were taken: the front page says which day's list of schools the
    edition rests on. An extract saved under another name is still read, and its year said to be unknown."""
    from school_improvement.quality.notes import front_page_notes
    from school_improvement.quality.suites import QualityReport

    spring = Term.parse("2025-26-spring")  # began 5 January 2026
    (dated,) = _feeds(tmp_path, {"edubasealldata20260125.csv": GIAS})
    assert dated.academic_year == "2025-26"
    said = data_age([dated], spring, {}, {"gias": 120})
    assert [(p.check, p.severity) for p in said] == [("gias_date", "info")]
    assert "dated 25 January 2026, 20 days after 2025-26-spring began" in said[0].message
    assert any("dated 25 January 2026" in n for n in front_page_notes(QualityReport(said).to_frame()))
    (undated,) = _feeds(tmp_path, {"edubasealldata.csv": GIAS})
    assert undated.kind == "gias" and undated.academic_year is None
    [p] = data_age([undated], spring, {}, {"gias": 120})
    assert p.check == "data_age" and "academic year of this GIAS file is unknown" in p.message
