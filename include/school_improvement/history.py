"""The history of categories, letters and figures, in a relational database through SQLAlchemy.

SQLite by default, PostgreSQL in docker-compose (SI_HISTORY_URL). The schema is created or migrated by the
pipeline itself; a re-run of a term replaces that term's rows in one transaction, never duplicates them.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd
from sqlalchemy import (JSON, Column, DateTime, Integer, MetaData, String, Table, Text, create_engine, delete,
                        inspect, insert, select)
from sqlalchemy.engine import Engine

from .terms import Term

SCHEMA_VERSION = 1
metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, primary_key=True))

runs = Table(
    "runs", metadata,
    Column("la_code", String(8), primary_key=True), Column("term", String(20), primary_key=True),
    Column("run_id", String(250), nullable=False), Column("rule_set", String(80), nullable=False),
    Column("feed_checksums", JSON, nullable=False), Column("recorded_at", DateTime(timezone=True), nullable=False))

school_terms = Table(
    "school_terms", metadata,
    Column("la_code", String(8), primary_key=True), Column("term", String(20), primary_key=True),
    Column("urn", Integer, primary_key=True),
    Column("school_name", String(200)), Column("maintained", Integer, nullable=False),
    Column("category", String(10)), Column("computed_category", String(10)),
    Column("previous_category", String(10)), Column("direction_of_travel", String(12)),
    Column("reasons", Text), Column("criteria_met", Text), Column("override", JSON),
    Column("evidence", JSON), Column("measures", JSON), Column("rule_set", String(80)),
    Column("feed_checksums", JSON), Column("run_id", String(250)))

flags = Table(
    "flags", metadata,
    Column("la_code", String(8), primary_key=True), Column("term", String(20), primary_key=True),
    Column("urn", Integer, primary_key=True), Column("kind", String(40), primary_key=True),
    Column("indicators", Text), Column("evidence", Text), Column("run_id", String(250)))


# The term each term's last run compared with ("since last term": its movers, change and direction of travel), so that
# a term run later, between the two, can say the later one's edition compared with another term though the levels
# agree (a table of its own: created on an older database by create_all, no migration step).
compared_terms = Table(
    "compared_terms", metadata,
    Column("la_code", String(8), primary_key=True), Column("term", String(20), primary_key=True),
    Column("previous_term", String(20)))


def engine_for(url: str) -> Engine:
    eng = create_engine(url, future=True)
    migrate(eng)
    return eng


def migrate(eng: Engine) -> None:
    """Create the schema, or bring an older one up to SCHEMA_VERSION."""
    metadata.create_all(eng)
    with eng.begin() as conn:
        current = conn.execute(select(schema_version.c.version)).scalar()
        if current is None:
            conn.execute(insert(schema_version).values(version=SCHEMA_VERSION))
        elif current > SCHEMA_VERSION:
            raise RuntimeError(f"history database schema {current} is newer than this code ({SCHEMA_VERSION})")
        # Later versions add their ALTERs here, one step per version.


def _json_safe(obj):
    return json.loads(json.dumps(obj, default=str))


def record_term(eng: Engine, la_code: str, term: Term, run_id: str, rule_set: str, checksums: dict,
                table: pd.DataFrame, evidence: pd.DataFrame, measures: dict[int, dict],
                academies: pd.DataFrame | None = None) -> None:
    """Replace this LA's rows for this term with this run's results."""
    t = str(term)
    ev_by_urn: dict[int, list[dict]] = {}
    for r in evidence.to_dict("records") if not evidence.empty else []:  # one pass: no frame per school
        ev_by_urn.setdefault(int(r.pop("urn")), []).append(r)
    rows = []
    for r in table.to_dict("records"):
        urn = int(r["urn"])
        rows.append({
            "la_code": la_code, "term": t, "urn": urn, "school_name": r["school_name"], "maintained": 1,
            "category": r["category"], "computed_category": r["computed_category"],
            "previous_category": r["previous_category"] or None, "direction_of_travel": r["direction_of_travel"],
            "reasons": r["reasons"], "criteria_met": r["criteria_met"],
            "override": _json_safe({k: r[k] for k in ("override_reason", "override_by", "override_on")}
                                   if r["override_reason"] else None),
            "evidence": _json_safe(ev_by_urn.get(urn, [])), "measures": _json_safe(measures.get(urn, {})),
            "rule_set": rule_set, "feed_checksums": checksums, "run_id": run_id})
    earlier = _terms_before(eng, la_code, term)  # the term this run compared with (history.previous)
    blank = {c.name: None for c in school_terms.columns}
    for r in ([] if academies is None else academies.to_dict("records")):
        rows.append({**blank, "la_code": la_code, "term": t, "urn": int(r["urn"]), "school_name": r["school_name"],
                     "maintained": 0, "measures": _json_safe(measures.get(int(r["urn"]), {})),
                     "rule_set": rule_set, "feed_checksums": checksums, "run_id": run_id})
    with eng.begin() as conn:
        conn.execute(delete(school_terms).where((school_terms.c.la_code == la_code) & (school_terms.c.term == t)))
        if rows:
            conn.execute(insert(school_terms), rows)
        conn.execute(delete(runs).where((runs.c.la_code == la_code) & (runs.c.term == t)))
        conn.execute(insert(runs).values(la_code=la_code, term=t, run_id=run_id, rule_set=rule_set,
                                         feed_checksums=checksums, recorded_at=datetime.now(timezone.utc)))
        conn.execute(delete(compared_terms).where((compared_terms.c.la_code == la_code) & (compared_terms.c.term == t)))
        conn.execute(insert(compared_terms).values(la_code=la_code, term=t,
                                                   previous_term=earlier[0] if earlier else None))


# The flags' kinds by what they record: a letter (no prefix), an academy's next step, an alert to ward members.
FLAG_PREFIXES = {"next_step": "academy:", "alert": "member:"}


def record_flags(eng: Engine, la_code: str, term: Term, run_id: str, frame: pd.DataFrame, kind_col: str) -> None:
    """Replace this term's letter, academy or member-alert flags (kind_col names the letter, 'academy:<step>' or
    'member:<alert>')."""
    t = str(term)
    kinds = set(frame[kind_col]) if not frame.empty else set()
    with eng.begin() as conn:
        prefix = FLAG_PREFIXES.get(kind_col, "")
        q = delete(flags).where((flags.c.la_code == la_code) & (flags.c.term == t))
        q = q.where(flags.c.kind.like(f"{prefix}%")) if prefix else q.where(
            *(~flags.c.kind.like(f"{p}%") for p in FLAG_PREFIXES.values()))
        conn.execute(q)
        if kinds:
            conn.execute(insert(flags), [
                {"la_code": la_code, "term": t, "urn": int(r["urn"]), "kind": prefix + str(r[kind_col]),
                 "indicators": r.get("indicators") or r.get("concerns"), "evidence": r.get("evidence"),
                 "run_id": run_id} for r in frame.to_dict("records")])


def _terms_before(eng: Engine, la_code: str, term: Term) -> list[str]:
    with eng.connect() as conn:
        found = conn.execute(select(runs.c.term).where(runs.c.la_code == la_code)).scalars().all()
    return sorted((t for t in found if Term.parse(t) < term), key=Term.parse, reverse=True)


def previous(eng: Engine, la_code: str, term: Term) -> dict[int, dict]:
    """For each school: the category in the latest earlier term, and figures from earlier terms (newest wins)."""
    out: dict[int, dict] = {}
    earlier = _terms_before(eng, la_code, term)
    if not earlier:
        return out
    with eng.connect() as conn:
        rows = conn.execute(select(school_terms.c.urn, school_terms.c.term, school_terms.c.category,
                                   school_terms.c.measures, school_terms.c.reasons)
                            .where((school_terms.c.la_code == la_code) & school_terms.c.term.in_(earlier))).all()
    from .decisions.categorise import placed_by_default
    for urn, t, category, measures, reasons in sorted(rows, key=lambda r: Term.parse(r[1]), reverse=True):
        h = out.setdefault(urn, {"previous_category": None, "prior": {}, "previous_term": None})
        if h["previous_term"] is None and t == earlier[0]:
            h["previous_category"], h["previous_term"] = category, t
            # Last term's level was the no-evidence placement: a move from it says nothing of the school either.
            if category and placed_by_default(category, reasons):
                h["previous_by_default"] = True
        for k, v in (measures or {}).items():
            h["prior"].setdefault(k, tuple(v))
    return out


def category_history(eng: Engine, la_code: str, upto: Term, terms: int = 6) -> pd.DataFrame:
    """urn, term, category for the last `terms` terms up to and including `upto` (maintained schools)."""
    with eng.connect() as conn:
        rows = conn.execute(select(school_terms.c.urn, school_terms.c.term, school_terms.c.category)
                            .where((school_terms.c.la_code == la_code) & (school_terms.c.maintained == 1))).all()
    df = pd.DataFrame(rows, columns=["urn", "term", "category"])
    if df.empty:
        return df
    keep = sorted({t for t in df["term"] if Term.parse(t) <= upto}, key=Term.parse)[-terms:]
    return df[df["term"].isin(keep)].sort_values(["term", "urn"], key=lambda s: s.map(
        lambda v: Term.parse(v) if isinstance(v, str) and "-" in v else v)).reset_index(drop=True)


def flag_history(eng: Engine, la_code: str, before: Term) -> pd.DataFrame:
    with eng.connect() as conn:
        rows = conn.execute(select(flags.c.term, flags.c.urn, flags.c.kind).where(flags.c.la_code == la_code)).all()
    df = pd.DataFrame(rows, columns=["term", "urn", "kind"])
    return df[[Term.parse(t) < before for t in df["term"]]] if not df.empty else df


def tables(eng: Engine) -> list[str]:
    return inspect(eng).get_table_names()


def recorded_run(eng: Engine, la_code: str, term: Term) -> dict | None:
    """The run whose results the history holds for this LA and term: run_id and feed_checksums, or None."""
    with eng.connect() as conn:
        row = conn.execute(select(runs.c.run_id, runs.c.feed_checksums, runs.c.rule_set)
                           .where((runs.c.la_code == la_code) & (runs.c.term == str(term)))).first()
    return None if row is None else {"run_id": row[0], "feed_checksums": row[1] or {}, "rule_set": row[2]}


def later_terms_problem(eng: Engine, la_code: str, term: Term, table: pd.DataFrame) -> "Problem | None":
    """A warning when terms after this one are already in the history and took, as their previous level of support,
    another level than this run gives (this term run after them, out of order, or re-run with other results): their
    change since last term, movers and direction of travel are out of date until they are run again, in term order.
    Call it before record_term replaces this term's rows. None when no later term is held or they all agree."""
    from .errors import Problem

    with eng.connect() as conn:
        found = conn.execute(select(runs.c.term).where(runs.c.la_code == la_code)).scalars().all()
    later = sorted((t for t in found if Term.parse(t) > term), key=Term.parse)
    if not later:
        return None
    with eng.connect() as conn:
        took = dict(conn.execute(select(school_terms.c.urn, school_terms.c.previous_category).where(
            (school_terms.c.la_code == la_code) & (school_terms.c.term == later[0])
            & (school_terms.c.maintained == 1))).all())
    ours = dict(zip(table["urn"].astype(int), table["category"])) if not table.empty else {}
    differ = sorted(u for u in set(took) & set(ours) if took[u] != ours[u])
    if not differ:
        return _compared_with_another(eng, la_code, term, later)
    e = differ[0]
    rest = f" and the {len(later) - 1} term(s) after it" if len(later) > 1 else ""
    return Problem("history database", None, None,
                   # Nothing of the run itself (its id, when): a repeat of this run says the same, so its edition
                   # is the same and nothing new is published.
                   f"{later[0]}{rest} {'are' if rest else 'is'} already in the history. {later[0]} took another "
                   f"previous level of support than this run gives for {len(differ)} school(s) (e.g. URN {e}: "
                   f"{took[e] or 'none'} there, {ours[e]} here), being categorised before this term was, or after "
                   f"a run of it with other results: its change since last term, movers and direction of travel are "
                   f"out of date. Re-run {', '.join(later)}, in term order.",
                   "warning", "history_order")


def _compared_with_another(eng: Engine, la_code: str, term: Term, later: list[str]) -> "Problem | None":
    """The next term on record compared with a term before this one (or none), this term not yet run then: its
    levels agree with this run's, but its edition says "since <that term>" (or that no earlier term is held), which is
    out of date now this term is on record. None when it compared with this term, or it is not known (a history
    recorded before the compared terms were kept)."""
    from .errors import Problem

    with eng.connect() as conn:
        row = conn.execute(select(compared_terms.c.previous_term).where(
            (compared_terms.c.la_code == la_code) & (compared_terms.c.term == later[0]))).first()
    if row is None or row[0] == str(term):
        return None
    rest = f" and the {len(later) - 1} term(s) after it" if len(later) > 1 else ""
    what = f"with {row[0]}" if row[0] else "with no earlier term (none was on record)"
    return Problem("history database", None, None,
                   f"{later[0]}{rest} {'are' if rest else 'is'} already in the history, categorised before this term "
                   f"was: its edition compares {what}, not with {term}, now the last term on record before it. Its "
                   f"schools' previous levels agree with this run's, so its decisions stand, but its \"since\" "
                   f"wording, movers table and chart of recent terms leave {term} out. Re-run {', '.join(later)}, in "
                   "term order.",
                   "warning", "history_order")


def members_told(eng: Engine, la_code: str, term: Term) -> dict[int, tuple[set[str], str]]:
    """The alerts ward members had in the last term on record before `term`: urn -> (the reasons they were told, the
    term they were first told them in, when told the same again in a row)."""
    earlier = _terms_before(eng, la_code, term)
    if not earlier:
        return {}
    with eng.connect() as conn:
        rows = conn.execute(select(flags.c.urn, flags.c.indicators, flags.c.evidence).where(
            (flags.c.la_code == la_code) & (flags.c.term == earlier[0])
            & flags.c.kind.like(f"{FLAG_PREFIXES['alert']}%"))).all()
    return {int(u): ({r for r in str(why or "").split("; ") if r}, told or earlier[0]) for u, why, told in rows}


def letters_flagged_before(eng: Engine, la_code: str, term: Term,
                           academy: bool = False) -> tuple[str | None, dict[int, set[str]]]:
    """The letters flagged in the last term on record before `term` (or, `academy`, the academies' next steps):
    (that term, urn -> the letters or steps flagged)."""
    earlier = _terms_before(eng, la_code, term)
    if not earlier:
        return None, {}
    step = FLAG_PREFIXES["next_step"]
    kind_is = flags.c.kind.like(f"{step}%") if academy else (
        ~flags.c.kind.like(f"{step}%") & ~flags.c.kind.like(f"{FLAG_PREFIXES['alert']}%"))
    with eng.connect() as conn:
        rows = conn.execute(select(flags.c.urn, flags.c.kind).where(
            (flags.c.la_code == la_code) & (flags.c.term == earlier[0]) & kind_is)).all()
    out: dict[int, set[str]] = {}
    for urn, kind in rows:
        out.setdefault(int(urn), set()).add(str(kind)[len(step):] if academy else str(kind))
    return earlier[0], out


# The decisions of the term's last edition that differ from the one recorded now: what a re-run edition replaces.
replaced_results = Table(
    "replaced_results", metadata,
    Column("la_code", String(8), primary_key=True), Column("term", String(20), primary_key=True),
    Column("run_id", String(250)), Column("results", JSON, nullable=False))


# The runs whose results are an edition on the shared drive (published, or the same as the current one, so nothing new
# was published): a later run with other feeds and the same decisions replaces that edition, not the one it replaced,
# and a note of what changed names the edition it replaces.
published_runs = Table(
    "published_runs", metadata,
    Column("la_code", String(8), primary_key=True), Column("term", String(20), primary_key=True),
    Column("run_id", String(250), primary_key=True), Column("edition", String(40)), Column("rule_set", String(80)),
    Column("feed_checksums", JSON))


def record_published(eng: Engine, la_code: str, term: Term, run_id: str, edition: str) -> None:
    """Record that the run's results are `edition` of the term on the shared drive (publish, after it is current),
    with the feeds and rule set the history holds for the run."""
    t, held = str(term), recorded_run(eng, la_code, term)
    mine = held if held is not None and held["run_id"] == run_id else {}
    with eng.begin() as conn:
        conn.execute(delete(published_runs).where((published_runs.c.la_code == la_code) & (published_runs.c.term == t)
                                                  & (published_runs.c.run_id == run_id)))
        conn.execute(insert(published_runs).values(la_code=la_code, term=t, run_id=run_id, edition=edition,
                                                   rule_set=mine.get("rule_set"),
                                                   feed_checksums=mine.get("feed_checksums")))


def published_run(eng: Engine, la_code: str, term: Term, run_id: str | None) -> dict | None:
    """The edition a run's results were published as (edition, rule_set, feed_checksums), or None."""
    if not run_id:
        return None
    with eng.connect() as conn:
        row = conn.execute(select(published_runs.c.edition, published_runs.c.rule_set, published_runs.c.feed_checksums)
                           .where((published_runs.c.la_code == la_code) & (published_runs.c.term == str(term))
                                  & (published_runs.c.run_id == run_id))).first()
    return None if row is None else {"edition": row[0], "rule_set": row[1], "feed_checksums": row[2] or {}}


def term_results(eng: Engine, la_code: str, term: Term) -> dict | None:
    """The decisions the history holds for the term (call before this run replaces them): levels of support per
    maintained school, the letter flagged per school, the academies' next steps, and the schools' names; None when
    the term was never recorded."""
    t = str(term)
    held = recorded_run(eng, la_code, term)
    if held is None:
        return None
    with eng.connect() as conn:
        schools = conn.execute(select(school_terms.c.urn, school_terms.c.school_name, school_terms.c.category,
                                      school_terms.c.maintained)
                               .where((school_terms.c.la_code == la_code) & (school_terms.c.term == t))).all()
        flagged = conn.execute(select(flags.c.urn, flags.c.kind)
                               .where((flags.c.la_code == la_code) & (flags.c.term == t))).all()
    return decisions({int(u): c for u, _, c, m in schools if m}, _by_urn(flagged, ""),
                     _by_urn(flagged, FLAG_PREFIXES["next_step"]), {int(u): n for u, n, _, _ in schools},
                     held["run_id"], held.get("rule_set") or "")


def _by_urn(rows, prefix: str) -> dict[int, str]:
    out: dict[int, list[str]] = {}
    for urn, kind in rows:
        kind = str(kind)
        if prefix and kind.startswith(prefix):
            out.setdefault(int(urn), []).append(kind[len(prefix):])
        elif not prefix and not any(kind.startswith(p) for p in FLAG_PREFIXES.values()):
            out.setdefault(int(urn), []).append(kind)
    return {u: "; ".join(sorted(ks)) for u, ks in out.items()}


def decisions(levels: dict, letters: dict, academies: dict, names: dict, run_id: str = "", rule_set: str = "") -> dict:
    """A term's decisions in one JSON-safe shape (keys are URNs as text): what two editions are compared on (and the
    rule set that made them, said when it changed)."""
    def text(d):
        return {str(int(k)): str(v) for k, v in d.items() if v is not None and str(v) != ""}
    return {"run_id": run_id, "levels": text(levels), "letters": text(letters), "academies": text(academies),
            "names": text(names), "rule_set": rule_set}


def _same(a: dict, b: dict) -> bool:
    return all(a.get(k) == b.get(k) for k in ("levels", "letters", "academies"))


def remember_replaced(eng: Engine, la_code: str, term: Term, held: dict | None, new: dict) -> dict | None:
    """The decisions this run's edition replaces: those held before it when they differ from this run's (kept), else
    the ones kept when an earlier run changed them (so a repeat of a changed run says the same, its edition is the
    same, and nothing new is published). None when the term's decisions never changed."""
    t = str(term)
    with eng.begin() as conn:
        if held is not None and not _same(held, new):
            conn.execute(delete(replaced_results).where((replaced_results.c.la_code == la_code)
                                                        & (replaced_results.c.term == t)))
            conn.execute(insert(replaced_results).values(la_code=la_code, term=t, run_id=held.get("run_id"),
                                                         results=_json_safe(held)))
            return held
        row = conn.execute(select(replaced_results.c.results).where(
            (replaced_results.c.la_code == la_code) & (replaced_results.c.term == t))).first()
    if row is None or _same(row[0], new):  # back as it was: nothing replaced
        return None
    # This run's decisions are the last run's, which changed them from those kept. When that run's edition was
    # published and this run read other feeds or another rule set, this run's edition replaces that one, whose
    # decisions are the same: nothing to say, and nothing kept for a repeat of this run to say. A repeat of that run
    # (the same feeds and rule set) says what it said: its edition is the same and nothing new is published.
    published = published_run(eng, la_code, term, (held or {}).get("run_id"))
    mine = recorded_run(eng, la_code, term) or {}
    if published is not None and (published["feed_checksums"] != (mine.get("feed_checksums") or {})
                                  or published["rule_set"] != mine.get("rule_set")):
        with eng.begin() as conn:
            conn.execute(delete(replaced_results).where((replaced_results.c.la_code == la_code)
                                                        & (replaced_results.c.term == t)))
        return None
    return row[0]


def replaced_problems(replaced: dict | None, new: dict, term: Term, edition: str = "") -> list:
    """What this edition changes from the earlier one of the term it replaces, for the front page (one sentence,
    `edition_replaced`, first in its box) and data_quality.csv (one row per school changed, `edition_change`, naming
    the URN, the old decision and the new, as categorisation.csv, letters.csv and academy_concerns.csv now give it).
    Nothing when the term's decisions never changed (a first run, or a repeat with the same results)."""
    from .errors import Problem
    from .vocabulary import VOCAB

    if not replaced:
        return []
    names = {**replaced.get("names", {}), **new.get("names", {})}

    def said(key, value):
        if value is None:
            return "not categorised" if key == "levels" else "none"
        if key == "levels":
            return value
        return "; ".join(VOCAB.letters.get(v, v.replace("_", " ")) for v in value.split("; "))

    rows, parts = [], []
    for key, what in (("levels", "level of support"), ("letters", "letter"), ("academies", "academy's next step")):
        old, now = replaced.get(key, {}), new.get(key, {})
        changed = sorted((u for u in set(old) | set(now) if old.get(u) != now.get(u)), key=int)
        for u in changed:
            rows.append(Problem("history database", None, "urn", (
                f"URN {u} ({names.get(u, 'name not known')}): {what} {said(key, old.get(u))} in the earlier edition "
                f"of {term}, {said(key, now.get(u))} in this one"), "info", "edition_change"))
        if changed:
            shown = "; ".join(f"{names.get(u, 'URN ' + u)}: {said(key, old.get(u))} → {said(key, now.get(u))}"
                              for u in changed[:3])
            more = f"; and {len(changed) - 3} more" if len(changed) > 3 else ""
            label = {"levels": "levels of support", "letters": "letters", "academies": "academies' next steps"}[key]
            parts.append(f"{label} changed for {len(changed)} school{'s' if len(changed) != 1 else ''} "
                         f"({shown}{more})")
    if not rows:
        return []
    # A rule set changed between the two runs moves decisions by the reading, not the evidence: say so first.
    before, now_rs = replaced.get("rule_set") or "", new.get("rule_set") or ""
    if before and now_rs and before != now_rs:
        parts.insert(0, f"the earlier edition was decided under rule set {before}, this one under {now_rs}")
    # `edition`: the one the replaced decisions were published as (history.published_run), named when known.
    which = (f"{edition} of {term}, whose decisions differ: " if edition else
             f"an earlier edition of {term} (the last run recorded before it; if that run was not published, the "
             "edition before it) whose decisions differ: ")
    head = Problem("history database", None, None, (
        "This edition replaces " + which + "; ".join(parts)
        + ". Each change is listed in data_quality.csv (check edition_change)"), "warning", "edition_replaced")
    return [head, *rows]
