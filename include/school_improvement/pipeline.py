"""The termly run, stage by stage, as plain functions that the DAG's tasks call.

Each stage reads the previous stage's output from the run's work folder and writes its own, replacing
what a cleared-and-retried attempt left, so every task is idempotent and can be re-run from the UI.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from . import DEMO_LA_CODE, DEMO_LA_NAME, artefacts
from .collector import STAGE_GC_THRESHOLDS, few_full_collections
from .terms import Term, TermCalendar, TermWindow

FEED_SUFFIXES = {".csv", ".xlsx", ".xlsm"}  # ingest.feeds reads these; other spreadsheets stop the run (NOT_READ)


# The stages of a term, in order: the DAGs' task chain (plugins/termly_tasks.py) and the in-process runners.
STAGES = ("extract", "validate", "assess_evidence", "categorise", "flag_letters", "build_reports", "publish")

@dataclass
class RunConfig:
    la_code: str
    term: str
    landing: str
    work_dir: str
    # A secret (it may hold a password): never in repr() or to_dict(), so never in a log or XCom. Blank: the
    # SI_HISTORY_URL environment variable, else <work_dir>/history.sqlite.
    history_url: str = field(default="", repr=False)
    run_id: str = "manual"
    la_name: str = ""
    as_of: str = ""  # ISO date the flags are dated; defaults to the term's scheduled run date

    def __post_init__(self):
        # Each of these becomes part of a path: refuse anything that could climb out of the work folder.
        if not re.fullmatch(r"[0-9]{3}", str(self.la_code)):
            raise ValueError(f"la_code must be a three-digit DfE LA code (e.g. 873), not {self.la_code!r}")
        if str(Term.parse(self.term)) != self.term:
            raise ValueError(f"term must be written as YYYY-YY-season, e.g. 2025-26-autumn, not {self.term!r}")
        if self.as_of and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", self.as_of):
            raise ValueError(f"as_of must be a date written YYYY-MM-DD, not {self.as_of!r}")
        if self.as_of:
            try:  # the pattern passes 2022-02-30: say which value is no date, not Python's bare "day is out of range"
                date.fromisoformat(self.as_of)
            except ValueError as err:
                raise ValueError(f"as_of {self.as_of!r} is not a date of the calendar ({err})") from None
        if self.as_of and date.fromisoformat(self.as_of) < self.term_obj.dates()[0]:
            # The edition prints its as_of as the day its evidence was known by: one dated before the term began
            # would carry the term's name on nothing the term knew (and the rule set sets aside rows after it).
            start = self.term_obj.dates()[0]
            raise ValueError(f"as_of {self.as_of} is before {self.term} began ({start.day} {start:%B %Y}): an "
                             "edition of a term cannot be dated before it; leave as_of blank for the term's "
                             "scheduled run date")
        if self.as_of and date.fromisoformat(self.as_of) > self.term_obj.dates()[1]:
            # The term's evidence ends with it (rows dated after it are set aside, the letters log and moderation
            # go by their term column): an edition dated later would print a day its evidence does not reach, and
            # date its letters and flags after the term they are for.
            end = self.term_obj.dates()[1]
            raise ValueError(f"as_of {self.as_of} is after {self.term} ended ({end.day} {end:%B %Y}): an edition "
                             "of a term shows its evidence only up to the term's end, so it cannot be dated later; "
                             "leave as_of blank for the term's scheduled run date, give a date within the term, or "
                             "run the term that date falls in")
        if not self.history_url:
            self.history_url = os.environ.get("SI_HISTORY_URL") or f"sqlite:///{Path(self.work_dir) / 'history.sqlite'}"

    @property
    def term_obj(self) -> Term:
        return Term.parse(self.term)

    @property
    def run_dir(self) -> Path:
        safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in self.run_id)
        safe = "run_" + safe if safe.strip(".") == "" else safe  # "." or ".." would climb out of the term folder
        return Path(self.work_dir) / self.la_code / self.term / safe

    def as_of_date(self) -> date:
        if self.as_of:
            return date.fromisoformat(self.as_of)
        t = self.term_obj
        cal = TermCalendar.load()
        # A term not in the calendar (warned on the front page) runs as a listed one does, the calendar's number of
        # school days after its nominal start, counting weekdays only: not on its first day.
        return cal.run_date(t) or TermWindow(t, *t.nominal_dates(), ()).nth_school_day(cal.run_after_school_days)

    def name_of_la(self) -> str:
        return self.la_name or (DEMO_LA_NAME if self.la_code == DEMO_LA_CODE else f"LA {self.la_code}")

    def to_dict(self) -> dict:
        """The settings a task may pass on (no secrets): the history URL is read again where it is needed."""
        out = asdict(self)
        del out["history_url"]
        return out


def landing_folder(cfg: RunConfig) -> Path:
    """The term's feeds: `<landing>/<la>/<term>/` when that exists, else `<landing>` itself."""
    root = Path(cfg.landing)
    nested = root / cfg.la_code / cfg.term
    folder = nested if nested.is_dir() else root
    if not folder.is_dir():
        raise FileNotFoundError(f"landing folder {folder} does not exist (looked for {nested} and {root})")
    return folder


# Stage artefacts (Parquet tables, JSON facts; see artefacts.py), one folder per stage under the run folder.
def _artefact_dir(cfg: RunConfig, stage: str):
    return artefacts.location(cfg.run_dir) / stage


def _save_feeds(cfg: RunConfig, feeds: list, read_problems: list) -> dict:
    return artefacts.write_feeds(_artefact_dir(cfg, "feeds"), feeds, read_problems)


def _load_feeds(cfg: RunConfig) -> dict:
    feeds, read_problems = artefacts.read_feeds(_artefact_dir(cfg, "feeds"))
    return {"feeds": feeds, "read_problems": read_problems}


def _load_evidence(cfg: RunConfig):
    """The evidence stage's artefact: (TermEvidence, the history it was assessed against)."""
    from .evidence.assess import read_evidence

    return read_evidence(_artefact_dir(cfg, "evidence"))


def _save_categorisation(cfg: RunConfig, table: pd.DataFrame, evidence: pd.DataFrame, rule_set: str,
                         problems: list = ()) -> None:
    folder = _artefact_dir(cfg, "categorisation")
    artefacts.remove_tree(folder)
    artefacts.write_table(folder / "categorisation.parquet", table)
    artefacts.write_table(folder / "evidence.parquet", evidence)
    artefacts.write_json(folder / "problems.json", artefacts.problems_to_json(list(problems)))  # e.g. unused judgements
    artefacts.write_json(folder / "categorisation.json", {"rule_set": rule_set, "schools": len(table)})


def _load_categorisation(cfg: RunConfig) -> dict:
    folder = _artefact_dir(cfg, "categorisation")
    facts = artefacts.read_json(folder / "categorisation.json")
    return {"table": artefacts.read_table(folder / "categorisation.parquet"),
            "evidence": artefacts.read_table(folder / "evidence.parquet"), "rule_set": facts["rule_set"],
            "problems": artefacts.problems_from_json(artefacts.read_json(folder / "problems.json"))}


LETTERS_TABLES = ("letters", "academy_concerns", "member_alerts", "evidence")  # evidence: the letters' checks


def _save_letters(cfg: RunConfig, out) -> None:
    folder = _artefact_dir(cfg, "letters")
    artefacts.remove_tree(folder)
    for name in LETTERS_TABLES:
        artefacts.write_table(folder / f"{name}.parquet", getattr(out, name))
    artefacts.write_json(folder / "drafts.json", out.drafts)
    artefacts.write_json(folder / "problems.json", artefacts.problems_to_json(list(out.problems)))
    artefacts.write_json(folder / "letters.json", {name: len(getattr(out, name)) for name in LETTERS_TABLES})


def _load_letters(cfg: RunConfig):
    from .decisions.letters import Letters

    folder = _artefact_dir(cfg, "letters")
    artefacts.read_json(folder / "letters.json")  # written last: the stage finished
    problems = folder / "problems.json"  # absent from a letters stage of an older release: none
    return Letters(**{name: artefacts.read_table(folder / f"{name}.parquet") for name in LETTERS_TABLES},
                   drafts=artefacts.read_json(folder / "drafts.json"),
                   problems=artefacts.problems_from_json(artefacts.read_json(problems)) if problems.exists() else [])


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------ stages
# The stages that build the evidence, the categories and the letters run with few full collections (collector.py):
# each keeps building long-lived Python objects (checks, findings, their index), and the collector's full passes over
# all of them grew faster than the schools (categorise at 4,000 schools: 8 full passes, 1.5 s of its 11 s of CPU,
# against 4 passes, 0.4 s, at 1,000; flag_letters 1, 2 and 5 full passes at 250, 1,000 and 4,000 schools, 0.03, 0.09
# and 0.34 s). extract is not among them: it paid 1 or 2 full passes, 0.03-0.1 s, at every size from 250 to 4,000.
with_few_full_collections = few_full_collections(STAGE_GC_THRESHOLDS)


def extract(cfg: RunConfig, archive_dir: str | None = None) -> dict:
    """Archive the raw feeds unchanged with their SHA-256, then read them."""
    folder = landing_folder(cfg)
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in FEED_SUFFIXES and not p.name.startswith((".", "~$")))
    if not files:
        raise FileNotFoundError(f"no .csv or .xlsx feed files in {folder}")
    raw = cfg.run_dir / "raw"
    if raw.exists():
        shutil.rmtree(raw)
    raw.mkdir(parents=True)
    manifest = []
    for p in files:
        shutil.copy2(p, raw / p.name)
        manifest.append({"file": p.name, "sha256": sha256_file(raw / p.name), "bytes": (raw / p.name).stat().st_size})
    (raw / "raw_manifest.json").write_text(json.dumps(manifest, indent=2))
    if archive_dir:  # a durable copy, per LA/term/run, so a term's inputs can be traced and the run reproduced
        dest = Path(archive_dir) / cfg.la_code / cfg.term / cfg.run_dir.name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(raw, dest)
    from .errors import Problem, RulesError
    from .ingest.termdata import read_files, scope_urns
    from .rules import rule_set_for
    try:  # the LA's own levels, for a moderation decision naming none
        own = rule_set_for(cfg.term_obj.reference_date, la_code=cfg.la_code)
        levels = (own.id, tuple(own.levels))
    except RulesError:
        levels = None  # the evidence stage names the missing rule set
    feeds, problems = read_files([raw / p.name for p in files], cfg.la_code, levels)
    from .ingest.feeds import folders_not_read, open_in_excel, spreadsheets_not_read  # said, never passed over
    problems = problems + open_in_excel(folder) + spreadsheets_not_read(folder) + folders_not_read(folder)
    from .ingest.sources import merge_fetched  # copies fetched from the public sources; a landing file wins
    feeds, problems = merge_fetched(cfg, raw, feeds, problems, archive_dir)
    unreadable = len({p.file for p in problems})
    # Files and rows from after the term (results not yet known when it began) are set aside, and said.
    from .quality.data_age import known_at_term
    from .rules import rule_set_for
    later = []
    try:
        rule_set = rule_set_for(cfg.term_obj.reference_date, la_code=cfg.la_code)
        known = rule_set.results_known
        if not known:  # never silently: every file would be used, however late
            later.append(Problem("(rule set)", None, None, f"rule set {rule_set.id} does not say which results could "
                                 "be known for a term (results_known): every file in the landing folder is used, "
                                 "whatever its academic year or date; add results_known as cambs-2021-23.yaml has it",
                                 severity="warning", check="after_term"))
    except RulesError:
        known = {}  # the evidence stage names the missing rule set
    feeds, aside = known_at_term(feeds, cfg.term_obj, known, scope_urns(feeds, cfg.la_code), cfg.as_of_date())
    later += aside
    _save_feeds(cfg, feeds, problems + later)
    return {"files": len(files), "kinds": sorted({f.kind for f in feeds}), "unreadable": unreadable}


def _kinds_of(raw: Path, names: set[str]) -> set[str]:
    """The kinds of feed the named raw files are by their header (a file refused as it was read has no Feed)."""
    from .ingest.feeds import detect_kind, header_of

    kinds = set()
    for name in names:
        path = raw / name
        if path.is_file() and path.suffix.lower() == ".csv":
            kind = detect_kind(header_of(path))
            if kind:
                kinds.add(kind)
    return kinds


def validate(cfg: RunConfig) -> dict:
    from .errors import RulesError, ValidationFailed
    from .quality.feed_set import EXPECTED_FEEDS, feed_presence, feed_set_checks, missing_file
    from .quality.data_age import calendar_check, data_age
    from .quality.suites import validate as run_suites
    from .rules import rule_set_for

    stage = _load_feeds(cfg)
    feeds = stage["feeds"]
    report = run_suites(feeds, la_code=cfg.la_code)
    try:
        rules = rule_set_for(cfg.term_obj.reference_date, la_code=cfg.la_code)  # the LA's own, as categorise's
        published, max_age = rules.published_results, rules.extract_max_age_days
    except RulesError:
        published, max_age = {}, {}  # categorise names the missing rule set
    # Which files the run takes, which kinds are missing, how old the figures are: judged for the LA and term.
    # A kind whose file was refused as it was read is not "missing": the reader's error names the file, and "no GIAS
    # extract was supplied" beside it would send the user to download a file they gave (trial s31: a repeated GIAS
    # row).
    refused = {missing_file(k) for k in _kinds_of(cfg.run_dir / "raw", {p.file for p in stage["read_problems"]
                                                                         if p.severity == "critical"})}
    presence = [p for p in feed_presence(feeds, cfg.la_code)
                if not (p.check == "feed_missing" and p.file in refused)]
    report.problems = (presence + feed_set_checks(feeds, cfg.la_code)
                       + data_age(feeds, cfg.term_obj, published, max_age, cfg.la_code)
                       + calendar_check(cfg.term_obj, la_code=cfg.la_code) + report.problems)
    report._kinds.update({f.source: f.kind for f in feeds} | {missing_file(k): k for k in [*EXPECTED_FEEDS, "gias"]})
    problems = list(stage["read_problems"]) + list(report.problems)
    frame = report.to_frame()
    if stage["read_problems"]:
        extra = pd.DataFrame([{"file": p.file, "feed_kind": "", "row": p.row, "column": p.column,
                               "severity": p.severity, "check": p.check or "read", "message": p.message}
                              for p in stage["read_problems"]])
        frame = pd.concat([extra, frame], ignore_index=True)
    out = cfg.run_dir / "quality"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    artefacts.write_table(out / "data_quality.parquet", frame)
    # The evidence of a failed run: every problem, where the error message says (UTF-8 with BOM, for Excel).
    frame.to_csv(out / "data_quality.csv", index=False, encoding="utf-8-sig")
    try:
        report.build_data_docs(out / "data_docs")
    except Exception as exc:  # data docs are a convenience; the checks themselves already ran
        (out / "data_docs_error.txt").write_text(str(exc))
    critical = [p for p in problems if p.severity == "critical"]
    if critical:
        raise ValidationFailed(critical, where=str(out / "data_quality.csv"))
    return {"warnings": len(problems), "critical": 0}


def _term_data(cfg: RunConfig):
    from .ingest.termdata import TermData
    stage = _load_feeds(cfg)
    return TermData(cfg.la_code, cfg.term_obj, stage["feeds"])


@with_few_full_collections
def assess_evidence(cfg: RunConfig) -> dict:
    """The evidence stage: every school's indicators, checks, results and measures, once per term."""
    from . import history
    from .evidence.assess import assess, write_evidence
    from .rules import rule_set_for

    data = _term_data(cfg)
    rules = rule_set_for(cfg.term_obj.reference_date, la_code=cfg.la_code)
    eng = history.engine_for(cfg.history_url)
    prev = data.carry_forward(history.previous(eng, cfg.la_code, cfg.term_obj))  # history follows a new URN
    return write_evidence(_artefact_dir(cfg, "evidence"), assess(data, rules, prev), prev)


@with_few_full_collections
def categorise(cfg: RunConfig) -> dict:
    from . import history
    from .decisions.categorise import academies, categorise as place
    from .rules import load_rule_set

    data = _term_data(cfg)
    evidence, prev = _load_evidence(cfg)
    rules = load_rule_set(evidence.rule_set)
    result = place(data, rules, prev, evidence)
    acads = academies(data)
    for r in acads.to_dict("records"):  # academies are not categorised, but their figures feed next term's change
        urn = int(r["urn"])
        result.measures[urn] = evidence.school(urn).measures
    eng = history.engine_for(cfg.history_url)
    # Later terms decided against another level for this term (run out of order, or re-run with other results).
    stale = history.later_terms_problem(eng, cfg.la_code, cfg.term_obj, result.table)
    held = history.term_results(eng, cfg.la_code, cfg.term_obj)  # the earlier edition's decisions, if re-run
    history.record_term(eng, cfg.la_code, cfg.term_obj, cfg.run_id, rules.id, data.checksums(), result.table,
                        result.evidence, result.measures, acads)
    _save_categorisation(cfg, result.table, result.evidence, rules.id, [*result.problems, *filter(None, [stale])])
    artefacts.write_json(_artefact_dir(cfg, "categorisation") / "held.json", held)  # flag_letters compares with it
    return {"rule_set": rules.id, **result.table["category"].value_counts().to_dict()}


@with_few_full_collections
def flag_letters(cfg: RunConfig) -> dict:
    from . import history
    from .decisions.letters import flag_letters as flag
    from .rules import load_rule_set

    data = _term_data(cfg)
    cat = _load_categorisation(cfg)
    evidence, prev = _load_evidence(cfg)
    rules = load_rule_set(cat["rule_set"])
    eng = history.engine_for(cfg.history_url)
    out = flag(data, rules, cat["table"], prev, cfg.as_of_date(), evidence,
               told=history.members_told(eng, cfg.la_code, cfg.term_obj))
    # A re-run whose decisions differ from the earlier edition's says so first on its front page, school by school in
    # data_quality.csv (the earlier decisions as the history held them before categorise replaced them).
    held_file = _artefact_dir(cfg, "categorisation") / "held.json"
    held = artefacts.read_json(held_file) if held_file.exists() else None
    if held is not None and held.get("run_id") == cfg.run_id:
        held = None  # this run's own earlier attempt (a cleared task), never an edition of its own
    table = cat["table"]
    new = history.decisions(dict(zip(table["urn"], table["category"])) if len(table) else {},
                            _joined(out.letters, "letter"), _joined(out.academy_concerns, "next_step"),
                            dict(zip(table["urn"], table["school_name"])) if len(table) else {},
                            rule_set=rules.id)
    replaced = history.remember_replaced(eng, cfg.la_code, cfg.term_obj, held, new)
    published = history.published_run(eng, cfg.la_code, cfg.term_obj, (replaced or {}).get("run_id"))
    out.problems = [*history.replaced_problems(replaced, new, cfg.term_obj, (published or {}).get("edition", "")),
                    *out.problems]
    from .decisions.letters import flagged_again_problem
    again = flagged_again_problem(data, rules, out.letters, *history.letters_flagged_before(eng, cfg.la_code,
                                                                                             cfg.term_obj))
    steps = out.academy_concerns.rename(columns={"next_step": "letter"})  # the academy route, step by step alike
    again_academies = flagged_again_problem(data, rules, steps, *history.letters_flagged_before(
        eng, cfg.la_code, cfg.term_obj, academy=True), what="academy route step(s)", academy=True)
    out.problems = [*out.problems, *filter(None, [again, again_academies])]
    history.record_flags(eng, cfg.la_code, cfg.term_obj, cfg.run_id, out.letters, "letter")
    history.record_flags(eng, cfg.la_code, cfg.term_obj, cfg.run_id, out.academy_concerns, "next_step")
    # What members were told, per school (reasons, and the term first told when told again), for next term's told_in.
    told = out.member_alerts.drop_duplicates("urn").rename(columns={"reason": "indicators", "told_in": "evidence"})
    history.record_flags(eng, cfg.la_code, cfg.term_obj, cfg.run_id, told.assign(alert="member_alert"), "alert")
    _save_letters(cfg, out)
    return {"letters": out.letters["letter"].value_counts().to_dict(), "academies_of_concern": len(out.academy_concerns),
            "member_alerts": len(out.member_alerts)}


def _joined(frame: pd.DataFrame, col: str) -> dict:
    """urn -> the frame's values of `col` for it, sorted and joined as the history keeps them."""
    out: dict = {}
    for u, v in zip(frame["urn"], frame[col]) if len(frame) else ():
        out.setdefault(int(u), []).append(str(v))
    return {u: "; ".join(sorted(vs)) for u, vs in out.items()}


def report_inputs(cfg: RunConfig):
    from . import history
    from .decisions.letters import whistleblowing_redirect
    from .editions.confidentiality import staff_names
    from .editions.report import ReportInputs
    from .evidence.assess import read_figures
    from .rules import load_rule_set
    from .ingest.sources import with_origin

    data = _term_data(cfg)
    cat = _load_categorisation(cfg)
    letters = _load_letters(cfg)
    rules = load_rule_set(cat["rule_set"])
    eng = history.engine_for(cfg.history_url)
    from .quality.notes import age_notes, front_page_notes, with_data_age
    from .ingest.sources import fetched_notes

    dq = artefacts.read_table(cfg.run_dir / "quality" / "data_quality.parquet")
    from .editions.drafts import weekday_deadlines_problem  # deadlines counted in weekdays: said, never guessed

    dq = with_rule_set_review(dq, rules, cfg.term_obj, [*cat.get("problems", []), *letters.problems,
                                                        *filter(None, [weekday_deadlines_problem(letters.drafts, cfg.la_code)])])
    # Each letter's evidence says how old the figures it cites are.
    ages = age_notes(dq)
    for col in ("evidence", "evidence_general"):
        if col in letters.letters and len(letters.letters):
            letters.letters[col] = [with_data_age(e, ages) for e in letters.letters[col]]
    for col in ("evidence", "evidence_general"):  # the general edition is written from the _general twin
        if col in letters.academy_concerns and len(letters.academy_concerns):
            letters.academy_concerns[col] = [with_data_age(e, ages) for e in letters.academy_concerns[col]]
    for d in letters.drafts:
        d["concerns"] = [with_data_age(c, ages) for c in d.get("concerns") or []]
    return ReportInputs(
        la_code=cfg.la_code, la_name=cfg.la_name or data.la_name() or cfg.name_of_la(), term=cfg.term,
        rule_set_id=rules.id, data_notes=front_page_notes(dq) + fetched_notes(cfg.run_dir),
        rule_set_title=rules.title, levels=tuple(rules.levels), run_date=cfg.as_of_date(), categorisation=cat["table"],
        evidence=cat["evidence"], decision_evidence=letters.evidence, history=history.category_history(eng, cfg.la_code, cfg.term_obj),
        indicators=indicator_table(cat["table"], read_figures(_artefact_dir(cfg, "evidence"))),
        letters=letters.letters, academy_concerns=letters.academy_concerns, member_alerts=letters.member_alerts,
        data_quality=dq, provenance=with_origin(data.provenance(), cfg.run_dir), drafts=letters.drafts, laig_notes=data.frame("laig_notes"),
        academy_note=whistleblowing_redirect(rules, cfg.term_obj.reference_date), rule_set_review_by=rules.review_by,
        gap_section=rules.gap_section.model_dump() if rules.gap_section else {},
        intelligence=data.frame("la_intelligence"), staff_names=staff_names(data.frame("gias")))


def drafts_inputs(cfg: RunConfig):
    """What the drafts part reads of `report_inputs(cfg)`, read alone: the LA's code and name, the term, the rule set,
    the run date and the drafts, each concern with how old its figures are (the data-quality table as the editions
    have it). Every other table is left empty: render_drafts reads none of them. The term's feeds are read only when
    the run names no LA (the name then comes from GIAS, as in report_inputs); the categorisation's tables, the
    indicators, the history and the provenance are not read: about a third of the drafts task's CPU for a small LA
    (tests/test_drafts_inputs.py: the same drafts, byte for byte, as from report_inputs)."""
    from .editions.drafts import weekday_deadlines_problem
    from .editions.report import ReportInputs
    from .quality.notes import age_notes, with_data_age
    from .rules import load_rule_set

    folder = _artefact_dir(cfg, "categorisation")
    rule_set = artefacts.read_json(folder / "categorisation.json")["rule_set"]
    problems = artefacts.problems_from_json(artefacts.read_json(folder / "problems.json"))
    letters = _load_letters(cfg)
    rules = load_rule_set(rule_set)
    dq = artefacts.read_table(cfg.run_dir / "quality" / "data_quality.parquet")
    dq = with_rule_set_review(dq, rules, cfg.term_obj, [*problems, *letters.problems,
                                                        *filter(None, [weekday_deadlines_problem(letters.drafts, cfg.la_code)])])
    ages = age_notes(dq)
    for d in letters.drafts:
        d["concerns"] = [with_data_age(c, ages) for c in d.get("concerns") or []]
    none = pd.DataFrame()
    return ReportInputs(
        la_code=cfg.la_code, la_name=cfg.la_name or _term_data(cfg).la_name() or cfg.name_of_la(), term=cfg.term,
        rule_set_id=rules.id, rule_set_title=rules.title, levels=tuple(rules.levels), run_date=cfg.as_of_date(),
        categorisation=none, evidence=none, history=none, indicators=none, letters=letters.letters,
        academy_concerns=letters.academy_concerns, member_alerts=letters.member_alerts, data_quality=dq,
        provenance=none, drafts=letters.drafts, rule_set_review_by=rules.review_by)


def with_rule_set_review(dq: pd.DataFrame, rules, term, problems: list = ()) -> pd.DataFrame:
    """data_quality plus the categorise stage's warnings and the warning for a rule set past its review date
    (rules.review_warning, for the front page)."""
    from .rules import in_force_problem, review_problem

    extra = [p for p in [*problems, review_problem(rules, term), in_force_problem(rules, term)] if p is not None]
    if not extra:
        return dq
    rows = pd.DataFrame([{"file": p.file, "feed_kind": "rule_set" if p.check in ("rule_set_review_date",
                                                                                   "rule_set_in_force") else
                          "history" if p.check in ("history_order", "edition_replaced", "edition_change") else
                          "letters_log" if p.check in ("academy_route_open", "letters_log_ladder", "letters_flagged_again",
                                                       "letters_log_school", "letter_not_in_rule_set",
                                                       "recognition_after_concern") else
                          "gias" if str(p.check).startswith(("gias", "school_")) else
                          "results" if p.check in ("national_comparator", "results_too_old") else
                          "term_calendar" if p.check == "letter_deadlines_weekdays" else "adviser_judgements",
                          "row": p.row, "column": p.column, "severity": p.severity, "check": p.check,
                          "message": p.message} for p in extra])
    return pd.concat([dq, rows], ignore_index=True) if not dq.empty else rows


def indicator_table(table: pd.DataFrame, figures: pd.DataFrame) -> pd.DataFrame:
    """Per school figures against national, for the report's charts (the evidence stage's figures)."""
    from .evidence.assess import FIGURE_COLUMNS

    by_urn = {int(r["urn"]): r for r in figures.to_dict("records")} if len(figures) else {}
    rows = []
    for r in table.to_dict("records"):
        f = dict(by_urn[int(r["urn"])])
        del f["urn"]
        rows.append({"urn": r["urn"], "school_name": r["school_name"], **{k: f.pop(k) for k in FIGURE_COLUMNS},
                     "good_or_better": r["good_or_better"], **f})
    return pd.DataFrame(rows)


# The report's parts, each built on its own (the DAG maps one task over them): the two editions, and the
# draft letters, which go into the restricted edition's drafts/ when the parts are assembled.
REPORT_PARTS = ("general", "restricted", "drafts")


def build_report_part(cfg: RunConfig, part: str, inputs=None) -> dict:
    """Build one part into <run>/parts/<part>/, replacing what an earlier attempt left there. `inputs`: the
    term's `report_inputs(cfg)` when the caller has them already (build_reports reads them once for all parts);
    a task of its own reads them itself."""
    from dataclasses import replace

    from .editions.cells import _text, _urn_key
    from .editions.drafts import render_drafts
    from .editions.report import build_edition

    if part not in REPORT_PARTS:
        raise ValueError(f"report part must be one of {REPORT_PARTS}, not {part!r}")
    if inputs is None:
        inputs = drafts_inputs(cfg) if part == "drafts" else report_inputs(cfg)
    out = cfg.run_dir / "parts" / part
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with few_full_collections():
        if part == "drafts":
            drafts = sorted(inputs.drafts, key=lambda d: (_urn_key(d.get("urn")), _text(d.get("letter"))))
            files = render_drafts(inputs, drafts, out)
        else:  # the restricted edition's drafts are the "drafts" part
            files = build_edition(replace(inputs, drafts=[]), out, part)
    (out / "part.json").write_text(json.dumps({"part": part, "rule_set": inputs.rule_set_id, "files": len(files)}))
    return {"part": part, "path": str(out), "files": len(files)}


def software_fingerprint(folders=None) -> str:
    """A hash of the code and templates that made an edition (the package's .py files, include/templates/, the
    GX suites). inputs.json carries it, so an edition that only the new code changes (a profile's wording, a
    fixed chart: the PDF alone, which publish cannot compare because it carries its run date) is published as a new
    edition when the term is re-run, rather than judged "unchanged" on its CSVs and left as the old PDF."""
    from . import EXPECTATIONS_DIR, PACKAGE_DIR, TEMPLATES_DIR

    digest = hashlib.sha256()
    for folder, pattern in folders or ((PACKAGE_DIR, "*.py"), (TEMPLATES_DIR, "*"), (EXPECTATIONS_DIR, "*.json")):
        for p in sorted(Path(folder).rglob(pattern)):
            if p.is_file() and "__pycache__" not in p.parts:
                digest.update(f"{p.relative_to(folder).as_posix()}\0".encode() + p.read_bytes() + b"\0")
    return digest.hexdigest()


def assemble_reports(cfg: RunConfig) -> dict:
    """Put the built parts together as the staged edition that publish copies to the shared drive."""
    parts = {p: cfg.run_dir / "parts" / p for p in REPORT_PARTS}
    for p, folder in parts.items():
        if not (folder / "part.json").exists():
            raise FileNotFoundError(f"{folder} is missing: clear build_reports to rebuild the {p} part")
    rule_set = json.loads((parts["general"] / "part.json").read_text())["rule_set"]
    staged = cfg.run_dir / "staged"
    if staged.exists():
        shutil.rmtree(staged)
    keep = shutil.ignore_patterns("part.json")
    shutil.copytree(parts["general"], staged / "general", ignore=keep)
    shutil.copytree(parts["restricted"], staged / "restricted", ignore=keep)
    if any(p.name != "part.json" for p in parts["drafts"].iterdir()):
        shutil.copytree(parts["drafts"], staged / "restricted" / "drafts", ignore=keep)
    docs = cfg.run_dir / "quality" / "data_docs"
    if docs.exists():  # GX Data Docs beside the report (restricted: they show failing values)
        shutil.copytree(docs, staged / "restricted" / "data_docs")
    raw_manifest = json.loads((cfg.run_dir / "raw" / "raw_manifest.json").read_text())
    (staged / "inputs.json").write_text(json.dumps(
        {"la_code": cfg.la_code, "term": cfg.term, "rule_set": rule_set, "feeds": raw_manifest,
         "software": software_fingerprint(),
         # The date the edition carries and its evidence was known by (results_known.edition_date), and whether the
         # run gave it or took the term's scheduled run date: a re-run says what it used.
         "as_of": cfg.as_of_date().isoformat(), "as_of_given": bool(cfg.as_of)},
        indent=2, sort_keys=True))
    files = sum(1 for p in staged.rglob("*") if p.is_file())
    return {"staged": str(staged), "files": files}


def build_reports(cfg: RunConfig) -> dict:
    """Every part, one after the other, then assembled (the in-process path; the DAG runs the parts as tasks).
    The parts only read their inputs, so one reading of them serves all three."""
    inputs = report_inputs(cfg)
    for part in REPORT_PARTS:
        build_report_part(cfg, part, inputs)
    return assemble_reports(cfg)


def history_agrees(cfg: RunConfig, staged: Path) -> None:
    """Raise PublishConflict unless the history holds this run's results for the term, from the same feeds.

    Two runs of one term (two operators, or two LAs sharing a history database) could otherwise leave the history
    holding one run's inputs while current.json names the other's edition.
    """
    from . import history
    from .publish.edition import PublishConflict

    held = history.recorded_run(history.engine_for(cfg.history_url), cfg.la_code, cfg.term_obj)
    feeds = json.loads((staged / "inputs.json").read_text()).get("feeds", [])
    mine = {f["file"]: f["sha256"] for f in feeds}
    # Every feed the history used must be one this edition was built from (the edition may list more files).
    if held is None or held["run_id"] != cfg.run_id or any(mine.get(f) != sha for f, sha in held["feed_checksums"].items()):
        who = "nothing" if held is None else f"run {held['run_id']!r}"
        raise PublishConflict(
            f"the history database holds {who} for LA {cfg.la_code} term {cfg.term}, not this run ({cfg.run_id!r}) "
            "with these feeds: another run of the term overlapped this one. Nothing new was published; re-run the "
            "term from categorise so the history and the edition agree.")


def publish(cfg: RunConfig, shared_drive) -> dict:
    from .publish.edition import publish_edition

    staged = cfg.run_dir / "staged"
    if not staged.exists():
        raise FileNotFoundError(f"{staged} is missing: clear build_reports to rebuild the reports")
    if isinstance(shared_drive, str):
        shared_drive = Path(shared_drive)
    result = asdict(publish_edition(staged, shared_drive, cfg.la_code, cfg.term,
                                    check=lambda: history_agrees(cfg, staged), owner=f"run {cfg.run_id}"))
    from . import history  # which edition this run's results are: a later re-run's note names it

    history.record_published(history.engine_for(cfg.history_url), cfg.la_code, cfg.term_obj, cfg.run_id,
                             result["edition"])
    # Plain JSON for the XCom and the summary: paths (local or ObjectStoragePath) become strings.
    return json.loads(json.dumps(result, default=str))

