"""Categorisation of LA-maintained schools: low, medium or high level of support offered.

Best fit, as the Strategy says ("a school does not have to meet all bullet points"):
1. Each criterion (one bullet) is met when any of its evidence is met.
2. Each area (Leadership and management, Quality of education, Behaviour and attitudes, Personal development)
   is placed at the level with the most bullets met; a tie follows the rule set's `best_fit.area_ties`.
   An area with no bullet met has no judgement.
3. The school's level is the mean of its judged areas (1 for the least support, rising), rounded to the
   nearest level; a mean exactly halfway follows `best_fit.school_ties`. Ties and near-ties are reported as
   borderline for moderation. A school with no judged area is placed at `best_fit.no_evidence_level`.
4. An overriding condition of the rule set (e.g. safeguarding not met) places the school at
   `overriding.places_at`.
5. A moderation override sets the final category; both computed and final are reported.
Every level, window and tie rule is rule-set data; nothing here names a criterion, flag or letter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from ..errors import FeedError, Problem
from ..evidence.indicators import Finding, SchoolIndicators
from ..rules import Evidence, RuleSet
from ..ingest.termdata import TermData, months_before
from ..terms import Term, term_for_date
from ..vocabulary import VOCAB

SEVERITY_RANK = {s: i for i, s in enumerate(VOCAB.severities)}
# Intelligence about these flags is confidential in its specifics (left out of the general edition).
CONFIDENTIAL_FLAGS = VOCAB.restricted_flags

CATEGORISATION_COLUMNS = [
    "urn", "school_name", "phase", "school_type", "ward", "adviser", "category", "computed_category",
    "best_fit_category", "previous_category", "direction_of_travel", "override_reason", "override_by", "override_on",
    "criteria_met", "reasons", "reasons_general", "overriding_condition", "visits_planned", "laig_reviews_planned", "support_plan",
    "rule_set", "term", "good_or_better", "borderline"]
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
        self.start, self.end = terms_window(data.term, rules.windows.evidence_terms)
        self.term_start = data.term.dates()[0]

    def check(self, ev: Evidence) -> Check:
        return getattr(self, f"_{ev.kind}")(ev)

    def _indicator(self, ev: Evidence) -> Check:
        f: Finding = self.indicators.get(ev.indicator)
        return Check(f.met, f"data: {ev.indicator}", f.value, f.reason, f.source)

    def _adviser(self, ev: Evidence) -> Check:
        measure = f"adviser: {ev.adviser}"
        found = adviser_lookup(self.data, self.rules)
        latest = found["current"].get((self.urn, ev.adviser))
        if latest is None:
            stale = found["stale"].get((self.urn, ev.adviser))
            return Check(None, measure, reason=stale or "no current adviser judgement on this criterion")
        met = bool(latest["met"])
        note = "" if _is_blank(latest.get("note")) else str(latest["note"])
        return Check(met, measure,
                     f"adviser judgement on {ev.adviser} ({latest.get('adviser')}, visit {latest['_date']}): "
                     f"{'met' if met else 'not met'}", source=str(latest.get("_source", "adviser judgements")),
                     detail=note, confidential=bool(note))

    def _intelligence(self, ev: Evidence) -> Check:
        rows = records_for(self.data, "la_intelligence", self.urn)
        measure = f"LA intelligence: {', '.join(ev.intelligence)}"
        if not rows:
            return Check(False, measure, "no LA intelligence flag raised", source="LA intelligence")
        since = months_before(self.term_start, ev.within_months) if ev.within_months else self.start
        lo, hi = SEVERITY_RANK[ev.min_severity], SEVERITY_RANK[ev.max_severity]
        hits = []
        for r in rows:
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


def records_for(data: TermData, kind: str, urn: int) -> list[dict]:
    """One school's rows of an LA-held feed as records, grouped once per term (every criterion asks)."""
    key = ("records", kind)
    if key not in data._cache:
        df = data.frame(kind)
        groups: dict[int, list[dict]] = {}
        if not df.empty and "urn" in df:
            for r in df.to_dict("records"):
                groups.setdefault(int(r["urn"]), []).append(r)
        data._cache[key] = groups
    return data._cache[key].get(int(urn), [])


def terms_window(term: Term, n_terms: int) -> tuple[date, date]:
    """From the start of the term (n_terms - 1) before this one to the end of this one."""
    first = term
    for _ in range(max(n_terms - 1, 0)):
        first = first.previous()
    return first.dates()[0], term.dates()[1]


def check_adviser_judgements(data: TermData, rules: RuleSet) -> None:
    """Every adviser judgement names a criterion of the rule set, in its area: else a critical error.

    A mistyped id (`lm-h1`, `LMH1`, `LM-H10`) would otherwise make the judgement vanish without a word.
    """
    df = data.frame("adviser_judgements")
    if df.empty or "criterion_id" not in df:
        return
    area_of = {c.id: c.area for c in rules.criteria}
    squash = {c.replace("-", "").replace(" ", "").upper(): c for c in area_of}
    problems = []
    for r in df.to_dict("records"):
        cid, area = str(r.get("criterion_id") or "").strip(), str(r.get("area") or "").strip()
        where = dict(file=str(r.get("_source") or data.latest("adviser_judgements").source),
                     row=int(r["_row"]) if not _is_blank(r.get("_row")) else None, check="known_criterion")
        if cid not in area_of:
            guess = squash.get(cid.replace("-", "").replace(" ", "").upper())
            problems.append(Problem(**where, column="criterion_id", message=(
                f"criterion {cid!r} is not a criterion of rule set {rules.id}"
                + (f" (did you mean {guess!r}? ids are case-sensitive)" if guess else
                   f"; its criteria run {min(area_of)} to {max(area_of)}"))))
        elif area and area != area_of[cid]:
            problems.append(Problem(**where, column="area", message=(
                f"criterion {cid} belongs to area {area_of[cid]!r}, not {area!r}")))
    if problems:
        raise FeedError(problems)


def check_moderation(data: TermData, rules: RuleSet) -> None:
    """A moderation decision for this term names one of the rule set's levels: else a critical error."""
    df = data.frame("moderation")
    if df.empty or "final_category" not in df:
        return
    problems = [Problem(str(r.get("_source") or data.latest("moderation").source),
                        int(r["_row"]) if not _is_blank(r.get("_row")) else None, "final_category",
                        f"{r['final_category']!r} is not a level of rule set {rules.id} ({', '.join(rules.levels)})",
                        check="known_level")
                for r in df.to_dict("records")
                if str(r.get("term")) == str(data.term) and str(r["final_category"]) not in rules.levels]
    if problems:
        raise FeedError(problems)


def adviser_lookup(data: TermData, rules: RuleSet) -> dict:
    """The latest current adviser judgement per (urn, criterion), built once per term.

    Current: dated within the rule set's `windows.adviser_judgement_terms` up to the end of this term. An
    undated or older judgement is not evidence; the reason is kept for the evidence table.
    """
    key = ("adviser_lookup", rules.id, rules.windows.adviser_judgement_terms)
    if key in data._cache:
        return data._cache[key]
    start, end = terms_window(data.term, rules.windows.adviser_judgement_terms)
    current: dict = {}
    stale: dict = {}
    latest_adviser: dict = {}
    problems: list[Problem] = []
    df = data.frame("adviser_judgements")
    if not df.empty and "criterion_id" in df:
        for r in df.to_dict("records"):
            k = (int(r["urn"]), r["criterion_id"])
            d = _as_date(r.get("visit_date"))
            if d is None or d < start:
                why = ("adviser judgement has no visit date: not current evidence" if d is None else
                       f"adviser judgement of {d} is older than the rule set's window (from {start}): "
                       "not current evidence")
                stale.setdefault(k, why)
                problems.append(Problem(str(r.get("_source") or data.latest("adviser_judgements").source),
                                        int(r["_row"]) if not _is_blank(r.get("_row")) else None, "visit_date",
                                        f"{k[1]} for URN {k[0]}: {why}", "warning", "adviser_judgement_not_current"))
                continue
            if d > end:
                continue
            r["_date"] = d
            if k not in current or current[k]["_date"] <= d:
                current[k] = r
            if k[0] not in latest_adviser or latest_adviser[k[0]][0] <= d:
                latest_adviser[k[0]] = (d, r.get("adviser"))
    data._cache[key] = {"current": current, "stale": stale, "problems": problems,
                        "adviser": {u: str(a) for u, (_, a) in latest_adviser.items()}}
    return data._cache[key]


def issued_letters(data: TermData, urn: int, letters: list[str], within_terms: int) -> list[dict]:
    """Letters of these kinds issued to the school in this term or the (within_terms - 1) before it."""
    rows = records_for(data, "letters_log", urn)
    if not rows:
        return []
    first = data.term
    for _ in range(max(within_terms - 1, 0)):
        first = first.previous()
    out = []
    for r in rows:
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


def _pick(levels: list[str], rule: str, rules: RuleSet) -> str:
    return (max if rule == "more_support" else min)(levels, key=rules.level_score)


def best_fit(results: list[CriterionResult], rules: RuleSet) -> tuple[str | None, dict[str, str | None], list[str]]:
    """Area levels by the most bullets met, then the mean of areas; ties by the rule set. Also the borderlines."""
    areas: dict[str, str | None] = {}
    borderline: list[str] = []
    for area in rules.areas:
        counts = {lv: sum(r.met for r in results if r.area == area and r.level == lv) for lv in rules.levels}
        best = max(counts.values())
        tied = [lv for lv, n in counts.items() if n == best]
        areas[area] = None if best == 0 else _pick(tied, rules.best_fit.area_ties, rules)
        if best and len(tied) > 1:
            borderline.append(f"{rules.areas[area]}: a tie between {' and '.join(tied)} ({best} bullet(s) each), "
                              f"resolved to {areas[area]} ({rules.best_fit.area_ties.replace('_', ' ')})")
    judged = [rules.level_score(v) for v in areas.values() if v]
    if not judged:
        return None, areas, borderline
    mean = sum(judged) / len(judged)
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


def overriding_condition(results: list[CriterionResult], ev: SchoolEvidence, rules: RuleSet) -> tuple[str, str, str]:
    """The first overriding condition met: its id, and the reason in full and for the general edition."""
    met = {r.id: r for r in results if r.met}
    for o in rules.overriding.conditions:
        hit = [met[c] for c in o.criteria if c in met]
        if hit:
            return o.id, f"{o.wording} ({hit[0].evidence_text()})", f"{o.wording} ({hit[0].evidence_text(True)})"
        if o.indicator:
            f = ev.indicators.get(o.indicator)
            if f.met:
                return o.id, f"{o.wording} ({f.value})", f"{o.wording} ({f.value})"
    return "", "", ""


def visits_planned(level: str, term: Term, rules: RuleSet, flags: "set[str] | frozenset[str]" = frozenset()
                   ) -> tuple[int, int, str]:
    """School Improvement Adviser visits this term, LAIG reviews, and the plan in the Strategy's words.

    `flags` are the school's LA-intelligence flags: a rule-set exception (e.g. no Primary Offer) may apply.
    """
    plan = rules.support_plan[level]
    for exc in rules.support_plan_exceptions:
        if level in exc.levels and exc.flag in flags:
            plan = exc
            break
    start, end = term.dates()
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    visits = {"monthly": months, "half_termly": 2, "termly": 1, "annual": 1 if term.season == "autumn" else 0}
    return visits[plan.visits], plan.laig_reviews_per_term, plan.summary


def direction(previous: str | None, current: str, rules: RuleSet) -> str:
    if not previous or previous not in rules.levels:
        return "new"
    d = rules.level_score(current) - rules.level_score(previous)
    return "improving" if d < 0 else "declining" if d > 0 else "stable"


@dataclass
class Categorisation:
    table: pd.DataFrame  # CATEGORISATION_COLUMNS
    evidence: pd.DataFrame  # EVIDENCE_COLUMNS
    measures: dict[int, dict]  # urn -> figures to store in the history (for change next term)
    problems: list = field(default_factory=list)  # warnings for data_quality.csv (e.g. adviser judgements not used)


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


# The reason a school with no judged area carries; the front page counts these schools apart by it.
NO_EVIDENCE_PLACEMENT = "placed at {level} until an adviser visit provides evidence"


def _bullet(r: CriterionResult, general: bool) -> str:
    return f"{r.wording.rstrip('.')} [{r.id}] ({r.evidence_text(general)})"


def categorise(data: TermData, rules: RuleSet, history: "dict[int, dict] | None" = None) -> Categorisation:
    """Place every open LA-maintained school of the LA. `history` maps urn -> {'previous_category', 'prior'}."""
    history = history or {}
    check_adviser_judgements(data, rules)
    check_moderation(data, rules)
    on = data.term.reference_date
    rows, evidence, measures = [], [], {}
    moderation = data.frame("moderation")
    advisers = adviser_lookup(data, rules)["adviser"]
    for school in maintained_schools(data).to_dict("records"):
        urn = int(school["urn"])
        h = history.get(urn, {})
        ev = SchoolEvidence(urn, data, rules, h.get("prior"))
        results = evaluate_criteria(ev, rules, on)
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
        if computed is None:
            computed = rules.best_fit.no_evidence_level
            # Judged: a figure or an adviser judgement was weighed (absent intelligence or letters judge nothing).
            judged = any(c.met is not None and c.measure.startswith(("data", "adviser")) for r in results for c in r.checks)
            text = ("No bullet was met by the evidence judged" if judged else
                    "No criterion could be judged from the evidence available")
            for out in (reasons, general):
                out.append(f"{text}: {NO_EVIDENCE_PLACEMENT.format(level=computed)}")
        best_fit_level = computed
        ov_id, ov_text, ov_general = overriding_condition(results, ev, rules)
        if ov_id:
            computed = max(computed, rules.overriding.places_at, key=rules.level_score)
            reasons.insert(0, f"Overriding condition: {ov_text}")
            general.insert(0, f"Overriding condition: {ov_general}")
        results_text = ev.indicators.results_summary()
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
        if not moderation.empty:
            mine = moderation[(moderation["urn"] == urn) & (moderation["term"].astype(str) == str(data.term))]
            if not mine.empty:
                m = mine.iloc[-1]
                final = str(m["final_category"])
                ov = {"override_reason": m["reason"], "override_by": m["approved_by"],
                      "override_on": _as_date(m["approved_on"])}
                for out in (reasons, general):
                    out.append(f"Moderated from {computed} to {final}: {m['reason']} (approved by {m['approved_by']})")
        visits, laig, plan = visits_planned(final, data.term, rules, _flags(data, urn))
        prev = h.get("previous_category")
        rows.append({
            "urn": urn, "school_name": school.get("school_name"), "phase": school.get("phase"),
            "school_type": school.get("type"), "ward": school.get("ward"), "adviser": advisers.get(urn, ""),
            "category": final, "computed_category": computed, "best_fit_category": best_fit_level,
            "previous_category": prev or "",
            "direction_of_travel": direction(prev, final, rules),
            "override_reason": ov.get("override_reason", ""), "override_by": ov.get("override_by", ""),
            "override_on": ov.get("override_on") or "",
            "criteria_met": "; ".join(r.id for r in results if r.met),
            "reasons": "\n".join(reasons), "reasons_general": "\n".join(general), "overriding_condition": ov_id, "visits_planned": visits,
            "laig_reviews_planned": laig, "support_plan": plan, "rule_set": rules.id, "term": str(data.term),
            "good_or_better": ev.indicators.latest_judgement_good_or_better(),
            "borderline": "; ".join(borderline)})
        for r in results:
            for c in r.checks:
                # Every check that was judged (met or not), and why a data or adviser check could not be.
                if c.met is not None or c.reason and (c.measure.startswith("data") or "not current" in c.reason):
                    evidence.append({"urn": urn, "criterion_id": r.id, "area": r.area, "level": r.level,
                                     "wording": r.wording, "measure": c.measure, "met": c.met,
                                     "value": c.value, "comparator": c.comparator, "reason": c.reason,
                                     "source": c.source,
                                     "detail": c.detail, "confidential": c.confidential})
        measures[urn] = school_measures(ev, school)
    table = pd.DataFrame(rows, columns=CATEGORISATION_COLUMNS)
    return Categorisation(table, pd.DataFrame(evidence, columns=EVIDENCE_COLUMNS), measures,
                          list(adviser_lookup(data, rules)["problems"]))


def school_measures(ev: SchoolEvidence, school: dict) -> dict:
    """Figures kept in the history so next term can see change (Ofsted band, absence, attainment)."""
    for name in ("ofsted_good_or_better", "attainment_consistently_below", "disadvantaged_gap_wide",
                 "attendance_low_not_improving"):
        ev.indicators.get(name)
    out = {k: [v[0], v[1]] for k, v in ev.indicators.measures.items()}
    out["head"] = [ev.indicators.head_now(), ev.indicators.head_since()]
    return out


def _flags(data: TermData, urn: int) -> set[str]:
    rows = data.rows_for("la_intelligence", urn)
    return set() if rows.empty or "flag" not in rows else set(rows["flag"].astype(str))
