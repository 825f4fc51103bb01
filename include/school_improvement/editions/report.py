"""Termly report for managers: a PDF plus CSVs, in a RESTRICTED and a GENERAL edition.

The general edition is made from `general_view(inputs)`, the one place that decides what is
confidential, so the PDF and the CSVs can never disagree about what they leave out.

Determinism: the only date written anywhere is `inputs.run_date` (also the PDF's creation date),
charts are SVG with a fixed hash salt and no date, and the PDF identifier is derived from the
content, so identical inputs give byte-identical files.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime
import hashlib
import io
import json
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
import markupsafe
import matplotlib
import pandas as pd

matplotlib.use("Agg")  # no display on workers; must precede pyplot import
import matplotlib.pyplot as plt  # noqa: E402
from weasyprint import HTML  # noqa: E402
from weasyprint.urls import FatalURLFetchingError, URLFetcher  # noqa: E402

from .. import TEMPLATES_DIR  # noqa: E402
from .pdf_pages import cached_page_references  # noqa: E402
from ..terms import Term  # noqa: E402
from ..vocabulary import VOCAB  # noqa: E402

EDITIONS = ("restricted", "general")

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
MEMBER_ALERTS_COLUMNS = ["ward", "member_name", "party", "email", "urn", "school_name", "reason"]
DATA_QUALITY_COLUMNS = ["file", "feed_kind", "row", "column", "severity", "check", "message"]
EVIDENCE_COLUMNS = [  # restricted edition only
    "urn", "criterion_id", "area", "level", "wording", "measure", "met", "value", "comparator", "reason", "source",
    "detail", "confidential",
]

# file name -> (columns, stable sort keys)
CSV_SPECS: dict[str, tuple[list[str], list[str]]] = {
    "categorisation.csv": (CATEGORISATION_COLUMNS, ["urn"]),
    "letters.csv": (LETTERS_COLUMNS, ["urn", "letter"]),
    "academy_concerns.csv": (ACADEMY_CONCERNS_COLUMNS, ["urn"]),
    "member_alerts.csv": (MEMBER_ALERTS_COLUMNS, ["ward", "member_name", "urn"]),
    "data_quality.csv": (DATA_QUALITY_COLUMNS, ["file", "row", "column", "check", "message"]),
    "evidence.csv": (EVIDENCE_COLUMNS, ["urn", "criterion_id", "source", "measure"]),
}
RESTRICTED_ONLY_CSVS = {"evidence.csv"}
WORKBOOK_NAME = "report.xlsx"  # one sheet per CSV, for Excel users; the CSVs stay for machines
INTEGER_COLUMNS = {"urn", "row", "rows", "visits_planned"}

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
RESTRICTED_TEXT = "(detail restricted)"

# Excel treats these leading characters as the start of a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Bidirectional controls reorder what a cell shows (a school name could read as another): shown as their code.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
NAME_WITHHELD = "(name withheld)"

_MPL_RC = {
    "svg.hashsalt": "school-improvement",  # stable element ids
    "svg.fonttype": "none",  # real text in the SVG: selectable, smaller, no glyph paths
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "text.parse_math": False,  # a "$" in a school name is text, not mathtext
}


@dataclass
class ReportInputs:
    la_code: str
    la_name: str
    term: str  # "2025-26-autumn"
    rule_set_id: str
    rule_set_title: str
    run_date: datetime.date
    categorisation: pd.DataFrame
    evidence: pd.DataFrame
    history: pd.DataFrame  # urn, term, category (recent terms including this one)
    indicators: pd.DataFrame
    letters: pd.DataFrame
    academy_concerns: pd.DataFrame
    member_alerts: pd.DataFrame
    data_quality: pd.DataFrame
    provenance: pd.DataFrame  # file, kind, academic_year, rows, sha256
    drafts: list[dict] = field(default_factory=list)
    laig_notes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["urn", "meeting_date", "key_points", "notes"]))
    academy_note: str = ""  # e.g. where whistleblowing about an academy is redirected
    # This term's LA-intelligence flags (urn, flag, severity, detail, raised_by_team, raised_on): restricted only.
    intelligence: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["urn", "flag", "severity", "detail", "raised_by_team", "raised_on"]))
    data_notes: list = field(default_factory=list)  # plain sentences for the front page: missing feeds, data age, warnings
    # Names of school staff (GIAS headteachers): the general edition withholds them wherever they appear.
    staff_names: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Safe resource fetching
# --------------------------------------------------------------------------------------------


class RefusedURL(FatalURLFetchingError):
    """A URL outside the templates folder. Fatal on purpose: a report silently missing a resource
    (or one that reached out to the network) is worse than a failed task."""


class TemplateOnlyFetcher(URLFetcher):
    """Lets WeasyPrint read data: URLs and files inside the templates folder, and nothing else."""

    def __init__(self, root: Path = TEMPLATES_DIR, **kwargs):
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False, **kwargs)
        self.root = Path(root).resolve()

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            parts = urlsplit(url)
            if parts.netloc not in ("", "localhost"):
                raise RefusedURL(f"refused remote file URL {url!r}")
            # resolve() collapses ../ and symlinks, so an escape cannot hide behind either.
            target = Path(unquote(parts.path)).resolve()
            if target == self.root or self.root in target.parents:
                return super().fetch(target.as_uri(), headers)
            raise RefusedURL(f"refused file outside {self.root}: {url!r}")
        raise RefusedURL(f"refused URL {url!r}: only data: and template files may be loaded")


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------


def neutralise_bidi(value):
    """Bidi control characters become visible `[U+202E]` marks: nothing is lost, nothing is reordered."""
    if isinstance(value, str) and BIDI_CONTROLS.search(value):
        out = BIDI_CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", value)
        return markupsafe.Markup(out) if isinstance(value, markupsafe.Markup) else out  # an SVG chart stays markup
    return value


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


# --------------------------------------------------------------------------------------------
# General view: one function decides what leaves the restricted edition
# --------------------------------------------------------------------------------------------


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


def _generalised_reason(row) -> str:
    source = _text(row.get("source"))
    label = SOURCE_LABELS.get(source, source.replace("_", " ") or "LA information")
    topic = _text(row.get("area")) or _text(row.get("measure")) or "school"
    return f"{label}: {topic.replace('_', ' ').lower()} concern {RESTRICTED_TEXT}"


SNIPPET_MIN = 6  # shorter or numeric strings ("12", "Yes") would match innocent text; they are not detail anyway


class Snippets:
    """The confidential snippets, found in a text as `any(s in text for s in snippets)` would find them, but by
    looking up each position's first SNIPPET_MIN characters: a county has over a thousand snippets and tens of
    thousands of cells, and the plain scan cost seconds per general edition."""

    def __init__(self, snippets):
        self.all = frozenset(snippets)
        self._short = [s for s in self.all if len(s) < SNIPPET_MIN]  # only when a caller passes its own set
        self._by_head: dict[str, list[str]] = {}
        for s in self.all:
            if len(s) >= SNIPPET_MIN:
                self._by_head.setdefault(s[:SNIPPET_MIN], []).append(s)

    def found_in(self, text: str) -> bool:
        if any(s in text for s in self._short):
            return True
        heads = self._by_head
        for i in range(len(text) - SNIPPET_MIN + 1):
            found = heads.get(text[i:i + SNIPPET_MIN])
            if found and any(text.startswith(s, i) for s in found):
                return True
        return False


def _as_snippets(snippets) -> Snippets:
    return snippets if isinstance(snippets, Snippets) else Snippets(snippets)


def _confidential_snippets(inputs: ReportInputs) -> set[str]:
    """Every piece of text that must not leave the restricted edition."""
    snippets: set[str] = set()
    ev = inputs.evidence
    if not ev.empty and "confidential" in ev.columns:
        conf = ev[ev["confidential"].map(_is_true)]
        for col in ("value", "comparator"):
            if col in conf.columns:
                snippets.update(_text(v) for v in conf[col])
    if not ev.empty:
        # LA-intelligence specifics and adviser notes are confidential whatever their flag says.
        private = ev[_private_mask(ev)]
        for col in ("value", "detail"):
            if col in private.columns:
                snippets.update(_text(v) for v in private[col])
    for col in ("key_points", "notes"):
        if col in inputs.laig_notes.columns:
            snippets.update(_text(v) for v in inputs.laig_notes[col])
    if "detail" in inputs.intelligence.columns:
        snippets.update(_text(v) for v in inputs.intelligence["detail"])
    for d in inputs.drafts:
        snippets.update(_text(d.get(k)) for k in ("head_name", "chair_name"))
    return {s.strip() for s in snippets if len(s.strip()) >= SNIPPET_MIN and not _looks_numeric(s)}


def _looks_numeric(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _scrub_parts(text: str, snippets: set[str], private_wordings: dict[str, str], protected: frozenset = frozenset()
                 ) -> str:
    """Replace each "; "-separated part that carries confidential detail with its generalised form.

    Line by line, and a Strategy wording that itself contains "; " (`protected`) is kept whole.
    """
    if not text:
        return text
    snippets = _as_snippets(snippets)
    return "\n".join(_scrub_line(line, snippets, private_wordings, protected) for line in text.split("\n"))


def _scrub_line(text: str, snippets: Snippets, private_wordings: dict[str, str], protected: frozenset) -> str:
    guard = "\x1f"
    for w in sorted({w for w in (*protected, *private_wordings) if w and "; " in w}, key=len, reverse=True):
        if w in text:
            text = text.replace(w, w.replace("; ", guard))
    out = []
    for part in (p.replace(guard, "; ") for p in text.split("; ")):
        replacement = None
        for wording, general in private_wordings.items():
            if wording and (part == wording or part.startswith(wording)):
                replacement = general
                break
        if replacement is None and snippets.found_in(part):
            replacement = f"LA information {RESTRICTED_TEXT}"
        out.append(replacement or part)
    return "; ".join(dict.fromkeys(out))  # keep order, drop repeats of the same generalised text


def staff_names(gias: pd.DataFrame) -> list[str]:
    """Headteachers' names as GIAS gives them, in the spellings a sentence may use (title + last, first + last)."""
    out: set[str] = set()
    for r in gias.to_dict("records") if not gias.empty else []:
        title, first, last = (_text(r.get(k)).strip() for k in ("head_title", "head_first_name", "head_last_name"))
        if first and last:
            out.add(f"{first} {last}")
        if title and last and title.lower() not in ("not applicable", "null"):
            out.add(f"{title} {last}")
    return sorted(out)


def _withhold_names(df: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Replace every staff name in the text cells with NAME_WITHHELD (longest first: 'Mrs Jo Bloggs' before 'Jo Bloggs')."""
    names = sorted({n for n in names if len(n.strip()) >= 4}, key=len, reverse=True)
    if not names or df.empty:
        return df
    pattern = re.compile("|".join(re.escape(n) for n in names))
    df = df.copy()
    for col in df.columns:
        if pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
            continue
        df[col] = df[col].map(lambda v: pattern.sub(NAME_WITHHELD, v) if isinstance(v, str) else v)
    return df


def _scrub_frame(df: pd.DataFrame, snippets: set[str], wordings_by_urn: dict, text_cols: list[str],
                 protected: frozenset = frozenset()) -> pd.DataFrame:
    df = df.copy()
    snippets = _as_snippets(snippets)
    for col in df.columns:
        if pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
            continue
        values = []
        for urn, v in zip(df["urn"] if "urn" in df.columns else [None] * len(df), df[col]):
            t = _text(v)
            if col in text_cols:
                t2 = _scrub_parts(t, snippets, wordings_by_urn.get(_urn_key(urn), {}), protected)
            elif snippets.found_in(t):
                t2 = RESTRICTED_TEXT
            else:
                values.append(v)
                continue
            values.append(t2)
        df[col] = pd.Series(values, index=df.index, dtype=object)
    return df


def _urn_key(urn) -> str:
    t = _text(urn)
    return t[:-2] if t.endswith(".0") else t


def _private_mask(ev: pd.DataFrame) -> pd.Series:
    """Evidence rows the general edition leaves out: flagged confidential, or LA intelligence or an adviser note."""
    mask = ev["confidential"].map(_is_true) if "confidential" in ev.columns else pd.Series(False, index=ev.index)
    if "measure" in ev.columns:
        mask = mask | ev["measure"].astype(str).str.startswith("LA intelligence")
    if "detail" in ev.columns:
        mask = mask | ev["detail"].map(lambda v: bool(_text(v).strip()))
    return mask


def general_view(inputs: ReportInputs) -> ReportInputs:
    """The inputs as the GENERAL edition may show them.

    Leaves out: LAIG key points and notes, confidential evidence rows (safeguarding specifics,
    LA intelligence detail, adviser notes), draft letters and with them head/chair names. Reasons,
    letter evidence and alerts that came from confidential evidence are generalised, e.g.
    "LA intelligence: safeguarding concern (detail restricted)". Any other cell still holding a
    confidential snippet becomes "(detail restricted)".
    """
    ev = inputs.evidence
    conf_mask = _private_mask(ev)
    conf = ev[conf_mask]
    wordings_by_urn: dict[str, dict[str, str]] = {}
    for _, row in conf.iterrows():
        general = _generalised_reason(row)
        for key in ("wording", "criterion_id"):
            w = _text(row.get(key))
            if w:
                wordings_by_urn.setdefault(_urn_key(row.get("urn")), {})[w] = general
    snippets = Snippets(_confidential_snippets(inputs))
    protected = frozenset(_text(w) for w in ev["wording"].unique()) if "wording" in ev.columns else frozenset()
    names = list(inputs.staff_names) + [_text(d.get(k)) for d in inputs.drafts for k in ("head_name", "chair_name")]
    text_cols = ["reasons", "overriding_condition", "override_reason", "evidence", "escalation_note", "reason",
                 "concerns", "next_step"]

    def scrub(df: pd.DataFrame) -> pd.DataFrame:
        # Stages that know what is confidential write a `<column>_general` twin: use it, then scrub anyway.
        for col in [c for c in df.columns if f"{c}_general" in df.columns]:
            df = df.assign(**{col: df[f"{col}_general"]}).drop(columns=[f"{col}_general"])
        return _withhold_names(_scrub_frame(df, snippets, wordings_by_urn, text_cols, protected), names)

    return dataclasses.replace(
        inputs,
        categorisation=scrub(inputs.categorisation),
        evidence=scrub(ev[~conf_mask]).reset_index(drop=True),
        letters=scrub(inputs.letters),
        academy_concerns=scrub(inputs.academy_concerns),
        member_alerts=scrub(inputs.member_alerts),
        data_quality=scrub(inputs.data_quality),
        drafts=[],
        laig_notes=inputs.laig_notes.iloc[0:0].copy(),
        intelligence=inputs.intelligence.iloc[0:0].copy(),
    )


# --------------------------------------------------------------------------------------------
# Charts (SVG data: URIs, so the fetcher never needs the file system for them)
# --------------------------------------------------------------------------------------------

# Colour-blind safe (ColorBrewer RdBu: red and blue differ for every common colour-vision deficiency, and the
# three differ in lightness, so they also survive greyscale printing). The level is always named in text too.
LEVEL_COLOURS = {"high": "#b2182b", "medium": "#f4a582", "low": "#4393c3"}
GAP_CHART_MAX_SCHOOLS = 25  # bars whose names still print at 8 pt on one page


def _svg_uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _term_sort_key(t: str):
    try:
        p = Term.parse(t)
        return (0, p.start_year, p.season_index, "")
    except ValueError:
        return (1, 0, 0, str(t))


def chart_distribution(history: pd.DataFrame, term: str) -> tuple[str, str, pd.DataFrame]:
    terms = sorted({*map(str, history["term"].dropna().unique()), term}, key=_term_sort_key)
    counts = (
        pd.crosstab(history["term"].astype(str), history["category"].astype(str))
        .reindex(index=terms, fill_value=0)
    )
    cats = [c for c in LEVELS if c in counts.columns] + sorted(c for c in counts.columns if c not in LEVELS)
    counts = counts.reindex(columns=cats, fill_value=0)
    with matplotlib.rc_context(_MPL_RC):
        fig, ax = plt.subplots(figsize=(7, 3.2))
        bottom = pd.Series(0, index=counts.index)
        for c in cats:
            ax.bar(counts.index, counts[c], bottom=bottom, label=LEVEL_LABELS.get(c, c),
                   color=LEVEL_COLOURS.get(c, "#999999"))
            bottom = bottom + counts[c]
        ax.set_ylabel("Number of schools")
        ax.set_title("Schools at each level of support, by term")
        ax.legend(loc="upper left", bbox_to_anchor=(1, 1), frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        uri = _svg_uri(fig)
    parts = [f"{t}: " + ", ".join(f"{int(counts.at[t, c])} {c}" for c in cats) for t in counts.index]
    alt = "Stacked bar chart of the number of schools at each level of support by term. " + "; ".join(parts) + "."
    return uri, alt, counts


def chart_vs_national(ind: pd.DataFrame) -> tuple[str, str]:
    """Two histograms of each school's difference from national: attainment (RWM) and absence."""
    att = (ind["rwm_exp"] - ind["rwm_exp_national"]).dropna()
    absn = (ind["overall_absence"] - ind["overall_absence_national"]).dropna()
    with matplotlib.rc_context(_MPL_RC):
        fig, axes = plt.subplots(1, 2, figsize=(7.2, 3))
        for ax, data, title, xlabel, good in (
            (axes[0], att, "KS2 reading, writing & maths (expected)", "Points above (+) / below (-) national", "above"),
            (axes[1], absn, "Overall absence", "Points above (+) / below (-) national", "below"),
        ):
            if len(data):
                ax.hist(data, bins=min(20, max(5, len(data) // 3)), color="#4393c3", edgecolor="white")
            ax.axvline(0, color="black", linewidth=1, linestyle="--")
            ax.set_title(title)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("Number of schools")
            ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        uri = _svg_uri(fig)
    alt = (
        f"Histograms of school results against national. Attainment: {int((att >= 0).sum())} of {len(att)} schools "
        f"at or above the national RWM expected standard. Absence: {int((absn <= 0).sum())} of {len(absn)} schools "
        "at or below national overall absence."
    )
    return uri, alt


def chart_disadvantaged_gap(ind: pd.DataFrame) -> tuple[str, str]:
    """The widest gaps only: one bar per school at 8 pt, at most GAP_CHART_MAX_SCHOOLS (a county has hundreds,
    which would print in 3 pt); the alt text and the caption give the count for all schools."""
    d = ind[["school_name", "disadv_gap", "disadv_gap_national"]].dropna(subset=["disadv_gap"])
    d = d.sort_values(["disadv_gap", "school_name"], ascending=[False, True], kind="mergesort")
    n = len(d)
    national = pd.to_numeric(d["disadv_gap_national"], errors="coerce").dropna()
    nat = float(national.iloc[0]) if len(national) else None
    shown = d.head(GAP_CHART_MAX_SCHOOLS).iloc[::-1]  # widest at the top
    k = len(shown)
    with matplotlib.rc_context(_MPL_RC):
        fig, ax = plt.subplots(figsize=(7, max(2.0, 0.19 * k + 0.9)))
        colours = ["#b2182b" if (nat is not None and g > nat) else "#4393c3" for g in shown["disadv_gap"]]
        ax.barh(range(k), shown["disadv_gap"], color=colours)
        ax.set_yticks(range(k), [_text(s) for s in shown["school_name"]], fontsize=8)
        if nat is not None:
            ax.axvline(nat, color="black", linestyle="--", linewidth=1, label=f"National gap ({nat:.1f} points)")
            ax.legend(loc="lower right", frameon=False)
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.set_xlabel("Gap: other pupils minus disadvantaged pupils (points)")
        ax.spines[["top", "right"]].set_visible(False)
        uri = _svg_uri(fig)
    wider = int((d["disadv_gap"] > nat).sum()) if nat is not None else 0
    alt = (
        f"Horizontal bar chart of the {k} widest disadvantaged gaps of {n} schools with a published gap, widest first. "
        + (f"{wider} of the {n} schools have a gap wider than the national gap of {nat:.1f} points." if nat is not None else "")
    )
    return uri, alt


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        # Our templates end in .html.j2, which the default select_autoescape() would leave unescaped.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm", "xml", "j2"), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=neutralise_bidi,  # every {{ value }} in the PDF, as in the CSVs
    )
    env.filters["t"] = _text
    env.filters["pct"] = lambda v: "" if v is None or pd.isna(v) else f"{v:.0f}%"
    env.filters["level_label"] = lambda c: LEVEL_LABELS.get(_text(c), _text(c))
    env.filters["letter_label"] = lambda c: LETTER_LABELS.get(_text(c), _text(c).replace("_", " "))
    env.filters["source_label"] = lambda c: SOURCE_LABELS.get(_text(c), _text(c).replace("_", " "))
    env.filters["split_reasons"] = lambda s: [p for p in _text(s).split("; ") if p]
    env.filters["split_lines"] = lambda s: [p for p in _text(s).splitlines() if p.strip()]
    return env


_ENV = _environment()


def _layout(template_name: str, context: dict):
    """Jinja2 (autoescaped) -> a laid-out WeasyPrint document; resources only via TemplateOnlyFetcher."""
    html = _ENV.get_template(template_name).render(**context)
    doc = HTML(string=html, base_url=TEMPLATES_DIR.as_uri() + "/", url_fetcher=TemplateOnlyFetcher()).render(
        pdf_variant="pdf/ua-1")
    # A content-derived identifier keeps re-runs byte-identical (WeasyPrint would otherwise hash the time).
    return doc, hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")


def _write(doc, path: Path, identifier: bytes, run_date) -> None:
    """Write a tagged PDF/UA-1, reproducibly."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    epoch = datetime.datetime.fromisoformat(str(run_date)).replace(tzinfo=datetime.timezone.utc) if run_date else None
    # fontTools stamps subset fonts with "now" unless SOURCE_DATE_EPOCH is set (reproducible-builds spec).
    with _source_date_epoch(int(epoch.timestamp()) if epoch else 0), cached_page_references():
        doc.write_pdf(path, pdf_variant="pdf/ua-1", pdf_identifier=identifier)


def render_pdf(template_name: str, context: dict, path: Path) -> None:
    """Jinja2 (autoescaped) -> WeasyPrint tagged PDF/UA-1, resources only via TemplateOnlyFetcher."""
    doc, identifier = _layout(template_name, context)
    _write(doc, path, identifier, context.get("run_date"))


_EPOCH_LOCK = threading.Lock()


@contextlib.contextmanager
def _source_date_epoch(seconds: int):
    with _EPOCH_LOCK:
        old = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = str(seconds)
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = old


def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: (None if _is_na(v) else v) for k, v in r.items()} for r in df.to_dict("records")]


def _is_na(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _previous_term(history: pd.DataFrame, term: str) -> str | None:
    earlier = [t for t in map(str, history["term"].dropna().unique()) if _term_sort_key(t) < _term_sort_key(term)]
    return max(earlier, key=_term_sort_key) if earlier else None


def _with_int_urn(df: pd.DataFrame) -> pd.DataFrame:
    """URNs as Int64 everywhere, so lookups across tables match whether a stage wrote 100001 or "100001"."""
    if "urn" not in df.columns or df.empty:
        return df
    df = df.copy()
    df["urn"] = pd.to_numeric(df["urn"], errors="coerce").astype("Int64")
    return df


# --------------------------------------------------------------------------------------------
# The front page and the profiles: reasons in words, movers, data notes, small charts
# --------------------------------------------------------------------------------------------

LEVEL_RANK = {"low": 1, "medium": 2, "high": 3}
FRONT_MOVERS = 6  # rows of movers that fit the front page with everything else; the rest follow on their own page
FRONT_ACADEMIES = 4  # named per step of the route on the front page
REASON_CHARS = 115  # at most two printed lines in the reason column


def reason_items(line: str) -> tuple[str, list[tuple[str, str, str]]]:
    """Split one line of `reasons` ("<heading>: wording [id] (evidence); wording [id] (evidence)") into the
    heading and (wording, id, evidence) items. Evidence may itself hold "; " and nested brackets, so the line is
    scanned rather than split."""
    head, sep, rest = line.partition(": ")
    if not sep or " [" not in rest:
        return line, []
    items, i = [], 0
    while i < len(rest):
        j = rest.find(" [", i)
        k = rest.find("]", j)
        if j < 0 or k < 0:
            break
        wording, cid = rest[i:j], rest[j + 2:k]
        evidence, i = "", k + 1
        if rest.startswith(" (", i):
            depth, start = 0, i + 1
            for pos in range(start, len(rest)):
                depth += {"(": 1, ")": -1}.get(rest[pos], 0)
                if depth == 0:
                    evidence, i = rest[start + 1:pos], pos + 1
                    break
            else:
                evidence, i = rest[start + 1:], len(rest)
        items.append((wording.strip(), cid, _without_id(evidence, cid)))
        if rest.startswith("; ", i):
            i += 2
    return head, items


def _without_id(text: str, cid: str) -> str:
    """Evidence in words: "adviser: <id> (detail restricted)" reads "adviser (detail restricted)"."""
    if not cid:
        return text
    return re.sub(r"\s+", " ", text.replace(f": {cid} ", " ").replace(cid, "")).strip(" :")


def one_line_reason(school: dict) -> str:
    """Why the school is at its level, in one line of words: moderation, else the overriding condition, else the
    first Strategy bullet of an area that best fits the school's level, else (a level that is the mean of areas at
    other levels) the areas and their levels."""
    lines = [ln for ln in _text(school.get("reasons")).splitlines() if ln.strip()]
    level = _text(school.get("category"))
    pick = (next((ln for ln in lines if ln.startswith("Moderated ")), None)
            or next((ln for ln in lines if ln.startswith("Overriding condition:")), None)
            or next((ln for ln in lines if f" best fits {level} support:" in ln), None))
    if pick is None:
        areas = [reason_items(ln)[0] for ln in lines if " best fits " in ln]
        pick = ("; ".join(areas) + f": {level} on balance") if areas else (lines[0] if lines else "")
    head, items = reason_items(pick)
    if items:
        wording, _, evidence = items[0]
        text = f"{head}: {wording}"
        if evidence and len(text) + len(evidence) + 3 <= REASON_CHARS:
            text += f" ({evidence})"
        if len(items) > 1:
            text += f" (+{len(items) - 1} more)"
    else:
        text = pick
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS - 1].rstrip() + "…"


def movers(cat: pd.DataFrame) -> list[dict]:
    """Schools whose level changed since last term (previous_category vs category, as in categorisation.csv):
    more support first, then by the new level, then by name."""
    out = []
    for school in _records(cat):
        before, now = _text(school.get("previous_category")), _text(school.get("category"))
        if before in LEVEL_RANK and now in LEVEL_RANK and before != now:
            up = LEVEL_RANK[now] > LEVEL_RANK[before]
            out.append({**school, "from": before, "to": now, "more_support": up, "reason": one_line_reason(school)})
    return sorted(out, key=lambda m: (not m["more_support"], -LEVEL_RANK[m["to"]], _text(m["school_name"]), m["urn"]))


def academies_by_step(academies: list[dict]) -> list[dict]:
    """Academies of concern grouped by the next step on the Strategy's route, in route order of first appearance:
    the step's wording once, then the academies (trust) it applies to."""
    steps: dict[str, dict] = {}
    for a in academies:
        key = _text(a.get("next_step"))
        step = steps.setdefault(key, {"step": key, "detail": _text(a.get("next_step_detail")) or key.replace("_", " "),
                                      "academies": []})
        step["academies"].append(f"{_text(a.get('school_name'))} ({_text(a.get('trust'))})" if _text(a.get("trust"))
                                 else _text(a.get("school_name")))
    for step in steps.values():
        names = step["academies"]
        step["shown"] = names[:FRONT_ACADEMIES]
        step["more"] = len(names) - len(step["shown"])
    return list(steps.values())


def data_notes(inputs: ReportInputs) -> list[str]:
    """What the reader must know about the data: the run's own notes (missing feeds, data age, rule-set review),
    then the data-quality warnings, file by file, as in data_quality.csv."""
    notes = [_text(n) for n in inputs.data_notes if _text(n).strip()]
    dq = inputs.data_quality
    if not dq.empty and "check" in dq.columns:
        from ..quality.checks import NOTE_CHECKS

        said = dq["check"].isin(NOTE_CHECKS + ("set_aside",))
        dq = dq[~said & (dq["severity"] != "info")] if "severity" in dq.columns else dq[~said]
    if not dq.empty and "file" in dq.columns:
        files = dq["file"].map(_text)
        for name in sorted(set(files)):
            rows = dq[files == name]
            first = _text(rows["message"].iloc[0]) if "message" in rows.columns else ""
            n = len(rows)
            notes.append(f"{name or 'A file'}: {n} data-quality warning{'s' if n != 1 else ''}"
                         + (f", e.g. {first}" if first else "") + " (Appendix A).")
    return notes


def _years_before(year: str, k: int) -> str:
    m = re.fullmatch(r"(\d{4})-(\d{2})", _text(year))
    if not m:
        return f"{k} year{'s' if k > 1 else ''} earlier"
    start = int(m.group(1)) - k
    return f"{start}-{(start + 1) % 100:02d}"


def _fmt(v, unit: str = "", signed: bool = False) -> str:
    if v is None or _is_na(v):
        return "–"
    return f"{v:+.1f}{unit}" if signed else f"{v:.1f}{unit}"


def _progress_rows(raw) -> list[dict]:
    """[label, score, lower, upper] -> a row with the verdict against national (0), from the CI."""
    rows = []
    for label, score, lower, upper in (json.loads(raw) if _text(raw) else []):
        if upper is not None and upper < 0:
            verdict = "significantly below national"
        elif lower is not None and lower > 0:
            verdict = "significantly above national"
        elif score is None:
            verdict = "not published"
        else:
            verdict = "not significantly different from national"
        ci = f"{_fmt(lower, signed=True)} to {_fmt(upper, signed=True)}" if lower is not None and upper is not None else "–"
        rows.append({"label": label, "score": _fmt(score, signed=True), "ci": ci, "verdict": verdict,
                     "spark": _ci_svg(score, lower, upper)})
    return rows


# Small charts drawn as literal SVG: one matplotlib figure per school would cost about 0.1 s each, minutes for a
# county's two editions; these are a few hundred bytes and no layout time.
def _svg_data(body: str, w: int, h: int, title: str) -> str:
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
           f"<title>{_xml(title)}</title>{body}</svg>")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _xml(t: str) -> str:
    return _text(t).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _trend_svg(values: list, national: list, title: str) -> str | None:
    """School (solid, dots) against national (dashed) over up to three years."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None and not _is_na(v)]
    nat = [(i, v) for i, v in enumerate(national) if v is not None and not _is_na(v)]
    if len(pts) < 2:
        return None
    w, h, pad = 90, 24, 4
    allv = [v for _, v in pts + nat]
    lo, hi = min(allv), max(allv)
    span = (hi - lo) or 1.0
    x = lambda i: pad + i * (w - 2 * pad) / max(len(values) - 1, 1)
    y = lambda v: h - pad - (v - lo) * (h - 2 * pad) / span
    path = lambda ps: " ".join(f"{'M' if n == 0 else 'L'}{x(i):.1f},{y(v):.1f}" for n, (i, v) in enumerate(ps))
    body = ""
    if len(nat) >= 2:
        body += f'<path d="{path(nat)}" fill="none" stroke="#555" stroke-width="1" stroke-dasharray="3,2"/>'
    elif nat:
        body += f'<path d="M{pad},{y(nat[0][1]):.1f} H{w - pad}" stroke="#555" stroke-width="1" stroke-dasharray="3,2"/>'
    body += f'<path d="{path(pts)}" fill="none" stroke="#1f3b5a" stroke-width="1.5"/>'
    body += "".join(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2" fill="#1f3b5a"/>' for i, v in pts)
    return _svg_data(body, w, h, title)


def _ci_svg(score, lower, upper) -> str | None:
    """A confidence interval against national (0) on a fixed -6..+6 scale."""
    if lower is None or upper is None or score is None:
        return None
    w, h, lim = 90, 14, 6.0
    x = lambda v: 3 + (max(-lim, min(lim, v)) + lim) * (w - 6) / (2 * lim)
    colour = "#b2182b" if upper < 0 else "#4393c3" if lower > 0 else "#555"
    body = (f'<path d="M{x(0):.1f},1 V{h - 1}" stroke="#999" stroke-width="0.8"/>'
            f'<path d="M{x(lower):.1f},{h / 2} H{x(upper):.1f}" stroke="{colour}" stroke-width="2"/>'
            f'<circle cx="{x(score):.1f}" cy="{h / 2}" r="2.5" fill="{colour}"/>')
    return _svg_data(body, w, h, f"Progress {score:+.1f}, confidence interval {lower:+.1f} to {upper:+.1f}")


def _figures(ind: dict | None) -> dict:
    """A school's profile figures from the indicator table row (None: no figures for this school)."""
    if not ind:
        return {}
    year = _text(ind.get("att_year"))
    unit = "%" if ind.get("ks") == "KS2" else ""
    att = None
    if ind.get("ks"):
        values = [ind.get("att_prev2"), ind.get("att_prev1"), ind.get("att_value")]
        national = [None, ind.get("att_national_prev1"), ind.get("att_national")]
        att = {"label": _text(ind.get("att_label")), "years": [_years_before(year, 2), _years_before(year, 1), year or "latest"],
               "values": [_fmt(v, unit) for v in values], "national": _fmt(ind.get("att_national"), unit),
               "reason": _text(ind.get("att_reason")),
               "spark": _trend_svg(values, national, f"{_text(ind.get('att_label'))} over three years against national")}
    absence = {"year": _text(ind.get("absence_year")),
               "overall": _fmt(ind.get("overall_absence"), "%"), "overall_nat": _fmt(ind.get("overall_absence_national"), "%"),
               "prev": _fmt(ind.get("absence_prev"), "%"),
               "persistent": _fmt(ind.get("persistent_absence"), "%"),
               "persistent_nat": _fmt(ind.get("persistent_absence_national"), "%")}
    gap = {"gap": _fmt(ind.get("disadv_gap")), "national": _fmt(ind.get("disadv_gap_national"))}
    ofsted = [t for t in (
        f"Report card: {_text(ind.get('ofsted_report_card'))}" if _text(ind.get("ofsted_report_card")) else "",
        f"Overall effectiveness (previous framework): {_text(ind.get('ofsted_oeif'))}" if _text(ind.get("ofsted_oeif")) else "",
        f"Ungraded inspection: {_text(ind.get('ofsted_ungraded'))}" if _text(ind.get("ofsted_ungraded")) else "",
        f"Category of concern: {_text(ind.get('ofsted_category'))}" if _text(ind.get("ofsted_category")) else "",
    ) if t]
    return {"ks": _text(ind.get("ks")), "attainment": att, "progress": _progress_rows(ind.get("progress")),
            "absence": absence, "gap": gap, "ofsted": ofsted}


def _bullets(school: dict) -> list[dict]:
    """The Strategy's bullets behind the school's level, in words with their evidence, area by area. Bullets that
    rest on the same evidence (one adviser visit, say) are listed under it once."""
    out = []
    for line in [ln for ln in _text(school.get("reasons")).splitlines() if ln.strip()]:
        head, items = reason_items(line)
        groups: dict[str, list[str]] = {}
        for wording, _, evidence in items:
            groups.setdefault(evidence, []).append(wording)
        out.append({"heading": head, "groups": [{"evidence": e, "wordings": w} for e, w in groups.items()],
                    "text": "" if items else line})
    return out


def _context(inputs: ReportInputs, edition: str) -> dict:
    inputs = dataclasses.replace(inputs, **{
        name: _with_int_urn(getattr(inputs, name))
        for name in ("categorisation", "evidence", "history", "letters", "laig_notes", "intelligence")
    })
    cat = _sorted(inputs.categorisation, ["urn"])
    n = len(cat)
    cats = cat["category"].astype(object).map(_text) if n else pd.Series(dtype=object)
    levels = [c for c in LEVELS] + sorted(set(cats) - set(LEVELS) - {""})
    level_rows = [
        {"level": c, "label": LEVEL_LABELS.get(c, c), "count": int((cats == c).sum()),
         "pct": (100.0 * (cats == c).sum() / n) if n else None}
        for c in levels
    ]

    gob = cat["good_or_better"] if "good_or_better" in cat.columns else pd.Series(dtype=object)
    gob_known = gob[gob.map(lambda v: not _is_na(v))]
    good = {"yes": int(gob_known.map(bool).sum()), "known": len(gob_known), "unknown": n - len(gob_known),
            "pct": (100.0 * gob_known.map(bool).sum() / n) if n else None}

    history = inputs.history.copy()
    history["term"] = history["term"].astype(str)
    prev = _previous_term(history, inputs.term)
    if prev:  # last term's counts as last term's report showed them (whole LA, from the history)
        last = history[history["term"] == prev].drop_duplicates("urn", keep="last")["category"].astype(object).map(_text)
        for r in level_rows:
            r["previous"] = int((last == r["level"]).sum())
            r["change"] = r["count"] - r["previous"]
    transitions = None
    if prev:
        before = history[history["term"] == prev].drop_duplicates("urn", keep="last").set_index("urn")["category"]
        from_cat = cat["urn"].map(before).map(lambda v: _text(v) or "new")
        tab = pd.crosstab(from_cat.rename("from"), cats.rename("to"))
        row_order = [c for c in (*LEVELS, "new") if c in tab.index] + sorted(set(tab.index) - {*LEVELS, "new"})
        col_order = [c for c in LEVELS if c in tab.columns] + sorted(set(tab.columns) - set(LEVELS))
        tab = tab.reindex(index=row_order, columns=col_order, fill_value=0)
        transitions = {"previous_term": prev, "columns": col_order,
                       "rows": [{"from": r, "cells": [int(tab.at[r, c]) for c in col_order]} for r in row_order]}

    letters = _sorted(inputs.letters, ["urn", "letter"])
    letter_counts = (
        [{"letter": k, "count": int(v)} for k, v in letters["letter"].value_counts().sort_index().items()]
        if not letters.empty else []
    )

    dist_uri, dist_alt, _ = chart_distribution(history, inputs.term)
    charts = {"distribution": {"uri": dist_uri, "alt": dist_alt}}
    ind = inputs.indicators
    if not ind.empty:
        uri, alt = chart_vs_national(ind)
        charts["national"] = {"uri": uri, "alt": alt}
        uri, alt = chart_disadvantaged_gap(ind)
        charts["gap"] = {"uri": uri, "alt": alt}

    by_level = [
        {"level": c, "label": LEVEL_LABELS.get(c, c),
         "schools": [{**s, "short_reason": one_line_reason(s)} for s in _records(cat[cats == c])]}
        for c in levels if (cats == c).any()
    ]
    moved = movers(cat)
    new_schools = int(cat["previous_category"].map(lambda v: _text(v) not in LEVEL_RANK).sum()) \
        if "previous_category" in cat.columns else 0
    academies = _records(_sorted(inputs.academy_concerns, ["urn"]))
    ind_by_urn = ({int(r["urn"]): r for r in _records(_with_int_urn(ind)) if r.get("urn") is not None}
                  if not ind.empty and "urn" in ind.columns else {})

    # Profiles in both editions; the general one is built from the general view, so the confidential detail
    # (LAIG, LA intelligence, adviser notes) is already gone from what it is given.
    terms = sorted(history["term"].unique(), key=_term_sort_key)
    hist_by_urn = {u: g.set_index("term")["category"] for u, g in history.groupby("urn", sort=False)}
    let_by_urn = {u: g for u, g in letters.groupby("urn", sort=False)} if not letters.empty else {}
    laig = _sorted(inputs.laig_notes, ["urn", "meeting_date"])
    laig_by_urn = {u: g for u, g in laig.groupby("urn", sort=False)} if not laig.empty else {}
    intel = _sorted(inputs.intelligence, ["urn", "raised_on", "flag"])
    intel_by_urn = {u: g for u, g in intel.groupby("urn", sort=False)} if not intel.empty else {}
    empty = pd.DataFrame()
    profiles = []
    for school in _records(cat):
        u = school["urn"]
        h = hist_by_urn.get(u, pd.Series(dtype=object))
        profiles.append({
            "school": school,
            "trend": [{"term": t, "category": _text(h.get(t))} for t in terms[-6:]],
            "figures": _figures(ind_by_urn.get(u)),
            "bullets": _bullets(school),
            "letters": _records(let_by_urn.get(u, empty)),
            "laig": _records(laig_by_urn.get(u, empty)),
            "intelligence": _records(intel_by_urn.get(u, empty)),
        })

    return {
        "edition": edition,
        "edition_label": edition.upper(),
        "la_code": inputs.la_code,
        "la_name": inputs.la_name,
        "term": inputs.term,
        "rule_set_id": inputs.rule_set_id,
        "rule_set_title": inputs.rule_set_title,
        "run_date": inputs.run_date.isoformat(),
        "run_date_long": f"{inputs.run_date.day} {inputs.run_date:%B %Y}",
        "n_schools": n,
        "level_rows": level_rows,
        "previous_term": prev,
        "movers": moved,
        "front_movers": moved[:FRONT_MOVERS],
        "n_more_support": sum(m["more_support"] for m in moved),
        "n_less_support": sum(not m["more_support"] for m in moved),
        "n_new_schools": new_schools,
        "academy_steps": academies_by_step(academies),
        "data_notes": data_notes(inputs),
        "gap_chart_max": GAP_CHART_MAX_SCHOOLS,
        "good": good,
        "no_ofsted": "ofsted" not in set(inputs.provenance.get("kind", pd.Series(dtype=object)).astype(str)),
        "transitions": transitions,
        "letter_counts": letter_counts,
        "n_letters": len(letters),
        "letters_table": _records(letters),
        "n_academy_concerns": int(inputs.academy_concerns["urn"].nunique()) if not inputs.academy_concerns.empty else 0,
        "academy_note": inputs.academy_note,
        "academy_concerns": academies,
        "charts": charts,
        "by_level": by_level,
        "profiles": profiles,
        "data_quality": _records(_sorted(inputs.data_quality, CSV_SPECS["data_quality.csv"][1])),
        "provenance": _records(_sorted(inputs.provenance, ["kind", "file"])),
    }


def _draft_context(inputs: ReportInputs, draft: dict) -> dict:
    d = dict(draft)
    when = d.get("date") or inputs.run_date
    d["date_long"] = f"{when.day} {when:%B %Y}" if isinstance(when, datetime.date) else _text(when)
    d["actions"] = [
        {"action": _text(a.get("action")), "by_date": (f"{a['by_date'].day} {a['by_date']:%B %Y}"
                                                       if isinstance(a.get("by_date"), datetime.date) else _text(a.get("by_date")))}
        for a in d.get("actions") or []
    ]
    return d


def render_drafts(inputs: ReportInputs, drafts: list[dict], folder: Path) -> list[Path]:
    """One PDF per flagged school, plus `draft_letters.pdf` with them all for the Director's review.

    The letters are laid out once and each school's pages written from that layout: a layout per
    letter would cost seconds each, minutes for a county.
    """
    if not drafts:
        return []
    context = {"la_name": inputs.la_name, "la_code": inputs.la_code, "term": inputs.term,
               "rule_set_id": inputs.rule_set_id, "run_date": inputs.run_date.isoformat(),
               "drafts": [_draft_context(inputs, d) for d in drafts]}
    doc, identifier = _layout("letter.html.j2", context)
    combined = folder / "draft_letters.pdf"
    _write(doc, combined, identifier, context["run_date"])
    starts = {}
    for i, page in enumerate(doc.pages):
        for name in page.anchors:
            starts.setdefault(name, i)
    bounds = [starts[f"letter-{i}"] for i in range(len(drafts))] + [len(doc.pages)]
    written = [combined]
    for i, d in enumerate(drafts):
        path = folder / f"{_urn_key(d['urn'])}-{_safe_name(_text(d['letter']))}.pdf"
        part = doc.copy(doc.pages[bounds[i]:bounds[i + 1]])
        part.metadata.title = f"DRAFT {_text(d.get('letter_title'))}: {_text(d.get('school_name'))}"
        _write(part, path, hashlib.sha256(identifier + path.name.encode()).hexdigest()[:32].encode("ascii"),
               context["run_date"])
        written.append(path)
    return written


def build_edition(inputs: ReportInputs, out_dir: Path, edition: str) -> list[Path]:
    """Write one edition into out_dir and return the files written (sorted)."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, not {edition!r}")
    view = inputs if edition == "restricted" else general_view(inputs)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # A re-run into the same folder must not leave last run's drafts (or restricted files) behind.
    shutil.rmtree(out_dir / "drafts", ignore_errors=True)
    (out_dir / "evidence.csv").unlink(missing_ok=True)
    written: list[Path] = []

    frames = {
        "categorisation.csv": view.categorisation, "letters.csv": view.letters,
        "academy_concerns.csv": view.academy_concerns, "member_alerts.csv": view.member_alerts,
        "data_quality.csv": view.data_quality, "evidence.csv": view.evidence,
    }
    sheets = {}
    for name, (columns, keys) in CSV_SPECS.items():
        if name in RESTRICTED_ONLY_CSVS and edition != "restricted":
            continue
        path = out_dir / name
        frame = _sorted(frames[name], keys)
        write_csv(frame, path, columns)
        written.append(path)
        sheets[name.removesuffix(".csv")] = (frame, columns)  # the workbook: the same frames as the CSVs
    from .workbook import write_workbook

    written.append(write_workbook(sheets, out_dir / WORKBOOK_NAME, inputs.run_date, LEVEL_COLOURS))

    path = out_dir / "report.pdf"
    render_pdf("report.html.j2", _context(view, edition), path)
    written.append(path)

    if edition == "restricted":
        drafts = sorted(view.drafts, key=lambda d: (_urn_key(d.get("urn")), _text(d.get("letter"))))
        written += render_drafts(view, drafts, out_dir / "drafts")
    return sorted(written)


def _safe_name(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s) or "letter"

