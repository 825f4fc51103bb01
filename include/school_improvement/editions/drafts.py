"""The draft letters for the Director's review: laid out once, then one PDF per school cut from that layout."""

from __future__ import annotations

import datetime
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .cells import _text, _urn_key
from . import draw_text
from .render import _layout, _write

if TYPE_CHECKING:
    from .report import ReportInputs


def _draft_context(inputs: ReportInputs, draft: dict) -> dict:
    d = dict(draft)
    if "recognition" not in d:  # a draft flagged before letters carried their words (a report re-run on it)
        d.update(_letter_words(inputs.rule_set_id, _text(d.get("letter"))))
    when = d.get("date") or inputs.run_date
    d["date_long"] = f"{when.day} {when:%B %Y}" if isinstance(when, datetime.date) else _text(when)
    d["weekday_years"] = weekday_years(d, when)  # before the dates become words
    d["actions"] = [
        {"action": _text(a.get("action")), "by_date": (f"{a['by_date'].day} {a['by_date']:%B %Y}"
                                                       if isinstance(a.get("by_date"), datetime.date) else _text(a.get("by_date")))}
        for a in d.get("actions") or []
    ]
    return d


def weekday_years(draft: dict, when=None) -> list[str]:
    """The academic years the term calendar has no dates for, in which a draft's deadlines were counted: there every
    weekday counts as a school day (decisions.letters), holidays and closures not left out. Said on the draft and the
    front page, never a quiet guess; empty when the calendar covers every day counted."""
    from ..terms import TermCalendar

    when = when or draft.get("date")
    ends = [a.get("by_date") for a in draft.get("actions") or []]
    ends = [e for e in ends if isinstance(e, datetime.date)]
    if not isinstance(when, datetime.date) or not ends:
        return []
    return TermCalendar.load().years_not_listed(when, max(ends))


# data_quality.csv's check for drafts whose deadlines were counted in weekdays: the front page's letters say it.
WEEKDAY_DEADLINES = "letter_deadlines_weekdays"


def weekday_deadlines_problem(drafts: list[dict], la_code: str | None = None):
    """One warning naming how many drafts' deadlines were counted in weekdays, and for which academic years; or, for an
    LA the term calendar is not for (its `calendar_of`), that they were counted on another LA's school days and
    half-terms; None when every deadline was counted on the LA's own term calendar's school days."""
    from ..errors import Problem
    from ..terms import TermCalendar

    counted = [y for y in (weekday_years(d) for d in drafts) if y]
    cal = TermCalendar.load()
    dated = [d for d in drafts if any(isinstance(a.get("by_date"), datetime.date) for a in d.get("actions") or [])]
    if not counted and dated and la_code and cal.of_las and str(la_code) not in cal.of_las:
        n = len(dated)
        letters = "letters'" if n != 1 else "letter's"
        return Problem(
            "include/calendar/term_dates.yaml", None, None,
            f"{n} draft {letters} deadlines are counted "
            f"on {cal.of_name or 'another LA'}'s school days and half-terms, the term calendar's, not the LA's own. "
            "Check each date before sending, or give the calendar the LA's own term dates",
            "warning", WEEKDAY_DEADLINES)
    if not counted:
        return None
    years = list(dict.fromkeys(y for ys in counted for y in ys))
    n = len(counted)
    return Problem(
        "include/calendar/term_dates.yaml", None, None,
        f"{n} draft {'letters' if n != 1 else 'letter'}{chr(39) if n != 1 else chr(39) + 's'} deadlines are counted in weekdays, holidays and "
        f"closures not left out: the term calendar has no dates {', '.join(years)}. Check each date before "
        "sending, or add the year's term dates to the calendar and run the term again",
        "warning", WEEKDAY_DEADLINES)


def _letter_words(rule_set_id: str, letter: str) -> dict:
    """Whether the letter congratulates, and its opening and closing, from the rule set that flagged it."""
    from ..errors import RulesError
    from ..rules import load_rule_set

    try:
        rule = load_rule_set(rule_set_id).letters.get(letter)
    except RulesError:
        rule = None
    return {"recognition": bool(rule and rule.recognition), "opening": rule and rule.opening,
            "closing": rule and rule.closing}


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
    draw_text.lines_drawn_again(doc.font_config)  # each school's pages are drawn again, into a file of their own
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


def _safe_name(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", s) or "letter"
