"""Versioned rule sets: the Strategy as YAML under include/rules/, chosen by the term's date.

A rule set may `extends:` another and replace criteria or letter indicators by id, so a change of framework
is a small file. The rule set in force is recorded with every result.
"""

from __future__ import annotations

import copy
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from . import RULES_DIR
from .errors import RulesError
from .vocabulary import VOCAB

LEVELS: tuple[str, ...] = ("low", "medium", "high")  # the seed Strategy's; a rule set's own are `rules.levels`
SEVERITIES = tuple(VOCAB.severities)
Severity = Literal["low", "medium", "high"]


class DateRange(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: date | None = Field(None, alias="from")
    end: date | None = Field(None, alias="to")

    def covers(self, d: date) -> bool:
        return (self.start is None or self.start <= d) and (self.end is None or d <= self.end)

    def __str__(self) -> str:
        return f"{self.start or '...'} to {self.end or 'open'}"


class Evidence(BaseModel):
    """One way a criterion can be met. Exactly one of adviser / intelligence / indicator / letter_issued."""

    model_config = ConfigDict(extra="forbid")
    adviser: str | None = None
    intelligence: list[str] | None = None
    min_severity: Severity = "low"
    max_severity: Severity = "high"
    min_count: int = 1
    within_months: int | None = None
    indicator: str | None = None
    letter_issued: list[str] | None = None
    within_terms: int | None = None  # letter_issued: how many terms back (this term included) a letter counts
    # Letters only: the evidence counts when the school's categorisation (the LA's risk assessment) is one of these.
    with_category: list[str] | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in ("adviser", "intelligence", "indicator", "letter_issued") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(f"evidence must have exactly one of adviser/intelligence/indicator/letter_issued, got {kinds}")
        if (self.letter_issued is not None) != (self.within_terms is not None):
            raise ValueError("within_terms goes with letter_issued, and letter_issued needs within_terms")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("adviser", "intelligence", "indicator", "letter_issued") if getattr(self, k))


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    area: str
    level: str
    wording: str
    evidence: list[Evidence]
    in_force: DateRange | None = None
    note: str | None = None


class Indicator(BaseModel):
    """A letter or academy-concern indicator: the Strategy's wording and the evidence that shows it."""

    model_config = ConfigDict(extra="forbid")
    id: str
    wording: str
    evidence: list[Evidence]
    in_force: DateRange | None = None
    note: str | None = None

    def in_force_on(self, d: date) -> bool:
        return self.in_force is None or self.in_force.covers(d)


class LetterRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    indicators: list[Indicator]
    # A recognition letter (congratulations) is flagged only when no concern letter is due.
    recognition: bool = False
    # The rung below on the ladder: issued earlier, with concerns remaining, makes this letter due.
    escalates_from: str | None = None
    # Due only by escalation from `escalates_from`, never on its own indicators alone.
    requires_escalation: bool = False
    # Not flagged for schools at these levels of support.
    not_for_categories: list[str] = []


class Overriding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    wording: str
    criteria: list[str] = []
    indicator: str | None = None


class OverridingRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    places_at: str
    conditions: list[Overriding]


class BestFit(BaseModel):
    """How bullets met become a level: the tie rules are policy, so they are data."""

    model_config = ConfigDict(extra="forbid")
    area_ties: Literal["more_support", "less_support"]
    school_ties: Literal["more_support", "less_support"]
    # A school whose mean of areas is within this of a halfway point (or whose area was tied) is borderline:
    # shown to the adviser for moderation.
    near_tie_margin: float = 0.0
    # With no area judged at all.
    no_evidence_level: str


class Windows(BaseModel):
    """How far back evidence counts, in terms (this term included)."""

    model_config = ConfigDict(extra="forbid")
    evidence_terms: int = Field(ge=1)
    adviser_judgement_terms: int = Field(ge=1)
    new_head_terms: int = Field(ge=1)
    ladder_lookback_terms: int = Field(ge=1)


class ConcernsRemain(BaseModel):
    """When the Strategy's "if concerns remain" holds, judged on the evidence (never on the letter itself)."""

    model_config = ConfigDict(extra="forbid")
    best_fit_levels: list[str]
    overriding: bool
    letters_met: list[str]
    # Results (the `results_known.year_ended` kinds) of an academic year that ended before the earlier letter was
    # issued show what that letter answered: they neither show concerns remaining nor flag the same letter again.
    evidence_after_letter: bool = False


class PlanLevel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: str
    visits: Literal["monthly", "half_termly", "termly", "annual"]
    laig_reviews_per_term: int = 0


class PlanException(PlanLevel):
    """A different plan for schools at `levels` carrying an LA-intelligence `flag` (e.g. no Primary Offer), or of
    one of `phases` (GIAS PhaseOfEducation, e.g. an offer only primary schools can buy into), or both."""

    flag: str | None = None
    phases: list[str] = []
    levels: list[str]

    @model_validator(mode="after")
    def _says_whom(self):
        if self.flag is None and not self.phases:
            raise ValueError("a support plan exception names a flag, phases, or both")
        return self


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str
    within_days: int


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    key: str
    name: str
    start: date | None = Field(None, alias="from")
    end: date | None = Field(None, alias="to")


class RouteStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    step: str  # the letters-log code that records this step taken
    wording: str
    escalate_to: list[str] = []  # keys of escalation_bodies


class SafeguardingRecipient(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str  # `academy_trust` (the school's own trust) or a key of escalation_bodies
    when_indicator: str | None = None
    note: str = ""


class AcademyRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicators: list[Indicator]
    safeguarding_indicators: list[str]
    route: list[RouteStep]
    route_lookback_terms: int = Field(ge=1)
    resolved_letter: str
    safeguarding_route: list[SafeguardingRecipient]
    whistleblowing: str


class MemberAlerts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    categories: list[str]
    letters_issued: list[str]
    issued_within_terms: int = Field(ge=1)


class OldestResults(BaseModel):
    """The oldest results a data check may rest on: results of `kinds` whose academic year is more than
    `years_before_term` academic years before the term's (2018-19 in 2025-26: 7) are not judged."""

    model_config = ConfigDict(extra="forbid")
    years_before_term: int = Field(ge=1, description="at least 1: results of the term's own year are never out yet")
    kinds: list[Literal["ks2", "ks4", "absence", "census"]] = Field(min_length=1)


class ResultsNotCompared(BaseModel):
    """Schools (GIAS TypeOfEstablishment) whose KS2/KS4 results are not judged against national: the reason is said."""
    model_config = ConfigDict(extra="forbid")
    school_types: list[str]
    reason: str


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    source: str | None = None
    in_force: DateRange
    review_by: date
    la_codes: list[str] | None = None  # None: any LA without a rule set of its own
    thresholds: dict[str, float | int]
    levels: list[str]
    areas: dict[str, str]
    best_fit: BestFit
    windows: Windows
    overriding: OverridingRules
    support_plan: dict[str, PlanLevel]
    support_plan_exceptions: list[PlanException] = []
    criteria: list[Criterion]
    letters: dict[str, LetterRule]
    concerns_remain: ConcernsRemain
    letter_actions: dict[str, list[Action]]
    academy_concerns: AcademyRules
    escalation_bodies: list[Body]
    member_alerts: MemberAlerts
    published_results: dict[str, dict] = {}  # per feed kind: not_published years, lag_years by season, label
    extract_max_age_days: dict[str, int] = {}  # per dated extract (gias): older than this when the term starts is said
    results_known: dict = {}  # which files/rows could have been known when the term began (quality/data_age.known_at_term)
    # Results too old to judge for the term (quality/data_age.too_old). Unset: every result is judged, however old,
    # and data_quality.csv says the rule set does not say.
    oldest_results: OldestResults | None = None
    # Per feed kind with several national rows (ks2, ks4): which the school is compared with, state_funded or all_schools.
    national_comparator: dict[str, Literal["state_funded", "all_schools"]] = {}
    # A new URN (converter academy, amalgamation) with no published figures of its own: "one" predecessor's figures
    # are its own ("use", named as the predecessor's in the evidence) or not ("not_used"). Two or more predecessors
    # with figures are never reduced to one: not judged. Unset: "use".
    predecessor_results: dict[Literal["one"], Literal["use", "not_used"]] = {}
    # Special schools and alternative provision: their results are shown, never judged (attainment, trend, gap).
    results_not_compared: ResultsNotCompared | None = None

    @model_validator(mode="after")
    def _consistent(self):
        problems = _vocabulary_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def level_score(self, level: str) -> int:
        """1 for the least support, rising."""
        return self.levels.index(level) + 1

    @property
    def top_level(self) -> str:
        return self.levels[-1]

    def threshold(self, name: str) -> float:
        try:
            return float(self.thresholds[name])
        except KeyError:
            raise RulesError(f"rule set {self.id}: threshold {name!r} is not defined") from None

    def criteria_in_force(self, d: date) -> list[Criterion]:
        return [c for c in self.criteria if c.in_force is None or c.in_force.covers(d)]

    def bodies_on(self, d: date) -> dict[str, str]:
        return {b.key: b.name for b in self.escalation_bodies
                if (b.start is None or b.start <= d) and (b.end is None or d <= b.end)}

    def ladder(self) -> list[str]:
        """Concern letters from the first rung up, by `escalates_from`."""
        concern = [k for k, v in self.letters.items() if not v.recognition]
        order = [k for k in concern if not self.letters[k].escalates_from]
        while True:
            nxt = [k for k in concern if self.letters[k].escalates_from in order and k not in order]
            if not nxt:
                break
            order += nxt
        return order + [k for k in concern if k not in order]

    def all_evidence(self):
        for c in self.criteria:
            yield f"criterion {c.id}", c.evidence
        for name, rule in self.letters.items():
            for i in rule.indicators:
                yield f"letter {name} indicator {i.id}", i.evidence
        for i in self.academy_concerns.indicators:
            yield f"academy indicator {i.id}", i.evidence


def _vocabulary_problems(rs: "RuleSet") -> list[str]:
    """Everything the rule set names must be in the vocabulary and in the rule set itself."""
    v, out = VOCAB, []
    levels, letters, flags = set(rs.levels), set(v.letters), set(v.intelligence_flags)
    out += [f"level {lv!r} is not a support level of the vocabulary" for lv in rs.levels if lv not in v.support_levels]
    out += [f"area {a!r} is not in the vocabulary" for a in rs.areas if a not in v.areas]
    if set(rs.support_plan) != levels:
        out.append(f"support_plan must have exactly the levels {rs.levels}, has {sorted(rs.support_plan)}")
    for lv in [rs.best_fit.no_evidence_level, rs.overriding.places_at, *rs.concerns_remain.best_fit_levels,
               *rs.member_alerts.categories, *(x for e in rs.support_plan_exceptions for x in e.levels),
               *(x for r in rs.letters.values() for x in r.not_for_categories)]:
        if lv not in levels:
            out.append(f"level {lv!r} is not one of this rule set's levels {rs.levels}")
    ids = [c.id for c in rs.criteria]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        out.append(f"duplicate criterion ids: {sorted(dupes)}")
    for c in rs.criteria:
        if c.area not in rs.areas:
            out.append(f"criterion {c.id}: unknown area {c.area!r}")
        if c.level not in levels:
            out.append(f"criterion {c.id}: level {c.level!r} is not one of {rs.levels}")
    for o in rs.overriding.conditions:
        missing = set(o.criteria) - set(ids)
        if missing:
            out.append(f"overriding condition {o.id} names unknown criteria {sorted(missing)}")
    for where, evidence in rs.all_evidence():
        for e in evidence:
            if e.adviser and e.adviser not in ids:
                out.append(f"{where}: adviser judgement on unknown criterion {e.adviser!r}")
            out += [f"{where}: unknown intelligence flag {f!r}" for f in e.intelligence or [] if f not in flags]
            out += [f"{where}: unknown letter {x!r}" for x in e.letter_issued or [] if x not in letters]
            out += [f"{where}: unknown level {x!r}" for x in e.with_category or [] if x not in levels]
    named_letters = [*rs.letters, *(r.escalates_from for r in rs.letters.values() if r.escalates_from),
                     *rs.concerns_remain.letters_met, *rs.member_alerts.letters_issued, *rs.letter_actions,
                     *(s.step for s in rs.academy_concerns.route), rs.academy_concerns.resolved_letter]
    out += [f"letter {x!r} is not in the vocabulary" for x in named_letters if x not in letters]
    out += [f"{x!r} is named but is not a letter of this rule set" for x in
            [*(r.escalates_from for r in rs.letters.values() if r.escalates_from), *rs.concerns_remain.letters_met]
            if x not in rs.letters]
    out += [f"support plan exception: unknown intelligence flag {e.flag!r}" for e in rs.support_plan_exceptions
            if e.flag is not None and e.flag not in flags]
    keys = {b.key for b in rs.escalation_bodies}
    out += [f"academy route: unknown escalation body {k!r}" for s in rs.academy_concerns.route
            for k in s.escalate_to if k not in keys]
    out += [f"safeguarding route: unknown body {r.body!r}" for r in rs.academy_concerns.safeguarding_route
            if r.body != "academy_trust" and r.body not in keys]
    acad_ids = {i.id for i in rs.academy_concerns.indicators}
    out += [f"safeguarding indicator {i!r} is not an academy indicator" for i in
            rs.academy_concerns.safeguarding_indicators if i not in acad_ids]
    return out


def review_warning(rules: RuleSet, term) -> str | None:
    """The warning for a term that starts after the rule set's review date (front page and data_quality.csv)."""
    start = term.dates()[0]
    if start <= rules.review_by:
        return None
    return (f"The rule set {rules.id} ({rules.title}) was due for review by {rules.review_by}; term {term} starts "
            f"{start}. Its criteria may no longer be the LA's policy: review the Strategy and the rule set.")


def review_warning_for(rule_set_id: str, term: str) -> str | None:
    """For the report's front page, from what ReportInputs carries (rule_set_id, term)."""
    from .terms import Term

    return review_warning(load_rule_set(rule_set_id), Term.parse(term))


def review_problem(rules: RuleSet, term):
    """The same warning as a data_quality.csv row (None when the rule set is within its review date)."""
    from .errors import Problem

    msg = review_warning(rules, term)
    return None if msg is None else Problem(f"rules/{rules.id}.yaml", None, "review_by", msg, "warning",
                                            "rule_set_review_date")


def _merge(base: dict, child: dict) -> dict:
    """Apply a child rule set over its parent: dicts merge (in_force is replaced), `*_replace` lists swap items by id."""
    out = copy.deepcopy(base)
    for key, value in child.items():
        if key == "extends":
            continue
        if key == "criteria_replace":
            by_id = {c["id"]: c for c in value}
            unknown = set(by_id) - {c["id"] for c in out["criteria"]}
            if unknown:
                raise RulesError(f"criteria_replace names unknown criteria {sorted(unknown)}")
            out["criteria"] = [by_id.get(c["id"], c) for c in out["criteria"]]
        elif key == "letters_replace":
            for letter, indicators in value.items():
                by_id = {i["id"]: i for i in indicators}
                existing = out["letters"][letter]["indicators"]
                out["letters"][letter]["indicators"] = [by_id.get(i["id"], i) for i in existing]
        elif key != "in_force" and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _load_raw(rule_id: str, folder: Path, seen: tuple[str, ...] = ()) -> dict:
    path = folder / f"{rule_id}.yaml"
    if not path.exists() and (RULES_DIR / f"{rule_id}.yaml").exists():
        path = RULES_DIR / f"{rule_id}.yaml"  # a draft elsewhere may extend a rule set in force
    if not path.exists():
        raise RulesError(f"rule set {rule_id!r} not found in {folder}")
    if rule_id in seen:
        raise RulesError(f"rule set {rule_id!r} extends itself via {' -> '.join(seen)}")
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or {}
    except yaml.YAMLError as err:  # a typo in a drafted rule set: where it is, in the LA officer's terms
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        what = " ".join(str(x) for x in (getattr(err, "context", None), getattr(err, "problem", None)) if x) or str(err)
        raise RulesError(f"{path}: {where}not valid YAML ({what})") from None
    except UnicodeDecodeError as err:
        raise RulesError(f"{path}: not UTF-8 text at byte {err.start}: save it as UTF-8") from None
    if not isinstance(raw, dict):
        raise RulesError(f"{path}: a rule set is a YAML mapping (id:, title:, criteria: ...), not {type(raw).__name__}")
    if raw.get("id") != rule_id:
        raise RulesError(f"{path}: id {raw.get('id')!r} does not match the file name (a rule set's id is its file's "
                         f"name without .yaml: {path.stem!r})")
    if not raw.get("review_by"):
        raise RulesError(f"{path}: every rule set states its own `review_by` date (when the LA reviews it)")
    if raw.get("extends"):
        return _merge(_load_raw(raw["extends"], folder, seen + (rule_id,)), raw)
    return raw


@lru_cache(maxsize=32)
def load_rule_set(rule_id: str, folder: Path = RULES_DIR) -> RuleSet:
    raw = _load_raw(rule_id, Path(folder))
    try:
        rs = RuleSet.model_validate(raw)
    except ValidationError as exc:
        raise RulesError(f"rule set {rule_id} ({folder / (rule_id + '.yaml')}) is invalid:\n{exc}") from exc
    from .evidence.indicators import SchoolIndicators  # indicators import this module

    named = ({e.indicator for _, ev in rs.all_evidence() for e in ev if e.indicator}
             | {o.indicator for o in rs.overriding.conditions if o.indicator}
             | {r.when_indicator for r in rs.academy_concerns.safeguarding_route if r.when_indicator})
    unknown = sorted(named - {n[3:] for n in dir(SchoolIndicators) if n.startswith("_i_")})
    if unknown:
        raise RulesError(f"rule set {rule_id} ({folder / (rule_id + '.yaml')}) names unknown indicators {unknown}")
    return rs


def load_rule_set_arg(arg: str) -> RuleSet:
    """A rule set id under include/rules/, or the path of a draft YAML kept elsewhere (for a what-if)."""
    p = Path(arg)
    if p.suffix in (".yaml", ".yml") and p.is_file():
        return load_rule_set(p.stem, p.resolve().parent)
    return load_rule_set(arg)


def all_rule_sets(folder: Path = RULES_DIR) -> list[RuleSet]:
    return [load_rule_set(p.stem, Path(folder)) for p in sorted(Path(folder).glob("*.yaml"))]


def rule_set_for(d: date, folder: Path = RULES_DIR, la_code: str | None = None) -> RuleSet:
    """The one rule set in force on `d` for the LA. None or several is an error, never a silent default.

    A rule set with `la_codes` serves only those LAs, and for them it takes precedence over rule sets
    without `la_codes` (the seed Strategy's, which serve every other LA).
    """
    sets = all_rule_sets(folder)
    own = [rs for rs in sets if rs.la_codes and la_code is not None and str(la_code) in rs.la_codes]
    pool = own or [rs for rs in sets if not rs.la_codes]
    matches = [rs for rs in pool if rs.in_force.covers(d)]
    if not matches:
        spans = ", ".join(f"{rs.id} ({rs.in_force})" for rs in pool)
        raise RulesError(f"no rule set is in force on {d} for LA {la_code or '(any)'}; rule sets: {spans}. "
                         f"Add one under {folder}.")
    if len(matches) > 1:
        raise RulesError(f"several rule sets are in force on {d}: {[rs.id for rs in matches]}; their dates overlap")
    return matches[0]
