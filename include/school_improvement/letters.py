"""Letters to schools, academy concerns and elected members' alerts, from the Strategy's sections.

Nothing is sent: each flag carries its evidence and a draft for the Director of Education's review.
The ladder follows the letters log: Significant Concerns letter -> (concerns remain at the next LAIG)
Warning Notice -> (concerns remain) Significant Concerns. One flag per school per term: the highest due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from .categorise import SchoolEvidence, academies, issued_letters, maintained_schools
from .rules import Indicator, RuleSet
from .termdata import TermData

LADDER = ["significant_concerns_letter", "warning_notice", "significant_concerns"]
ACADEMY_ROUTE = ["academy_meeting", "academy_formal_letter", "academy_escalation"]
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


def _met(indicators: list[Indicator], ev: SchoolEvidence, on: date, category: str | None = None
         ) -> list[tuple[Indicator, str, str]]:
    """Indicators in force and met: (indicator, evidence, evidence as the general edition may show it)."""
    out = []
    for ind in indicators:
        if not ind.in_force_on(on):
            continue  # e.g. the floor standard, dated out of force
        usable = [e for e in ind.evidence if not e.with_category or category in e.with_category]
        hits = [c for c in (ev.check(e) for e in usable) if c.met]
        if hits:
            out.append((ind, "; ".join(c.value for c in hits), "; ".join(c.general_value for c in hits)))
    return out


def _issued_this_term(data: TermData, urn: int, letter: str, indicator_ids: list[str]) -> bool:
    """A letter already issued for the same concern in the same term is not flagged again."""
    rows = issued_letters(data, urn, [letter], 1)
    issued_for = {c.strip() for r in rows for c in str(r.get("concern") or "").replace(";", ",").split(",")}
    return bool(rows) and (not indicator_ids or set(indicator_ids) <= issued_for or "" in issued_for and len(issued_for) == 1)


def _earlier(data: TermData, urn: int, letter: str, within_terms: int = 3) -> list[dict]:
    return [r for r in issued_letters(data, urn, [letter], within_terms) if r["_term"] < data.term]


def flag_letters(data: TermData, rules: RuleSet, categorisation: pd.DataFrame, history: dict[int, dict],
                 as_of: date) -> Letters:
    on = data.term.reference_date
    category = dict(zip(categorisation["urn"], categorisation["category"])) if not categorisation.empty else {}
    by_urn = {int(r["urn"]): r for r in categorisation.to_dict("records")}
    letter_overrides = {o.id for o in rules.overriding if o.from_letter}
    rows, drafts = [], []
    gias = {int(r["urn"]): r for r in maintained_schools(data).to_dict("records")}
    for urn, school in gias.items():
        ev = SchoolEvidence(urn, data, rules, history.get(urn, {}).get("prior"))
        met = {name: _met(rule.indicators, ev, on, category.get(urn)) for name, rule in rules.letters.items()}
        # "Concerns remain" is judged on the evidence, not on the letter itself (which alone forces high).
        row = by_urn.get(urn, {})
        concerns_remain = row.get("best_fit_category") == "high" or row.get("overriding_condition", "") not in (
            {""} | letter_overrides) or bool(met["significant_concerns_letter"]) or bool(met["warning_notice"])
        due: list[tuple[str, list, str]] = []
        if met["significant_concerns_letter"]:
            due.append(("significant_concerns_letter", met["significant_concerns_letter"], ""))
        prior_scl = _earlier(data, urn, "significant_concerns_letter")
        if met["warning_notice"] or (prior_scl and concerns_remain):
            note = ""
            if prior_scl and concerns_remain:
                note = (f"Significant Concerns letter issued {prior_scl[-1]['issued_on']}; concerns remain "
                        f"(level of support: {category.get(urn, 'n/a')})")
            due.append(("warning_notice", met["warning_notice"], note))
        prior_wn = _earlier(data, urn, "warning_notice")
        if prior_wn and (met["significant_concerns"] or concerns_remain):
            due.append(("significant_concerns", met["significant_concerns"],
                        f"Warning Notice issued {prior_wn[-1]['issued_on']}; concerns remain"))
        due = [d for d in due if not _issued_this_term(data, urn, d[0], [m[0].id for m in d[1]])]
        if due:
            letter, inds, note = max(due, key=lambda d: LADDER.index(d[0]))
        elif met["congratulations"] and category.get(urn) != "high":
            letter, inds, note = "congratulations", met["congratulations"], ""
            if _issued_this_term(data, urn, letter, [m[0].id for m in inds]):
                continue
        else:
            continue
        rule = rules.letters[letter]
        rows.append({"urn": urn, "school_name": school.get("school_name"), "letter": letter,
                     "letter_title": rule.title, "indicators": "; ".join(m[0].id for m in inds),
                     "evidence": " | ".join(f"{i.id}: {text}" for i, text, _ in inds) or note,
                     "evidence_general": " | ".join(f"{i.id}: {g}" for i, _, g in inds) or note,
                     "escalation_note": note, "category": category.get(urn, ""),
                     "flagged_on": as_of, "term": str(data.term)})
        drafts.append(_draft(school, letter, rule.title, inds, note, rules, as_of))
    letters = pd.DataFrame(rows, columns=LETTER_COLUMNS)
    concerns = academy_concerns(data, rules, history, as_of)
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


def academy_concerns(data: TermData, rules: RuleSet, history: dict[int, dict], as_of: date) -> pd.DataFrame:
    """Each of the Strategy's concerns about an academy, with the next step on its route."""
    on = data.term.reference_date
    bodies = rules.bodies_on(on)
    rows = []
    for school in academies(data).to_dict("records"):
        urn = int(school["urn"])
        ev = SchoolEvidence(urn, data, rules, history.get(urn, {}).get("prior"))
        met = _met(rules.academy_concerns.indicators, ev, on)
        if not met:
            continue
        # How far along the route: the furthest step already taken in the letters log decides the next.
        taken = [r["letter"] for r in issued_letters(data, urn, ACADEMY_ROUTE, 6) if r["_term"] < data.term]
        step = 0 if not taken else min(max(ACADEMY_ROUTE.index(t) for t in taken) + 1, len(ACADEMY_ROUTE) - 1)
        route = rules.academy_concerns.route[step]
        ids = [m[0].id for m in met]
        safeguarding = set(ids) & set(rules.academy_concerns.safeguarding_indicators)
        sg_route = ""
        if safeguarding:
            ofsted_raised = ev.indicators.get("safeguarding_not_met").met
            parts = [f"the academy trust ({school.get('trust') or 'trust not recorded'})", bodies.get("regional", "")]
            if ofsted_raised:
                parts.append(f"{bodies.get('ofsted', 'Ofsted')} (it raised the concern)")
            sg_route = "Report safeguarding concerns to " + ", ".join(p for p in parts if p)
        escalate_to = ", ".join(bodies[k] for k in ("funding_body", "regional", "ofsted") if k in bodies) \
            if route["step"] == "academy_escalation" else ""
        rows.append({"urn": urn, "school_name": school.get("school_name"), "trust": school.get("trust") or "",
                     "concerns": "; ".join(ids), "evidence": " | ".join(f"{i.id} {i.wording}: {t}" for i, t, _ in met),
                     "evidence_general": " | ".join(f"{i.id} {i.wording}: {g}" for i, _, g in met),
                     "next_step": route["step"], "next_step_detail": route["wording"], "escalate_to": escalate_to,
                     "safeguarding_route": sg_route, "flagged_on": as_of, "term": str(data.term)})
    return pd.DataFrame(rows, columns=ACADEMY_COLUMNS)


def whistleblowing_redirect(rules: RuleSet, on: date) -> str:
    return rules.academy_concerns.whistleblowing.format(**rules.bodies_on(on))


def member_alerts(data: TermData, rules: RuleSet, categorisation: pd.DataFrame, letters: pd.DataFrame) -> pd.DataFrame:
    """Members for the ward of each high-support or concern-letter school. Only what members are told."""
    members = data.frame("ward_members")
    reasons: dict[int, list[str]] = {}
    if "high_support" in rules.member_alerts.when and not categorisation.empty:
        for r in categorisation[categorisation["category"] == "high"].to_dict("records"):
            reasons.setdefault(int(r["urn"]), []).append("high level of support")
    if "letter_flagged" in rules.member_alerts.when and not letters.empty:
        for r in letters[letters["letter"].isin(rules.member_alerts.letters)].to_dict("records"):
            reasons.setdefault(int(r["urn"]), []).append(f"{r['letter_title']} flagged")
    rows = []
    wards = dict(zip(categorisation["urn"], categorisation["ward"])) if not categorisation.empty else {}
    names = dict(zip(categorisation["urn"], categorisation["school_name"])) if not categorisation.empty else {}
    for urn, why in sorted(reasons.items()):
        ward = wards.get(urn)
        mine = members[members["ward"].astype(str).str.casefold() == str(ward).casefold()] if not members.empty else members
        for m in (mine.to_dict("records") if not mine.empty else [{"member_name": "[no member listed for this ward]"}]):
            rows.append({"ward": ward, "member_name": m.get("member_name"), "party": m.get("party", ""),
                         "email": m.get("email", ""), "urn": urn, "school_name": names.get(urn),
                         "reason": "; ".join(why)})
    return pd.DataFrame(rows, columns=MEMBER_COLUMNS)


def _school_day(d):
    """Due dates fall on school days (the term calendar; weekdays where it has no entry)."""
    from .terms import TermCalendar

    return TermCalendar.load().school_day_on_or_after(d)
