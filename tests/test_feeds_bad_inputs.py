"""A corpus of broken inputs, generated here, each giving a precise file/row/column message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from school_improvement.errors import FeedError
from school_improvement.ingest.feeds import INTELLIGENCE_FLAGS, read_feed

REPO = Path(__file__).resolve().parents[1]

ABS_OK = "LA,ESTAB,URN,PERCTOT,PPERSABS10\r\n919,2000,117083,5.5,14\r\n919,2001,139545,5.4,11\r\n919,PRI,,5.4,13.4"
INTEL_HEADER = "urn,flag,severity,detail,raised_by_team,raised_on\n"


def write(tmp_path, name, content) -> Path:
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return p


def problems(path):
    with pytest.raises(FeedError) as err:
        read_feed(path)
    return err.value.problems


# Each case: file name, content, expected (row, column, words in the message).
CASES = {
    "wrong_encoding": ("abs.csv", ABS_OK.replace("919,2001", "919,2001").encode() + b"\r\n919,2002,117084,3.9,7.3 caf\xe9",
                       (5, "PPERSABS10", ["cannot decode", "row 5", "0xe9"])),
    "gias_not_even_cp1252": ("g.csv", b'"URN","LA (code)","EstablishmentName","TypeOfEstablishment (name)"\r\n"100001","850","Bad \x81 name","Community school"',
                             (2, "EstablishmentName", ["cannot decode", "Windows-1252"])),
    "missing_required_column": ("abs.csv", "LA,ESTAB,PERCTOT,PPERSABS10\n919,2000,5.5,14\n",
                                (1, "URN", ["required column URN is missing", "absence"])),
    "duplicate_urn": ("abs.csv", ABS_OK + "\r\n919,2009,117083,4.5,7.9\r\n", (5, "URN", ["duplicate urn 117083", "rows 2, 5"])),
    "empty_file": ("empty.csv", "", (None, None, ["empty"])),
    "blank_lines_only": ("blank.csv", "\r\n \r\n", (None, None, ["empty"])),
    "truncated_quote": ("abs.csv", ABS_OK + '\r\n919,2011,"117087,5.1', (5, None, ["truncated", "never closed"])),
    "truncated_short_last_row": ("census.csv", "URN,LA,ESTAB,NOR,PNUMFSMEVER,PSENELK,PSENELSE,PNUMEAL\n"
                                 "110593,873,1001,85,10.5,29.4,0,23.5\n110594,873,1002,128",
                                 (3, None, ["4 fields but the header has 8", "truncated"])),
    "text_in_numeric": ("abs.csv", ABS_OK.replace("5.4,11", "abc,11"), (3, "PERCTOT", ["'abc' is not a number"])),
    "malformed_urn": ("abs.csv", ABS_OK.replace("139545", "13954"), (3, "URN", ["'13954' is malformed", "6 digits"])),
    "unknown_flag": ("intel.csv", INTEL_HEADER + "110593,safeguarding,high,DSL left,Safeguarding,2025-01-10\n"
                     "110594,weather,low,rain,Estates,2025-01-11\n",
                     (3, "flag", ["'weather' is not a known flag", "safeguarding"])),
    "unknown_severity": ("intel.csv", INTEL_HEADER + "110593,finance,urgent,deficit,Finance,10/01/2025\n",
                         (2, "severity", ["'urgent' is not a known severity", "low, medium, high"])),
    "moderation_reason_blank": ("mod.csv", "urn,term,final_category,reason,approved_by,approved_on\n"
                                "110593,2025-26-spring,high, ,A Person,2025-03-01\n",
                                (2, "reason", ["reason must not be blank"])),
    "bad_met_value": ("adv.csv", "urn,criterion_id,area,met,adviser,visit_date,note\n"
                      "110593,LM1,leadership_management,maybe,J Smith,2025-02-03,n/a\n",
                      (2, "met", ["'maybe' is not yes/no"])),
    "bad_date": ("intel.csv", INTEL_HEADER + "110593,finance,low,deficit,Finance,31/31/2025\n",
                 (2, "raised_on", ["'31/31/2025' is not a date"])),
    "unknown_header": ("mystery.csv", "foo,bar\n1,2\n", (1, None, ["cannot tell what this file is", "PERCTOT", "RECTYPE"])),
    "too_many_fields": ("abs.csv", ABS_OK + "\r\n919,2003,136857,5.1,11.4,99\r\n", (5, None, ["6 fields but the header has 5"])),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gives_precise_problem(tmp_path, case):
    name, content, (row, column, words) = CASES[case]
    found = problems(write(tmp_path, name, content))
    p = found[0]
    assert p.file == name
    assert p.row == row, str(p)
    assert p.column == column, str(p)
    for w in words:
        assert w in str(p), (w, str(p))
    assert p.severity == "critical"


def test_every_bad_cell_reported_not_just_the_first(tmp_path):
    content = ABS_OK.replace("5.4,11", "abc,11").replace("5.5,14", "5.5,n/a")
    found = problems(write(tmp_path, "abs.csv", content))
    assert [(p.row, p.column) for p in found] == [(2, "PPERSABS10"), (3, "PERCTOT")]


def test_intelligence_flags_constant_covers_feed(tmp_path):
    rows = "".join(f"1105{i:02d},{f},medium,x,Team,2025-01-10\n" for i, f in enumerate(INTELLIGENCE_FLAGS))
    feed = read_feed(write(tmp_path, "intel.csv", INTEL_HEADER + rows))
    assert list(feed.schools.flag) == list(INTELLIGENCE_FLAGS)
    assert feed.kind == "la_intelligence"


def _workbook(path, sheets: dict[str, list[list]]):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_xlsx_with_extra_sheet_names_the_sheets(tmp_path):
    good = [["urn", "term", "final_category", "reason", "approved_by", "approved_on"],
            [110593, "2025-26-spring", "High", "Falling outcomes", "A Person", "2025-03-01"]]
    path = _workbook(tmp_path / "moderation.xlsx", {"Moderation": good, "Notes": [["scratch"]], "Empty": []})
    p = problems(path)[0]
    assert "more than one sheet holds data" in p.message and "'Moderation'" in p.message and "'Notes'" in p.message
    assert "'Empty'" not in p.message


def test_xlsx_single_sheet_reads_with_sheet_rows(tmp_path):
    import datetime as dt

    rows = [["urn", "term", "final_category", "reason", "approved_by", "approved_on"],
            [110593, "2025-26-spring", "High", "Falling outcomes", "A Person", dt.datetime(2025, 3, 1)],
            [110594, "2025-26-spring", "extreme", "x", "A Person", dt.datetime(2025, 3, 1)]]
    path = _workbook(tmp_path / "moderation.xlsx", {"Sheet1": rows})
    p = problems(path)[0]
    assert (p.row, p.column) == (3, "final_category") and "'extreme'" in p.message
    del rows[2]
    feed = read_feed(_workbook(tmp_path / "ok.xlsx", {"Sheet1": rows}))
    s = feed.schools.iloc[0]
    assert (s.urn, s.final_category, str(s.approved_on), s._row) == (110593, "high", "2025-03-01", 2)


def run_cli(*files):
    env = {**os.environ, "PYTHONPATH": "include"}
    return subprocess.run([sys.executable, "-m", "school_improvement", "check", *map(str, files)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # a new interpreter importing Great Expectations
def test_check_cli_reports_same_problems_and_exits_1(tmp_path):
    bad = {}
    for case in ("text_in_numeric", "duplicate_urn", "unknown_flag", "truncated_quote", "wrong_encoding"):
        (tmp_path / case).mkdir()  # several cases share a file name
        bad[case] = write(tmp_path / case, *CASES[case][:2])
    ok = write(tmp_path, "ok_abs.csv", ABS_OK)
    res = run_cli(ok, *bad.values())
    assert res.returncode == 1, res.stdout + res.stderr
    out = res.stdout
    assert "kind absence; 3 rows (2 schools, 1 comparators)" in out
    for case, path in bad.items():
        expected = str(problems(path)[0])
        assert expected in out, (case, expected, out)
    assert "RESULT: critical problems found" in out


@pytest.mark.slow  # a new interpreter importing Great Expectations
def test_check_cli_exits_0_for_clean_file(tmp_path):
    # Whole, as a download ends: with its national row (without one, `check` says what the run would: cut off).
    res = run_cli(write(tmp_path, "abs.csv", ABS_OK + "\r\nNAT,PRI,,5.5,14.6"), "--no-gx")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "kind absence" in res.stdout and "academic year not stated" in res.stdout
