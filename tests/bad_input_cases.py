"""The bad-input corpus: a list of case records, each a damaged, ambiguous or awkward input and its exact outcome.

Used by tests/test_bad_input_corpus.py (one test per case) and tests/bad_input_table.py (`make corpus`, a table).
To add a case, append a `Case(...)` to CASES (or extend CASES from another module): give the file(s) it writes,
the outcome (ERROR, WARNING or ACCEPTED) and, for an error or a warning, the row, column, check and words the
first problem must carry. A `dangerous` case (one that once published a wrong edition) also gives `demo_edit`,
which damages a copy of the demo LA's landing folder the same way; it is then run through the pipeline's stages
and must publish nothing new (`pipeline="blocked"`), or publish with the warning in the general edition's
data_quality.csv (`pipeline="warned"`), or be understood (`pipeline="accepted"` with `pipeline_check`).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from demo_feeds.demo_generator import dfe_file_names
from school_improvement.terms import Term
from small_demo import demo_file

ERROR, WARNING, ACCEPTED, CRASH = "error", "warning", "accepted", "crash"
ANY_ROW = "any row"
TERM = "2025-26-autumn"
LA = "999"
DEMO_GIAS = dfe_file_names(LA, Term.parse(TERM))["gias"]  # the demo's extract, named with the day it was taken

ABS = "LA,ESTAB,URN,PERCTOT,PPERSABS10\r\n919,2000,117083,5.5,14\r\n919,2001,139545,5.4,11\r\n919,PRI,,5.4,13.4"
CENSUS = "URN,LA,ESTAB,NOR,PNUMFSMEVER,PSENELK,PSENELSE,PNUMEAL\n"
INTEL = "urn,flag,severity,detail,raised_by_team,raised_on\n"
MOD = "urn,term,final_category,reason,approved_by,approved_on\n"
ADV = "urn,criterion_id,area,met,adviser,visit_date,note\n"
LETTERS = "urn,letter,concern,issued_on,issued_by,term\n"
GIAS_HEADER = ('"URN","LA (code)","LA (name)","EstablishmentNumber","EstablishmentName","TypeOfEstablishment (name)",'
               '"EstablishmentTypeGroup (name)","EstablishmentStatus (name)","PhaseOfEducation (name)"\r\n')
GIAS_ROW = ('"100001","850","Hampshire","2001","Oakfield Primary","Community school",'
            '"Local authority maintained schools","Open","Primary"\r\n')
KS2_HEADER = ["RECTYPE", "LEA", "ESTAB", "URN", "SCHNAME", "TELIG", "PTRWM_EXP", "PTRWM_HIGH", "READPROG",
              "WRITPROG", "MATPROG", "PTRWM_EXP_24", "NOTE1", "NOTE2"]
KS2_HEADER_2023 = [h.replace("_24", "_23") for h in KS2_HEADER]  # a 2023-24 download's columns


@dataclass(frozen=True)
class Case:
    name: str
    write: Callable[[Path], Path]  # writes the input into a folder, returns the file to read
    outcome: str  # ERROR | WARNING | ACCEPTED
    row: int | None | str = None  # ANY_ROW: some row number (a real file's, not known in advance)
    column: str | None = None
    words: tuple[str, ...] = ()
    check: str | None = None  # the Problem.check expected on the first problem
    feed_check: Callable | None = None  # for ACCEPTED/WARNING: a predicate on the Feed (values read right)
    dangerous: bool = False
    demo_edit: Callable[[Path], None] | None = None  # damages a copy of the demo landing folder (term folder)
    pipeline: str = "blocked"  # blocked | warned | accepted
    pipeline_check: Callable | None = None  # for accepted: predicate on pipeline results (categorisation table)
    pipeline_words: tuple[str, ...] = ()  # for blocked: words the stopping error must carry (default: `words`)
    needs_real: str = ""  # a file under ../shared/dfe/samples the case reads (skipped when absent)
    source: str = "issue-12"


def text(name: str, content: str | bytes, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        p = folder / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return p
    return write


def workbook(name: str, rows: list[list], sheets: dict[str, list[list]] | None = None) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        import openpyxl

        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for title, rs in (sheets or {"Sheet1": rows}).items():
            ws = wb.create_sheet(title)
            for r in rs:
                ws.append(r)
        p = folder / name
        wb.save(p)
        return p
    return write


def ks2(rows: list[list], cut: int | None = None, header=KS2_HEADER) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    data = buf.getvalue().encode()
    return data[:cut] if cut else data


def ks2_school(urn: int, n: int = len(KS2_HEADER)) -> list:
    return ["1", "919", str(2000 + urn % 1000), str(urn), f"School {urn}", "30", "61%", "8%", "0.5", "-0.2", "1.1",
            "58%", "", ""][:n]


KS2_NATIONAL = ["4", "", "", "", "", "600000", "62%", "8%", "", "", "", "61%", "", ""]


# ------------------------------------------------------------------ demo-folder edits (dangerous cases)
def _rewrite(folder: Path, name: str, fn: Callable[[str], str]) -> None:
    p = folder / name if (folder / name).exists() else demo_file(folder, name)  # "999_abs": its name has the year
    p.write_text(fn(p.read_text(encoding="utf-8-sig")), encoding="utf-8")


def _cut_ks2(folder: Path) -> None:
    p = demo_file(folder, "999_ks2final")
    data = p.read_bytes()
    p.write_bytes(data[: int(len(data) * 0.7)])  # a download cut off part-way through a school's row


def _cut_ks2_at_a_row_boundary(folder: Path) -> None:
    p = demo_file(folder, "999_ks2final")
    lines = p.read_bytes().split(b"\r\n")
    p.write_bytes(b"\r\n".join(lines[:len(lines) // 2]))  # whole school rows only: no LA or national rows


def _absence_without_national_rows(folder: Path) -> None:
    """Cut at a row boundary before its NAT rows (the LA's own summary rows kept)."""
    _rewrite(folder, "999_abs",
             lambda t: "\r\n".join(ln for ln in t.splitlines() if not ln.startswith("NAT,")) + "\r\n")


def _ks2_as_fractions(folder: Path) -> None:
    """Every percentage written as its fraction (60% as 0.6): a re-save writing cells' values, not what they show."""
    import re

    _rewrite(folder, "999_ks2final", lambda t: re.sub(r"(?<![\w.])(\d+(?:\.\d+)?)%",
                                                     lambda m: f"{float(m[1]) / 100:g}", t))


def _another_las_ks2_beside_the_las_own(folder: Path) -> None:
    """An older year's KS2 download of another LA (919), saved into the landing beside the LA's own newest year."""
    (folder / "919_ks2final_2023-24.csv").write_bytes(ks2([ks2_school(117083), ks2_school(139545), KS2_NATIONAL],
                                                          header=KS2_HEADER_2023))


def _decimal_comma(folder: Path) -> None:
    def edit(t: str) -> str:
        lines = t.splitlines()
        cells = lines[1].split(",")
        cells[3] = '"4,1"'  # PERCTOT
        lines[1] = ",".join(cells)
        return "\r\n".join(lines) + "\r\n"
    _rewrite(folder, "999_abs", edit)


def _spring_2026(folder: Path) -> None:
    _rewrite(folder, "moderation.csv", lambda t: t.replace(",2025-26-autumn,", ",Autumn 2025,"))


def _dup_column(folder: Path) -> None:
    def edit(t: str) -> str:
        lines = t.splitlines()
        lines[0] += ",PERCTOT"
        lines[1:] = [ln + ",0" for ln in lines[1:]]
        return "\r\n".join(lines) + "\r\n"
    _rewrite(folder, "999_abs", edit)


def _empty_gias(folder: Path) -> None:
    p = demo_file(folder, "edubasealldata")  # Windows-1252, as GIAS publishes it: keep the header's bytes
    p.write_bytes(p.read_bytes().split(b"\n", 1)[0] + b"\n")


def _met_supp(folder: Path) -> None:
    def edit(t: str) -> str:
        lines = t.splitlines()
        cells = lines[1].split(",")
        cells[3] = "SUPP"
        lines[1] = ",".join(cells)
        return "\n".join(lines) + "\n"
    _rewrite(folder, "adviser_judgements.csv", edit)


def _formula_moderation(folder: Path) -> None:
    import openpyxl

    p = folder / "moderation.csv"
    rows = list(csv.reader(io.StringIO(p.read_text(encoding="utf-8-sig"))))
    p.unlink()
    wb = openpyxl.Workbook()
    ws = wb.active
    for i, r in enumerate(rows):
        ws.append([int(c) if j == 0 and i and c.isdigit() else c for j, c in enumerate(r)])
    ws["A2"] = "=990000+1"  # a URN computed by a formula; openpyxl saves no cached value
    wb.save(folder / "moderation.xlsx")


def _legit_ragged_ks2(folder: Path) -> None:
    """Like the real 2024-25 download: every school row stops 3 fields short of the header."""
    p = demo_file(folder, "999_ks2final")
    t = p.read_text(encoding="utf-8-sig")
    lines = t.splitlines()
    lines[0] += ",EXTRA1,EXTRA2,EXTRA3"
    p.write_text("\ufeff" + "\r\n".join(lines) + "\r\n", encoding="utf-8")


def _cut(path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def _truncated_workbook(folder: Path) -> Path:
    p = workbook("moderation.xlsx", [["urn", "term", "final_category", "reason", "approved_by", "approved_on"],
                                     [100001, "2025-26-autumn", "high", "x", "y", "2025-10-01"]])(folder)
    p.write_bytes(p.read_bytes()[:-200])  # an upload cut short: the zip's directory is gone
    return p


def _zip_not_workbook(folder: Path) -> Path:
    import zipfile

    p = folder / "moderation.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    return p


def _moderation_applied(result: dict) -> bool:
    table = result["categorisation"]
    row = table[table["urn"] == result["moderated_urn"]]
    return len(row) == 1 and bool(str(row.iloc[0]["override_reason"] or "").strip())


# ------------------------------------------------------------------ the cases
_big = "x" * (1 << 20)
_bom_bad = b"\xef\xbb\xbf" + ABS.encode() + b"\r\n919,2002,117084,3.9,7.3 caf\xe9"

CASES: list[Case] = [
    # --- encodings and file types
    Case("wrong_encoding", text("abs.csv", ABS.encode() + b"\r\n919,2002,117084,3.9,7.3 caf\xe9"), ERROR, 5,
         "PPERSABS10", ("cannot decode", "row 5", "0xe9"), "encoding"),
    Case("bom_does_not_shift_offset", text("abs.csv", _bom_bad), ERROR, 5, "PPERSABS10",
         ("0xe9", f"byte offset {_bom_bad.index(bytes([0xe9]))}"), "encoding"),
    Case("gias_not_even_cp1252", text("g.csv", b'"URN","LA (code)","EstablishmentName","TypeOfEstablishment (name)"\r\n'
                                      b'"100001","850","Bad \x81 name","Community school"'), ERROR, 2,
         "EstablishmentName", ("cannot decode", "Windows-1252"), "encoding"),
    Case("gias_cp1252_accepted", text("g.csv", GIAS_HEADER + GIAS_ROW.replace("Oakfield", "Caf\xe9 Oakfield"),
                                      "cp1252"), ACCEPTED,
         feed_check=lambda f: f.schools.iloc[0]["school_name"] == "Caf\xe9 Oakfield Primary"),
    Case("utf16_file", text("abs.csv", ABS, "utf-16"), ERROR, None, None, ("UTF-16", "CSV UTF-8"), "encoding"),
    Case("xlsx_renamed_csv", workbook("moderation.csv", [["urn", "term"], [100001, "2025-26-autumn"]]), ERROR, None,
         None, ("Excel workbook", "rename it to .xlsx"), "format"),
    Case("xls_renamed_csv", text("ks2.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500), ERROR, None, None,
         ("old Excel workbook (.xls)",), "format"),
    Case("pdf_renamed_csv", text("abs.csv", b"%PDF-1.7\n%binary"), ERROR, None, None, ("PDF",), "format"),
    Case("csv_renamed_xlsx", text("moderation.xlsx", MOD + "100001,2025-26-autumn,high,x,y,2025-10-01\n"), ERROR,
         None, None, ("cannot open as an Excel workbook",), "parse"),
    Case("other_extension", text("abs.txt", ABS), ERROR, None, None, ("only .csv and .xlsx",), "format"),
    Case("nul_bytes", text("abs.csv", ABS.replace("5.5", "5\x005")), ERROR, 2, "PERCTOT", ("is not a number",),
         "numeric"),
    Case("semicolon_delimited", text("abs.csv", ABS.replace(",", ";")), ERROR, 1, None,
         ("separated by ';', not ','", "looks like the absence feed", "CSV UTF-8 (Comma delimited)"), "delimiter"),
    Case("classic_mac_line_endings_accepted", text("abs.csv", ABS.replace("\r\n", "\r")), ACCEPTED,
         feed_check=lambda f: list(f.schools.urn) == [117083, 139545] and list(f.schools._row) == [2, 3],
         source="trial-s31"),
    Case("bom_and_crlf_accepted", text("abs.csv", "\ufeff" + ABS + "\r\n"), ACCEPTED,
         feed_check=lambda f: list(f.schools.urn) == [117083, 139545]),
    # --- empty and near-empty files
    Case("empty_file", text("empty.csv", ""), ERROR, None, None, ("empty",), "empty"),
    Case("blank_lines_only", text("blank.csv", "\r\n \r\n"), ERROR, None, None, ("empty",), "empty"),
    Case("empty_gias", text("edubasealldata.csv", GIAS_HEADER), ERROR, None, None, ("the GIAS file has no schools",),
         "empty", dangerous=True, demo_edit=_empty_gias,
         pipeline_words=(DEMO_GIAS, "the GIAS file has no schools")),
    Case("ks2_only_national_rows", text("ks2.csv", ks2([KS2_NATIONAL])), ERROR, None, None,
         ("the KS2 file has no schools", "comparator rows only"), "empty"),
    Case("absence_header_only", text("abs.csv", "LA,ESTAB,URN,PERCTOT,PPERSABS10\r\n"), ERROR, None, None,
         ("the absence file has no schools",), "empty"),
    Case("moderation_header_only_accepted", text("moderation.csv", MOD), ACCEPTED,
         feed_check=lambda f: f.kind == "moderation" and f.schools.empty),
    Case("xlsx_empty_workbook", workbook("m.xlsx", [], {"Sheet1": []}), ERROR, None, None, ("workbook is empty",),
         "empty"),
    # --- truncation and shape
    Case("truncated_quote", text("abs.csv", ABS + '\r\n919,2011,"117087,5.1'), ERROR, 5, None,
         ("truncated", "never closed"), "truncated"),
    Case("truncated_short_last_row", text("census.csv", CENSUS + "110593,873,1001,85,10.5,29.4,0,23.5\n110594,873,1002,128"),
         ERROR, 3, None, ("4 fields but the header has 8", "truncated"), "truncated"),
    Case("ks2_cut_mid_row", text("ks2.csv", ks2([ks2_school(100000 + i) for i in range(1, 6)]
                                               + [ks2_school(100006, 7)])), ERROR, 7, None,
         ("last row has 7 fields", "truncated", "download it again"), "truncated", dangerous=True,
         demo_edit=_cut_ks2, pipeline_words=("999_ks2final_", "the file looks truncated")),
    Case("ks2_cut_at_a_row_boundary", text("ks2.csv", ks2([ks2_school(100000 + i) for i in range(1, 6)])), WARNING,
         6, "RECTYPE", ("no LA or national summary rows", "may have been cut off"), "no_summary_rows", dangerous=True,
         demo_edit=_cut_ks2_at_a_row_boundary, pipeline_words=("999_ks2final_2024-25.csv", "no national summary rows",
                                                              "download it again"), source="trial-s31"),
    Case("absence_cut_before_its_national_rows", text("abs.csv", ABS), ACCEPTED,
         feed_check=lambda f: len(f.schools) == 2 and list(f.comparators.level) == ["la"], dangerous=True,
         demo_edit=_absence_without_national_rows,
         pipeline_words=("999_abs_2024-25.csv", "no national summary rows (NAT in column LA)"), source="trial-s31"),
    Case("ks2_percentages_as_fractions", text("ks2.csv", ks2([[*ks2_school(100000 + i)[:6], "0.61", "0.08", "0.5",
                                                             "-0.2", "1.1", "0.58", "", ""] for i in range(1, 8)]
                                                           + [[*KS2_NATIONAL[:6], "0.62", "0.08", "", "", "", "0.61",
                                                               "", ""]])),
         ERROR, 2, "PTRWM_EXP", ("percentages is between 0 and 1", "'0.61'", "saved with percentages as fractions"),
         "fractions", dangerous=True, demo_edit=_ks2_as_fractions,
         pipeline_words=("999_ks2final_2024-25.csv", "saved with percentages as fractions"), source="trial-s31"),
    Case("another_las_ks2_beside_the_las_own", text("919_ks2final_2023-24.csv", ks2([ks2_school(117083), KS2_NATIONAL],
                                                                                  header=KS2_HEADER_2023)),
         ACCEPTED, feed_check=lambda f: list(f.schools.urn) == [117083] and len(f.comparators) == 1, dangerous=True,
         demo_edit=_another_las_ks2_beside_the_las_own,
         pipeline_words=("919_ks2final_2023-24.csv", "they are LA 919's, so it is another LA's download"),
         source="trial-s31"),
    Case("ks2_cut_mid_row_after_legit_short_rows",
         text("ks2.csv", ks2([ks2_school(100001, 12), ks2_school(100002, 12), ks2_school(100003, 5)])), ERROR, 4,
         None, ("last row has 5 fields", "truncated"), "truncated"),
    Case("ks2_legit_ragged_rows", text("ks2.csv", ks2([ks2_school(100001, 12), ks2_school(100002, 12),
                                                      KS2_NATIONAL[:12]])), WARNING, 2, None,
         ("3 row(s) have fewer fields (12) than the header (14)",), "ragged_rows",
         feed_check=lambda f: list(f.schools.urn) == [100001, 100002] and len(f.comparators) == 1,
         dangerous=True, demo_edit=_legit_ragged_ks2, pipeline="warned"),
    Case("real_919_ks2_ragged_sample", lambda folder: folder / "919_ks2final_2024-25_sample.csv", WARNING, 2, None,
         ("fewer fields (305) than the header (311)",), "ragged_rows",
         feed_check=lambda f: len(f.schools) == 2 and f.academic_year == "2024-25",
         needs_real="919_ks2final_2024-25_sample.csv"),
    Case("real_936_ks2_accepted_with_ragged_warning", lambda folder: folder / "936_ks2_2018-19.csv", WARNING, ANY_ROW,
         None, ("fewer fields",), "ragged_rows", feed_check=lambda f: len(f.schools) > 200,
         needs_real="936_ks2_2018-19.csv"),
    Case("real_936_ks2_cut_mid_row", lambda folder: _cut(folder / "936_ks2_2018-19.csv", 0.7), ERROR, ANY_ROW, None,
         ("the file looks truncated",), "truncated", needs_real="936_ks2_2018-19.csv"),
    Case("real_936_ks2_cut_in_the_national_rows", lambda folder: _cut(folder / "936_ks2_2018-19.csv", 0.9995), ERROR,
         ANY_ROW, None, ("the file looks truncated",), "truncated", needs_real="936_ks2_2018-19.csv"),
    Case("too_many_fields", text("abs.csv", ABS + "\r\n919,2003,136857,5.1,11.4,99\r\n"), ERROR, 5, None,
         ("6 fields but the header has 5",), "shape"),
    Case("one_mb_cell", text("abs.csv", ABS + f"\r\n919,2003,136857,5.1,{_big}\r\n"), ERROR, 5, None,
         ("more than 131,072 characters", "damaged"), "cell_size"),
    Case("duplicated_column", text("abs.csv", "LA,ESTAB,URN,PERCTOT,PPERSABS10,PERCTOT\r\n919,2000,117083,5.5,14,9.9\r\n"),
         ERROR, 1, "PERCTOT", ("appears 2 times", "columns 4, 6"), "duplicate_column", dangerous=True,
         demo_edit=_dup_column),
    Case("duplicated_unused_column_accepted", text("abs.csv", "LA,ESTAB,URN,PERCTOT,PPERSABS10,NOTE,NOTE\r\n"
                                                   "919,2000,117083,5.5,14,a,b\r\n"), ACCEPTED,
         feed_check=lambda f: f.schools.iloc[0]["overall_absence"] == 5.5),
    Case("duplicated_urn_column_la_held", text("m.csv", "urn,urn,term,final_category,reason,approved_by,approved_on\n"
                                               "100001,100002,2025-26-autumn,high,x,y,2025-10-01\n"), ERROR, 1, "urn",
         ("appears 2 times",), "duplicate_column"),
    # --- headers
    Case("missing_required_column", text("abs.csv", "LA,ESTAB,PERCTOT,PPERSABS10\n919,2000,5.5,14\n"), ERROR, 1, "URN",
         ("required column URN is missing", "absence"), "required_column"),
    Case("unknown_header", text("mystery.csv", "foo,bar\n1,2\n"), ERROR, 1, None,
         ("cannot tell what this file is", "PERCTOT", "RECTYPE"), "unknown_header"),
    Case("la_held_missing_column", text("moderation.csv", "urn,term,final_category,reason,approved_on\n"
                                        "100001,2025-26-autumn,high,x,2025-10-01\n"), ERROR, 1, "approved_by",
         ("looks like the moderation feed", "approved_by are missing"), "required_column"),
    Case("adviser_missing_two_columns", text("adv.csv", "urn,criterion_id,area,met,visit_date\n"), ERROR, 1,
         "adviser, note", ("looks like the adviser_judgements feed", "adviser, note"), "required_column"),
    Case("headers_spaced_and_lower_case", text("abs.csv", " la , estab ,urn ,perctot,ppersabs10\n919,2000,117083,5.5,14\n"),
         ACCEPTED, feed_check=lambda f: f.schools.iloc[0]["persistent_absence"] == 14.0),
    # --- numbers
    Case("text_in_numeric", text("abs.csv", ABS.replace("5.4,11", "abc,11")), ERROR, 3, "PERCTOT",
         ("'abc' is not a number",), "numeric"),
    Case("decimal_comma", text("abs.csv", ABS.replace("5.4,11", '"4,1",11')), ERROR, 3, "PERCTOT",
         ("'4,1'", "decimal comma", "4.1"), "numeric", dangerous=True, demo_edit=_decimal_comma),
    Case("decimal_comma_pct_sign", text("census.csv", CENSUS + '110593,873,1001,85,"12,5%",29.4,0,23.5\n'), ERROR, 2,
         "PNUMFSMEVER", ("decimal comma",), "numeric"),
    Case("thousands_separator_accepted", text("census.csv", CENSUS + '110593,873,1001,"1,234",10.5,29.4,0,23.5\n'),
         ACCEPTED, feed_check=lambda f: f.schools.iloc[0]["nor"] == 1234.0),
    Case("percent_sign_accepted", text("abs.csv", ABS.replace("5.5,14", "5.5%,14%")), ACCEPTED,
         feed_check=lambda f: f.schools.iloc[0]["overall_absence"] == 5.5),
    Case("suppressed_figure_accepted", text("abs.csv", ABS.replace("5.5,14", "SUPP,NE")), ACCEPTED,
         feed_check=lambda f: set(f.statuses.code) >= {"SUPP", "NE"} and f.schools.overall_absence.isna().iloc[0]),
    # --- URNs and keys
    Case("malformed_urn", text("abs.csv", ABS.replace("139545", "13954")), ERROR, 3, "URN",
         ("'13954' is malformed", "6 digits"), "urn_format"),
    Case("urn_as_excel_float", text("abs.csv", ABS.replace("139545", "139545.0")), ERROR, 3, "URN",
         ("'139545.0' is malformed",), "urn_format"),
    Case("urn_padded_with_spaces_accepted", text("abs.csv", ABS.replace("139545", " 139545 ")), ACCEPTED,
         feed_check=lambda f: 139545 in set(f.schools.urn)),
    Case("duplicate_urn", text("abs.csv", ABS + "\r\n919,2009,117083,4.5,7.9\r\n"), ERROR, 5, "URN",
         ("duplicate urn 117083", "rows 2, 5"), "unique"),
    Case("duplicate_moderation_same_term", text("moderation.csv", MOD + "100001,2025-26-autumn,high,x,y,2025-10-01\n"
                                                "100001,Autumn 2025,low,z,y,2025-10-02\n"), ERROR, 3, "urn",
         ("duplicate urn 100001 / term 2025-26-autumn",), "unique"),
    # --- LA-held codes
    Case("unknown_flag", text("intel.csv", INTEL + "110593,safeguarding,high,DSL left,Safeguarding,2025-01-10\n"
                              "110594,weather,low,rain,Estates,2025-01-11\n"), ERROR, 3, "flag",
         ("'weather' is not a known flag", "safeguarding"), "known_codes"),
    Case("unknown_severity", text("intel.csv", INTEL + "110593,finance,urgent,deficit,Finance,10/01/2025\n"), ERROR, 2,
         "severity", ("'urgent' is not a known severity", "low, medium, high"), "known_codes"),
    Case("severity_supp", text("intel.csv", INTEL + "110593,finance,SUPP,deficit,Finance,10/01/2025\n"), ERROR, 2,
         "severity", ("'SUPP' is not a known severity",), "known_codes"),
    Case("moderation_reason_blank", text("mod.csv", MOD + "110593,2025-26-spring,high, ,A Person,2025-03-01\n"), ERROR,
         2, "reason", ("reason must not be blank",), "not_blank"),
    Case("bad_met_value", text("adv.csv", ADV + "110593,LM1,leadership_management,maybe,J Smith,2025-02-03,n/a\n"),
         ERROR, 2, "met", ("'maybe' is not yes/no",), "known_codes"),
    Case("met_supp", text("adv.csv", ADV + "110593,LM1,leadership_management,SUPP,J Smith,2025-02-03,n/a\n"), ERROR,
         2, "met", ("'SUPP' is not yes/no",), "known_codes", dangerous=True, demo_edit=_met_supp),
    Case("met_blank", text("adv.csv", ADV + "110593,LM1,leadership_management,,J Smith,2025-02-03,n/a\n"), ERROR, 2,
         "met", ("met must not be blank",), "not_blank"),
    Case("bad_date", text("intel.csv", INTEL + "110593,finance,low,deficit,Finance,31/31/2025\n"), ERROR, 2,
         "raised_on", ("'31/31/2025' is not a date",), "date"),
    Case("us_date", text("intel.csv", INTEL + "110593,finance,low,deficit,Finance,12/31/2025\n"), ERROR, 2,
         "raised_on", ("'12/31/2025' is not a date",), "date"),
    Case("formula_text_in_note_accepted", text("adv.csv", ADV + "110593,LM1,leadership_management,yes,J Smith,"
                                               "2025-02-03,\"=HYPERLINK(\"\"http://x\"\")\"\n"), ACCEPTED,
         feed_check=lambda f: f.schools.iloc[0]["note"].startswith("=HYPERLINK")),
    Case("bidi_in_school_name_accepted", text("g.csv", GIAS_HEADER + GIAS_ROW.replace("Oakfield", "Oak\u202efield")),
         ACCEPTED, feed_check=lambda f: "\u202e" in f.schools.iloc[0]["school_name"]),
    # --- terms
    Case("moderation_term_spring_2026", text("moderation.csv", MOD + "100001,Spring 2026,high,x,y,2026-01-10\n"),
         ACCEPTED, feed_check=lambda f: f.schools.iloc[0]["term"] == "2025-26-spring", dangerous=True,
         demo_edit=_spring_2026, pipeline="accepted", pipeline_check=_moderation_applied),
    Case("moderation_term_autumn_2025", text("moderation.csv", MOD + "100001,autumn 2025,high,x,y,2025-10-10\n"),
         ACCEPTED, feed_check=lambda f: f.schools.iloc[0]["term"] == "2025-26-autumn"),
    Case("moderation_term_slash_years", text("moderation.csv", MOD + "100001,2025/26 Summer,high,x,y,2026-06-10\n"),
         ACCEPTED, feed_check=lambda f: f.schools.iloc[0]["term"] == "2025-26-summer"),
    Case("moderation_term_unreadable", text("moderation.csv", MOD + "100001,next term,high,x,y,2026-01-10\n"), ERROR,
         2, "term", ("'next term' is not a term", "Spring 2026"), "term"),
    Case("moderation_term_years_do_not_follow", text("moderation.csv", MOD + "100001,2025-27-spring,high,x,y,2026-01-10\n"),
         ERROR, 2, "term", ("is not a term",), "term"),
    Case("moderation_term_calendar_year_only", text("moderation.csv", MOD + "100001,2025-spring,high,x,y,2026-01-10\n"),
         ERROR, 2, "term", ("'2025-spring' is not a term",), "term"),
    Case("letters_log_term_spring_2026", text("letters_log.csv", LETTERS + "100001,warning_notice,x,2026-02-01,y,"
                                              "Spring 2026\n"), ACCEPTED,
         feed_check=lambda f: f.schools.iloc[0]["term"] == "2025-26-spring"),
    # --- workbooks
    Case("xlsx_extra_sheet", workbook("moderation.xlsx", [], {
        "Moderation": [["urn", "term", "final_category", "reason", "approved_by", "approved_on"],
                       [110593, "2025-26-spring", "High", "Falling outcomes", "A Person", "2025-03-01"]],
        "Notes": [["scratch"]], "Empty": []}), ERROR, None, None,
        ("more than one sheet holds data", "'Moderation'", "'Notes'"), "sheets"),
    Case("xlsx_bad_category", workbook("moderation.xlsx", [["urn", "term", "final_category", "reason", "approved_by",
                                                            "approved_on"],
                                                           [110594, "2025-26-spring", "extreme", "x", "A", "2025-03-01"]]),
         ERROR, 2, "final_category", ("'extreme'",), "known_codes"),
    Case("xlsx_formula_without_value", workbook("moderation.xlsx", [
        ["urn", "term", "final_category", "reason", "approved_by", "approved_on"],
        ["=100000+1", "2025-26-autumn", "high", "x", "y", "2025-10-01"]]), ERROR, 2, "urn",
        ("formula =100000+1", "no saved value"), "formula", dangerous=True, demo_edit=_formula_moderation,
        pipeline_words=("moderation.xlsx, row 2, column 'urn'", "formula =990000+1", "no saved value")),
    Case("xlsx_truncated", lambda folder: _truncated_workbook(folder), ERROR, None, None,
         ("cannot open as an Excel workbook",), "parse"),
    Case("xlsx_zip_not_a_workbook", lambda folder: _zip_not_workbook(folder), ERROR, None, None,
         ("cannot open as an Excel workbook",), "parse"),
    Case("xlsx_number_as_text_urn_accepted", workbook("moderation.xlsx", [
        ["urn", "term", "final_category", "reason", "approved_by", "approved_on"],
        ["100001", "Spring 2026", "high", "x", "y", "2026-01-10"]]), ACCEPTED,
        feed_check=lambda f: f.schools.iloc[0]["urn"] == 100001 and f.schools.iloc[0]["term"] == "2025-26-spring"),
]


# ------------------------------------------------------------------ running a case
@dataclass
class Result:
    outcome: str
    problem: object = None  # the first Problem (error or warning)
    feed: object = None
    detail: str = ""

    def mismatches(self, case: Case) -> list[str]:
        """What differs from the case's expectation ([] when the case behaves as recorded)."""
        out = []
        if self.outcome != case.outcome:
            out.append(f"outcome {self.outcome} ({self.detail or self.problem}), expected {case.outcome}")
            return out
        if case.outcome in (ERROR, WARNING):
            p = self.problem
            if (not isinstance(p.row, int)) if case.row == ANY_ROW else p.row != case.row:
                out.append(f"row {p.row}, expected {case.row}: {p}")
            if p.column != case.column:
                out.append(f"column {p.column!r}, expected {case.column!r}: {p}")
            if case.check and p.check != case.check:
                out.append(f"check {p.check!r}, expected {case.check!r}: {p}")
            if not p.file or p.file not in str(p):
                out.append(f"the message does not name the file: {p}")
            out += [f"{w!r} not in {str(p)!r}" for w in case.words if w not in str(p)]
        if case.feed_check and self.feed is not None and not case.feed_check(self.feed):
            out.append("the feed was read, but not as the case expects")
        return out


def run_case(case: Case, folder: Path, real_samples: Path | None = None) -> Result:
    from school_improvement.errors import FeedError
    from school_improvement.ingest.feeds import read_feed

    folder.mkdir(parents=True, exist_ok=True)
    if case.needs_real:
        if real_samples is None or not (real_samples / case.needs_real).is_file():
            return Result("skipped", detail=f"needs {case.needs_real}")
        shutil.copy(real_samples / case.needs_real, folder / case.needs_real)  # a temporary copy, outside the repo
    path = case.write(folder)
    try:
        feed = read_feed(path)
    except FeedError as err:
        return Result(ERROR, err.problems[0])
    except Exception:  # noqa: BLE001 -- a crash is what the corpus counts
        return Result(CRASH, detail=traceback.format_exc(limit=3))
    if feed.warnings:
        return Result(WARNING, feed.warnings[0], feed)
    return Result(ACCEPTED, None, feed)


# ------------------------------------------------------------------ running a dangerous case through the stages
@dataclass
class PipelineResult:
    stopped_at: str | None  # the stage that raised, or None
    error: str
    published: bool  # something new appeared on the shared drive
    warning_in_edition: bool
    categorisation: object = None
    moderated_urn: int | None = None
    crash: bool = False

    def wrong_edition(self, case: Case) -> bool:
        if case.pipeline == "blocked":
            return self.published
        if case.pipeline == "warned":
            return self.published and not self.warning_in_edition
        return False


STAGES = ("extract", "validate", "assess_evidence", "categorise", "flag_letters", "build_reports", "publish")
CLEAR_ERRORS = ("FeedError", "ValidationFailed", "PublishConflict", "NotTheShare")


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run_pipeline_case(case: Case, demo_landing: Path, tmp: Path) -> PipelineResult:
    """Damage a copy of the demo landing folder and run the stages in order, as the DAG would, onto a shared drive
    that already holds an edition. Stops at the first stage that raises."""
    import pandas as pd

    from school_improvement import pipeline
    from school_improvement.publish import edition as publish

    landing = tmp / "landing"
    term_folder = landing / LA / TERM
    shutil.copytree(demo_landing / LA / TERM, term_folder)
    moderated = None
    if (term_folder / "moderation.csv").exists():
        rows = list(csv.DictReader(io.StringIO((term_folder / "moderation.csv").read_text(encoding="utf-8-sig"))))
        moderated = next((int(r["urn"]) for r in rows if r["term"] == TERM), None)
    case.demo_edit(term_folder)
    drive = tmp / "drive"
    publish.mark_as_share(drive)
    earlier = tmp / "earlier"
    (earlier / "general").mkdir(parents=True)
    (earlier / "general" / "categorisation.csv").write_text("urn,category\r\n1,low\r\n")
    (earlier / "inputs.json").write_text(json.dumps({"term": TERM}))
    publish.publish_edition(earlier, drive, LA, TERM)  # the edition readers have before this run
    before = _snapshot(drive)
    cfg = pipeline.RunConfig(la_code=LA, term=TERM, landing=str(landing), work_dir=str(tmp / "work"),
                             history_url=f"sqlite:///{tmp / 'history.sqlite'}", run_id=f"corpus-{case.name}")
    stages = STAGES if case.pipeline != "accepted" else STAGES[:4]  # through categorise
    stopped, error, crash = None, "", False
    for stage in stages:
        try:
            getattr(pipeline, stage)(cfg, drive) if stage == "publish" else getattr(pipeline, stage)(cfg)
        except Exception as exc:  # noqa: BLE001
            stopped, error = stage, f"{type(exc).__name__}: {exc}"
            crash = type(exc).__name__ not in CLEAR_ERRORS
            break
    after = _snapshot(drive)
    published = after != before
    warned = False
    if published:
        current = publish.read_current(drive, LA, TERM)
        dq = drive / LA / "2025-26" / "autumn" / current["edition"] / "general" / "data_quality.csv"
        if dq.exists() and case.check:
            warned = case.check in set(pd.read_csv(dq, encoding="utf-8-sig", dtype=str, keep_default_na=False)["check"])
    table = None
    if (cfg.run_dir / "categorisation" / "categorisation.json").exists():  # the categorise stage's artefacts
        table = pipeline._load_categorisation(cfg)["table"]
    return PipelineResult(stopped, error, published, warned, table, moderated, crash)
