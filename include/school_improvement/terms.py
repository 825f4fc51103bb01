"""School terms: `2025-26-autumn` and the dates the term calendar gives them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import yaml

from . import CALENDAR_FILE

SEASONS = ("autumn", "spring", "summer")
TERM_RE = re.compile(r"^(?P<y1>\d{4})-(?P<y2>\d{2})-(?P<season>autumn|spring|summer)$")


@dataclass(frozen=True, order=True)
class Term:
    start_year: int  # 2025 for 2025-26
    season_index: int  # 0 autumn, 1 spring, 2 summer

    @classmethod
    def parse(cls, text: str) -> "Term":
        m = TERM_RE.match(str(text).strip())
        if not m:
            raise ValueError(f"term {text!r} is not of the form YYYY-YY-autumn|spring|summer, e.g. 2025-26-autumn")
        y1 = int(m["y1"])
        if (y1 + 1) % 100 != int(m["y2"]):
            raise ValueError(f"term {text!r}: {m['y2']} does not follow {y1}")
        return cls(y1, SEASONS.index(m["season"]))

    @property
    def season(self) -> str:
        return SEASONS[self.season_index]

    @property
    def academic_year(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"

    def __str__(self) -> str:
        return f"{self.academic_year}-{self.season}"

    def previous(self) -> "Term":
        if self.season_index == 0:
            return Term(self.start_year - 1, 2)
        return Term(self.start_year, self.season_index - 1)

    def next(self) -> "Term":
        if self.season_index == 2:
            return Term(self.start_year + 1, 0)
        return Term(self.start_year, self.season_index + 1)

    def nominal_dates(self) -> tuple[date, date]:
        """Dates used when the calendar has no entry: Sep-Dec, Jan-Mar, Apr-Jul."""
        y = self.start_year
        return [(date(y, 9, 1), date(y, 12, 31)), (date(y + 1, 1, 1), date(y + 1, 3, 31)),
                (date(y + 1, 4, 1), date(y + 1, 8, 31))][self.season_index]

    def dates(self, calendar: "TermCalendar | None" = None) -> tuple[date, date]:
        cal = calendar or TermCalendar.load()
        return cal.term_dates(self) or self.nominal_dates()

    @property
    def reference_date(self) -> date:
        """The date that chooses the rule set in force: the term's start."""
        return self.dates()[0]


def term_for_date(d: date, calendar: "TermCalendar | None" = None) -> Term:
    """The term a date falls in, holidays included: from a term's first day to the day before the next starts.

    The term calendar decides (the Easter holiday moves); outside its years, Sep-Dec, Jan-Mar and Apr-Aug.
    """
    cal = calendar if calendar is not None else TermCalendar.load()
    starts = sorted((w.start, t) for t, w in cal.windows.items())
    if starts and starts[0][0] <= d < starts[-1][0] + timedelta(days=150):
        return [t for start, t in starts if start <= d][-1]
    if d.month >= 9:
        return Term(d.year, 0)
    if d.month <= 3:
        return Term(d.year - 1, 1)
    return Term(d.year - 1, 2)


@dataclass(frozen=True)
class TermWindow:
    term: Term
    start: date
    end: date
    closures: tuple[tuple[date, date], ...]
    # False when the calendar gives the term's dates but says nothing of its half-term (no `closures` key): its
    # weekdays are all counted as school days, which is said, never assumed (`closures: []` says there are none).
    closures_known: bool = True

    def is_school_day(self, d: date) -> bool:
        if d.weekday() >= 5 or not (self.start <= d <= self.end):
            return False
        return not any(a <= d <= b for a, b in self.closures)

    def nth_school_day(self, n: int) -> date:
        """The date that is n school days after the term starts (the start itself is day 0)."""
        d, count = self.start, 0
        while count < n or not self.is_school_day(d):
            d += timedelta(days=1)
            if self.is_school_day(d):
                count += 1
            if d > self.end:
                return self.end
        return d


class TermCalendar:
    def __init__(self, data: dict, source: str = "term calendar"):
        self.source = source
        self.run_after_school_days = int(data.get("run_after_school_days", 15))
        hh, mm = str(data.get("run_at", "06:00")).split(":")
        self.run_at = (int(hh), int(mm))
        self.timezone = data.get("timezone", "Europe/London")
        of = data.get("calendar_of") or {}
        self.of_name = str(of.get("name") or "")
        self.of_las = [str(c) for c in of.get("la_codes") or []]  # empty: not said whose (every LA's)
        self.windows: dict[Term, TermWindow] = {}
        for year, seasons in (data.get("academic_years") or {}).items():
            for season, spec in seasons.items():
                term = Term.parse(f"{year}-{season}")
                start, end = _as_date(spec["start"]), _as_date(spec["end"])
                if end < start:
                    raise ValueError(f"{source}: {term} ends before it starts")
                closures = tuple((_as_date(a), _as_date(b)) for a, b in spec.get("closures") or [])
                self.windows[term] = TermWindow(term, start, end, closures, "closures" in spec)

    @classmethod
    def load(cls, path: Path | str = CALENDAR_FILE) -> "TermCalendar":
        # Keyed by modification time: a long-running scheduler sees an edited calendar without a restart.
        return _load_calendar(str(path), Path(path).stat().st_mtime_ns)

    def term_dates(self, term: Term) -> tuple[date, date] | None:
        w = self.windows.get(term)
        return (w.start, w.end) if w else None

    def run_date(self, term: Term) -> date | None:
        w = self.windows.get(term)
        return w.nth_school_day(self.run_after_school_days) if w else None

    def closures_unknown(self, term: Term) -> bool:
        """The calendar lists the term but not its closures (half-term): its school days are every weekday."""
        w = self.windows.get(term)
        return w is not None and not w.closures_known

    def terms(self) -> list[Term]:
        return sorted(self.windows)

    def school_day_on_or_after(self, d: date) -> date:
        """`d` if it is a school day, else the next one: a due date never falls on a weekend or in a holiday.

        Within the calendar's years a holiday moves to the next term's first school day; outside them (a term
        the calendar does not list) only weekends are known, so the next weekday."""
        windows = sorted(self.windows.values(), key=lambda w: w.start)
        if windows and windows[0].start <= d <= windows[-1].end:
            for w in windows:
                if d <= w.end:
                    day = max(d, w.start)
                    while day <= w.end and not w.is_school_day(day):
                        day += timedelta(days=1)
                    if day <= w.end:
                        return day
        while d.weekday() >= 5:
            d += timedelta(days=1)
        return d

    def years_not_listed(self, after: date, until: date) -> list[str]:
        """The days after `after` up to `until` that the calendar's years do not cover, in words: "for 2021-22" (an
        academic year it has no dates for), or "after 21 July 2027" (past the last listed term of a year it has).
        There `school_day_on_or_after` knows only weekends, so school days counted in them are weekdays (holidays
        and closures not left out). A listed term with no `closures` key is said too ("for 2023-24-autumn's half-term"):
        its half-term is not known, so its weekdays all count. Empty when the calendar covers every day counted."""
        windows = sorted(self.windows.values(), key=lambda w: w.start)
        first, last = (windows[0].start, windows[-1].end) if windows else (None, None)
        listed = {w.term.academic_year for w in windows}
        out, d = [], after + timedelta(days=1)
        while d <= until:
            if first is None or not first <= d <= last:
                year = f"{d.year if d.month >= 9 else d.year - 1}-{(d.year + (1 if d.month >= 9 else 0)) % 100:02d}"
                year = (f"for {year}" if year not in listed else
                        f"after {last.day} {last:%B %Y}" if d > last else f"before {first.day} {first:%B %Y}")
                if year not in out:
                    out.append(year)
            else:
                w = next((w for w in windows if w.start <= d <= w.end and not w.closures_known), None)
                said = f"for {w.term}'s half-term" if w else None
                if said and said not in out:
                    out.append(said)
            d += timedelta(days=1)
        return out


def _as_date(v) -> date:
    return v if isinstance(v, date) else date.fromisoformat(str(v))


@lru_cache(maxsize=8)
def _load_calendar(path: str, mtime_ns: int) -> TermCalendar:
    with open(path, encoding="utf-8") as fh:
        return TermCalendar(yaml.safe_load(fh) or {}, source=path)
