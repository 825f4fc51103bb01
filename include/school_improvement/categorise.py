"""Categorisation of LA-maintained schools: low, medium or high level of support offered.

Best fit, as the Strategy says ("a school does not have to meet all bullet points"):
1. Each criterion (one bullet) is met when any of its evidence is met.
2. Each area (Leadership and management, Quality of education, Behaviour and attitudes, Personal development)
   is placed at the level with the most bullets met; a tie goes to the higher level of support.
   An area with no bullet met has no judgement.
3. The school's level is the mean of its judged areas (low 1, medium 2, high 3), rounded with halves going up,
   so ties break toward more support. A school with no judged area is placed at medium until an adviser visits.
4. An overriding condition (safeguarding not met, a Warning Notice or Significant Concerns letter issued,
   special measures or serious weaknesses, no substantive leadership) places the school at high.
5. A moderation override sets the final category; both computed and final are reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from .indicators import Finding, SchoolIndicators
from .rules import LEVELS, Evidence, RuleSet
from .termdata import TermData, months_before
from .terms import Term, term_for_date

LEVEL_SCORE = {"low": 1, "medium": 2, "high": 3}
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}
# Intelligence about these flags is confidential in its specifics (left out of the general edition).
CONFIDENTIAL_FLAGS = {"safeguarding", "finance", "staffing_turbulence", "staff_turnover", "complaints",
                      "leadership_capacity", "no_substantive_leadership", "new_head", "interim_head"}

CATEGORISATION_COLUMNS = [
    "urn", "school_name", "phase", "school_type", "ward", "adviser", "category", "computed_category",
    "best_fit_category", "previous_category", "direction_of_travel", "override_reason", "override_by", "override_on",
    "criteria_met", "reasons", "reasons_general", "overriding_condition", "visits_planned", "laig_reviews_planned", "support_plan",
    "rule_set", "term", "good_or_better"]
EVIDENCE_COLUMNS = ["urn", "criterion_id", "area", "level", "wording", "measure", "met", "value", "comparator",
                    "reason", "source", "detail", "confidential"]


def _is_blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()) or v is pd.NaT


def _as_date(v) -> date | None:
    if _is_blank(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


@dataclass
class Check:
    """The outcome of one piece of evidence for one school."""

    met: bool | None
    measure: str
    value: str = ""
    reason: str = ""
    source: str = ""
    detail: str = ""  # confidential specifics (LA intelligence detail, adviser note)
    confidential: bool = False
    comparator: str = ""  # what the figure was compared with, e.g. "national 61.0%"

    @property
    def general_value(self) -> str:
        """What the general edition may say: confidential evidence is named by kind only."""
        return f"{self.measure} (detail restricted)" if self.confidential else self.value


class SchoolEvidence:
    """Answers the rule set's evidence questions for one school in one term."""

    def __init__(self, urn: int, data: TermData, rules: RuleSet, prior: dict | None = None):
        self.urn, self.data, self.rules = urn, data, rules
        self.indicators = SchoolIndicators(urn, data, rules, prior)
        self.start, self.end = data.window()
        self.term_start = data.term.dates()[0]

    def check(self, ev: Evidence) -> Check:
        return getattr(self, f"_{ev.kind}")(ev)

    def _indicator(self, ev: Evidence) -> Check:
        f: Finding = self.indicators.get(ev.indicator)
        return Check(f.met, f"data: {ev.indicator}", f.value, f.reason, f.source)

    def _adviser(self, ev: Evidence) -> Check:
        rows = self.data.rows_for("adviser_judgements", self.urn)
        if rows.empty or "criterion_id" not in rows:
            return Check(None, f"adviser: {ev.adviser}", reason="no adviser judgement recorded")
        rows = rows[rows["criterion_id"] == ev.adviser]
        rows = rows[[(_as_date(d) or date.min) <= self.end for d in rows["visit_date"]]]
        if rows.empty:
            return Check(None, f"adviser: {ev.adviser}", reason="no adviser judgement on this criterion")
        latest = rows.assign(_d=[_as_date(d) or date.min for d in rows["visit_date"]]).sort_values("_d").iloc[-1]
        met = bool(latest["met"])
        note = "" if _is_blank(latest.get("note")) else str(latest["note"])
        return Check(met, f"adviser: {ev.adviser}",
                     f"adviser judgement ({latest.get('adviser')}, visit {_as_date(latest['visit_date'])}): "
                     f"{'met' if met else 'not met'}", source=str(latest.get("_source", "adviser judgements")),
                     detail=note, confidential=bool(note))

    def _intelligence(self, ev: Evidence) -> Check:
        rows = self.data.rows_for("la_intelligence", self.urn)
        measure = f"LA intelligence: {', '.join(ev.intelligence)}"
        if rows.empty:
            return Check(False, measure, "no LA intelligence flag raised", source="LA intelligence")
        since = months_before(self.term_start, ev.within_months) if ev.within_months else self.start
        lo, hi = SEVERITY_RANK[ev.min_severity], SEVERITY_RANK[ev.max_severity]
        hits = []
        for r in rows.to_dict("records"):
            raised = _as_date(r.get("raised_on"))
            sev = SEVERITY_RANK.get(str(r.get("severity", "")).lower(), -1)
            if r.get("flag") in ev.intelligence and lo <= sev <= hi and raised and since <= raised <= self.end:
                hits.append(r)
        flags = sorted({h["flag"] for h in hits})
        if len(flags) < ev.min_count:
            return Check(False, measure, "no matching LA intelligence flag in the evidence window",
                         source="LA intelligence")
        value = "; ".join(f"{h['flag'].replace('_', ' ')} ({h['severity']}) raised by {h.get('raised_by_team')} on "
                          f"{_as_date(h['raised_on'])}" for h in hits)
        detail = "; ".join(str(h.get("detail")) for h in hits if not _is_blank(h.get("detail")))
        return Check(True, measure, value, source=str(hits[0].get("_source", "LA intelligence")),
                     detail=detail, confidential=bool(set(flags) & CONFIDENTIAL_FLAGS) or bool(detail))

    def _letter_issued(self, ev: Evidence) -> Check:
        measure = f"letters log: {', '.join(ev.letter_issued)}"
        hits = issued_letters(self.data, self.urn, ev.letter_issued, ev.within_terms)
        if not hits:
            return Check(False, measure, "no such letter in the letters log", source="letters log")
        value = "; ".join(f"{h['letter'].replace('_', ' ')} issued {h['issued_on']}" for h in hits)
        return Check(True, measure, value, source="letters log")


def issued_letters(data: TermData, urn: int, letters: list[str], within_terms: int) -> list[dict]:
    """Letters of these kinds issued to the school in this term or the (within_terms - 1) before it."""
    rows = data.rows_for("letters_log", urn)
    if rows.empty:
        return []
    first = data.term
    for _ in range(max(within_terms - 1, 0)):
        first = first.previous()
    out = []
    for r in rows.to_dict("records"):
        d = _as_date(r.get("issued_on"))
        try:  # the log says which term a letter belongs to; its date decides only when it does not
            t = Term.parse(str(r.get("term") or ""))
        except ValueError:
            t = term_for_date(d) if d else None
        if r.get("letter") in letters and d and t and first <= t <= data.term:
            out.append({**r, "issued_on": d, "_term": t})
    return sorted(out, key=lambda r: (r["issued_on"], r["letter"]))


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


def evaluate_criteria(ev: SchoolEvidence, rules: RuleSet, on: date) -> list[CriterionResult]:
    out = []
    for c in rules.criteria_in_force(on):
        checks = [ev.check(e) for e in c.evidence]
        out.append(CriterionResult(c.id, c.area, c.level, c.wording, any(x.met for x in checks), checks))
    return out


def best_fit(results: list[CriterionResult], rules: RuleSet) -> tuple[str | None, dict[str, str | None]]:
    """Area levels by the most bullets met (ties to more support), then the mean of areas, halves up."""
    areas: dict[str, str | None] = {}
    for area in rules.areas:
        counts = {lv: sum(r.met for r in results if r.area == area and r.level == lv) for lv in LEVELS}
        best = max(counts.values())
        areas[area] = None if best == 0 else max((lv for lv, n in counts.items() if n == best), key=LEVEL_SCORE.get)
    judged = [LEVEL_SCORE[v] for v in areas.values() if v]
    if not judged:
        return None, areas
    mean = sum(judged) / len(judged)
    score = math.floor(mean + 0.5)  # halves round up: ties toward more support
    return LEVELS[score - 1], areas


def overriding_condition(results: list[CriterionResult], ev: SchoolEvidence, rules: RuleSet) -> tuple[str, str, str]:
    """The first overriding condition met: its id, and the reason in full and for the general edition."""
    met = {r.id: r for r in results if r.met}
    for o in rules.overriding:
        hit = [met[c] for c in o.criteria if c in met]
        if hit:
            return o.id, f"{o.wording} ({hit[0].evidence_text()})", f"{o.wording} ({hit[0].evidence_text(True)})"
        if o.indicator:
            f = ev.indicators.get(o.indicator)
            if f.met:
                return o.id, f"{o.wording} ({f.value})", f"{o.wording} ({f.value})"
    return "", "", ""


def visits_planned(level: str, term: Term, rules: RuleSet, no_primary_offer: bool) -> tuple[int, int, str]:
    """School Improvement Adviser visits this term, LAIG reviews, and the plan in the Strategy's words."""
    plan = rules.support_plan[level]
    if level == "low" and no_primary_offer:
        plan = rules.support_plan["no_primary_offer"]
    start, end = term.dates()
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    visits = {"monthly": months, "half_termly": 2, "termly": 1, "annual": 1 if term.season == "autumn" else 0}
    return visits[plan.visits], plan.laig_reviews_per_term, plan.summary


def direction(previous: str | None, current: str) -> str:
    if not previous:
        return "new"
    d = LEVEL_SCORE[current] - LEVEL_SCORE[previous]
    return "improving" if d < 0 else "declining" if d > 0 else "stable"


@dataclass
class Categorisation:
    table: pd.DataFrame  # CATEGORISATION_COLUMNS
    evidence: pd.DataFrame  # EVIDENCE_COLUMNS
    measures: dict[int, dict]  # urn -> figures to store in the history (for change next term)


def _open_schools(data: TermData, kind: str) -> pd.DataFrame:
    """The LA's open schools of one kind (`is_la_maintained` or `is_academy` in GIAS), by URN."""
    gias = data.frame("gias")
    if gias.empty:
        return gias
    open_ = gias["status"].astype(str).str.startswith("Open")
    mine = gias["la_code"].astype(str) == str(data.la_code)
    return gias[open_ & mine & gias[kind].astype(bool)].sort_values("urn")


def maintained_schools(data: TermData) -> pd.DataFrame:
    return _open_schools(data, "is_la_maintained")


def academies(data: TermData) -> pd.DataFrame:
    return _open_schools(data, "is_academy")


def categorise(data: TermData, rules: RuleSet, history: "dict[int, dict] | None" = None) -> Categorisation:
    """Place every open LA-maintained school of the LA. `history` maps urn -> {'previous_category', 'prior'}."""
    history = history or {}
    on = data.term.reference_date
    rows, evidence, measures = [], [], {}
    moderation = data.frame("moderation")
    for school in maintained_schools(data).to_dict("records"):
        urn = int(school["urn"])
        h = history.get(urn, {})
        ev = SchoolEvidence(urn, data, rules, h.get("prior"))
        results = evaluate_criteria(ev, rules, on)
        computed, areas = best_fit(results, rules)
        reasons, general = [], []  # general: the same reasons with confidential evidence named by kind only
        for area, level in areas.items():
            met = [r for r in results if r.area == area and r.level == level and r.met]
            if level:
                for out, g in ((reasons, False), (general, True)):
                    out.append(f"{rules.areas[area]} best fits {level} support: " + "; ".join(
                        f"{r.wording.rstrip('.')} [{r.id}] ({r.evidence_text(g)})" for r in met))
        if computed is None:
            computed = "medium"
            for out in (reasons, general):
                out.append("No criterion could be judged from the evidence available: placed at medium until an "
                           "adviser visit provides evidence")
        best_fit_level = computed
        ov_id, ov_text, ov_general = overriding_condition(results, ev, rules)
        if ov_id:
            computed = "high"
            reasons.insert(0, f"Overriding condition: {ov_text}")
            general.insert(0, f"Overriding condition: {ov_general}")
        not_judged = sorted({c.reason for r in results for c in r.checks if c.met is None and c.measure.startswith("data")
                             and c.reason})
        if not_judged:
            for out in (reasons, general):
                out.append("Not judged from data: " + "; ".join(not_judged))

        final, ov = computed, {}
        if not moderation.empty:
            mine = moderation[(moderation["urn"] == urn) & (moderation["term"].astype(str) == str(data.term))]
            if not mine.empty:
                m = mine.iloc[-1]
                final = str(m["final_category"])
                ov = {"override_reason": m["reason"], "override_by": m["approved_by"],
                      "override_on": _as_date(m["approved_on"])}
                for out in (reasons, general):
                    out.append(f"Moderated from {computed} to {final}: {m['reason']} (approved by {m['approved_by']})")
        no_offer = _has_flag(data, urn, "no_primary_offer")
        visits, laig, plan = visits_planned(final, data.term, rules, no_offer)
        adv = data.rows_for("adviser_judgements", urn)
        adviser = "" if adv.empty else str(adv.assign(_d=[_as_date(d) or date.min for d in adv["visit_date"]])
                                          .sort_values("_d").iloc[-1]["adviser"])
        prev = h.get("previous_category")
        rows.append({
            "urn": urn, "school_name": school.get("school_name"), "phase": school.get("phase"),
            "school_type": school.get("type"), "ward": school.get("ward"), "adviser": adviser,
            "category": final, "computed_category": computed, "best_fit_category": best_fit_level,
            "previous_category": prev or "",
            "direction_of_travel": direction(prev, final),
            "override_reason": ov.get("override_reason", ""), "override_by": ov.get("override_by", ""),
            "override_on": ov.get("override_on") or "",
            "criteria_met": "; ".join(r.id for r in results if r.met),
            "reasons": "\n".join(reasons), "reasons_general": "\n".join(general), "overriding_condition": ov_id, "visits_planned": visits,
            "laig_reviews_planned": laig, "support_plan": plan, "rule_set": rules.id, "term": str(data.term),
            "good_or_better": ev.indicators.latest_judgement_good_or_better()})
        for r in results:
            for c in r.checks:
                if c.met or c.met is None and c.reason and c.measure.startswith("data"):
                    evidence.append({"urn": urn, "criterion_id": r.id, "area": r.area, "level": r.level,
                                     "wording": r.wording, "measure": c.measure, "met": c.met,
                                     "value": c.value, "comparator": c.comparator, "reason": c.reason,
                                     "source": c.source,
                                     "detail": c.detail, "confidential": c.confidential})
        measures[urn] = school_measures(ev, school)
    table = pd.DataFrame(rows, columns=CATEGORISATION_COLUMNS)
    return Categorisation(table, pd.DataFrame(evidence, columns=EVIDENCE_COLUMNS), measures)


def school_measures(ev: SchoolEvidence, school: dict) -> dict:
    """Figures kept in the history so next term can see change (Ofsted band, absence, attainment)."""
    for name in ("ofsted_good_or_better", "attainment_consistently_below", "disadvantaged_gap_wide",
                 "attendance_low_not_improving"):
        ev.indicators.get(name)
    out = {k: [v[0], v[1]] for k, v in ev.indicators.measures.items()}
    out["head"] = [ev.indicators.head_now(), ev.indicators.head_since()]
    return out


def _has_flag(data: TermData, urn: int, flag: str) -> bool:
    rows = data.rows_for("la_intelligence", urn)
    return not rows.empty and (rows["flag"] == flag).any()
