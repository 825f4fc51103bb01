"""Letters to schools, academy concerns and elected members' alerts, from the Strategy's sections.

Nothing is sent: each flag carries its evidence and a draft for the Director of Education's review.
The ladder (the rule set's `escalates_from`) follows the letters log: a letter issued earlier, with concerns
remaining, makes the next rung due. One flag per school per term: the highest due. The academy route runs per
concern. Every letter, step and window is rule-set data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from ..evidence.assess import (ACADEMY_CONCERN, CRITERION, SchoolAnswers, TermEvidence, _as_date, academies, assess,
                               issued_letters, letter_question, maintained_schools, records_for)
from ..rules import Indicator, RuleSet
from ..ingest.termdata import TermData
from ..vocabulary import VOCAB

LETTER_COLUMNS = ["urn", "school_name", "letter", "letter_title", "indicators", "evidence", "evidence_general",
                  "escalation_note", "category", "flagged_on", "term"]
ACADEMY_COLUMNS = ["urn", "school_name", "trust", "concerns", "evidence", "evidence_general", "next_step",
                   "next_step_detail", "escalate_to", "safeguarding_route", "flagged_on", "term"]
OFSTED_DATES = ("inspection_date", "oeif_date", "ungraded_date")  # the Ofsted reader's dates of an inspection
MEMBER_COLUMNS = ["ward", "member_name", "party", "email", "urn", "school_name", "reason", "told_in"]


# The letters' and academy concerns' checks, as the categorisation's evidence table has the bullets' (evidence.csv):
# the same columns, and `decision` saying which decision a check belongs to.
DECISION_EVIDENCE_COLUMNS = ["urn", "decision", "criterion_id", "area", "level", "wording", "measure", "met", "value",
                             "comparator", "reason", "source", "detail", "confidential"]


@dataclass
class Letters:
    letters: pd.DataFrame
    academy_concerns: pd.DataFrame
    member_alerts: pd.DataFrame
    drafts: list[dict]
    evidence: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DECISION_EVIDENCE_COLUMNS))
    problems: list = field(default_factory=list)  # info rows for data_quality.csv (academies' open routes)


def _met(indicators: list[Indicator], school: SchoolAnswers, question: str, on: date, category: str | None = None,
         counts=None) -> list[tuple[Indicator, str, str]]:
    """Indicators in force and met: (indicator, evidence, evidence as the general edition may show it).

    The checks are the evidence stage's answers to `question`, one per piece of the indicator's evidence; `counts`,
    when given, says which met checks may count (e.g. only evidence newer than a letter already issued)."""
    out = []
    for ind in indicators:
        if not ind.in_force_on(on):
            continue  # e.g. the floor standard, dated out of force
        checks = school.answers(question, ind.id)
        usable = [(e, c) for e, c in zip(ind.evidence, checks) if not e.with_category or category in e.with_category]
        hits = [c for e, c in usable if c.met and (counts is None or counts(e, c))]
        if hits:
            # Several evidence items can rest on one finding (AC-2's three absence tests read the same figures): once.
            out.append((ind, "; ".join(dict.fromkeys(c.value for c in hits)),
                        "; ".join(dict.fromkeys(c.general_value for c in hits))))
    return out


def _issued_this_term(data: TermData, rules: RuleSet, urn: int, letter: str, indicator_ids: list[str]) -> bool:
    """A letter already issued for the same concern in the same term is not flagged again.

    The log's `concern` names the indicators with their ids where known, beside words (an id then "finances", as
    docs/LA_FEEDS.md shows): the ids are read out of it. A letter sent this term whose concern names none of the
    letter's ids (blank, or in words only) was sent for what was due; one that names ids was sent for those, so an
    indicator it does not name makes the letter due again."""
    rows = issued_letters(data, urn, [letter], 1)
    if not rows:
        return False
    known = {i.id for i in rules.letters[letter].indicators} if letter in rules.letters else set()
    named = set().union(*(_concern_ids(r.get("concern"), known) for r in rows))
    return not indicator_ids or not named or set(indicator_ids) <= named


def _earlier(data: TermData, urn: int, letter: str, within_terms: int) -> list[dict]:
    return [r for r in issued_letters(data, urn, [letter], within_terms) if r["_term"] < data.term]


def _newer_than(data: TermData, rules: RuleSet, issued_on: date, urn: int):
    """`counts(evidence, check)`: whether a met check rests on something newer than a letter issued on `issued_on`
    (the letter was written on the rest, or could have been): results of an academic year that ended after that day,
    an LA-intelligence flag raised or an adviser judgement made after it, an Ofsted inspection after it (an undated
    one counts); other evidence counts."""
    dated = set(rules.results_known.get("year_ended") or [])
    ended = {f.source: date(int(f.academic_year[:4]) + 1, 8, 31) for f in data.feeds
             if f.kind in dated and re.fullmatch(r"[0-9]{4}-[0-9]{2}", str(f.academic_year or ""))}
    intel = records_for(data, "la_intelligence", urn)
    visits = records_for(data, "adviser_judgements", urn)
    # An Ofsted finding is as new as the school's latest inspection in the file (graded, report card or ungraded).
    inspected = {f.source: max((d for r in records_for(data, "ofsted", urn) for k in OFSTED_DATES
                                if (d := _as_date(r.get(k))) is not None), default=None)
                 for f in data.feeds if f.kind == "ofsted"}

    def after(v) -> bool:
        d = _as_date(v)
        return d is not None and d > issued_on

    def counts(e, c) -> bool:
        if c.source in ended:
            return ended[c.source] >= issued_on
        if inspected.get(c.source) is not None:
            return inspected[c.source] > issued_on
        kind = e.kind if e is not None else ""
        if kind == "intelligence":
            return any(r.get("flag") in e.intelligence and after(r.get("raised_on")) for r in intel)
        if kind == "adviser":
            return any(r.get("criterion_id") == e.adviser and after(r.get("visit_date")) for r in visits)
        return kind != "letter_issued"  # the letter itself is never evidence that concerns remain after it
    return counts


def _last_issued_before(data: TermData, urn: int, letter: str) -> "date | None":
    """The day the school was last sent `letter` before this term began (the whole letters log)."""
    start = data.term.dates()[0]
    days = [_as_date(r.get("issued_on")) for r in records_for(data, "letters_log", urn) if r.get("letter") == letter]
    return max((d for d in days if d and d < start), default=None)


def _title(rules: RuleSet, letter: str) -> str:
    return rules.letters[letter].title if letter in rules.letters else VOCAB.letters.get(letter, letter)


def flag_letters(data: TermData, rules: RuleSet, categorisation: pd.DataFrame, history: dict[int, dict],
                 as_of: date, evidence: TermEvidence | None = None,
                 told: "dict[int, tuple[set[str], str]] | None" = None) -> Letters:
    """`evidence` is the term's assessed evidence (the evidence stage's artefact); without it, assessed here.
    `told`: what ward members were alerted to last term on record (history.members_told), for `told_in`."""
    on = data.term.reference_date
    if evidence is None:
        evidence = assess(data, rules, history)
    category = dict(zip(categorisation["urn"], categorisation["category"])) if not categorisation.empty else {}
    by_urn = {int(r["urn"]): r for r in categorisation.to_dict("records")}
    ladder = rules.ladder()
    recognition = [k for k, v in rules.letters.items() if v.recognition]
    cr, lookback = rules.concerns_remain, rules.windows.ladder_lookback_terms
    rows, drafts, said = [], [], []
    gias = {int(r["urn"]): r for r in maintained_schools(data).to_dict("records")}
    for urn, school in gias.items():
        answers = evidence.school(urn)
        met = {name: _met(rule.indicators, answers, letter_question(name), on, category.get(urn))
               for name, rule in rules.letters.items()}
        # "Concerns remain" is judged on this term's evidence, never on a letter already issued.
        row = by_urn.get(urn, {})
        concerns_remain = row.get("best_fit_category") in cr.best_fit_levels or (
            cr.overriding and bool(row.get("overriding_condition", ""))) or any(met[x] for x in cr.letters_met)
        if cr.evidence_after_letter:
            def since(issued_on: "date | None", ms: dict = met) -> dict:
                """The indicators met on evidence newer than a letter issued on `issued_on`."""
                if issued_on is None:
                    return ms
                counts = _newer_than(data, rules, issued_on, urn)
                return {n: _met(r.indicators, answers, letter_question(n), on, category.get(urn), counts)
                        for n, r in rules.letters.items()}
            # The same letter again, however long ago it was sent: only on evidence newer than it; and a rung of the
            # ladder below one sent since (a Warning Notice after the formal Significant Concerns): only on evidence
            # newer than that one, which was written on what made the lower rung due.
            sent = {n: _last_issued_before(data, urn, n) for n in met}
            step_after = {n: max((sent[k] for k in (ladder[ladder.index(n):] if n in ladder else [n]) if sent[k]),
                                 default=None) for n in met}
            met = {n: since(step_after[n])[n] for n in met}
        due: list[tuple[str, list, str]] = []
        for name in ladder:
            rule = rules.letters[name]
            if category.get(urn) in rule.not_for_categories:
                continue
            earlier = _earlier(data, urn, rule.escalates_from, lookback) if rule.escalates_from else []
            escalates = bool(earlier) and concerns_remain
            # This rung (or one above it) already taken since the one it escalates from (a Significant Concerns sent
            # after the Warning Notice): the step is not due again on what it was taken on, only on newer evidence.
            own = step_after[name] if earlier and cr.evidence_after_letter else None
            taken = own is not None and own >= earlier[-1]["issued_on"]
            after = own if taken else (earlier[-1]["issued_on"] if earlier else None)
            if rule.requires_escalation and earlier and cr.evidence_after_letter:
                # A rung reached only by escalation is due when concerns remain after the letter before it: its own
                # indicators count on evidence newer than that letter, not on what that letter was written on.
                met[name] = since(after)[name]
            if escalates and cr.evidence_after_letter and (
                    taken or not (cr.overriding and bool(row.get("overriding_condition", "")))):
                # Remaining after the letter: shown by evidence newer than it, not by what it was written on (a best
                # fit at high counts when a bullet met at that level rests on something newer, the letter itself
                # (evidence of the letter_issued kind) not counting).
                counts = _newer_than(data, rules, after, urn)
                newer = since(after)
                items = {c.id: c.evidence for c in rules.criteria}
                escalates = any(newer[x] for x in cr.letters_met) or (
                    row.get("best_fit_category") in cr.best_fit_levels
                    and any(c.met and counts(e, c) for b in answers.criteria if b.level in cr.best_fit_levels
                            for e, c in zip(items.get(b.id, []), b.checks)))
            if rule.requires_escalation and not earlier:
                continue
            if met[name] or escalates:
                note = ""
                if escalates:
                    note = (f"{_title(rules, rule.escalates_from)} issued {earlier[-1]['issued_on']}; concerns remain "
                            f"(level of support: {category.get(urn, 'n/a')})")
                due.append((name, met[name], note))
        due = [d for d in due if not _issued_this_term(data, rules, urn, d[0], [m[0].id for m in d[1]])]
        if due:
            letter, inds, note = max(due, key=lambda d: ladder.index(d[0]))
        else:
            thanks = [(k, met[k]) for k in recognition if met[k]
                      and category.get(urn) not in rules.letters[k].not_for_categories
                      and not _issued_this_term(data, rules, urn, k, [m[0].id for m in met[k]])]
            if not thanks:
                continue
            (letter, inds), note = thanks[0], ""
            newer = (lambda d, k=letter, f=since: bool(f(d)[k])) if cr.evidence_after_letter else None
            said += _recognition_after_concern(data, rules, urn, school, letter, ladder, lookback, newer)
        rule = rules.letters[letter]
        rows.append({"urn": urn, "school_name": school.get("school_name"), "letter": letter,
                     "letter_title": rule.title, "indicators": "; ".join(m[0].id for m in inds),
                     # The Strategy's words first, the id after for the adviser (the ids alone are in `indicators`).
                     "evidence": " | ".join(f"{i.wording} ({i.id}): {text}" for i, text, _ in inds) or note,
                     "evidence_general": " | ".join(f"{i.wording} ({i.id}): {g}" for i, _, g in inds) or note,
                     "escalation_note": note, "category": category.get(urn, ""),
                     "flagged_on": as_of, "term": str(data.term)})
        drafts.append(_draft(school, letter, rule.title, inds, note, rules, as_of))
        said += _letter_to_closing_school(data, rules, school, letter, drafts[-1])
    letters = pd.DataFrame(rows, columns=LETTER_COLUMNS)
    concerns = academy_concerns(data, rules, history, as_of, evidence)
    alerts = member_alerts(data, rules, categorisation, letters, told)
    return Letters(letters, concerns, alerts, drafts, decision_evidence(evidence, rules, category, on),
                   academy_routes_open(data, rules, evidence, on) + letters_read_by_nothing(data, rules) + said)


def flagged_again_problem(data: TermData, rules: RuleSet, letters: pd.DataFrame, before_term: str | None,
                          before: dict[int, set[str]], what: str = "letter(s)", academy: bool = False):
    """A warning when letters flagged this term were flagged for the same schools last term on record and the
    letters log shows none of them sent since: without the log the same letters are drafted every term on the same
    evidence (real Surrey, no log: the same 11 Significant Concerns and 13 congratulations letters in 2021-22-autumn
    and -spring), and a Director could sign them twice. Said once, naming a few; the letters are still flagged (the
    rule set says they are due; whether they went is the log's to say). None when none repeats."""
    from ..errors import Problem
    from ..evidence.assess import records_for
    from ..terms import Term, term_for_date

    if before_term is None or letters.empty:
        return None
    since = Term.parse(before_term)
    again = []
    for r in letters.to_dict("records"):
        urn, letter = int(r["urn"]), str(r["letter"])
        if letter not in before.get(urn, set()):
            continue
        sent = False
        for row in records_for(data, "letters_log", urn):
            try:  # the log's term, else its date's (as the ladder reads it)
                t = Term.parse(str(row.get("term") or ""))
            except ValueError:
                d = _as_date(row.get("issued_on"))
                t = term_for_date(d) if d else None
            sent = sent or (str(row.get("letter")) == letter and t is not None and t >= since)
        if not sent:
            again.append((str(r.get("school_name")), urn, letter))
    if not again:
        return None
    kinds = sorted({_title(rules, k) for _, _, k in again})
    some = "; ".join(f"{name} (URN {urn}): {_title(rules, k)}" for name, urn, k in again[:3])
    # An academy's route step is a meeting or a letter to its trust: taken, not sent, and no draft is written for it.
    done, then = ("taken", "the route goes on from them and they are not flagged again") if academy else \
        ("sent", "the ladder then goes on from them and they are not drafted again")
    # With no letters log at all, "the log shows none sent" would speak of a file the LA never supplied: say that
    # whether they went is not known, and where the log's template is.
    log = (f"no letters log was supplied, so whether any was {done} is not known" if data.latest("letters_log") is None
           else f"the letters log shows none of them {done} since")
    add = ("supply a letters log listing them (template: include/la_feed_templates/letters_log.csv)"
           if data.latest("letters_log") is None else "add them to the letters log")
    return Problem("history database", None, "letter", (
        f"{len(again)} {what} flagged this term ({', '.join(kinds)}) were flagged for the same schools in "
        f"{before_term} too, and {log} (e.g. {some}"
        f"{' ...' if len(again) > 3 else ''}): if they were {done}, {add}: {then} on the same evidence; "
        f"if not, they are still due"),
        "warning", "letters_flagged_again")


def _letter_to_closing_school(data: TermData, rules: RuleSet, school: dict, letter: str, draft: dict) -> list:
    """A letter drafted for a school GIAS gives a closing date within the term (it was open when the term began, so
    it is categorised; a converter academy replaces it mid-term): the letter's actions fall due after the governing
    body it is addressed to has gone, or it goes weeks before. Real Surrey's 2021-22 summer drafted a congratulations
    to a school converting on 31 May 2022, unsaid (s23). Said in data_quality.csv and on the front page; the draft is
    kept (whether to send it, or raise the concerns with the academy, is the LA's decision)."""
    from ..errors import Problem
    from ..evidence.assess import PROPOSED_TO_CLOSE, _text

    closes = _as_date(school.get("close_date"))
    start, end = data.term.dates()
    if closes is None or not (start <= closes <= end):
        return []
    due = [a["by_date"] for a in draft.get("actions") or [] if isinstance(a.get("by_date"), date)]
    after = [d for d in due if d > closes]
    why = _text(school.get("close_reason")).lower()
    row = school.get("_row")
    row = int(row) if row is not None and row == row else None
    gias = data.latest("gias")
    return [Problem(gias.source if gias is not None else "GIAS", row, "CloseDate", (
        f"a {_title(rules, letter)} is drafted for {school.get('school_name')} (URN {int(school['urn'])}), which GIAS "
        f"gives {'a proposed' if str(school.get('status')).startswith(PROPOSED_TO_CLOSE) else 'a'} closing date of "
        f"{closes.day} {closes:%B %Y} in this term" + (f" ({why})" if why else "")
        + (f": {len(after)} of the letter's {len(due)} actions fall due after it (the first on "
           f"{min(after).day} {min(after):%B %Y})" if after else "")
        + "; it is categorised as LA-maintained because it was open when the term began: check before sending "
          "whether the letter still goes to this governing body, or to its successor"),
        "warning", "gias_closing_letter")]


def _recognition_after_concern(data: TermData, rules: RuleSet, urn: int, school: dict, letter: str, ladder: list,
                               lookback: int, newer=None) -> list:
    """A recognition letter drafted for a school the letters log shows was sent a concern letter of the ladder in
    the terms the ladder reads (this one included): both are the rule set's reading, but a Director asked to sign a
    congratulations to a school sent a Warning Notice weeks before must be told, not left to notice. Said in
    data_quality.csv and on the front page with the log's row; the draft is kept (the Strategy does not say one
    excludes the other)."""
    from ..errors import Problem

    sent = issued_letters(data, urn, [n for n in ladder if not rules.letters[n].recognition], lookback)
    if not sent:
        return []
    r = sent[-1]
    row = int(r["_row"]) if r.get("_row") is not None and r.get("_row") == r.get("_row") else None
    source = str(r.get("_source") or data.latest("letters_log").source)
    when = r["issued_on"]
    term = "this term" if r["_term"] == data.term else str(r["_term"])
    return [Problem(source, row, "letter", (
        f"{f'row {row}: ' if row is not None else ''}a {_title(rules, letter)} is drafted for {school.get('school_name')} (URN {urn}), which the "
        f"letters log shows was sent a {_title(rules, r['letter'])} on {when.day} {when:%B %Y} ({term}): the draft "
        # `newer(date)`: whether the recognition's indicators are met on evidence newer than that letter. When not, the
        # congratulations rests on what the concern letter was written on (the same results), and the reader is told.
        + ("rests on evidence the concern letter was written on, or could have been (results of a year that ended "
           "before it), and is kept as the rule set's indicators are met" if newer is not None and not newer(when)
           else "rests on other evidence and is kept")
        + f", but check before approving that it is meant while the {_title(rules, r['letter'])}'s concerns stand"),
        "warning", "recognition_after_concern")]


def decision_evidence(evidence: TermEvidence, rules: RuleSet, category: dict, on: date) -> pd.DataFrame:
    """Every letter's and academy concern's check that was judged (met or not), and why a data or adviser check
    could not be: which subject's figures made a letter due, or kept one from being due, in one table beside the
    bullets'. A check that does not count for the school (evidence limited to some levels of support, an indicator
    out of force) says so in its reason."""
    checks = evidence.checks
    if checks is None or not len(checks):
        return pd.DataFrame(columns=DECISION_EVIDENCE_COLUMNS)
    checks = checks[checks["question"].astype(str) != CRITERION]
    # question -> (decision words, {indicator id: indicator})
    questions = {letter_question(name): (f"letter: {name}", {i.id: i for i in rule.indicators})
                 for name, rule in rules.letters.items()}
    questions[ACADEMY_CONCERN] = ("academy concern", {i.id: i for i in rules.academy_concerns.indicators})
    rows = []
    for (urn, question, cid, wording, n, measure, met, value, comparator, reason, source, detail,
         confidential) in zip(*(checks[c] for c in ("urn", "question", "criterion_id", "wording", "n", "measure",
                                                     "met", "value", "comparator", "reason", "source", "detail",
                                                     "confidential"))):
        judged = met is not None and not (isinstance(met, float) and pd.isna(met))
        reason = "" if reason is None or (isinstance(reason, float) and pd.isna(reason)) else str(reason)
        if not judged and not (reason and (str(measure).startswith(("data", "adviser")) or "not current" in reason)):
            continue  # as the bullets' table: nothing to say of an absent flag that was never raised
        decision, indicators = questions.get(str(question), (str(question), {}))
        ind = indicators.get(str(cid))
        ev = ind.evidence[int(n)] if ind is not None and int(n) < len(ind.evidence) else None
        notes = []
        if ind is not None and not ind.in_force_on(on):
            notes.append(f"not counted: {ind.id} is not in force on {on}")
        if ev is not None and ev.with_category and category.get(int(urn)) not in ev.with_category:
            notes.append(f"not counted: this evidence counts only for schools at {', '.join(ev.with_category)} "
                         f"support (this school: {category.get(int(urn)) or 'not categorised'})")
        rows.append({"urn": int(urn), "decision": decision, "criterion_id": cid, "area": "", "level": "",
                     "wording": wording, "measure": measure, "met": bool(met) if judged else None, "value": value,
                     "comparator": comparator, "reason": "; ".join(filter(None, [reason, *notes])),
                     "source": source, "detail": detail, "confidential": bool(confidential)})
    return pd.DataFrame(rows, columns=DECISION_EVIDENCE_COLUMNS)


def _draft(school: dict, letter: str, title: str, inds: list, note: str, rules: RuleSet, as_of: date) -> dict:
    head = " ".join(str(school.get(k) or "") for k in ("head_title", "head_first_name", "head_last_name")).strip()
    concerns = [f"{i.wording} ({text})" for i, text, _ in inds]
    if note:
        concerns.append(note)
    rule = rules.letters[letter]
    return {"urn": int(school["urn"]), "school_name": school.get("school_name"), "letter": letter,
            "letter_title": title, "recognition": rule.recognition, "opening": rule.opening, "closing": rule.closing,
            "head_name": head or "[Headteacher's name]",
            # "Dear Mrs Barnes", not "Dear Mrs Kate Barnes": a title goes with the surname alone.
            "head_salutation": " ".join(str(school.get(k) or "") for k in ("head_title", "head_last_name")).strip()
            if school.get("head_title") and school.get("head_last_name") else (head or "[Headteacher's name]"),
            "chair_name": school.get("chair_name") or "[Chair of Governors' name]",
            "address_lines": [str(school[k]) for k in ("street", "town", "postcode") if school.get(k)],
            "concerns": concerns,
            "actions": [{"action": a.action, "by_date": _school_days_after(as_of, a.within_school_days)
                         if a.within_school_days else _school_day(as_of + timedelta(days=a.within_days))}
                        for a in rules.letter_actions.get(letter, [])],
            "date": as_of}


def _concern_ids(text, known: "set[str] | list[str]") -> set[str]:
    """The known indicator ids a letters-log `concern` names (as "<id>, <id>: what was discussed")."""
    text = str(text or "")
    return {k for k in known if re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", text, re.IGNORECASE)}


def route_position(data: TermData, rules: RuleSet, urn: int, concern_ids: list[str]) -> tuple[dict[str, int], list[str]]:
    """For each concern, the index of the furthest route step already taken for it (-1: none), and notes.

    The route runs per concern: a step counts only for the concerns the letters log names; a resolution
    recorded for a concern closes its route, so the same concern raised again starts at the first step.
    """
    ac = rules.academy_concerns
    steps = [s.step for s in ac.route]
    taken = {c: -1 for c in concern_ids}
    notes = []
    log = issued_letters(data, urn, steps + [ac.resolved_letter], ac.route_lookback_terms)
    known = {i.id for i in ac.indicators}
    for r in log:  # in date order
        named = _concern_ids(r.get("concern"), known)
        if r["letter"] == ac.resolved_letter:
            for c in taken:
                if c in named:
                    taken[c] = -1
            continue
        if r["_term"] >= data.term:
            continue  # a step taken this term is this term's step, not the one before it
        if not named:
            notes.append(f"{_title(rules, r['letter'])} on {r['issued_on']} names no concern in the letters log: "
                         f"record the concern ids (e.g. {concern_ids[0]})")
        for c in taken:
            if c in named:
                taken[c] = max(taken[c], steps.index(r["letter"]))
    return taken, notes


def _last_step_on(data: TermData, rules: RuleSet, urn: int, concern_ids: list[str]) -> dict[str, date]:
    """For each concern, the day of the latest route step taken for it before this term, or of its resolution: the
    same concern raised again (a meeting first) is raised on evidence newer than that, not on what was resolved."""
    ac = rules.academy_concerns
    known = {i.id for i in ac.indicators}
    out: dict[str, date] = {}
    for r in issued_letters(data, urn, [s.step for s in ac.route] + [ac.resolved_letter], ac.route_lookback_terms):
        for c in _concern_ids(r.get("concern"), known) & set(concern_ids):
            if r["letter"] == ac.resolved_letter or r["_term"] < data.term:
                out[c] = r["issued_on"]
    return out


def academy_concerns(data: TermData, rules: RuleSet, history: dict[int, dict], as_of: date,
                     evidence: TermEvidence | None = None) -> pd.DataFrame:
    """Each of the Strategy's concerns about an academy, with the next step on its route, per concern."""
    on = data.term.reference_date
    if evidence is None:
        evidence = assess(data, rules, history)
    bodies = rules.bodies_on(on)
    ac = rules.academy_concerns
    rows = []
    for school in academies(data).to_dict("records"):
        urn = int(school["urn"])
        answers = evidence.school(urn)
        met = _met(ac.indicators, answers, ACADEMY_CONCERN, on)
        if met and rules.concerns_remain.evidence_after_letter:
            # A concern already taken up (a meeting, a letter) stays where it is on results from before that step:
            # they cannot show that "should that not be the case", so neither the concern nor its next step is due.
            last = _last_step_on(data, rules, urn, [m[0].id for m in met])
            met = [again for m in met for again in (
                [m] if m[0].id not in last else
                _met([m[0]], answers, ACADEMY_CONCERN, on, counts=_newer_than(data, rules, last[m[0].id], urn)))]
        if not met:
            continue
        ids = [m[0].id for m in met]
        taken, notes = route_position(data, rules, urn, ids)
        per = {c: min(t + 1, len(ac.route) - 1) for c, t in taken.items()}
        route = ac.route[max(per.values())]
        detail = route.wording + ". Per concern: " + ", ".join(
            f"{c} {ac.route[n].step.replace('_', ' ')}" for c, n in per.items())
        if notes:
            detail += ". " + " ".join(notes)
        safeguarding = set(ids) & set(ac.safeguarding_indicators)
        sg_route = ""
        if safeguarding:
            parts = []
            for rcp in ac.safeguarding_route:
                if rcp.when_indicator and not answers.finding(rcp.when_indicator).met:
                    continue
                name = (f"the academy trust ({school.get('trust') or 'trust not recorded'})"
                        if rcp.body == "academy_trust" else bodies.get(rcp.body, ""))
                parts.append(f"{name} ({rcp.note})" if rcp.note and name else name)
            sg_route = "Report safeguarding concerns to " + ", ".join(p for p in parts if p)
        escalate_to = ", ".join(bodies[k] for k in route.escalate_to if k in bodies)
        rows.append({"urn": urn, "school_name": school.get("school_name"), "trust": school.get("trust") or "",
                     "concerns": "; ".join(ids), "evidence": " | ".join(f"{i.wording} ({i.id}): {t}" for i, t, _ in met),
                     "evidence_general": " | ".join(f"{i.wording} ({i.id}): {g}" for i, _, g in met),
                     "next_step": route.step, "next_step_detail": detail, "escalate_to": escalate_to,
                     "safeguarding_route": sg_route, "flagged_on": as_of, "term": str(data.term)})
    return pd.DataFrame(rows, columns=ACADEMY_COLUMNS)


def academy_routes_open(data: TermData, rules: RuleSet, evidence: TermEvidence, on: date) -> list:
    """Concerns about an academy taken up on its route (a meeting, a letter) and not resolved, that nothing newer than
    that step shows remain: no step is due this term ("Should that not be the case" is not shown), but the route is
    open. One info row per academy for data_quality.csv (Appendix A), so that an academy whose leaders the Director
    met last term does not vanish from the edition without a word."""
    from ..errors import Problem

    ac = rules.academy_concerns
    if not rules.concerns_remain.evidence_after_letter:
        return []  # every concern met is due again: academy_concerns lists it
    log = data.latest("letters_log")
    out = []
    for school in academies(data).to_dict("records"):
        urn = int(school["urn"])
        answers = evidence.school(urn)
        met = _met(ac.indicators, answers, ACADEMY_CONCERN, on)
        last = _last_step_on(data, rules, urn, [m[0].id for m in met]) if met else {}
        quiet = [m[0].id for m in met if m[0].id in last and not _met(
            [m[0]], answers, ACADEMY_CONCERN, on, counts=_newer_than(data, rules, last[m[0].id], urn))]
        if not quiet:
            continue
        taken, _ = route_position(data, rules, urn, quiet)
        steps = "; ".join(f"{c}: {ac.route[taken[c]].step.replace('_', ' ')} on {last[c]:%d %B %Y}" for c in quiet
                          if taken[c] >= 0)  # a resolved concern's route is closed, not open
        if not steps:
            continue
        out.append(Problem(log.source if log is not None else "letters log", None, "concern",
                           f"{school.get('school_name')} (URN {urn}), an academy: concerns taken up on the route and "
                           f"not resolved ({steps}); nothing newer than that step shows them remaining, so no further "
                           f"step is due this term. Record {ac.resolved_letter} in the letters log once resolved.",
                           "info", "academy_route_open"))
    return out


def letters_read_by_nothing(data: TermData, rules: RuleSet) -> list:
    """Letters-log rows, within the rule set's widest look-back, naming a letter the rule set reads nowhere (not one of
    its letters, a step of its academy route, nor a letter its evidence or member alerts name): e.g. a Warning Notice
    logged before the LA renamed its ladder. Such a row is not counted (the ladder would start again at its first
    rung), so it is said, once per letter, in data_quality.csv."""
    from ..errors import Problem

    log = data.latest("letters_log")
    frame = data.frame("letters_log")
    if frame.empty or "letter" not in frame:
        return []
    ac = rules.academy_concerns
    read = {*rules.letters, *(s.step for s in ac.route), ac.resolved_letter, *rules.member_alerts.letters_issued}
    read |= {x for _, evidence in rules.all_evidence() for e in evidence for x in (e.letter_issued or [])}
    window = max(rules.windows.ladder_lookback_terms, ac.route_lookback_terms, rules.member_alerts.issued_within_terms,
                 *(e.within_terms or 1 for _, evidence in rules.all_evidence() for e in evidence))
    out = []
    for letter in sorted(set(frame["letter"].dropna().astype(str)) - read):
        rows = [r for urn in frame.loc[frame["letter"].astype(str) == letter, "urn"].dropna().unique()
                for r in issued_letters(data, int(urn), [letter], window)]
        if not rows:
            continue
        seen = "; ".join(f"URN {int(r['urn'])} on {r['issued_on']}" for r in rows[:3]) + (
            f" and {len(rows) - 3} more" if len(rows) > 3 else "")
        out.append(Problem(log.source if log is not None else "letters log", None, "letter",
                           f"{len(rows)} letters-log row(s) within the last {window} terms record {letter!r} ({seen}), "
                           f"a letter rule set {rules.id} reads nowhere (its letters: {', '.join(rules.letters)}): not "
                           f"counted on its ladder, as a bullet or for members' alerts. If it is one of these letters "
                           f"under an earlier name, record it under this rule set's name.", "warning",
                           "letter_not_in_rule_set"))
    return out


def whistleblowing_redirect(rules: RuleSet, on: date) -> str:
    return rules.academy_concerns.whistleblowing.format(**rules.bodies_on(on))


def member_alerts(data: TermData, rules: RuleSet, categorisation: pd.DataFrame, letters: pd.DataFrame,
                  told: "dict[int, tuple[set[str], str]] | None" = None) -> pd.DataFrame:
    """Members for the ward of each school causing significant concern: at the rule set's alert levels, or issued
    one of its alert letters (in the letters log). A letter merely flagged does not alert. Only what members are told.
    `told_in` names the term members were first told every one of these reasons, when they were told them last term
    on record too (`told`) and the rule set does not tell them again each term: not news, not to be sent again.
    """
    ma = rules.member_alerts
    members = data.frame("ward_members")
    reasons: dict[int, list[str]] = {}
    for r in categorisation.to_dict("records") if not categorisation.empty else []:
        urn = int(r["urn"])
        if r["category"] in ma.categories:
            reasons.setdefault(urn, []).append(VOCAB.support_levels.get(r["category"], r["category"]).lower())
        for x in issued_letters(data, urn, ma.letters_issued, ma.issued_within_terms):
            reasons.setdefault(urn, []).append(f"{_title(rules, x['letter'])} issued {x['issued_on']}")
    # A rule set may alert members for letters flagged this term too (due, before the Director's decision).
    for r in letters.to_dict("records") if ma.letters_flagged and not letters.empty else []:
        if r["letter"] in ma.letters_flagged:
            reasons.setdefault(int(r["urn"]), []).append(f"{_title(rules, r['letter'])} due this term (flagged)")
    rows = []
    wards = dict(zip(categorisation["urn"], categorisation["ward"])) if not categorisation.empty else {}
    names = dict(zip(categorisation["urn"], categorisation["school_name"])) if not categorisation.empty else {}
    by_ward: dict[str, list[dict]] = {}  # indexed once: not a filter of the whole list per school
    if not members.empty:
        for ward, m in zip(members["ward"].astype(str).str.casefold(), members.to_dict("records")):
            by_ward.setdefault(ward, []).append(m)
    for urn, why in sorted(reasons.items()):
        ward = wards.get(urn)
        before = (told or {}).get(urn)
        told_in = before[1] if before and not ma.again_each_term and set(why) <= before[0] else ""
        for m in by_ward.get(str(ward).casefold()) or [{"member_name": "[no member listed for this ward]"}]:
            rows.append({"ward": ward, "member_name": m.get("member_name"), "party": m.get("party", ""),
                         "email": m.get("email", ""), "urn": urn, "school_name": names.get(urn),
                         "reason": "; ".join(why), "told_in": told_in})
    return pd.DataFrame(rows, columns=MEMBER_COLUMNS)


def _school_day(d):
    """Due dates fall on school days (the term calendar; weekdays where it has no entry)."""
    from ..terms import TermCalendar

    return TermCalendar.load().school_day_on_or_after(d)


def _school_days_after(d: date, n: int) -> date:
    """The n-th school day after `d` ("within ten school days" of the letter): each day counted is the term
    calendar's next school day, so weekends, holidays and closures are not counted."""
    for _ in range(n):
        d = _school_day(d + timedelta(days=1))
    return d
