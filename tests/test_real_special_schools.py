"""Special schools in a real LA's downloads: their results are shown, never judged against national.

Surrey's real KS2 files carry its special schools (RECTYPE 2) with 0% or SUPP at the expected standard, year after
year. The real GIAS rows in ../shared/dfe are an extract of one phase, without them, so the test adds a GIAS row
for each (as a whole-LA extract would list it, "Community special school") in a temporary landing folder built
from the real files (tests/real_la.py). Read against the national average, every such school with a cohort big
enough to judge would be "consistently below national" at high support with a Significant Concerns letter.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from real_la import GIAS, LA, build_landing
from school_improvement import pipeline
from school_improvement.rules import load_rule_set

TERM = "2021-22-autumn"
KS2 = "936_ks2_2018-19.csv"


def _special_rows(shared_dfe: Path) -> pd.DataFrame:
    """The KS2 rows of the LA's special schools (RECTYPE 2) in the real 2018-19 file."""
    ks2 = pd.read_csv(shared_dfe / "samples" / KS2, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    return ks2[ks2["RECTYPE"].eq("2") & ks2["URN"].str.isdigit()]


def _with_special_schools(folder: Path, specials: pd.DataFrame) -> None:
    """The GIAS extract with an open community special school row for each special school of the KS2 file."""
    path = folder / GIAS
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("cp1252"))))
    h = {c: i for i, c in enumerate(rows[0])}
    model = next(r for r in rows[1:] if r[h["LA (code)"]] == LA and r[h["EstablishmentStatus (name)"]] == "Open"
                 and r[h["EstablishmentTypeGroup (name)"]] == "Local authority maintained schools")
    known = {r[h["URN"]] for r in rows[1:]}
    for s in specials.to_dict("records"):
        if s["URN"] in known:
            continue
        r = list(model)
        r[h["URN"]], r[h["EstablishmentName"]] = s["URN"], s["SCHNAME"]
        r[h["TypeOfEstablishment (name)"]] = "Community special school"
        r[h["EstablishmentTypeGroup (name)"]] = "Special schools"
        r[h["PhaseOfEducation (name)"]] = "Not applicable"
        r[h["OpenDate"]], r[h["CloseDate"]] = "", ""
        rows.append(r)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode("cp1252"))


@pytest.mark.slow  # a real Surrey term through the stages (GX validation of every feed)
def test_special_schools_results_are_shown_and_never_judged_against_national(shared_dfe, tmp_path):
    rules = load_rule_set("cambs-2021-23")
    small = rules.threshold("small_cohort")
    specials = _special_rows(shared_dfe)
    # The case the test is about is in the real file: special schools big enough to judge, far below national.
    judgeable = specials[pd.to_numeric(specials["TELIG"], errors="coerce").ge(small)
                         & specials["PTRWM_EXP"].eq("0%")]
    assert len(judgeable) >= 3
    landing = build_landing(shared_dfe, tmp_path / "landing")
    _with_special_schools(landing, specials)
    cfg = pipeline.RunConfig(la_code=LA, term=TERM, landing=str(landing), work_dir=str(tmp_path / "work"),
                             history_url=f"sqlite:///{tmp_path / 'history.sqlite'}", run_id="r1")
    for stage in ("extract", "validate", "assess_evidence", "categorise", "flag_letters"):
        getattr(pipeline, stage)(cfg)
    inputs = pipeline.report_inputs(cfg)
    cat = inputs.categorisation.assign(urn=lambda d: d["urn"].astype(int))
    urns = {int(u) for u in judgeable["URN"]}
    mine = cat[cat["urn"].isin(urns)]
    assert len(mine) == len(urns)  # categorised: they are LA-maintained schools
    # No attainment, trend or gap check is judged for them: the rule set's reason is given instead.
    ev = inputs.evidence.assign(urn=lambda d: d["urn"].astype(int))
    data = ev[ev["urn"].isin(urns) & ev["measure"].astype(str).str.contains("attainment")]
    assert len(data) and not data["met"].astype(str).eq("True").any()
    assert data["reason"].astype(str).str.contains(rules.results_not_compared.reason, regex=False).all()
    assert not mine["category"].eq(rules.top_level).any()
    assert not mine["criteria_met"].astype(str).str.contains("QE-").any()
    letters = inputs.letters.assign(urn=lambda d: d["urn"].astype(int))
    assert not letters["urn"].isin(urns).any()
    assert not inputs.member_alerts["urn"].astype(int).isin(urns).any()
    # Their figures are still shown, with why they are not judged.
    for reasons in mine["reasons"]:
        assert "KS2 reading, writing and maths at expected standard 0.0%" in reasons
        assert rules.results_not_compared.reason in reasons
    # Mainstream schools are judged as before: some still meet an attainment check.
    assert ev[~ev["urn"].isin(urns) & ev["measure"].astype(str).str.contains("attainment")]["met"].astype(str).eq("True").any()
