"""The term calendar's half-terms: the years 2023-24 and 2024-25 had none, so the run date and every letter deadline
counted the half-term's weekdays as school days, unsaid (s25). A term listed without `closures` is now said on the
front page and on the drafts' deadlines; the two years carry their half-terms from a cited source."""

from datetime import date

from school_improvement.quality.data_age import calendar_check
from school_improvement.terms import Term, TermCalendar


def test_every_listed_term_of_the_shipped_calendar_states_its_closures():
    cal = TermCalendar.load()
    unknown = [str(t) for t in cal.terms() if cal.closures_unknown(t)]
    assert unknown == []
    # 2024-25 spring: half-term 17-21 February 2025 is not a school day; the Monday after it is.
    w = cal.windows[Term.parse("2024-25-spring")]
    assert not any(w.is_school_day(date(2025, 2, d)) for d in range(17, 22))
    assert w.is_school_day(date(2025, 2, 24))
    assert cal.school_day_on_or_after(date(2023, 10, 23)) == date(2023, 10, 30)
    assert calendar_check(Term.parse("2024-25-autumn")) == []


def test_a_term_listed_without_closures_is_said_not_counted_quietly():
    cal = TermCalendar({"academic_years": {"2030-31": {
        "autumn": {"start": "2030-09-03", "end": "2030-12-18"},
        "spring": {"start": "2031-01-06", "end": "2031-03-28", "closures": []},
    }}}, source="test calendar")
    autumn, spring = Term.parse("2030-31-autumn"), Term.parse("2030-31-spring")
    assert cal.closures_unknown(autumn) and not cal.closures_unknown(spring)
    [p] = calendar_check(autumn, cal)
    assert p.severity == "warning" and p.check == "term_calendar"
    assert "2030-31-autumn's half-term is not in the term calendar" in p.message
    assert "2030-09-03 to 2030-12-18" in p.message
    assert calendar_check(spring, cal) == []  # `closures: []`: known to have none
    # A letter's deadlines counted across the autumn say so, as for a year the calendar does not list.
    assert cal.years_not_listed(date(2030, 10, 1), date(2030, 11, 15)) == ["for 2030-31-autumn's half-term"]
    assert cal.years_not_listed(date(2031, 1, 10), date(2031, 2, 20)) == []


def test_an_la_the_calendar_is_not_for_is_told_its_deadlines_are_counted_on_another_las_dates():
    # A real Surrey (936) term ran on Cambridgeshire's half-terms, its draft letters' deadlines counted on them unsaid.
    term = Term.parse("2024-25-spring")
    [p] = calendar_check(term, la_code="936")
    assert p.check == "term_calendar" and p.severity == "warning"
    assert "Cambridgeshire's term dates, not the LA's own" in p.message
    assert calendar_check(term, la_code="873") == [] and calendar_check(term, la_code="999") == []
    # A term the calendar does not hold is counted on nominal dates and weekdays, not on another LA's: said so alone.
    missing = Term.parse("2040-41-autumn")  # (as 2021-22 was at the trial, s31)
    [p] = calendar_check(missing, la_code="936")
    assert p.message.startswith("2040-41-autumn is not in the term calendar: nominal dates")
    assert "Cambridgeshire" not in p.message


def test_the_letters_box_says_another_las_deadlines_are_counted_on_the_calendars_school_days():
    from school_improvement.editions import drafts as drafts_mod

    start = TermCalendar.load().term_dates(Term.parse("2025-26-autumn"))[0]
    draft = {"urn": 990911, "letter": "significant_concerns_letter", "date": start,
             "actions": [{"action": "Agree a plan with the adviser", "by_date": date(2025, 10, 20)}]}
    assert drafts_mod.weekday_deadlines_problem([draft], "873") is None  # the calendar's own LA
    p = drafts_mod.weekday_deadlines_problem([draft, draft], "936")
    assert p.check == drafts_mod.WEEKDAY_DEADLINES and p.severity == "warning"
    assert p.message.startswith("2 draft letters' deadlines are counted on Cambridgeshire's school days and half-terms")
    assert "not the LA's own" in p.message
