"""Feeds: read the DfE, Ofsted, GIAS and LA-held files into one `Feed` shape.

The kind is detected from the header only (file names lie). Suppression and status codes become NaN plus a
row in `statuses` with the reason, never zero. Anything that cannot be trusted raises `FeedError` naming the
file, row and column so an operator can fix the file and re-run.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping
from typing import Callable

import pandas as pd

from ..errors import FeedError, Problem
from ..vocabulary import VOCAB

# pandas 3 keeps text in pyarrow when pyarrow is installed (it is, for the Parquet artefacts), and reading cell by
# cell, as categorise does, then costs about twice the CPU. pandas' own storage behaves the same and is faster here.
pd.set_option("mode.string_storage", "python")

# ---------------------------------------------------------------------------------------------------------
# Code lists for the LA-held feeds (the demo generator and the rules import these).
# The codes come from the product's one vocabulary (include/vocabulary.yaml); the rule sets use the same.
ADVISER_AREAS = tuple(VOCAB.areas)
MET_VALUES = {"yes": True, "no": False, "true": True, "false": False, "y": True, "n": False, "1": True, "0": False,
              "met": True, "not met": False}  # the column's own word: an adviser writes "Met" / "Not met"
NOT_JUDGED_WORDS = {"n/a", "na", "not judged", "not applicable", "-", "tbc", "unknown", "partly", "partially"}
INTELLIGENCE_FLAGS = tuple(VOCAB.intelligence_flags)
SEVERITIES = tuple(VOCAB.severities)
LETTER_TYPES = tuple(VOCAB.letters)
MODERATION_CATEGORIES = tuple(VOCAB.support_levels)
REPORT_CARD_SCALE = tuple(VOCAB.ofsted.report_card_labels)

# Status codes and what they mean (wording from DfE abbreviations_*.txt, EES and Ofsted conventions).
STATUS_REASONS = {
    "SUPP": "Suppressed: 5 or fewer pupils covered by the measure",
    "SUPPMAT": "Suppressed: maths figures suppressed (small numbers or maladministration)",
    "NE": "No entries: the school did not enter any pupils for the qualifications covered by the measure",
    "NA": "Not applicable: figures not available for the year in question, or the field does not apply to this school",
    "NP": "Not published (e.g. no progress measure for independent schools, or disadvantaged breakdowns withheld)",
    "LOWCOV": "Low coverage: fewer than 50% of pupils included in the progress/value added measure",
    "NEW": "New institution: no figures yet",
    "SP": "Small percentage: the number is between 0% and 0.5%",
    "RE": "Redacted: not a reliable estimate, so not a fair measure of performance",
    "x": "Not available (EES 'x')",
    "z": "Not applicable (EES 'z')",
    ":": "Not available (older EES ':')",
    "c": "Confidential (EES 'c')",
    "NULL": "No value recorded (Ofsted NULL)",
    "Not applicable": "Not applicable: the school has no such provision (e.g. no early years or post-16)",
    "Not judged": "Not judged: overall effectiveness is no longer graded (from September 2024)",
    "": "Blank: no figure published",
    " ": "Blank: no figure published",
}
# EES codes that stand only where a figure would (never in a code column, where "low" is a severity): read as no figure,
# with the reason, in numeric columns only.
NUMERIC_STATUS_REASONS = {"low": "Rounds to 0 but is not 0 (EES 'low')", "u": "Low reliability (EES 'u')"}
SHORT_ROW_CODE = ""  # a ragged row with fewer fields than the header: the trailing cells hold no figure
SHORT_ROW_REASON = "Blank: the row has fewer fields than the header, so no figure was published"

PHASES = {"PRI": "primary", "SEC": "secondary", "SPE": "special", "ALL": "all"}
FEED_KINDS = (
    "ks2", "ks4", "absence", "census", "gias", "ofsted",
    "adviser_judgements", "la_intelligence", "letters_log", "moderation", "ward_members", "laig_notes",
)
LA_HELD_KINDS = FEED_KINDS[6:]
MAINTAINED_SPECIAL_TYPES = ("Community special school", "Foundation special school")
CP1252_KINDS = {"gias", "ofsted"}  # published as Windows-1252 by GIAS and Ofsted


@dataclass
class Feed:
    kind: str
    source: str
    path: str
    sha256: str
    academic_year: str | None
    rows: int
    schools: pd.DataFrame
    comparators: pd.DataFrame
    statuses: pd.DataFrame
    warnings: list[Problem] = field(default_factory=list)
    history: pd.DataFrame = field(default_factory=pd.DataFrame)  # EES: earlier years per school
    # Each column read, by the header the file gives it (rwm_exp -> PTRWM_EXP): a problem names the file's column.
    headers: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------------
# Column specifications.
@dataclass(frozen=True)
class Col:
    name: str  # canonical
    sources: tuple[str, ...]  # accepted header spellings (compared upper-case, spaces collapsed)
    type: str = "str"  # str | text | num | pct | date | grade | bool | code | term
    required: bool = False
    codes: tuple[str, ...] | None = None


def _norm(h: str) -> str:
    return re.sub(r"\s+", " ", str(h).replace("\ufeff", "")).strip().upper()


def _c(name, *sources, type="str", required=False, codes=None) -> Col:
    return Col(name, tuple(_norm(s) for s in (sources or (name,))), type, required, codes)


KS2_BASE = [
    _c("la_code", "LEA", required=True), _c("estab", "ESTAB"), _c("school_name", "SCHNAME"),
    _c("rectype", "RECTYPE", required=True), _c("nftype", "NFTYPE"),
    _c("cohort", "TELIG", type="num", required=True), _c("disadv_cohort", "TFSM6CLA1A", type="num"),
    _c("other_cohort", "TNOTFSM6CLA1A", type="num"),
    _c("rwm_exp", "PTRWM_EXP", type="pct", required=True), _c("rwm_high", "PTRWM_HIGH", type="pct"),
    _c("rwm_exp_disadv", "PTRWM_EXP_FSM6CLA1A", type="pct"), _c("rwm_exp_other", "PTRWM_EXP_NOTFSM6CLA1A", type="pct"),
    _c("rwm_exp_gap", "DIFFN_RWM_EXP", type="num"),
    *[
        _c(f"{s}_prog{b.lower()}", f"{s.upper()}PROG{b}", type="num")
        for s in ("read", "writ", "mat")
        for b in ("", "_LOWER", "_UPPER")
    ],
]
KS4_COLS = [
    _c("la_code", "LEA", required=True), _c("estab", "ESTAB"), _c("school_name", "SCHNAME"),
    _c("rectype", "RECTYPE", required=True), _c("nftype", "NFTYPE"), _c("cohort", "TPUP", type="num"),
    _c("att8", "ATT8SCR", type="num", required=True), _c("att8_disadv", "ATT8SCR_FSM6CLA1A", type="num"),
    _c("att8_other", "ATT8SCR_NFSM6CLA1A", type="num"), _c("p8", "P8MEA", type="num"),
    _c("p8_lower", "P8CILOW", type="num"), _c("p8_upper", "P8CIUPP", type="num"), _c("p8_cohort", "P8PUP", type="num"),
    _c("p8_disadv", "P8MEA_FSM6CLA1A", type="num"), _c("p8_other", "P8MEA_NFSM6CLA1A", type="num"),
    _c("basics_94", "PTL2BASICS_94", type="pct"),
]
ABS_PT_COLS = [
    _c("la_code", "LA", required=True), _c("estab", "ESTAB", required=True),
    _c("overall_absence", "PERCTOT", type="pct", required=True),
    _c("persistent_absence", "PPERSABS10", "PPERSABS15", type="pct", required=True),
]
ABS_EES_COLS = [
    _c("la_code", "old_la_code", required=True), _c("estab", "estab"),
    _c("overall_absence", "sess_overall_percent", type="pct", required=True),
    _c("persistent_absence", "enrolments_pa_10_exact_percent", type="pct", required=True),
]
CENSUS_COLS = [
    _c("la_code", "LA", required=True), _c("estab", "ESTAB", required=True), _c("nor", "NOR", type="num", required=True),
    _c("pct_fsm_ever", "PNUMFSMEVER", type="pct", required=True), _c("pct_sen_support", "PSENELK", type="pct", required=True),
    _c("pct_ehcp", "PSENELSE", type="pct", required=True), _c("pct_eal", "PNUMEAL", type="pct", required=True),
]
GIAS_COLS = [
    _c("la_code", "LA (code)", required=True), _c("la_name", "LA (name)", type="text"),
    _c("estab", "EstablishmentNumber"), _c("school_name", "EstablishmentName", type="text", required=True),
    _c("type", "TypeOfEstablishment (name)", required=True),
    _c("type_group", "EstablishmentTypeGroup (name)", required=True),
    _c("phase", "PhaseOfEducation (name)", required=True), _c("status", "EstablishmentStatus (name)", required=True),
    _c("trust", "Trusts (name)", type="text"), _c("ward", "AdministrativeWard (name)", type="text"),
    _c("head_title", "HeadTitle (name)", type="text"), _c("head_first_name", "HeadFirstName", type="text"),
    _c("head_last_name", "HeadLastName", type="text"), _c("head_job_title", "HeadPreferredJobTitle", type="text"),
    _c("open_date", "OpenDate", type="date"), _c("close_date", "CloseDate", type="date"),
    _c("pupils", "NumberOfPupils", type="num"),
    _c("open_reason", "ReasonEstablishmentOpened (name)"), _c("close_reason", "ReasonEstablishmentClosed (name)"),
]
# A GIAS download of all fields has over a hundred columns; fewer than this is a chosen-fields extract or a test file,
# whose missing columns are not said.
GIAS_FULL_COLUMNS = 40
# What is lost when an optional GIAS column is missing from a whole download (said, never read as blank silently).
GIAS_COLUMN_USE = {
    "ward": ("AdministrativeWard (name)",
             "no school's ward is known, so member alerts cannot be matched to wards and name no member"),
    "trust": ("Trusts (name)",
              "academies' trusts are not named in academy concerns or the formal letters to the Chair of the Trust"),
    "head_last_name": ("HeadLastName", "draft letters are addressed without the headteacher's name"),
    "open_date": ("OpenDate", "schools that opened after the term began cannot be told from those open then"),
    "close_date": ("CloseDate", "schools that closed after the term began cannot be told from those closed before it"),
    "close_reason": ("ReasonEstablishmentClosed (name)", "why a school left (converted, closed, amalgamated) is not said"),
    "pupils": ("NumberOfPupils", "pupil numbers are not known"),
}
# What is lost when a column the run reads is missing from a whole KS2 download (its header has at least
# KS2_FULL_COLUMNS columns; the real downloads have 290-326): refused, never read as blank silently.
KS2_FULL_COLUMNS = 200
_GAP = "the disadvantaged gap (the Strategy's Priority 3) would not be judged, nor any letter or concern resting on it"
_PROGRESS = "progress would not be judged, nor any letter or concern resting on it"
KS2_COLUMN_USE = {
    "disadv_cohort": _GAP, "other_cohort": _GAP, "rwm_exp_disadv": _GAP, "rwm_exp_other": _GAP, "rwm_exp_gap": _GAP,
    "rwm_high": "the share at the higher standard would not be known",
    **{f"{s}_prog{b}": _PROGRESS for s in ("read", "writ", "mat") for b in ("", "_lower", "_upper")},
}
# The DfE's own spelling of the columns above whose case the reader's (upper-case) names lose, for the messages.
KS2_SPELLING = {"other_cohort": "TNotFSM6CLA1A", "rwm_exp_other": "PTRWM_EXP_NotFSM6CLA1A"}
OFSTED_COLS = [
    _c("school_name", "School name", type="text", required=True), _c("phase", "Ofsted phase", required=True),
    _c("type_of_education", "Type of education"), _c("inspection_date", "Inspection start date", type="date"),
    _c("inspection_type", "Inspection type"), _c("category_of_concern", "Category of concern"),
    _c("safeguarding", "Safeguarding standards", codes=("Met", "Not met")),
    _c("rc_inclusion", "Inclusion", codes=REPORT_CARD_SCALE),
    _c("rc_curriculum_teaching", "Curriculum and teaching", codes=REPORT_CARD_SCALE),
    _c("rc_achievement", "Achievement", codes=REPORT_CARD_SCALE),
    _c("rc_attendance_behaviour", "Attendance and behaviour", codes=REPORT_CARD_SCALE),
    _c("rc_personal_development", "Personal development and wellbeing", codes=REPORT_CARD_SCALE),
    _c("rc_early_years", "Early years (where applicable)", codes=REPORT_CARD_SCALE),
    _c("rc_post16", "Post-16 provision (where applicable)", codes=REPORT_CARD_SCALE),
    _c("rc_leadership_governance", "Leadership and governance", codes=REPORT_CARD_SCALE),
    _c("oeif_date", "Inspection start date of latest OEIF graded inspection", "Inspection start date of latest graded inspection", type="date"),
    _c("oeif_overall", "Latest OEIF overall effectiveness", "Overall effectiveness", type="grade"),
    _c("oeif_quality_of_education", "Latest OEIF quality of education", "Quality of education", type="grade"),
    _c("oeif_behaviour_attitudes", "Latest OEIF behaviour and attitudes", "Behaviour and attitudes", type="grade"),
    _c("oeif_personal_development", "Latest OEIF personal development", "Personal development", type="grade"),
    _c("oeif_leadership_management", "Latest OEIF effectiveness of leadership and management",
       "Effectiveness of leadership and management", type="grade"),
    _c("oeif_safeguarding_effective", "Latest OEIF safeguarding is effective?", "Safeguarding is effective?"),
    _c("oeif_category_of_concern", "Latest OEIF category of concern"),
    _c("ungraded_date", "Date of latest ungraded inspection", type="date"),
    _c("ungraded_outcome", "Ungraded inspection overall outcome"),
    _c("recent_category_of_concern", "Most recent category of concern"),
    # "No": the inspection was of another URN (a converter's or amalgamated school's predecessor); said with it.
    _c("rc_relates", "Does the latest full inspection relate to the URN of the current school?"),
    _c("rc_urn_then", "URN at time of latest full inspection"),
    _c("oeif_relates", "Does the latest OEIF graded inspection relate to the URN of the current school?"),
    _c("oeif_urn_then", "URN at time of latest OEIF graded inspection"),
    _c("ungraded_relates", "Does the ungraded inspection relate to the URN of the current school?"),
    _c("ungraded_urn_then", "URN at time of the ungraded inspection"),
]
LA_HELD_COLS = {
    "adviser_judgements": [
        _c("criterion_id", required=True), _c("area", type="code", required=True, codes=ADVISER_AREAS),
        _c("met", type="bool", required=True), _c("adviser", type="text", required=True),
        _c("visit_date", type="date", required=True), _c("note", type="text", required=True),
    ],
    "la_intelligence": [
        _c("flag", type="code", required=True, codes=INTELLIGENCE_FLAGS),
        _c("severity", type="code", required=True, codes=SEVERITIES), _c("detail", type="text", required=True),
        _c("raised_by_team", type="text", required=True), _c("raised_on", type="date", required=True),
    ],
    "letters_log": [
        _c("letter", type="code", required=True, codes=LETTER_TYPES), _c("concern", type="text", required=True),
        _c("issued_on", type="date", required=True), _c("issued_by", type="text", required=True),
        _c("term", type="term", required=True),
    ],
    "moderation": [
        _c("term", type="term", required=True), _c("final_category", type="code", required=True, codes=MODERATION_CATEGORIES),
        _c("reason", type="text", required=True), _c("approved_by", type="text", required=True),
        _c("approved_on", type="date", required=True),
    ],
    "ward_members": [
        _c("ward", type="text", required=True), _c("member_name", type="text", required=True),
        _c("party", type="text", required=True), _c("email", type="text", required=True),
    ],
    "laig_notes": [
        _c("meeting_date", type="date", required=True), _c("key_points", type="text", required=True),
        _c("notes", type="text", required=True),
    ],
}
# Columns that must hold a value in every LA-held row (blank = critical). A flag's or a letter's date decides whether
# it counts for the term (the evidence window, an earlier letter a warning notice follows): undated, it was passed
# over without a word (a logged significant-concerns letter with no issued_on made the run draft it again).
NON_BLANK = {
    "adviser_judgements": {"criterion_id", "area", "met"}, "la_intelligence": {"flag", "severity", "raised_on"},
    "letters_log": {"letter", "issued_on"}, "moderation": {"term", "final_category", "reason"},
    "ward_members": {"ward", "member_name"}, "laig_notes": {"meeting_date"},
}
# Keys that must be unique (LA-held feeds legitimately hold several rows per school).
UNIQUE_KEYS = {
    "ks2": ("urn",), "ks4": ("urn",), "absence": ("urn",), "census": ("urn",), "gias": ("urn",), "ofsted": ("urn",),
    "adviser_judgements": ("urn", "criterion_id"), "moderation": ("urn", "term"),
}
SIGNATURES: dict[str, list[set[str]]] = {  # any one set present in the header identifies the kind
    "gias": [{"URN", "ESTABLISHMENTNAME", "TYPEOFESTABLISHMENT (NAME)"}],
    "ofsted": [{"URN", "SCHOOL NAME", "OFSTED PHASE"}],
    "absence": [{"PERCTOT", "PPERSABS10"}, {"PERCTOT", "PPERSABS15"},
                {"TIME_PERIOD", "GEOGRAPHIC_LEVEL", "SCHOOL_URN", "SESS_OVERALL_PERCENT"}],
    "ks4": [{"RECTYPE", "ATT8SCR"}, {"RECTYPE", "P8MEA"}],
    "ks2": [{"RECTYPE", "PTRWM_EXP"}, {"RECTYPE", "READPROG"}],
    "census": [{"NOR", "PNUMFSMEVER"}, {"NOR", "PSENELK"}],
    **{k: [{c.sources[0] for c in cols if c.required}] for k, cols in LA_HELD_COLS.items()},
}


def detect_kind(header: list[str]) -> str | None:
    """The feed kind whose signature columns are all in the header (case and spacing ignored), else None."""
    have = {_norm(h) for h in header}
    for kind, sigs in SIGNATURES.items():
        if any(sig <= have for sig in sigs):
            return kind
    return None


def header_of(path) -> list[str]:
    """The first line's fields, to tell a file's kind before reading it (the links file, a fetched copy); never
    raises on a file that is not CSV text (UTF-16 "Unicode Text", a workbook, binary): [] then, and the file's
    reader says plainly what it is, naming it."""
    with open(path, "rb") as fh:
        first = fh.readline(1 << 20)
    if first.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in first:
        return []  # UTF-16 (or binary): read_feed's error says "save it as CSV UTF-8"
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = first.decode("cp1252", errors="replace")
    try:
        return next(csv.reader([text.lstrip("\ufeff").rstrip("\r\n")]), [])
    except csv.Error:
        return []


def _signature_text() -> str:
    return "; ".join(f"{k}: " + " or ".join("+".join(sorted(s)) for s in sigs) for k, sigs in SIGNATURES.items())


# ---------------------------------------------------------------------------------------------------------
# Reading bytes into a header + rows of strings.
@dataclass
class _Raw:
    header: list[str]
    cells: pd.DataFrame  # str cells, columns = positions
    lines: list[int]  # 1-based file row of each data row
    lengths: list[int]  # fields actually present in each data row
    head: list[list[str]] | None = None  # a workbook's first rows in full (cells are cut to the header's width)
    merged: list[tuple[str, int, int, int, int]] = field(default_factory=list)  # a sheet's merged cells: ref, rows, columns


def _decode(data: bytes, source: str) -> tuple[str, str]:
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as utf_err:  # noqa: F841 (used below, or replaced by the cp1252 error)
        first_line = data.split(b"\n", 1)[0].decode("cp1252", errors="replace")
        try:
            kind = detect_kind(next(csv.reader([first_line.rstrip("\r")]), []))
        except csv.Error:  # a header line that is not CSV at all: no kind, the decode error below says why
            kind = None
        if kind in CP1252_KINDS:
            try:
                return data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError as err:
                utf_err = err
        # utf-8-sig counts positions after the BOM: add it back so the offset and the byte are the file's own.
        at = utf_err.start + (3 if data.startswith(b"\xef\xbb\xbf") and utf_err.encoding == "utf-8" else 0)
        row = data[:at].count(b"\n") + 1
        column = _column_at(data, at)
        raise FeedError(Problem(
            source, row, column,
            f"cannot decode the file: byte 0x{data[at]:02x} at row {row} (byte offset {at}) is not UTF-8"
            + (" or Windows-1252" if kind in CP1252_KINDS else "")
            + "; save it as 'CSV UTF-8' and re-run", check="encoding"))


def _column_at(data: bytes, at: int) -> str | None:
    """The header name of the field holding byte `at` (best effort: None if the header cannot be read)."""
    try:
        text = data.decode("utf-8-sig", errors="replace")
        header = next(csv.reader([text.split("\n", 1)[0]]), [])
        line_start = data.rfind(b"\n", 0, at) + 1
        if line_start == 0:
            return None
        prefix = data[line_start:at].decode("utf-8", errors="replace")
        i = len(next(csv.reader([prefix + "x"]), [])) - 1
        return header[i].replace("\ufeff", "").strip() if 0 <= i < len(header) else None
    except (csv.Error, StopIteration):
        return None


_NOT_CSV = {  # leading bytes of files that are not CSV, whatever their name says
    b"PK\x03\x04": "an Excel workbook (.xlsx) or another zip file saved with a .csv name; rename it to .xlsx "
                    "or save it from Excel as 'CSV UTF-8'",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls) saved with a .csv name; save it from Excel as 'CSV UTF-8'",
    b"%PDF": "a PDF document, not a CSV file",
}


def _read_csv(data: bytes, source: str) -> _Raw:
    for magic, what in _NOT_CSV.items():
        if data.startswith(magic):
            raise FeedError(Problem(source, None, None, f"this file is {what}", check="format"))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FeedError(Problem(source, None, None, "this file is UTF-16 text (Excel's 'Unicode Text'); save it as "
                                "'CSV UTF-8' and re-run", check="encoding"))
    text, _ = _decode(data, source)
    if not text.strip():
        raise FeedError(Problem(source, None, None, "the file is empty (no header, no rows)", check="empty"))
    if "\r" in text and "\n" not in text:
        # Lines ended by CR alone (a CSV saved on a classic Mac, "CSV (Macintosh)"): the same rows, read as such
        # (the csv module otherwise stops with "new-line character seen in unquoted field"). The archive keeps the
        # bytes.
        text = text.replace("\r", "\n")
    # Physical line numbers and true field counts first: pandas pads short rows with "", which hides
    # raggedness, and GIAS rows carry extra "Linked establishments" fields beyond the header.
    lines, lengths = [], []
    empty = []  # records whose every cell is blank (",,,,": rows cleared in Excel, not deleted, are saved so)
    reader = csv.reader(io.StringIO(text))
    start = 1
    try:
        for rec in reader:
            if rec:
                if not any(f.strip() for f in rec):
                    empty.append(len(lines))
                lines.append(start)
                lengths.append(len(rec))
            start = reader.line_num + 1
    except csv.Error as err:
        if "field larger than field limit" in str(err):
            raise FeedError(Problem(source, start, None,
                                    f"a cell on this row holds more than {csv.field_size_limit():,} characters: "
                                    "no feed holds that much in one cell, so the file is damaged or not a feed "
                                    "(often a quote mark that is never closed)", check="cell_size"))
        raise FeedError(Problem(source, start, None, f"cannot parse as CSV: {err}", check="parse"))
    try:
        df = pd.read_csv(io.StringIO(text), header=None, names=range(max(lengths)), dtype=str,
                         keep_default_na=False, skip_blank_lines=True)
    except pd.errors.ParserError as err:
        msg = str(err)
        m = re.search(r"EOF inside string starting at row (\d+)", msg)
        if m:
            raise FeedError(Problem(source, int(m.group(1)) + 1, None,
                                    "the file is truncated: a quoted field is never closed", check="truncated"))
        raise FeedError(Problem(source, None, None, f"cannot parse as CSV: {msg}", check="parse"))
    if empty and len(df) == len(lines) and empty[0] > 0:
        # A row with nothing in it is no row, as a blank line is not: without this, an LA-held file saved from Excel
        # with its cleared rows stopped the run, "URN is missing" and "must not be blank" for each (s23).
        drop = set(empty)
        keep = [i for i in range(len(lines)) if i not in drop]
        df = df.iloc[keep].reset_index(drop=True)
        lines, lengths = [lines[i] for i in keep], [lengths[i] for i in keep]
    header = [str(h) for h in df.iloc[0].tolist()][: lengths[0]]
    return _Raw(header, df.iloc[1:].reset_index(drop=True), lines[1:], lengths[1:])


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _shown(cell) -> object:
    """A cell's value as the sheet shows it where that differs in kind: a number formatted as a percentage (Excel
    stores 60% as 0.6) is read as "60%", as a CSV saved from the sheet would hold it."""
    v = cell.value
    if isinstance(v, (int, float)) and not isinstance(v, bool) and "%" in (getattr(cell, "number_format", "") or ""):
        return f"{round(v * 100, 9):g}%"
    return v


def _read_xlsx(path: Path, source: str) -> _Raw:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises several types for a damaged workbook
        raise FeedError(Problem(source, None, None, f"cannot open as an Excel workbook: {err}", check="parse"))
    sheets, formulas, paths, hidden = {}, {}, {}, []
    for ws in wb.worksheets:
        # Cells rather than values only: a percentage's number format says that 0.6 is shown, and meant, as 60%.
        values = [(i, [_shown(c) for c in r]) for i, r in enumerate(ws.iter_rows(), start=1)]
        blanks = {(i, j) for i, r in values for j, v in enumerate(r) if v is None}  # a cached "" is a value
        rows = [(i, [_cell_text(v) for v in r]) for i, r in values]
        rows = [(i, r) for i, r in rows if any(c.strip() for c in r)]
        if rows:
            sheets[ws.title] = rows
            if ws.sheet_state != "visible":
                hidden.append(ws.title)
            paths[ws.title] = getattr(ws, "_worksheet_path", None)
            formulas[ws.title] = _uncalculated_formulas(path, ws.title, blanks) if blanks else {}
    wb.close()
    if not sheets:
        raise FeedError(Problem(source, None, None, "the workbook is empty (no sheet holds data)", check="empty"))
    if len(sheets) > 1:
        names = ", ".join(repr(s) for s in sheets)
        # A sheet of drop-down lists is usually hidden: the person who reads the error would not see it.
        unseen = [t for t in hidden if t in sheets]
        raise FeedError(Problem(source, None, None,
                                f"more than one sheet holds data ({names}); keep the data on one sheet"
                                + (f" ({', '.join(map(repr, unseen))} {'is' if len(unseen) == 1 else 'are'} hidden: "
                                   "right-click a sheet tab, Unhide)" if unseen else ""), check="sheets"))
    title, rows = next(iter(sheets.items()))
    (_, header), body = rows[0], rows[1:]
    while header and not header[-1].strip():
        header = header[:-1]
    n = len(header)
    if formulas[title]:
        # A workbook written by a program that does not calculate (a script, some exports) keeps the formula but
        # no value: reading the blank would report a missing URN or, worse, treat a figure as not published.
        raise FeedError([Problem(source, i, header[j] if j < n else None,
                                 f"cell holds the formula {f} but no saved value; open the workbook in Excel and "
                                 "save it (or paste the values) so the figures are stored", check="formula")
                         for (i, j), f in sorted(formulas[title].items())])
    cells = pd.DataFrame([(r + [""] * n)[:n] for _, r in body], columns=range(n), dtype=str)
    lengths = [n] * len(body)  # a sheet has no ragged rows: empty cells are blanks
    return _Raw(header, cells, [i for i, _ in body], lengths, head=[r for _, r in body[:10]],
                merged=_merged_cells(path, paths.get(title)))


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _merged_cells(path: Path, sheet_path: str | None) -> list[tuple[str, int, int, int, int]]:
    """The sheet's merged ranges (ref, first row, last row, first column, last column; 1-based). Read from the sheet's
    XML: openpyxl's read-only sheets do not keep them, and Excel saves a merged range's value in its first cell only."""
    import zipfile

    from openpyxl.utils import column_index_from_string

    if not sheet_path:
        return []
    with zipfile.ZipFile(path) as z:
        try:
            xml = z.read(sheet_path.lstrip("/"))
        except KeyError:
            return []
    out = []
    for m in _MERGE.finditer(xml):
        c1, r1, c2, r2 = m.group(1).decode(), int(m.group(2)), m.group(3).decode(), int(m.group(4))
        out.append((f"{c1}{r1}:{c2}{r2}", r1, r2, column_index_from_string(c1), column_index_from_string(c2)))
    return out


def _uncalculated_formulas(path: Path, title: str, blanks: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """(row, column index) -> formula, for the blank cells of a sheet that are formulas with no cached value."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        out = {}
        for i, r in enumerate(wb[title].iter_rows(values_only=True), start=1):
            for j, v in enumerate(r):
                if (i, j) in blanks and isinstance(v, str) and v.startswith("="):
                    out[(i, j)] = v
        return out
    finally:
        wb.close()


# ---------------------------------------------------------------------------------------------------------
# Cell conversion.
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%Y%m%d", "%b %d %Y %I:%M%p", "%d/%m/%y",
                 # A date with its month in words cannot be misread: Excel writes a cell formatted "d-mmm-yy" or
                 # "d mmmm yyyy" into a CSV as shown ("03-Oct-25", "3 October 2025"), and people type "3rd Oct 2025".
                 "%d %B %Y", "%d %b %Y", "%d-%b-%y", "%d-%b-%Y", "%d-%B-%Y", "%d %b %y", "%d %B %y")


def _parse_date(s: str) -> dt.date | None:
    s = re.sub(r"\s+", " ", s.strip())
    s = re.sub(r"(?<=\d)(st|nd|rd|th)\b", "", s, flags=re.I)  # "3rd Oct 2025"; a day without its year still fails
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T][\d:.]+", s):  # xlsx/ISO timestamps
        return _parse_date(s[:10])
    return None


def _date_hint(s: str) -> str:
    """Why a date-like text was refused, where it can be told: the month first (US order), or no year."""
    if m := re.fullmatch(r"(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})", s):
        if int(m[1]) <= 12 < int(m[2]) <= 31:
            return (f"; it looks like month/day order (US): dates are read day first, so write {m[2]}/{m[1]}/{m[3]} "
                    "(and check the other dates the same person typed, which may have been read the wrong way round)")
    if re.fullmatch(r"\d{1,2}(st|nd|rd|th)?[ /-]([a-z]+|\d{1,2})", s, flags=re.I):
        return "; it has no year: write the full date"
    return ""


def _serial_hint(s: str) -> str:
    """What a whole number in a date cell most likely is: Excel's day count, shown as a number because the cell is
    formatted General or Number (not read as a date: the run does not guess what a number means)."""
    if re.fullmatch(r"\d{5}", s) and 20000 <= int(s) <= 80000:
        day = dt.date(1899, 12, 30) + dt.timedelta(days=int(s))
        return (f"; {s} looks like an Excel date shown as a number ({s} is {day.day} {day:%B %Y}): format the column "
                "as a date (Format Cells, Date, dd/mm/yyyy), check the dates and save")
    return ""


_THOUSANDS = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")
_SEASON_YEAR = re.compile(r"(autumn|spring|summer)\s*(?:term\s*)?(\d{4})(?:\s*[-/]\s*(\d{2,4}))?", re.I)
_YEARS_SEASON = re.compile(r"(\d{4})\s*[-/]\s*(\d{2}|\d{4})\s*[- ]\s*(autumn|spring|summer)", re.I)


def _parse_term(s: str) -> str | None:
    """A term as `2025-26-spring` from the spellings an LA writes: 2025-26-spring, 2025/26 Spring, Spring 2026,
    Autumn 2025. A calendar year names the term it falls in: autumn starts the academic year, spring and
    summer end it. Anything else is None (the caller refuses it; an override is never dropped silently)."""
    from ..terms import Term

    s = re.sub(r"\s+", " ", s.strip())
    try:
        return str(Term.parse(s.lower()))
    except ValueError:
        pass
    if m := _YEARS_SEASON.fullmatch(s):
        y1, y2 = int(m[1]), int(m[2]) % 100
        if (y1 + 1) % 100 != y2:
            return None
        return f"{y1}-{y2:02d}-{m[3].lower()}"
    if m := _SEASON_YEAR.fullmatch(s):
        season, year = m[1].lower(), int(m[2])
        if m[3]:  # "Spring 2025/26": the academic year written after the season
            y2 = int(m[3]) % 100
            return f"{year}-{y2:02d}-{season}" if (year + 1) % 100 == y2 else None
        y1 = year if season == "autumn" else year - 1
        return f"{y1}-{(y1 + 1) % 100:02d}-{season}"
    return None


def _is_status(s: str) -> bool:
    return s in STATUS_REASONS or s.strip() == ""


# Results files whose percentages a re-save can turn into fractions, and how many percentage cells a file must hold
# before "all of them 1 or less" says so (a file of a school or two could hold only small shares).
FRACTION_CHECKED = ("ks2", "ks4", "absence", "census")
FRACTION_MIN_CELLS = 20


class _Converter:
    """Converts one feed's cells, collecting statuses and precise problems."""

    def __init__(self, source: str, kind: str, levels=None):
        self.source, self.kind, self.levels = source, kind, levels
        self.problems: list[Problem] = []
        self.statuses: list[dict] = []
        # The percentage cells read: how many, whether any was written with "%", the largest, and the first not 0.
        self.pct_count, self.pct_signed, self.pct_max, self.pct_first = 0, False, 0.0, None

    def problem(self, row, column, message, check):
        self.problems.append(Problem(self.source, row, column, message, check=check))

    def value(self, col: Col, header: str, raw: str | None, row: int, urn):
        if raw is None:  # ragged row: the field is not there at all
            self.statuses.append(dict(urn=urn, column=col.name, code=SHORT_ROW_CODE, reason=SHORT_ROW_REASON, _row=row))
            return None
        s = raw.strip()
        if col.type in ("str", "text"):
            if s in ("", "NULL") or (col.codes and s in STATUS_REASONS):
                if col.type == "str" or s == "NULL":
                    self.statuses.append(dict(urn=urn, column=col.name, code=raw, reason=STATUS_REASONS.get(raw, STATUS_REASONS[""]), _row=row))
                if col.name in NON_BLANK.get(self.kind, ()):
                    self.problem(row, header, f"{col.name} must not be blank", "not_blank")
                return None
            if col.codes and s not in col.codes:
                self.problem(row, header, f"{s!r} is not a known value; expected one of: {', '.join(col.codes)}", "known_codes")
            return s
        if _is_status(raw) and not (col.type in ("code", "bool", "term") and s):
            self.statuses.append(dict(urn=urn, column=col.name, code=raw, reason=STATUS_REASONS.get(raw, STATUS_REASONS[""]), _row=row))
            if col.name in NON_BLANK.get(self.kind, ()):
                self.problem(row, header, f"{col.name} must not be blank", "not_blank")
            return None
        if col.type in ("num", "pct", "grade"):
            if s in NUMERIC_STATUS_REASONS:
                self.statuses.append(dict(urn=urn, column=col.name, code=raw, reason=NUMERIC_STATUS_REASONS[s], _row=row))
                return None
            t = s[:-1].strip() if col.type == "pct" and s.endswith("%") else s
            if "," in t and not _THOUSANDS.fullmatch(t):
                # "4,1" is 4.1 written with a decimal comma, not 41: refuse rather than guess.
                self.problem(row, header, f"{raw!r} has a comma that is not a thousands separator (a decimal comma?); "
                             "write the figure with a decimal point, e.g. 4.1", "numeric")
                return None
            try:
                number = float(t.replace(",", ""))
            except ValueError:
                self.problem(row, header, f"{raw!r} is not a number (expected a figure or a status code such as SUPP, NA, NE)", "numeric")
                return None
            if col.type == "pct":
                self.pct_count += 1
                self.pct_signed = self.pct_signed or s.endswith("%")
                self.pct_max = max(self.pct_max, abs(number))
                if number and self.pct_first is None:
                    self.pct_first = (row, header, raw)
            return number
        if col.type == "date":
            d = _parse_date(s)
            if d is None:
                self.problem(row, header, f"{raw!r} is not a date (expected dd/mm/yyyy, dd-mm-yyyy or yyyy-mm-dd)"
                             + _serial_hint(s) + _date_hint(s), "date")
            return d
        if col.type == "term":
            t = _parse_term(s)
            if t is None:
                self.problem(row, header, f"{raw!r} is not a term (expected e.g. 2025-26-spring or Spring 2026)", "term")
            return t
        if col.type == "bool":
            v = re.sub(r"\s+", " ", s.lower())
            if v not in MET_VALUES:
                why = ("; for a criterion partly met or not judged, decide met or not met, or leave its row out"
                       if v in NOT_JUDGED_WORDS else "")
                self.problem(row, header, f"{raw!r} is not yes/no (expected one of: {', '.join(MET_VALUES)}){why}",
                             "known_codes")
                return None
            return MET_VALUES[v]
        if col.type == "code":
            v = s.lower()
            if v not in col.codes and self.kind == "moderation" and col.name == "final_category" and self.levels:
                rid, own = self.levels  # the LA's own levels: another rule set's are no answer for this LA
                self.problem(row, header, f"{raw!r} is not a level of support; expected one of rule set {rid}'s "
                             f"levels: {', '.join(own)}", "known_codes")
                return None
            if v not in col.codes:
                self.problem(row, header, f"{raw!r} is not a known {col.name}; expected one of: {', '.join(col.codes)}", "known_codes")
                return None
            return v
        raise AssertionError(col.type)


def _check_urn(conv: _Converter, raw: str | None, row: int, header: str):
    s = (raw or "").strip()
    if re.fullmatch(r"\d{6}", s) and 100000 <= int(s) <= 999999:
        return int(s)
    hint = ("; remove the decimal part (format the column as Number with 0 decimal places, or as Text)"
            if re.fullmatch(r"\d{6}\.0+", s) else "; remove the space" if re.fullmatch(r"\d[\d ]+\d", s)
            and len(s.replace(" ", "")) == 6 else "")
    conv.problem(row, header, f"URN {s!r} is malformed: a URN is 6 digits, 100000-999999{hint}" if s else "URN is missing",
                 "urn_format")
    return None


# ---------------------------------------------------------------------------------------------------------
# Per-kind layout: which columns, which rows are comparators, which year.
def _ks2_prior_years(header_n: set[str]) -> dict:
    """The academic years of the prior-year columns (`_22` is 2021-22), as the frame's `rwm_exp_prev1_year` and
    `rwm_exp_prev2_year`: they need not be the years just before the file's own. DfE's 2022-23 file holds 2021-22 and
    2018-19 (no tests in 2019-20 or 2020-21), so its "year before last" is four years before it; the evidence names
    the years rather than saying "previous year" of a year that was not."""
    years = sorted({int(m.group(1)) for h in header_n if (m := re.fullmatch(r"PTRWM_EXP_(\d{2})", h))}, reverse=True)
    return {f"rwm_exp_prev{i}_year": f"{2000 + y - 1}-{y % 100:02d}" for i, y in enumerate(years[:2], start=1)}


def _ks2_cols(header_n: set[str]) -> tuple[list[Col], str | None]:
    years = sorted({int(m.group(1)) for h in header_n if (m := re.fullmatch(r"PTRWM_EXP_(\d{2})", h))}, reverse=True)
    cols = list(KS2_BASE)
    p1 = f"_{years[0]:02d}" if years else "_PREV1"
    p2 = f"_{years[1]:02d}" if len(years) > 1 else "_PREV2"
    cols += [
        _c("rwm_exp_prev1", f"PTRWM_EXP{p1}", type="pct"), _c("rwm_exp_prev2", f"PTRWM_EXP{p2}", type="pct"),
        _c("rwm_exp_disadv_prev1", f"PTRWM_EXP_FSM6CLA1A{p1}", type="pct"),
        _c("rwm_exp_other_prev1", f"PTRWM_EXP_NOTFSM6CLA1A{p1}", type="pct"),
        _c("rwm_exp_3yr", "PTRWM_EXP_3YR", type="pct"), _c("cohort_3yr", "TELIG_3YR", type="num"),
    ]
    year = None
    if years:
        # The newest prior-year column is last year's results: the file is of the next year with KS2 tests.
        end = 2000 + years[0] + 1
        while f"{end - 1}-{end % 100:02d}" in KS2_UNTESTED:
            end += 1
        year = f"{end - 1}-{end % 100:02d}"
    return cols, year


# The academic years with no KS2 tests (2019-20 and 2020-21), and the first of the current curriculum's tests.
KS2_UNTESTED = ("2019-20", "2020-21")
KS2_FIRST_TESTS = 2015


def _ks2_years_before(year: str, n: int = 2) -> list[str]:
    """The n academic years of KS2 tests before `year` ("2018-19" -> 2017-18, 2016-17; "2022-23" -> 2021-22,
    2018-19), none before 2015-16."""
    years = [f"{y}-{(y + 1) % 100:02d}" for y in range(int(year[:4]) - 1, KS2_FIRST_TESTS - 1, -1)]
    return [y for y in years if y not in KS2_UNTESTED][:n]


def _ks2_previous_years_missing(conv: "_Converter", source: str, header_n: set[str], columns_year: str | None):
    """A whole KS2 download holds the previous two years' results beside its own (PTRWM_EXP_18 and _17 in 2018-19's):
    the trend and the previous year's gap read them. Renamed or deleted, every school's trend went unjudged without a
    word (verify s31: real Surrey's lost all 24 letters). Refused, naming the columns the file's year should have,
    unless they are those of the year its columns give (a file saved under another year's name: said by
    year_in_name)."""
    def missing(year):
        return [f"PTRWM_EXP_{y[-2:]}" for y in _ks2_years_before(year) if f"PTRWM_EXP_{y[-2:]}" not in header_n]

    named = year_from_name(source)
    if any(y and not missing(y) for y in (named, columns_year)):
        return
    year = named or columns_year
    if year:
        lost = missing(year)
        conv.problem(1, lost[0], f"the KS2 file for {year} has no column {' or '.join(lost)} (the results of "
                     f"{', '.join(_ks2_years_before(year))}), which every whole KS2 download of {year} has (renamed or "
                     "deleted?): the trend over the years and last year's gap would not be judged, nor any letter or "
                     "concern resting on them. Download the file again, or give the columns back their names",
                     "column_missing")
    else:
        conv.problem(1, None, "the KS2 file has no previous years' columns (PTRWM_EXP_18 and PTRWM_EXP_17 in a "
                     "2018-19 file), which every whole KS2 download since 2016-17 has (renamed or deleted?): the trend "
                     "over the years would not be judged, nor any letter or concern resting on it. Download the file "
                     "again", "column_missing")


def _rectype_level(kind: str) -> Callable[[dict], tuple[str, str | None] | None]:
    la, national = ({"3"}, {"4", "5"}) if kind == "ks2" else ({"4"}, {"5", "7"})

    def level(row: dict):
        r = (row.get("RECTYPE") or "").strip()
        if r in la:
            return "la", None
        if r in national:
            return "national", None
        return None

    return level


def _code_level(id_col: str, la_col: str, phase_col: str):
    """Absence/census summary rows: NAT in an id column, PRI/SEC/SPE where the ESTAB would be."""

    def level(row: dict):
        ident, la, phase = ((row.get(c, "") or "").strip() for c in (id_col, la_col, phase_col))
        if "NAT" in (ident.upper(), la.upper()):
            return "national", PHASES.get(phase.upper(), phase.lower() or None)
        if phase.upper() in PHASES and not (row.get("URN") or "").strip():
            return "la", PHASES[phase.upper()]
        return None

    return level


def _ees_level(row: dict):
    g = (row.get("GEOGRAPHIC_LEVEL") or "").strip()
    if g.lower() == "school":
        return None
    return {"national": "national", "local authority": "la", "regional": "region"}.get(g.lower(), g.lower() or "unknown"), None


def _academic_year_of(d: dt.date) -> str:
    start = d.year if d.month >= 9 else d.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def year_from_name(name: str) -> str | None:
    """The academic year a file name states: `2018-19`, `2018-2019`, `2018_19`, `201819`, or a snapshot date
    (`2022-04-20`, `20220420`, as GIAS names its extracts), else None."""
    stem = Path(name).stem
    for m in re.finditer(r"(?<!\d)(20\d\d)[-_/ ]?(20)?(\d\d)(?!\d)", stem):
        if (int(m.group(1)) + 1) % 100 == int(m.group(3)) and (m.group(2) is None or int(m.group(1)) + 1 < 2100):
            return f"{m.group(1)}-{m.group(3)}"
    for m in re.finditer(r"(?<!\d)(20\d\d)[-_]?(\d\d)[-_]?(\d\d)(?!\d)", stem):
        try:
            return _academic_year_of(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            continue
    return None


# The date that says how current a dated feed is: its latest inspection, visit, flag, letter or meeting. Ofsted MI
# in the report-card layout gives "Inspection start date" only to a report card: a download in which none of the
# LA's schools has one yet (before November 2025, or soon after) is dated by its latest graded or ungraded inspection.
YEAR_DATE_COLUMNS = {"ofsted": ("inspection_date", "oeif_date", "ungraded_date"), "adviser_judgements": "visit_date",
                     "la_intelligence": "raised_on", "letters_log": "issued_on", "moderation": "approved_on",
                     "laig_notes": "meeting_date"}


def _year_from_dates(kind: str, schools: pd.DataFrame) -> str | None:
    cols = YEAR_DATE_COLUMNS.get(kind) or ()
    cols = [c for c in ((cols,) if isinstance(cols, str) else cols) if c in schools]
    if not cols or schools.empty:
        return None
    dates = [d for c in cols for d in schools[c] if isinstance(d, dt.date)]
    return _academic_year_of(max(dates)) if dates else None


class _Cells(Mapping):
    """A row's cells by normalised header (None past the end of a short row), as a dict of them all would give, but
    each read only when asked for: a kind reads a few columns of a download of 300."""

    __slots__ = ("_cells", "_n", "_pos")

    def __init__(self, cells, n: int, pos: dict[str, int]):
        self._cells, self._n, self._pos = cells, n, pos

    def __getitem__(self, h: str):
        j = self._pos[h]
        return self._cells[j] if j < self._n else None

    def __iter__(self):
        return iter(self._pos)

    def __len__(self) -> int:
        return len(self._pos)


@dataclass
class _Layout:
    cols: list[Col]
    urn_header: str | None  # normalised header holding the URN
    level: Callable[[dict], tuple[str, str | None] | None] | None
    ragged: bool
    year: str | None = None
    extra: dict = field(default_factory=dict)


def _layout(kind: str, header_n: set[str]) -> _Layout:
    if kind == "ks2":
        cols, year = _ks2_cols(header_n)
        return _Layout(cols, "URN", _rectype_level("ks2"), ragged=True, year=year, extra=_ks2_prior_years(header_n))
    if kind == "ks4":
        return _Layout(KS4_COLS, "URN", _rectype_level("ks4"), ragged=True)
    if kind == "absence":
        if "TIME_PERIOD" in header_n:
            return _Layout(ABS_EES_COLS, "SCHOOL_URN", _ees_level, ragged=False,
                           extra=dict(persistent_threshold=10, source_form="ees"))
        threshold = 10 if "PPERSABS10" in header_n else 15
        return _Layout(ABS_PT_COLS, "URN", _code_level("LA", "LA", "ESTAB"), ragged=False,
                       extra=dict(persistent_threshold=threshold, source_form="performance_tables"))
    if kind == "census":
        return _Layout(CENSUS_COLS, "URN", _code_level("URN", "LA", "ESTAB"), ragged=False)
    if kind == "gias":
        return _Layout(GIAS_COLS, "URN", None, ragged=False)
    if kind == "ofsted":
        return _Layout(OFSTED_COLS, "URN", None, ragged=False)
    return _Layout(LA_HELD_COLS[kind], None if kind == "ward_members" else "URN", None, ragged=False)


# ---------------------------------------------------------------------------------------------------------
def read_feed(path, levels: tuple[str, tuple[str, ...]] | None = None) -> Feed:
    """Read one .csv/.xlsx feed; the kind comes from the header. Raises FeedError with every critical problem.

    `levels`: (rule-set id, its levels), the LA's rule set for the term, when the caller knows it: a moderation
    decision naming no level at all then lists that rule set's levels, not every rule set's in the vocabulary
    (which levels a term may use is checked against the rule set by evidence.assess.check_moderation).

    Whatever goes wrong, the error names the file: a damaged file the checks below did not foresee still
    becomes a FeedError (never a bare traceback, and never retried as if the drive had hiccupped).
    """
    path = Path(path)
    try:
        return _read_feed(path, levels)
    except (FeedError, OSError):  # an unreadable drive is not a damaged file: the task may retry it
        raise
    except Exception as err:  # noqa: BLE001 -- a damaged zip/XML inside an xlsx raises almost anything
        raise FeedError(Problem(path.name, None, None, f"cannot read the file ({type(err).__name__}: "
                                f"{str(err)[:300]}); it is damaged or not a feed", check="parse")) from err


def _near_kind(header: list[str]) -> tuple[str, list[str]] | None:
    """The LA-held kind a header nearly matches (at least half its required columns, URN included), and what is missing."""
    have = {_norm(h) for h in header}
    best = None
    for kind in LA_HELD_KINDS:
        need = [c.sources[0] for c in LA_HELD_COLS[kind] if c.required]
        if kind != "ward_members":
            need = ["URN", *need]
        found = [n for n in need if n in have]
        if len(found) * 2 >= len(need) and len(found) >= 2:
            score = len(found) / len(need)
            if best is None or score > best[0]:
                best = (score, kind, [n.lower() for n in need if n not in have])
    return (best[1], best[2]) if best else None


def _header_lower_down(raw: _Raw, source: str, look: int = 10) -> None:
    """Raise a clear error when the header is not on the first row but a few rows down (a title typed above it, as
    people do in Excel): the run does not skip rows it cannot read, it says where the header is."""
    head = raw.head if raw.head is not None else raw.cells.head(look).to_numpy(dtype=object).tolist()
    for i, rec in enumerate(head[:look]):
        cells = [str(c).replace("\ufeff", "").strip() for c in rec if c is not None]
        kind = detect_kind(cells) or (_near_kind(cells) or (None,))[0]
        if kind:
            first = raw.header[0].strip() if raw.header else ""
            raise FeedError(Problem(source, raw.lines[i], None, (
                f"the header of this {kind} file is on row {raw.lines[i]}, not the first row"
                + (f" (the first holds {first[:60]!r})" if first else "")
                + ": delete the rows above the header, so the header is row 1, and save"), check="header_row"))


def _read_feed(path: Path, levels=None) -> Feed:
    source = path.name
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        raw = _read_xlsx(path, source)
    elif path.suffix.lower() == ".csv":
        raw = _read_csv(data, source)
    else:
        raise FeedError(Problem(source, None, None, "only .csv and .xlsx (or .xlsm) files can be read", check="format"))

    header = [h.replace("\ufeff", "").strip() for h in raw.header]
    kind = detect_kind(header)
    if kind is None:
        _header_lower_down(raw, source)
    if kind is None and (near := _near_kind(header)):
        raise FeedError(Problem(source, 1, ", ".join(near[1]),
                                f"this looks like the {near[0]} feed but the required column(s) "
                                f"{', '.join(near[1])} are missing", check="required_column"))
    if kind is None and len(header) == 1 and (by := detect_kind(header[0].split(";"))):
        # One column, a known feed's columns once split at ";": a CSV saved by an Excel set to a European locale.
        raise FeedError(Problem(source, 1, None, (
            f"its columns are separated by ';', not ',' (as Excel writes a CSV in a European locale): it looks like "
            f"the {by} feed. Save it again as 'CSV UTF-8 (Comma delimited)'"), check="delimiter"))
    if kind is None:
        raise FeedError(Problem(source, 1, None,
                                "cannot tell what this file is from its header; looked for " + _signature_text(),
                                check="unknown_header"))
    header_n = [_norm(h) for h in header]
    lay = _layout(kind, set(header_n))
    pos = {h: i for i, h in reversed(list(enumerate(header_n)))}  # first occurrence wins

    problems = []
    used = {s for c in lay.cols for s in c.sources} | ({lay.urn_header} if lay.urn_header else set())
    for h in sorted({h for h in header_n if h in used and header_n.count(h) > 1}, key=header_n.index):
        at = [i + 1 for i, x in enumerate(header_n) if x == h]
        problems.append(Problem(source, 1, header[at[0] - 1],
                                f"column {header[at[0] - 1]} appears {len(at)} times (columns "
                                f"{', '.join(map(str, at))}); cannot tell which one holds the figures",
                                check="duplicate_column"))
    for col in lay.cols:
        if col.required and not any(s in pos for s in col.sources):
            problems.append(Problem(source, 1, col.sources[0] if kind not in LA_HELD_KINDS else col.name,
                                    f"required column {' or '.join(col.sources)} is missing for a {kind} file",
                                    check="required_column"))
    if lay.urn_header and lay.urn_header not in pos:
        problems.append(Problem(source, 1, "urn" if kind in LA_HELD_KINDS else lay.urn_header,
                                f"required column {lay.urn_header} is missing for a {kind} file", check="required_column"))
    if problems:
        raise FeedError(problems)

    read_at = {pos[h] for h in used if h in pos}
    for ref, r1, r2, c1, c2 in raw.merged:
        cols = [j for j in range(c1 - 1, c2) if j in read_at]
        if cols and r2 > 1 and (r2 > r1 or c2 > c1):
            # Excel keeps a merged range's value in its first cell: the other rows (or columns) read as blank, and
            # each would be reported as a missing URN or date without saying why.
            problems.append(Problem(source, max(r1, 2), header[cols[0]], (
                f"cells {ref} are merged: Excel keeps the value only in {ref.split(':')[0]}, so the other cells of the "
                "range read as blank; unmerge them (Home, Merge & Center) and fill the value into every row"),
                check="merged_cells"))
    if problems:
        raise FeedError(problems)
    for line, n in zip(raw.lines, raw.lengths):
        if n > len(header) and kind != "gias":  # GIAS lists extra linked establishments past the header
            problems.append(Problem(source, line, None, f"row has {n} fields but the header has {len(header)}",
                                    check="shape"))
    if not lay.ragged and raw.lengths:
        for line, n in zip(raw.lines, raw.lengths):
            if n < len(header):
                last = line == raw.lines[-1]
                problems.append(Problem(source, line, None,
                                        f"row has {n} fields but the header has {len(header)}"
                                        + (": the file looks truncated" if last else ""),
                                        check="truncated" if last else "shape"))
    if lay.ragged and raw.lengths and raw.lengths[-1] < len(header) and raw.lengths[-1] not in raw.lengths[:-1]:
        # DfE downloads are legitimately ragged (a 2024-25 KS2 row holds 305 of 311 fields) but every short
        # length recurs; a last row shorter than any before it is a download cut off mid-row.
        problems.append(Problem(source, raw.lines[-1], None,
                                f"the last row has {raw.lengths[-1]} fields where the other rows have "
                                f"{max(raw.lengths[:-1], default=len(header))} and the header {len(header)}: "
                                "the file looks truncated (a download cut off mid-row); download it again",
                                check="truncated"))
    if problems:
        raise FeedError(problems)

    conv = _Converter(source, kind, levels)
    col_src = {c.name: next((s for s in c.sources if s in pos), None) for c in lay.cols}
    schools, comparators = [], []
    cells = raw.cells.to_numpy(dtype=object)
    for i, line in enumerate(raw.lines):
        n = raw.lengths[i]
        row = _Cells(cells[i], n, pos)
        level = lay.level(row) if lay.level else None
        if level is None and lay.urn_header:
            urn = _check_urn(conv, row.get(lay.urn_header), line, header[pos[lay.urn_header]])
        else:
            urn = None
        rec: dict = {}
        for col in lay.cols:
            src = col_src[col.name]
            rec[col.name] = None if src is None else conv.value(col, header[pos[src]], row[src], line, urn)
        rec.update(lay.extra)
        rec["_row"] = line
        if kind == "absence" and "TIME_PERIOD" in pos:
            tp = (row["TIME_PERIOD"] or "").strip()
            rec["academic_year"] = f"{tp[:4]}-{tp[4:6]}" if re.fullmatch(r"\d{6}", tp) else tp or None
        if level is None:
            if lay.urn_header:
                rec = {"urn": urn, **rec}
            schools.append(rec)
        else:
            rec = {"level": level[0], "phase": level[1], **rec}
            comparators.append(rec)

    warnings: list[Problem] = []
    if kind in ("ks2", "ks4") and schools and not comparators:
        # A performance-tables download ends with its LA and national summary rows (RECTYPE 3-5 / 4, 5, 7): a file
        # with neither may have been cut off at a row boundary, and nothing is judged against national without them.
        warnings.append(Problem(source, raw.lines[-1] if raw.lines else None, "RECTYPE",
                                f"the {kind.upper()} file has school rows but no LA or national summary rows, which a "
                                "whole performance-tables download ends with: it may have been cut off (download it "
                                "again), and no school's results can be compared with national from it",
                                severity="warning", check="no_summary_rows"))
    if kind == "gias" and len(header) >= GIAS_FULL_COLUMNS:
        # A whole GIAS download names every column the run reads: one missing was renamed or dropped (saved from Excel,
        # an extract of chosen fields), and its cells would be read as blank without a word.
        for col in lay.cols:
            if not col.required and not any(s in pos for s in col.sources) and col.name in GIAS_COLUMN_USE:
                name, lost = GIAS_COLUMN_USE[col.name]
                warnings.append(Problem(source, 1, name, f"the GIAS extract has no column {name} (a whole GIAS "
                                        f"download has it: renamed or dropped?): {lost}", severity="warning",
                                        check="gias_column_missing"))
    if kind == "ks2" and len(header) >= KS2_FULL_COLUMNS:
        # Every whole KS2 download (2016-17 to 2024-25 in ../shared/dfe) has every column the run reads: one missing
        # was renamed or deleted (tidied in Excel), and its figures would be read as blank for every school without
        # a word (a trial, s31: the disadvantaged columns renamed in real Surrey's file lost 11 letters and 11 academy
        # concerns). Refused like a required column, naming it and what the run would lose.
        for col in lay.cols:
            if col.required or col.name not in KS2_COLUMN_USE or any(src in pos for src in col.sources):
                continue
            name = KS2_SPELLING.get(col.name, next(iter(col.sources)))
            conv.problem(1, name, f"the KS2 file has no column {name}, which every whole KS2 download has (renamed or "
                         f"deleted?): {KS2_COLUMN_USE[col.name]}. Download the file again, or give the column back its "
                         "name", "column_missing")
        _ks2_previous_years_missing(conv, source, set(pos), lay.year)
    short = [(line, n) for line, n in zip(raw.lines, raw.lengths) if n < len(header)]
    if short:  # only reachable for ragged formats (KS2/KS4 downloads); others were rejected above
        warnings.append(Problem(
            source, short[0][0], None,
            f"{len(short)} row(s) have fewer fields ({min(n for _, n in short)}) than the header ({len(header)}); "
            "fields were kept in header order and the missing trailing cells treated as no figure",
            severity="warning", check="ragged_rows"))
    schools_df = pd.DataFrame(schools, columns=(["urn"] if lay.urn_header else []) + [c.name for c in lay.cols]
                              + list(lay.extra) + ["_row"] + (["academic_year"] if "TIME_PERIOD" in pos else []))
    history = pd.DataFrame()
    if "TIME_PERIOD" in pos and len(schools_df):
        # EES long files hold several years: latest per school is current, the rest is history.
        ordered = schools_df.sort_values(["urn", "academic_year"], kind="stable")
        latest = ordered.groupby("urn", dropna=False).tail(1).index
        history = schools_df.drop(index=latest).reset_index(drop=True)
        schools_df = schools_df.loc[sorted(latest)].reset_index(drop=True)

    # Duplicate keys name every row involved.
    key = UNIQUE_KEYS.get(kind)
    if key and lay.urn_header and len(schools_df):
        dup = schools_df[schools_df["urn"].notna() & schools_df.duplicated(list(key), keep=False)]
        for _, grp in dup.groupby(list(key), sort=False):
            rows_txt = ", ".join(str(r) for r in grp["_row"])
            for r in grp["_row"].iloc[1:]:
                what = " / ".join(f"{k} {grp.iloc[0][k]}" for k in key)
                conv.problem(int(r), header[pos[lay.urn_header]], f"duplicate {what}: appears on rows {rows_txt}", "unique")
    if (kind in FRACTION_CHECKED and conv.pct_count >= FRACTION_MIN_CELLS and not conv.pct_signed
            and conv.pct_first is not None and conv.pct_max <= 1):
        # Every percentage between 0 and 1: saved as fractions (60% written 0.6, as a spreadsheet or script writes the
        # cell's value rather than what it shows). Read as percentages, 0.6 would be 0.6%, and every school would be
        # judged far below national with nothing looking wrong (a trial, s31: real Surrey's KS2 re-saved so passed
        # validation and lost all 24 letters). A whole LA's file never holds only percentages of 1 or less.
        row, header_name, raw_cell = conv.pct_first
        conv.problem(row, header_name, (
            f"every one of the file's {conv.pct_count} percentages is between 0 and 1 ({raw_cell!r} here): it was "
            f"saved with percentages as fractions (60% written as 0.6), which would be read as 0.6%. Download it "
            f"again, or save it again with each cell as it is shown (60%)"), "fractions")
    if conv.problems:
        raise FeedError(sorted(conv.problems, key=lambda p: (p.row or 0)))
    if kind not in LA_HELD_KINDS and schools_df.empty:
        # An empty download would otherwise make every school "unknown to GIAS" or "missing from KS2".
        label = {"gias": "GIAS", "ofsted": "Ofsted", "ks2": "KS2", "ks4": "KS4"}.get(kind, kind)
        raise FeedError(Problem(source, None, None, f"the {label} file has no schools (a header"
                                + (" and comparator rows" if len(comparators) else "") + " only)", check="empty"))

    if lay.urn_header and len(schools_df):
        schools_df["urn"] = schools_df["urn"].astype("int64")
    if kind == "gias":
        schools_df["is_academy"] = schools_df["type_group"].isin(["Academies", "Free Schools"])
        # GIAS files maintained special schools under "Special schools", not "Local authority maintained schools".
        schools_df["is_la_maintained"] = schools_df["type_group"].eq("Local authority maintained schools") | \
            schools_df["type"].isin(MAINTAINED_SPECIAL_TYPES)
        schools_df["is_open"] = schools_df["status"].isin(["Open", "Open, but proposed to close"])
    num_cols = [c.name for c in lay.cols if c.type in ("num", "pct", "grade")]
    for c in num_cols:
        schools_df[c] = pd.to_numeric(schools_df[c], errors="coerce").astype("float64")
    comp_cols = ["level", "phase"] + [c.name for c in lay.cols if c.name != "phase"] + list(lay.extra) + ["_row"]
    comp_df = pd.DataFrame(comparators, columns=comp_cols + (["academic_year"] if "TIME_PERIOD" in pos else []))
    for c in num_cols:
        comp_df[c] = pd.to_numeric(comp_df[c], errors="coerce").astype("float64")
    statuses = pd.DataFrame(conv.statuses, columns=["urn", "column", "code", "reason", "_row"])
    statuses["urn"] = statuses["urn"].astype("Int64")

    year = lay.year
    if "academic_year" in schools_df and schools_df["academic_year"].notna().any():
        year = max(schools_df["academic_year"].dropna())
    named = year_from_name(source)
    if lay.year and named and named != lay.year:
        # The columns date the file (last year's results are _YY); a name that says otherwise is a download saved under
        # the wrong year, or another year's file renamed: which is meant cannot be told, so the reader is told.
        warnings.append(Problem(source, 1, None, (
            f"the file name says {named}, but its columns are those of {lay.year}'s {kind.upper()} file (its previous "
            f"years' columns end in _{lay.year[2:4]}): it is read as {lay.year}'s results; if it is {named}'s, download "
            f"that year's file again"), severity="warning", check="year_in_name"))
    year = year or named or _year_from_dates(kind, schools_df)
    return Feed(kind=kind, source=source, path=str(path), sha256=sha, academic_year=year,
                rows=len(raw.lines), schools=schools_df, comparators=comp_df, statuses=statuses,
                warnings=warnings, history=history,
                headers={name: header[pos[src]] for name, src in col_src.items() if src is not None})


# Excel workbooks the reader opens: .xlsm is an .xlsx that may also hold macros (a template with buttons), read alike.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
# Spreadsheets the run cannot read. Left in the landing folder, such a file used to be passed over without a word,
# and the front page then said the LA's file "was not supplied" while its rows changed schools' levels: stop instead.
NOT_READ = {".xls": "an Excel 97-2003 workbook (.xls)", ".xlsb": "an Excel binary workbook (.xlsb)",
            ".ods": "an OpenDocument spreadsheet (.ods)", ".numbers": "a Numbers spreadsheet"}


def spreadsheets_not_read(folder) -> list[Problem]:
    """A critical problem for each spreadsheet in the landing folder in a format the run cannot read."""
    return [Problem(p.name, None, None, (
        f"{p.name} is {NOT_READ[p.suffix.lower()]}, which the run cannot read, so none of its rows would be used: "
        "open it in Excel and save it as 'Excel Workbook (.xlsx)' or 'CSV UTF-8', then re-run"), check="format")
        for p in sorted(Path(folder).iterdir())
        if p.is_file() and p.suffix.lower() in NOT_READ and not p.name.startswith((".", "~$"))]


def folders_not_read(folder) -> list[Problem]:
    """A warning for each folder inside the landing folder that holds feed files: only the files directly in the
    landing folder are read, so an "LA files" folder made to keep things tidy was passed over, and the front page
    said its files were not supplied. An LA-code folder (the `<landing>/<la>/<term>/` layout) is not one."""
    out = []
    for sub in sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith((".", "~$"))):
        if re.fullmatch(r"\d{3}", sub.name):
            continue
        inside = sorted(p.relative_to(sub).as_posix() for p in sub.rglob("*") if p.is_file()
                        and p.suffix.lower() in (".csv", *WORKBOOK_SUFFIXES, *NOT_READ) and not p.name.startswith("~$"))
        if inside:
            shown = ", ".join(inside[:4]) + (f" and {len(inside) - 4} more" if len(inside) > 4 else "")
            out.append(Problem(sub.name, None, None, (
                f"the folder '{sub.name}' in the landing folder holds {len(inside)} file(s) the run does not read "
                f"({shown}): only files directly in the landing folder are read; move them up a level and re-run"),
                severity="warning", check="folder_not_read"))
    return out


def open_in_excel(folder) -> list[Problem]:
    """A warning for each feed that Excel had open when the run read the folder: Excel keeps an owner file beside an
    open workbook, named `~$` and the workbook's name (its first two letters replaced when the name is long);
    LibreOffice `.~lock.<name>#`. The run reads what was last saved, so changes still being typed are not in it;
    said on the front page."""
    folder = Path(folder)
    names = [p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(("~$", "."))]
    out = []
    for lock in sorted(p.name for p in folder.iterdir() if p.is_file() and p.name.startswith(("~$", ".~lock."))):
        if lock.startswith(".~lock."):  # LibreOffice's: .~lock.<name>#
            rest, whole = lock[len(".~lock."):].rstrip("#"), True
        else:
            rest, whole = lock[2:], False
        for name in names:
            if name == rest or (not whole and len(name) > 2 and name[2:] == rest):
                out.append(Problem(name, None, None, (
                    f"{name} was open in Excel when the run read it (the lock file {lock} is beside it): the run "
                    "used the copy last saved, so changes not yet saved are not in this edition; save and close "
                    "the file, then re-run the term"), severity="warning", check="file_open"))
    return out


def read_landing(folder) -> list[Feed]:
    """Read every .csv/.xlsx in a landing folder (not dotfiles or README*). All problems from all files are raised together."""
    feeds, problems = [], []
    for path in sorted(Path(folder).iterdir()):
        if (not path.is_file() or path.name.startswith(".") or path.name.upper().startswith("README")
                or path.suffix.lower() not in (".csv", *WORKBOOK_SUFFIXES) or path.name.startswith("~$")):
            continue
        try:
            feeds.append(read_feed(path))
        except FeedError as err:
            problems.extend(err.problems)
    if problems:
        raise FeedError(problems)
    return feeds
