"""A Timetable that runs once per school term, on the dates in include/calendar/term_dates.yaml.

The run for a term is due `run_after_school_days` school days after the term starts; its data interval is
[term start, run date]. Adding next year's dates is an edit to that YAML file, not to code.
"""

from __future__ import annotations

from datetime import datetime, time

from pendulum import DateTime, instance, timezone

from airflow.plugins_manager import AirflowPlugin
from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction, Timetable


class SchoolTermTimetable(Timetable):
    description = "Once per school term, on the term calendar's run date"

    def __init__(self, calendar_path: str | None = None):
        self.calendar_path = calendar_path

    def _calendar(self):
        from school_improvement.terms import TermCalendar  # include/ is on PYTHONPATH

        return TermCalendar.load(self.calendar_path) if self.calendar_path else TermCalendar.load()

    @property
    def summary(self) -> str:
        return "school terms"

    def serialize(self) -> dict:
        return {"calendar_path": self.calendar_path}

    @classmethod
    def deserialize(cls, data: dict) -> "SchoolTermTimetable":
        return cls(data.get("calendar_path"))

    def _interval(self, term) -> DataInterval | None:
        cal = self._calendar()
        run = cal.run_date(term)
        if run is None:
            return None
        tz = timezone(cal.timezone)
        start = instance(datetime.combine(cal.term_dates(term)[0], time.min), tz=tz)
        end = instance(datetime.combine(run, time(*cal.run_at)), tz=tz)
        return DataInterval(start=start, end=end)

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        from school_improvement.terms import term_for_date

        cal = self._calendar()
        term = term_for_date(run_after.in_timezone(cal.timezone).date(), cal)
        interval = self._interval(term)
        return interval or DataInterval(start=run_after, end=run_after)

    def next_dagrun_info(self, *, last_automated_data_interval: DataInterval | None,
                         restriction: TimeRestriction) -> DagRunInfo | None:
        cal = self._calendar()
        candidates = [i for i in (self._interval(t) for t in cal.terms()) if i is not None]
        if last_automated_data_interval is not None:
            candidates = [i for i in candidates if i.start > last_automated_data_interval.start]
        elif restriction.earliest is None:
            return None
        if restriction.earliest is not None:
            candidates = [i for i in candidates if i.end >= restriction.earliest]
        if not restriction.catchup and last_automated_data_interval is None:
            # Catch-up off: start with the term whose run date has not yet passed.
            now = DateTime.now("UTC")
            candidates = [i for i in candidates if i.end >= now]
        if not candidates:
            return None
        nxt = min(candidates, key=lambda i: i.start)
        if restriction.latest is not None and nxt.end > restriction.latest:
            return None
        return DagRunInfo.interval(start=nxt.start, end=nxt.end)


class SchoolTermTimetablePlugin(AirflowPlugin):
    name = "school_term_timetable"
    timetables = [SchoolTermTimetable]
