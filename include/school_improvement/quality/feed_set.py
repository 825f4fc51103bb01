"""Which files the run takes: every kind of feed expected, none missing silently, none chosen by guesswork.

A missing kind is said plainly (data_quality.csv and the front page), never shown as 0%; two files that could
each be "the" file stop the run, naming both; so do another LA's results file, and a newest KS2, KS4 or absence
file that cannot be compared with national (its national rows missing).
"""

from __future__ import annotations

import pandas as pd

from ..errors import Problem
from ..ingest.feeds import LA_HELD_KINDS, Feed
from ..ingest.termdata import SCOPED_KINDS, in_scope_mask, la_gias, scope_urns


# What the report cannot say when a kind of feed is missing: said plainly in data_quality.csv and on the front page.
EXPECTED_FEEDS = {
    "ks2": "no KS2 results file was supplied: KS2 attainment, progress and the disadvantaged gap are not judged",
    "ks4": "no KS4 results file was supplied: Attainment 8, Progress 8 and the KS4 disadvantaged gap are not judged",
    "absence": "no absence file was supplied: attendance is not judged",
    "census": "no school census file was supplied: pupil numbers and the FSM, SEN and EAL shares are not known",
    "ofsted": "no Ofsted file was supplied: inspection grades, safeguarding and 'good or better' are not known",
    "adviser_judgements": "no adviser judgements were supplied: the categorisation rests on published data, "
                          "LA intelligence and letters alone",
    "la_intelligence": "no LA intelligence file was supplied: no LA intelligence flag is taken into account",
    "letters_log": "no letters log was supplied: letters already issued are not known, so no escalation is flagged",
    "moderation": "no moderation file was supplied: no category was changed at moderation",
    "ward_members": "no ward members file was supplied: member alerts name no elected member",
    "laig_notes": "no LAIG notes were supplied",
}
EMPTY_FEEDS = {
    "adviser_judgements": "the adviser judgements file(s) hold no rows: the categorisation rests on published data, "
                          "LA intelligence and letters alone",
    "ward_members": "the ward members file(s) hold no rows: member alerts name no elected member",
}
FEED_LABELS = {"ks2": "KS2", "ks4": "KS4", "absence": "absence", "census": "census", "ofsted": "Ofsted",
               "gias": "GIAS"}
GIAS_DOWNLOAD = "https://get-information-schools.service.gov.uk/Downloads"


def missing_file(kind: str) -> str:
    """The `file` of a data-quality row about a kind of feed that was not supplied."""
    return f"(no {kind} file)"


def problem(file, message, severity="warning", check="", row=None, column=None) -> Problem:
    return Problem(file, row, column, message, severity=severity, check=check)


def feed_set_checks(feeds: list[Feed], la_code: str) -> list[Problem]:
    """Which files the run takes: never a silent pick between two files that say different things.

    Two GIAS extracts, two files of one DfE/Ofsted kind for the same academic year, and a row of an LA-held
    feed repeated in another file (a stale copy beside the real one, or two moderation files that disagree)
    are critical, naming every file involved."""
    out = []
    gias = [f for f in feeds if f.kind == "gias"]
    if len(gias) > 1:
        names = ", ".join(f.source for f in gias)
        out.append(problem(gias[1].source, f"{len(gias)} GIAS establishment extracts ({names}): keep only the one for "
                      "this term, so the run does not have to guess which list of schools is right",
                      "critical", "feed_set"))
    by_year: dict = {}
    for f in feeds:
        if f.kind in SCOPED_KINDS:
            by_year.setdefault((f.kind, f.academic_year or "unknown"), []).append(f)
    for (kind, year), fs in sorted(by_year.items()):
        if len(fs) > 1:
            names = ", ".join(f.source for f in fs)
            out.append(problem(fs[1].source, f"{len(fs)} {FEED_LABELS.get(kind, kind)} files for academic year {year} "
                          f"({names}): keep one (the run would otherwise have to pick one by its name)",
                          "critical", "feed_set"))
    out += _another_las_download(feeds, la_code) + _newest_results_without_national(feeds)
    for kind in LA_HELD_KINDS:
        fs = [f for f in feeds if f.kind == kind and not f.schools.empty]
        if len(fs) < 2:
            continue
        frame = pd.concat([f.schools.assign(_source=f.source) for f in fs], ignore_index=True)
        key = [k for k in _la_held_key(kind) if k in frame]
        content = [c for c in frame.columns if not c.startswith("_")]
        dup = frame[frame.duplicated(key, keep=False)]
        for _, grp in dup.groupby(key, sort=False, dropna=False):
            if grp["_source"].nunique() < 2:
                continue  # within one file: the reader's duplicate check names it
            where = "; ".join(f"{r['_source']} row {r['_row']}" for r in grp.to_dict("records"))
            what = " / ".join(f"{k} {grp.iloc[0][k]}" for k in key)
            same = len(grp[content].astype(str).drop_duplicates()) == 1
            msg = (f"the same {kind} row ({what}) is in more than one file ({where}): a stale copy beside the "
                   "real file? Keep one file" if same else
                   f"{kind} files disagree on {what} ({where}): keep the right one")
            out.append(problem(grp.iloc[1]["_source"], msg, "critical", "feed_set", int(grp.iloc[1]["_row"]), key[0]))
    return out


# The performance-tables downloads, whose school rows each give their LA's code: one LA's file holds that LA's schools.
PERFORMANCE_KINDS = ("ks2", "ks4", "absence", "census")


def _another_las_download(feeds: list[Feed], la_code: str) -> list[Problem]:
    """A results file none of whose school rows is the LA's, and whose rows give other LAs' codes, is another LA's
    download: critical, naming the file and the LA its rows are for.

    Beside the LA's files of other years it would otherwise be read as the year's results with every row set aside
    (an "info" line in Appendix A): the front page still said "KS2 results are for 2018-19" while no school's 2018-19
    results were judged, and every letter and level resting on them went (real Surrey, with Hampshire's KS2 file
    for its newest year: 24 letters to none). Put the LA's own file in its place, or take it out to use the others.
    Ofsted's file is national, so it is not judged here: a kind with no row of the LA's is said by feed_presence."""
    if not la_code:
        return []
    urns = scope_urns(feeds, la_code)
    out = []
    for f in feeds:
        if f.kind not in PERFORMANCE_KINDS or f.schools.empty or "la_code" not in f.schools:
            continue
        codes = f.schools["la_code"].dropna().astype(str).str.strip()
        codes = codes[codes.ne("")]
        if codes.empty or codes.eq(str(la_code)).any() or in_scope_mask(f, urns, la_code).any():
            continue
        las = codes.value_counts().index.tolist()
        whose = f"LA {las[0]}'s" if len(las) == 1 else f"LAs {', '.join(las[:5])}'s"
        out.append(problem(f.source, f"none of its {len(f.schools)} school rows is for LA {la_code}'s schools: they "
                           f"are {whose}, so it is another LA's download. Put LA {la_code}'s "
                           f"{FEED_LABELS.get(f.kind, f.kind)} file for {f.academic_year or 'that year'} in its place, "
                           "or take it out of the landing folder to judge the other files alone",
                           "critical", "feed_other_la", row=int(f.schools["_row"].iloc[0]),
                           column=f.headers.get("la_code", "LA")))
    return out


def _newest_results_without_national(feeds: list[Feed]) -> list[Problem]:
    """The newest KS2, KS4 or absence file is the one every school's figures are compared with national from
    (TermData.national): without its national summary rows none is, and every criterion resting on them goes
    unjudged. Critical, naming the file: a whole performance-tables download ends with those rows, so it was cut off
    at a row boundary (a cut mid-row already stops the run) or filtered down to the schools. A trial (s31): real
    Surrey's newest KS2 file cut after its 159th line published with 24 letters gone and the reader's warning pushed
    off the front page; its absence file cut so, with no word at all, 75 fewer schools at low support and two real
    schools at high. An older year's KS2 or KS4 file without them is still the reader's warning (no_summary_rows)."""
    from ..ingest.termdata import NATIONAL_LABELS, NATIONAL_RECTYPES

    out = []
    for kind in (*NATIONAL_RECTYPES, "absence"):
        fs = [f for f in feeds if f.kind == kind]
        if not fs:
            continue
        newest = max(fs, key=lambda f: (f.academic_year or "", f.source))  # as TermData.latest
        if newest.schools.empty:
            continue  # no school rows: feed_presence says so
        if kind == "absence" and "academic_year" in newest.schools:
            continue  # an Explore Education Statistics data set, which need not hold national rows: not this format
        comps = newest.comparators
        label = FEED_LABELS[kind]
        if comps is not None and not comps.empty and "level" in comps and comps["level"].eq("national").any():
            # A whole download has every national row its kind publishes (KS2: RECTYPE 4 and 5, the last line;
            # KS4: 5 and 7): one missing was cut off with the file's end, and it may be the one the rule set
            # compares with (verify s31: real Surrey's KS2 cut before its last line lost every letter, unsaid).
            national = comps[comps["level"].eq("national")]
            have = set(national["rectype"].astype(str).str.strip()) if "rectype" in national else set()
            lost = sorted(set(NATIONAL_RECTYPES.get(kind, {})) - have)
            if lost and have:
                names = "; ".join(f"RECTYPE {r}, {NATIONAL_LABELS[NATIONAL_RECTYPES[kind][r]]}" for r in lost)
                out.append(problem(
                    newest.source,
                    f"the newest {label} file{f' (for {newest.academic_year})' if newest.academic_year else ''} "
                    f"lacks a national row a whole download has ({names}): it was cut off before its end, and the "
                    "national figure its schools are compared with may be the one lost. Download it again, whole",
                    "critical", "no_national_row", row=int(national["_row"].max()), column="RECTYPE"))
            continue
        la_rows = comps is not None and not comps.empty and "level" in comps and comps["level"].eq("la").any()
        rows, column = ((f"RECTYPE {' or '.join(sorted(NATIONAL_RECTYPES[kind]))}", "RECTYPE")
                        if kind in NATIONAL_RECTYPES else (f"NAT in column {newest.headers.get('la_code', 'LA')}",
                                                           newest.headers.get("la_code", "LA")))
        out.append(problem(
            newest.source,
            f"the newest {label} file{f' (for {newest.academic_year})' if newest.academic_year else ''} has no "
            f"national summary rows ({rows}){'' if la_rows else ' and no LA ones'}, which a whole performance-tables "
            f"download ends with: none of its schools' {label} figures could be compared with national, and every "
            "criterion resting on them would go unjudged. It may have been cut off: download it again, whole",
            "critical", "no_national_row", row=int(newest.schools["_row"].max()), column=column))
    return out


def _la_held_key(kind: str) -> tuple[str, ...]:
    from ..ingest.feeds import UNIQUE_KEYS

    keys = {"la_intelligence": ("urn", "flag", "raised_on"), "letters_log": ("urn", "letter", "issued_on"),
            "ward_members": ("ward", "member_name"), "laig_notes": ("urn", "meeting_date")}
    return UNIQUE_KEYS.get(kind) or keys[kind]


def feed_presence(feeds: list[Feed], la_code: str) -> list[Problem]:
    """GIAS is required; every other kind is expected, and its absence said plainly (never shown as 0%)."""
    out = []
    gias = [f for f in feeds if f.kind == "gias"]
    if not gias:
        return [problem(missing_file("gias"), "no GIAS establishment extract was supplied: it is required, as it says which "
                   f"schools are the LA's. Download the LA's establishment fields CSV from {GIAS_DOWNLOAD} and put it "
                   "in the landing folder as downloaded", "critical", "feed_missing")]
    mine = la_gias(feeds, la_code)
    if mine.empty:
        las = sorted({str(x) for f in gias for x in f.schools["la_code"].dropna()})
        return [problem(gias[0].source, f"the GIAS extract has no schools for LA {la_code} (it holds LA(s) "
                   f"{', '.join(las[:10]) or 'none'}): is this the right LA or the right file?", "critical", "feed_missing")]
    is_open = mine["status"].astype(str).str.startswith("Open")
    if not (is_open & mine["is_la_maintained"].astype(bool)).any():
        out.append(problem(gias[0].source, f"the GIAS extract lists no open LA-maintained school for LA {la_code}: the run "
                      "would categorise 0 schools, so nothing is published", "critical", "no_schools"))
    phases = mine.loc[is_open, "phase"].astype(str).str.lower()
    has_secondary = phases.str.contains("secondary|all-through|16 plus").any()
    kinds = {f.kind for f in feeds}
    for kind, consequence in EXPECTED_FEEDS.items():
        if kind == "ks4" and not has_secondary:
            continue
        if kind not in kinds:
            out.append(problem(missing_file(kind), consequence[0].upper() + consequence[1:], "warning", "feed_missing"))
        elif kind in SCOPED_KINDS:
            urns = scope_urns(feeds, la_code)
            if not any(in_scope_mask(f, urns, la_code).any() for f in feeds if f.kind == kind and not f.schools.empty):
                names = ", ".join(f.source for f in feeds if f.kind == kind)
                # Whose rows they are, when the file says: another LA's download is then plain (real: 919's absence).
                las = sorted({str(x) for f in feeds if f.kind == kind and "la_code" in f.schools
                              for x in f.schools["la_code"].dropna() if str(x).strip() not in ("", str(la_code))})
                whose = f" (they are LA {', '.join(las[:5])}'s: another LA's download?)" if las else ""
                out.append(problem(names, f"the {FEED_LABELS.get(kind, kind)} file(s) hold no rows for LA {la_code}'s "
                              f"schools{whose}: {consequence.split(': ', 1)[1]}", "warning", "feed_missing"))
        elif kind in EMPTY_FEEDS and all(f.schools.empty for f in feeds if f.kind == kind):
            names = ", ".join(f.source for f in feeds if f.kind == kind)
            out.append(problem(names, EMPTY_FEEDS[kind][0].upper() + EMPTY_FEEDS[kind][1:], "warning", "feed_empty"))
    return out


