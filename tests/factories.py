"""Small in-memory feeds for unit tests of the rules, in the readers' canonical columns."""

from __future__ import annotations

from datetime import date

import pandas as pd

from school_improvement.ingest.feeds import Feed
from school_improvement.ingest.termdata import TermData
from school_improvement.terms import Term

NATIONAL_KS2 = {"level": "national", "la_code": None, "phase": None, "rwm_exp": 61.0, "rwm_exp_prev1": 60.0,
                "rwm_exp_disadv": 46.0, "rwm_exp_other": 68.0, "rwm_exp_disadv_prev1": 45.0, "rwm_exp_other_prev1": 67.0}
NATIONAL_ABS = {"level": "national", "la_code": None, "phase": "primary", "overall_absence": 5.5, "persistent_absence": 14.6}


def feed(kind: str, schools: list[dict], comparators: list[dict] | None = None, statuses: list[dict] | None = None,
         year: str | None = "2024-25", source: str | None = None) -> Feed:
    df = pd.DataFrame(schools)
    if "_row" not in df and not df.empty:
        df["_row"] = range(2, len(df) + 2)
    return Feed(kind=kind, source=source or f"{kind}.csv", path=f"/tmp/{kind}.csv", sha256="0" * 64,
                academic_year=year, rows=len(schools) + len(comparators or []), schools=df,
                comparators=pd.DataFrame(comparators or [], columns=["level", "la_code", "phase"] if not comparators else None),
                statuses=pd.DataFrame(statuses or [], columns=["urn", "column", "code", "reason", "_row"]))


def gias(urn: int, **kw) -> dict:
    row = {"urn": urn, "la_code": "999", "la_name": "Wealdshire (demo)", "estab": str(urn)[-4:],
           "school_name": f"Test School {urn}", "type": "Community school",
           "type_group": "Local authority maintained schools", "phase": "Primary", "status": "Open",
           "trust": None, "ward": "Northgate", "head_title": "Mrs", "head_first_name": "Ann", "head_last_name": "Example",
           "head_job_title": "Headteacher", "open_date": None, "close_date": None, "pupils": 200,
           "is_academy": False, "is_la_maintained": True}
    row.update(kw)
    return row


def ks2(urn: int, **kw) -> dict:
    row = {"urn": urn, "la_code": "999", "cohort": 30, "disadv_cohort": 12, "rwm_exp": 62.0, "rwm_exp_prev1": 61.0,
           "rwm_exp_prev2": 60.0, "rwm_exp_disadv": 50.0, "rwm_exp_other": 68.0, "rwm_exp_disadv_prev1": 49.0,
           "rwm_exp_other_prev1": 67.0, "read_prog": None, "read_prog_lower": None, "read_prog_upper": None,
           "writ_prog": None, "writ_prog_lower": None, "writ_prog_upper": None, "mat_prog": None,
           "mat_prog_lower": None, "mat_prog_upper": None}
    row.update(kw)
    return row


def absence(urn: int, **kw) -> dict:
    row = {"urn": urn, "la_code": "999", "overall_absence": 5.0, "persistent_absence": 12.0,
           "persistent_threshold": 10, "source_form": "performance_tables"}
    row.update(kw)
    return row


def ofsted(urn: int, **kw) -> dict:
    row = {"urn": urn, "school_name": f"Test School {urn}", "oeif_overall": 2, "oeif_date": date(2022, 5, 10),
           "safeguarding": None, "oeif_safeguarding_effective": "Yes", "category_of_concern": None,
           "oeif_category_of_concern": None, "recent_category_of_concern": None, "inspection_date": None,
           "ungraded_outcome": None, "ungraded_date": None}
    row.update(kw)
    return row


def term_data(term: str = "2025-26-autumn", la: str = "999", **kinds) -> TermData:
    """kinds: name -> list of school rows (or a Feed). Comparators default to plausible national rows."""
    comps = {"ks2": [NATIONAL_KS2], "absence": [NATIONAL_ABS]}
    feeds = []
    for kind, rows in kinds.items():
        feeds.append(rows if isinstance(rows, Feed) else feed(kind, rows, comps.get(kind)))
    return TermData(la, Term.parse(term), feeds)


def judgement(urn: int, criterion: str, met: bool = True, visit: date = date(2025, 10, 1), adviser: str = "A. Adviser",
              note: str = "") -> dict:
    return {"urn": urn, "criterion_id": criterion, "area": "", "met": met, "adviser": adviser,
            "visit_date": visit, "note": note}


def flag(urn: int, name: str, severity: str = "high", raised: date = date(2025, 10, 1), detail: str = "",
         team: str = "School Improvement") -> dict:
    return {"urn": urn, "flag": name, "severity": severity, "detail": detail, "raised_by_team": team,
            "raised_on": raised}


def letter(urn: int, name: str, issued: date, concern: str = "") -> dict:
    return {"urn": urn, "letter": name, "concern": concern, "issued_on": issued, "issued_by": "Director",
            "term": ""}


def decide(data: TermData, rules, history: dict | None, as_of: date):
    """(Categorisation, Letters) of a term, its evidence assessed once and read by both, as the pipeline's stages
    read the evidence stage's artefact: categorise and flag_letters each assess it again when not given it."""
    from school_improvement.decisions.categorise import categorise
    from school_improvement.decisions.letters import flag_letters
    from school_improvement.evidence.assess import assess

    history = history or {}
    evidence = assess(data, rules, history)
    cat = categorise(data, rules, history, evidence)
    return cat, flag_letters(data, rules, cat.table, history, as_of, evidence)
