"""Checks across the columns of the LA's own files that a single cell's type cannot make (ingest.feeds reads each
cell; these compare cells of one row with the term being run).

A letters-log or moderation row names the term it belongs to and carries a date. The term column decides
(evidence.assess.issued_letters, decisions.categorise._moderation), so a mistyped term moves a letter or an
override to another term without a word: a significant-concerns letter logged as "2022-23-spring" but dated
20 January 2022 is not an earlier letter when 2021-22-summer is run, and the run drafts a second one instead of the
warning notice that follows it. So the term and the date must agree. A date in the holidays belongs to the term
before (terms.term_for_date, from the term calendar), so one term apart is said and the term column kept (a letter
signed on the last day of a term for the next is possible); further apart, no holiday explains it and the run
stops, naming the file, row and column.
"""

from __future__ import annotations

import difflib
import re
from datetime import date

from ..errors import FeedError, Problem
from ..ingest.termdata import TermData, predecessor_map
from ..terms import Term, term_for_date
from ..vocabulary import VOCAB

# kind -> (the term column, the date column, what a row is, in words)
TERM_AND_DATE = {"letters_log": ("term", "issued_on", "letter"), "moderation": ("term", "approved_on", "decision")}


def _index(t: Term) -> int:
    return t.start_year * 3 + t.season_index


def _when(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def term_date_problems(data: TermData) -> list[Problem]:
    """Warnings for LA-held rows whose term and date are one term apart; raises FeedError (critical, every such row)
    when they are further apart."""
    warnings, critical = [], []
    for kind, (term_col, date_col, what) in TERM_AND_DATE.items():
        df = data.frame(kind)
        if df.empty or term_col not in df or date_col not in df:
            continue
        for r in df.to_dict("records"):
            d, stated = r.get(date_col), r.get(term_col)
            stated = None if stated != stated or str(stated or "").strip() == "" else stated  # NaN in a frame: blank
            if isinstance(d, date) and not stated:
                # No term written: the run takes the term its date falls in (a letter signed in the holidays, the
                # term before), which decides the rung it follows; said, so a blank is not a silent choice.
                row = int(r["_row"]) if r.get("_row") is not None and r.get("_row") == r.get("_row") else None
                label = (f"{str(r.get('letter')).replace('_', ' ')} for URN {r.get('urn')}" if kind == "letters_log"
                         else f"moderation decision for URN {r.get('urn')}")
                warnings.append(Problem(str(r.get("_source") or data.latest(kind).source), row, term_col, (
                    f"row {row}: the {label} has no {term_col}: the run takes it as {term_for_date(d)}'s, the term "
                    f"its {date_col} ({_when(d)}) falls in; write the {term_col} to be sure"), "warning", "term_date"))
                continue
            if not isinstance(d, date) or not stated:
                continue
            try:
                t = Term.parse(str(stated))
            except ValueError:
                continue  # the reader refused a term it could not read
            by_date = term_for_date(d)
            apart = abs(_index(by_date) - _index(t))
            if apart == 0:
                continue
            row = int(r["_row"]) if r.get("_row") is not None and r.get("_row") == r.get("_row") else None
            source = str(r.get("_source") or data.latest(kind).source)
            label = (f"{str(r.get('letter')).replace('_', ' ')} for URN {r.get('urn')}" if kind == "letters_log" else
                     f"moderation decision ({r.get('final_category')}) for URN {r.get('urn')}")
            if apart == 1:
                warnings.append(Problem(source, row, term_col, (
                    f"row {row}: the {label} is for term {t} but dated {_when(d)}, in {by_date}: the run takes it as {t}'s, "
                    f"as its {term_col} says; if the {term_col} or the {date_col} is mistyped, correct it and re-run"),
                    "warning", "term_date"))
            else:
                critical.append(Problem(source, row, term_col, (
                    f"the {label} is for term {t} but dated {_when(d)}, in {by_date}, {apart} terms apart: one of "
                    f"{term_col} and {date_col} is mistyped, and the run cannot tell which term the {what} belongs "
                    f"to; correct the row and re-run"), "critical", "term_date"))
    if critical:
        raise FeedError(critical)
    return warnings


def _ward_key(name: str) -> str:
    """A ward name with case, '&'/'and', punctuation and spacing set aside: how two spellings of one ward compare."""
    s = re.sub(r"\s*&\s*", " and ", str(name).casefold())
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", s)).strip()


def ward_problems(data: TermData) -> list[Problem]:
    """A warning for each ward-members row whose ward is not spelt as GIAS spells any of the LA's schools' wards but
    nearly is ("Woodham and Rowtown" for GIAS "Woodham & Rowtown"): member alerts match wards by GIAS's spelling
    (case aside), so that ward's schools' alerts would name no member, with nothing said. Not matched for the LA: a
    near spelling may be another ward; the warning names the row and the GIAS spelling to copy."""
    members = data.frame("ward_members")
    gias = data.frame("gias")
    if members.empty or gias.empty or "ward" not in members or "ward" not in gias:
        return []
    if "la_code" in gias:
        gias = gias[gias["la_code"].astype(str) == str(data.la_code)]
    spelt = {str(w).casefold(): str(w) for w in gias["ward"].dropna() if str(w).strip()}
    by_key: dict[str, set[str]] = {}
    for w in spelt.values():
        by_key.setdefault(_ward_key(w), set()).add(w)
    out = []
    listed = {str(r.get("ward") or "").strip() for r in members.to_dict("records")} - {""}
    if spelt and listed and not any(w.casefold() in spelt or _ward_key(w) in by_key or difflib.get_close_matches(
            w, sorted(spelt.values()), n=1, cutoff=0.85) for w in listed):
        # Not one ward of the list is a ward of the LA's schools: a list by county electoral division (the Strategy
        # says "ward"; a county's members sit for divisions), or another LA's. Every alert would name no member.
        some = ", ".join(repr(w) for w in sorted(listed)[:3])
        return [Problem(str(members.iloc[0].get("_source") or data.latest("ward_members").source), None, "ward", (
            f"none of the {len(listed)} wards in the ward members list ({some}{' ...' if len(listed) > 3 else ''}) is "
            f"the ward of any of the LA's schools in GIAS (e.g. {sorted(spelt.values())[0]!r}): every member alert "
            "would name no member. If your members sit for county electoral divisions, list each GIAS ward (GIAS "
            "AdministrativeWard) with the member of the division it lies in, one row per ward"),
            "warning", "ward_spelling")]
    for r in members.to_dict("records"):
        ward = str(r.get("ward") or "").strip()
        if not ward or ward.casefold() in spelt:
            continue
        near = sorted(by_key.get(_ward_key(ward), set())) or \
            difflib.get_close_matches(ward, sorted(spelt.values()), n=1, cutoff=0.85)
        if not near:
            continue  # a ward with none of the LA's schools in it (a members list covers every ward)
        row = int(r["_row"]) if r.get("_row") is not None and r.get("_row") == r.get("_row") else None
        out.append(Problem(str(r.get("_source") or data.latest("ward_members").source), row, "ward", (
            f"row {row}: ward {ward!r} ({r.get('member_name')}) is not spelt as in GIAS, which has {near[0]!r}: "
            "member alerts for schools in that ward name no member until the ward is written as GIAS writes it"),
            "warning", "ward_spelling"))
    return out


# kind -> what its rows are, for the LA-held files that only a maintained school's categorisation reads.
CATEGORISATION_ONLY = {"adviser_judgements": "adviser judgement", "moderation": "moderation decision",
                       "laig_notes": "LAIG note"}


def not_categorised_problems(data: TermData, maintained: set[int]) -> list[Problem]:
    """A warning, per file and school, for rows of the files only categorisation reads (adviser judgements, this
    term's moderation, LAIG notes) about a school the run does not categorise: an academy, a school GIAS lists as
    closed, or one not maintained by the LA. The rows are not used; that was said nowhere, so an adviser's
    judgement of an academy, or a panel's decision on one, vanished."""
    gias = data.frame("gias")
    info = {int(r["urn"]): r for r in gias.to_dict("records")} if not gias.empty and "urn" in gias else {}
    out = []
    for kind, what in CATEGORISATION_ONLY.items():
        df = data.frame(kind)
        if df.empty or "urn" not in df:
            continue
        if kind == "moderation" and "term" in df:
            df = df[df["term"].astype(str) == str(data.term)]
        by_school: dict[tuple[str, int], list[int]] = {}
        for r in df.to_dict("records"):
            urn = int(r["urn"])
            if urn in maintained:
                continue
            row = int(r["_row"]) if r.get("_row") is not None and r.get("_row") == r.get("_row") else 0
            by_school.setdefault((str(r.get("_source") or data.latest(kind).source), urn), []).append(row)
        for (source, urn), rows in sorted(by_school.items()):
            g = info.get(urn, {})
            is_open = g["is_open"] if "is_open" in g else str(g.get("status") or "").startswith("Open")
            why = ("an academy" if g.get("is_academy") else
                   f"{str(g.get('status') or '').lower() or 'not open'} in GIAS" if not is_open else
                   "not maintained by the LA")
            name = f" ({g['school_name']})" if g.get("school_name") else ""
            n = len(rows)
            out.append(Problem(source, rows[0] or None, "urn", (
                f"{n} {what}{'s' if n != 1 else ''} for URN {urn}{name} (row{'s' if n != 1 else ''} "
                f"{', '.join(map(str, rows[:8]))}{' ...' if n > 8 else ''}) not used: the school is {why}, and only "
                "the LA's open maintained schools are categorised"), "warning", "not_categorised"))
    return out


def _day(v) -> date | None:
    """A GIAS date cell as a date: None for a blank, NaN or NaT."""
    if v is None or v != v or not isinstance(v, date):
        return None
    return v.date() if hasattr(v, "date") and callable(v.date) else v


def _is_blank(v) -> bool:
    return v is None or v != v or str(v).strip() == ""


def letters_log_problems(data: TermData, rules) -> list[Problem]:
    """The letters log's rows the ladder reads this term (issued within `windows.ladder_lookback_terms`, up to this
    term) that it cannot explain, one per row: a rung (`escalates_from`) with no letter it escalates from logged
    before it (a Warning Notice with no Significant Concerns letter, the formal Significant Concerns with no Warning
    Notice), and a letter to the wrong kind of school (a maintained school's letter logged to a URN GIAS lists as an
    academy, or to a school's URN dated after GIAS closed it, as when it became an academy under a new URN; an academy
    route step to a maintained school; either dated after GIAS closed the URN). Each was taken as sent without a word: now said (rule set
    `letters_log_checks`: warn) or the run stops (stop), naming file, row and column."""
    from .assess import issued_letters

    log = data.frame("letters_log")
    if log.empty or "urn" not in log or "letter" not in log:
        return []
    policy = rules.letters_log_checks
    out_of_ladder = policy.out_of_ladder if policy else "warn"
    wrong_kind = policy.wrong_kind_of_school if policy else "warn"
    gias = data.frame("gias")
    info = {int(r["urn"]): r for r in gias.to_dict("records")} if not gias.empty and "urn" in gias else {}
    steps = {s.step for s in rules.academy_concerns.route} | {rules.academy_concerns.resolved_letter}
    lookback = rules.windows.ladder_lookback_terms
    successors: dict[int, list[int]] = {}
    for new, olds in predecessor_map(data.feeds).items():
        for old in olds:
            successors.setdefault(old, []).append(new)
    out = []

    def said(r, column, message, how, check):
        row = int(r["_row"]) if r.get("_row") is not None and r.get("_row") == r.get("_row") else None
        source = str(r.get("_source") or data.latest("letters_log").source)
        out.append(Problem(source, row, column, f"row {row}: {message}",
                           "critical" if how == "stop" else "warning", check))

    def title(k):
        return rules.letters[k].title if k in rules.letters else VOCAB.letters.get(k, k)

    for urn in sorted({int(u) for u in log["urn"]}):
        rows = issued_letters(data, urn, [*rules.letters, *steps], lookback)
        g = info.get(urn, {})
        name = f" ({g['school_name']})" if g.get("school_name") else ""
        for r in rows:
            letter, when = str(r["letter"]), r["issued_on"]
            on = f"{when.day} {when:%B %Y}"
            if letter in rules.letters and g.get("is_academy"):
                said(r, "urn", f"a {title(letter)} is logged to URN {urn}{name} on {on}, but GIAS lists that URN as "
                     "an academy: the Strategy's letters to schools are for maintained schools (an academy's concerns "
                     "follow the academy route), so it is not used for any school; if the URN is the maintained "
                     "school's before it converted, correct it and re-run", wrong_kind, "letters_log_school")
                continue
            closed = _day(g.get("close_date"))
            if (letter in rules.letters or letter in steps) and not g.get("is_academy") and closed is not None \
                    and closed < when:
                # Most often a maintained school converted: GIAS closes its URN and opens the academy under a new
                # one, and the letter was logged to the URN the LA knew. No school the run judges reads it.
                after = successors.get(urn, [])
                why = f" ({g['close_reason']})" if not _is_blank(g.get("close_reason")) else ""
                now = (f"; GIAS links it to URN {', '.join(map(str, after))}, which replaced it" if after else "")
                said(r, "urn", f"a {title(letter)} is logged to URN {urn}{name} on {on}, but GIAS lists that school "
                     f"as closed on {_when(closed)}{why}{now}: a letter dated after the school closed is for none of "
                     "the schools this run judges, so it is not used; if it went to the school that replaced it, log "
                     "it to that URN (an academy's concerns follow the academy route) and re-run", wrong_kind,
                     "letters_log_school")
                continue
            if letter in steps and g and not g.get("is_academy"):
                said(r, "urn", f"an academy route step ({title(letter)}) is logged to URN {urn}{name} on {on}, but "
                     "GIAS lists that URN as a maintained school, not an academy: it is not used; if the URN is the "
                     "academy's, correct it and re-run", wrong_kind, "letters_log_school")
                continue
            rule = rules.letters.get(letter)
            if rule is None or not rule.escalates_from:
                continue
            before = [e for e in issued_letters(data, urn, [rule.escalates_from], 10 ** 6)
                      if e["issued_on"] <= when]
            if before:
                continue
            # A rung the rule set lets be issued on its own indicators, logged with them as its concern (as the run
            # drafts it: its own indicator ids), says itself how it was reached: nothing to correct.
            own = [i.id for i in rule.indicators]
            if not rule.requires_escalation and any(
                    re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", str(r.get("concern") or ""), re.IGNORECASE)
                    for k in own):
                continue
            said(r, "letter", (
                f"a {rule.title} is logged to URN {urn}{name} on {on} with no {title(rule.escalates_from)} before it "
                f"in the letters log, though the ladder has it follow one (escalates_from"
                + ("; the rule set reaches it only by escalation" if rule.requires_escalation else
                   "; the Strategy also lets it be issued where its own indicators apply")
                + f"): it is taken as sent, so the ladder goes on from it; if the earlier letter is missing from the "
                "log, add it; if the letter is mistyped, correct it and re-run"), out_of_ladder, "letters_log_ladder")
    if any(p.severity == "critical" for p in out):
        raise FeedError([p for p in out if p.severity == "critical"])
    return out
