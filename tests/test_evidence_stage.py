"""The evidence stage (evidence/assess.py): every school's checks, findings and figures, once per term, as an artefact.

Categorise, the letters and the report read the artefact: what they read back must be what asking the evidence
directly gives, in both wordings, and a cleared stage must leave nothing of an earlier attempt.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from factories import absence, flag, gias, judgement, ks2, letter, ofsted, term_data
from school_improvement import artefacts
from school_improvement.decisions.categorise import categorise
from school_improvement.decisions.letters import flag_letters
from school_improvement.evidence.assess import (ACADEMY_CONCERN, CHECK_COLUMNS, CRITERION, FIGURE_COLUMNS,
                                                FINDING_COLUMNS, MEASURE_COLUMNS, SCHOOL_COLUMNS, SchoolEvidence,
                                                assess, letter_question, named_indicators, read_evidence,
                                                school_measures, write_evidence)
from school_improvement.rules import load_rule_set

RULES = load_rule_set("cambs-2021-23")
URN, OTHER, ACADEMY = 990301, 990302, 990303
AS_OF = date(2025, 10, 6)
HISTORY = {URN: {"previous_category": "medium",
                 "prior": {"ofsted_band": ("good", ""), "head": ("Bea Before", "2024-25-summer")}}}


def _data(schools=(URN, OTHER, ACADEMY)):
    rows = [gias(u) for u in schools if u != ACADEMY]
    if ACADEMY in schools:
        rows.append(gias(ACADEMY, is_academy=True, is_la_maintained=False, type_group="Academies",
                         type="Academy converter", trust="Fenland Learning Trust"))
    return term_data(
        gias=rows,
        ks2=[ks2(URN, rwm_exp=40.0, rwm_exp_prev1=42.0), ks2(OTHER), ks2(ACADEMY, cohort=4)],
        absence=[absence(URN, overall_absence=9.0), absence(OTHER)],
        ofsted=[ofsted(URN, oeif_overall=4), ofsted(ACADEMY, oeif_overall=4)],
        adviser_judgements=[judgement(URN, "LM-H2", note="Head on long-term leave; governors divided"),
                            judgement(URN, "QE-H5", met=False), judgement(OTHER, "LM-L1")],
        la_intelligence=[flag(URN, "safeguarding", detail="Referral made to the LADO")],
        letters_log=[letter(URN, "significant_concerns_letter", date(2025, 5, 1), "LM-H2")])


def test_the_artefact_has_its_schema_and_counts(tmp_path):
    ev = assess(_data(), RULES, HISTORY)
    counts = write_evidence(tmp_path / "evidence", ev, HISTORY)
    tables = {n: artefacts.read_table(tmp_path / "evidence" / f"{n}.parquet")
              for n in ("schools", "checks", "findings", "measures", "figures")}
    assert list(tables["schools"].columns) == SCHOOL_COLUMNS
    assert list(tables["checks"].columns) == CHECK_COLUMNS
    assert list(tables["findings"].columns) == FINDING_COLUMNS
    assert list(tables["measures"].columns) == MEASURE_COLUMNS
    assert list(tables["figures"].columns)[:len(FIGURE_COLUMNS) + 1] == ["urn", *FIGURE_COLUMNS]
    facts = artefacts.read_json(tmp_path / "evidence" / "evidence.json")
    assert facts == {"format": artefacts.FORMAT, **counts}
    assert (facts["schools"], facts["maintained"], facts["academies"]) == (3, 2, 1)
    assert facts["checks"] == len(tables["checks"]) == facts["met"] + facts["not_met"] + facts["not_judged"]
    assert facts["met"] and facts["not_met"] and facts["not_judged"]
    checks = tables["checks"]
    # Maintained schools answer every criterion in force and the letters; the academy its concerns only.
    in_force = RULES.criteria_in_force(_data().term.reference_date)
    mine = checks[checks["urn"] == URN]
    assert len(mine[mine["question"] == CRITERION]) == sum(len(c.evidence) for c in in_force)
    assert set(checks.loc[checks["urn"] == ACADEMY, "question"]) == {ACADEMY_CONCERN}
    assert {letter_question(n) for n in RULES.letters} <= set(mine["question"])
    assert set(tables["findings"]["indicator"]) == set(named_indicators(RULES))
    assert set(tables["figures"]["urn"]) == {URN, OTHER}  # the report's figures: maintained schools
    # Both wordings: confidential evidence is named by kind only in the general one.
    note = mine[(mine["criterion_id"] == "LM-H2") & mine["measure"].str.startswith("adviser")].iloc[0]
    assert bool(note["confidential"]) and "long-term leave" in note["detail"]
    assert note["value_general"] == "adviser: LM-H2 (detail restricted)" and "LM-H2" in note["value"]
    assert artefacts.read_json(tmp_path / "evidence" / "previous.json") == HISTORY


def test_one_schools_checks_read_back_equal_asking_the_evidence_directly(tmp_path):
    data = _data()
    write_evidence(tmp_path / "evidence", assess(data, RULES, HISTORY), HISTORY)
    ev, previous = read_evidence(tmp_path / "evidence")
    assert previous == HISTORY and ev.rule_set == RULES.id and ev.term == str(data.term)
    school = ev.school(URN)
    direct = SchoolEvidence(URN, term_data_again := _data(), RULES, HISTORY[URN]["prior"])
    in_force = RULES.criteria_in_force(term_data_again.term.reference_date)
    assert [c.id for c in school.criteria] == [c.id for c in in_force]
    for read, c in zip(school.criteria, in_force):
        expected = [direct.check(e) for e in c.evidence]
        assert read.checks == expected, c.id
        assert (read.area, read.level, read.wording) == (c.area, c.level, c.wording)
        assert all(type(x.met) in (bool, type(None)) and type(x.confidential) is bool for x in read.checks)
        assert [x.general_value for x in read.checks] == [x.general_value for x in expected]
    for name, rule in RULES.letters.items():
        for ind in rule.indicators:
            assert school.answers(letter_question(name), ind.id) == [direct.check(e) for e in ind.evidence]
    for name in named_indicators(RULES):
        f, g = school.finding(name), direct.indicators.get(name)
        assert (f.met, f.value, f.reason, f.source) == (g.met, g.value, g.reason, g.source), name
    assert school.results_summary == direct.indicators.results_summary()
    assert school.good_or_better is direct.indicators.latest_judgement_good_or_better()
    assert school.measures == school_measures(direct, {})
    assert school.flags == {"safeguarding"} and school.adviser == "A. Adviser"
    assert [m for m in ev.school(ACADEMY).answers(ACADEMY_CONCERN, RULES.academy_concerns.indicators[0].id)]


def test_decisions_read_from_the_artefact_equal_deciding_in_process(tmp_path):
    data = _data()
    write_evidence(tmp_path / "evidence", assess(data, RULES, HISTORY), HISTORY)
    ev, previous = read_evidence(tmp_path / "evidence")
    fresh = _data()
    read_back, in_process = categorise(data, RULES, previous, ev), categorise(fresh, RULES, HISTORY)
    pd.testing.assert_frame_equal(read_back.table, in_process.table)
    pd.testing.assert_frame_equal(read_back.evidence, in_process.evidence)
    assert read_back.measures == in_process.measures
    a = flag_letters(data, RULES, read_back.table, previous, AS_OF, ev)
    b = flag_letters(fresh, RULES, in_process.table, HISTORY, AS_OF)
    for name in ("letters", "academy_concerns", "member_alerts"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.drafts == b.drafts and len(a.letters)


def test_a_cleared_stage_replaces_its_folder_whole(tmp_path):
    folder = tmp_path / "evidence"
    write_evidence(folder, assess(_data(), RULES, HISTORY), HISTORY)
    (folder / "left_by_an_earlier_attempt.parquet").write_bytes(b"stale")
    (folder / "evidence.json.tmp").write_bytes(b"half")
    counts = write_evidence(folder, assess(_data(schools=(OTHER,)), RULES, {}), {})
    assert sorted(p.name for p in folder.iterdir()) == [
        "checks.parquet", "evidence.json", "figures.parquet", "findings.parquet", "measures.parquet",
        "previous.json", "problems.json", "schools.parquet"]
    ev, previous = read_evidence(folder)
    assert previous == {} and counts["schools"] == 1
    assert set(ev.checks["urn"]) == set(ev.schools["urn"]) == {OTHER}


@pytest.mark.slow  # a demo term through the stages
def test_the_stages_after_it_read_the_evidence_and_never_ask_again(demo_landing, tmp_path, monkeypatch):
    from school_improvement import pipeline
    from school_improvement.evidence.indicators import SchoolIndicators

    root, _ = demo_landing(["2025-26-autumn"])
    cfg = pipeline.RunConfig(la_code="999", term="2025-26-autumn", landing=str(root), work_dir=str(tmp_path / "w"),
                             history_url=f"sqlite:///{tmp_path / 'h.sqlite'}", run_id="r1")
    pipeline.extract(cfg)
    pipeline.validate(cfg)
    counts = pipeline.assess_evidence(cfg)
    assert counts["maintained"] == 200 and counts["academies"] == 50
    assert artefacts.read_json(cfg.run_dir / "evidence" / "evidence.json") == {"format": artefacts.FORMAT, **counts}

    def asked(*_a, **_k):
        raise AssertionError("evidence asked again after the evidence stage")

    monkeypatch.setattr(SchoolEvidence, "check", asked)
    monkeypatch.setattr(SchoolIndicators, "get", asked)
    monkeypatch.setattr(SchoolIndicators, "_attainment", asked)
    pipeline.categorise(cfg)
    pipeline.flag_letters(cfg)
    inputs = pipeline.report_inputs(cfg)
    assert len(inputs.categorisation) == len(inputs.indicators) == 200
    assert inputs.indicators["urn"].tolist() == inputs.categorisation["urn"].tolist()


def test_data_checks_say_what_their_figure_was_compared_with():
    """evidence.csv's comparator column: the national figure each data check was judged against, never blank when
    the check was judged from results, absence or the gap."""
    ev = assess(_data(), RULES, HISTORY)
    checks = ev.checks
    judged = checks[checks["measure"].str.startswith("data: attainment") & checks["met"].notna()
                    & checks["urn"].eq(URN)]
    assert len(judged) and judged["comparator"].str.startswith("national").all(), judged["comparator"].tolist()
    assert judged["comparator"].str.contains("%").all()
    absence_checks = checks[checks["measure"].str.startswith("data: attendance") & checks["urn"].eq(URN)]
    assert len(absence_checks) and absence_checks["comparator"].str.startswith("national overall absence").all()
    others = checks[~checks["measure"].str.startswith("data")]
    assert (others["comparator"].fillna("") == "").all()  # adviser and LA intelligence evidence: no national figure


def test_a_file_not_supplied_is_not_judged_rather_than_read_as_nothing_raised():
    """No LA intelligence file, no letters log: their checks are not judged (said why), not "no flag raised" or "no
    such letter" for every school, as if the LA had looked and found nothing (real Surrey has neither file)."""
    without = term_data(gias=[gias(URN), gias(OTHER)], ks2=[ks2(URN), ks2(OTHER)], absence=[absence(URN)])
    checks = assess(without, RULES, HISTORY).checks
    for kind, reason in (("LA intelligence", "no LA intelligence file was supplied"),
                         ("letters log", "no letters log was supplied")):
        rows = checks[checks["measure"].str.startswith(kind)]
        assert len(rows) and rows["met"].isna().all(), kind
        assert rows["reason"].str.contains(reason).all(), rows["reason"].unique()
    # Supplied and empty for the school: judged, nothing raised.
    supplied = assess(_data(), RULES, HISTORY).checks
    other = supplied[supplied["measure"].str.startswith("LA intelligence") & supplied["urn"].eq(OTHER)]
    assert len(other) and other["met"].eq(False).all()
