"""Versioned rule sets: the Strategy as YAML under include/rules/, chosen by the term's date.

A rule set may `extends:` another and replace criteria or letter indicators by id, so a change of framework
is a small file. The rule set in force is recorded with every result.
"""

from __future__ import annotations

import copy
import difflib
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError, field_validator, model_validator

from . import RULES_DIR
from .errors import RulesError
from .vocabulary import VOCAB

LEVELS: tuple[str, ...] = ("low", "medium", "high")  # the seed Strategy's; a rule set's own are `rules.levels`
SEVERITIES = tuple(VOCAB.severities)
Severity = Literal["low", "medium", "high"]
# The thresholds the data indicators read (evidence/indicators.py), by name. Their values are each rule set's; a
# name outside this list is read by nothing, so a rule set naming one (a typo, or a reading the indicators do not
# have) is refused when it loads rather than loaded and silently not applied.
THRESHOLD_NAMES = frozenset({
    "small_cohort", "attainment_in_line_points", "attainment_below_points", "attainment8_below_points",
    "attainment_declining_points", "attainment_improvement_points", "attendance_low_points",
    "attendance_low_one_year_points", "attendance_consistently_low_points", "persistent_absence_low_points",
    "attendance_rapid_improvement_points", "absence_rising_points", "disadvantaged_gap_wide_points",
    "disadvantaged_gap_very_wide_points", "disadvantaged_accelerated_points", "disadvantaged_below_points",
    "consistently_years"})
# Thresholds in points of a KS2 percentage (RWM expected standard, disadvantaged gaps): never a fraction of one point.
# (Absence thresholds are rightly below one point, e.g. 0.5; Attainment 8 is on its own scale.)
PERCENT_POINT_THRESHOLDS = frozenset({
    "attainment_in_line_points", "attainment_below_points", "attainment_declining_points",
    "attainment_improvement_points", "disadvantaged_gap_wide_points", "disadvantaged_gap_very_wide_points",
    "disadvantaged_accelerated_points", "disadvantaged_below_points"})
# Thresholds a rule set may leave out, and the reading that follows (attendance_low_one_year_points: "not improving"
# is not judged on one year's figures).
OPTIONAL_THRESHOLDS = frozenset({"attendance_low_one_year_points"})
# GIAS's PhaseOfEducation names (DfE's code list), which a support-plan exception's `phases` are matched against:
# a misspelt phase would match no school, and the exception would silently never apply.
GIAS_PHASES = ("Not applicable", "Nursery", "Primary", "Middle deemed primary", "Secondary", "Middle deemed secondary",
               "16 plus", "All-through")
# GIAS TypeOfEstablishment names (DfE's code list, the types an LA's schools have): `results_not_compared` matches
# them exactly, so a name one letter off one of these would match no school and its results would be judged.
GIAS_TYPES = ("Community school", "Foundation school", "Voluntary aided school", "Voluntary controlled school",
              "Community special school", "Foundation special school", "Non-maintained special school",
              "Local authority nursery school", "Pupil referral unit", "Academy converter", "Academy sponsor led",
              "Academy special converter", "Academy special sponsor led", "Academy alternative provision converter",
              "Academy alternative provision sponsor led", "Academy 16-19 converter", "Academy 16 to 19 sponsor led",
              "Free schools", "Free schools special", "Free schools alternative provision", "Free schools 16 to 19",
              "Studio schools", "University technical college", "City technology college")
# Evidence keys that only the intelligence kind reads: on another kind they would be loaded and ignored.
INTELLIGENCE_ONLY = ("min_severity", "max_severity", "min_count", "within_months")


class DateRange(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: date | None = Field(None, alias="from")
    end: date | None = Field(None, alias="to")

    @model_validator(mode="after")
    def _ordered(self):
        # `to` before `from` covers no day: the rule set, criterion or indicator would silently never be in force.
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"`to` ({self.end}) is before `from` ({self.start}): it would never be in force")
        return self

    def covers(self, d: date) -> bool:
        return (self.start is None or self.start <= d) and (self.end is None or d <= self.end)

    def __str__(self) -> str:
        return f"{self.start or '...'} to {self.end or 'open'}"


class Evidence(BaseModel):
    """One way a criterion can be met. Exactly one of adviser / intelligence / indicator / letter_issued / all_of."""

    model_config = ConfigDict(extra="forbid")
    adviser: str | None = None
    intelligence: list[str] | None = None
    min_severity: Severity = "low"
    max_severity: Severity = "high"
    min_count: int = 1
    within_months: int | None = Field(None, ge=1)
    indicator: str | None = None
    letter_issued: list[str] | None = None
    within_terms: int | None = Field(None, ge=1)  # letter_issued: how many terms back (this term included) a letter counts
    # Letters only: the evidence counts when the school's categorisation (the LA's risk assessment) is one of these.
    with_category: list[str] | None = None
    # Met only when every one of these is met, e.g. the data and the adviser's confirmation of it.
    all_of: list[Evidence] | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in ("adviser", "intelligence", "indicator", "letter_issued", "all_of") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(f"evidence must have exactly one of adviser/intelligence/indicator/letter_issued/all_of, "
                             f"got {kinds}")
        if self.with_category is not None and not self.with_category:
            raise ValueError("with_category: [] names no level (read as every level): name the levels, or leave it out")
        if self.all_of and any(e.with_category for e in self.all_of):
            raise ValueError("with_category goes on the all_of, not on one of its parts (it is read only there)")
        if (self.letter_issued is not None) != (self.within_terms is not None):
            raise ValueError("within_terms goes with letter_issued, and letter_issued needs within_terms")
        stray = [k for k in INTELLIGENCE_ONLY if k in self.model_fields_set and not self.intelligence]
        if stray:
            raise ValueError(f"{' and '.join(stray)} {'applies' if len(stray) == 1 else 'apply'} to `intelligence:` "
                             f"evidence only; on {kinds[0]} evidence {'it' if len(stray) == 1 else 'they'} would be "
                             f"ignored")
        if self.intelligence:
            if SEVERITIES.index(self.min_severity) > SEVERITIES.index(self.max_severity):
                raise ValueError(f"min_severity {self.min_severity} is above max_severity {self.max_severity}: "
                                 f"no flag could ever meet it")
            if not 1 <= self.min_count <= len(set(self.intelligence)):
                raise ValueError(f"min_count {self.min_count} must be between 1 and the number of flags named "
                                 f"({len(set(self.intelligence))}): otherwise it could never be met")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("adviser", "intelligence", "indicator", "letter_issued", "all_of") if getattr(self, k))


def _leaves(evidence: list[Evidence], where: tuple = (), key: str = "evidence"):
    """(where in the file, evidence) for each piece of evidence that names something, inside all_of too."""
    for k, e in enumerate(evidence):
        if e.all_of:
            yield from _leaves(e.all_of, (*where, key, k), "all_of")
        else:
            yield (*where, key, k), e


Evidence.model_rebuild()


def _no_brackets(wording: str) -> str:
    """The editions write each bullet met as "wording [id] (evidence)", one reason to a line, and read it back by its
    brackets: a wording with "[See data]" came out as a bullet with the id "See data" and another with no words, and
    one written over two lines (a YAML block, `wording: |`) as two reasons and a bare id (a trial, s24). A wording
    is one sentence: its line breaks and runs of spaces are read as one space."""
    if "[" in wording or "]" in wording:
        raise ValueError("a wording may not hold square brackets (the editions mark a bullet's id with them): write "
                         "(See data), as the Strategy does, not [See data]")
    return " ".join(wording.split())


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    area: str
    level: str
    wording: str
    wording_without_brackets = field_validator("wording")(_no_brackets)
    evidence: list[Evidence] = Field(min_length=1)  # no evidence: a bullet that could never be met
    in_force: DateRange | None = None
    note: str | None = None
    # For schools of these GIAS phases only (e.g. a bullet on Progress 8 for secondaries); others: not judged, said.
    phases: list[str] = []


class Indicator(BaseModel):
    """A letter or academy-concern indicator: the Strategy's wording and the evidence that shows it."""

    model_config = ConfigDict(extra="forbid")
    id: str
    wording: str
    wording_without_brackets = field_validator("wording")(_no_brackets)
    evidence: list[Evidence] = Field(min_length=1)  # no evidence: an indicator that could never apply
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
    # The draft letter's opening sentence and closing request, in the LA's words ("{term}": the term). Unset: a
    # recognition letter congratulates and a concern letter sets out the concerns; no closing request.
    opening: str | None = None
    closing: str | None = None


class Overriding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    wording: str
    wording_without_brackets = field_validator("wording")(_no_brackets)
    criteria: list[str] = []
    indicator: str | None = None
    # The level this condition places the school at, when not `overriding.places_at` (e.g. no substantive
    # leadership at medium, safeguarding at high).
    places_at: str | None = None


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
    near_tie_margin: float = Field(0.0, ge=0, le=0.5)
    # With no area judged at all.
    no_evidence_level: str
    # How many bullets make a level in an area: at least `min_bullets` of them met (default 1), and at least
    # `min_share` of the level's bullets in that area (default 0; 0.5: half of them). A level short of its minimum
    # does not place the area; an area with no level at its minimum is not judged (said, for moderation).
    min_bullets: dict[str, int] = {}
    min_share: dict[str, float] = {}
    # How the judged areas make the school's level: "mean" (to the nearest level, ties by `school_ties`), or
    # "most_support" (the school is at its area of most support: one area at high places the school at high).
    combine_areas: Literal["mean", "most_support"] = "mean"
    # The weight of each area in the mean (default 1 each): e.g. quality of education counted twice, for a reading that
    # puts outcomes first (Priority 3, the peer review).
    area_weights: dict[str, float] = {}


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
    laig_reviews_per_term: int = Field(0, ge=0)
    # The term of the year an annual visit is planned in: the Strategy says "once per year", not when, so the rule set
    # says it (required with `visits: annual`, read by nothing otherwise).
    annual_in: Literal["autumn", "spring", "summer"] | None = None

    @model_validator(mode="after")
    def _annual_term(self):
        if self.visits == "annual" and self.annual_in is None:
            raise ValueError("visits: annual needs annual_in: autumn, spring or summer (the term of the year the visit "
                             "is planned in: the Strategy says 'once per year', not when)")
        if self.visits != "annual" and self.annual_in is not None:
            raise ValueError(f"annual_in is read only with visits: annual, not visits: {self.visits}")
        return self


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
    within_days: int | None = Field(None, ge=1, description="days after the letter: a deadline on or before its date is a typo")
    # The same counted in school days (the term calendar's: weekends, holidays and closures not counted), as a letter
    # says "within ten school days". Exactly one of the two.
    within_school_days: int | None = Field(None, ge=1, description="school days after the letter")

    @model_validator(mode="after")
    def _one_deadline(self):
        if (self.within_days is None) == (self.within_school_days is None):
            raise ValueError("an action gives its deadline once: within_days (calendar days, the date then moved to a "
                             "school day) or within_school_days (school days by the term calendar)")
        return self


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
    route: list[RouteStep] = Field(min_length=1)  # no step: a concern could never be taken up (the route's first step)
    route_lookback_terms: int = Field(ge=1)
    resolved_letter: str
    safeguarding_route: list[SafeguardingRecipient]
    whistleblowing: str
    # An academy whose latest Ofsted judgement is of the school it replaced (the MI: the inspection does not relate to
    # the current URN; or the predecessor's row, by GIAS links): "not_used" by the concerns that read an Ofsted
    # judgement (`ofsted_*` indicators: not judged, the reason naming the predecessor, and said on the front page) or
    # "use" (read, the evidence naming the predecessor). Safeguarding is read either way (the children are the same).
    predecessor_inspections: Literal["use", "not_used"] = "use"
    # An academy with no published figures of its own, read on one predecessor's (the rule set's predecessor_results,
    # by GIAS links): figures of the school it replaced, from before the trust was responsible for it. "not_used" by
    # the concerns that read results or absence (not judged, the reason naming the predecessor, and said in the data
    # notes, last: Appendix A) or "use" (read, the evidence naming the predecessor).
    predecessor_results: Literal["use", "not_used"] = "use"


class MemberAlerts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    categories: list[str]
    letters_issued: list[str]
    issued_within_terms: int = Field(ge=1)
    # Letters flagged this term (due, before the Director's decision) that alert members too; none by default.
    letters_flagged: list[str] = []
    # Members told last term of a school for the same reasons are told again (each alert is news every term); when
    # false, such a row names the term they were told in (`told_in`) and is not news.
    again_each_term: bool = False


class OldestResults(BaseModel):
    """The oldest results a data check may rest on: results of `kinds` whose academic year is more than
    `years_before_term` academic years before the term's (2018-19 in 2025-26: 7) are not judged."""

    model_config = ConfigDict(extra="forbid")
    years_before_term: int = Field(ge=1, description="at least 1: results of the term's own year are never out yet")
    kinds: list[Literal["ks2", "ks4", "absence", "census"]] = Field(min_length=1)


class Trends(BaseModel):
    """How a trend (declining, improving, "consistently", "persistently") reads earlier years' results that are not
    the years just before: DfE's 2022-23 KS2 file holds 2021-22 and 2018-19 (no tests in 2019-20 or 2020-21).
    `judged`: read as the earlier years they are (named so in the evidence); `not_judged`: a trend reads consecutive
    years only, and an earlier year beyond a gap is shown, not read."""

    model_config = ConfigDict(extra="forbid")
    across_unpublished_years: Literal["judged", "not_judged"]


class ResultsNotCompared(BaseModel):
    """Schools (GIAS TypeOfEstablishment) whose KS2/KS4 results are not judged against national: the reason is said."""
    model_config = ConfigDict(extra="forbid")
    school_types: list[str]
    reason: str


class GapSection(BaseModel):
    """The report's page on the widest disadvantaged gaps, in the LA's words: why its Strategy looks at them (the seed
    Strategy's Priority 3). Unset: the page names no Strategy's priority (another LA's scheme has its own)."""
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1)
    why: str = Field(min_length=1)
    # Where the rule set reads the disadvantaged pupils' figures, in words, worked out from its evidence when it is
    # loaded (RuleSet.disadvantaged_reading): the page says whether the gap it shows changes a school's level, so the
    # peer review's finding is not taken for a criterion the reading does not make it (s24). Not written in the file.
    counts: str = ""


class LettersLogChecks(BaseModel):
    """What the letters log may say that the ladder cannot explain (evidence/la_files.letters_log_problems): `warn`,
    said in data_quality.csv and on the front page and the letter taken as sent; `stop`, the run stops naming the row."""
    model_config = ConfigDict(extra="forbid")
    out_of_ladder: Literal["warn", "stop"]  # a rung logged with no letter it escalates from before it
    wrong_kind_of_school: Literal["warn", "stop"]  # a maintained school's letter to an academy, or the reverse


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    source: str | None = None
    in_force: DateRange
    review_by: date
    la_codes: list[str] | None = None  # None: any LA without a rule set of its own
    # Numbers, never negative (points, pupils); yes/no or text is refused rather than read as 1 or 0.
    # At most 100: points of a percentage, Attainment 8 points, pupils in a small cohort, years; above it a reading
    # could never be met (a typo for 10.0, or a figure in another unit).
    thresholds: dict[str, Annotated[StrictInt | StrictFloat, Field(ge=0, le=100)]]
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
    letters_log_checks: LettersLogChecks | None = None  # unset: each is said (warn), and the rule set's silence too
    # Results too old to judge for the term (quality/data_age.too_old). Unset: every result is judged, however old,
    # and data_quality.csv says the rule set does not say.
    oldest_results: OldestResults | None = None
    # Per feed kind with several national rows (ks2, ks4): which the school is compared with, state_funded or all_schools.
    national_comparator: dict[Literal["ks2", "ks4"], Literal["state_funded", "all_schools"]] = {}
    # A new URN (converter academy, amalgamation) with no published figures of its own: "one" predecessor's figures
    # are its own ("use", named as the predecessor's in the evidence) or not ("not_used"). Two or more predecessors
    # with figures are never reduced to one: not judged. Unset: "use".
    predecessor_results: dict[Literal["one"], Literal["use", "not_used"]] = {}
    # Earlier years beyond a gap of unpublished years (2018-19 in the 2022-23 KS2 file): read in a trend or not. Unset:
    # read (as before the key existed), the evidence naming the years.
    trends: Trends | None = None
    # Special schools and alternative provision: their results are shown, never judged (attainment, trend, gap).
    results_not_compared: ResultsNotCompared | None = None
    # The report's disadvantaged-gap page: its heading and why the Strategy looks at the gaps.
    gap_section: GapSection | None = None

    @model_validator(mode="after")
    def _consistent(self):
        problems = _vocabulary_problems(self) + _operating_problems(self)
        if self.in_force.start is not None and self.review_by < self.in_force.start:
            problems.append((("review_by",), f"review_by {self.review_by} is before the rule set comes into force "
                             f"({self.in_force.start}): every term it serves would run past its review date (a "
                             f"mistyped year?)"))
        if problems:
            raise RuleSetProblems(problems)
        if self.gap_section is not None:
            self.gap_section.counts = self.disadvantaged_reading()
        return self

    def disadvantaged_reading(self, prefix: str = "disadvantaged_") -> str:
        """Where the disadvantaged pupils' figures (the indicators named `disadvantaged_...`) count, in the rule set's
        words: the bullets, letters and academy concerns that read them, and whether any level rests on them."""
        def reads(evidence) -> bool:
            return any(e.indicator and e.indicator.startswith(prefix) for _, e in _leaves(evidence))
        bullets = [c for c in self.criteria if reads(c.evidence)]
        parts = [f"{len(bullets)} {'bullets' if len(bullets) > 1 else 'bullet'} of the categorisation"] if bullets else []
        parts += [f"the {rule.title}" for rule in self.letters.values() if any(reads(i.evidence) for i in rule.indicators)]
        if any(reads(i.evidence) for i in self.academy_concerns.indicators):
            parts.append("concerns about an academy")
        if not parts:
            return "In this rule set the gap is shown, not judged: no level, letter or academy concern rests on it."
        said = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return (f"In this rule set these figures count towards {said}"
                + ("." if bullets else "; no bullet of the categorisation reads them, so they change no school's "
                   "level of support."))

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
            raise RulesError(f"rule set {self.id}: threshold {name!r} is not defined: an indicator it names reads it; "
                             f"add it under `thresholds:` (include/rules/cambs-2021-23.yaml says what each one "
                             f"means)") from None

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
        """Every piece of evidence that names something (the parts of an all_of included), by where it is."""
        for where, label, evidence in _evidence_paths(self):
            yield label, [e for _, e in _leaves(evidence)]


class RuleSetProblems(ValueError):
    """The rule set's own inconsistencies, each with where it is (a key path, e.g. ("criteria", 3, "area"))."""

    def __init__(self, problems: list[tuple[tuple, str]]):
        self.problems = problems
        super().__init__("; ".join(m for _, m in problems))


def _vocabulary_problems(rs: "RuleSet") -> list[tuple[tuple, str]]:
    """Everything the rule set names must be in the vocabulary and in the rule set itself: (where, problem)."""
    v, out = VOCAB, []
    levels, letters, flags = set(rs.levels), set(v.letters), set(v.intelligence_flags)
    out += [(("levels", i), f"level {lv!r} is not a support level of the vocabulary (include/vocabulary.yaml, "
             f"support_levels: {', '.join(v.support_levels)}; a new level is added there, once)")
            for i, lv in enumerate(rs.levels) if lv not in v.support_levels]
    # Levels are read least support first (a school's score, ties to less or more support, the top level): listed the
    # other way (as the Strategy's table lists them, high first) every tie and mean would silently go the wrong way.
    # An LA code that is not one (two digits, a typo) matches no LA: that LA would silently keep the seed's rule set.
    out += [(("la_codes", i), f"{c!r} is not an LA code (three digits, e.g. \"936\")")
            for i, c in enumerate(rs.la_codes or []) if not re.fullmatch(r"\d{3}", str(c))]
    if len(set(rs.levels)) != len(rs.levels):
        out.append((("levels",), f"levels {rs.levels} names a level twice"))
    for known, right in v.misordered_levels(rs.levels):
        out.append((("levels",), f"levels {rs.levels} are not least support first: {', '.join(known)} must be listed as "
                    f"{', '.join(right)} (least support first, the order of include/vocabulary.yaml's "
                    f"support_level_scales)"))
    out += [(("areas", a), f"area {a!r} is not in the vocabulary (include/vocabulary.yaml, areas: "
             f"{', '.join(v.areas)}{_nearest(a, v.areas)})") for a in rs.areas if a not in v.areas]
    for name in rs.thresholds:
        if name not in THRESHOLD_NAMES:
            near = difflib.get_close_matches(name, sorted(THRESHOLD_NAMES), n=1)
            out.append((("thresholds", name), f"threshold {name!r} is read by nothing"
                        + (f" (did you mean {near[0]!r}?)" if near else "")
                        + f"; the thresholds are: {', '.join(sorted(THRESHOLD_NAMES))}"))
    years = rs.thresholds.get("consistently_years")
    if years is not None and years not in (1, 2, 3):
        out.append((("thresholds", "consistently_years"), f"consistently_years is 1, 2 or 3 (years of figures that "
                    f"must all show it), not {years!r}"))
    if set(rs.support_plan) != levels:
        out.append((("support_plan",), f"support_plan must have exactly the levels {rs.levels}, has {sorted(rs.support_plan)}"))
    named_levels = [(("best_fit", "no_evidence_level"), rs.best_fit.no_evidence_level),
                    (("overriding", "places_at"), rs.overriding.places_at),
                    *((("overriding", "conditions", i, "places_at"), o.places_at)
                      for i, o in enumerate(rs.overriding.conditions) if o.places_at),
                    *((("concerns_remain", "best_fit_levels"), x) for x in rs.concerns_remain.best_fit_levels),
                    *((("member_alerts", "categories"), x) for x in rs.member_alerts.categories),
                    *((("support_plan_exceptions", i, "levels"), x) for i, e in enumerate(rs.support_plan_exceptions)
                      for x in e.levels),
                    *((("letters", k, "not_for_categories"), x) for k, r in rs.letters.items() for x in r.not_for_categories)]
    out += [(("best_fit", "area_weights", a), f"best_fit.area_weights names {a!r}, which is not an area of this rule "
             f"set {sorted(rs.areas)}") for a in rs.best_fit.area_weights if a not in rs.areas]
    out += [(("best_fit", "area_weights", a), f"best_fit.area_weights for {a}: {w} is not above 0")
            for a, w in rs.best_fit.area_weights.items() if not w > 0]
    if rs.best_fit.area_weights and rs.best_fit.combine_areas != "mean":
        out.append((("best_fit", "area_weights"), f"best_fit.area_weights weigh the mean of the areas; with "
                    f"combine_areas: {rs.best_fit.combine_areas} there is no mean, so they would change nothing"))
    out += [(("member_alerts", "letters_flagged"), f"member_alerts.letters_flagged: {x!r} is not a letter of this rule "
             f"set") for x in rs.member_alerts.letters_flagged if x not in rs.letters]
    # Letters issued (the letters log) that alert members: one the rule set does not have (a draft that dropped it,
    # `letters: {warning_notice: null}`, or a misspelling of a vocabulary letter) was read by nothing, members never
    # told of the letters the LA meant.
    out += [(("member_alerts", "letters_issued"), f"{x!r} is not a letter of this rule set ({', '.join(rs.letters)}): "
             f"name only its letters (a letter the rule set drops is dropped here too)") for x in rs.member_alerts.letters_issued
            if x in VOCAB.letters and x not in rs.letters]
    recognition = {k for k, r in rs.letters.items() if r.recognition}
    out += [(("member_alerts", key), f"member_alerts.{key}: {x!r} is a recognition letter, not a school causing concern")
            for key in ("letters_flagged", "letters_issued") for x in getattr(rs.member_alerts, key) if x in recognition]
    out += [(("concerns_remain", "letters_met"), f"concerns_remain.letters_met: {x!r} is a recognition letter: its "
             f"indicators are not concerns") for x in rs.concerns_remain.letters_met if x in recognition]
    for k, r in rs.letters.items():
        if r.requires_escalation and not r.escalates_from:
            out.append((("letters", k, "requires_escalation"), f"letter {k}: requires_escalation without escalates_from "
                        f"(the rung below): it could never be due"))
        if set(r.not_for_categories) >= set(rs.levels):
            out.append((("letters", k, "not_for_categories"), f"letter {k}: not_for_categories lists every level of "
                        f"this rule set {rs.levels}: the letter could never be due (drop it with `letters: {{{k}: null}}`, "
                        f"or name only the levels it is not for)"))
        if r.recognition and r.escalates_from:
            out.append((("letters", k, "escalates_from"), f"letter {k}: a recognition letter is not on the ladder of "
                        f"concern letters, so escalates_from would be ignored"))
    named_levels += [(("best_fit", "min_bullets", lv), lv) for lv in rs.best_fit.min_bullets]
    named_levels += [(("best_fit", "min_share", lv), lv) for lv in rs.best_fit.min_share]
    out += [(("best_fit", "min_bullets", lv), f"best_fit.min_bullets for {lv}: {n} is below 1 (a level with no "
             f"bullet met is never placed)") for lv, n in rs.best_fit.min_bullets.items() if n < 1]
    out += [(("best_fit", "min_share", lv), f"best_fit.min_share for {lv}: {x} is not a share between 0 and 1")
            for lv, x in rs.best_fit.min_share.items() if not 0 <= x <= 1]
    for where, lv in named_levels:
        if lv not in levels:
            out.append((where, f"level {lv!r} is not one of this rule set's levels {rs.levels}"))
    ids = [c.id for c in rs.criteria]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        out.append((("criteria",), f"duplicate criterion ids: {sorted(dupes)}"))
    for n, c in enumerate(rs.criteria):
        if c.area not in rs.areas:
            out.append((("criteria", n, "area"), f"criterion {c.id}: unknown area {c.area!r}"))
        if c.level not in levels:
            out.append((("criteria", n, "level"), f"criterion {c.id}: level {c.level!r} is not one of {rs.levels}"))
        for k, e in enumerate(c.evidence):
            if e.with_category:  # the categorisation is what the criteria decide: it cannot be their evidence
                out.append((("criteria", n, "evidence", k, "with_category"),
                            f"criterion {c.id}: with_category applies to letter indicators only (a criterion decides "
                            f"the category, so it cannot depend on it)"))
    # An id given twice in one list: the letters log's `concern`, evidence.csv and moderation name an indicator by
    # its id, so one of the two would be shadowed by the other.
    id_lists = [(("letters", k, "indicators"), f"letter {k}", [i.id for i in r.indicators]) for k, r in rs.letters.items()]
    id_lists += [(("academy_concerns", "indicators"), "academy_concerns", [i.id for i in rs.academy_concerns.indicators]),
                 (("overriding", "conditions"), "overriding", [o.id for o in rs.overriding.conditions])]
    for where, label, given in id_lists:
        twice = sorted({i for i in given if given.count(i) > 1})
        if twice:
            out.append((where, f"{label}: duplicate ids {twice} (each indicator or condition has its own id)"))
    # An id in two letters: the letters log's `concern` ("SCL-3 finances"), evidence.csv and the drafts name an
    # indicator by its id alone, so a reader (and the log) could not tell which letter's concern is meant.
    owner: dict[str, str] = {}
    for k, r in rs.letters.items():
        for i in dict.fromkeys(x.id for x in r.indicators):
            if i in owner:
                out.append((("letters", k, "indicators"), f"letter {k}: indicator id {i!r} is also an indicator of "
                            f"letter {owner[i]} (each letter's indicators have their own ids: the letters log and "
                            f"evidence.csv name an indicator by its id)"))
            owner.setdefault(i, k)
    for k, r in rs.letters.items():
        seen, at = [k], r.escalates_from
        while at in rs.letters and at not in seen:
            seen.append(at)
            at = rs.letters[at].escalates_from
        if at == k:
            out.append((("letters", k, "escalates_from"), f"letter {k}: the ladder goes round in a circle "
                        f"({' <- '.join([*seen, k])}): no letter on it has a first rung, so none could be due as "
                        f"the rule set says"))
        elif r.escalates_from in rs.letters and rs.letters[r.escalates_from].recognition:
            out.append((("letters", k, "escalates_from"), f"letter {k}: escalates_from {r.escalates_from!r}, a "
                        f"recognition letter, which is not on the ladder of concern letters"))
    used = {c.area for c in rs.criteria}
    out += [(("areas", a), f"area {a!r} has no criteria: it could never be judged (remove it, or give it bullets)")
            for a in rs.areas if a not in used]
    for n, o in enumerate(rs.overriding.conditions):
        missing = set(o.criteria) - set(ids)
        if missing:
            out.append((("overriding", "conditions", n, "criteria"),
                        f"overriding condition {o.id} names unknown criteria {sorted(missing)}"))
        if not o.criteria and not o.indicator:
            out.append((("overriding", "conditions", n), f"overriding condition {o.id} names no criteria and no "
                        f"indicator: it could never hold"))
    for n, i in enumerate(rs.academy_concerns.indicators):
        for k, e in enumerate(i.evidence):
            if e.with_category:
                out.append((("academy_concerns", "indicators", n, "evidence", k, "with_category"),
                            f"academy indicator {i.id}: with_category applies to maintained schools' letters only "
                            f"(an academy has no categorisation, so the evidence would never count)"))
    for where, label, evidence in _evidence_paths(rs):
        for at, e in _leaves(evidence, where):
            if e.adviser and e.adviser not in ids:
                out.append(((*at, "adviser"), f"{label}: adviser judgement on unknown criterion {e.adviser!r}"))
            out += [((*at, "intelligence"), f"{label}: unknown intelligence flag {f!r} (include/vocabulary.yaml, "
                     f"intelligence_flags{_nearest(f, flags)})")
                    for f in e.intelligence or [] if f not in flags]
            out += [((*at, "letter_issued"), f"{label}: unknown letter {x!r}") for x in e.letter_issued or []
                    if x not in letters]
            out += [((*at, "with_category"), f"{label}: unknown level {x!r}") for x in e.with_category or []
                    if x not in levels]
    named_letters = [*((("letters", k), k) for k in rs.letters),
                     *((("letters", k, "escalates_from"), r.escalates_from) for k, r in rs.letters.items() if r.escalates_from),
                     *((("concerns_remain", "letters_met"), x) for x in rs.concerns_remain.letters_met),
                     *((("member_alerts", "letters_issued"), x) for x in rs.member_alerts.letters_issued),
                     *((("letter_actions", x), x) for x in rs.letter_actions),
                     *((("academy_concerns", "route", i, "step"), s.step) for i, s in enumerate(rs.academy_concerns.route)),
                     (("academy_concerns", "resolved_letter"), rs.academy_concerns.resolved_letter)]
    out += [(w, f"letter {x!r} is not in the vocabulary (include/vocabulary.yaml, letters: {', '.join(v.letters)}"
             f"{_nearest(x, letters)}; a letter named otherwise is added there, once)")
            for w, x in named_letters if x not in letters]
    out += [(("letter_actions", x), f"letter_actions for {x!r}, which is not a letter of this rule set: its actions "
             f"would never be drafted") for x in rs.letter_actions if x in letters and x not in rs.letters]
    # A letter lists its actions in the order they fall due: one due before the action above it reads as a mistake
    # (the demo's Warning Notice: "comply by 10 February", then "written response by 9 February"). Calendar and school
    # days side by side fall in a different order in a term with a holiday, so one letter counts in one of them.
    for x, acts in rs.letter_actions.items():
        units = {"within_school_days" if a.within_school_days else "within_days" for a in acts or []}
        if len(units) > 1:
            out.append((("letter_actions", x), f"letter_actions for {x!r} give some deadlines in calendar days "
                        f"(within_days) and some in school days (within_school_days): their dates fall in a different "
                        f"order in a term with a holiday; give them all in one"))
            continue
        for k in range(1, len(acts or [])):
            before, now = (a.within_school_days or a.within_days for a in (acts[k - 1], acts[k]))
            if now < before:
                unit = next(iter(units))
                days = "school days" if unit == "within_school_days" else "days"
                out.append((("letter_actions", x, k, unit), f"letter_actions for {x!r}: {acts[k].action!r} is due "
                            f"{now} {days} after the letter, before the action above it ({before}): list the actions "
                            f"in the order they fall due"))
    out += [(w, f"{x!r} is named but is not a letter of this rule set") for w, x in
            [*((("letters", k, "escalates_from"), r.escalates_from) for k, r in rs.letters.items() if r.escalates_from),
             *((("concerns_remain", "letters_met"), x) for x in rs.concerns_remain.letters_met)]
            if x not in rs.letters]
    if rs.results_not_compared:
        out += [(("results_not_compared", "school_types", i), f"{t!r} is not a GIAS type of establishment"
                 f"{_nearest(t, GIAS_TYPES)} (matched exactly: it would match no school, whose results would then be "
                 f"judged)") for i, t in enumerate(rs.results_not_compared.school_types)
                if t not in GIAS_TYPES and difflib.get_close_matches(t, GIAS_TYPES, n=1, cutoff=0.85)]
    out += [(("criteria", i, "phases"), f"criterion {c.id}: {ph!r} is not a GIAS phase of education "
             f"({', '.join(GIAS_PHASES)}): it would match no school, and the bullet would be judged for none")
            for i, c in enumerate(rs.criteria) for ph in c.phases
            if ph.strip().lower() not in {g.lower() for g in GIAS_PHASES}]
    out += [(("support_plan_exceptions", i, "phases"), f"support plan exception: {ph!r} is not a GIAS phase of "
             f"education ({', '.join(GIAS_PHASES)}): it would match no school")
            for i, e in enumerate(rs.support_plan_exceptions) for ph in e.phases
            if ph.strip().lower() not in {g.lower() for g in GIAS_PHASES}]
    out += [(("support_plan_exceptions", i, "flag"), f"support plan exception: unknown intelligence flag {e.flag!r}")
            for i, e in enumerate(rs.support_plan_exceptions) if e.flag is not None and e.flag not in flags]
    keys = {b.key for b in rs.escalation_bodies}
    out += [(("academy_concerns", "route", i, "escalate_to"), f"academy route: unknown escalation body {k!r}")
            for i, s in enumerate(rs.academy_concerns.route) for k in s.escalate_to if k not in keys]
    out += [(("academy_concerns", "safeguarding_route", i, "body"), f"safeguarding route: unknown body {r.body!r}")
            for i, r in enumerate(rs.academy_concerns.safeguarding_route)
            if r.body != "academy_trust" and r.body not in keys]
    steps = [s.step for s in rs.academy_concerns.route]
    out += [(("academy_concerns", "route"), f"academy route: step {x!r} is given twice: the route could never pass "
             f"it (a step taken is recorded by its letters-log code)") for x in sorted({x for x in steps if steps.count(x) > 1})]
    acad_ids = {i.id for i in rs.academy_concerns.indicators}
    out += [(("academy_concerns", "safeguarding_indicators"), f"safeguarding indicator {i!r} is not an academy indicator")
            for i in rs.academy_concerns.safeguarding_indicators if i not in acad_ids]
    return out


def _operating_problems(rs: "RuleSet") -> list[tuple[tuple, str]]:
    """The operating blocks read as plain mappings (results_known, published_results, extract_max_age_days, the
    escalation bodies, the whistleblowing text): a misspelt key or kind there was read by nothing, e.g. `absense` in
    `results_known.year_ended` left later absence files in use for an earlier term."""
    import string

    from .ingest.feeds import FEED_KINDS, LA_HELD_COLS, OFSTED_COLS

    out: list[tuple[tuple, str]] = []
    kinds = set(FEED_KINDS)
    yearly = ("ks2", "ks4", "absence", "census")

    def unknown(where, given, known, what):
        for k in given:
            if k not in known:
                out.append(((*where, k) if not isinstance(k, (list, dict)) else where,
                            f"{k!r} is not {what} ({', '.join(sorted(known))}"
                            f"{_nearest(k, known)}): it would be read by nothing"))

    rk = rs.results_known or {}
    unknown(("results_known",), rk, {"year_ended", "dated_rows", "edition_date"}, "a key of results_known")
    unknown(("results_known", "year_ended"), rk.get("year_ended") or [], set(yearly), "a feed kind of academic years")
    for kind, spec in (rk.get("dated_rows") or {}).items():
        unknown(("results_known", "dated_rows"), [kind], kinds, "a feed kind")
        spec = spec if isinstance(spec, dict) else {}
        unknown(("results_known", "dated_rows", kind), spec, {"columns", "known_by"}, "a key of dated_rows")
        # A column the feed does not have sets no row aside: the events after the term would be used, unsaid.
        dated = {c.name for c in [*({"ofsted": OFSTED_COLS}.get(kind) or []), *(LA_HELD_COLS.get(kind) or [])]
                 if c.type == "date"}
        if kind in kinds:
            unknown(("results_known", "dated_rows", kind, "columns"), spec.get("columns") or [], dated,
                    f"a date column of the {kind} feed")
        if spec.get("known_by", "term_start") not in ("term_start", "term_end", "run_date"):
            out.append((("results_known", "dated_rows", kind, "known_by"), f"known_by is term_start, term_end or "
                        f"run_date, not {spec.get('known_by')!r}"))
    ed = rk.get("edition_date")
    if ed is not None:  # rows dated after the edition's as_of (quality.data_age): a misspelt column says nothing
        ed = ed if isinstance(ed, dict) else {}
        unknown(("results_known", "edition_date"), ed, {"after", "columns"}, "a key of edition_date")
        if ed.get("after", "said") not in ("said", "set_aside"):
            out.append((("results_known", "edition_date", "after"), f"after is said or set_aside, not "
                        f"{ed.get('after')!r}"))
        for kind, cols in (ed.get("columns") or {}).items():
            unknown(("results_known", "edition_date", "columns"), [kind], kinds, "a feed kind")
            dated = {c.name for c in [*({"ofsted": OFSTED_COLS}.get(kind) or []), *(LA_HELD_COLS.get(kind) or [])]
                     if c.type == "date"}
            if kind in kinds:
                unknown(("results_known", "edition_date", "columns", kind), cols or [], dated,
                        f"a date column of the {kind} feed")
    for kind, spec in (rs.published_results or {}).items():
        unknown(("published_results",), [kind], kinds, "a feed kind")
        spec = spec if isinstance(spec, dict) else {}
        unknown(("published_results", kind), spec, {"not_published", "lag_years", "label"}, "a key of published_results")
        lag = spec.get("lag_years") or {}
        unknown(("published_results", kind, "lag_years"), lag, {"autumn", "spring", "summer"}, "a term of the year")
        out += [(("published_results", kind, "lag_years", t), f"{n!r} is not a whole number of years from 0") for t, n in lag.items() if not (isinstance(n, int) and n >= 0)]
        out += [(("published_results", kind, "not_published"), f"{y!r} is not an academic year written like "
                 f"2019-20") for y in spec.get("not_published") or []
                if not re.fullmatch(r"\d{4}-\d{2}", str(y))]
    # Points of a KS2 percentage (RWM at the expected standard, its gaps): one pupil of a class of 30 is 3.3 points, so
    # a value between 0 and 1 is a fraction typed for a percentage (0.1 for 10 points, as a spreadsheet shows 10% for
    # 0.1): read as points it would put nearly every school below national (s23). 0 (any amount) stays a reading.
    out += [(("thresholds", t), f"{v} looks like a fraction ({v:.0%}): the threshold is in percentage points of the "
             f"KS2 figure (one pupil in a class of 30 is 3.3 points); write {v * 100:g} for {v:.0%}")
            for t, v in rs.thresholds.items() if t in PERCENT_POINT_THRESHOLDS and 0 < v < 1]
    unknown(("extract_max_age_days",), rs.extract_max_age_days, {"gias"}, "a dated extract this rule reads")
    out += [(("extract_max_age_days", k), f"{n} is below 1 day")
            for k, n in rs.extract_max_age_days.items() if n < 1]
    for i, b in enumerate(rs.escalation_bodies):
        if b.start and b.end and b.end < b.start:
            out.append((("escalation_bodies", i), f"escalation body {b.name!r}: `to` ({b.end}) is before `from` "
                        f"({b.start}): it would never be named"))
    for name, r in rs.letters.items():  # the drafts fill {term} only: another placeholder would go out as typed
        for part in ("opening", "closing"):
            try:
                named = {f for _, f, _, _ in string.Formatter().parse(getattr(r, part) or "") if f}
            except ValueError as err:
                named = {f"(unbalanced braces: {err})"}
            out += [(("letters", name, part), f"names {{{f}}}: a draft letter fills only {{term}}, so it would go out "
                     f"as typed") for f in sorted(named - {"term"})]
    keys = {b.key for b in rs.escalation_bodies}
    fields = {f for _, f, _, _ in string.Formatter().parse(rs.academy_concerns.whistleblowing) if f}
    out += [(("academy_concerns", "whistleblowing"), f"names {{{f}}}, which is not an escalation body's key "
             f"({', '.join(sorted(keys))}{_nearest(f, keys)})") for f in sorted(fields - keys)]
    return out


def _nearest(name: str, known) -> str:
    near = difflib.get_close_matches(str(name), sorted(known), n=1)
    return f"; did you mean {near[0]!r}?" if near else ""


def _evidence_paths(rs: "RuleSet"):
    """(where in the file, label, evidence list) for every evidence list: the same lists as `all_evidence`."""
    for n, c in enumerate(rs.criteria):
        yield ("criteria", n), f"criterion {c.id}", c.evidence
    for name, rule in rs.letters.items():
        for n, i in enumerate(rule.indicators):
            yield ("letters", name, "indicators", n), f"letter {name} indicator {i.id}", i.evidence
    for n, i in enumerate(rs.academy_concerns.indicators):
        yield ("academy_concerns", "indicators", n), f"academy indicator {i.id}", i.evidence


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


def in_force_problem(rules: RuleSet, term, folder: Path = RULES_DIR):
    """A warning (data_quality.csv and the front page) when the LA's rules change within the term: the term's rule set
    (the one in force when it began, `Term.reference_date`) ends before the term does, or another of its kind comes
    into force during it. The edition follows the term's rule set throughout, also when dated after the change (a
    re-run, an `as_of` late in the term); the reader is told which, and when the other applies. None otherwise."""
    from .errors import Problem

    start, end = term.dates()
    same_pool = [rs for rs in all_rule_sets(folder) if rs.id != rules.id and bool(rs.la_codes) == bool(rules.la_codes)
                 and (not rules.la_codes or set(rs.la_codes or ()) & set(rules.la_codes))]
    coming = sorted((rs for rs in same_pool if rs.in_force.start is not None and start < rs.in_force.start <= end),
                    key=lambda rs: rs.in_force.start)
    ends = rules.in_force.end if rules.in_force.end is not None and rules.in_force.end < end else None
    if not coming and ends is None:
        return None
    msg = (f"The LA's rules change during {term}: this edition follows {rules.id} ({rules.title}), the rule set in "
           f"force when the term began ({start:%d %B %Y}), throughout the term")
    if ends is not None:
        msg += f", though it is in force only until {ends:%d %B %Y}"
    if coming:
        msg += "; " + "; ".join(f"{rs.id} ({rs.title}) is in force from {rs.in_force.start:%d %B %Y}" for rs in coming)
        msg += ", and decides the terms that begin after that"
    return Problem(f"rules/{rules.id}.yaml", None, "in_force", msg + ".", "warning", "rule_set_in_force")


class _Located(dict):
    """A mapping read from a rule-set file that knows where each of its keys is (file, line), for errors."""

    file: str = ""
    line: int = 0

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.where: dict = {}


class _RuleSetLoader(yaml.SafeLoader):
    """YAML as yaml.safe_load reads it, but a key given twice in one mapping is refused: YAML keeps the last, so
    the first would be loaded and silently not applied (a duplicated threshold, a second `best_fit:`)."""


def _located_mapping(loader: _RuleSetLoader, node) -> _Located:
    loader.flatten_mapping(node)
    out = _Located()
    out.file, out.line = loader.name, node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in out.where:
            raise RulesError(f"{loader.name}: line {line}: key {key!r} is given twice in the same block (first on "
                             f"line {out.where[key][1]}); YAML would keep only the last and silently drop the other")
        out[key] = loader.construct_object(value_node, deep=True)
        out.where[key] = (loader.name, line)
    return out


_RuleSetLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _located_mapping)


class _FastRuleSetLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """_RuleSetLoader with libyaml's parser (ten times faster; the same mappings, files and lines). A file it cannot
    read is read again by _RuleSetLoader, so the error is worded as before."""


_FastRuleSetLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _located_mapping)


def _where(raw, loc) -> tuple[str, str]:
    """'file, line N' and a readable key path (with the ids met on the way) for a position in the merged rule set."""
    node, found, path = raw, None, []
    for part in loc:
        if isinstance(node, _Located):
            found = node.where.get(part, found or (node.file, node.line))
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(str(part))
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            ident = node.get("id") if isinstance(node, dict) else None
            path[-1:] = [f"{path[-1] if path else ''}[{part}]" + (f" ({ident})" if ident else "")]
            if isinstance(node, _Located):
                found = (node.file, node.line)
        else:
            break
    where = f"{found[0]}, line {found[1]}" if found else ""
    return where, ".".join(path) or "(the rule set as a whole)"


def _messages(exc: ValidationError, raw: dict) -> list[str]:
    """Each problem of a rule set that failed validation, as 'file, line N: key: what is wrong'."""
    out = []
    for e in exc.errors():
        err = (e.get("ctx") or {}).get("error")
        problems = err.problems if isinstance(err, RuleSetProblems) else [(tuple(e["loc"]), e["msg"])]
        for loc, msg in problems:
            where, key = _where(raw, loc)
            if e["type"] == "extra_forbidden":
                msg = "not a key a rule set has here (a typo?): it would be read by nothing"
            elif e["type"] == "missing":
                msg = f"`{loc[-1]}` is required here and missing"
            elif loc and loc[0] == "la_codes" and e["type"] == "string_type":
                msg = f"an LA code is written in quotes (\"{e.get('input')}\"), not as the number {e.get('input')!r}"
            elif loc and loc[0] == "thresholds" and e["type"] == "less_than_equal":
                msg = (f"{e.get('input')!r} is above 100: no figure read (points of a percentage, Attainment 8 points, "
                       f"pupils) could reach it, so the reading would never be met (a typo?)")
            elif e["type"] in ("date_from_datetime_parsing", "date_parsing", "date_type"):
                msg = f"{msg} (a date is written YYYY-MM-DD, e.g. 2026-08-31), not {e.get('input')!r}"
            elif loc and loc[0] == "thresholds" and e["type"] in ("int_type", "float_type", "int_parsing",
                                                                   "float_parsing"):
                msg = f"a threshold is a number (points, or pupils), not {e.get('input')!r}"
                given = str(e.get("input") or "").strip()
                if re.fullmatch(r"\d+(\.\d+)?\s*%", given):  # "10%": the points are the number alone
                    msg += f"; write {given.rstrip('% ')} (percentage points, without the % sign)"
            msg = msg.removeprefix("Value error, ")
            out.append(f"{where + ': ' if where else ''}{key}: {msg}")
    return list(dict.fromkeys(out))


def _merge(base: dict, child: dict) -> dict:
    """Apply a child rule set over its parent: dicts merge (in_force is replaced), `*_replace` lists swap items by id."""
    out = copy.deepcopy(base)
    place = f"{getattr(child, 'file', 'the rule set')}"
    # A whole list and replacements in it in one file: one would silently undo the other, whichever came last.
    edits = [k for k in ("criteria_replace", "criteria_remove", "criteria_add") if k in child]
    if "criteria" in child and edits:
        raise RulesError(f"{place}: gives both `criteria:` (the whole list) and `{edits[0]}:`; give one")
    if "academy_concerns_replace" in child and "indicators" in (child.get("academy_concerns") or {}):
        raise RulesError(f"{place}: gives `academy_concerns: indicators:` (the whole list) and "
                         f"`academy_concerns_replace:`; give one")
    both = set(child.get("letters_replace") or {}) & set(child.get("letters") or {})
    if both:
        raise RulesError(f"{place}: gives letter(s) {sorted(both)} whole under `letters:` and replaces their indicators "
                         f"under `letters_replace:`; give one")
    def items(key, value):  # a list of mappings with an id each, or the draft is refused here, not crashed on
        if not isinstance(value, list) or not all(isinstance(c, dict) and "id" in c for c in value):
            raise RulesError(f"{place}: `{key}:` is a list of whole entries, each with its id ({{id: ..., ...}}), "
                             f"not {value!r}")
        return value

    for key, value in child.items():
        if key == "extends":
            continue
        if key == "criteria_replace":
            items(key, value)
            by_id = {c["id"]: c for c in value}
            unknown = set(by_id) - {c["id"] for c in out["criteria"]}
            if unknown:
                raise RulesError(f"{place}: criteria_replace names unknown criteria {sorted(unknown)} (it replaces "
                                 f"criteria of {base.get('id')} by id; a new bullet goes in a full `criteria:` list)")
            out["criteria"] = [by_id.get(c["id"], c) for c in out["criteria"]]
        elif key in ("criteria_remove", "criteria_add"):
            continue  # after the replacements, below: a bullet the LA drops, or one it adds
        elif key == "letters_replace":
            if not isinstance(value, dict):
                raise RulesError(f"{place}: `letters_replace:` maps a letter to its indicators replaced by id "
                                 f"(<letter>: [{{id: ..., ...}}]), not {value!r}")
            for letter, indicators in value.items():
                items(f"letters_replace: {letter}", indicators)
                if letter not in out.get("letters", {}):
                    raise RulesError(f"{place}: letters_replace names letter {letter!r}, which {base.get('id')} does not "
                                     f"have (its letters: {', '.join(out.get('letters', {}))})")
                by_id = {i["id"]: i for i in indicators}
                existing = out["letters"][letter]["indicators"]
                unknown = set(by_id) - {i["id"] for i in existing}
                if unknown:
                    raise RulesError(f"{place}: letters_replace {letter} names unknown indicators {sorted(unknown)} "
                                     f"(it replaces indicators of {base.get('id')} by id: "
                                     f"{', '.join(i['id'] for i in existing)})")
                out["letters"][letter]["indicators"] = [by_id.get(i["id"], i) for i in existing]
        elif key == "academy_concerns_replace":
            # Academy-concern indicators replaced by id, as letters_replace does for a letter's (a rule set that rewords
            # one, e.g. "a drop in Ofsted rating" under report cards, without restating every concern).
            items(key, value)
            existing = (out.get("academy_concerns") or {}).get("indicators") or []
            by_id = {i["id"]: i for i in value}
            unknown = set(by_id) - {i["id"] for i in existing}
            if unknown:
                raise RulesError(f"{place}: academy_concerns_replace names unknown indicators {sorted(unknown)} (it "
                                 f"replaces indicators of {base.get('id')} by id: {', '.join(i['id'] for i in existing)})")
            out["academy_concerns"]["indicators"] = [by_id.get(i["id"], i) for i in existing]
        elif key != "in_force" and isinstance(value, dict) and isinstance(out.get(key), dict):
            # A key set to null removes the parent's (a letter the LA does not use, a threshold nothing reads): the
            # rest of the rule set is then checked without it (a rung above it must name another `escalates_from`).
            dropped = {k for k, v in value.items() if v is None}
            unknown = dropped - set(out[key])
            if unknown:
                where = getattr(value, "where", {})
                raise RulesError(f"{place}, line {where.get(sorted(unknown)[0], (0, '?'))[1]}: {key}: "
                                 f"{', '.join(sorted(unknown))} set to null, but {base.get('id')} has no such key to "
                                 f"remove (its {key}: {', '.join(map(str, out[key]))})")
            merged = _Located({k: v for k, v in {**out[key], **value}.items() if k not in dropped})
            merged.where = {k: v for k, v in {**getattr(out[key], "where", {}), **getattr(value, "where", {})}.items()
                            if k not in dropped}
            merged.file, merged.line = getattr(value, "file", ""), getattr(value, "line", 0)
            out[key] = merged
        else:
            out[key] = value
    have = [c["id"] for c in out.get("criteria", [])]
    for k in ("criteria_remove", "criteria_add"):
        if not isinstance(child.get(k) or [], list):
            raise RulesError(f"{place}: `{k}:` is a list ({'of criterion ids' if k == 'criteria_remove' else 'of criteria'}"
                             f"), not {child[k]!r}")
    gone = list(child.get("criteria_remove") or [])
    unknown = sorted(set(gone) - set(have))
    if unknown:
        raise RulesError(f"{place}: criteria_remove names unknown criteria {unknown} (it removes criteria of "
                         f"{base.get('id')} by id)")
    if gone:
        out["criteria"] = [c for c in out["criteria"] if c["id"] not in gone]
    added = items("criteria_add", child["criteria_add"]) if child.get("criteria_add") else []
    clash = sorted({c.get("id") for c in added if isinstance(c, dict)} & set(have) - set(gone))
    if clash:
        raise RulesError(f"{place}: criteria_add gives criteria {clash}, which {base.get('id')} already has (change "
                         f"one with `criteria_replace:`)")
    if added:
        out["criteria"] = [*out["criteria"], *added]
    if isinstance(child, _Located):  # a key the child sets is reported at the child's line
        located = _Located(out)
        located.where = {**getattr(out, "where", {}), **{k: v for k, v in child.where.items() if k in out}}
        located.file, located.line = child.file, child.line
        out = located
    return out


def _load_raw(rule_id: str, folder: Path, seen: tuple[str, ...] = ()) -> dict:
    path = folder / f"{rule_id}.yaml"
    if not path.exists() and (RULES_DIR / f"{rule_id}.yaml").exists():
        path = RULES_DIR / f"{rule_id}.yaml"  # a draft elsewhere may extend a rule set in force
    if not path.exists():
        known = sorted({f.stem for d in (folder, RULES_DIR) for f in Path(d).glob("*.yaml")})
        near = difflib.get_close_matches(rule_id, known, n=1)
        by = f"{folder / (seen[-1] + '.yaml')}: extends: " if seen else ""  # the draft that names it
        raise RulesError(f"{by}rule set {rule_id!r} not found in {folder}"
                         + (f" nor {RULES_DIR}" if Path(folder).resolve() != RULES_DIR.resolve() else "")
                         + (f" (did you mean {near[0]!r}?)" if near else "") + f"; rule sets: {', '.join(known)}")
    if rule_id in seen:
        raise RulesError(f"rule set {rule_id!r} extends itself via {' -> '.join(seen)}")
    try:
        with open(path, encoding="utf-8") as fh:
            fast = _FastRuleSetLoader(fh)
            fast.name = fh.name  # as _RuleSetLoader's reader names the file, for _located_mapping
            try:
                raw = fast.get_single_data() or {}
            except (yaml.YAMLError, UnicodeDecodeError):
                fh.seek(0)
                raw = yaml.load(fh, Loader=_RuleSetLoader) or {}
            finally:
                fast.dispose()
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


def load_rule_set(rule_id: str, folder: Path = RULES_DIR) -> RuleSet:
    """The rule set `rule_id` of `folder` (a draft may extend one of RULES_DIR). Cached, but read again when a
    rule-set file there has changed: a draft edited between two what-ifs in one process is never served stale."""
    return _load_rule_set(rule_id, Path(folder), _files_signature(Path(folder)))


def _files_signature(folder: Path) -> tuple:
    files = sorted({*folder.glob("*.yaml"), *RULES_DIR.glob("*.yaml")})
    return tuple((str(f), st.st_mtime_ns, st.st_size) for f in files for st in [f.stat()])


@lru_cache(maxsize=32)
def _load_rule_set(rule_id: str, folder: Path, signature: tuple) -> RuleSet:
    raw = _load_raw(rule_id, Path(folder))
    try:
        rs = RuleSet.model_validate(raw)
    except ValidationError as exc:
        problems = _messages(exc, raw)
        raise RulesError(f"rule set {rule_id} ({folder / (rule_id + '.yaml')}) is invalid ({len(problems)} "
                         f"problem(s)):\n  " + "\n  ".join(problems)) from None
    from .evidence.indicators import SchoolIndicators  # indicators import this module

    known = {n[3:] for n in dir(SchoolIndicators) if n.startswith("_i_")}
    places = [(("overriding", "conditions", n, "indicator"), o.indicator) for n, o in enumerate(rs.overriding.conditions)
              if o.indicator]
    places += [(("academy_concerns", "safeguarding_route", n, "when_indicator"), r.when_indicator)
               for n, r in enumerate(rs.academy_concerns.safeguarding_route) if r.when_indicator]
    places += [((*at, "indicator"), e.indicator) for where, _, ev in _evidence_paths(rs)
               for at, e in _leaves(ev, where) if e.indicator]
    unknown = [(loc, name) for loc, name in places if name not in known]
    if unknown:
        lines = []
        for loc, name in unknown:
            where, key = _where(raw, loc)
            near = difflib.get_close_matches(name, sorted(known), n=1)
            lines.append(f"{where + ': ' if where else ''}{key}: unknown indicator {name!r}"
                         + (f" (did you mean {near[0]!r}?)" if near else ""))
        raise RulesError(f"rule set {rule_id} ({folder / (rule_id + '.yaml')}) names unknown indicators "
                         f"{sorted({n for _, n in unknown})}:\n  " + "\n  ".join(lines)
                         + f"\n  The indicators are: {', '.join(sorted(known))}")
    _threshold_problems(rs, raw, rule_id, folder)
    return rs


def _threshold_problems(rs: RuleSet, raw: dict, rule_id: str, folder: Path) -> None:
    """Every threshold the named indicators read is given; none is given that they do not read (it would change
    nothing: a reading loaded and silently not applied, e.g. a "very wide" gap with no indicator naming it)."""
    from .evidence.assess import MEASURE_INDICATORS
    from .evidence.indicators import THRESHOLDS_READ

    # The history's figures are computed for every school, so their indicators' thresholds must be given too.
    named: dict[str, list[str]] = {i: ["the history's figures"] for i in MEASURE_INDICATORS}
    for _, label, evidence in _evidence_paths(rs):
        for _, e in _leaves(evidence):
            if e.indicator:
                named.setdefault(e.indicator, []).append(label)
    for o in rs.overriding.conditions:
        if o.indicator:
            named.setdefault(o.indicator, []).append(f"overriding condition {o.id}")
    reads: dict[str, set[str]] = {}
    for ind in named:
        for t in THRESHOLDS_READ.get(ind, ()):
            reads.setdefault(t, set()).add(ind)
    lines = []
    # Only the file loaded is asked to remove a threshold: one it inherits (a reading that replaced the only letter
    # naming its indicator) changes nothing and is not the reading's mistake; the reading can drop it with `null`.
    own = getattr(raw, "file", None)
    where_given = getattr(raw.get("thresholds"), "where", {})
    for t in rs.thresholds:
        inherited = own and t in where_given and where_given[t][0] != own
        if t in THRESHOLD_NAMES and t not in reads and not inherited:
            readers = sorted(i for i, ts in THRESHOLDS_READ.items() if t in ts)
            where, key = _where(raw, ("thresholds", t))
            lines.append(f"{where + ': ' if where else ''}{key}: read only by the indicator(s) {', '.join(readers)}, "
                         f"which this rule set does not name: it would change nothing (remove it, or name one of them "
                         f"in a criterion's or letter's evidence)")
    for t in sorted(set(reads) - set(rs.thresholds) - OPTIONAL_THRESHOLDS):
        users = sorted({label for i in reads[t] for label in named[i]})
        lines.append(f"thresholds: {t!r} is missing; {', '.join(sorted(reads[t]))} read it (named by "
                     f"{', '.join(users[:3])}{' ...' if len(users) > 3 else ''})")
    if lines:
        raise RulesError(f"rule set {rule_id} ({folder / (rule_id + '.yaml')}) has thresholds that do not fit the "
                         f"indicators it names:\n  " + "\n  ".join(lines))


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
