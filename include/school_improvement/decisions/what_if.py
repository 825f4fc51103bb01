"""Policy what-if: one term's feeds under two rule sets, and which schools change category or letters, and why.

An LA revising its Strategy sees the effect before adopting it. The comparison is written to its own folder
(compare.csv and a short PDF section) and never to the shared drive's editions: nothing is published.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from .categorise import categorise
from ..evidence.assess import academies, assess
from .letters import flag_letters
from ..errors import RulesError
from ..rules import RuleSet, load_rule_set_arg, review_warning, rule_set_for
from ..ingest.termdata import TermData
from ..terms import Term

WHAT_IF_COLUMNS = ["urn", "school_name", "category_a", "category_b", "category_changed", "letter_a", "letter_b",
                   "letter_changed", "criteria_only_a", "criteria_only_b", "why",
                   # A reading of "concerns about an academy" or of members' alerts changes these, not a category.
                   "academy_concerns_a", "academy_concerns_b", "member_alert_a", "member_alert_b",
                   # A reading of the academy route (its steps) changes the next step, not the concerns.
                   "academy_step_a", "academy_step_b"]


@dataclass
class WhatIf:
    table: pd.DataFrame  # WHAT_IF_COLUMNS, one row per school whose category, letter, academy concerns or alert changes
    schools: int  # schools compared
    rules_a: RuleSet
    rules_b: RuleSet
    term: Term
    la_code: str
    warnings: list[str]
    # How many under each rule set: schools per level, letters per kind, academies of concern, schools alerted.
    totals: list[dict] = field(default_factory=list)


def _wording(rules: RuleSet, ids: list[str]) -> str:
    words = {c.id: c.wording for c in rules.criteria}
    return "; ".join(f"{i} ({words.get(i, '')})" for i in ids)


def compare_rule_sets(data: TermData, rules_a: RuleSet, rules_b: RuleSet, history: dict | None = None,
                      as_of: date | None = None) -> WhatIf:
    """Categorise and flag letters for one term under both rule sets; keep the schools where either changes."""
    history = history or {}
    as_of = as_of or data.term.reference_date
    out, raw = {}, {}
    for key, rules in (("a", rules_a), ("b", rules_b)):
        evidence = assess(data, rules, history)  # the evidence stage, once per rule set: both decisions read it
        cat = categorise(data, rules, history, evidence)
        flagged = flag_letters(data, rules, cat.table, history, as_of, evidence)
        letters = flagged.letters
        out[key] = (cat.table.set_index("urn"), dict(zip(letters["urn"], letters["letter"])),
                    dict(zip(letters["urn"], letters["indicators"])))
        raw[key] = (cat.table, letters, flagged.academy_concerns, flagged.member_alerts)
    (ta, la, ia), (tb, lb, ib) = out["a"], out["b"]
    acad = {k: {int(u): c for u, c in zip(v[2]["urn"], v[2]["concerns"])} for k, v in raw.items()}
    step = {k: {int(u): s for u, s in zip(v[2]["urn"], v[2]["next_step"])} for k, v in raw.items()}
    alert = {k: {int(u): r for u, r in zip(v[3]["urn"], v[3]["reason"])} for k, v in raw.items()}
    rows = []
    for urn in sorted(set(ta.index) | set(tb.index)):
        a, b = ta.loc[urn], tb.loc[urn]
        met_a = [c for c in str(a["criteria_met"]).split("; ") if c]
        met_b = [c for c in str(b["criteria_met"]).split("; ") if c]
        only_a, only_b = [c for c in met_a if c not in met_b], [c for c in met_b if c not in met_a]
        cat_changed = a["category"] != b["category"]
        letter_changed = la.get(urn, "") != lb.get(urn, "")
        alert_a, alert_b = alert["a"].get(int(urn), ""), alert["b"].get(int(urn), "")
        if not (cat_changed or letter_changed or alert_a != alert_b):
            continue
        why = []
        if only_a:
            why.append(f"met only under {rules_a.id}: {_wording(rules_a, only_a)}")
        if only_b:
            why.append(f"met only under {rules_b.id}: {_wording(rules_b, only_b)}")
        if a["best_fit_category"] != b["best_fit_category"]:
            why.append(f"best fit {a['best_fit_category']} under {rules_a.id}, {b['best_fit_category']} under {rules_b.id}")
        if a["overriding_condition"] != b["overriding_condition"]:
            why.append(f"overriding condition {a['overriding_condition'] or 'none'} under {rules_a.id}, "
                       f"{b['overriding_condition'] or 'none'} under {rules_b.id}")
        for rid, row in ((rules_a.id, a), (rules_b.id, b)):
            if row["borderline"]:
                why.append(f"borderline under {rid}: {row['borderline']}")
        if letter_changed:
            why.append(f"letter {la.get(urn) or 'none'} ({ia.get(urn, '')}) under {rules_a.id}, "
                       f"{lb.get(urn) or 'none'} ({ib.get(urn, '')}) under {rules_b.id}")
        if alert_a != alert_b:
            why.append(f"members alerted under {rules_a.id}: {alert_a or 'no'}; under {rules_b.id}: {alert_b or 'no'}")
        rows.append({"urn": urn, "school_name": a["school_name"], "category_a": a["category"],
                     "category_b": b["category"], "category_changed": cat_changed, "letter_a": la.get(urn, ""),
                     "letter_b": lb.get(urn, ""), "letter_changed": letter_changed,
                     "criteria_only_a": "; ".join(only_a), "criteria_only_b": "; ".join(only_b),
                     "why": " | ".join(why), "academy_concerns_a": "", "academy_concerns_b": "",
                     "member_alert_a": alert_a, "member_alert_b": alert_b, "academy_step_a": "", "academy_step_b": ""})
    names = {int(r["urn"]): r.get("school_name") for r in academies(data).to_dict("records")}
    for urn in sorted(set(acad["a"]) | set(acad["b"])):
        ca, cb = acad["a"].get(urn, ""), acad["b"].get(urn, "")
        sa, sb = str(step["a"].get(urn, "") or ""), str(step["b"].get(urn, "") or "")
        if ca == cb and sa == sb:
            continue
        why = [f"academy concerns under {rules_a.id}: {ca or 'none'}; under {rules_b.id}: {cb or 'none'}"]
        if sa != sb:
            why.append(f"next step under {rules_a.id}: {sa or 'none'}; under {rules_b.id}: {sb or 'none'}")
        rows.append({"urn": urn, "school_name": names.get(urn, ""), "category_a": "", "category_b": "",
                     "category_changed": False, "letter_a": "", "letter_b": "", "letter_changed": False,
                     "criteria_only_a": "", "criteria_only_b": "",
                     "why": " | ".join(why), "academy_concerns_a": ca, "academy_concerns_b": cb,
                     "member_alert_a": "", "member_alert_b": "", "academy_step_a": sa, "academy_step_b": sb})
    totals = []
    for what, count in (("schools at", lambda v: v[0]["category"]), ("letter", lambda v: v[1]["letter"])):
        order = [*rules_a.levels, *rules_b.levels]  # levels least support first; letters by name
        kinds = sorted(set(count(raw["a"])) | set(count(raw["b"])),
                       key=lambda k: (order.index(k) if k in order else len(order), str(k)))
        totals += [{"what": f"{what} {k}".replace("_", " "), "a": int((count(raw["a"]) == k).sum()),
                    "b": int((count(raw["b"]) == k).sum())} for k in kinds]
    totals.append({"what": "academies of concern", "a": len(raw["a"][2]), "b": len(raw["b"][2])})
    totals.append({"what": "schools whose members are alerted", "a": int(raw["a"][3]["urn"].nunique()),
                   "b": int(raw["b"][3]["urn"].nunique())})
    warnings = [w for w in (review_warning(rules_a, data.term), review_warning(rules_b, data.term)) if w]
    on = data.term.reference_date
    warnings += [f"The rule set {r.id} is in force {r.in_force}, not on {on} ({data.term}): this term is judged by "
                 f"rules dated for other terms" for r in (rules_a, rules_b) if not r.in_force.covers(on)]
    if list(rules_a.levels) != list(rules_b.levels):  # e.g. renamed: every school "changes category" by name alone
        warnings.append(f"The two rule sets have different levels ({rules_a.id}: {', '.join(rules_a.levels)}; "
                        f"{rules_b.id}: {', '.join(rules_b.levels)}): a school's category changes by its level's name "
                        f"too, so compare the counts at each level")
    warnings += [f"The rule set {r.id} serves LA {', '.join(r.la_codes)}, not LA {data.la_code}: this LA is judged by "
                 f"another LA's rules" for r in (rules_a, rules_b) if r.la_codes and str(data.la_code) not in r.la_codes]
    return WhatIf(pd.DataFrame(rows, columns=WHAT_IF_COLUMNS), len(set(ta.index) | set(tb.index)), rules_a, rules_b,
                  data.term, data.la_code, warnings, totals)


def read_term(la_code: str, term: Term, landing: Path, known: dict | None = None,
              notes: list | None = None) -> TermData:
    """Read and validate one term's feeds as the pipeline does (the same readers: the GIAS links file followed,
    other LAs' unreadable rows set aside, files from after the term not used); a critical problem stops the
    comparison. `known`: the rule set's `results_known`; `notes` gets a sentence for each file or row left out."""
    from ..errors import FeedError, ValidationFailed
    from ..ingest.termdata import read_files, scope_urns
    from ..quality.data_age import known_at_term
    from ..quality.suites import validate

    folder = Path(landing) / la_code / str(term)
    folder = folder if folder.is_dir() else Path(landing)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".csv", ".xlsx", ".xlsm")
                   and not p.name.startswith((".", "~$")))
    if not files:
        raise FileNotFoundError(f"no .csv or .xlsx feed files in {folder}")
    feeds, problems = read_files(files, la_code)
    if problems:
        raise FeedError(problems)
    feeds, aside = known_at_term(feeds, term, known or {}, scope_urns(feeds, la_code), term.reference_date)
    if notes is not None:
        notes.extend(p.message for p in aside)
    report = validate(feeds, la_code=la_code)
    if report.critical:
        raise ValidationFailed(report.critical)
    return TermData(la_code, term, feeds)


def write_what_if(result: WhatIf, out_dir: Path) -> dict:
    """compare.csv and compare.pdf in `<out_dir>/<la>/<term>/<a>-vs-<b>/`, replaced whole (never half-written)."""
    from ..editions.render import render_pdf
    from ..editions.tables import write_csv

    dest = Path(out_dir) / result.la_code / str(result.term) / f"{result.rules_a.id}-vs-{result.rules_b.id}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".what-if-", dir=dest.parent))
    try:
        write_csv(result.table, staging / "compare.csv", WHAT_IF_COLUMNS)
        t = result.table
        moves = (t[t["category_changed"]].groupby(["category_a", "category_b"]).size().reset_index(name="schools")
                 .to_dict("records") if not t.empty else [])
        render_pdf("what_if.html.j2", {
            "la_code": result.la_code, "term": str(result.term), "schools": result.schools,
            "rules_a": result.rules_a, "rules_b": result.rules_b, "rows": t.to_dict("records"),
            "category_changes": int(t["category_changed"].sum()) if not t.empty else 0,
            "letter_changes": int(t["letter_changed"].sum()) if not t.empty else 0,
            "moves": moves, "warnings": result.warnings, "run_date": result.term.reference_date,
            "academy_changes": _academy_changes(t), "alert_changes": _changed(t, "member_alert"),
            "totals": result.totals,
        }, staging / "compare.pdf")
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return {"folder": str(dest), "schools": result.schools, "changed": len(result.table),
            "category_changes": int(result.table["category_changed"].sum()) if len(result.table) else 0,
            "letter_changes": int(result.table["letter_changed"].sum()) if len(result.table) else 0,
            "academy_changes": _academy_changes(result.table),
            "alert_changes": _changed(result.table, "member_alert")}


def _academy_changes(t: pd.DataFrame) -> int:
    """Academies whose concerns or next step on the route change."""
    if not len(t):
        return 0
    return int(((t["academy_concerns_a"].astype(str) != t["academy_concerns_b"].astype(str))
                | (t["academy_step_a"].astype(str) != t["academy_step_b"].astype(str))).sum())


def _changed(t: pd.DataFrame, col: str) -> int:
    """Rows whose `<col>_a` and `<col>_b` differ (academies whose concerns change, schools whose alert changes)."""
    return int((t[f"{col}_a"].astype(str) != t[f"{col}_b"].astype(str)).sum()) if len(t) else 0


def run_what_if(la_code: str, term: str, landing: str, rules_a: str, rules_b: str, out_dir: str,
                history_url: str | None = None) -> dict:
    """The domain entry point (CLI `compare` and the policy_what_if DAG): read, compare, write; publish nothing."""
    t = Term.parse(term)
    a, b = load_rule_set_arg(rules_a), load_rule_set_arg(rules_b)
    try:  # files from after the term are left out as the run leaves them: by the rule set in force for the term
        known = rule_set_for(t.reference_date, la_code=str(la_code)).results_known
    except RulesError:
        known = a.results_known
    notes: list[str] = []
    data = read_term(str(la_code), t, Path(landing), known, notes)
    history = None
    if history_url:
        from .. import history as hist
        history = hist.previous(hist.engine_for(history_url), str(la_code), t)
    result = compare_rule_sets(data, a, b, history)
    result.warnings.extend(notes)  # as the edition's front page says them
    return write_what_if(result, Path(out_dir))
