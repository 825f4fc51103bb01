"""How every part of the report reads a cell and names a code: text of a value that may be NaN, URNs as keys,
records for the templates, the labels from the one vocabulary, terms in calendar order."""

from __future__ import annotations

import pandas as pd

from ..terms import Term
from ..vocabulary import VOCAB


LEVELS = ("high", "medium", "low")
LEVEL_LABELS = dict(VOCAB.support_levels)  # labels from the one vocabulary (include/vocabulary.yaml)
LETTER_LABELS = dict(VOCAB.letters)
SOURCE_LABELS = {
    "la_intelligence": "LA intelligence",
    "adviser_judgements": "Adviser judgement",
    "laig_notes": "LAIG",
    "ofsted": "Ofsted",
    "moderation": "Moderation",
}


def _is_true(v) -> bool:
    try:
        return bool(v) and not pd.isna(v)
    except (TypeError, ValueError):
        return bool(v)


def _text(v) -> str:
    if v is None:
        return ""
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    return str(v)


def _urn_key(urn) -> str:
    t = _text(urn)
    return t[:-2] if t.endswith(".0") else t


def _term_sort_key(t: str):
    try:
        p = Term.parse(t)
        return (0, p.start_year, p.season_index, "")
    except ValueError:
        return (1, 0, 0, str(t))


def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: (None if _is_na(v) else v) for k, v in r.items()} for r in df.to_dict("records")]


def _is_na(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _with_int_urn(df: pd.DataFrame) -> pd.DataFrame:
    """URNs as Int64 everywhere, so lookups across tables match whether a stage wrote 100001 or "100001"."""
    if "urn" not in df.columns or df.empty:
        return df
    df = df.copy()
    df["urn"] = pd.to_numeric(df["urn"], errors="coerce").astype("Int64")
    return df
