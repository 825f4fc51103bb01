"""How old the term's data is: each DfE feed's academic year against the newest that should exist, a GIAS extract
dated after the term, and a term missing from the calendar. Old data is used, and said (front page, evidence);
results older than the rule set's `oldest_results` allows are not judged at all (`too_old`), and said first.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import Problem
from ..ingest.feeds import LA_HELD_KINDS, Feed
from ..ingest.termdata import LINKS_KIND
from .feed_set import FEED_LABELS, problem


# The words that mark results older than the newest that should exist (not merely of an unknown year): the front
# page's caveat above the letters awaiting approval looks for them.
OUT_OF_DATE = "the evidence is out of date"

def _year_start(year: str) -> int | None:
    try:
        return int(str(year)[:4])
    except ValueError:
        return None


def _year(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


def _touched(f: Feed, la_code: str | None, when) -> str:
    """Which of the edition's decisions an old GIAS extract decides, for its warning: the LA's schools it lists as
    open maintained schools (categorised) and open academies (judged for academy concerns)."""
    df = f.schools
    if not la_code or df is None or df.empty or "la_code" not in df:
        return ""
    mine = df[df["la_code"].astype(str) == str(la_code)]
    is_open = mine["is_open"].astype(bool) if "is_open" in mine else mine.get("status", "").astype(str).str.startswith("Open")
    maintained = int((is_open & mine["is_la_maintained"].astype(bool)).sum()) if "is_la_maintained" in mine else 0
    academies = int((is_open & mine["is_academy"].astype(bool)).sum()) if "is_academy" in mine else 0
    # GIAS's own count, by the status it gives, said as such: the edition categorises fewer when the links file gives
    # one a successor before the term (a trial, s31: "166 open maintained schools in it" beside 165 categorised).
    return (f". It decides which of the LA's schools this edition categorises (it lists {maintained} maintained "
            f"schools as open), which it judges as academies ({academies}) and which it takes as closed or "
            f"converted: a school that opened, closed or became an academy since {when.day} {when:%B %Y} is placed "
            "as it was that day, and its level, letter or academy concern with it")


def _gias_dated(feeds: list[Feed], term, max_age_days: dict[str, int], la_code: str | None = None) -> list[Problem]:
    """A GIAS extract (or links file) dated after the term, or long before it: schools that opened, closed or
    converted in between are as GIAS said on that day, not as they were in the term. Said, so the reader knows
    which schools may be missing or new and that headteachers' names may be out of date."""
    import re
    from datetime import date

    out, (start, end) = [], term.dates()
    oldest = (max_age_days or {}).get("gias")
    for f in feeds:
        if f.kind not in ("gias", LINKS_KIND):
            continue
        m = re.search(r"(20\d\d)-?(\d\d)-?(\d\d)", Path(f.source).name)
        try:
            when = date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
        except ValueError:
            when = None
        if when and when > end and f.kind == LINKS_KIND:
            # Links only join a school to its predecessors; what a school was in the term comes from the extract.
            out.append(problem(f.source, f"the GIAS links file is dated {when:%d %B %Y}, after {term} ended: it also "
                          "holds links made since (amalgamations, conversions), so a school's predecessors are as GIAS "
                          "links them now", "info", "gias_after_term"))
        elif when and when > end:
            out.append(problem(f.source, f"the GIAS file is dated {when:%d %B %Y}, after {term} ended ({end:%d %B %Y}): "
                          "schools are taken as they were when the term began from its open and close dates, but "
                          "names, types and headteachers are as GIAS lists them now; check the schools categorised "
                          "against your own records",
                          "warning", "gias_after_term"))
        elif when and f.kind == "gias" and oldest is not None and (start - when).days > int(oldest):
            days = (start - when).days
            age = _months_words(days) if days >= 365 else f"{days} days"
            out.append(problem(f.source, f"the GIAS extract is dated {when:%d %B %Y}, {age} before {term} began "
                          f"({start:%d %B %Y}): schools that opened, closed or became academies since then, and "
                          "new headteachers, are not in it; download this term's extract, or check the schools "
                          "categorised and the letters' addressees against your own records"
                          + _touched(f, la_code, when), "warning", "gias_old"))
        elif when and f.kind == "gias":
            # In date: still said, so the reader knows which day's list of schools the edition rests on.
            days = (when - start).days
            age = ("the day" if days == 0 else f"{abs(days)} day{'s' if abs(days) != 1 else ''} "
                   + ("after" if days > 0 else "before"))
            out.append(problem(f.source, f"the GIAS extract is dated {when.day} {when:%B %Y}, {age} {term} began "
                          f"({start.day} {start:%B %Y}): schools, their types and headteachers are as GIAS listed them "
                          "that day",
                          "info", "gias_date"))
    return out


def _months_words(days: int) -> str:
    """An age of a year or more in whole months, as "16 months" or "3 years and 4 months" (a trial, s31: 16 months
    was said as "1 year")."""
    months = int(days * 12 / 365.25)
    if months < 24:
        return f"{months} months"
    years, rest = divmod(months, 12)
    return f"{years} years" + (f" and {rest} month{'s' if rest != 1 else ''}" if rest else "")


def data_age(feeds: list[Feed], term, published_results: dict, max_age_days: dict | None = None,
             la_code: str | None = None) -> list[Problem]:
    """How old each DfE feed's figures are for the term, against the newest that should exist.

    `published_results` (rule-set data): per kind, the academic years with no published figures and how many
    years before the term's own the newest figures are. Older than expected: a warning. As new as can be but
    still years old (e.g. 2018-19 results in 2021-22, none published in between): said, as information."""
    out = []
    term_start = int(term.start_year)
    for f in feeds:
        if not f.academic_year and f.kind not in LA_HELD_KINDS and f.kind != "gias_links":
            out.append(problem(f.source, f"the academic year of this {FEED_LABELS.get(f.kind, f.kind)} file is unknown "
                          "(not in the file, its name or its data): its figures are used as this term's, unchecked",
                          "warning", "data_age"))
    out.extend(_gias_dated(feeds, term, max_age_days or {}, la_code))
    for kind, spec in (published_results or {}).items():
        fs = [f for f in feeds if f.kind == kind and f.academic_year]
        if not fs:
            continue
        latest = max(fs, key=lambda f: f.academic_year)
        have = _year_start(latest.academic_year)
        if have is None:
            continue
        gaps = {str(y) for y in spec.get("not_published", [])}
        lag = int((spec.get("lag_years") or {}).get(term.season, 1))
        expect = term_start - lag
        while _year(expect) in gaps:
            expect -= 1
        label = spec.get("label", kind)
        age = term_start - have
        skipped = sorted(y for y in gaps if have < _year_start(y) < term_start)
        why = f"; none were published for {', '.join(skipped)}" if skipped else ""
        if have < expect:
            years = f"{age} year{'s' if age != 1 else ''}"
            out.append(problem(latest.source, f"{label} are for {latest.academic_year}, {years} before {term.academic_year}, "
                          f"but {_year(expect)} figures should exist for {term}: {OUT_OF_DATE}{why}",
                          "warning", "data_age"))
        elif age > 1:
            out.append(problem(latest.source, f"{label} are for {latest.academic_year}, {age} years before {term.academic_year}: "
                          f"the newest published{why}", "info", "data_age"))
    return out


def calendar_check(term, cal=None, la_code: str | None = None) -> list[Problem]:
    from ..terms import TermCalendar

    cal = cal or TermCalendar.load()
    out = []
    if cal.term_dates(term) is None:
        # Not in the calendar: nominal dates and weekdays are used, not the calendar's LA's, so that is what is said
        # (a trial, s31: a real Surrey 2021-22 front page said the deadlines were counted on Cambridgeshire's school
        # days, while the letters box below it said the calendar had no dates for the year).
        return _calendar_gaps(term, cal)
    if la_code and cal.of_las and str(la_code) not in cal.of_las:
        # The calendar is another LA's: its half-terms are not the LA's own, so the run date and the letters'
        # deadlines in school days may fall in this LA's holidays. Said, never assumed to be the LA's.
        whose = f"{cal.of_name}'s" if cal.of_name else f"LA {', '.join(cal.of_las)}'s"
        out.append(problem("include/calendar/term_dates.yaml", f"the term calendar holds {whose} term dates, not "
                           "the LA's own: this edition's run date and the "
                           "draft letters' deadlines are counted on its school days and half-terms; check each deadline, "
                           "or give the calendar the LA's own dates and add its code to `calendar_of`", "warning",
                           "term_calendar"))
    return out + _calendar_gaps(term, cal)


def _calendar_gaps(term, cal) -> list[Problem]:
    if cal.term_dates(term) is None:
        start, end = term.nominal_dates()
        return [problem("include/calendar/term_dates.yaml", f"{term} is not in the term calendar: nominal dates "
                   f"{start} to {end} are used (due dates are moved to weekdays); add the term's dates to the calendar",
                   "warning", "term_calendar")]
    if cal.closures_unknown(term):
        start, end = cal.term_dates(term)
        return [problem("include/calendar/term_dates.yaml", f"{term}'s half-term is not in the term calendar (no "
                        f"`closures` for the term): every weekday from {start} to {end} is counted as a school day, so "
                        "the run date and letter deadlines may fall in the half-term; add the term's closures to the "
                        "calendar (`closures: []` if it has none)", "warning", "term_calendar")]
    return []




def _years_before(f: Feed, start_year: int):
    """An EES file of several academic years (a row per school and year) cut to the years before `start_year`, its
    latest per school current as the reader makes it; None when it has no such year or is not such a file."""
    import pandas as pd
    from dataclasses import replace

    if "academic_year" not in f.schools:
        return None
    rows = pd.concat([f.schools, f.history], ignore_index=True) if f.history is not None and len(f.history) else f.schools

    def before(frame):
        return frame[frame["academic_year"].map(lambda y: (_year_start(y) or 0) < start_year if y else True)]

    rows = before(rows)
    if rows.empty or rows["academic_year"].dropna().empty:
        return None
    ordered = rows.sort_values(["urn", "academic_year"], kind="stable")
    latest = ordered.groupby("urn", dropna=False).tail(1).index
    comps = f.comparators
    if comps is not None and "academic_year" in comps and len(comps):
        comps = before(comps).reset_index(drop=True)
    return replace(f, schools=rows.loc[sorted(latest)].reset_index(drop=True),
                   history=rows.drop(index=latest).reset_index(drop=True), comparators=comps,
                   academic_year=max(rows["academic_year"].dropna()))


def known_at_term(feeds: list[Feed], term, rule: dict, la_urns: set[int] | None = None,
                  as_of=None) -> tuple[list[Feed], list[Problem]]:
    """The feeds as they could have been known for the term, and a warning for each thing left out.

    `rule` (rule-set data, `results_known`): `year_ended`, the kinds whose file of academic year Y counts only for
    terms that begin after Y ended (a later file in the landing folder is not used, and said); `dated_rows`, per
    kind, the date columns of a file of latest events (Ofsted MI) and `known_by` (term_start, run_date or
    term_end): a row with any of them after that day is set aside, counted and said. A kind left with no file is
    then missing, as if never supplied. `as_of`: the run date (for `known_by: run_date`)."""
    from dataclasses import replace
    from datetime import date, timedelta

    rule = rule or {}
    start, end = term.dates()
    when = f"{start.day} {start:%B %Y}"
    year_ended = set(rule.get("year_ended") or [])
    dated_rows = dict(rule.get("dated_rows") or {})
    kept, out, problems = [], [], []
    for f in feeds:
        if f.kind in year_ended and f.academic_year and (_year_start(f.academic_year) or 0) >= term.start_year:
            earlier = _years_before(f, term.start_year)  # an EES file of several years keeps its earlier ones
            if earlier is None:
                out.append(f)
                continue
            label = FEED_LABELS.get(f.kind, f.kind)
            held = [f.schools] + ([f.history] if f.history is not None and len(f.history) else [])
            later_years = sorted({str(y) for h in held for y in h["academic_year"].dropna()
                                  if (_year_start(y) or 0) >= term.start_year})
            problems.append(problem(f.source, f"{f.source} also holds {label} results for {', '.join(later_years)}, which "
                                    f"were not known when {term} began ({when}): results of an academic year count "
                                    f"only for terms that begin after it ends, so those rows are not used; the run "
                                    f"uses the file's {earlier.academic_year} figures", "warning", "after_term"))
            f = earlier
        kept.append(f)
    for f in out:
        label = FEED_LABELS.get(f.kind, f.kind)
        used = [k for k in kept if k.kind == f.kind]
        instead = (f"the run uses {', '.join(k.source for k in used)} instead" if used else
                   f"no earlier {label} file is in the landing folder, so this term has no {label} figures")
        problems.append(problem(f.source, f"{f.source} holds {label} results for {f.academic_year}, which were not "
                                f"known when {term} began ({when}): results of an academic year count only "
                                f"for terms that begin after it ends, so this file is not used; {instead}",
                                "warning", "after_term"))
    result = []
    for f in kept:
        spec = dated_rows.get(f.kind) or {}
        cols = [c for c in spec.get("columns") or [] if c in f.schools]
        if not cols or f.schools.empty:
            result.append(f)
            continue
        known_by = spec.get("known_by", "term_start")
        if known_by not in ("term_start", "run_date", "term_end"):
            raise ValueError(f"results_known.dated_rows.{f.kind}.known_by must be term_start, run_date or term_end, "
                             f"not {known_by!r}")
        # The last day whose events count: before the term's first day, the run date, or the term's last day.
        last = {"term_start": start - timedelta(days=1), "run_date": as_of or start - timedelta(days=1),
                "term_end": end}[known_by]
        after = {"term_start": f"on or after {when}, when {term} began",
                 "run_date": f"after {last.day} {last:%B %Y}, the run date of {term}",
                 "term_end": f"after {end.day} {end:%B %Y}, when {term} ended"}[known_by]

        def later(row) -> bool:
            return any(isinstance(row[c], date) and row[c] > last for c in cols)

        mask = f.schools.apply(later, axis=1).astype(bool)
        if not mask.any():
            result.append(f)
            continue
        aside = f.schools[mask]
        mine = len(aside) if la_urns is None else int(aside["urn"].isin(list(la_urns)).sum()) if "urn" in aside else 0
        schools = f.schools[~mask].reset_index(drop=True)
        from ..ingest.feeds import _academic_year_of

        # The file's year is now that of the latest inspection it still holds (it was that of one set aside).
        dates = [d for c in cols for d in schools[c] if isinstance(d, date)]
        year = _academic_year_of(max(dates)) if dates else f.academic_year
        result.append(replace(f, schools=schools, academic_year=year))
        if f.kind in LA_HELD_KINDS:  # the LA's own rows: each a visit, flag or meeting, said by row
            problems.append(_la_rows_after(f, aside, cols, after))
            continue
        whose = (f"{mine} of this LA's schools ({len(aside)} rows in all)" if la_urns is not None
                 else f"{len(aside)} schools")
        label = FEED_LABELS.get(f.kind, f.kind)
        if la_urns is not None and not mine:  # only other LAs' schools: said once, as a file from after the term
            # Information, for Appendix A: nothing this LA's edition rests on is set aside (real Surrey 2021-22: beside
            # "the Ofsted file(s) hold no rows for LA 936's schools", a second Ofsted bullet on the front page).
            problems.append(problem(f.source, f"{f.source}: {len(aside)} rows, none for this LA's schools, hold an "
                                    f"{label} inspection dated {after}, so not known for the term: set aside, "
                                    "not used", "info", "after_term_other_las"))
            continue
        problems.append(problem(f.source, f"{f.source}: the latest {label} inspection of {whose} is dated {after}, "
                                "so it was not known for the term; the file holds only each school's latest "
                                f"inspections, so these schools are judged with no {label} evidence this term (their "
                                f"rows are set aside, not used): an {label} file downloaded by then would give "
                                "their inspections for the term", "warning", "after_term"))
    if as_of is not None and rule.get("edition_date"):
        result, dated = _after_edition_date(result, term, dict(rule["edition_date"]), la_urns, as_of)
        problems += dated
    return result, problems


def _after_edition_date(feeds: list[Feed], term, spec: dict, la_urns, as_of) -> tuple[list[Feed], list[Problem]]:
    """The rule set's `results_known.edition_date`: rows of `columns` (kind -> date columns) dated after the
    edition's date (`as_of`, printed on its front page) and within the term were not known by the date the edition
    carries. `after: set_aside`: they are not used, and said with the as_of that would use them; `after: said`: they
    are used, and said as a warning first on the front page (the edition shows what was known by the latest of
    them, not by its date) with the as_of that would date it so. Never used without a word. Rows after the term
    are left to `dated_rows` (and, for the letters log and moderation, to their term column)."""
    from dataclasses import replace
    from datetime import date

    after = spec.get("after")
    if after not in ("said", "set_aside"):
        raise ValueError(f"results_known.edition_date.after must be said or set_aside, not {after!r}")
    _, end = term.dates()
    on = f"{as_of.day} {as_of:%B %Y}"
    out, problems = [], []
    for f in feeds:
        cols = [c for c in (spec.get("columns") or {}).get(f.kind) or [] if c in f.schools]
        if not cols or f.schools.empty:
            out.append(f)
            continue

        def later(row) -> bool:
            return any(isinstance(row[c], date) and as_of < row[c] <= end for c in cols)

        mask = f.schools.apply(later, axis=1).astype(bool)
        if not mask.any():
            out.append(f)
            continue
        aside = f.schools[mask]
        mine = len(aside) if la_urns is None or "urn" not in aside else int(aside["urn"].isin(list(la_urns)).sum())
        out.append(replace(f, schools=f.schools[~mask].reset_index(drop=True)) if after == "set_aside" else f)
        if la_urns is not None and not mine and f.kind not in LA_HELD_KINDS:
            continue  # only other LAs' schools: nothing of this LA's is used or lost
        dates = sorted({d for c in cols for d in aside[c] if isinstance(d, date) and as_of < d <= end})
        what = _LA_ROWS.get(f.kind) if f.kind in LA_HELD_KINDS else f"{FEED_LABELS.get(f.kind, f.kind)} inspection"
        n = mine if f.kind not in LA_HELD_KINDS else len(aside)
        rows = [int(r) for r in aside["_row"]] if "_row" in aside and f.kind in LA_HELD_KINDS else []
        where = (f" (row{'s' if len(rows) != 1 else ''} {', '.join(map(str, rows[:8]))}"
                 f"{f' and {len(rows) - 8} more' if len(rows) > 8 else ''})") if rows else ""
        last = f"{dates[-1].day} {dates[-1]:%B %Y}"
        were = "were" if n != 1 else "was"
        if after == "set_aside":
            hidden = ("; the file holds only each school's latest inspection, so these schools are judged with no "
                      "Ofsted evidence in this edition") if f.kind == "ofsted" else ""
            message = (f"{f.source}: {n} {what}{'s' if n != 1 else ''}{where} dated after {on}, the date of this "
                       f"edition (as_of), {were} not known by that date: set aside, not used{hidden}; to use "
                       f"{'them' if n != 1 else 'it'}, run {term} again with as_of {dates[-1].isoformat()} or later "
                       f"({', '.join(f'{d.day} {d:%B %Y}' for d in dates[:3])}{' ...' if len(dates) > 3 else ''})")
        else:
            message = (f"{f.source}: {n} {what}{'s' if n != 1 else ''}{where}, dated after {on}, the date of this "
                       f"edition (as_of), up to {last}, {were} used (the term's own evidence counts until it ends): "
                       f"this edition shows what was known by {last}, not by its date; to date it so, run {term} "
                       f"again with as_of {dates[-1].isoformat()}")
        problems.append(problem(f.source, message, "warning", "after_edition_date",
                                row=rows[0] if rows else None, column=cols[0]))
    return out, problems


_LA_ROWS = {"adviser_judgements": "adviser judgement", "la_intelligence": "LA intelligence flag",
            "laig_notes": "LAIG note", "letters_log": "letter", "moderation": "moderation decision"}


def _la_rows_after(f: Feed, aside, cols: list[str], after: str) -> Problem:
    """One warning for an LA-held file's rows dated after the term: which rows, which dates. The run does not use
    them; a date typed a year out (2023 for 2022) is the usual cause, so the message says how to put it right."""
    from datetime import date

    rows = [int(r) for r in aside["_row"]] if "_row" in aside else []
    dates = sorted({d for c in cols for d in aside[c] if isinstance(d, date)})
    what = _LA_ROWS.get(f.kind, "row")
    shown = ", ".join(map(str, rows[:8])) + (f" and {len(rows) - 8} more" if len(rows) > 8 else "")
    return problem(f.source, (
        f"{f.source}: {len(aside)} {what}{'s' if len(aside) != 1 else ''} dated {after} (row{'s' if len(rows) != 1 else ''} "
        f"{shown}; {', '.join(f'{d.day} {d:%B %Y}' for d in dates[:3])}{' ...' if len(dates) > 3 else ''}), "
        f"{'were' if len(aside) != 1 else 'was'} not known for the term: set aside, not used; if a date is mistyped, "
        "correct it and re-run"),
        "warning", "after_term", row=rows[0] if rows else None, column=cols[0])


def years_before_term(academic_year, term) -> int | None:
    """How many academic years the results' year is before the term's ('2018-19' in 2025-26: 7), as the data_age
    sentence counts them ("3 years before 2021-22"); None when the year is unknown."""
    start = _year_start(academic_year) if academic_year else None
    return None if start is None else int(term.start_year) - start


# How the "not judged" reason names each kind of results.
RESULT_WORDS = {"ks2": "KS2 results", "ks4": "KS4 results", "absence": "absence figures", "census": "census figures"}


def too_old(kind: str, academic_year, term, rule) -> str | None:
    """Why a data check on these results is not judged: older than the rule set's `oldest_results` allows for the
    term. None when they are recent enough, of a kind the rule does not name, or of an unknown year (said apart)."""
    if rule is None or kind not in rule.kinds:
        return None
    age = years_before_term(academic_year, term)
    if age is None or age <= rule.years_before_term:
        return None
    n = rule.years_before_term
    return (f"not judged: {RESULT_WORDS.get(kind, kind)} from {academic_year} are older than the rule set allows "
            f"({age} years before "
            f"{term.academic_year}; at most {n} year{'s' if n != 1 else ''})")


def too_old_problems(data, rules) -> list[Problem]:
    """One warning per kind of results too old to judge (the rule set's `oldest_results`), for data_quality.csv and
    the front page: the reader learns once, near the top, that no level, letter or academy concern rests on them."""
    rule = rules.oldest_results
    if rule is None:  # never silently: results of any age are judged
        kinds = [k for k in RESULT_WORDS if data.latest(k) is not None]
        return [problem(f"rules/{rules.id}.yaml", f"rule set {rules.id} does not say how old the results a check "
                        "rests on may be (oldest_results): results of any year are judged, however old; add "
                        "oldest_results as cambs-2021-23.yaml has it", "warning", "results_too_old")] if kinds else []
    out = []
    for kind in rule.kinds:
        f = data.latest(kind)
        if f is None or too_old(kind, f.academic_year, data.term, rule) is None:
            continue
        label = (rules.published_results.get(kind) or {}).get("label") or f"{FEED_LABELS.get(kind, kind)} results"
        age, n = years_before_term(f.academic_year, data.term), rule.years_before_term
        out.append(problem(f.source, f"{label} are for {f.academic_year}, {age} years before {data.term.academic_year}: "
                      f"older than rule set {rules.id} allows ({n} year{'s' if n != 1 else ''}), so not "
                      "judged: no level, letter or academy concern rests on them", "warning", "results_too_old"))
    return out
