"""The front page: what a director reads first. Reasons in one line of words, the movers against last term, the
academies by their next step on the route, and what the reader must know about the data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from ..decisions.categorise import NO_EVIDENCE_PLACEMENT
from ..vocabulary import VOCAB
from .cells import _records, _text

if TYPE_CHECKING:
    from .report import ReportInputs


LEVEL_RANK = {"low": 1, "medium": 2, "high": 3}  # the seed Strategy's; a report ranks by its rule set's levels
REASON_CHARS = 115  # at most two printed lines in the reason column


@dataclass(frozen=True)
class FrontRoom:
    """How much the front page names before it points to the pages that list everything (nothing is left out of
    the edition: the movers have their own page, the academies their table, the notes and the schools that left,
    joined or are proposed to close Appendix A)."""
    movers: int = 4  # rows of movers
    academies: int = 3  # academies named per step of the route
    named: int = 5  # schools named that left, joined, or GIAS proposes to close
    notes: int = 7  # the run's notes in the data box (most important first)
    warning_files: int = 4  # files named in the one line that counts the data-quality warnings
    academy_steps: bool = True  # the academies' next steps in words; False: one line pointing to their table


# The usual room, then tighter ones: a term with many movers, long notes and schools leaving and joining at once can
# overfill the page, and the edition is then laid out again with the next room (report.build_edition), so the front
# page stays one page and ends with the academies of concern. The data box gives way last (a figure must not be read
# without its caveat); the last rooms name no school: counts, and where each list is. The very last also gives the
# academies' route steps as one line pointing to their table, and fewer notes: a front page with "Academies of
# concern" alone on page 2 was published when the third room still did not fit (a levels table of two rule sets'
# levels, real Surrey with its levels renamed).
FRONT_ROOMS = (FrontRoom(), FrontRoom(movers=2, academies=1, named=2, notes=7, warning_files=2),
               FrontRoom(movers=0, academies=0, named=0, notes=5, warning_files=1),
               FrontRoom(movers=0, academies=0, named=0, notes=3, warning_files=1, academy_steps=False))


_PARENS = re.compile(r"[()]")


def reason_items(line: str) -> tuple[str, list[tuple[str, str, str]]]:
    """Split one line of `reasons` ("<heading>: wording [id] (evidence); wording [id] (evidence)") into the
    heading and (wording, id, evidence) items. Evidence may itself hold "; " and nested brackets, so the line is
    scanned rather than split."""
    head, sep, rest = line.partition(": ")
    if not sep or " [" not in rest:
        return evidence_in_words(line), []
    items, i = [], 0
    while i < len(rest):
        j = rest.find(" [", i)
        k = rest.find("]", j)
        if j < 0 or k < 0:
            break
        wording, cid = rest[i:j], rest[j + 2:k]
        evidence, i = "", k + 1
        if rest.startswith(" (", i):
            depth, start = 0, i + 1
            for paren in _PARENS.finditer(rest, start):  # the depth changes only at brackets
                depth += 1 if paren[0] == "(" else -1
                if depth == 0:
                    pos = paren.start()
                    evidence, i = rest[start + 1:pos], pos + 1
                    break
            else:
                evidence, i = rest[start + 1:], len(rest)
        wording = wording.strip()
        if wording.startswith(". Also met: "):  # bullets of an area's other levels follow the winning level's
            wording = "Also met: " + wording[len(". Also met: "):]
        items.append((wording, cid, evidence_in_words(_without_id(evidence, cid))))
        if rest.startswith("; ", i):
            i += 2
    return head, items


def _without_id(text: str, cid: str) -> str:
    """Evidence in words: "adviser: <id> (detail restricted)" reads "adviser (detail restricted)"."""
    if not cid:
        return text
    return re.sub(r"\s+", " ", text.replace(f": {cid} ", " ").replace(cid, "")).strip(" :")


# How the general edition names confidential evidence by kind (categorise's `Check.general_value`): the measure,
# then "(detail restricted)". An adviser's measure carries the criterion the adviser judged, a code no reader
# knows; intelligence carries flag codes. In words: "adviser (detail restricted)", the flags' labels.
_ADVISER_MEASURE = re.compile(r"\badviser: [^\s();]+ (?=\(detail restricted\))")
_INTELLIGENCE_MEASURE = re.compile(r"\bLA intelligence: ([a-z0-9_]+(?:, [a-z0-9_]+)*) (?=\(detail restricted\))")
_FLAG_LABELS = {code: flag.label for code, flag in VOCAB.intelligence_flags.items()}
# The restricted edition's adviser evidence, "adviser judgement on <criterion id> (<adviser>, visit <date>): met",
# in words: the judgement stands under the Strategy's wording of the bullet it supports, so the id adds nothing a
# reader can use (evidence.csv keeps it, in its criterion_id column and its value). Also the form left when the
# bullet's own id was taken out ("adviser judgement on (...").
_ADVISER_JUDGEMENT = re.compile(r"\badviser judgement on (?:[^\s();]+ )?(?=\()")


def evidence_in_words(text: str) -> str:
    """Evidence named in words, without criterion ids or flag codes: the general edition's restricted evidence
    and the restricted edition's adviser judgements."""
    text = _ADVISER_JUDGEMENT.sub("adviser judgement ", text)
    text = _ADVISER_MEASURE.sub("adviser ", text)
    return _INTELLIGENCE_MEASURE.sub(
        lambda m: "LA intelligence: " + ", ".join(_FLAG_LABELS.get(c, c.replace("_", " "))
                                                   for c in m.group(1).split(", ")) + " ", text)


def placed_by_default(school: dict) -> bool:
    """Placed at the rule set's no-evidence level because no bullet was met (by the evidence judged, or none could
    be judged), and
    still there (not moved by an overriding condition or moderation)."""
    level = _text(school.get("category"))
    return bool(level) and any(ln.endswith(NO_EVIDENCE_PLACEMENT.format(level=level))
                               for ln in _text(school.get("reasons")).splitlines()) \
        and not any(ln.startswith(("Overriding condition:", "Moderated ")) for ln in _text(school.get("reasons")).splitlines())


def one_line_reason(school: dict) -> str:
    """Why the school is at its level, in one line of words: moderation, else the overriding condition, else the
    first Strategy bullet of an area that best fits the school's level, else (a level that is the mean of areas at
    other levels) the areas and their levels."""
    lines = [ln for ln in _text(school.get("reasons")).splitlines() if ln.strip()]
    level = _text(school.get("category"))
    pick = (next((ln for ln in lines if ln.startswith("Moderated ")), None)
            or next((ln for ln in lines if ln.startswith("Overriding condition:")), None)
            or next((ln for ln in lines if f" best fits {level} support:" in ln), None))
    if pick is None:
        areas = [reason_items(ln)[0] for ln in lines if " best fits " in ln]
        pick = ("; ".join(areas) + f": {level} on balance") if areas else (lines[0] if lines else "")
    head, items = reason_items(pick)
    if items:
        wording, _, evidence = items[0]
        text = f"{head}: {wording}"
        if evidence and len(text) + len(evidence) + 3 <= REASON_CHARS:
            text += f" ({evidence})"
        if len(items) > 1:
            text += f" (+{len(items) - 1} more)"
    else:
        text = pick
    text = evidence_in_words(text)
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS - 1].rstrip() + "…"


def movers(cat: pd.DataFrame, levels=tuple(LEVEL_RANK)) -> list[dict]:
    """Schools whose level changed since last term (previous_category vs category, as in categorisation.csv):
    those moved on evidence first (more support first, then by the new level, then by name), then those that moved
    only to the Strategy's default level because no bullet was met (`by_default`): often because results became too
    old to judge, which says nothing about the school itself. `levels`: the rule set's, least support first."""
    rank = {lv: i + 1 for i, lv in enumerate(levels)}
    out = []
    for school in _records(cat):
        before, now = _text(school.get("previous_category")), _text(school.get("category"))
        if before in rank and now in rank and before != now:
            up = rank[now] > rank[before]
            by_default = placed_by_default(school)
            # Moved from last term's no-evidence placement (categorise's direction "default"): first evidence judged.
            from_default = not by_default and _text(school.get("direction_of_travel")) == "default"
            out.append({**school, "from": before, "to": now, "more_support": up, "reason": one_line_reason(school),
                        "by_default": by_default, "from_default": from_default})
    return sorted(out, key=lambda m: (m["by_default"] or m["from_default"], not m["more_support"], -rank[m["to"]],
                                      _text(m["school_name"]), m["urn"]))


# How the front page groups the schools that left, by the words of their data_quality row (evidence.assess).
LEFT_KINDS = (("converted to an academy", "converted to an academy"), ("amalgamated", "amalgamated"),
              ("GIAS proposed it to close", "closed or converted after a proposal to close"), ("closed", "closed"),
              ("not in the GIAS extract", "not in the GIAS extract"))
_LEFT = re.compile(r"^(?P<school>.*\(URN \d+\)), \S+ support in \S+, is not categorised in \S+: (?P<why>.*)$")
_JOINED = re.compile(r"^(?P<school>.*\(URN \d+\)) is categorised for the first time[^:]*: (?P<why>.*)$")


def membership(dq: pd.DataFrame, room: FrontRoom = FRONT_ROOMS[0]) -> dict:
    """The schools categorised last term and not this term, grouped by why (converted to an academy, closed, not in
    the GIAS extract), and those categorised for the first time, from the data_quality rows the evidence stage
    writes for them (evidence.assess.membership_changes): counted and named, the first `room.named` of each."""
    out = {"left": [], "joined": [], "left_groups": [], "joined_named": [], "left_more": 0, "joined_more": 0,
           "proposed": [], "proposed_named": [], "proposed_more": 0}
    if dq is None or dq.empty or "check" not in dq.columns:
        return out
    # Schools GIAS proposed to close and this run still categorises: named, so the reader can check them.
    out["proposed"] = [m.split(" is listed as ", 1)[0] for m in
                       dq.loc[dq["check"].astype(str).eq("gias_proposed_to_close"), "message"].map(_text)]
    out["proposed_named"] = out["proposed"][:room.named]
    out["proposed_more"] = len(out["proposed"]) - len(out["proposed_named"])
    for check, key in (("school_left", "left"), ("school_joined", "joined")):
        out[key] = [_text(m) for m in dq.loc[dq["check"].astype(str).eq(check), "message"]]
    groups: dict[str, list[str]] = {}
    for m in out["left"]:
        found = _LEFT.match(m)
        school, why = (found["school"], found["why"]) if found else (m, "")
        label = next((label for words, label in LEFT_KINDS if why.startswith(words)), "other reasons")
        groups.setdefault(label, []).append(school)
    left = room.named
    for label, schools in groups.items():
        out["left_groups"].append({"label": label, "n": len(schools), "schools": schools[:max(left, 0)]})
        left -= len(schools)
    out["left_more"] = max(-left, 0) if room.named else 0  # none named: the counts by why, and Appendix A
    for m in out["joined"][:room.named]:
        found = _JOINED.match(m)
        out["joined_named"].append(f"{found['school']}, {found['why']}" if found else m)
    out["joined_more"] = max(len(out["joined"]) - room.named, 0)
    return out


def academies_by_step(academies: list[dict], room: FrontRoom = FRONT_ROOMS[0]) -> list[dict]:
    """Academies of concern grouped by the next step on the Strategy's route, in route order of first appearance:
    the step's wording once, then the academies (trust) it applies to. None in a room without the steps: the front
    page then points to the academies' table."""
    if not room.academy_steps:
        return []
    steps: dict[str, dict] = {}
    for a in academies:
        key = _text(a.get("next_step"))
        # The step's wording only: the detail goes on to each academy's own steps per concern (ids, and true of the
        # first academy alone), which the academies table and the CSV give academy by academy.
        detail = _text(a.get("next_step_detail")).split(". Per concern: ")[0]
        step = steps.setdefault(key, {"step": key, "detail": detail or key.replace("_", " "), "academies": []})
        step["academies"].append(f"{_text(a.get('school_name'))} ({_text(a.get('trust'))})" if _text(a.get("trust"))
                                 else _text(a.get("school_name")))
    for step in steps.values():
        names = step["academies"]
        step["shown"] = names[:room.academies]
        step["more"] = len(names) - len(step["shown"])
    return list(steps.values())


# How many of the run's notes the front page's data box holds before it points to Appendix A, which lists them all:
# a county with every LA-held feed missing and old results has 15-20, and the box must leave the page to the levels,
# movers, letters and academies. The notes come most important first (quality.notes.NOTE_CHECKS).
FRONT_DATA_NOTES = FRONT_ROOMS[0].notes
FRONT_WARNING_FILES = FRONT_ROOMS[0].warning_files


def data_notes(inputs: ReportInputs, room: FrontRoom = FRONT_ROOMS[0]) -> tuple[list[str], list[str]]:
    """What the reader must know about the data: (the front page's box, everything for Appendix A).

    The box: the run's own notes (missing feeds, data age, rule-set review), most important first, as many as
    `room.notes`; then one line counting the data-quality warnings of data_quality.csv by file; then, if
    notes did not fit, how many more Appendix A lists. Appendix A: every note, then the warnings table."""
    notes = [_text(n) for n in inputs.data_notes if _text(n).strip()]
    dq = inputs.data_quality
    if not dq.empty and "check" in dq.columns:
        from ..quality.notes import NOTE_CHECKS

        from .drafts import WEEKDAY_DEADLINES  # said with the letters, where they are approved

        said = dq["check"].isin(NOTE_CHECKS + ("set_aside", WEEKDAY_DEADLINES))
        dq = dq[~said & (dq["severity"] != "info")] if "severity" in dq.columns else dq[~said]
    warnings = ""
    if not dq.empty and "file" in dq.columns:
        counts = dq["file"].map(_text).replace("", "a file").value_counts(sort=False)
        counts = counts.reindex(sorted(counts.index))
        named = [f"{name} ({n})" for name, n in counts.head(room.warning_files).items()]
        if len(counts) > room.warning_files:
            named.append(f"{len(counts) - room.warning_files} more")
        total = int(counts.sum())
        warnings = (f"{total} data-quality warning{'s' if total != 1 else ''} in {len(counts)} "
                    f"file{'s' if len(counts) != 1 else ''}: {', '.join(named)} (Appendix A).")
    shown = notes[:room.notes]
    box = shown + ([warnings] if warnings else [])
    if len(notes) > len(shown):
        more = len(notes) - len(shown)
        box.append(f"{more} more note{'s' if more != 1 else ''} about the data: Appendix A lists every note.")
    return box, notes


def front_keys(inputs: ReportInputs, moved: list[dict], academies: list[dict], room: FrontRoom) -> dict:
    """The template's front-page names that depend on the room (report._context gives the rest)."""
    box_notes, all_notes = data_notes(inputs, room)
    # Those moved only to the default level are counted in the sentence above the table, not given its rows.
    return {"front_movers": [m for m in moved if not m["by_default"]][:room.movers],
            "membership": membership(inputs.data_quality, room),
            "academy_steps": academies_by_step(academies, room), "data_notes": box_notes,
            "data_notes_all": all_notes, "data_notes_shown": min(len(all_notes), room.notes)}


def fits_one_page(doc) -> bool:
    """Whether a laid-out edition's front page ended on page 1: the contents (anchor `contents`) start page 2."""
    return len(doc.pages) < 2 or "contents" in doc.pages[1].anchors
