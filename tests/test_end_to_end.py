"""The real DAG, run by Airflow on generated demo feeds for two terms: the first in-process with `dag.test()`, the
second through `run-dag` (`airflow dags test`, as `make run` does), and the second again in-process, with the same
inputs, to show that a re-run changes nothing.

Asserts what a manager and an operator would check: the editions are published with a manifest, the counts
per level equal what the rules give for the generated data, the PDF has its sections and figures, direction
of travel compares with last term, the demo exercises every letter type, and the general edition keeps the
confidential detail out.

The demo is the 40-school one of tests/small_demo.py (every scenario and letter type is still in it): the DAG's
wiring, publication and the editions' content are under test, not the county's size (test_real_la runs the whole
real Surrey download through the DAG).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from small_demo import SCHOOLS, small_demo

REPO = Path(__file__).resolve().parents[1]
TERMS = ["2025-26-autumn", "2025-26-spring"]
LETTERS = {"congratulations", "significant_concerns_letter", "warning_notice", "significant_concerns"}
pytestmark = pytest.mark.slow  # two terms through `airflow dags test`


@pytest.fixture(scope="module")
def published(tmp_path_factory, airflow_db):
    root = tmp_path_factory.mktemp("e2e")
    env = {**os.environ, "SI_WORK_DIR": str(root / "work"), "PYTHONPATH": f"{REPO / 'include'}:{REPO / 'plugins'}"}
    airflow_db()  # this session's Airflow database, migrated once (tests/conftest.py)
    subprocess.run([sys.executable, "-m", "demo_feeds", "--out", str(root / "landing"), "--schools", str(SCHOOLS),
                    "--terms", *TERMS], env=env, check=True, capture_output=True)
    (root / "drive").mkdir()
    (root / "drive" / ".school-improvement-share").write_text("")  # the LA marks the real share once
    # The first term in this process with dag.test() (no scheduler is under test here: it saves an Airflow start).
    run, dag_id = _in_process(root, TERMS[0])
    assert run.state == "success", run
    # The second through `run-dag`, the airflow CLI next to this interpreter, as `make run` does.
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    for term in TERMS[1:]:
        done = subprocess.run([sys.executable, "-m", "school_improvement", "run-dag", "--term", term,
                               "--dag-id", dag_id, "--landing", str(root / "landing"),
                               "--shared-drive", str(root / "drive")], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
        assert "is current" in done.stdout
    return root


def _in_process(root: Path, term: str):
    """The demo LA's DAG run for `term` by dag.test() in this process; returns the run and the DAG's id. The LA's
    folders come from las.yaml's ${SI_LANDING} and ${SI_SHARED_DRIVE}, as run-dag sets them."""
    from airflow.dag_processing.dagbag import DagBag

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SI_WORK_DIR", str(root / "work"))
        mp.setenv("SI_LANDING", str(root / "landing"))
        mp.setenv("SI_SHARED_DRIVE", str(root / "drive"))
        bag = DagBag(dag_folder=str(REPO / "dags"))
        dag = next(d for d in bag.dags.values() if d.dag_id.startswith("termly_") and "999" in d.tags)  # the demo LA's
        return dag.test(run_conf={"term": term}), dag.dag_id


def edition(root: Path, term: str) -> Path:
    year, season = term.rsplit("-", 1)
    folder = root / "drive" / "999" / year / season
    current = json.loads((folder / "current.json").read_text())
    return folder / current["edition"]


def csv(root: Path, term: str, name: str, ed: str = "restricted") -> pd.DataFrame:
    path = edition(root, term) / ed / name
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"urn": int}, keep_default_na=False)


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_manifest_lists_every_file_with_its_sha256(published):
    ed = edition(published, TERMS[-1])
    manifest = json.loads((ed / "manifest.json").read_text())
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    on_disk = {str(p.relative_to(ed)) for p in ed.rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert set(listed) == on_disk
    for rel, sha in listed.items():
        assert hashlib.sha256((ed / rel).read_bytes()).hexdigest() == sha
    assert {"general/report.pdf", "restricted/report.pdf", "general/categorisation.csv"} <= set(listed)


def test_counts_per_level_equal_what_the_rules_give(published, tmp_path):
    from school_improvement import history
    from school_improvement.decisions.categorise import categorise
    from school_improvement.ingest.feeds import read_landing
    from school_improvement.rules import rule_set_for
    from school_improvement.ingest.termdata import TermData
    from school_improvement.terms import Term

    term = Term.parse(TERMS[-1])
    data = TermData("999", term, read_landing(published / "landing" / "999" / str(term)))
    eng = history.engine_for(f"sqlite:///{published / 'work' / 'history.sqlite'}")
    expected = categorise(data, rule_set_for(term.reference_date), history.previous(eng, "999", term)).table
    got = csv(published, str(term), "categorisation.csv")
    assert got["category"].value_counts().to_dict() == expected["category"].value_counts().to_dict()
    maintained = small_demo(tmp_path, terms=TERMS)["maintained"]  # the generator's own count for the same demo
    assert len(got) == maintained  # every maintained school of the demo LA, special schools included
    assert set(got["rule_set"]) == {"cambs-2025-report-cards"}
    assert set(csv(published, TERMS[0], "categorisation.csv")["rule_set"]) == {"cambs-2021-23"}


def test_direction_of_travel_compares_with_last_term(published):
    spring = csv(published, TERMS[-1], "categorisation.csv").set_index("urn")
    autumn = csv(published, TERMS[0], "categorisation.csv").set_index("urn")
    assert (spring["previous_category"] == autumn.loc[spring.index, "category"]).all()
    assert {"improving", "declining", "stable"} <= set(spring["direction_of_travel"])
    scenarios = json.loads((published / "landing" / "999" / "demo_scenarios.json").read_text())
    assert spring.loc[scenarios["improving"], "direction_of_travel"] == "improving"
    assert spring.loc[scenarios["declining"], "direction_of_travel"] == "declining"


def test_the_strategys_scenarios_come_out_as_it_says(published):
    scenarios = json.loads((published / "landing" / "999" / "demo_scenarios.json").read_text())
    cat = csv(published, TERMS[-1], "categorisation.csv").set_index("urn")
    for name in ("safeguarding_not_met", "special_measures", "serious_weaknesses"):
        assert cat.loc[scenarios[name], "category"] == "high", name
    assert cat.loc[scenarios["safeguarding_not_met"], "overriding_condition"] == "OV-SAFEGUARDING"
    mod = cat.loc[scenarios["moderation_override"]]
    assert mod["computed_category"] != mod["category"] and mod["override_reason"]
    flagged = set()
    for term in TERMS:
        letters = csv(published, term, "letters.csv")
        flagged |= set(letters["letter"])
        drafts = edition(published, term) / "restricted" / "drafts"
        assert {p.name for p in drafts.glob("*.pdf")} >= {f"{r.urn}-{r.letter}.pdf" for r in letters.itertuples()}
    assert flagged >= LETTERS  # the demo exercises every letter type
    acad = csv(published, TERMS[-1], "academy_concerns.csv").set_index("urn")
    assert acad.loc[scenarios["academy_escalation"], "next_step"] == "academy_escalation"
    assert "Whistleblowing concerns raised with the LA are redirected" in " ".join(
        pdf_text(edition(published, TERMS[-1]) / "general" / "report.pdf").split())
    assert len(csv(published, TERMS[-1], "member_alerts.csv")) > 0


def test_pdf_has_the_sections_and_figures_of_the_csvs(published):
    ed = edition(published, TERMS[-1])
    text = pdf_text(ed / "general" / "report.pdf")
    for section in ("Contents", "What you must know about the data", "Schools that changed level",
                    "Movement since last term", "Priority 3: the widest disadvantaged gaps", "Schools at each level of support",
                    "Appendix A: data quality", "Appendix B: provenance", "cambs-2025-report-cards"):
        assert section in text, section
    cat = csv(published, TERMS[-1], "categorisation.csv", "general")
    counts = cat["category"].value_counts()
    lines = [" ".join(ln.split()) for ln in text.splitlines()]
    for level, label in (("low", "Low"), ("medium", "Medium"), ("high", "High")):
        pct = round(100 * counts[level] / len(cat))
        assert any(ln.startswith(f"{label}") and f"{counts[level]} {pct}%" in ln for ln in lines), level
    assert f"{len(cat)} LA-maintained schools categorised for {TERMS[-1]}" in " ".join(lines)
    restricted = pdf_text(ed / "restricted" / "report.pdf")
    assert "School profiles" in restricted and "School profiles" in text  # the general one without confidential detail
    # The demo's GIAS extract is named as GIAS names it, with its day: the front page says which day's list of
    # schools the term rests on, not that its year is unknown.
    front = " ".join(text.split("\f")[0].split())
    assert "The GIAS extract is dated 25 January 2026, 20 days after 2025-26-spring began" in front, front
    assert "GIAS file is unknown" not in " ".join(text.split())
    # The demo's files are as a real LA's for a run on the scheduled date (the edition's date): the front page opens
    # as a normal term's does, with no evidence dated after the edition and an Ofsted MI whose year is known.
    assert "uses evidence dated after it" not in front and "Ofsted file is unknown" not in front, front
    notes = front.split("What you must know about the data", 1)[1]
    assert notes.split("•")[1].strip().startswith("The GIAS extract is dated"), front


def test_general_edition_keeps_confidential_detail_out(published):
    ed = edition(published, TERMS[-1])
    assert not (ed / "general" / "drafts").exists() and (ed / "restricted" / "drafts").is_dir()
    landing = published / "landing" / "999" / TERMS[-1]
    secrets = set(pd.read_csv(landing / "la_intelligence.csv", dtype=str)["detail"].dropna())
    secrets |= set(pd.read_csv(landing / "laig_notes.csv", dtype=str)["key_points"].dropna())
    secrets = {s for s in secrets if len(s) > 12}
    assert secrets
    general = pdf_text(ed / "general" / "report.pdf") + "".join(
        p.read_text(encoding="utf-8-sig") for p in (ed / "general").glob("*.csv"))
    general = " ".join(general.split())
    leaked = [s for s in secrets if " ".join(s.split()) in general]
    assert not leaked
    restricted = " ".join(((ed / "restricted" / "evidence.csv").read_text(encoding="utf-8-sig") +
                           pdf_text(ed / "restricted" / "report.pdf")).split())
    maintained = set(csv(published, TERMS[-1], "categorisation.csv")["urn"])
    intel = pd.read_csv(landing / "la_intelligence.csv", dtype={"urn": int})
    laig = pd.read_csv(landing / "laig_notes.csv", dtype={"urn": int})
    kept = set(intel[intel["urn"].isin(maintained)]["detail"].dropna()) | set(
        laig[laig["urn"].isin(maintained)]["key_points"].dropna())
    # The restricted edition holds everything about its schools: every detail is in a profile.
    assert kept and all(" ".join(s.split()) in restricted for s in kept)


def test_rerunning_a_term_with_identical_inputs_changes_nothing(published):
    before = {p: p.read_bytes() for p in (published / "drive").rglob("*.csv")}
    run, _ = _in_process(published, TERMS[-1])  # in this process: run-dag's own path is the fixture's second term
    assert run.state == "success", run
    after = {p: p.read_bytes() for p in (published / "drive").rglob("*.csv")}
    assert after == before  # no new edition, byte-identical CSVs
    assert edition(published, TERMS[-1]).name == "edition-001"


def test_a_draft_letter_names_the_school_its_concerns_and_the_actions(published):
    ed = edition(published, TERMS[-1])
    letters = csv(published, TERMS[-1], "letters.csv")
    row = letters[letters["letter"] == "warning_notice"].iloc[0]
    text = " ".join(pdf_text(ed / "restricted" / "drafts" / f"{row['urn']}-warning_notice.pdf").split())
    assert "DRAFT" in text and row["school_name"] in text and "Warning Notice" in text
    assert "Headteacher" in text and "Chair of Governors" in text
    from school_improvement.rules import load_rule_set

    rules = load_rule_set(row["rule_set"] if "rule_set" in row else "cambs-2025-report-cards")
    wording = {i.id: i.wording for i in rules.letters["warning_notice"].indicators}
    for ind in filter(None, str(row["indicators"]).split("; ")):
        assert " ".join(wording[ind].split())[:50] in text, ind
    for action in rules.letter_actions["warning_notice"]:
        assert action.action[:40] in text
