"""Great Expectations suites: critical cases stop the run, warnings are reported, results name file/row/column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from school_improvement.errors import ValidationFailed
from school_improvement.ingest.feeds import read_feed
from school_improvement.quality.suites import FRAME_COLUMNS, load_suite_dict, validate

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "dfe" / "samples"
TODAY = dt.date(2026, 1, 15)

GIAS_HEADER = ('"URN","LA (code)","LA (name)","EstablishmentNumber","EstablishmentName","TypeOfEstablishment (name)",'
               '"EstablishmentTypeGroup (name)","EstablishmentStatus (name)","OpenDate","CloseDate","PhaseOfEducation (name)",'
               '"HeadTitle (name)","HeadFirstName","HeadLastName","HeadPreferredJobTitle","AdministrativeWard (name)","Trusts (name)"\n')
GIAS_ROWS = [
    '"110001","999","Wealdshire","2001","Oak Primary","Community school","Local authority maintained schools","Open","","","Primary","Mrs","Ann","Lee","Headteacher","Oakley",""',
    '"110002","999","Wealdshire","2002","Ash Primary","Academy converter","Academies","Open","01-09-2015","","Primary","Mr","Bo","Ng","Principal","Ashby","Ash Trust"',
    '"110003","999","Wealdshire","2003","Elm Infant","Community school","Local authority maintained schools","Open","","","Primary","","","","","Elmfield",""',
    '"110004","999","Wealdshire","2004","Old Junior","Community school","Local authority maintained schools","Closed","","31-08-2019","Primary","","","","","Elmfield",""',
]
FILES = {
    "gias.csv": GIAS_HEADER + "\n".join(GIAS_ROWS) + "\n",
    # 110009 is not in GIAS; 110002 has 120% absence.
    "absence.csv": "LA,ESTAB,URN,PERCTOT,PPERSABS10\n999,2001,110001,5.5,14\n999,2002,110002,120,11\n999,2009,110009,4,9\n",
    "intel.csv": "urn,flag,severity,detail,raised_by_team,raised_on\n110001,finance,low,deficit,Finance,2025-12-01\n"
                 "110003,safeguarding,high,DSL vacancy,Safeguarding,2027-06-01\n",
    "ward_members.csv": "ward,member_name,party,email\nOakley,Cllr A,Independent,a@example.org\n",
}
KS2_HEADER = "RECTYPE,LEA,ESTAB,URN,SCHNAME,NFTYPE,TELIG,PTRWM_EXP,READPROG,READPROG_LOWER,READPROG_UPPER\n"
KS2 = KS2_HEADER + "1,999,2001,110001,Oak,CY,30,SUPP,45,40,50\n1,999,2002,110002,Ash,ACC,6,SUPP,1,0,2\n" \
      "1,999,2003,110003,Elm,CY,25,SUPP,0.5,-1,2\n1,999,2004,110004,Old,CY,40,70%,0,-1,1\n3,999,,,Wealdshire,,101,68%,0.1,0,0.2\n"
KS4_HEADER = "RECTYPE,LEA,ESTAB,URN,SCHNAME,NFTYPE,TPUP,ATT8SCR,P8MEA,P8CILOW,P8CIUPP,PTL2BASICS_94\n"
KS4 = KS4_HEADER + "1,999,4001,110001,Oak High,CY,150,95,7,6,8,65%\n1,999,4002,110002,Ash High,ACC,140,45.2,NA,NA,NA,60%\n"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    d = tmp_path_factory.mktemp("landing")
    for name, text in {**FILES, "ks2.csv": KS2, "ks4.csv": KS4}.items():
        (d / name).write_text(text, encoding="utf-8")
    feeds = {name: read_feed(d / name) for name in [*FILES, "ks2.csv", "ks4.csv"]}
    return feeds, validate(list(feeds.values()), today=TODAY)


def find(report, file, check, severity=None):
    return [p for p in report.problems if p.file == file and p.check == check
            and (severity is None or p.severity == severity)]


def test_suites_are_json_files_one_per_kind():
    from school_improvement.ingest.feeds import FEED_KINDS

    for kind in FEED_KINDS:
        suite = load_suite_dict(kind)
        assert suite["name"] == kind and suite["expectations"]
        assert {e["severity"] for e in suite["expectations"]} <= {"critical", "warning"}


# Great Expectations suites run over whole feeds, or its data docs rendered: over test-fast's CPU budget
@pytest.mark.slow
def test_percentage_out_of_range_is_critical_with_row(synthetic):
    _, report = synthetic
    [p] = find(report, "absence.csv", "percentage_range")
    assert (p.row, p.column, p.severity) == (3, "PERCTOT", "critical")  # the file's own header
    assert "120" in p.message and "0..100" in p.message


def test_unknown_to_gias_is_set_aside_in_dfe_files_and_critical_only_in_la_held_feeds(synthetic):
    _, report = synthetic
    # A DfE row for a school GIAS does not list (110009) is another school's: set aside and counted once.
    assert not find(report, "absence.csv", "known_to_gias")
    [aside] = find(report, "absence.csv", "set_aside")
    assert aside.severity == "info" and aside.message.startswith("1 of 3 school rows")
    assert not find(report, "ward_members.csv", "known_to_gias")
    assert not find(report, "intel.csv", "known_to_gias")  # LA-held feeds are checked, and these URNs are known


def test_a_urn_unknown_to_gias_in_an_la_held_feed_is_critical(synthetic, tmp_path):
    feeds, _ = synthetic
    (tmp_path / "intel.csv").write_text("urn,flag,severity,detail,raised_by_team,raised_on\n"
                                        "110001,finance,low,deficit,Finance,2025-12-01\n"
                                        "110091,finance,low,deficit,Finance,2025-12-01\n", encoding="utf-8")
    report = validate([feeds["gias.csv"], read_feed(tmp_path / "intel.csv")], today=TODAY, la_code="999")
    [p] = find(report, "intel.csv", "known_to_gias")
    assert (p.row, p.column, p.severity) == (3, "urn", "critical") and "110091" in p.message


def test_progress_attainment_and_p8_ranges(synthetic):
    _, report = synthetic
    prog = find(report, "ks2.csv", "progress_range")
    # Each problem names the column by the file's own header (trial s31: "column 'rwm_exp'" for PTRWM_EXP).
    assert {(p.row, p.column) for p in prog} == {(2, "READPROG"), (2, "READPROG_LOWER"), (2, "READPROG_UPPER")}
    assert "45: READPROG is outside -30..30" in [p.message for p in prog]
    assert {(p.row, p.column) for p in find(report, "ks4.csv", "p8_range")} == {(2, "P8MEA"), (2, "P8CILOW"),
                                                                              (2, "P8CIUPP")}
    [a] = find(report, "ks4.csv", "att8_range")
    assert (a.row, a.column, a.severity) == (2, "ATT8SCR", "critical")


def test_warnings_suppression_head_missing_future_date(synthetic):
    _, report = synthetic
    [s] = find(report, "ks2.csv", "suppressed_share")
    assert s.severity == "warning" and s.message.startswith("PTRWM_EXP has no figure") and s.column == "PTRWM_EXP"
    heads = find(report, "gias.csv", "headteacher_missing")
    assert [(p.row, p.severity) for p in heads] == [(4, "warning")]  # open school only; the closed one is ignored
    [f] = find(report, "intel.csv", "date_not_future")
    assert (f.row, f.column, f.severity) == (3, "raised_on", "warning") and "2027-06-01" in f.message
    assert all(p.severity in ("warning", "info") for p in report.warnings)  # info: rows set aside, counted


def test_gx_catches_duplicates_and_bad_codes_even_if_reader_bypassed(synthetic):
    feeds, _ = synthetic
    feed = feeds["intel.csv"]
    feed2 = type(feed)(**{**feed.__dict__, "source": "edited.csv"})
    feed2.schools = feed.schools.copy()
    feed2.schools.loc[1, "flag"] = "weather"
    feed2.schools.loc[1, "urn"] = 999999
    abs_feed = feeds["absence.csv"]
    dup = type(abs_feed)(**{**abs_feed.__dict__, "source": "dup.csv"})
    dup.schools = pd.concat([abs_feed.schools, abs_feed.schools.iloc[[0]].assign(_row=9)], ignore_index=True)
    report = validate([feeds["gias.csv"], feed2, dup], today=TODAY)
    assert [(p.row, p.column) for p in find(report, "edited.csv", "known_codes")] == [(3, "flag")]
    assert [p.row for p in find(report, "edited.csv", "known_to_gias")] == [3]
    assert sorted(p.row for p in find(report, "dup.csv", "urn_unique")) == [2, 9]
    with pytest.raises(ValidationFailed) as err:
        report.raise_if_critical()
    assert "edited.csv, row 3, column 'flag'" in str(err.value)


def test_to_frame_and_raise(synthetic):
    _, report = synthetic
    df = report.to_frame()
    assert list(df.columns) == FRAME_COLUMNS
    assert len(df) == len(report.problems) and set(df.feed_kind) >= {"absence", "ks2", "gias", "la_intelligence"}
    assert list(df.severity) == sorted(df.severity)  # critical first, then warnings
    assert report.critical and report.warnings
    with pytest.raises(ValidationFailed):
        report.raise_if_critical()


def test_clean_feeds_pass(synthetic):
    feeds, _ = synthetic
    report = validate([feeds["gias.csv"], feeds["ward_members.csv"]], today=TODAY)
    assert not report.critical
    report.raise_if_critical()


# Great Expectations suites run over whole feeds, or its data docs rendered: over test-fast's CPU budget
@pytest.mark.slow
def test_data_docs_written(synthetic, tmp_path):
    _, report = synthetic
    index = report.build_data_docs(tmp_path / "docs")
    assert index.is_file() and "<html" in index.read_text().lower()
    pages = list((tmp_path / "docs" / "validations").rglob("*.html"))
    assert len(pages) == 6
    assert len(list((tmp_path / "docs" / "expectations").glob("*.html"))) == 6  # each feed's suite, as checked


# Great Expectations suites run over whole feeds, or its data docs rendered: over test-fast's CPU budget
@pytest.mark.slow
@pytest.mark.skipif(not SAMPLES.is_dir(), reason="real DfE samples not present")
def test_real_surrey_ks2_against_real_gias():
    gias = read_feed(SAMPLES / "gias_850_936_extract_2022-04-20.csv")
    ks2 = read_feed(SAMPLES / "936_ks2_2018-19.csv")
    report = validate([gias, ks2], la_code="936")
    # Surrey's KS2 download holds special and closed schools its GIAS rows do not: set aside, counted, not critical.
    missing = set(ks2.schools.urn) - set(gias.schools[gias.schools.la_code.astype(str) == "936"].urn)
    [aside] = find(report, "936_ks2_2018-19.csv", "set_aside")
    assert missing and aside.message.startswith(f"{len(missing)} of {len(ks2.schools)} school rows")
    assert not report.critical


# Great Expectations suites run over whole feeds, or its data docs rendered: over test-fast's CPU budget
@pytest.mark.slow
def test_the_las_own_rows_missing_from_gias_are_said_once_naming_each_file(tmp_path):
    """A GIAS extract of one phase (here primary schools only) misses the LA's other schools in every results file
    alike: one row of data_quality.csv and one front-page sentence for the run, naming each file, not one per file."""
    from school_improvement.quality.notes import front_page_notes

    files = {"gias.csv": FILES["gias.csv"], "absence.csv": FILES["absence.csv"],  # 110009: LA 999, not in GIAS
             "ks4.csv": KS4_HEADER + "1,999,4009,110008,Beech High,CY,150,50,0.1,0,0.2,65%\n"
                        "1,999,4010,110010,Yew High,CY,120,48,0.2,0,0.3,60%\n"
                        "1,888,4011,120011,Elsewhere High,CY,120,48,0.2,0,0.3,60%\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    report = validate([read_feed(tmp_path / n) for n in files], today=TODAY, la_code="999")
    [p] = [p for p in report.problems if p.check == "own_schools_not_in_gias"]
    assert p.severity == "warning" and p.file == "absence.csv, ks4.csv"
    assert p.message.startswith("3 rows that 2 files give LA code 999 (absence.csv: 1; ks4.csv: 2) are for "
                                "schools not in the GIAS extract (e.g. URN 110008, 110009, 110010)")
    dq = report.to_frame()
    assert (dq["check"] == "own_schools_not_in_gias").sum() == 1
    said = [n for n in front_page_notes(dq) if "not in the GIAS extract" in n]
    assert len(said) == 1 and said[0].startswith("3 rows that 2 files give LA code 999")
    one = validate([read_feed(tmp_path / n) for n in ("gias.csv", "absence.csv")], today=TODAY, la_code="999")
    [p] = [p for p in one.problems if p.check == "own_schools_not_in_gias"]
    assert p.file == "absence.csv" and p.message.startswith(
        "1 row that absence.csv gives LA code 999 is for a school not in the GIAS extract (URN 110009), so it is not "
        "categorised")


# Great Expectations suites run over whole feeds, or its data docs rendered: over test-fast's CPU budget
@pytest.mark.slow
def test_configurations_built_once_changes_no_result_and_restores_gx(synthetic, monkeypatch):
    import contextlib

    from great_expectations.expectations.expectation import Expectation

    from school_improvement.quality import suites
    from school_improvement.quality.gx_speed import configurations_built_once

    feeds, report = synthetic
    original = Expectation.__dict__["configuration"]
    monkeypatch.setattr(suites, "configurations_built_once", contextlib.nullcontext)  # GX's own property throughout
    plain = validate(list(feeds.values()), today=TODAY)
    assert [p.__dict__ for p in plain.problems] == [p.__dict__ for p in report.problems]
    assert [len(r.results) for r in plain.results] == [len(r.results) for r in report.results]
    # every expectation's whole result (its configuration, success, counts and failing rows) is the same
    assert [[x.to_json_dict() for x in r.results] for r in plain.results] == \
        [[x.to_json_dict() for x in r.results] for r in report.results]
    assert Expectation.__dict__["configuration"] is original
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    library_to_domain_obj = ExpectationConfiguration.__dict__["to_domain_obj"]
    with configurations_built_once():  # a configuration changed after its first expectation gets a new one
        config = plain.results[0].results[0].expectation_config
        first = config.to_domain_obj()
        assert config.to_domain_obj() is first
        config.meta = {**(config.meta or {}), "changed": True}
        assert config.to_domain_obj() is not first and config.to_domain_obj().meta["changed"]
    assert ExpectationConfiguration.__dict__["to_domain_obj"] is library_to_domain_obj
    with pytest.raises(RuntimeError), configurations_built_once():
        assert Expectation.__dict__["configuration"] is not original
        raise RuntimeError("a check that fails mid-way")
    assert Expectation.__dict__["configuration"] is original


def _docs_text(folder: Path) -> dict[str, str]:
    """Each Data Docs page, less what differs on every build (element ids, build times)."""
    import re

    volatile = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}"
                          r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2}|Z)?|\d{8}T\d{6}(\.\d+)?Z"
                          r"|'_run_time_sort': \d+\.\d+")
    return {volatile.sub("#", str(p.relative_to(folder))): volatile.sub("#", p.read_text())
            for p in sorted(folder.rglob("*.html"))}


# Great Expectations suites run over whole feeds, or its data docs rendered: over test-fast's CPU budget
@pytest.mark.slow
def test_data_docs_share_compiled_templates_and_are_the_same_without(synthetic, tmp_path, monkeypatch):
    """GX makes a Jinja Environment per view, so each page compiled the same templates again; the shared bytecode
    cache (compiled before a worker forks: plugins/worker_preload.py) changes no page, and GX's own view is restored."""
    import contextlib

    from great_expectations.render.view.view import DefaultJinjaView

    from school_improvement.quality import gx_speed, suites

    feeds, _ = synthetic
    original = DefaultJinjaView.__dict__["__init__"]
    assert gx_speed.compile_data_docs_templates() >= 40  # GX's views' templates and stylesheets
    compiled = dict(gx_speed._data_docs_cache().code)
    assert DefaultJinjaView.__dict__["__init__"] is original
    shared = validate(list(feeds.values()), today=TODAY)
    shared.build_data_docs(tmp_path / "shared")
    assert gx_speed._data_docs_cache().code == compiled  # every template the pages used came from the cache
    monkeypatch.setattr(suites, "data_docs_templates_compiled_once", contextlib.nullcontext)  # GX's own compiles
    plain = validate(list(feeds.values()), today=TODAY)
    plain.build_data_docs(tmp_path / "plain")
    assert _docs_text(tmp_path / "shared") == _docs_text(tmp_path / "plain") and len(_docs_text(tmp_path / "plain")) > 10
    with pytest.raises(RuntimeError), gx_speed.data_docs_templates_compiled_once():
        assert DefaultJinjaView().env.bytecode_cache is gx_speed._data_docs_cache()
        raise RuntimeError("a page that fails mid-way")
    assert DefaultJinjaView.__dict__["__init__"] is original and DefaultJinjaView().env.bytecode_cache is None
