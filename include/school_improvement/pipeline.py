"""The termly run, stage by stage, as plain functions that the DAG's tasks call.

Each stage reads the previous stage's output from the run's work folder and writes its own, replacing
what a cleared-and-retried attempt left, so every task is idempotent and can be re-run from the UI.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from . import DEMO_LA_CODE, DEMO_LA_NAME, artefacts
from .terms import Term, TermCalendar

FEED_SUFFIXES = {".csv", ".xlsx"}


@dataclass
class RunConfig:
    la_code: str
    term: str
    landing: str
    work_dir: str
    history_url: str
    run_id: str = "manual"
    la_name: str = ""
    as_of: str = ""  # ISO date the flags are dated; defaults to the term's scheduled run date

    @property
    def term_obj(self) -> Term:
        return Term.parse(self.term)

    @property
    def run_dir(self) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.run_id)
        return Path(self.work_dir) / self.la_code / self.term / safe

    def as_of_date(self) -> date:
        if self.as_of:
            return date.fromisoformat(self.as_of)
        t = self.term_obj
        return TermCalendar.load().run_date(t) or t.dates()[0]

    def name_of_la(self) -> str:
        return self.la_name or (DEMO_LA_NAME if self.la_code == DEMO_LA_CODE else f"LA {self.la_code}")

    def to_dict(self) -> dict:
        return asdict(self)


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


def _save_categorisation(cfg: RunConfig, table: pd.DataFrame, evidence: pd.DataFrame, rule_set: str,
                         previous: dict) -> None:
    folder = _artefact_dir(cfg, "categorisation")
    artefacts.remove_tree(folder)
    artefacts.write_table(folder / "categorisation.parquet", table)
    artefacts.write_table(folder / "evidence.parquet", evidence)
    artefacts.write_json(folder / "previous.json", previous)  # last term's categories and figures, by URN
    artefacts.write_json(folder / "categorisation.json", {"rule_set": rule_set, "schools": len(table)})


def _load_categorisation(cfg: RunConfig) -> dict:
    folder = _artefact_dir(cfg, "categorisation")
    facts = artefacts.read_json(folder / "categorisation.json")
    return {"table": artefacts.read_table(folder / "categorisation.parquet"),
            "evidence": artefacts.read_table(folder / "evidence.parquet"), "rule_set": facts["rule_set"],
            "previous": artefacts.read_json(folder / "previous.json")}


LETTERS_TABLES = ("letters", "academy_concerns", "member_alerts")


def _save_letters(cfg: RunConfig, out) -> None:
    folder = _artefact_dir(cfg, "letters")
    artefacts.remove_tree(folder)
    for name in LETTERS_TABLES:
        artefacts.write_table(folder / f"{name}.parquet", getattr(out, name))
    artefacts.write_json(folder / "drafts.json", out.drafts)
    artefacts.write_json(folder / "letters.json", {name: len(getattr(out, name)) for name in LETTERS_TABLES})


def _load_letters(cfg: RunConfig):
    from .letters import Letters

    folder = _artefact_dir(cfg, "letters")
    artefacts.read_json(folder / "letters.json")  # written last: the stage finished
    return Letters(**{name: artefacts.read_table(folder / f"{name}.parquet") for name in LETTERS_TABLES},
                   drafts=artefacts.read_json(folder / "drafts.json"))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------ stages
def extract(cfg: RunConfig, archive_dir: str | None = None) -> dict:
    """Archive the raw feeds unchanged with their SHA-256, then read them."""
    from .feeds import read_feed

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
    from .errors import FeedError
    feeds, problems = [], []
    for p in files:
        try:
            feeds.append(read_feed(raw / p.name))
        except FeedError as exc:  # keep reading: the operator gets every broken file at once
            problems.extend(exc.problems)
    _save_feeds(cfg, feeds, problems)
    return {"files": len(files), "kinds": sorted({f.kind for f in feeds}), "unreadable": len({p.file for p in problems})}


def validate(cfg: RunConfig) -> dict:
    from .errors import ValidationFailed
    from .quality import validate as run_suites

    stage = _load_feeds(cfg)
    report = run_suites(stage["feeds"])
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
    try:
        report.build_data_docs(out / "data_docs")
    except Exception as exc:  # data docs are a convenience; the checks themselves already ran
        (out / "data_docs_error.txt").write_text(str(exc))
    critical = [p for p in problems if p.severity == "critical"]
    if critical:
        raise ValidationFailed(critical)
    return {"warnings": len(problems), "critical": 0}


def _term_data(cfg: RunConfig):
    from .termdata import TermData
    stage = _load_feeds(cfg)
    return TermData(cfg.la_code, cfg.term_obj, stage["feeds"])


def categorise(cfg: RunConfig) -> dict:
    from . import history
    from .categorise import academies, categorise as place, SchoolEvidence, school_measures
    from .rules import rule_set_for

    data = _term_data(cfg)
    rules = rule_set_for(cfg.term_obj.reference_date)
    eng = history.engine_for(cfg.history_url)
    prev = history.previous(eng, cfg.la_code, cfg.term_obj)
    result = place(data, rules, prev)
    acads = academies(data)
    for r in acads.to_dict("records"):  # academies are not categorised, but their figures feed next term's change
        urn = int(r["urn"])
        result.measures[urn] = school_measures(SchoolEvidence(urn, data, rules, prev.get(urn, {}).get("prior")), r)
    history.record_term(eng, cfg.la_code, cfg.term_obj, cfg.run_id, rules.id, data.checksums(), result.table,
                        result.evidence, result.measures, acads)
    _save_categorisation(cfg, result.table, result.evidence, rules.id, prev)
    return {"rule_set": rules.id, **result.table["category"].value_counts().to_dict()}


def flag_letters(cfg: RunConfig) -> dict:
    from . import history
    from .letters import flag_letters as flag
    from .rules import load_rule_set

    data = _term_data(cfg)
    cat = _load_categorisation(cfg)
    rules = load_rule_set(cat["rule_set"])
    out = flag(data, rules, cat["table"], cat["previous"], cfg.as_of_date())
    eng = history.engine_for(cfg.history_url)
    history.record_flags(eng, cfg.la_code, cfg.term_obj, cfg.run_id, out.letters, "letter")
    history.record_flags(eng, cfg.la_code, cfg.term_obj, cfg.run_id, out.academy_concerns, "next_step")
    _save_letters(cfg, out)
    return {"letters": out.letters["letter"].value_counts().to_dict(), "academies_of_concern": len(out.academy_concerns),
            "member_alerts": len(out.member_alerts)}


def report_inputs(cfg: RunConfig):
    from . import history
    from .letters import whistleblowing_redirect
    from .report import ReportInputs
    from .rules import load_rule_set

    data = _term_data(cfg)
    cat = _load_categorisation(cfg)
    letters = _load_letters(cfg)
    rules = load_rule_set(cat["rule_set"])
    eng = history.engine_for(cfg.history_url)
    dq = artefacts.read_table(cfg.run_dir / "quality" / "data_quality.parquet")
    return ReportInputs(
        la_code=cfg.la_code, la_name=cfg.name_of_la(), term=cfg.term, rule_set_id=rules.id,
        rule_set_title=rules.title, run_date=cfg.as_of_date(), categorisation=cat["table"],
        evidence=cat["evidence"], history=history.category_history(eng, cfg.la_code, cfg.term_obj),
        indicators=indicator_table(data, rules, cat["table"], cat["previous"]),
        letters=letters.letters, academy_concerns=letters.academy_concerns, member_alerts=letters.member_alerts,
        data_quality=dq, provenance=data.provenance(), drafts=letters.drafts, laig_notes=data.frame("laig_notes"),
        academy_note=whistleblowing_redirect(rules, cfg.term_obj.reference_date),
        intelligence=data.frame("la_intelligence"))


def indicator_table(data, rules, table: pd.DataFrame, previous: dict) -> pd.DataFrame:
    """Per school figures against national, for the report's charts."""
    from .categorise import SchoolEvidence

    rows = []
    for r in table.to_dict("records"):
        ev = SchoolEvidence(int(r["urn"]), data, rules, previous.get(int(r["urn"]), {}).get("prior"))
        ks = ev.indicators._attainment()
        k2 = next((e for e in ks if e["ks"] == "KS2" and "reason" not in e), None)
        a = ev.indicators.absence_figures()
        gap, nat_gap = ev.indicators.disadvantaged_gap()
        rows.append({"urn": r["urn"], "school_name": r["school_name"],
                     "rwm_exp": k2["value"] if k2 else None, "rwm_exp_national": k2["national"] if k2 else None,
                     "overall_absence": a.get("overall"), "overall_absence_national": a.get("nat_overall"),
                     "persistent_absence": a.get("persistent"), "persistent_absence_national": a.get("nat_persistent"),
                     "disadv_gap": gap, "disadv_gap_national": nat_gap, "good_or_better": r["good_or_better"]})
    return pd.DataFrame(rows)


def build_reports(cfg: RunConfig) -> dict:
    from .report import build_edition

    inputs = report_inputs(cfg)
    staged = cfg.run_dir / "staged"
    if staged.exists():
        shutil.rmtree(staged)
    # One after the other: a process pool inside an Airflow task re-imports Airflow in each child and fails.
    files = [f for e in ("restricted", "general") for f in build_edition(inputs, staged / e, e)]
    docs = cfg.run_dir / "quality" / "data_docs"
    if docs.exists():  # GX Data Docs beside the report (restricted: they show failing values)
        shutil.copytree(docs, staged / "restricted" / "data_docs")
    raw_manifest = json.loads((cfg.run_dir / "raw" / "raw_manifest.json").read_text())
    (staged / "inputs.json").write_text(json.dumps(
        {"la_code": cfg.la_code, "term": cfg.term, "rule_set": inputs.rule_set_id, "feeds": raw_manifest},
        indent=2, sort_keys=True))
    return {"staged": str(staged), "files": len(files)}


def publish(cfg: RunConfig, shared_drive) -> dict:
    from .publish import publish_edition

    staged = cfg.run_dir / "staged"
    if not staged.exists():
        raise FileNotFoundError(f"{staged} is missing: clear build_reports to rebuild the reports")
    if isinstance(shared_drive, str):
        shared_drive = Path(shared_drive)
    result = asdict(publish_edition(staged, shared_drive, cfg.la_code, cfg.term))
    # Plain JSON for the XCom and the summary: paths (local or ObjectStoragePath) become strings.
    return json.loads(json.dumps(result, default=str))

