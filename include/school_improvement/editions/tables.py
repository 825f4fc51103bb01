"""The CSV layouts and how a cell is made safe to open: formula triggers prefixed, bidirectional controls shown as
visible marks (Excel or a PDF would otherwise reorder what a cell shows), a stable column order and sort."""

from __future__ import annotations

import re
from pathlib import Path

import markupsafe
import pandas as pd


# CSV columns, in the order written. Missing columns are written empty so the layout never shifts.
CATEGORISATION_COLUMNS = [
    "urn", "school_name", "phase", "school_type", "ward", "adviser", "category", "computed_category",
    "best_fit_category", "previous_category", "direction_of_travel", "override_reason", "override_by",
    "override_on", "criteria_met", "reasons", "overriding_condition", "visits_planned", "laig_reviews_planned",
    "support_plan", "rule_set", "term", "good_or_better", "borderline",
]
LETTERS_COLUMNS = ["urn", "school_name", "letter", "letter_title", "indicators", "evidence", "escalation_note",
                   "category", "flagged_on", "term"]
ACADEMY_CONCERNS_COLUMNS = [
    "urn", "school_name", "trust", "concerns", "evidence", "next_step", "next_step_detail", "escalate_to",
    "safeguarding_route", "flagged_on", "term",
]
MEMBER_ALERTS_COLUMNS = ["ward", "member_name", "party", "email", "urn", "school_name", "reason", "told_in"]
DATA_QUALITY_COLUMNS = ["file", "feed_kind", "row", "column", "severity", "check", "message"]
EVIDENCE_COLUMNS = [  # restricted edition only; `decision`: level bullet, letter: <letter>, academy concern
    "urn", "decision", "criterion_id", "area", "level", "wording", "measure", "met", "value", "comparator", "reason",
    "source", "detail", "confidential",
]
LEVEL_BULLET = "level bullet"  # evidence.csv's `decision` for a check of the Strategy's bullets (the level)
# file name -> (columns, stable sort keys)
CSV_SPECS: dict[str, tuple[list[str], list[str]]] = {
    "categorisation.csv": (CATEGORISATION_COLUMNS, ["urn"]),
    "letters.csv": (LETTERS_COLUMNS, ["urn", "letter"]),
    "academy_concerns.csv": (ACADEMY_CONCERNS_COLUMNS, ["urn"]),
    "member_alerts.csv": (MEMBER_ALERTS_COLUMNS, ["ward", "member_name", "urn"]),
    "data_quality.csv": (DATA_QUALITY_COLUMNS, ["file", "row", "column", "check", "message"]),
    "evidence.csv": (EVIDENCE_COLUMNS, ["urn", "decision", "criterion_id", "source", "measure"]),
}
RESTRICTED_ONLY_CSVS = {"evidence.csv"}
WORKBOOK_NAME = "report.xlsx"  # one sheet per CSV, for Excel users; the CSVs stay for machines
INTEGER_COLUMNS = {"urn", "row", "rows", "visits_planned"}
# Excel treats these leading characters as the start of a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Bidirectional controls reorder what a cell shows (a school name could read as another): shown as their code.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def neutralise_bidi(value):
    """Bidi control characters become visible `[U+202E]` marks: nothing is lost, nothing is reordered."""
    if isinstance(value, str) and BIDI_CONTROLS.search(value):
        out = BIDI_CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", value)
        return markupsafe.Markup(out) if isinstance(value, markupsafe.Markup) else out  # an SVG chart stays markup
    return value


def name_breaks(value) -> markupsafe.Markup:
    """A file name or column code for a narrow table column: it may break across lines only after an underscore
    ("gias_850_936_" / "extract_2022-04-20.csv"), never inside a part unless that part alone is wider than the column.
    `<wbr>` marks the places and adds no character to the PDF's text (a name copied from it is the file's name)."""
    from .cells import _text

    return markupsafe.Markup(str(markupsafe.escape(neutralise_bidi(_text(value)))).replace("_", "_<wbr>"))


def _neutralise(value):
    value = neutralise_bidi(value)
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def write_csv(df: pd.DataFrame, path: Path, columns: list[str]) -> None:
    """UTF-8 with BOM (Excel opens it as UTF-8), CRLF, `columns` in order, formula cells neutralised.

    Only text is neutralised: a numeric column holding -2.5 stays a number Excel can sum.
    """
    out = df.reindex(columns=columns).copy()
    for col in out.columns:
        s = out[col]
        if col in INTEGER_COLUMNS and pd.api.types.is_float_dtype(s):
            out[col] = s.astype("Int64")  # a NaN elsewhere would otherwise print row 7 as "7.0"
            continue
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        out[col] = s.astype(object).map(_neutralise)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n", na_rep="")


def with_decisions(bullets: pd.DataFrame, decisions: "pd.DataFrame | None") -> pd.DataFrame:
    """evidence.csv's rows: the bullets' checks (the level) and the letters' and academy concerns' checks, each
    saying which decision it belongs to, so one file shows which figures made a letter due as well as a level."""
    bullets = bullets.assign(decision=LEVEL_BULLET)
    if decisions is None or decisions.empty:
        return bullets
    return pd.concat([bullets, decisions], ignore_index=True)


def _sorted(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    keys = [k for k in keys if k in df.columns]
    if not keys or df.empty:
        return df.reset_index(drop=True)
    # mergesort is stable; sorting on a string copy keeps mixed types from raising.
    tmp = df.copy()
    sort_cols = []
    for k in keys:
        col = f"__sort_{k}"
        numeric = pd.to_numeric(tmp[k], errors="coerce")
        if numeric.notna().sum() == tmp[k].notna().sum():
            tmp[col] = numeric
        else:
            tmp[col] = tmp[k].astype(object).where(tmp[k].notna(), None).map(lambda v: "" if v is None else str(v))
        sort_cols.append(col)
    tmp = tmp.sort_values(sort_cols, kind="mergesort", na_position="last")
    return tmp.drop(columns=sort_cols).reset_index(drop=True)
