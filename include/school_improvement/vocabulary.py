"""The product's one vocabulary (include/vocabulary.yaml): intelligence flags, letters, levels of support,
Ofsted's scales and confidentiality classes. Feed specs, Great Expectations value sets, rule sets, the demo
and the report's labels all take their codes from here, so a code is added in one place.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from . import INCLUDE_DIR
from .errors import RulesError

VOCABULARY_FILE = INCLUDE_DIR / "vocabulary.yaml"
LEVEL_NAME_MAX = 10  # the history's category / previous_category columns are String(10)


class Flag(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str
    confidentiality: str


class Grade(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str
    band: str


class UngradedOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contains: str
    band: str | None  # None: an outcome that confirms no judgement (e.g. "(Concerns)")
    at_risk: bool = False  # Ofsted says the grade may not hold: its next inspection is a graded one


class OfstedScales(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bands: list[str]
    oeif_grades: dict[int, Grade]
    report_card_scale: list[Grade]
    report_card_areas: dict[str, str]
    key_judgements: dict[str, str]
    ungraded_outcomes: list[UngradedOutcome]
    safeguarding: list[str]
    categories_of_concern: list[str]
    worst_band_categories: dict[str, list[str]] = {}  # framework -> the categories its worst band is one of
    category_codes: dict[str, str] = {}  # Ofsted's code in a category column -> the category
    # A category column naming a category while the school's latest judgement is better than the worst band:
    # "set_aside" (not read, said) or "read".
    category_with_better_judgement: Literal["set_aside", "read"] = "set_aside"

    @model_validator(mode="after")
    def _bands_known(self):
        for g in [*self.oeif_grades.values(), *self.report_card_scale, *self.ungraded_outcomes]:
            if g.band not in self.bands and not (isinstance(g, UngradedOutcome) and g.band is None):
                raise ValueError(f"Ofsted scale entry {g!r}: unknown band {g.band!r} (bands: {self.bands})")
        if set(self.category_codes.values()) - set(self.categories_of_concern):
            raise ValueError(f"category_codes: {sorted(set(self.category_codes.values()) - set(self.categories_of_concern))} "
                             f"not in categories_of_concern")
        for framework, cats in self.worst_band_categories.items():
            if set(cats) - set(self.categories_of_concern):
                raise ValueError(f"worst_band_categories {framework!r}: {sorted(set(cats) - set(self.categories_of_concern))}"
                                 f" not in categories_of_concern")
        return self

    def band_of_grade(self, grade: int) -> str | None:
        g = self.oeif_grades.get(int(grade))
        return g.band if g else None

    def grade_label(self, grade: int) -> str:
        g = self.oeif_grades.get(int(grade))
        return g.label if g else str(grade)

    @property
    def report_card_labels(self) -> list[str]:
        return [g.label for g in self.report_card_scale]

    def band_of_report_card(self, label: str) -> str:
        return next(g.band for g in self.report_card_scale if g.label == label)

    def band_of_ungraded(self, outcome) -> str | None:
        text = str(outcome or "").lower()
        return next((u.band for u in self.ungraded_outcomes if u.contains.lower() in text), None)

    def ungraded_at_risk(self, outcome) -> bool:
        """The first matching outcome is one of Ofsted's concerns ("School remains Good (Concerns) - S5 Next")."""
        text = str(outcome or "").lower()
        return next((u.at_risk for u in self.ungraded_outcomes if u.contains.lower() in text), False)

    def categories_of_worst_band(self, framework: str) -> list[str]:
        """The categories of concern a school judged in the worst band by `framework` ("graded inspection", "report
        card", "graded inspection, overall effectiveness not judged") is in, one of them."""
        key = next((k for k in sorted(self.worst_band_categories, key=len, reverse=True)
                    if str(framework).startswith(k)), None)
        return self.worst_band_categories.get(key, []) if key else []

    def worst_band(self, bands) -> str:
        return max(bands, key=self.bands.index)


class ConfidentialityClass(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str
    general_edition: Literal["shown", "named_by_kind"]  # what the general edition shows of such evidence


class Vocabulary(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confidentiality_classes: dict[str, ConfidentialityClass]
    severities: list[str]
    support_levels: dict[str, str]
    support_level_scales: list[list[str]] = []  # each least support first
    areas: dict[str, str]
    intelligence_flags: dict[str, Flag]
    letters: dict[str, str]
    ofsted: OfstedScales

    @model_validator(mode="after")
    def _classes_known(self):
        long = [lv for lv in self.support_levels if len(lv) > LEVEL_NAME_MAX]
        if long:  # PostgreSQL refuses a longer value mid-run (SQLite would store it): refused here, named
            raise ValueError(f"support_levels: {long} longer than {LEVEL_NAME_MAX} characters, the history's category "
                             f"columns (history.school_terms): use a shorter code (its label may be long)")
        for scale in self.support_level_scales:
            if set(scale) - set(self.support_levels):
                raise ValueError(f"support_level_scales: {sorted(set(scale) - set(self.support_levels))} not in "
                                 f"support_levels")
        for name, f in self.intelligence_flags.items():
            if f.confidentiality not in self.confidentiality_classes:
                raise ValueError(f"intelligence flag {name}: unknown confidentiality class {f.confidentiality!r}")
        return self

    def misordered_levels(self, levels: list[str]) -> list[tuple[list[str], list[str]]]:
        """(as listed, least support first) for each scale of which `levels` lists two or more the wrong way round."""
        out = []
        for scale in self.support_level_scales:
            known = [lv for lv in levels if lv in scale]
            if known != sorted(known, key=scale.index) and len(set(known)) == len(known):
                out.append((known, sorted(known, key=scale.index)))
        return out

    @property
    def restricted_flags(self) -> frozenset[str]:
        """Flags whose specifics the general edition names by kind only."""
        return frozenset(k for k, f in self.intelligence_flags.items()
                         if self.confidentiality_classes[f.confidentiality].general_edition == "named_by_kind")


@lru_cache(maxsize=4)
def load_vocabulary(path: Path = VOCABULARY_FILE) -> Vocabulary:
    try:
        with open(path, encoding="utf-8") as fh:
            return Vocabulary.model_validate(yaml.safe_load(fh) or {})
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise RulesError(f"vocabulary {path} is invalid: {exc}") from exc


VOCAB = load_vocabulary()
