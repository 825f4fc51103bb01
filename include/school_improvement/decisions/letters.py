"""Letters to schools, academy concerns and elected members' alerts, from the Strategy's sections.

Nothing is sent: each flag carries its evidence and a draft for the Director of Education's review.
The ladder (the rule set's `escalates_from`) follows the letters log: a letter issued earlier, with concerns
remaining, makes the next rung due. One flag per school per term: the highest due. The academy route runs per
concern. Every letter, step and window is rule-set data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from ..evidence.assess import (ACADEMY_CONCERN, SchoolAnswers, TermEvidence, academies, assess, issued_letters,
                               letter_question, maintained_schools)
from ..rules import Indicator, RuleSet
from ..ingest.termdata import TermData
from ..vocabulary import VOCAB

LETTER_COLUMNS = ["urn", "school_name", "letter", "letter_title", "indicators", "evidence", "evidence_general",
                  "escalation_note", "category", "flagged_on", "term"]
ACADEMY_COLUMNS = ["urn", "school_name", "trust", "concerns", "evidence", "evidence_general", "next_step",
                   "next_step_detail", "escalate_to", "safeguarding_route", "flagged_on", "term"]
MEMBER_COLUMNS = ["ward", "member_name", "party", "email", "urn", "school_name", "reason"]


@dataclass
class Letters:
    letters: pd.DataFrame
    academy_concerns: pd.DataFrame
    member_alerts: pd.DataFrame
    drafts: list[dict]


def _met(indicators: list[Indicator], school: SchoolAnswers, question: str, on: date, category: str | None = None
         ) -> list[tuple[Indicator, str, str]]:
    """Indicators in force and met: (indicator, evidence, evidence as the general edition may show it).

    The checks are the evidence stage's answers to `question`, one per piece of the indicator's evidence."""
    out = []
    for ind in indicators:
        if not ind.in_force_on(on):
            continue  # e.g. the floor standard, dated out of force
        checks = school.answers(question, ind.id)
        usable = [c for e, c in zip(ind.evidence, checks) if not e.with_category or category in e.with_category]
        hits = [c for c in usable if c.met]
        if hits:
            # Several evidence items can rest on one finding (AC-2's three absence tests read the same figures): once.
            out.append((ind, "; ".join(dict.fromkeys(c.value for c in hits)),
                        "; ".join(dict.fromkeys(c.general_value for c in hits))))
    return out


def _issued_this_term(data: TermData, urn: int, letter: str, indicator_ids: list[str]) -> bool:
    """A letter already issued for the same concern in the same term is not flagged again."""
    rows = issued_letters(data, urn, [letter], 1)
    issued_for = {c.strip() for r in rows for c in str(r.get("concern") or "").replace(";", ",").split(",")}
    return bool(rows) and (not indicator_ids or set(indicator_ids) <= issued_for or "" in issued_for and len(issued_for) == 1)


def _earlier(data: TermData, urn: int, letter: str, within_terms: int) -> list[dict]:
    return [r for r in issued_letters(data, urn, [letter], within_terms) if r["_term"] < data.term]


def _title(rules: RuleSet, letter: str) -> str:
    return rules.letters[letter].title if letter in rules.letters else VOCAB.letters.get(letter, letter)


def flag_letters(data: TermData, rules: RuleSet, categorisation: pd.DataFrame, history: dict[int, dict],
                 as_of: date, evidence: TermEvidence | None = None) -> Letters:
    """`evidence` is the term's assessed evidence (the evidence stage's artefact); without it, assessed here."""
    on = data.term.reference_date
    if evidence is None:
        evidence = assess(data, rules, history)
    category = dict(zip(categorisation["urn"], categorisation["category"])) if not categorisation.empty else {}
    by_urn = {int(r["urn"]): r for r in categorisation.to_dict("records")}
    ladder = rules.ladder()
    recognition = [k for k, v in rules.letters.items() if v.recognition]
    cr, lookback = rules.concerns_remain, rules.windows.ladder_lookback_terms
    rows, drafts = [], []
    gias = {int(r["urn"]): r for r in maintained_schools(data).to_dict("records")}
    for urn, school in gias.items():
        answers = evidence.school(urn)
        met = {name: _met(rule.indicators, answers, letter_question(name), on, category.get(urn))
               for name, rule in rules.letters.items()}
        # "Concerns remain" is judged on this term's evidence, never on a letter already issued.
        row = by_urn.get(urn, {})
        concerns_remain = row.get("best_fit_category") in cr.best_fit_levels or (
            cr.overriding and bool(row.get("overriding_condition", ""))) or any(met[x] for x in cr.letters_met)
        due: list[tuple[str, list, str]] = []
        for name in ladder:
            rule = rules.letters[name]
            if category.get(urn) in rule.not_for_categories:
                continue
            earlier = _earlier(data, urn, rule.escalates_from, lookback) if rule.escalates_from else []
            escalates = bool(earlier) and concerns_remain
            if rule.requires_escalation and not earlier:
                continue
            if met[name] or escalates:
                note = ""
                if escalates:
                    note = (f"{_title(rules, rule.escalates_from)} issued {earlier[-1]['issued_on']}; concerns remain "
                            f"(level of support: {category.get(urn, 'n/a')})")
                due.append((name, met[name], note))
        due = [d for d in due if not _issued_this_term(data, urn, d[0], [m[0].id for m in d[1]])]
        if due:
            letter, inds, note = max(due, key=lambda d: ladder.index(d[0]))
        else:
            thanks = [(k, met[k]) for k in recognition if met[k]
                      and category.get(urn) not in rules.letters[k].not_for_categories
                      and not _issued_this_term(data, urn, k, [m[0].id for m in met[k]])]
            if not thanks:
                continue
            (letter, inds), note = thanks[0], ""
        rule = rules.letters[letter]
        rows.append({"urn": urn, "school_name": school.get("school_name"), "letter": letter,
                     "letter_title": rule.title, "indicators": "; ".join(m[0].id for m in inds),
                     # The Strategy's words first, the id after for the adviser (the ids alone are in `indicators`).
                     "evidence": " | ".join(f"{i.wording} ({i.id}): {text}" for i, text, _ in inds) or note,
                     "evidence_general": " | ".join(f"{i.wording} ({i.id}): {g}" for i, _, g in inds) or note,
                     "escalation_note": note, "category": category.get(urn, ""),
                     "flagged_on": as_of, "term": str(data.term)})
        drafts.append(_draft(school, letter, rule.title, inds, note, rules, as_of))
    letters = pd.DataFrame(rows, columns=LETTER_COLUMNS)
    concerns = academy_concerns(data, rules, history, as_of, evidence)
    alerts = member_alerts(data, rules, categorisation, letters)
    return Letters(letters, concerns, alerts, drafts)


def _draft(school: dict, letter: str, title: str, inds: list, note: str, rules: RuleSet, as_of: date) -> dict:
    head = " ".join(str(school.get(k) or "") for k in ("head_title", "head_first_name", "head_last_name")).strip()
    concerns = [f"{i.wording} ({text})" for i, text, _ in inds]
    if note:
        concerns.append(note)
    return {"urn": int(school["urn"]), "school_name": school.get("school_name"), "letter": letter,
            "letter_title": title, "head_name": head or "[Headteacher's name]",
            "chair_name": school.get("chair_name") or "[Chair of Governors' name]",
            "address_lines": [str(school[k]) for k in ("street", "town", "postcode") if school.get(k)],
            "concerns": concerns,
            "actions": [{"action": a.action, "by_date": _school_day(as_of + timedelta(days=a.within_days))}
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


def whistleblowing_redirect(rules: RuleSet, on: date) -> str:
    return rules.academy_concerns.whistleblowing.format(**rules.bodies_on(on))


def member_alerts(data: TermData, rules: RuleSet, categorisation: pd.DataFrame, letters: pd.DataFrame) -> pd.DataFrame:
    """Members for the ward of each school causing significant concern: at the rule set's alert levels, or issued
    one of its alert letters (in the letters log). A letter merely flagged does not alert. Only what members are told.
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
        for m in by_ward.get(str(ward).casefold()) or [{"member_name": "[no member listed for this ward]"}]:
            rows.append({"ward": ward, "member_name": m.get("member_name"), "party": m.get("party", ""),
                         "email": m.get("email", ""), "urn": urn, "school_name": names.get(urn),
                         "reason": "; ".join(why)})
    return pd.DataFrame(rows, columns=MEMBER_COLUMNS)


def _school_day(d):
    """Due dates fall on school days (the term calendar; weekdays where it has no entry)."""
    from ..terms import TermCalendar

    return TermCalendar.load().school_day_on_or_after(d)
