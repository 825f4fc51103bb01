"""The demo generator: deterministic, fictional, in the real file formats, and exercising the Strategy."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path

import pytest

from school_improvement import LA_TEMPLATES_DIR
from school_improvement.terms import Term
from demo_feeds.demo_generator import (
    CRITERION_IDS, DEFAULT_TERMS, INTEL_FLAGS, LA_FEED_COLUMNS, LETTER_CODES, REPORT_CARD_START, dfe_file_names,
    generate_demo, gias_extract_date, run_date, write_templates,
)

DFE = Path(__file__).resolve().parents[2] / "shared" / "dfe"
OFSTED_MI = "management_information_latest_inspections.csv"


def perf(term: str, kind: str) -> str:
    """The demo's file name for a DfE results file of the term: it carries the results' academic year."""
    return dfe_file_names("999", Term.parse(term))[kind]


def perf_files(term: str) -> list[str]:
    return [perf(term, k) for k in ("ks2", "ks4", "absence", "census")]


def gias_name(term: str) -> str:
    """The demo's GIAS extract of the term: named, as GIAS names it, with the day it was taken."""
    return perf(term, "gias")


def cp1252_files(term: str) -> list[str]:
    return [gias_name(term), OFSTED_MI]


def expected_files(term: str) -> list[str]:
    return sorted(perf_files(term) + cp1252_files(term) + [f"{k}.csv" for k in LA_FEED_COLUMNS])
LAST = DEFAULT_TERMS[-1]
MAKE_RUN_TERMS = ["2025-26-autumn", "2025-26-spring"]  # the Makefile's DEMO_TERMS: `make run` publishes the last


@pytest.fixture(scope="module")
def demo(demo_landing):
    return demo_landing()  # built once per session (tests/conftest.py)


def rows(path: Path, encoding="utf-8-sig") -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding))))


@pytest.mark.slow  # the 250-school demo generated, some of it twice (over test-fast's CPU budget)
def test_deterministic_byte_identical(demo, tmp_path):
    root, result = demo
    again = generate_demo(tmp_path)
    assert again["scenarios"] == result["scenarios"]
    first = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    second = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert first == second
    for rel in first:
        assert (root / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


@pytest.mark.slow  # the 250-school demo generated, some of it twice (over test-fast's CPU budget)
def test_other_seed_differs(demo, tmp_path):
    root, _ = demo
    generate_demo(tmp_path, terms=[LAST], seed=7)
    a = (root / "999" / LAST / perf(LAST, "ks2")).read_bytes()
    assert a != (tmp_path / "999" / LAST / perf(LAST, "ks2")).read_bytes()


def test_folders_and_files_per_term(demo):
    root, result = demo
    assert result["terms"] == DEFAULT_TERMS
    for term in DEFAULT_TERMS:
        folder = root / "999" / term
        assert sorted(p.name for p in folder.iterdir()) == expected_files(term)
        assert sorted(result["files"][term]) == expected_files(term)
    assert json.loads((root / "999" / "demo_scenarios.json").read_text()) == result["scenarios"]


@pytest.mark.slow  # the 250-school demo generated, some of it twice (over test-fast's CPU budget)
def test_any_term_list(tmp_path):
    res = generate_demo(tmp_path, terms=["2025-26-spring"])
    assert res["terms"] == ["2025-26-spring"]
    assert sorted(p.name for p in (tmp_path / "999" / "2025-26-spring").iterdir()) == expected_files("2025-26-spring")


def test_school_counts_and_fictional_urns(demo):
    root, result = demo
    assert 240 <= result["schools"] <= 260
    assert 190 <= result["maintained"] <= 210 and 45 <= result["academies"] <= 55
    gias = rows(root / "999" / LAST / gias_name(LAST), "cp1252")
    assert len(gias) == result["schools"]
    groups = {r["EstablishmentTypeGroup (name)"] for r in gias}
    assert {"Local authority maintained schools", "Academies", "Free Schools"} <= groups
    urns = [int(r["URN"]) for r in gias]
    assert len(set(urns)) == len(urns)
    assert all(990001 <= u <= 999999 for u in urns)
    assert all(r["LA (code)"] == "999" and r["LA (name)"] == "Wealdshire (demo)" for r in gias)
    assert 12 <= len({r["AdministrativeWard (name)"] for r in gias}) <= 20
    for term in DEFAULT_TERMS:  # every URN in every file is one of ours
        for name in perf_files(term):
            for r in rows(root / "999" / term / name):
                u = r.get("URN", "")
                if u.isdigit():
                    assert 990001 <= int(u) <= 999999
        ofsted = rows(root / "999" / term / "management_information_latest_inspections.csv", "cp1252")
        assert all(r["LAESTAB"].startswith("999") and len(r["LAESTAB"]) == 7 for r in ofsted)


@pytest.mark.skipif(not (DFE / "samples").is_dir(), reason="real DfE samples (../shared/dfe) not present")
def test_no_real_school_names(demo):
    root, _ = demo
    samples = DFE / "samples"
    real = set()
    for r in csv.DictReader(io.StringIO((samples / "gias_850_936_extract_2022-04-20.csv").read_bytes().decode("cp1252"))):
        real.add(r["EstablishmentName"].strip().lower())
    for f in samples.glob("*_ks*.csv"):
        for r in csv.DictReader(io.StringIO(f.read_bytes().decode("utf-8-sig"))):
            real.add((r.get("SCHNAME") or "").strip().lower())
    real.discard("")
    ours = {r["EstablishmentName"].strip().lower()
            for r in rows(root / "999" / LAST / gias_name(LAST), "cp1252")}
    assert not ours & real


def test_performance_files_bom_crlf(demo):
    root, _ = demo
    for term in DEFAULT_TERMS:
        for name in perf_files(term):
            data = (root / "999" / term / name).read_bytes()
            assert data.startswith(b"\xef\xbb\xbf"), name
            assert b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n"), name
            assert not data.endswith(b"\n")  # as downloaded: no final newline


def test_gias_and_ofsted_are_cp1252(demo):
    root, _ = demo
    for name in cp1252_files(LAST):
        data = (root / "999" / LAST / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        data.decode("cp1252")
    gias = (root / "999" / LAST / gias_name(LAST)).read_bytes()
    with pytest.raises(UnicodeDecodeError):  # accented heads' names are single cp1252 bytes
        gias.decode("utf-8")
    header = rows(root / "999" / LAST / "management_information_latest_inspections.csv", "cp1252")[0]
    assert len(header) == 85
    assert "NULL" in header.values()


def test_ks2_format_by_year(demo):
    root, _ = demo
    old = rows(root / "999" / "2024-25-spring" / perf("2024-25-spring", "ks2"))  # 2023/24 results
    new_raw = (root / "999" / LAST / perf(LAST, "ks2")).read_bytes().decode("utf-8-sig")
    new = list(csv.reader(io.StringIO(new_raw)))
    header = new[0]
    for col in ["RECTYPE", "LEA", "ESTAB", "URN", "SCHNAME", "NFTYPE", "TELIG", "TFSM6CLA1A", "TNOTFSM6CLA1A",
                "PTRWM_EXP", "PTRWM_HIGH", "PTRWM_EXP_FSM6CLA1A", "PTRWM_EXP_NotFSM6CLA1A", "DIFFN_RWM_EXP",
                "READPROG", "READPROG_LOWER", "READPROG_UPPER", "WRITPROG", "MATPROG_UPPER", "PTRWM_EXP_24",
                "PTRWM_EXP_23", "PTRWM_EXP_FSM6CLA1A_24", "PTRWM_EXP_NotFSM6CLA1A_24", "TELIG_3YR",
                "PTRWM_EXP_3YR"]:
        assert col in header, col
    assert "TNotFSM6CLA1A" in old[0] and "PTRWM_EXP_23" in old[0] and "PTRWM_EXP_3YR" not in old[0]
    assert {r[0] for r in new[1:]} == {"1", "2", "3", "4", "5"}  # national rows: all schools, state-funded
    # 2024/25 rows are ragged (the last header columns have no cells), as in the real download.
    assert all(len(r) < len(header) for r in new[1:])
    school = [dict(zip(header, r)) for r in new[1:] if r[0] == "1"]
    assert all(r["READPROG"] == "" for r in school)  # no KS1 baseline for 2023/24 and 2024/25
    assert any(r["READPROG_23"] not in ("", "SUPP") for r in school)  # 2022/23 progress was published
    assert all(r["READPROG"] == "" for r in old if r["RECTYPE"] == "1")


@pytest.mark.slow  # the 250-school demo generated, some of it twice (over test-fast's CPU budget)
def test_distributions_plausible(demo, demo_landing):
    root, result = demo
    ks2 = [r for r in rows(root / "999" / LAST / perf(LAST, "ks2")) if r["RECTYPE"] == "1"]
    vals = [float(r["PTRWM_EXP"].rstrip("%")) for r in ks2 if r["PTRWM_EXP"].endswith("%")]
    mean = sum(vals) / len(vals)
    assert 52 <= mean <= 66
    gaps = [float(r["PTRWM_EXP_NotFSM6CLA1A"].rstrip("%")) - float(r["PTRWM_EXP_FSM6CLA1A"].rstrip("%"))
            for r in ks2 if r["PTRWM_EXP_FSM6CLA1A"].endswith("%") and r["PTRWM_EXP_NotFSM6CLA1A"].endswith("%")]
    assert 14 <= sum(gaps) / len(gaps) <= 26
    assert any(r["PTRWM_EXP"] == "SUPP" for r in ks2)
    absence = rows(root / "999" / LAST / perf(LAST, "absence"))
    la_pri = next(r for r in absence if r["LA"] == "999" and r["ESTAB"] == "PRI")
    assert 4.5 <= float(la_pri["PERCTOT"]) <= 6.5 and 10 <= float(la_pri["PPERSABS10"]) <= 20
    assert {r["ESTAB"] for r in absence if r["LA"] == "NAT"} == {"PRI", "SEC", "SPE"}
    ofsted = rows(root / "999" / LAST / "management_information_latest_inspections.csv", "cp1252")
    grades = [r["Latest OEIF overall effectiveness"] for r in ofsted]
    assert grades.count("2") > len(grades) / 2
    assert 0.06 <= grades.count("3") / len(grades) <= 0.16 and 1 <= grades.count("4") <= 15
    # The MI is downloaded for the term's run (24 September 2025), before report cards began (10 November 2025):
    # the last default term has none, and OEIF's safeguarding both ways; `make run`'s spring term has report cards.
    assert run_date(Term.parse(LAST)) < REPORT_CARD_START
    assert {r["Safeguarding standards"] for r in ofsted} == {"NULL"}
    assert {"Yes", "No"} <= {r["Latest OEIF  safeguarding is effective?"] for r in ofsted}
    spring_root, _ = demo_landing(MAKE_RUN_TERMS)
    spring = rows(spring_root / "999" / MAKE_RUN_TERMS[-1] / OFSTED_MI, "cp1252")
    assert {"Met", "Not met"} <= {r["Safeguarding standards"] for r in spring}
    for term, levels in result["levels"].items():
        n = len(levels)
        high = sum(v == "high" for v in levels.values()) / n
        medium = sum(v == "medium" for v in levels.values()) / n
        assert 0.10 <= high <= 0.20 and 0.22 <= medium <= 0.38, term


def test_la_feeds_headers_and_codes(demo):
    root, _ = demo
    for term in DEFAULT_TERMS:
        folder = root / "999" / term
        for kind, cols in LA_FEED_COLUMNS.items():
            text = (folder / f"{kind}.csv").read_text(encoding="utf-8")
            assert next(csv.reader(io.StringIO(text))) == cols
        adv = rows(folder / "adviser_judgements.csv", "utf-8")
        assert adv and {r["criterion_id"] for r in adv} <= set(CRITERION_IDS)
        assert {r["met"] for r in adv} <= {"TRUE", "FALSE"}
        intel = rows(folder / "la_intelligence.csv", "utf-8")
        assert {r["flag"] for r in intel} <= set(INTEL_FLAGS)
        assert {r["severity"] for r in intel} <= {"low", "medium", "high"}
        assert {r["letter"] for r in rows(folder / "letters_log.csv", "utf-8")} <= set(LETTER_CODES)
        assert all(r["term"] == term for r in rows(folder / "moderation.csv", "utf-8"))


def test_scenarios_exist_and_tell_their_story(demo):
    root, result = demo
    sc = result["scenarios"]
    for key in ["congratulations", "significant_concerns_letter", "warning_notice", "significant_concerns",
                "academy_meeting", "academy_formal_letter", "academy_escalation", "safeguarding_not_met",
                "new_head", "no_primary_offer", "moderation_override", "small_cohort", "suppressed_disadvantaged"]:
        assert key in sc, key
    folder = root / "999" / LAST
    gias = {int(r["URN"]): r for r in rows(folder / gias_name(LAST), "cp1252")}
    for name, urn in sc.items():
        assert urn in gias, name
    maintained = {u for u, r in gias.items() if r["EstablishmentTypeGroup (name)"] != "Academies"
                  and r["EstablishmentTypeGroup (name)"] != "Free Schools"}
    for name in ("academy_meeting", "academy_formal_letter", "academy_escalation"):
        assert sc[name] not in maintained

    log = rows(folder / "letters_log.csv", "utf-8")
    letters = {(int(r["urn"]), r["letter"]) for r in log}
    assert (sc["warning_notice"], "significant_concerns_letter") in letters
    assert (sc["significant_concerns"], "significant_concerns_letter") in letters
    assert (sc["significant_concerns"], "warning_notice") in letters
    assert (sc["academy_formal_letter"], "academy_meeting") in letters
    assert (sc["academy_escalation"], "academy_meeting") in letters
    assert (sc["academy_escalation"], "academy_formal_letter") in letters
    assert not any(u == sc["academy_meeting"] for u, _ in letters)
    assert not any(u == sc["significant_concerns_letter"] for u, _ in letters)
    assert all(r["term"] < LAST for r in log)  # the log holds letters issued before this term

    intel = rows(folder / "la_intelligence.csv", "utf-8")
    flags = {(int(r["urn"]), r["flag"]) for r in intel}
    assert (sc["no_primary_offer"], "no_primary_offer") in flags
    assert (sc["new_head"], "new_head") in flags
    assert (sc["safeguarding_not_met"], "safeguarding") in flags

    ofsted = {int(r["URN"]): r for r in rows(folder / "management_information_latest_inspections.csv", "cp1252")}
    # Inspected since the last run, before report cards began (see test_distributions_plausible): OEIF's "No".
    assert ofsted[sc["safeguarding_not_met"]]["Latest OEIF  safeguarding is effective?"] == "No"
    assert ofsted[sc["safeguarding_not_met"]]["Latest OEIF category of concern"] == "Special Measures"

    mod = rows(folder / "moderation.csv", "utf-8")
    override = next(r for r in mod if int(r["urn"]) == sc["moderation_override"])
    assert override["reason"] and override["final_category"] in ("low", "medium", "high")

    ks2 = {int(r["URN"]): r for r in rows(folder / perf(LAST, "ks2")) if r["URN"]}
    assert int(ks2[sc["small_cohort"]]["TELIG"]) <= 5 and ks2[sc["small_cohort"]]["PTRWM_EXP"] == "SUPP"
    sd = ks2[sc["suppressed_disadvantaged"]]
    assert int(sd["TFSM6CLA1A"]) <= 5 and sd["PTRWM_EXP_FSM6CLA1A"] == "SUPP" and sd["PTRWM_EXP"].endswith("%")

    # The new head is new in the last term's GIAS.
    earlier = {int(r["URN"]): r for r in rows(root / "999" / DEFAULT_TERMS[0] / gias_name(DEFAULT_TERMS[0]), "cp1252")}
    u = sc["new_head"]
    assert (earlier[u]["HeadFirstName"], earlier[u]["HeadLastName"]) != (gias[u]["HeadFirstName"],
                                                                          gias[u]["HeadLastName"])
    # Direction of travel has something to show.
    levels = [result["levels"][t] for t in DEFAULT_TERMS]
    assert [lv[sc["improving"]] for lv in levels] == ["high", "medium", "low"]
    assert [lv[sc["declining"]] for lv in levels] == ["low", "medium", "high"]


def test_templates(tmp_path):
    import openpyxl

    written = write_templates(tmp_path)
    assert len(written) == 2 * len(LA_FEED_COLUMNS)
    for kind, cols in LA_FEED_COLUMNS.items():
        assert (tmp_path / f"{kind}.csv").read_text(encoding="utf-8") == ",".join(cols) + "\n"
        ws = openpyxl.load_workbook(tmp_path / f"{kind}.xlsx").active
        assert [c.value for c in ws[1]] == cols and ws.max_row == 1
        # The shipped templates are exactly what write_templates produces.
        for ext in ("csv", "xlsx"):
            assert (LA_TEMPLATES_DIR / f"{kind}.{ext}").read_bytes() == (tmp_path / f"{kind}.{ext}").read_bytes()


@pytest.mark.slow  # the 250-school demo generated, some of it twice (over test-fast's CPU budget)
def test_feeds_reader_reads_every_demo_file_to_its_kind(demo):
    feeds = pytest.importorskip("school_improvement.ingest.feeds")
    root, _ = demo
    for term in DEFAULT_TERMS:
        expected = {perf(term, "ks2"): "ks2", perf(term, "ks4"): "ks4", perf(term, "absence"): "absence",
                    perf(term, "census"): "census", gias_name(term): "gias",
                    "management_information_latest_inspections.csv": "ofsted",
                    **{f"{k}.csv": k for k in LA_FEED_COLUMNS}}
        for name, kind in expected.items():
            feed = feeds.read_feed(root / "999" / term / name)
            assert feed.kind == kind, (term, name)
            if kind in ("ks2", "ks4", "absence", "census"):  # the year is known, so no front-page 'unknown' note
                assert feed.academic_year == name.rsplit("_", 1)[1][:-4], (term, name, feed.academic_year)
            if kind == "gias":  # dated as GIAS dates its extracts, within the term's academic year: its age is known
                assert feed.academic_year == Term.parse(term).academic_year, (term, name, feed.academic_year)
    for kind in LA_FEED_COLUMNS:
        for ext in ("csv", "xlsx"):
            assert feeds.read_feed(LA_TEMPLATES_DIR / f"{kind}.{ext}").kind == kind
    # Maintained special schools (GIAS group "Special schools") count as LA-maintained: 200 in all.
    gias = feeds.read_feed(root / "999" / DEFAULT_TERMS[-1] / gias_name(DEFAULT_TERMS[-1])).schools
    assert gias["is_la_maintained"].sum() == 200 and gias["is_academy"].sum() == 50


def test_code_lists_match_the_reader():
    feeds = pytest.importorskip("school_improvement.ingest.feeds")
    from demo_feeds import demo_generator as d

    assert tuple(d.INTEL_FLAGS) == tuple(feeds.INTELLIGENCE_FLAGS)
    assert tuple(d.LETTER_CODES) == tuple(feeds.LETTER_TYPES)
    assert tuple(d.SEVERITIES) == tuple(feeds.SEVERITIES)
    assert tuple(d.AREAS.values()) == tuple(feeds.ADVISER_AREAS)


DATE_COLUMNS = {"adviser_judgements": "visit_date", "la_intelligence": "raised_on", "laig_notes": "meeting_date",
                "letters_log": "issued_on", "moderation": "approved_on"}


@pytest.mark.slow  # the 250-school demo generated, some of it twice (over test-fast's CPU budget)
@pytest.mark.parametrize("terms", [DEFAULT_TERMS, MAKE_RUN_TERMS])
def test_la_held_rows_are_dated_as_for_the_scheduled_run(demo_landing, terms):
    """A real LA's files, downloaded and typed up for the term's run on its scheduled date, hold nothing dated
    after it: visits, flags and LAIG meetings since the last term's run, moderation this term before the run,
    letters of earlier terms (signed after the run that drafted them, within their term), and an Ofsted MI
    downloaded with GIAS the day before. So a demo edition dated its run date uses nothing dated after it."""
    from school_improvement.terms import term_for_date

    root, _ = demo_landing(terms)
    for term in terms:
        t = Term.parse(term)
        run, last_run, (start, _) = run_date(t), run_date(t.previous()), t.dates()
        folder = root / "999" / term
        for kind, col in DATE_COLUMNS.items():
            for r in rows(folder / f"{kind}.csv", "utf-8"):
                d = date.fromisoformat(r[col])
                assert d < run, (term, kind, r)
                if kind == "letters_log":  # signed after the run that drafted it, in the term it is for
                    lt = Term.parse(r["term"])
                    assert lt < t and run_date(lt) < d and term_for_date(d) == lt, (term, r)
                elif kind == "moderation":
                    assert start <= d and term_for_date(d) == t, (term, r)
                else:
                    assert last_run < d, (term, kind, r)
        for r in rows(folder / OFSTED_MI, "cp1252"):
            for col in ("Inspection start date", "Publication date", "Inspection start date of latest OEIF graded "
                        "inspection", "Publication date of latest OEIF graded inspection",
                        "Date of latest ungraded inspection", "Ungraded inspection publication date"):
                if r[col] not in ("", "NULL"):
                    assert datetime.strptime(r[col], "%d/%m/%Y").date() <= gias_extract_date(t), (term, col, r["URN"])


def test_ofsted_mi_of_every_demo_term_has_a_known_year(demo):
    """The MI in the report-card layout dates only report cards in "Inspection start date": before they began,
    its year comes from the latest graded or ungraded inspection, not "unknown" on the front page."""
    feeds = pytest.importorskip("school_improvement.ingest.feeds")
    root, _ = demo
    for term in DEFAULT_TERMS:
        feed = feeds.read_feed(root / "999" / term / OFSTED_MI)
        assert feed.academic_year in (Term.parse(term).academic_year, Term.parse(term).previous().academic_year), term
