"""Each school's profile: three years of results against national, progress with its confidence interval, absence,
the disadvantaged gap, Ofsted in both frameworks and the Strategy's bullets with their evidence."""

from __future__ import annotations

import json
import re

from ..evidence.indicators import NO_RESULTS
from .cells import _is_na, _text
from .charts import _ci_svg, _trend_svg
from .front_page import reason_items


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
    more = []  # the other key stage's attainment (an all-through school), under the same year columns
    for o in json.loads(_text(ind.get("att_other")) or "[]"):
        unit_o = "%" if o.get("ks") == "KS2" else ""
        label = _text(o.get("label"))
        if att and _text(o.get("year")) == att["years"][-1]:
            values = [_fmt(o.get("prev2"), unit_o), _fmt(o.get("prev1"), unit_o), _fmt(o.get("value"), unit_o)]
        else:  # another year than the columns': the latest only, its year in the label
            label, values = f"{label} ({_text(o.get('year')) or 'latest'})", ["–", "–", _fmt(o.get("value"), unit_o)]
        more.append({"label": label, "values": values, "national": _fmt(o.get("national"), unit_o)})
    absence = {"year": _text(ind.get("absence_year")),
               "overall": _fmt(ind.get("overall_absence"), "%"), "overall_nat": _fmt(ind.get("overall_absence_national"), "%"),
               "prev": _fmt(ind.get("absence_prev"), "%"),
               "persistent": _fmt(ind.get("persistent_absence"), "%"),
               "persistent_nat": _fmt(ind.get("persistent_absence_national"), "%")}
    gap = {"gap": _fmt(ind.get("disadv_gap")), "national": _fmt(ind.get("disadv_gap_national")), "detail": _gap_detail(ind)}
    if att is None and _text(ind.get("gap_reason")).startswith(NO_RESULTS):
        gap["detail"] = ""  # no results at all (an infant school): the sentence above the table says it, once
    ofsted = [t for t in (
        f"Report card: {_text(ind.get('ofsted_report_card'))}" if _text(ind.get("ofsted_report_card")) else "",
        f"Overall effectiveness (previous framework): {_text(ind.get('ofsted_oeif'))}" if _text(ind.get("ofsted_oeif")) else "",
        f"Ungraded inspection: {_text(ind.get('ofsted_ungraded'))}" if _text(ind.get("ofsted_ungraded")) else "",
        f"Category of concern: {_text(ind.get('ofsted_category'))}" if _text(ind.get("ofsted_category")) else "",
    ) if t]
    more_reasons = json.loads(_text(ind.get("att_other_reasons")) or "[]")  # the other key stage, not judged
    return {"ks": _text(ind.get("ks")), "attainment": att, "attainment_more": more, "attainment_more_reasons": more_reasons,
            "progress": _progress_rows(ind.get("progress")), "absence": absence, "gap": gap, "ofsted": ofsted}


def _gap_detail(ind: dict) -> str:
    """The gap row's line beneath it: the disadvantaged pupils' and the other pupils' own figures and last year's
    gap, or why the gap is not judged (a small cohort, a figure not published). Empty for figures from before these
    were kept (the table then shows the gap alone)."""
    reason = _text(ind.get("gap_reason"))
    if reason:
        return f"Disadvantaged gap: {reason}"
    if _is_na(ind.get("gap_disadv")) or _is_na(ind.get("gap_other")):
        return ""
    unit = "%" if _text(ind.get("gap_ks")) == "KS2" else ""
    text = (f"Disadvantaged pupils {_fmt(ind.get('gap_disadv'), unit)}, other pupils {_fmt(ind.get('gap_other'), unit)}"
            f" ({_text(ind.get('gap_label'))})")
    if not _is_na(ind.get("gap_prev1")):
        text += f"; previous year's gap {_fmt(ind.get('gap_prev1'))} points"
    elif _text(ind.get("gap_note")):
        text += f"; {_text(ind.get('gap_note'))}"
    return text


# Lines of `reasons` (decisions/categorise.py) the profile does not repeat: "Results: ..." restates the figures
# table's attainment and gap (the table shows them, and the gap's detail, beneath it).
RESULTS_LINE = "Results: "
NOT_JUDGED_LINE = "Not judged from data: "


def _bullets(school: dict, shown: tuple[str, ...] = ()) -> list[dict]:
    """The Strategy's bullets behind the school's level, in words with their evidence, area by area. Bullets that
    rest on the same evidence (one adviser visit, say) are listed under it once. The "Results:" line is left out (the
    figures table shows it), and so are the reasons for not judging that `shown` (the figures table) already says."""
    out = []
    for line in [ln for ln in _text(school.get("reasons")).splitlines() if ln.strip()]:
        if line.startswith(RESULTS_LINE):
            continue
        if line.startswith(NOT_JUDGED_LINE):
            items = [r for r in line[len(NOT_JUDGED_LINE):].split(" | ")
                     if not any(r and (r in t or r.startswith(t)) for t in shown)]
            if not items:
                continue
            line = NOT_JUDGED_LINE + " | ".join(items)
        head, items = reason_items(line)
        groups: dict[str, list[str]] = {}
        for wording, _, evidence in items:
            groups.setdefault(evidence, []).append(wording)
        out.append({"heading": head, "groups": [{"evidence": e, "wordings": w} for e, w in groups.items()],
                    "text": "" if items else head})  # a line of its own (e.g. the overriding condition), in words
    return out


def table_reasons(figures: dict) -> tuple[str, ...]:
    """The reasons for not judging that the figures table shows (for `_bullets` not to say them again)."""
    if not figures:
        return ()
    att = figures.get("attainment") or {}
    none = NO_RESULTS if not figures.get("attainment") else ""  # said by the sentence above the table (any phase)
    return tuple(t for t in (att.get("reason", ""), figures["gap"]["detail"], *figures.get("attainment_more_reasons", []),
                             none) if t)


def letter_triggers(letter: dict) -> list[str]:
    """The Strategy's wording of each indicator a letter was flagged on, from its evidence ("<wording> (<id>):
    <figures> | ..."): the profile names the trigger and points to the letters table for the figures, rather than
    printing the whole evidence a second time. Taken from the evidence cell itself, so the general edition shows
    only what its letters table shows."""
    evidence = _text(letter.get("evidence"))
    out = []
    for cid in [c.strip() for c in _text(letter.get("indicators")).split(";") if c.strip()]:
        pos = evidence.find(f" ({cid}): ")
        if pos >= 0:
            out.append(evidence[:pos].rsplit(" | ", 1)[-1])
    return out
