"""Terms and dates: the calendar decides which term a date is in, in London time."""

from __future__ import annotations

from datetime import date

import pendulum
import pytest

from school_improvement.terms import Term, TermCalendar, term_for_date


def test_term_parsing_and_order():
    t = Term.parse("2025-26-autumn")
    assert (t.academic_year, t.season, str(t.previous()), str(t.next())) == (
        "2025-26", "autumn", "2024-25-summer", "2025-26-spring")
    with pytest.raises(ValueError, match="YYYY-YY"):
        Term.parse("2025-autumn")
    with pytest.raises(ValueError, match="does not follow"):
        Term.parse("2025-27-autumn")


def test_a_date_belongs_to_the_term_the_calendar_says():
    cal = TermCalendar.load()
    # Spring 2024-25 runs to 4 April; the Easter holiday still belongs to spring, summer starts 22 April.
    assert term_for_date(date(2025, 4, 2), cal) == Term.parse("2024-25-spring")
    assert term_for_date(date(2025, 4, 22), cal) == Term.parse("2024-25-summer")
    assert term_for_date(date(2025, 8, 20), cal) == Term.parse("2024-25-summer")
    assert term_for_date(date(2025, 9, 3), cal) == Term.parse("2025-26-autumn")
    # Beyond the calendar's years: by month.
    assert term_for_date(date(2031, 10, 1), cal) == Term.parse("2031-32-autumn")


def test_the_schedule_uses_london_time_not_utc():
    from school_term_timetable import SchoolTermTimetable

    # 00:30 on 2 September 2026 in London is still 1 September in UTC: it is the autumn term's run.
    run_after = pendulum.datetime(2026, 9, 2, 0, 30, tz="Europe/London").in_timezone("UTC")
    interval = SchoolTermTimetable().infer_manual_data_interval(run_after=run_after)
    assert interval.start.in_timezone("Europe/London").date() == date(2026, 9, 2)
    from si_airflow import run_config

    cfg = run_config({"la_code": "999", "term": "", "landing": "/tmp"},
                     {"data_interval_start": interval.start, "run_id": "scheduled__x"})
    assert cfg["term"] == "2026-27-autumn" and cfg["la_name"] == "Wealdshire (demo)"


def test_a_term_not_in_the_calendar_runs_its_school_days_after_the_nominal_start_not_on_it():
    """Surrey trial: 2021-22 autumn (not in the calendar) ran 'as of' 1 September, so letters were flagged that day."""
    from datetime import date

    from school_improvement.pipeline import RunConfig
    from school_improvement.terms import TermCalendar

    cal = TermCalendar.load()
    assert cal.term_dates(Term.parse("2021-22-autumn")) is None
    run = RunConfig(la_code="936", term="2021-22-autumn", landing="/x", work_dir="/y").as_of_date()
    assert run == date(2021, 9, 22)  # 1 Sep 2021 is a Wednesday: 15 weekdays later
    assert run.weekday() < 5 and run > date(2021, 9, 1)
    listed = next(iter(cal.terms()))
    assert RunConfig(la_code="936", term=str(listed), landing="/x", work_dir="/y").as_of_date() == cal.run_date(listed)
