"""Files from after the term, and files an officer's Excel saved in the wrong form (the Surrey trial's findings).

An officer re-running a past term with every download left in the landing folder must get the term as it could
have been known then: later results are not used, and that is said (data_quality.csv, the front page). A file saved
as Excel's "Unicode Text" (UTF-16) is a clear error naming it, never a traceback.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from factories import feed, ofsted
from real_la import GIAS, KS2, LA, build_landing
from school_improvement import pipeline
from school_improvement.__main__ import main
from school_improvement.errors import FeedError, ValidationFailed
from school_improvement.ingest.feeds import header_of, read_feed
from school_improvement.ingest.links import is_links_file
from school_improvement.ingest.termdata import TermData, read_files, scope_urns
from school_improvement.quality.data_age import known_at_term
from school_improvement.quality.feed_set import feed_presence
from school_improvement.quality.notes import front_page_notes
from school_improvement.rules import load_rule_set
from school_improvement.terms import Term

KNOWN = load_rule_set("cambs-2021-23").results_known  # the rule set's own reading, not one written here


def _real(shared_dfe, names):
    return [read_feed(shared_dfe / "samples" / n) for n in names]


def test_the_rule_sets_say_which_results_count_for_a_term():
    for rid in ("cambs-2021-23", "cambs-2025-report-cards", "northmoor-2024-27"):
        known = load_rule_set(rid).results_known
        assert set(known["year_ended"]) >= {"ks2", "ks4", "absence", "census"}, rid
        assert "ofsted" in known["dated_rows"], rid


# extract and validate (GX) over a landing folder, or the real links file read whole: over test-fast's CPU budget
@pytest.mark.slow
def test_results_from_after_the_term_are_not_used_and_said_real_surrey(shared_dfe):
    """2017-18 autumn with KS2 of 2016-17, 2017-18 and 2018-19 in the folder: 2016-17 is the term's; the 2018-19
    absence, 2019-20 census and 2018-19 KS4 were not known then, so those kinds are missing, as if not supplied."""
    feeds = _real(shared_dfe, [*KS2, GIAS, "936_abs_2018-19.csv", "936_census_2019-20.csv",
                               "936_ks4provisional_2018-19.csv"])
    term = Term.parse("2017-18-autumn")
    kept, said = known_at_term(feeds, term, KNOWN, scope_urns(feeds, LA))
    assert sorted(f.academic_year for f in kept if f.kind == "ks2") == ["2016-17"]
    assert {f.kind for f in kept} == {"ks2", "gias"}
    assert {p.file for p in said} == {"936_ks2_2017-18.csv", "936_ks2_2018-19.csv", "936_abs_2018-19.csv",
                                      "936_census_2019-20.csv", "936_ks4provisional_2018-19.csv"}
    assert all(p.check == "after_term" and p.severity == "warning" for p in said)
    ks2 = next(p for p in said if p.file == "936_ks2_2018-19.csv")
    assert "not known when 2017-18-autumn began" in ks2.message and "936_ks2_2016-17.csv" in ks2.message
    data = TermData(LA, term, kept)
    assert data.latest("ks2").academic_year == "2016-17"
    missing = {p.file for p in feed_presence(kept, LA) if p.check == "feed_missing"}
    assert {"(no absence file)", "(no census file)"} <= missing
    # A term after all of them ended uses the latest of each, and says nothing of the kind.
    kept, said = known_at_term(feeds, Term.parse("2021-22-autumn"), KNOWN, scope_urns(feeds, LA))
    assert len(kept) == len(feeds) and said == []


@pytest.mark.slow  # the real census through extract and validate (the Makefile's rule)
def test_a_later_file_in_the_landing_folder_is_not_used_by_the_run_and_is_on_the_front_page(shared_dfe, tmp_path):
    """The real Surrey run of 2021-22 autumn, with a census saved as 2021-22 beside the 2019-20 one (an officer
    leaves every download in the folder): the run uses 2019-20 and says why the other is not used."""
    landing = build_landing(shared_dfe, tmp_path / "landing", leave_out=("ks4",))
    (landing / "936_census_2021-22.csv").write_bytes((shared_dfe / "samples" / "936_census_2019-20.csv").read_bytes())
    cfg = pipeline.RunConfig(la_code=LA, term="2021-22-autumn", landing=str(landing), work_dir=str(tmp_path / "work"),
                             history_url=f"sqlite:///{tmp_path / 'h.sqlite'}", run_id="r1")
    pipeline.extract(cfg)
    pipeline.validate(cfg)
    data = pipeline._term_data(cfg)
    assert [f.academic_year for f in data.by_kind["census"]] == ["2019-20"]
    assert "936_census_2021-22.csv" not in set(data.provenance()["file"])
    dq = pd.read_csv(cfg.run_dir / "quality" / "data_quality.csv", encoding="utf-8-sig", keep_default_na=False)
    [row] = dq[dq["check"] == "after_term"].to_dict("records")
    assert row["file"] == "936_census_2021-22.csv" and row["severity"] == "warning"
    notes = " ".join(front_page_notes(dq))
    assert "936_census_2021-22.csv holds census results for 2021-22, which were not known" in notes
    assert "england_census_2019-20.csv instead" in notes


def test_inspections_dated_after_the_term_are_set_aside_counted_and_said():
    term = Term.parse("2021-22-autumn")  # 1 September to 31 December 2021 (nominal dates)
    rows = [ofsted(100001, oeif_date=date(2019, 3, 1)), ofsted(100002, oeif_date=date(2022, 1, 4)),
            ofsted(100003, oeif_date=date(2018, 1, 1), ungraded_date=date(2025, 5, 2)),
            ofsted(100004, oeif_date=date(2021, 10, 5)),  # during the term: the term's own (known_by: term_end)
            ofsted(900001, oeif_date=date(2024, 1, 1))]  # another LA's school
    mi = feed("ofsted", rows, year="2024-25", source="ofsted_mi.csv")
    mine = {100001, 100002, 100003, 100004}
    assert KNOWN["dated_rows"]["ofsted"]["known_by"] == "term_end"
    [kept], [said] = known_at_term([mi], term, KNOWN, mine)
    assert sorted(kept.schools["urn"]) == [100001, 100004]
    assert kept.academic_year == "2021-22"  # the latest inspection it still holds
    assert said.file == "ofsted_mi.csv" and said.check == "after_term" and said.severity == "warning"
    assert "2 of this LA's schools (3 rows in all)" in said.message
    assert "after 31 December 2021, when 2021-22-autumn ended" in said.message
    # The stricter readings a rule set may choose: known when the term began, or by the run date.
    strict = {"dated_rows": {"ofsted": {**KNOWN["dated_rows"]["ofsted"], "known_by": "term_start"}}}
    [kept], [said] = known_at_term([mi], term, strict, mine)
    assert sorted(kept.schools["urn"]) == [100001] and "on or after 1 September 2021" in said.message
    by_run = {"dated_rows": {"ofsted": {**KNOWN["dated_rows"]["ofsted"], "known_by": "run_date"}}}
    [kept], _ = known_at_term([mi], term, by_run, mine, as_of=date(2021, 10, 20))
    assert sorted(kept.schools["urn"]) == [100001, 100004]
    # No inspection after the term: the file is used as it is, nothing said.
    [same], none = known_at_term([mi], Term.parse("2025-26-autumn"), KNOWN, None)
    assert len(same.schools) == 5 and none == []


def test_the_real_ofsted_sample_is_set_aside_for_an_earlier_term(shared_dfe):
    """The 2025-26 Ofsted MI sample beside Surrey's 2021-22 files: its inspections were not known then."""
    feeds = _real(shared_dfe, [GIAS, "873_ofsted_mi_latest_inspections_2026_sample.csv"])
    kept, said = known_at_term(feeds, Term.parse("2021-22-autumn"), KNOWN, scope_urns(feeds, LA))
    [mi] = [f for f in kept if f.kind == "ofsted"]
    assert mi.schools.empty
    [p] = said
    assert p.file == "873_ofsted_mi_latest_inspections_2026_sample.csv" and "none for this LA's schools" in p.message


def _utf16(src: Path, dest: Path) -> Path:
    """A CSV as Excel saves it as 'Unicode Text': UTF-16 with a BOM, tab-separated, CRLF."""
    data = src.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:  # GIAS downloads are Windows-1252
        text = data.decode("cp1252")
    text = text.replace(",", "\t")
    dest.write_bytes(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-16"))
    return dest


def test_a_utf16_file_is_a_clear_error_naming_it_everywhere_it_is_sniffed(shared_dfe, tmp_path, capsys):
    bad = _utf16(shared_dfe / "samples" / "936_census_2019-20.csv", tmp_path / "936_census_2019-20.csv")
    assert header_of(bad) == [] and is_links_file(bad) is False  # no csv.Error from the links detection
    feeds, problems = read_files([bad, shared_dfe / "samples" / GIAS], LA)
    [p] = problems
    assert p.file == bad.name and "UTF-16" in p.message and "CSV UTF-8" in p.message
    assert main(["check", "--no-gx", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "936_census_2019-20.csv: this file is UTF-16 text" in out and "Traceback" not in out


@pytest.mark.slow  # extract and validate (Great Expectations) on a real landing folder: over 2 s of pipeline work
def test_a_utf16_file_in_the_landing_folder_stops_validate_naming_it(shared_dfe, tmp_path):
    # The run: extract reads on (no exception to retry), validate stops naming the file.
    landing = build_landing(shared_dfe, tmp_path / "landing", leave_out=("census", "ks4", "absence"))
    _utf16(shared_dfe / "samples" / "936_census_2019-20.csv", landing / "936_census_2019-20.csv")
    cfg = pipeline.RunConfig(la_code=LA, term="2021-22-autumn", landing=str(landing), work_dir=str(tmp_path / "w"),
                             history_url=f"sqlite:///{tmp_path / 'h.sqlite'}", run_id="r1")
    assert pipeline.extract(cfg)["unreadable"] == 1
    with pytest.raises(ValidationFailed) as err:
        pipeline.validate(cfg)
    assert "936_census_2019-20.csv" in str(err.value) and "UTF-16" in str(err.value)


def test_a_utf16_links_file_is_the_same_clear_error(shared_dfe, tmp_path):
    bad = _utf16(shared_dfe / "samples" / "gias_links_2024-01-29.csv", tmp_path / "gias_links_2024-01-29.csv")
    assert is_links_file(bad) is False
    with pytest.raises(FeedError) as err:
        read_feed(bad)
    assert "UTF-16" in str(err.value) and bad.name in str(err.value)


# extract and validate (GX) over a landing folder, or the real links file read whole: over test-fast's CPU budget
@pytest.mark.slow
def test_compare_reads_the_term_as_the_run_does_links_file_and_all(shared_dfe, tmp_path):
    """`compare` on the real Surrey folder with the real (Windows-1252) GIAS links file: read by the links reader,
    predecessors followed, other LAs' rows set aside, as the edition's run reads them (it stopped with 'not UTF-8')."""
    from school_improvement.decisions.what_if import read_term

    landing = build_landing(shared_dfe, tmp_path / "landing", links=True)
    term = Term.parse("2021-22-autumn")
    data = read_term(LA, term, landing, KNOWN)
    assert [f.source for f in data.by_kind["gias_links"]] == ["gias_links_2024-01-29.csv"]
    assert data._links()  # predecessors known, so a converter academy keeps its results, as in the run
    cfg = pipeline.RunConfig(la_code=LA, term=str(term), landing=str(landing), work_dir=str(tmp_path / "w"),
                             history_url=f"sqlite:///{tmp_path / 'h.sqlite'}", run_id="r1")
    pipeline.extract(cfg)
    run = pipeline._term_data(cfg)
    assert {k: sorted(f.source for f in fs) for k, fs in data.by_kind.items()} == \
        {k: sorted(f.source for f in fs) for k, fs in run.by_kind.items()}
    assert {k: len(data.frame(k)) for k in data.by_kind} == {k: len(run.frame(k)) for k in run.by_kind}


@pytest.fixture(scope="module")
def compared_with_a_later_census(shared_dfe, tmp_path_factory):
    """`compare`'s reading of real Surrey 2021-22 autumn with a census file from after the term beside the one it
    uses: read (and validated) once for the two tests below, each of which reads what it needs from it."""
    from school_improvement.decisions.what_if import read_term

    landing = build_landing(shared_dfe, tmp_path_factory.mktemp("later-census") / "landing", leave_out=("ks4",))
    (landing / "936_census_2021-22.csv").write_bytes((shared_dfe / "samples" / "936_census_2019-20.csv").read_bytes())
    notes: list[str] = []
    data = read_term(LA, Term.parse("2021-22-autumn"), landing, KNOWN, notes)
    return data, notes


# extract and validate (GX) over a landing folder, or the real links file read whole: over test-fast's CPU budget
@pytest.mark.slow
def test_compare_leaves_out_files_from_after_the_term_as_the_run_does(compared_with_a_later_census):
    data, _ = compared_with_a_later_census
    assert [f.academic_year for f in data.by_kind["census"]] == ["2019-20"]


# extract and validate (GX) over a landing folder, or the real links file read whole: over test-fast's CPU budget
@pytest.mark.slow
def test_a_rule_set_that_does_not_say_which_results_count_is_said(shared_dfe, tmp_path, monkeypatch):
    """A deployment's own rule set without results_known: every file is used, and the front page says so."""
    from school_improvement import rules

    bare = rules.load_rule_set("cambs-2021-23").model_copy(update={"results_known": {}})
    monkeypatch.setattr(rules, "rule_set_for", lambda *a, **k: bare)
    landing = build_landing(shared_dfe, tmp_path / "landing", leave_out=("ks4", "absence", "census"))
    cfg = pipeline.RunConfig(la_code=LA, term="2017-18-autumn", landing=str(landing), work_dir=str(tmp_path / "w"),
                             history_url=f"sqlite:///{tmp_path / 'h.sqlite'}", run_id="r1")
    pipeline.extract(cfg)
    stage = pipeline._load_feeds(cfg)
    assert len([f for f in stage["feeds"] if f.kind == "ks2"]) == 3
    [p] = [p for p in stage["read_problems"] if p.check == "after_term"]
    assert "does not say which results could be known" in p.message and p.severity == "warning"


def test_a_damaged_links_file_is_an_error_naming_it(shared_dfe, tmp_path):
    """A links file cut off inside a quoted name: a FeedError naming the file, not a pandas traceback."""
    data = (shared_dfe / "samples" / "gias_links_2024-01-29.csv").read_bytes()
    bad = tmp_path / "gias_links_2024-01-29.csv"
    bad.write_bytes(data[:2000] + b'\n100000,100001,"A name never closed,Predecessor,01-01-2020\n')
    assert is_links_file(bad)
    feeds, problems = read_files([bad], LA)
    assert feeds == [] and [p.file for p in problems] == [bad.name]


@pytest.mark.slow  # the real Surrey term read and validated (over test-fast's CPU budget)
def test_compare_says_what_it_left_out(compared_with_a_later_census):
    _, notes = compared_with_a_later_census
    assert len(notes) == 1 and notes[0].startswith("936_census_2021-22.csv holds census results for 2021-22")


def test_an_ees_file_of_several_years_keeps_the_years_known_at_the_term():
    """An EES absence download (a row per school and year): the years from the term on are not used, the latest
    earlier year is each school's current figure, and the file is not dropped whole."""
    current = [absence_row(100001, "2022-23", 7.0), absence_row(100002, "2022-23", 8.0)]
    history = pd.DataFrame([absence_row(100001, "2020-21", 5.0), absence_row(100001, "2021-22", 6.0),
                            absence_row(100002, "2020-21", 4.0)])
    ees = feed("absence", current, year="2022-23", source="ees_absence.csv")
    ees.history = history
    [kept], [said] = known_at_term([ees], Term.parse("2021-22-spring"), KNOWN)
    assert kept.academic_year == "2020-21"
    assert dict(zip(kept.schools["urn"], kept.schools["overall_absence"])) == {100001: 5.0, 100002: 4.0}
    assert "also holds absence results for 2021-22, 2022-23" in said.message and "2020-21 figures" in said.message
    # No earlier year at all: not used, and said, as a file of one year.
    kept, [said] = known_at_term([ees], Term.parse("2020-21-autumn"), KNOWN)
    assert kept == [] and "this file is not used" in said.message


def absence_row(urn: int, year: str, overall: float) -> dict:
    return {"urn": urn, "la_code": "999", "overall_absence": overall, "persistent_absence": 10.0,
            "academic_year": year, "_row": 2}


# extract and validate (GX) over a landing folder, or the real links file read whole: over test-fast's CPU budget
@pytest.mark.slow
def test_check_with_a_term_says_which_files_the_run_would_not_use(shared_dfe, tmp_path, capsys):
    s = shared_dfe / "samples"
    later = tmp_path / "936_census_2021-22.csv"
    later.write_bytes((s / "936_census_2019-20.csv").read_bytes())
    files = [str(s / GIAS), str(s / "936_census_2019-20.csv"), str(later)]
    assert main(["check", "--no-gx", "--la", LA, "--term", "2021-22-autumn", *files]) == 0
    out = capsys.readouterr().out
    assert "936_census_2021-22.csv holds census results for 2021-22, which were not known" in out
    assert "936_census_2019-20.csv holds" not in out
    assert main(["check", "--no-gx", "--la", LA, *files]) == 0
    assert "not known" not in capsys.readouterr().out  # no term: nothing judged against one
    # A term no rule set serves: said, as the run would stop on it.
    assert main(["check", "--no-gx", "--la", LA, "--term", "2017-18-autumn", *files]) == 1
    assert "no rule set is in force on 2017-09-01" in capsys.readouterr().out
