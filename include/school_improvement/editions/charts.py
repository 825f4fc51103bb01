"""Charts as SVG data: URIs (the URL fetcher never needs the file system for them): matplotlib for the few
whole-LA charts, literal SVG for the per-school sparklines (a matplotlib figure per school would cost minutes)."""

from __future__ import annotations

import base64
import functools
import hashlib
import io

import matplotlib
import pandas as pd

matplotlib.use("Agg")  # no display on workers; must precede pyplot import
import matplotlib.pyplot as plt  # noqa: E402

from .cells import LEVEL_LABELS, _is_na, _term_sort_key, _text  # noqa: E402


_MPL_RC = {
    "svg.hashsalt": "school-improvement",  # stable element ids
    "svg.fonttype": "none",  # real text in the SVG: selectable, smaller, no glyph paths
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "text.parse_math": False,  # a "$" in a school name is text, not mathtext
}
# Colour-blind safe (ColorBrewer RdBu: red and blue differ for every common colour-vision deficiency, and the
# three differ in lightness, so they also survive greyscale printing). The level is always named in text too.
LEVEL_COLOURS = {"high": "#b2182b", "medium": "#f4a582", "low": "#4393c3"}
# A rule set's own levels (least support first), by how many it has: blue for the least support to red for the most.
_RAMPS = {2: ("#4393c3", "#b2182b"), 3: ("#4393c3", "#f4a582", "#b2182b"),
          4: ("#4393c3", "#92c5de", "#f4a582", "#b2182b"), 5: ("#4393c3", "#92c5de", "#f4a582", "#d6604d", "#b2182b"),
          6: ("#2166ac", "#4393c3", "#92c5de", "#f4a582", "#d6604d", "#b2182b")}


def level_colours(levels=("low", "medium", "high")) -> dict[str, str]:
    """The colour of each of a rule set's levels (the seed's: LEVEL_COLOURS); levels named otherwise were all grey."""
    return dict(zip(levels, _RAMPS.get(len(levels), ()))) or dict(LEVEL_COLOURS)
GAP_CHART_MAX_SCHOOLS = 25  # bars whose names still print at 8 pt on one page


# The whole-LA charts are the same in both editions (the general view changes neither the history nor the
# indicators), and matplotlib is about 2% of a term's reports' CPU: a chart is drawn once per content of its
# inputs and the same SVG returned again. Keyed by a hash of every value, index and column name (and dtype), so
# other data never gets an earlier chart; a few entries only (one term's charts).
_CHART_MEMO_SIZE = 8
_chart_memo: dict[tuple, object] = {}


def _frame_key(frame: pd.DataFrame) -> bytes:
    digest = hashlib.sha256()
    digest.update(repr((list(map(str, frame.columns)), list(map(str, frame.dtypes)))).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).values.tobytes())
    return digest.digest()


def _memo_by_content(draw):
    """`draw(frame, *args)` once per content of `frame` and value of `args`; the same result again after."""

    @functools.wraps(draw)
    def memoised(frame: pd.DataFrame, *args):
        try:
            key = (draw.__name__, _frame_key(frame), args)
            hash(key)
        except TypeError:  # a value that cannot be hashed: drawn as before
            return draw(frame, *args)
        if key not in _chart_memo:
            while len(_chart_memo) >= _CHART_MEMO_SIZE:
                _chart_memo.pop(next(iter(_chart_memo)))
            _chart_memo[key] = draw(frame, *args)
        # A frame returned (the distribution's counts) is the caller's to change: a copy each time.
        return tuple(v.copy() if isinstance(v, pd.DataFrame) else v for v in _chart_memo[key])

    memoised.uncached = draw
    return memoised


def _svg_uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@_memo_by_content
def chart_distribution(history: pd.DataFrame, term: str, levels=("low", "medium", "high")) -> tuple[str, str, pd.DataFrame]:
    terms = sorted({*map(str, history["term"].dropna().unique()), term}, key=_term_sort_key)
    counts = (
        pd.crosstab(history["term"].astype(str), history["category"].astype(str))
        .reindex(index=terms, fill_value=0)
    )
    order, colours = list(reversed(levels)), level_colours(levels)  # most support first
    cats = [c for c in order if c in counts.columns] + sorted(c for c in counts.columns if c not in order)
    counts = counts.reindex(columns=cats, fill_value=0)
    with matplotlib.rc_context(_MPL_RC):
        fig, ax = plt.subplots(figsize=(7, 3.2))
        bottom = pd.Series(0, index=counts.index)
        for c in cats:
            ax.bar(counts.index, counts[c], bottom=bottom, label=LEVEL_LABELS.get(c, c),
                   color=colours.get(c, "#999999"))
            bottom = bottom + counts[c]
        ax.set_ylabel("Number of schools")
        ax.set_title("Schools at each level of support, by term")
        ax.legend(loc="upper left", bbox_to_anchor=(1, 1), frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        uri = _svg_uri(fig)
    parts = [f"{t}: " + ", ".join(f"{int(counts.at[t, c])} {c}" for c in cats) for t in counts.index]
    alt = "Stacked bar chart of the number of schools at each level of support by term. " + "; ".join(parts) + "."
    return uri, alt, counts


@_memo_by_content
def chart_vs_national(ind: pd.DataFrame) -> tuple[str | None, str]:
    """Two histograms of each school's difference from national: attainment (RWM) and absence. With no school's
    figure compared with national in either (results too old to judge, or not supplied), no chart: empty axes read
    as "0 of 0 schools", so the uri is None and the text says why there is nothing to show."""
    att = (ind["rwm_exp"] - ind["rwm_exp_national"]).dropna()
    absn = (ind["overall_absence"] - ind["overall_absence_national"]).dropna()
    if not len(att) and not len(absn):
        return None, ("No school's KS2 or absence figure is compared with national this term (too old to judge, or "
                      "not supplied: the front page says which), so there is nothing to chart.")
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


@_memo_by_content
def chart_disadvantaged_gap(ind: pd.DataFrame) -> tuple[str | None, str]:
    """The widest gaps only: one bar per school at 8 pt, at most GAP_CHART_MAX_SCHOOLS (a county has hundreds,
    which would print in 3 pt); the alt text and the caption give the count for all schools."""
    d = ind[["school_name", "disadv_gap", "disadv_gap_national"]].dropna(subset=["disadv_gap"])
    d = d.sort_values(["disadv_gap", "school_name"], ascending=[False, True], kind="mergesort")
    n = len(d)
    if not n:  # no bar to draw: said, not an empty chart (uri None)
        return None, ("No school has a disadvantaged gap compared this term (too old to judge, or not supplied: the "
                      "front page says which), so there is nothing to chart.")
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
