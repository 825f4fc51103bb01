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
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
import matplotlib
import pandas as pd

matplotlib.use("Agg")  # no display on workers; must precede pyplot import
import matplotlib.pyplot as plt  # noqa: E402
from weasyprint import HTML  # noqa: E402
from weasyprint.urls import FatalURLFetchingError, URLFetcher  # noqa: E402

from . import TEMPLATES_DIR  # noqa: E402
from .pdf_pages import cached_page_references  # noqa: E402
from .terms import Term  # noqa: E402

EDITIONS = ("restricted", "general")

# CSV columns, in the order written. Missing columns are written empty so the layout never shifts.
CATEGORISATION_COLUMNS = [
    "urn", "school_name", "phase", "school_type", "ward", "adviser", "category", "computed_category",
    "best_fit_category", "previous_category", "direction_of_travel", "override_reason", "override_by",
    "override_on", "criteria_met", "reasons", "overriding_condition", "visits_planned", "laig_reviews_planned",
    "support_plan", "rule_set", "term", "good_or_better",
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
INTEGER_COLUMNS = {"urn", "row", "rows", "visits_planned"}

LEVELS = ("high", "medium", "low")
LEVEL_LABELS = {"high": "High level of support", "medium": "Medium level of support", "low": "Low level of support"}
LETTER_LABELS = {
    "congratulations": "Congratulations letter",
    "significant_concerns_letter": "Significant concerns letter",
    "warning_notice": "Warning notice",
    "significant_concerns": "Significant concerns",
}
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


def _neutralise(value):
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
    # Short or numeric strings ("12", "Yes") would match innocent text; they are not detail anyway.
    return {s.strip() for s in snippets if len(s.strip()) >= 6 and not _looks_numeric(s)}


def _looks_numeric(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _scrub_parts(text: str, snippets: set[str], private_wordings: dict[str, str]) -> str:
    """Replace each "; "-separated part that carries confidential detail with its generalised form."""
    if not text:
        return text
    out = []
    for part in text.split("; "):
        replacement = None
        for wording, general in private_wordings.items():
            if wording and (part == wording or part.startswith(wording)):
                replacement = general
                break
        if replacement is None and any(s in part for s in snippets):
            replacement = f"LA information {RESTRICTED_TEXT}"
        out.append(replacement or part)
    return "; ".join(dict.fromkeys(out))  # keep order, drop repeats of the same generalised text


def _scrub_frame(df: pd.DataFrame, snippets: set[str], wordings_by_urn: dict, text_cols: list[str]) -> pd.DataFrame:
    df = df.copy()
    for col in df.columns:
        if pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
            continue
        values = []
        for urn, v in zip(df["urn"] if "urn" in df.columns else [None] * len(df), df[col]):
            t = _text(v)
            if col in text_cols:
                t2 = _scrub_parts(t, snippets, wordings_by_urn.get(_urn_key(urn), {}))
            elif any(s in t for s in snippets):
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
    snippets = _confidential_snippets(inputs)
    text_cols = ["reasons", "overriding_condition", "override_reason", "evidence", "escalation_note", "reason",
                 "concerns", "next_step"]

    def scrub(df: pd.DataFrame) -> pd.DataFrame:
        # Stages that know what is confidential write a `<column>_general` twin: use it, then scrub anyway.
        for col in [c for c in df.columns if f"{c}_general" in df.columns]:
            df = df.assign(**{col: df[f"{col}_general"]}).drop(columns=[f"{col}_general"])
        return _scrub_frame(df, snippets, wordings_by_urn, text_cols)

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

LEVEL_COLOURS = {"high": "#b2182b", "medium": "#f4a582", "low": "#4393c3"}


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
    d = ind[["school_name", "disadv_gap", "disadv_gap_national"]].dropna(subset=["disadv_gap"])
    d = d.sort_values(["disadv_gap", "school_name"], kind="mergesort")
    n = len(d)
    national = pd.to_numeric(d["disadv_gap_national"], errors="coerce").dropna()
    with matplotlib.rc_context(_MPL_RC):
        # One bar per school; the page is the limit, so shrink the labels rather than split the chart.
        height = min(9.0, max(2.5, 0.16 * n + 1))
        fig, ax = plt.subplots(figsize=(7, height))
        colours = ["#b2182b" if (len(national) and g > national.iloc[0]) else "#4393c3" for g in d["disadv_gap"]]
        ax.barh(range(n), d["disadv_gap"], color=colours)
        ax.set_yticks(range(n), [_text(s) for s in d["school_name"]], fontsize=max(3, min(7, 400 / max(n, 1))))
        if len(national):
            ax.axvline(national.iloc[0], color="black", linestyle="--", linewidth=1,
                       label=f"National gap ({national.iloc[0]:.1f} points)")
            ax.legend(loc="lower right", frameon=False)
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.set_xlabel("Gap: other pupils minus disadvantaged pupils, % meeting expected RWM (points)")
        ax.spines[["top", "right"]].set_visible(False)
        uri = _svg_uri(fig)
    wider = int((d["disadv_gap"] > national.iloc[0]).sum()) if len(national) else 0
    alt = (
        f"Horizontal bar chart of the disadvantaged attainment gap for {n} schools, smallest first. "
        + (f"{wider} schools have a gap wider than the national gap of {national.iloc[0]:.1f} points." if len(national) else "")
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
        {"level": c, "label": LEVEL_LABELS.get(c, c), "schools": _records(cat[cats == c])}
        for c in levels if (cats == c).any()
    ]

    profiles = []
    if edition == "restricted":
        ev = _sorted(inputs.evidence, ["urn", "criterion_id", "source", "measure"])
        laig = _sorted(inputs.laig_notes, ["urn", "meeting_date"])
        terms = sorted(history["term"].unique(), key=_term_sort_key)
        hist_by_urn = {u: g.set_index("term")["category"] for u, g in history.groupby("urn", sort=False)}
        ev_by_urn = {u: g for u, g in ev.groupby("urn", sort=False)} if not ev.empty else {}
        let_by_urn = {u: g for u, g in letters.groupby("urn", sort=False)} if not letters.empty else {}
        laig_by_urn = {u: g for u, g in laig.groupby("urn", sort=False)} if not laig.empty else {}
        intel = _sorted(inputs.intelligence, ["urn", "raised_on", "flag"])
        intel_by_urn = {u: g for u, g in intel.groupby("urn", sort=False)} if not intel.empty else {}
        empty = pd.DataFrame()
        for school in _records(cat):
            u = school["urn"]
            h = hist_by_urn.get(u, pd.Series(dtype=object))
            profiles.append({
                "school": school,
                "trend": [{"term": t, "category": _text(h.get(t))} for t in terms],
                "evidence": _records(ev_by_urn.get(u, empty)),
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
        "good": good,
        "transitions": transitions,
        "letter_counts": letter_counts,
        "n_letters": len(letters),
        "letters_table": _records(letters),
        "n_academy_concerns": int(inputs.academy_concerns["urn"].nunique()) if not inputs.academy_concerns.empty else 0,
        "academy_note": inputs.academy_note,
        "academy_concerns": _records(_sorted(inputs.academy_concerns, ["urn"])),
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
    for name, (columns, keys) in CSV_SPECS.items():
        if name in RESTRICTED_ONLY_CSVS and edition != "restricted":
            continue
        path = out_dir / name
        write_csv(_sorted(frames[name], keys), path, columns)
        written.append(path)

    path = out_dir / "report.pdf"
    render_pdf("report.html.j2", _context(view, edition), path)
    written.append(path)

    if edition == "restricted":
        drafts = sorted(view.drafts, key=lambda d: (_urn_key(d.get("urn")), _text(d.get("letter"))))
        written += render_drafts(view, drafts, out_dir / "drafts")
    return sorted(written)


def _safe_name(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s) or "letter"

