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

Level = Literal["low", "medium", "high"]
LEVELS: tuple[str, ...] = ("low", "medium", "high")
SEVERITIES = ("low", "medium", "high")


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
    min_severity: Literal["low", "medium", "high"] = "low"
    max_severity: Literal["low", "medium", "high"] = "high"
    min_count: int = 1
    within_months: int | None = None
    indicator: str | None = None
    letter_issued: list[str] | None = None
    within_terms: int = 3
    # Letters only: the evidence counts when the school's categorisation (the LA's risk assessment) is one of these.
    with_category: list[Level] | None = None

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in ("adviser", "intelligence", "indicator", "letter_issued") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(f"evidence must have exactly one of adviser/intelligence/indicator/letter_issued, got {kinds}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("adviser", "intelligence", "indicator", "letter_issued") if getattr(self, k))


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    area: str
    level: Level
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
    escalates_from: str | None = None
    requires_escalation: bool = False


class Overriding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    wording: str
    criteria: list[str] = []
    indicator: str | None = None
    from_letter: bool = False  # met by a letter already issued: not itself a sign that concerns remain


class PlanLevel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: str
    visits: Literal["monthly", "half_termly", "termly", "annual"]
    laig_reviews_per_term: int = 0


class Action(BaseModel):
    action: str
    within_days: int


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    key: str
    name: str
    start: date | None = Field(None, alias="from")
    end: date | None = Field(None, alias="to")


class AcademyRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicators: list[Indicator]
    safeguarding_indicators: list[str]
    route: list[dict]
    safeguarding_route: list[str]
    whistleblowing: str


class MemberAlerts(BaseModel):
    when: list[str]
    letters: list[str]
    told: str


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    source: str | None = None
    in_force: DateRange
    thresholds: dict[str, float | int | str]
    levels: list[Level]
    areas: dict[str, str]
    overriding: list[Overriding]
    support_plan: dict[str, PlanLevel]
    criteria: list[Criterion]
    letters: dict[str, LetterRule]
    letter_actions: dict[str, list[Action]]
    academy_concerns: AcademyRules
    escalation_bodies: list[Body]
    member_alerts: MemberAlerts
    published_results: dict[str, dict] = {}  # per feed kind: not_published years, lag_years by season, label

    @model_validator(mode="after")
    def _consistent(self):
        ids = [c.id for c in self.criteria]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"duplicate criterion ids: {sorted(dupes)}")
        for c in self.criteria:
            if c.area not in self.areas:
                raise ValueError(f"criterion {c.id}: unknown area {c.area!r}")
        for o in self.overriding:
            missing = set(o.criteria) - set(ids)
            if missing:
                raise ValueError(f"overriding condition {o.id} names unknown criteria {sorted(missing)}")
        return self

    def threshold(self, name: str) -> float:
        try:
            return float(self.thresholds[name])
        except KeyError:
            raise RulesError(f"rule set {self.id}: threshold {name!r} is not defined") from None

    @property
    def ofsted_framework(self) -> str:
        return str(self.thresholds.get("ofsted_framework", "oeif"))

    def criteria_in_force(self, d: date) -> list[Criterion]:
        return [c for c in self.criteria if c.in_force is None or c.in_force.covers(d)]

    def bodies_on(self, d: date) -> dict[str, str]:
        return {b.key: b.name for b in self.escalation_bodies
                if (b.start is None or b.start <= d) and (b.end is None or d <= b.end)}


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
    if not path.exists():
        raise RulesError(f"rule set {rule_id!r} not found in {folder}")
    if rule_id in seen:
        raise RulesError(f"rule set {rule_id!r} extends itself via {' -> '.join(seen)}")
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    if raw.get("id") != rule_id:
        raise RulesError(f"{path}: id {raw.get('id')!r} does not match the file name")
    if raw.get("extends"):
        return _merge(_load_raw(raw["extends"], folder, seen + (rule_id,)), raw)
    return raw


@lru_cache(maxsize=32)
def load_rule_set(rule_id: str, folder: Path = RULES_DIR) -> RuleSet:
    raw = _load_raw(rule_id, Path(folder))
    try:
        return RuleSet.model_validate(raw)
    except ValidationError as exc:
        raise RulesError(f"rule set {rule_id} ({folder / (rule_id + '.yaml')}) is invalid:\n{exc}") from exc


def all_rule_sets(folder: Path = RULES_DIR) -> list[RuleSet]:
    return [load_rule_set(p.stem, Path(folder)) for p in sorted(Path(folder).glob("*.yaml"))]


def rule_set_for(d: date, folder: Path = RULES_DIR) -> RuleSet:
    """The one rule set in force on `d`. None or several is an error, never a silent default."""
    matches = [rs for rs in all_rule_sets(folder) if rs.in_force.covers(d)]
    if not matches:
        spans = ", ".join(f"{rs.id} ({rs.in_force})" for rs in all_rule_sets(folder))
        raise RulesError(f"no rule set is in force on {d}; rule sets: {spans}. Add one under {folder}.")
    if len(matches) > 1:
        raise RulesError(f"several rule sets are in force on {d}: {[rs.id for rs in matches]}; their dates overlap")
    return matches[0]
