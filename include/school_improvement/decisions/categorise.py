"""Categorisation of LA-maintained schools: low, medium or high level of support offered.

Best fit, as the Strategy says ("a school does not have to meet all bullet points"):
1. Each criterion (one bullet) is met when any of its evidence is met.
2. Each area (Leadership and management, Quality of education, Behaviour and attitudes, Personal development)
   is placed at the level with the most bullets met; a tie follows the rule set's `best_fit.area_ties`.
   A level short of the rule set's `best_fit.min_bullets` / `min_share` (how many bullets make a level) does not
   place the area. An area with no bullet met (or none at its minimum) has no judgement.
3. The school's level is the mean of its judged areas (1 for the least support, rising), rounded to the
   nearest level; a mean exactly halfway follows `best_fit.school_ties`. With `best_fit.combine_areas:
   most_support` it is the level of its area of most support instead. Ties and near-ties are reported as
   borderline for moderation. A school with no bullet met (nothing judged, or every check judged not met) has
   no judged area and is placed at `best_fit.no_evidence_level`; its reasons say which of the two it is.
4. An overriding condition of the rule set (e.g. safeguarding not met) places the school at
   `overriding.places_at` (or the condition's own `places_at`).
5. A moderation override sets the final category; both computed and final are reported.
Every level, window and tie rule is rule-set data; nothing here names a criterion, flag or letter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

# The evidence (checks, indicators, measures) is the evidence stage's: categorise reads its answers.
from ..evidence.assess import (Check, SchoolAnswers, TermEvidence, _as_date, academies, assess,  # noqa: F401
                               maintained_schools)
from ..rules import RuleSet
from ..ingest.termdata import TermData
from ..terms import Term

CATEGORISATION_COLUMNS = [
    "urn", "school_name", "phase", "school_type", "ward", "adviser", "category", "computed_category",
    "best_fit_category", "previous_category", "direction_of_travel", "override_reason", "override_by", "override_on",
    "criteria_met", "reasons", "reasons_general", "overriding_condition", "visits_planned", "laig_reviews_planned", "support_plan",
    "rule_set", "term", "good_or_better", "borderline"]
EVIDENCE_COLUMNS = ["urn", "criterion_id", "area", "level", "wording", "measure", "met", "value", "comparator",
                    "reason", "source", "detail", "confidential"]


@dataclass
class CriterionResult:
    id: str
    area: str
    level: str
    wording: str
    met: bool
    checks: list[Check] = field(default_factory=list)

    def evidence_text(self, general: bool = False) -> str:
        return "; ".join(c.general_value if general else c.value for c in self.checks if c.met) or "; ".join(
            c.reason for c in self.checks if c.met is None and c.reason)


def evaluate_criteria(school: SchoolAnswers) -> list[CriterionResult]:
    """Each criterion in force, met when any of its evidence is met (the checks the evidence stage made)."""
    return [CriterionResult(c.id, c.area, c.level, c.wording, any(x.met for x in c.checks), c.checks)
            for c in school.criteria]


def _pick(levels: list[str], rule: str, rules: RuleSet) -> str:
    return (max if rule == "more_support" else min)(levels, key=rules.level_score)


def _minimum(bf, level: str) -> str:
    parts = [f"at least {bf.min_bullets[level]}" for _ in [0] if level in bf.min_bullets]
    parts += [f"at least {bf.min_share[level]:.0%} of them" for _ in [0] if level in bf.min_share]
    return " and ".join(parts)


def best_fit(results: list[CriterionResult], rules: RuleSet) -> tuple[str | None, dict[str, str | None], list[str]]:
    """Area levels by the most bullets met, then the mean of areas; ties by the rule set. Also the borderlines."""
    areas: dict[str, str | None] = {}
    borderline: list[str] = []
    bf = rules.best_fit
    for area in rules.areas:
        counts = {lv: sum(r.met for r in results if r.area == area and r.level == lv) for lv in rules.levels}
        # A bullet the rule set writes for other phases (criterion `phases`) is not one of this school's to meet.
        listed = {lv: sum(1 for r in results if r.area == area and r.level == lv
                          and not (r.checks and all(c.measure.startswith("phase:") for c in r.checks)))
                  for lv in rules.levels}
        # How many bullets make a level (the rule set's minimums; by default one bullet met is enough).
        short = {lv: n for lv, n in counts.items() if n and (n < bf.min_bullets.get(lv, 1)
                                                            or n < bf.min_share.get(lv, 0.0) * listed[lv])}
        for lv, n in short.items():
            borderline.append(f"{rules.areas[area]}: {n} of {listed[lv]} {lv} bullet(s) met, fewer than the rule set "
                              f"asks for a level ({_minimum(bf, lv)}): not placed at {lv}")
        counts = {lv: (0 if lv in short else n) for lv, n in counts.items()}
        best = max(counts.values())
        tied = [lv for lv, n in counts.items() if n == best]
        areas[area] = None if best == 0 else _pick(tied, bf.area_ties, rules)
        if best and len(tied) > 1:
            borderline.append(f"{rules.areas[area]}: a tie between {' and '.join(tied)} ({best} bullet(s) each), "
                              f"resolved to {areas[area]} ({bf.area_ties.replace('_', ' ')})")
    judged = [rules.level_score(v) for v in areas.values() if v]
    if not judged:
        return None, areas, borderline
    if bf.combine_areas == "most_support":  # the school is at its area of most support
        return rules.levels[max(judged) - 1], areas, borderline
    weights = {a: bf.area_weights.get(a, 1.0) for a, v in areas.items() if v}
    mean = sum(weights[a] * rules.level_score(v) for a, v in areas.items() if v) / sum(weights.values())
    frac = mean - math.floor(mean)
    lower, upper = rules.levels[math.floor(mean) - 1], rules.levels[min(math.ceil(mean), len(rules.levels)) - 1]
    if frac == 0.5:
        level = _pick([lower, upper], rules.best_fit.school_ties, rules)
        borderline.append(f"the mean of the areas ({mean:.2f}) is halfway between {lower} and {upper}: resolved to "
                          f"{level} ({rules.best_fit.school_ties.replace('_', ' ')})")
    else:
        level = upper if frac > 0.5 else lower
        if frac and abs(frac - 0.5) <= rules.best_fit.near_tie_margin:
            borderline.append(f"the mean of the areas ({mean:.2f}) is near the line between {lower} and {upper}")
    return level, areas, borderline


def overriding_condition(results: list[CriterionResult], school: SchoolAnswers, rules: RuleSet) -> tuple[str, str, str]:
    """The overriding condition met that places the school at the most support (the first such): its id, and the
    reason in full and for the general edition."""
    met = {r.id: r for r in results if r.met}
    found = []
    for o in rules.overriding.conditions:
        hit = [met[c] for c in o.criteria if c in met]
        if hit:
            found.append((o, f"{o.wording} ({hit[0].evidence_text()})", f"{o.wording} ({hit[0].evidence_text(True)})"))
        elif o.indicator:
            f = school.finding(o.indicator)
            if f.met:
                found.append((o, f"{o.wording} ({f.value})", f"{o.wording} ({f.value})"))
    if not found:
        return "", "", ""
    o, text, general = max(found, key=lambda x: rules.level_score(x[0].places_at or rules.overriding.places_at))
    return o.id, text, general


def visits_planned(level: str, term: Term, rules: RuleSet, flags: "set[str] | frozenset[str]" = frozenset(),
                   phase: str | None = None) -> tuple[int, int, str]:
    """School Improvement Adviser visits this term, LAIG reviews, and the plan in the Strategy's words.

    `flags` are the school's LA-intelligence flags and `phase` its GIAS phase: a rule-set exception (e.g. no
    Primary Offer, or a phase the offer is not for) may apply. The first exception that fits is the plan.
    """
    plan = rules.support_plan[level]
    phase = str(phase or "").strip().lower()
    for exc in rules.support_plan_exceptions:
        if (level in exc.levels and (exc.flag is None or exc.flag in flags)
                and (not exc.phases or phase in {p.lower() for p in exc.phases})):
            plan = exc
            break
    start, end = term.dates()
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    visits = {"monthly": months, "half_termly": 2, "termly": 1, "annual": 1 if term.season == plan.annual_in else 0}
    return visits[plan.visits], plan.laig_reviews_per_term, plan.summary


def placed_by_default(level: str, reasons: str | None) -> bool:
    """The school's reasons say it was placed at `level` because no bullet was met, and nothing moved it since (an
    overriding condition or moderation): the no-evidence placement, not a judgement of the school."""
    lines = str(reasons or "").splitlines()
    return any(ln.endswith(NO_EVIDENCE_PLACEMENT.format(level=level)) for ln in lines) \
        and not any(ln.startswith(("Overriding condition:", "Moderated ", "Moderation confirmed ")) for ln in lines)


def direction(previous: str | None, current: str, rules: RuleSet, by_default: bool = False) -> str:
    """improving / declining / stable against last term; "new"; "default" when the school moved only
    because no bullet was met (e.g. its results became too old to judge), or from last term's placement because no
    bullet was met then (e.g. its first absence figures arrived): either says nothing of the school itself."""
    if not previous:
        return "new"
    if previous not in rules.levels:  # a level of the rule set before this one (the LA renamed its levels)
        return "not compared"
    d = rules.level_score(current) - rules.level_score(previous)
    if d and by_default:
        return "default"
    return "improving" if d < 0 else "declining" if d > 0 else "stable"


@dataclass
class Categorisation:
    table: pd.DataFrame  # CATEGORISATION_COLUMNS
    evidence: pd.DataFrame  # EVIDENCE_COLUMNS
    measures: dict[int, dict]  # urn -> figures to store in the history (for change next term)
    problems: list = field(default_factory=list)  # warnings for data_quality.csv (e.g. adviser judgements not used)


# The reason a school with no judged area carries; the front page counts these schools apart by it.
# Said of schools with evidence judged and none met as well as of schools with nothing judged: true of both.
NO_EVIDENCE_PLACEMENT = "placed at {level}, the rule set's level when no bullet is met, until an adviser visit"
# Bullets met, but in no area as many as the rule set's minimum for a level (best_fit.min_bullets / min_share).
SHORT_OF_MINIMUM = "No area has as many bullets met as the rule set asks for a level"


def _bullet(r: CriterionResult, general: bool) -> str:
    return f"{r.wording.rstrip('.')} [{r.id}] ({r.evidence_text(general)})"


def categorise(data: TermData, rules: RuleSet, history: "dict[int, dict] | None" = None,
               evidence: TermEvidence | None = None) -> Categorisation:
    """Place every open LA-maintained school of the LA. `history` maps urn -> {'previous_category', 'prior'}.

    `evidence` is the term's assessed evidence (the evidence stage's artefact); without it, it is assessed here.
    """
    history = history or {}
    if evidence is None:
        evidence = assess(data, rules, history)
    rows, table_evidence, measures = [], [], {}
    moderation = _moderation(data)
    for school in maintained_schools(data).to_dict("records"):
        urn = int(school["urn"])
        h = history.get(urn, {})
        answers = evidence.school(urn)
        results = evaluate_criteria(answers)
        computed, areas, borderline = best_fit(results, rules)
        reasons, general = [], []  # general: the same reasons with confidential evidence named by kind only
        for area, level in areas.items():
            if not level:
                continue
            met = [r for r in results if r.area == area and r.level == level and r.met]
            # Evidence below (or above) the winning level stays visible: a reviewer sees why the school fell through.
            also = [r for r in results if r.area == area and r.level != level and r.met]
            for out, g in ((reasons, False), (general, True)):
                line = f"{rules.areas[area]} best fits {level} support: " + "; ".join(_bullet(r, g) for r in met)
                if also:
                    line += ". Also met: " + "; ".join(f"({r.level}) {_bullet(r, g)}" for r in also)
                out.append(line)
        by_default = computed is None
        if computed is None:
            computed = rules.best_fit.no_evidence_level
            # Judged: a figure or an adviser judgement was weighed (absent intelligence or letters judge nothing).
            judged = sum(c.met is not None and c.measure.startswith(("data", "adviser")) for r in results for c in r.checks)
            text = (f"No bullet was met by the evidence judged ({judged} data or adviser check(s), none met)" if judged else
                    "No criterion could be judged from the evidence available")
            # Bullets met, but in no area as many as the rule set's minimum for a level (best_fit.min_bullets /
            # min_share): "none met" would be untrue, and the bullets would be said nowhere but the borderline.
            short = [r for r in results if r.met]
            for out, g in ((reasons, False), (general, True)):
                if short:
                    text = (f"{SHORT_OF_MINIMUM} (met: "
                            + "; ".join(f"({r.level}) {_bullet(r, g)}" for r in short) + ")")
                out.append(f"{text}: {NO_EVIDENCE_PLACEMENT.format(level=computed)}")
        best_fit_level = computed
        ov_id, ov_text, ov_general = overriding_condition(results, answers, rules)
        if ov_id:
            cond = next(o for o in rules.overriding.conditions if o.id == ov_id)
            computed = max(computed, cond.places_at or rules.overriding.places_at, key=rules.level_score)
            reasons.insert(0, f"Overriding condition: {ov_text}")
            general.insert(0, f"Overriding condition: {ov_general}")
        results_text = answers.results_summary
        if results_text:
            for out in (reasons, general):
                out.append("Results: " + " | ".join(results_text))
        not_judged = sorted({c.reason for r in results for c in r.checks if c.met is None and c.measure.startswith("data")
                             and c.reason})
        if not_judged:
            for out in (reasons, general):
                out.append("Not judged from data: " + " | ".join(not_judged))
        if borderline:
            for out in (reasons, general):
                out.append("Borderline, for moderation: " + " | ".join(borderline))

        final, ov = computed, {}
        m = moderation.get(urn)
        if m is not None:
            final = str(m["final_category"])
            ov = {"override_reason": m["reason"], "override_by": m["approved_by"],
                  "override_on": _as_date(m["approved_on"])}
            said = f"Moderated from {computed} to {final}" if final != computed else f"Moderation confirmed {final}"
            reasons.append(f"{said}: {m['reason']} (approved by {m['approved_by']})")
            # The panel's reason is free text about the school's people (a head's leave, a complaint): restricted.
            general.append(f"{said}: reason restricted (approved by {m['approved_by']})")
        visits, laig, plan = visits_planned(final, data.term, rules, answers.flags, school.get("phase"))
        prev = h.get("previous_category")
        rows.append({
            "urn": urn, "school_name": school.get("school_name"), "phase": school.get("phase"),
            "school_type": school.get("type"), "ward": school.get("ward"), "adviser": answers.adviser,
            "category": final, "computed_category": computed, "best_fit_category": best_fit_level,
            "previous_category": prev or "",
            "direction_of_travel": direction(prev, final, rules, (by_default and final == computed and not ov_id)
                                             or (bool(h.get("previous_by_default")) and m is None)),
            "override_reason": ov.get("override_reason", ""), "override_by": ov.get("override_by", ""),
            "override_on": ov.get("override_on") or "",
            "criteria_met": "; ".join(r.id for r in results if r.met),
            "reasons": "\n".join(reasons), "reasons_general": "\n".join(general), "overriding_condition": ov_id, "visits_planned": visits,
            "laig_reviews_planned": laig, "support_plan": plan, "rule_set": rules.id, "term": str(data.term),
            "good_or_better": answers.good_or_better,
            "borderline": "; ".join(borderline)})
        for r in results:
            for c in r.checks:
                # Every check that was judged (met or not), and why a data or adviser check could not be.
                if c.met is not None or c.reason and (c.measure.startswith("data") or "not current" in c.reason):
                    table_evidence.append({"urn": urn, "criterion_id": r.id, "area": r.area, "level": r.level,
                                           "wording": r.wording, "measure": c.measure, "met": c.met,
                                           "value": c.value, "comparator": c.comparator, "reason": c.reason,
                                           "source": c.source,
                                           "detail": c.detail, "confidential": c.confidential})
        measures[urn] = answers.measures
    table = pd.DataFrame(rows, columns=CATEGORISATION_COLUMNS)
    return Categorisation(table, pd.DataFrame(table_evidence, columns=EVIDENCE_COLUMNS), measures,
                          list(evidence.problems))


def _moderation(data: TermData) -> dict:
    """This term's moderation decision per URN, indexed once per term (the last row for a school wins)."""
    df = data.frame("moderation")
    if df.empty:
        return {}
    return {int(r["urn"]): r for r in df.to_dict("records") if str(r["term"]) == str(data.term)}
