"""A real LA's landing folder, built in a temporary folder from the real Surrey (LA 936) downloads.

Surrey's KS2 (three years), GIAS rows (with Hampshire's, as in the real extract), absence, census and KS4,
read from ../shared/dfe and never copied into the repository. The absence, census and KS4 files are made
whole-England shaped: the real rows are written out again for other LAs (LA code changed, URNs that GIAS does
not list), so a run must set other LAs aside. Ofsted MI and the LA-held feeds are not there, as in a first run.
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date, datetime
from pathlib import Path

LA = "936"
KS2 = ["936_ks2_2016-17.csv", "936_ks2_2017-18.csv", "936_ks2_2018-19.csv"]
GIAS = "gias_850_936_extract_2022-04-20.csv"
LINKS = "gias_links_2024-01-29.csv"
ENGLAND_SHAPED = {  # file -> (LA column, URN column)
    "936_abs_2018-19.csv": ("LA", "URN"),
    "936_census_2019-20.csv": ("LA", "URN"),
    "936_ks4provisional_2018-19.csv": ("LEA", "URN"),
}
OTHER_LAS = ("850", "873")
FAKE_URN_BASE = 980000  # above every URN in the real GIAS extract (max 149037): schools GIAS does not list


def _rows(path: Path) -> tuple[str, list[list[str]], str]:
    text = path.read_bytes().decode("utf-8-sig")
    eol = "\r\n" if "\r\n" in text else "\n"
    return text, list(csv.reader(io.StringIO(text))), eol


def _write(path: Path, rows: list[list[str]], eol: str) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator=eol).writerows(rows)
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().rstrip(eol).encode("utf-8"))  # BOM, no final newline


def england_shaped(src: Path, dest: Path, la_col: str, urn_col: str, edit=None) -> Path:
    """The real file with its school rows repeated for other LAs (new URNs), national rows kept last.

    `edit(row_dict, header)` may change a row of another LA (e.g. an impossible percentage)."""
    _, rows, eol = _rows(src)
    header, body = rows[0], rows[1:]
    h = {c: i for i, c in enumerate(header)}
    schools = [r for r in body if len(r) > h[urn_col] and r[h[urn_col]].strip().isdigit()]
    summary = [r for r in body if r not in schools]
    others, n = [], 0
    for la in OTHER_LAS:
        for r in schools:
            c = list(r)
            c[h[la_col]] = la
            c[h[urn_col]] = str(FAKE_URN_BASE + n)
            n += 1
            others.append(c)
    if edit:
        edit(others, h)
    _write(dest, [header, *schools, *others, *summary], eol)
    return dest


def build_landing(shared_dfe: Path, folder: Path, leave_out: tuple[str, ...] = (), census_edit=None,
                  links: bool = False) -> Path:
    """The Surrey landing folder; `leave_out` names files (or kinds: ks2, gias, absence, census, ks4) to omit;
    `links` adds the real GIAS links file (all England)."""
    samples = shared_dfe / "samples"
    folder.mkdir(parents=True, exist_ok=True)
    if links:
        shutil.copyfile(samples / LINKS, folder / LINKS)
    kinds = {"ks2": KS2, "gias": [GIAS], "absence": ["936_abs_2018-19.csv"], "census": ["936_census_2019-20.csv"],
             "ks4": ["936_ks4provisional_2018-19.csv"]}
    skip = {f for k in leave_out for f in kinds.get(k, [k])}
    for name in [*KS2, GIAS]:
        if name not in skip:
            shutil.copyfile(samples / name, folder / name)
    for name, (la_col, urn_col) in ENGLAND_SHAPED.items():
        if name not in skip:
            edit = census_edit if "census" in name else None
            england_shaped(samples / name, folder / name.replace("936_", "england_"), la_col, urn_col, edit)
    return folder


def _successor_dates(shared_dfe: Path) -> dict[int, date]:
    """URN -> the earliest date the real GIAS links file gives the school a successor (dd-mm-yyyy)."""
    out: dict[int, date] = {}
    with open(shared_dfe / "samples" / LINKS, encoding="cp1252", newline="") as fh:  # as GIAS writes it
        for r in csv.DictReader(fh):
            if r["LinkType"].startswith("Successor") and r["LinkEstablishedDate"].strip():
                d = datetime.strptime(r["LinkEstablishedDate"].strip(), "%d-%m-%Y").date()
                urn = int(r["URN"])
                out[urn] = min(d, out.get(urn, d))
    return out


def surrey_open_maintained(shared_dfe: Path, term_start: "date | None" = None, links: bool = False) -> set[int]:
    """URNs of the LA-maintained Surrey schools in the real GIAS rows: open as GIAS states them, or, given the
    term's first day, open on that day by GIAS's OpenDate and CloseDate (dd-mm-yyyy), whatever the status now.

    "Open, but proposed to close" is read as the pipeline reads it (evidence.assess._open_schools): open, its
    CloseDate a proposal, unless the GIAS links file (`links`: the landing folder holds it) gives the school a
    successor before the term began."""
    from school_improvement.evidence.assess import PROPOSED_TO_CLOSE

    with open(shared_dfe / "samples" / GIAS, encoding="cp1252", newline="") as fh:
        rows = list(csv.DictReader(fh))
    maintained = ("Local authority maintained schools",)
    special = ("Community special school", "Foundation special school")
    succeeded = _successor_dates(shared_dfe) if links else {}

    def day(text: str):
        return datetime.strptime(text, "%d-%m-%Y").date() if text.strip() else None

    def open_then(r) -> bool:
        status, opened, closed = r["EstablishmentStatus (name)"], day(r["OpenDate"]), day(r["CloseDate"])
        if term_start is None:
            return status.startswith("Open")
        if opened and opened > term_start:
            return False
        if status.startswith(PROPOSED_TO_CLOSE):
            successor = succeeded.get(int(r["URN"]))
            return not (successor is not None and successor < term_start)
        if closed and closed < term_start:
            return False
        return status.startswith("Open") or (status.startswith("Closed") and closed is not None)

    return {int(r["URN"]) for r in rows
            if r["LA (code)"] == LA and open_then(r)
            and (r["EstablishmentTypeGroup (name)"] in maintained or r["TypeOfEstablishment (name)"] in special)}
