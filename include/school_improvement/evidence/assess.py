"""The evidence stage: every school's indicators and evidence, computed once per term.

The rule set asks questions of each school (a criterion's bullets, a letter's indicators, an academy concern),
and each question is answered by evidence: a data indicator, an adviser judgement, an LA-intelligence flag or a
letter in the letters log. This module answers them all, once, for every open school of the LA, and keeps the
answers (`TermEvidence`) as the run's `evidence/` artefact; categorise, the letters and the report read the
answers instead of asking again. Nothing here decides a level or a letter: that is `decisions/`.

A check is met, not met, or not judged (met None, with the reason). Its evidence is kept in both wordings: in
full (restricted edition) and as the general edition may show it (confidential evidence named by kind only).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from ..errors import FeedError, Problem
from .indicators import Finding, SchoolIndicators
from ..rules import Evidence, RuleSet
from ..ingest.termdata import TermData, months_before
from ..quality.data_age import too_old_problems
from ..terms import Term, term_for_date
from ..vocabulary import VOCAB

SEVERITY_RANK = {s: i for i, s in enumerate(VOCAB.severities)}
# Intelligence about these flags is confidential in its specifics (left out of the general edition).
CONFIDENTIAL_FLAGS = VOCAB.restricted_flags


def _is_blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()) or v is pd.NaT


def _as_date(v) -> date | None:
    if _is_blank(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


@dataclass(slots=True)  # a county holds a few hundred thousand of these: no per-instance dict
class Check:
    """The outcome of one piece of evidence for one school."""

    met: bool | None
    measure: str
    value: str = ""
    reason: str = ""
    source: str = ""
    detail: str = ""  # confidential specifics (LA intelligence detail, adviser note)
    confidential: bool = False
    comparator: str = ""  # what the figure was compared with, e.g. "national 61.0%"

    @property
    def general_value(self) -> str:
        """What the general edition may say: confidential evidence is named by kind only."""
        return f"{self.measure} (detail restricted)" if self.confidential else self.value


class SchoolEvidence:
    """Answers the rule set's evidence questions for one school in one term."""

    def __init__(self, urn: int, data: TermData, rules: RuleSet, prior: dict | None = None):
        self.urn, self.data, self.rules = urn, data, rules
        self.indicators = SchoolIndicators(urn, data, rules, prior)
        self.start, self.end = terms_window(data.term, rules.windows.evidence_terms)
        self.term_start = data.term.dates()[0]

    def check(self, ev: Evidence) -> Check:
        return getattr(self, f"_{ev.kind}")(ev)

    def predecessor_of(self, f: Finding) -> int | None:
        """The predecessor URN whose figures a judged finding read (GIAS links), or None: the school's own."""
        kind = self.data.kind_of_source(f.source) if f.source and f.met is not None else None
        return (self.data.row(kind, self.urn) or {}).get("_predecessor") if kind else None

    def _indicator(self, ev: Evidence) -> Check:
        f: Finding = self.indicators.get(ev.indicator)
        value, reason = f.value, f.reason
        held = self.predecessor_of(f)
        if held is not None:  # figures of a predecessor school (GIAS links): the evidence says whose
            value = f"{value} (figures of predecessor URN {held}, GIAS links)"
        elif f.met is None:  # not judged: a school formed from several with figures says so, naming them
            notes = [n for n in (self.data.predecessor_note(k, self.urn) for k in PREDECESSOR_KINDS) if n]
            if notes and notes[0] not in reason:
                reason = f"{reason}; {notes[0]}" if reason else notes[0]
        return Check(f.met, f"data: {ev.indicator}", value, reason, f.source, comparator=f.comparator)

    def _adviser(self, ev: Evidence) -> Check:
        measure = f"adviser: {ev.adviser}"
        found = adviser_lookup(self.data, self.rules)
        latest = found["current"].get((self.urn, ev.adviser))
        if latest is None:
            stale = found["stale"].get((self.urn, ev.adviser))
            return Check(None, measure, reason=stale or "no current adviser judgement on this criterion")
        met = bool(latest["met"])
        note = "" if _is_blank(latest.get("note")) else str(latest["note"])
        return Check(met, measure,
                     f"adviser judgement on {ev.adviser} ({latest.get('adviser')}, visit {latest['_date']}): "
                     f"{'met' if met else 'not met'}", source=str(latest.get("_source", "adviser judgements")),
                     detail=note, confidential=bool(note))

    def _intelligence(self, ev: Evidence) -> Check:
        rows = records_for(self.data, "la_intelligence", self.urn)
        measure = f"LA intelligence: {', '.join(ev.intelligence)}"
        if not self.data.by_kind.get("la_intelligence"):  # no file is not "no flag raised": said, not judged
            return Check(None, measure, reason="not judged: no LA intelligence file was supplied",
                         source="LA intelligence")
        if not rows:
            return Check(False, measure, "no LA intelligence flag raised", source="LA intelligence")
        since = months_before(self.term_start, ev.within_months) if ev.within_months else self.start
        lo, hi = SEVERITY_RANK[ev.min_severity], SEVERITY_RANK[ev.max_severity]
        hits = []
        for r in rows:
            raised = _as_date(r.get("raised_on"))
            sev = SEVERITY_RANK.get(str(r.get("severity", "")).lower(), -1)
            if r.get("flag") in ev.intelligence and lo <= sev <= hi and raised and since <= raised <= self.end:
                hits.append(r)
        flags = sorted({h["flag"] for h in hits})
        if len(flags) < ev.min_count:
            return Check(False, measure, "no matching LA intelligence flag in the evidence window",
                         source="LA intelligence")
        value = "; ".join(f"{h['flag'].replace('_', ' ')} ({h['severity']}) raised by {h.get('raised_by_team')} on "
                          f"{_as_date(h['raised_on'])}" for h in hits)
        detail = "; ".join(str(h.get("detail")) for h in hits if not _is_blank(h.get("detail")))
        return Check(True, measure, value, source=str(hits[0].get("_source", "LA intelligence")),
                     detail=detail, confidential=bool(set(flags) & CONFIDENTIAL_FLAGS) or bool(detail))

    def _all_of(self, ev: Evidence) -> Check:
        """Met when every part is met (e.g. the data and the adviser's confirmation); not met when any part is not;
        otherwise not judged, with the parts' reasons."""
        parts = [self.check(e) for e in ev.all_of]
        met = False if any(p.met is False for p in parts) else True if all(p.met for p in parts) else None
        return Check(met, " + ".join(p.measure for p in parts), "; ".join(p.value for p in parts if p.value),
                     "; ".join(p.reason for p in parts if p.met is None and p.reason),
                     next((p.source for p in parts if p.source), ""), "; ".join(p.detail for p in parts if p.detail),
                     any(p.confidential for p in parts), "; ".join(p.comparator for p in parts if p.comparator))

    def _letter_issued(self, ev: Evidence) -> Check:
        measure = f"letters log: {', '.join(ev.letter_issued)}"
        if not self.data.by_kind.get("letters_log"):  # no file is not "no letter": said, not judged
            return Check(None, measure, reason="not judged: no letters log was supplied", source="letters log")
        hits = issued_letters(self.data, self.urn, ev.letter_issued, ev.within_terms)
        if not hits:
            return Check(False, measure, "no such letter in the letters log", source="letters log")
        value = "; ".join(f"{h['letter'].replace('_', ' ')} issued {h['issued_on']}" for h in hits)
        return Check(True, measure, value, source="letters log")


def comparator_problems(data: TermData, rules: RuleSet) -> list[Problem]:
    """A warning when a results file has national rows but none of the kind the rule set compares with (its
    `national_comparator`): no school of that key stage is compared with national, rather than with another average."""
    from ..ingest.termdata import NATIONAL_LABELS, NATIONAL_RECTYPES

    out = []
    for kind in NATIONAL_RECTYPES:  # a file with several national rows and a rule set that does not choose
        f = data.latest(kind)
        comps = f.comparators if f is not None else None
        if kind in rules.national_comparator or comps is None or comps.empty or "rectype" not in comps:
            continue
        types = set(comps.loc[comps["level"] == "national", "rectype"].astype(str).str.strip())
        if len(types) > 1:
            used = data.national(kind).get("_label") or "the file's first national row"
            out.append(Problem(f.source, None, "RECTYPE", (
                f"the {kind.upper()} file has {len(types)} national rows and rule set {rules.id} does not say which "
                f"national average its schools are compared with (national_comparator): compared with {used}"),
                "warning", "national_comparator"))
    for kind, scope in rules.national_comparator.items():
        f = data.latest(kind)
        comps = f.comparators if f is not None else None
        if comps is None or comps.empty or "level" not in comps or "rectype" not in comps:
            continue
        if (comps["level"] == "national").any() and not data.national(kind, scope=scope):
            types = NATIONAL_RECTYPES.get(kind, {})
            code = next((r for r, s in types.items() if s == scope), "?")
            out.append(Problem(f.source, None, "RECTYPE", (
                f"the {kind.upper()} file has no {NATIONAL_LABELS.get(scope, scope)} row (RECTYPE {code}), the national "
                f"figure rule set {rules.id} compares with: no school's {kind.upper()} results are compared with national"),
                "warning", "national_comparator"))
    return out


# The published feeds a new URN may take from its predecessors (ingest.termdata.SCOPED_KINDS).
PREDECESSOR_KINDS = ("ks2", "ks4", "absence", "census", "ofsted")


def records_for(data: TermData, kind: str, urn: int) -> list[dict]:
    """One school's rows of an LA-held feed as records, grouped once per term (every criterion asks)."""
    key = ("records", kind)
    if key not in data._cache:
        df = data.frame(kind)
        groups: dict[int, list[dict]] = {}
        if not df.empty and "urn" in df:
            for r in df.to_dict("records"):
                groups.setdefault(int(r["urn"]), []).append(r)
        data._cache[key] = groups
    return data._cache[key].get(int(urn), [])


def terms_window(term: Term, n_terms: int) -> tuple[date, date]:
    """From the start of the term (n_terms - 1) before this one to the end of this one."""
    first = term
    for _ in range(max(n_terms - 1, 0)):
        first = first.previous()
    return first.dates()[0], term.dates()[1]


def check_adviser_judgements(data: TermData, rules: RuleSet) -> None:
    """Every adviser judgement names a criterion of the rule set, in its area: else a critical error.

    A mistyped id (`lm-h1`, `LMH1`, `LM-H10`) would otherwise make the judgement vanish without a word.
    """
    df = data.frame("adviser_judgements")
    if df.empty or "criterion_id" not in df:
        return
    area_of = {c.id: c.area for c in rules.criteria}
    squash = {c.replace("-", "").replace(" ", "").upper(): c for c in area_of}
    problems = []
    for r in df.to_dict("records"):
        cid, area = str(r.get("criterion_id") or "").strip(), str(r.get("area") or "").strip()
        where = dict(file=str(r.get("_source") or data.latest("adviser_judgements").source),
                     row=int(r["_row"]) if not _is_blank(r.get("_row")) else None, check="known_criterion")
        if cid not in area_of:
            guess = squash.get(cid.replace("-", "").replace(" ", "").upper())
            problems.append(Problem(**where, column="criterion_id", message=(
                f"criterion {cid!r} is not a criterion of rule set {rules.id}"
                + (f" (did you mean {guess!r}? ids are case-sensitive)" if guess else
                   f"; its criteria run {min(area_of)} to {max(area_of)}"))))
        elif area and area != area_of[cid]:
            problems.append(Problem(**where, column="area", message=(
                f"criterion {cid} belongs to area {area_of[cid]!r}, not {area!r}")))
    if problems:
        raise FeedError(problems)


def check_moderation(data: TermData, rules: RuleSet) -> None:
    """A moderation decision for this term names one of the rule set's levels: else a critical error."""
    df = data.frame("moderation")
    if df.empty or "final_category" not in df:
        return
    problems = [Problem(str(r.get("_source") or data.latest("moderation").source),
                        int(r["_row"]) if not _is_blank(r.get("_row")) else None, "final_category",
                        f"{r['final_category']!r} is not a level of rule set {rules.id} ({', '.join(rules.levels)})",
                        check="known_level")
                for r in df.to_dict("records")
                if str(r.get("term")) == str(data.term) and str(r["final_category"]) not in rules.levels]
    if problems:
        raise FeedError(problems)


def adviser_lookup(data: TermData, rules: RuleSet) -> dict:
    """The latest current adviser judgement per (urn, criterion), built once per term.

    Current: dated within the rule set's `windows.adviser_judgement_terms` up to the end of this term. An
    undated or older judgement is not evidence; the reason is kept for the evidence table.
    """
    key = ("adviser_lookup", rules.id, rules.windows.adviser_judgement_terms)
    if key in data._cache:
        return data._cache[key]
    start, end = terms_window(data.term, rules.windows.adviser_judgement_terms)
    current: dict = {}
    stale: dict = {}
    latest_adviser: dict = {}
    problems: list[Problem] = []
    df = data.frame("adviser_judgements")
    if not df.empty and "criterion_id" in df:
        for r in df.to_dict("records"):
            k = (int(r["urn"]), r["criterion_id"])
            d = _as_date(r.get("visit_date"))
            if d is None or d < start:
                why = ("adviser judgement has no visit date: not current evidence" if d is None else
                       f"adviser judgement of {d} is older than the rule set's window (from {start}): "
                       "not current evidence")
                stale.setdefault(k, why)
                problems.append(Problem(str(r.get("_source") or data.latest("adviser_judgements").source),
                                        int(r["_row"]) if not _is_blank(r.get("_row")) else None, "visit_date",
                                        f"{k[1]} for URN {k[0]}: {why}", "warning", "adviser_judgement_not_current"))
                continue
            if d > end:
                continue
            r["_date"] = d
            if k not in current or current[k]["_date"] <= d:
                current[k] = r
            if k[0] not in latest_adviser or latest_adviser[k[0]][0] <= d:
                latest_adviser[k[0]] = (d, r.get("adviser"))
    data._cache[key] = {"current": current, "stale": stale, "problems": problems,
                        "adviser": {u: str(a) for u, (_, a) in latest_adviser.items()}}
    return data._cache[key]


def issued_letters(data: TermData, urn: int, letters: list[str], within_terms: int) -> list[dict]:
    """Letters of these kinds issued to the school in this term or the (within_terms - 1) before it."""
    rows = records_for(data, "letters_log", urn)
    if not rows:
        return []
    # The term (within_terms - 1) before this one, counted in terms (Term.previous that many times, without building
    # each: the letters-log ladder check asks for 10 ** 6 terms, which took 0.4 s of CPU per call).
    back = data.term.start_year * 3 + data.term.season_index - max(within_terms - 1, 0)
    first = Term(back // 3, back % 3)
    out = []
    for r in rows:
        d = _as_date(r.get("issued_on"))
        try:  # the log says which term a letter belongs to; its date decides only when it does not
            t = Term.parse(str(r.get("term") or ""))
        except ValueError:
            t = term_for_date(d) if d else None
        if r.get("letter") in letters and d and t and first <= t <= data.term:
            out.append({**r, "issued_on": d, "_term": t})
    return sorted(out, key=lambda r: (r["issued_on"], r["letter"]))




def _open_schools(data: TermData, kind: str) -> pd.DataFrame:
    """The LA's schools of one kind (`is_la_maintained` or `is_academy` in GIAS) open when the term began, by URN.

    GIAS's open and close dates say it, not only its status today: an extract downloaded after the term lists a
    school that closed since (to become an academy, say) as closed, and the academy that replaced it as open,
    though in the term the school was the LA's to categorise and the academy did not yet exist.

    "Open, but proposed to close" is GIAS's word that the school was open on the extract's day: its CloseDate is a
    proposal, not a closure (a conversion date often slips). Such a school is open unless the GIAS links file
    records its successor from before the term began; `proposed_closures` names each one for data_quality.csv.

    Built once per term and kind, as the frames it reads are (TermData.frame): assess, its checks, categorise and the
    letters each ask for it, 6-10 times a term. The frame is shared: callers read it, never write into it."""
    key = ("open_schools", kind)
    if key not in data._cache:
        data._cache[key] = _open_then(data, kind)
    return data._cache[key]


def _open_then(data: TermData, kind: str) -> pd.DataFrame:
    gias = data.frame("gias")
    if gias.empty:
        return gias
    start = data.term.dates()[0]
    status = gias["status"].astype(str)
    opened = [d if isinstance(d, date) else None for d in gias.get("open_date", pd.Series(None, index=gias.index))]
    closed = [d if isinstance(d, date) else None for d in gias.get("close_date", pd.Series(None, index=gias.index))]
    succeeded = successor_dates(data)
    open_then = pd.Series([
        (not (o is not None and o > start)) and (
            not (succeeded.get(int(u)) is not None and succeeded[int(u)] < start) if s.startswith(PROPOSED_TO_CLOSE)
            else (s.startswith("Open") or (s.startswith("Closed") and c is not None and c >= start))
            and not (c is not None and c < start))
        for u, s, o, c in zip(gias["urn"], status, opened, closed)], index=gias.index)
    mine = gias["la_code"].astype(str) == str(data.la_code)
    return gias[open_then & mine & gias[kind].astype(bool)].sort_values("urn")


PROPOSED_TO_CLOSE = "Open, but proposed to close"


def gias_close_date_problems(data: TermData) -> list[Problem]:
    """The LA's schools GIAS lists as closed with no CloseDate, in an extract that may postdate the term's start.

    The term's schools are those open when it began, by their close dates (`_open_schools`); a closed school with no
    date is taken as closed all term, so a school the LA maintained then (converted since, say) would be in no output
    without a word. Real GIAS extracts give every closed school its CloseDate: all of them blank is the column renamed
    or dropped (a trial: 'CloseDate' saved as 'Close Date' lost 6 of real Surrey's 172 schools from 2021-22-autumn).
    An extract dated after the term began, in which no closed school of the LA has a date (the column), stops the run
    naming the rows and the column; a few blank cells among dated ones (an old record), or an undated extract, are
    warned about: the run goes on, the schools taken as closed all term and named for checking."""
    gias = data.frame("gias")
    f = data.latest("gias")
    if gias.empty or f is None or "status" not in gias:
        return []
    mine = gias[(gias["la_code"].astype(str) == str(data.la_code)) & gias["status"].astype(str).str.startswith("Closed")]
    undated = mine[[_as_date(d) is None for d in mine.get("close_date", pd.Series(None, index=mine.index))]]
    if undated.empty:
        return []
    when, start = extract_date(f.source), data.term.dates()[0]
    if when is not None and when < start:
        return []  # closed before the extract was taken, so before the term began: rightly not in it
    rows = sorted(int(r) for r in undated.get("_row", pd.Series(dtype=float)).dropna())
    every = len(undated) == len(mine) > 1  # the column, not a record or two
    message = (f"{len(undated)} of LA {data.la_code}'s schools listed as closed have no CloseDate"
               + (" (none of them has one: is the column named CloseDate, as GIAS names it?)" if every else "") + f" (e.g. URN {', '.join(str(int(u)) for u in undated['urn'][:5])}; rows "
               + f"{', '.join(map(str, rows[:10]))}{' ...' if len(rows) > 10 else ''}): "
               + (f"the extract is of {when:%d %B %Y}, after {data.term} began ({start:%d %B %Y}), so they may have been "
                  f"open then and the LA's to categorise"
                  + ("; they would be left out of the term without a word. Download the extract again with CloseDate, "
                     "or one taken before the term began" if every else
                     ": they are taken as closed all term; check them against your records")
                  if when is not None else
                  f"the extract's date is not in its name, so whether they closed before {data.term} began "
                  f"({start:%d %B %Y}) cannot be told: they are taken as closed all term; check them"))
    return [Problem(f.source, rows[0] if rows else None, "CloseDate", message,
                    "critical" if when is not None and every else "warning", "gias_close_date")]


def gias_open_date_problems(data: TermData) -> list[Problem]:
    """The LA's open academies with no OpenDate in an extract dated after the term began: GIAS gives every academy the
    day it opened, and an academy that opened after the term began (a conversion) was its predecessor's term, so without
    the date it is judged as an academy beside the maintained school it replaced (a trial: 'OpenDate' renamed put 6
    converters that opened after 1 September 2021 into real Surrey's 2021-22-autumn twice). None of them dated (the
    column) stops the run naming the rows and the column; a few blank cells are warned about; an undated extract is
    not checked (maintained schools often have no OpenDate)."""
    gias = data.frame("gias")
    f = data.latest("gias")
    if gias.empty or f is None or "is_academy" not in gias:
        return []
    when, start = extract_date(f.source), data.term.dates()[0]
    if when is None or when < start:
        return []
    mine = gias[(gias["la_code"].astype(str) == str(data.la_code)) & gias["is_academy"].astype(bool)
                & gias["status"].astype(str).str.startswith("Open")]
    undated = mine[[_as_date(d) is None for d in mine.get("open_date", pd.Series(None, index=mine.index))]]
    if undated.empty:
        return []
    rows = sorted(int(r) for r in undated.get("_row", pd.Series(dtype=float)).dropna())
    return [Problem(f.source, rows[0] if rows else None, "OpenDate", (
        f"{len(undated)} of LA {data.la_code}'s open academies have no OpenDate"
        + (" (none of them has one: is the column named OpenDate, as GIAS names it?)"
           if len(undated) == len(mine) and len(mine) > 1 else "")
        + f" (e.g. URN {', '.join(str(int(u)) for u in undated['urn'][:5])}; rows {', '.join(map(str, rows[:10]))}"
        + f"{' ...' if len(rows) > 10 else ''}): the extract is of {when:%d %B %Y}, after {data.term} began "
        f"({start:%d %B %Y}), so those that opened since (converters) cannot be told from those open then, and would be "
        f"judged as academies beside the schools they replaced. Download the extract again with OpenDate, or one taken "
        f"before the term began"), "critical" if len(undated) == len(mine) else "warning", "gias_open_date")]


def successor_dates(data: TermData) -> dict[int, date]:
    """URN -> the earliest date the GIAS links file gives a successor of the school (it closed then, or the day
    before its successor opened)."""
    key = ("successor_dates",)
    if key not in data._cache:
        out: dict[int, date] = {}
        for f in data.by_kind.get("gias_links") or []:
            df = f.schools
            if df.empty or "link_type" not in df:
                continue
            for u, t, d in zip(df["urn"], df["link_type"].astype(str), df["link_date"]):
                d = _as_date(d)
                if t.startswith("Successor") and d is not None and (int(u) not in out or d < out[int(u)]):
                    out[int(u)] = d
        data._cache[key] = out
    return data._cache[key]


def proposed_closures(data: TermData) -> list[Problem]:
    """A warning per LA school GIAS lists as "Open, but proposed to close" and this run takes as still open: the
    proposed date is not a closure, so the reader can check the school against the LA's own records."""
    gias = data.frame("gias")
    if gias.empty:
        return []
    f = data.latest("gias")
    when = extract_date(f.source)
    taken = maintained_schools(data)
    succeeded = successor_dates(data)
    out = []
    for r in taken[taken["status"].astype(str).str.startswith(PROPOSED_TO_CLOSE)].to_dict("records"):
        c, s = _as_date(r.get("close_date")), succeeded.get(int(r["urn"]))
        out.append(Problem(
            f.source, int(r["_row"]) if not _is_blank(r.get("_row")) else None, "EstablishmentStatus (name)",
            f"{r.get('school_name')} (URN {int(r['urn'])}) is listed as {PROPOSED_TO_CLOSE!r}"
            + (f" in the extract of {when:%d %B %Y}" if when else "")
            + (f", with a proposed closing date of {c:%d %B %Y}" if c else "")  # the date is the proposal's
            + f": a proposal, not a closure, so it is categorised as still LA-maintained in {data.term}"
            + (f" (the GIAS links file gives its successor from {s:%d %B %Y})" if s else
               "; check whether it has closed or converted (no GIAS links file says so)"),
            "warning", "gias_proposed_to_close"))
    return out


def extract_date(name: str) -> date | None:
    """The day a GIAS download was taken, from its file name (GIAS names its extracts by date)."""
    import re
    from pathlib import Path

    m = re.search(r"(20\d\d)-?(\d\d)-?(\d\d)", Path(str(name)).name)
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    except ValueError:
        return None


# Why a school categorised last term is not categorised in this one: GIAS's reason for closing, in words.
# GIAS's ReasonEstablishmentClosed: "For Academy" is a school closed to reopen as an academy (a sponsored one).
LEFT_REASONS = {"Academy Converter": "converted to an academy", "Academy Sponsor Led": "converted to an academy",
                "For Academy": "converted to an academy",
                "Result of Amalgamation/Merger": "amalgamated", "Closure": "closed",
                "Result of Amalgamation": "amalgamated"}
MEMBERSHIP_CHECKS = ("school_left", "school_joined")


def membership_changes(data: TermData, history: dict, maintained: set[int]) -> list[Problem]:
    """The schools categorised in the last term on record and not in this one (and why: converted to an academy,
    closed, amalgamated, not in the GIAS extract), and those categorised now that were not then, one info row each
    for data_quality.csv; the front page counts and names them."""
    prev_terms = {h.get("previous_term") for h in history.values() if h.get("previous_category")}
    prev_terms.discard(None)
    if not prev_terms:
        return []
    prev = max(prev_terms, key=Term.parse)
    before = {int(u): h["previous_category"] for u, h in history.items()
              if h.get("previous_category") and h.get("previous_term") == prev and not h.get("carried_from")}
    carried = {int(u): h["carried_from"] for u, h in history.items() if h.get("carried_from")}
    gias = data.frame("gias")
    rows = {int(r["urn"]): r for r in gias.to_dict("records")} if not gias.empty else {}
    source = data.latest("gias").source if data.latest("gias") is not None else "GIAS"
    start = data.term.dates()[0]
    succ = {}
    for f in data.by_kind.get("gias_links") or []:
        for u, lu, t in zip(f.schools.get("urn", []), f.schools.get("link_urn", []), f.schools.get("link_type", [])):
            if str(t).startswith("Successor"):
                succ.setdefault(int(u), int(lu))
    out = []
    for urn in sorted(set(before) - maintained):
        r = rows.get(urn)
        if r is None:
            why, name = "not in the GIAS extract", f"URN {urn}"
        else:
            name = f"{r.get('school_name')} (URN {urn})"
            c = _as_date(r.get("close_date"))
            if str(r.get("la_code")) != str(data.la_code):
                why = f"in another LA ({r.get('la_code')}) in the GIAS extract"
            elif str(r.get("status")).startswith(PROPOSED_TO_CLOSE) and successor_dates(data).get(urn):
                why = (f"GIAS proposed it to close ({_text(r.get('close_reason')).lower() or 'reason not given'}) and "
                       f"the GIAS links file gives its successor from {successor_dates(data)[urn]:%d %B %Y}")
            elif c is not None and c < start:
                why = LEFT_REASONS.get(_text(r.get("close_reason")), "closed") + f" ({c:%d %B %Y})"
            elif bool(r.get("is_academy")):
                why = "converted to an academy"
            elif not bool(r.get("is_la_maintained")):
                why = f"no longer LA-maintained (GIAS: {r.get('type')})"
            else:
                why = f"GIAS status {r.get('status')!r}"
            if urn in succ:
                s = rows.get(succ[urn])
                why += f"; successor URN {succ[urn]}" + (f" {s.get('school_name')}" if s else "")
                sent = sorted((d, str(r.get("letter"))) for r in records_for(data, "letters_log", urn)
                              if (d := _as_date(r.get("issued_on"))) is not None)
                if sent:  # a letter to the school it was does not follow the academy (its concerns: the academy route)
                    d, kind = sent[-1]
                    why += (f"; its letters ({'the latest: ' if len(sent) > 1 else ''}"
                            f"{VOCAB.letters.get(kind, kind)}, {d:%d %B %Y}) stay with URN {urn}, not the successor")
        out.append(Problem(source, None, "URN", f"{name}, {before[urn]} support in {prev}, is not categorised in "
                           f"{data.term}: {why}", "info", "school_left"))
    for urn in sorted(maintained - set(before) | (maintained & set(carried))):
        r = rows.get(urn) or {}
        o = _as_date(r.get("open_date"))
        if urn in carried:
            out.append(Problem(source, None, "URN", f"{r.get('school_name')} (URN {urn}) is categorised for the first "
                               f"time under this URN: it succeeds URN {carried[urn]}, whose {prev} level is its last "
                               "level (GIAS links)", "info", "school_joined"))
            continue
        why = (f"opened {o:%d %B %Y}" + (f" ({_text(r.get('open_reason')).lower()})" if _text(r.get("open_reason"))
                                         and _text(r.get("open_reason")) != "Not applicable" else "")
               if o is not None and o > Term.parse(prev).dates()[0] else f"not categorised in {prev}")
        out.append(Problem(source, None, "URN", f"{r.get('school_name')} (URN {urn}) is categorised for the first "
                           f"time since {prev}: {why}", "info", "school_joined"))
    return out


def maintained_schools(data: TermData) -> pd.DataFrame:
    return _open_schools(data, "is_la_maintained")


def academies(data: TermData) -> pd.DataFrame:
    return _open_schools(data, "is_academy")


# The indicators computed for every school whatever the rule set names: their figures are kept in the history.
MEASURE_INDICATORS = ("ofsted_good_or_better", "attainment_consistently_below", "disadvantaged_gap_wide",
                      "attendance_low_not_improving")


def school_measures(ev: SchoolEvidence, school: dict) -> dict:
    """Figures kept in the history so next term can see change (Ofsted band, absence, attainment)."""
    for name in MEASURE_INDICATORS:
        ev.indicators.get(name)
    out = {k: [v[0], v[1]] for k, v in ev.indicators.measures.items()}
    out["head"] = [ev.indicators.head_now(), ev.indicators.head_since()]
    return out


def intelligence_flags(data: TermData, urn: int) -> set[str]:
    """The school's LA-intelligence flags: a rule-set exception to the support plan may apply (no Primary Offer)."""
    return {str(r["flag"]) for r in records_for(data, "la_intelligence", urn) if "flag" in r}


# ------------------------------------------------------------------ the term's evidence, as tables
CHECK_COLUMNS = ["urn", "question", "criterion_id", "area", "level", "wording", "n", "measure", "met", "value",
                 "value_general", "comparator", "reason", "source", "detail", "confidential"]
FINDING_COLUMNS = ["urn", "indicator", "met", "value", "reason", "source"]
SCHOOL_COLUMNS = ["urn", "school_name", "kind", "adviser", "good_or_better", "results_summary", "flags"]
MEASURE_COLUMNS = ["urn", "measure", "figure"]  # figure: [value, data year] as typed JSON text (None stays None)
CRITERION = "criterion"  # the question a criterion's bullet asks; letters and academy concerns are named below
ACADEMY_CONCERN = "academy concern"


def letter_question(letter: str) -> str:
    return f"letter {letter}"


@dataclass
class CriterionEvidence:
    """One criterion (bullet) in force, and its checks in the rule set's order of evidence."""

    id: str
    area: str
    level: str
    wording: str
    checks: list[Check]


@dataclass
class SchoolAnswers:
    """What the evidence says about one school: read back from the evidence artefact, never recomputed."""

    urn: int
    school_name: object = None
    kind: str = ""
    adviser: str = ""
    good_or_better: bool | None = None
    results_summary: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    measures: dict = field(default_factory=dict)
    findings: dict = field(default_factory=dict)  # indicator -> Finding
    # The checks, read from the artefact when first asked for (categorise asks for criteria, the letters the rest).
    _criteria: list | None = field(default=None, repr=False)
    _questions: dict | None = field(default=None, repr=False)
    _owner: "TermEvidence | None" = field(default=None, repr=False, compare=False)

    @property
    def criteria(self) -> list[CriterionEvidence]:
        """The criteria in force, each with its checks in the rule set's order of evidence."""
        if self._criteria is None:
            self._owner._read_checks(criteria=True)
        return self._criteria

    def answers(self, question: str, indicator_id: str) -> list[Check]:
        """The checks of one indicator of a letter or academy concern, in the rule set's order of evidence."""
        if self._questions is None:
            self._owner._read_checks(criteria=False)
        return self._questions.get((question, indicator_id), [])

    def finding(self, name: str) -> Finding:
        if name not in self.findings:
            raise KeyError(f"indicator {name!r} was not assessed for URN {self.urn}: re-run assess_evidence")
        return self.findings[name]


def _bool(v) -> bool | None:
    """A nullable flag as Python's own bool (numpy's would not survive the history's JSON)."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return bool(v)


def _text(v) -> str:
    return "" if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else str(v)


TEXT_COLUMNS = {"question", "criterion_id", "area", "level", "wording", "measure", "value", "value_general",
                "comparator", "reason", "source", "detail", "indicator", "adviser", "kind"}
FLAG_COLUMNS = {"met", "confidential", "good_or_better"}


def _column(s: pd.Series) -> list:
    """A column as Python values: text with "" for missing, flags as bool or None (never numpy's bool)."""
    if s.name in TEXT_COLUMNS:
        if isinstance(s.dtype, pd.CategoricalDtype):  # read as categories: each distinct text is one object
            return ["" if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v
                    for v in s.astype(object).tolist()]
        return s.fillna("").astype(str).tolist()  # whole column at once: no per-cell call
    if s.name in FLAG_COLUMNS:
        return s.tolist() if s.dtype == bool else [_bool(v) for v in s.tolist()]
    return s.tolist()


def _rows(df: pd.DataFrame, columns: list[str]):
    """The frame's rows as tuples, column by column (one pass, no per-row pandas objects)."""
    if df.empty:
        return iter(())
    return zip(*(_column(df[c]) for c in columns))


@dataclass
class TermEvidence:
    """Every school's checks, indicator findings, results summary, measures and report figures for one term."""

    rule_set: str
    term: str
    schools: pd.DataFrame  # SCHOOL_COLUMNS
    checks: pd.DataFrame  # CHECK_COLUMNS
    findings: pd.DataFrame  # FINDING_COLUMNS
    measures: pd.DataFrame  # MEASURE_COLUMNS
    figures: pd.DataFrame  # urn and the report's figures per maintained school (report_figures)
    problems: list = field(default_factory=list)  # warnings for data_quality.csv (adviser judgements not current)
    _by_urn: dict | None = field(default=None, repr=False)

    def school(self, urn: int) -> SchoolAnswers:
        if self._by_urn is None:
            self._by_urn = self._index()
        return self._by_urn[int(urn)]

    def counts(self) -> dict:
        kinds = self.schools["kind"].value_counts().to_dict() if len(self.schools) else {}
        met = self.checks["met"].tolist() if len(self.checks) else []
        return {"rule_set": self.rule_set, "term": self.term, "schools": len(self.schools),
                "maintained": int(kinds.get("maintained", 0)), "academies": int(kinds.get("academy", 0)),
                "checks": len(self.checks), "met": sum(m is True for m in met),
                "not_met": sum(m is False for m in met), "not_judged": sum(m is None for m in met),
                "findings": len(self.findings)}

    def _index(self) -> dict[int, SchoolAnswers]:
        """One pass over each table, grouped by URN: the cost is linear in the schools."""
        out: dict[int, SchoolAnswers] = {}
        for urn, name, kind, adviser, good, summary, flags in _rows(self.schools, SCHOOL_COLUMNS):
            out[int(urn)] = SchoolAnswers(int(urn), name, kind, adviser, good, json.loads(summary),
                                          set(json.loads(flags)), _owner=self)
        for urn, name, met, value, reason, source in _rows(self.findings, FINDING_COLUMNS):
            out[int(urn)].findings[name] = Finding(met, value, source, reason)
        from ..artefacts import loads

        for urn, measure, figure in _rows(self.measures, MEASURE_COLUMNS):
            out[int(urn)].measures[measure] = loads(figure)
        return out

    def _read_checks(self, criteria: bool) -> None:
        """Every school's criterion checks, or every school's other checks, in one pass over those rows."""
        if self._by_urn is None:
            self._by_urn = self._index()
        schools = self._by_urn
        for s in schools.values():
            if criteria:
                s._criteria = []
            else:
                s._questions = {}
        rows = self.checks[(self.checks["question"] == CRITERION) == criteria] if len(self.checks) else self.checks
        # value_general is not read: it is Check.general_value, derived again from the same fields.
        columns = ["urn", "question", "criterion_id", "area", "level", "wording", "measure", "met", "value",
                   "comparator", "reason", "source", "detail", "confidential"]
        last_urn, last_id, school = None, None, None
        for (urn, question, cid, area, level, wording, measure, met, value, comparator, reason, source, detail,
             confidential) in _rows(rows, columns):
            c = Check(met, measure, value, reason, source, detail, bool(confidential), comparator)
            if urn != last_urn:
                school, last_urn, last_id = schools[int(urn)], urn, None
            if not criteria:
                school._questions.setdefault((question, cid), []).append(c)
            elif cid == last_id:
                school._criteria[-1].checks.append(c)
            else:
                school._criteria.append(CriterionEvidence(cid, area, level, wording, [c]))
                last_id = cid


def _check_row(urn: int, question: str, cid: str, area: str, level: str, wording: str, n: int, c: Check) -> tuple:
    return (urn, question, cid, area, level, wording, n, c.measure, c.met, c.value, c.general_value, c.comparator,
            c.reason, c.source, c.detail, c.confidential)


def named_indicators(rules: RuleSet) -> list[str]:
    """Every data indicator the rule set names: in evidence, overriding conditions and the safeguarding route."""
    return sorted({e.indicator for _, ev in rules.all_evidence() for e in ev if e.indicator}
                  | {o.indicator for o in rules.overriding.conditions if o.indicator}
                  | {r.when_indicator for r in rules.academy_concerns.safeguarding_route if r.when_indicator})


def assess(data: TermData, rules: RuleSet, history: "dict[int, dict] | None" = None) -> TermEvidence:
    """Answer every question of the rule set for every open maintained school and academy of the LA.

    `history` maps urn -> {'prior': measures of earlier terms, ...} (the history, carried forward to new URNs).
    Maintained schools answer the criteria in force and the letters' indicators; academies the academy concerns.
    """
    history = history or {}
    data.predecessor_results = dict(rules.predecessor_results)  # whose figures a new URN is judged on
    check_adviser_judgements(data, rules)
    check_moderation(data, rules)
    closed_undated = gias_close_date_problems(data)
    closed_undated += gias_open_date_problems(data)
    if any(p.severity == "critical" for p in closed_undated):
        raise FeedError([p for p in closed_undated if p.severity == "critical"])
    from .la_files import letters_log_problems, not_categorised_problems, term_date_problems, ward_problems
    term_dates = term_date_problems(data) + ward_problems(data) + not_categorised_problems(  # the LA's own files, said
        data, {int(u) for u in maintained_schools(data).get("urn", [])}) + letters_log_problems(data, rules)
    on = data.term.reference_date
    criteria = rules.criteria_in_force(on)
    indicators = named_indicators(rules)
    advisers = adviser_lookup(data, rules)["adviser"]
    schools, checks, findings, measures, figures, unnamed, maintained_seen = [], [], [], [], [], [], []
    categories_said, predecessor_academies, results_of_predecessors = [], [], []
    for kind, frame in (("maintained", maintained_schools(data)), ("academy", academies(data))):
        for school in frame.to_dict("records"):
            urn = int(school["urn"])
            ev = SchoolEvidence(urn, data, rules, history.get(urn, {}).get("prior"))
            if kind == "maintained":
                phase = str(school.get("phase") or "").strip()
                for c in criteria:
                    if c.phases and phase.lower() not in {p.strip().lower() for p in c.phases}:
                        # A bullet the rule set writes for other phases (e.g. Progress 8 for secondaries): not judged.
                        why = f"the rule set's bullet is for {' and '.join(c.phases)} schools only (GIAS phase: " \
                              f"{phase or 'not given'})"
                        for n, e in enumerate(c.evidence):
                            checks.append(_check_row(urn, CRITERION, c.id, c.area, c.level, c.wording, n,
                                                     Check(None, f"phase: {e.kind}", reason=why)))
                        continue
                    for n, e in enumerate(c.evidence):
                        checks.append(_check_row(urn, CRITERION, c.id, c.area, c.level, c.wording, n, ev.check(e)))
            # The measures as the history has always kept them: those the criteria computed, then the four asked for.
            m = school_measures(ev, school)
            measures.extend((urn, k, _dumps(v)) for k, v in m.items())
            if kind == "maintained":
                for letter, rule in rules.letters.items():
                    for ind in rule.indicators:
                        for n, e in enumerate(ind.evidence):
                            checks.append(_check_row(urn, letter_question(letter), ind.id, "", "", ind.wording, n,
                                                     ev.check(e)))
            else:
                for ind in rules.academy_concerns.indicators:
                    for n, e in enumerate(ind.evidence):
                        held = predecessor_results_set_aside(ev, e, rules)
                        if held is not None:
                            results_of_predecessors.append((urn, school.get("school_name"), held, ind.id))
                        checks.append(_check_row(urn, ACADEMY_CONCERN, ind.id, "", "", ind.wording, n,
                                                 academy_check(ev, e, rules, held)))
                o = ev.indicators._ofsted()
                if o.get("predecessor"):
                    predecessor_academies.append((urn, school.get("school_name"), o["predecessor"], o.get("source")))
            for name in indicators:
                f = ev.indicators.get(name)
                findings.append((urn, name, f.met, f.value, f.reason, f.source))
            schools.append((urn, school.get("school_name"), kind, advisers.get(urn, ""),
                            ev.indicators.latest_judgement_good_or_better(),
                            json.dumps(ev.indicators.results_summary(), ensure_ascii=False),
                            json.dumps(sorted(intelligence_flags(data, urn)), ensure_ascii=False)))
            if kind == "maintained":
                figures.append({"urn": urn, **report_figures(ev.indicators)})
            o = ev.indicators._ofsted()
            # A maintained school or an academy alike: its category cells not read, or read against a better judgement.
            if o.get("category_unknown") or o.get("category_set_aside") or o.get("category_contradicted"):
                categories_said.append((urn, school.get("school_name"), o))
            if kind == "maintained":  # an academy is not categorised: its category decides nothing here
                if o.get("category_unnamed"):
                    unnamed.append((urn, school.get("school_name"), o))
                maintained_seen.append((urn, school.get("school_name"), o))
    return TermEvidence(
        rules.id, str(data.term), pd.DataFrame(schools, columns=SCHOOL_COLUMNS),
        pd.DataFrame(checks, columns=CHECK_COLUMNS), pd.DataFrame(findings, columns=FINDING_COLUMNS),
        pd.DataFrame(measures, columns=MEASURE_COLUMNS), pd.DataFrame(figures),
        list(adviser_lookup(data, rules)["problems"]) + proposed_closures(data) + comparator_problems(data, rules)
        + too_old_problems(data, rules) + term_dates + closed_undated + ofsted_category_blank_problems(unnamed)
        + ofsted_not_listed_problems(maintained_seen) + ofsted_category_problems(categories_said)
        + academy_predecessor_problems(predecessor_academies, rules)
        + academy_predecessor_results_problems(results_of_predecessors)
        + membership_changes(data, history, {int(u) for u in maintained_schools(data).get("urn", [])}))


def ofsted_not_listed_problems(seen: list[tuple]) -> list[Problem]:
    """The LA's maintained schools with no row in an Ofsted file that holds others of them. Ofsted's latest-inspections
    file lists every school it has inspected, so a school missing is new (not yet inspected), under a new URN, or the
    file is another shape (one year's inspections, one phase): its grades, safeguarding and 'good or better' are not
    known, and the bullets that read them are not judged. Before, it was said only in each school's reasons (s24)."""
    listed = [u for u, _, o in seen if o.get("row") is not None]
    missing = [(u, n) for u, n, o in seen if o.get("row") is None and o.get("source")]
    if not listed or not missing:
        return []  # no file, or one with none of the LA's schools: said already (feed_missing)
    source = next(o.get("source") for _, _, o in seen if o.get("source"))
    names = "; ".join(f"{n} (URN {u})" for u, n in missing[:5])
    return [Problem(source, None, "URN", (
        f"{len(missing)} of the LA's {len(seen)} maintained schools have no row in the Ofsted file for this term (e.g. "
        f"{names}{' ...' if len(missing) > 5 else ''}): their inspection grades, safeguarding and 'good or better' are "
        f"not known, so no bullet rests on them. Ofsted's latest-inspections file lists every school it has inspected: "
        f"unless their rows were set aside as dated after the term (said apart), is this that file (not one year's "
        f"inspections), and are these schools new or under a new URN?"),
        "warning", "ofsted_not_listed")]


def _reads_an_ofsted_judgement(indicator: str | None) -> bool:
    return bool(indicator) and indicator.startswith("ofsted_")


def predecessor_results_set_aside(ev: "SchoolEvidence", e: Evidence, rules: RuleSet) -> int | None:
    """The predecessor URN whose results or absence an academy concern's evidence would read, when the rule set's
    academy_concerns.predecessor_results is `not_used`; else None."""
    if (rules.academy_concerns.predecessor_results != "not_used" or e.kind != "indicator"
            or _reads_an_ofsted_judgement(e.indicator) or e.indicator == "safeguarding_not_met"):
        return None  # an inspection (predecessor_inspections), or not a figure
    return ev.predecessor_of(ev.indicators.get(e.indicator))


def academy_check(ev: "SchoolEvidence", e: Evidence, rules: RuleSet, results_set_aside: int | None) -> Check:
    """One piece of an academy concern's evidence. An Ofsted judgement, or results and absence, of the school the
    academy replaced are not the academy's (the rule set's academy_concerns.predecessor_inspections and
    predecessor_results): not judged when `not_used`, and named as the predecessor's wherever they are read.
    `results_set_aside`: the predecessor URN whose figures the rule set does not use here
    (`predecessor_results_set_aside`, which the caller also counts for the data notes), or None."""
    c = ev.check(e)
    if results_set_aside is not None:
        return Check(None, c.measure, c.value, f"not judged: figures of predecessor URN {results_set_aside} (GIAS "
                     f"links), the school the academy replaced, not the academy's (the rule set's predecessor_results: "
                     f"not_used)", c.source, comparator=c.comparator)
    if not (_reads_an_ofsted_judgement(e.indicator) or e.indicator == "safeguarding_not_met"):
        return c
    inspected_as = ev.indicators._ofsted().get("predecessor")
    if not inspected_as:
        return c
    said = f"inspected as its predecessor URN {inspected_as}"
    if _reads_an_ofsted_judgement(e.indicator) and rules.academy_concerns.predecessor_inspections == "not_used":
        return Check(None, c.measure, c.value, f"not judged: Ofsted's latest judgement is of the school the academy "
                     f"replaced ({said}), not of the academy (the rule set's predecessor_inspections: not_used)",
                     c.source, comparator=c.comparator)
    if c.value and said not in c.value and "predecessor school" not in c.value:
        c.value = f"{c.value} ({said})"
    return c


def academy_predecessor_problems(found: list[tuple], rules: RuleSet) -> list[Problem]:
    """The academies whose latest Ofsted judgement is their predecessor's, said once: with `not_used`, the concerns
    that read an Ofsted judgement are not judged for them until their own first inspection."""
    ids = [i.id for i in rules.academy_concerns.indicators
           if any(_reads_an_ofsted_judgement(e.indicator) for e in i.evidence)]
    if not found or not ids:
        return []
    names = "; ".join(f"{n} (URN {u}), inspected as its predecessor URN {p}" for u, n, p, _ in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    then = (f"not used for {', '.join(ids)} (the rule set's academy_concerns.predecessor_inspections: not_used): "
            "no concern about the academy rests on an inspection of the school it replaced, until its own first "
            "inspection" if rules.academy_concerns.predecessor_inspections == "not_used" else
            f"read for {', '.join(ids)} as the academy's, each concern naming the predecessor")
    return [Problem(found[0][3] or "Ofsted file", None, "URN", (
        f"{len(found)} academ{'ies' if len(found) != 1 else 'y'}' latest Ofsted judgement is of the school "
        f"{'they' if len(found) != 1 else 'it'} replaced ({names}{more}): {then}"), "warning",
        "academy_predecessor_inspection")]


def academy_predecessor_results_problems(found: list[tuple]) -> list[Problem]:
    """The academies whose concerns on results or absence were not judged because the figures are their
    predecessor's (academy_concerns.predecessor_results: not_used), said once in the data notes (last of them: in
    Appendix A, and on the front page when its box has room)."""
    if not found:
        return []
    by_urn = list(dict.fromkeys((urn, name, held) for urn, name, held, _ in found))  # an academy once
    names = "; ".join(f"{n} (URN {u}), figures of predecessor URN {p}" for (u, n, p) in by_urn[:3])
    more = f" and {len(by_urn) - 3} more" if len(by_urn) > 3 else ""
    ids = ", ".join(sorted({i for _, _, _, i in found}))
    return [Problem("GIAS links", None, "URN", (
        f"{len(by_urn)} academ{'ies have' if len(by_urn) != 1 else 'y has'} no published results or absence of "
        f"{'their' if len(by_urn) != 1 else 'its'} own, only of the school {'they' if len(by_urn) != 1 else 'it'} "
        f"replaced ({names}{more}): not used for {ids} (the rule set's academy_concerns.predecessor_results: "
        f"not_used): no concern put to a trust rests on figures from before it was responsible"), "warning",
        "academy_predecessor_results")]


def ofsted_category_problems(said: list[tuple]) -> list[Problem]:
    """The Ofsted file's category cells that were not read: a value the vocabulary has no word or code for
    (ofsted_category_unknown: before, read as no category without a word), and a category beside a later, better
    judgement (ofsted_category_not_current, the vocabulary's category_with_better_judgement). One warning per school,
    naming file, row, column and value, so the adviser checks the inspection report."""
    out = []
    for urn, name, o in said:
        row = (o.get("row") or {}).get("_row")
        row = None if row is None or pd.isna(row) else int(row)
        for column, value in o.get("category_unknown") or []:
            out.append(Problem(o.get("source", ""), row, column, (
                f"{name} (URN {urn}): the Ofsted file's \"{column}\" says {value!r}, which is not a category of concern "
                f"the vocabulary knows ({', '.join(VOCAB.ofsted.categories_of_concern)}, or the codes "
                f"{', '.join(VOCAB.ofsted.category_codes)}): not read as any category; check the inspection report, and add "
                f"the code to include/vocabulary.yaml if Ofsted uses it"), "warning", "ofsted_category_unknown"))
        for key in ("category_set_aside", "category_contradicted"):
            if not o.get(key):
                continue
            column, value, judgement, same = o[key]
            then = ("the same inspection's judgement, read as Ofsted's word (the school is taken as in the category)"
                    if same else "read as the school's category all the same" if key == "category_contradicted" else
                    "an earlier category, not read (no overriding condition rests on it)")
            out.append(Problem(o.get("source", ""), row, column, (
                f"{name} (URN {urn}): the Ofsted file's \"{column}\" says {value!r}, but the school's latest judgement "
                f"is {judgement}, better than a school in a category of concern is judged: {then}; check the "
                f"inspection report"), "warning", "ofsted_category_not_current"))
    return out


def ofsted_category_blank_problems(unnamed: list[tuple]) -> list[Problem]:
    """Schools whose latest Ofsted judgement is in the worst band while the file's category columns are blank: read as
    in a category of concern (the vocabulary's worst_band_categories), and said, naming them, so that the adviser
    checks which category the inspection report gives."""
    if not unnamed:
        return []
    source = unnamed[0][2].get("source", "")
    rows = [r for r in (o.get("row", {}).get("_row") for _, _, o in unnamed) if r is not None and not pd.isna(r)]
    names = "; ".join(f"{name} (URN {urn}), {str(o.get('text') or '').split('; category of concern:')[0]}: read as "
                      f"{o['category']}" for urn, name, o in unnamed[:10])
    return [Problem(source, int(rows[0]) if rows else None, "Category of concern", (
        f"{len(unnamed)} school(s) have no category of concern in the Ofsted file, though Ofsted places every school "
        f"it judges so in one ({names}{' ...' if len(unnamed) > 10 else ''}): each is read as in a category of concern; "
        f"check its inspection report for which"),
        "warning", "ofsted_category_blank")]


def _dumps(v) -> str:
    from ..artefacts import dumps

    return dumps(v)


# ------------------------------------------------------------------ the report's figures per school
FIGURE_COLUMNS = ["rwm_exp", "rwm_exp_national", "overall_absence", "overall_absence_national", "persistent_absence",
                  "persistent_absence_national", "disadv_gap", "disadv_gap_national"]


def report_figures(ind: SchoolIndicators) -> dict:
    """Per school figures against national (the report's charts) and the school profile's figures."""
    ks = ind._attainment()
    k2 = next((e for e in ks if e["ks"] == "KS2" and "reason" not in e), None)
    a = ind.absence_figures()
    gap, nat_gap = ind.disadvantaged_gap()
    return {"rwm_exp": k2["value"] if k2 else None, "rwm_exp_national": k2["national"] if k2 else None,
            "overall_absence": a.get("overall"), "overall_absence_national": a.get("nat_overall"),
            "persistent_absence": a.get("persistent"), "persistent_absence_national": a.get("nat_persistent"),
            "disadv_gap": gap, "disadv_gap_national": nat_gap, **_profile_figures(ind, ks, a)}


def _profile_figures(ind, ks: list[dict], a: dict) -> dict:
    """The school profile's figures: attainment over three years and progress with confidence intervals (KS2 or
    KS4, whichever the school has; reasons when unpublished), absence, and Ofsted in both frameworks."""
    e = next((x for x in ks if "reason" not in x), ks[0] if ks else None)
    out = {"ks": e["ks"] if e else None, "att_label": e["label"] if e else None, "att_year": e["year"] if e else None,
           "att_value": e.get("value") if e else None, "att_national": e.get("national") if e else None,
           "att_prev1": e.get("prev1") if e else None, "att_prev2": e.get("prev2") if e else None,
           "att_national_prev1": e.get("national_prev1") if e else None, "att_cohort": e.get("cohort") if e else None,
           "att_reason": e.get("reason") if e else None, "absence_year": a.get("year"), "absence_prev": a.get("prev")}
    # A school with results at both key stages (an all-through school): the other one's attainment too, so the
    # profile shows every figure its evidence rests on.
    others = [x for x in ks if x is not e and "reason" not in x]
    out["att_other"] = json.dumps([{k: x.get(k) for k in ("ks", "label", "year", "value", "national", "prev1", "prev2")}
                                   for x in others], default=float)
    # The other key stage's results that are not judged (a small cohort, a figure not published), and why.
    out["att_other_reasons"] = json.dumps([f"{x['label']}: {x['reason']}" for x in ks if x is not e and "reason" in x])
    # The disadvantaged gap row: both groups' figures and last year's gap, or why the gap is not judged.
    g = ind._gap()
    out.update({"gap_ks": g.get("ks"), "gap_label": g.get("label"), "gap_disadv": g.get("disadv"),
                "gap_other": g.get("other"), "gap_prev1": g.get("gap_prev1"),
                "gap_reason": g.get("reason") if g.get("source") else None, "gap_note": g.get("prev1_note")})
    progress = []
    for stage in [x["ks"] for x in ([e] if e else []) + others]:
        if stage == "KS2":
            row = ind._ks2()[0] or {}
            for s, name in (("read", "reading"), ("writ", "writing"), ("mat", "maths")):
                progress.append((f"KS2 {name} progress", row.get(f"{s}_prog"), row.get(f"{s}_prog_lower"),
                                 row.get(f"{s}_prog_upper")))
        elif stage == "KS4":
            row = ind._ks4()[0] or {}
            progress.append(("Progress 8", row.get("p8"), row.get("p8_lower"), row.get("p8_upper")))
    out["progress"] = json.dumps([[label, *(None if pd.isna(v) else float(v) for v in vals)]
                                  for label, *vals in progress if not all(v is None or pd.isna(v) for v in vals)])
    o = ind._ofsted()
    r = {k: v for k, v in (o.get("row") or {}).items() if not (v is None or (isinstance(v, float) and pd.isna(v)) or v == "")}
    areas = [(k[3:].replace("_", " "), r[k]) for k in r if k.startswith("rc_")]
    out["ofsted_report_card"] = ("; ".join(f"{k} {v}" for k, v in areas)
                                 + f" ({r.get('inspection_date') or 'date n/a'})") if areas else None
    grade = r.get("oeif_overall")
    words = {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}
    try:
        when = r.get("oeif_date") or (None if areas else r.get("inspection_date"))  # as graded_date reads it
        out["ofsted_oeif"] = f"{words[int(float(grade))]} (grade {int(float(grade))}, {when or 'date n/a'})"
    except (TypeError, ValueError, KeyError):
        # "Not judged" (September 2024 to November 2025): the key judgements were graded. Printed as "no inspection on
        # record" before, of a school inspected (real Cambridgeshire rows, s24).
        from .indicators import latest_judgement

        graded = latest_judgement({k: v for k, v in r.items() if not k.startswith(("rc_", "ungraded_"))})
        out["ofsted_oeif"] = graded["text"] if graded and graded["framework"].startswith("graded inspection") else None
    out["ofsted_ungraded"] = r.get("ungraded_outcome") or None
    out["ofsted_category"] = o.get("category") or None
    out["ofsted_previous_band"] = o.get("prev_band")
    return out


# ------------------------------------------------------------------ the artefact
def write_evidence(folder, ev: TermEvidence, previous: dict) -> dict:
    """The evidence stage's output, replacing what an earlier attempt left; `evidence.json` (counts) last."""
    from .. import artefacts

    folder = artefacts.location(folder)
    artefacts.remove_tree(folder)
    for name in ("schools", "checks", "findings", "measures", "figures"):
        artefacts.write_table(folder / f"{name}.parquet", getattr(ev, name))
    artefacts.write_json(folder / "problems.json", artefacts.problems_to_json(list(ev.problems)))
    artefacts.write_json(folder / "previous.json", previous)  # earlier terms' categories and figures, by URN
    counts = ev.counts()
    artefacts.write_json(folder / "evidence.json", {"format": artefacts.FORMAT, **counts})
    return counts


def read_evidence(folder) -> tuple[TermEvidence, dict]:
    """The evidence artefact and the history it was assessed against (urn -> previous category and figures)."""
    from .. import artefacts

    folder = artefacts.location(folder)
    facts = artefacts.read_json(folder / "evidence.json")  # written last: the stage finished
    # Checks and findings repeat their wordings, ids and reasons school after school: read each text once.
    text = {"checks": sorted(TEXT_COLUMNS & set(CHECK_COLUMNS)), "findings": sorted(TEXT_COLUMNS & set(FINDING_COLUMNS))}
    tables = {name: artefacts.read_table(folder / f"{name}.parquet", text.get(name))
              for name in ("schools", "checks", "findings", "measures", "figures")}
    ev = TermEvidence(facts["rule_set"], facts["term"], **tables,
                      problems=artefacts.problems_from_json(artefacts.read_json(folder / "problems.json")))
    return ev, artefacts.read_json(folder / "previous.json")


def read_figures(folder) -> pd.DataFrame:
    """The report's figures per school alone (the report needs no checks: categorise and the letters read those)."""
    from .. import artefacts

    folder = artefacts.location(folder)
    artefacts.read_json(folder / "evidence.json")  # written last: the stage finished
    return artefacts.read_table(folder / "figures.parquet")
