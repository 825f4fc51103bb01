"""The feeds of one term, gathered by kind, with the lookups every stage needs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pandas as pd

from ..terms import Term



@dataclass
class TermData:
    la_code: str
    term: Term
    feeds: list  # list[feeds.Feed]
    by_kind: dict = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False)
    # The rule set's `predecessor_results`: whether a new URN is given its one predecessor's figures ("one": "use"
    # or "not_used"); several predecessors with figures are never reduced to one. Set by the evidence stage.
    predecessor_results: dict = field(default_factory=dict)

    def __post_init__(self):
        # The LA's schools are those in its GIAS extract: DfE and Ofsted rows for other schools are set aside.
        urns = scope_urns(self.feeds, self.la_code)
        self.feeds = [in_scope(f, urns, self.la_code) for f in self.feeds]
        for f in self.feeds:
            self.by_kind.setdefault(f.kind, []).append(f)
        # Several files of one kind (e.g. KS2 for three years): the latest year is this term's.
        for kind, fs in self.by_kind.items():
            fs.sort(key=lambda f: (f.academic_year or "", f.source))

    def latest(self, kind: str):
        fs = self.by_kind.get(kind) or []
        return fs[-1] if fs else None

    def frame(self, kind: str) -> pd.DataFrame:
        # Every criterion of every school asks: build each frame once per term.
        key = ("frame", kind)
        if key not in self._cache:
            self._cache[key] = self._frame(kind)
        return self._cache[key]

    def _frame(self, kind: str) -> pd.DataFrame:
        f = self.latest(kind)
        if f is None:
            return pd.DataFrame()
        if kind not in LA_HELD_CONCAT:
            return f.schools
        # Several files may hold one LA-held feed; each row remembers its file, the source of its evidence.
        return pd.concat([x.schools.assign(_source=x.source) for x in self.by_kind[kind]], ignore_index=True)

    def row(self, kind: str, urn: int) -> dict | None:
        """The school's row of a feed. A school with none (a new URN: academy converter, amalgamation) may be given
        its predecessor's published row (GIAS links) as the rule set's `predecessor_results` says: with one
        predecessor holding figures, that row, marked `_predecessor` (its URN) so the evidence names it; with two or
        more, none (judging the school on one of them would be a guess): `predecessor_note` says why."""
        idx = self._index(kind)
        found = idx.get(urn)
        if found is None and kind in SCOPED_KINDS:
            held = self.predecessors_holding(kind, urn)
            if len(held) == 1 and self.predecessor_results.get("one", "use") == "use":
                return {**idx[held[0]], "_predecessor": held[0]}
        return found

    def predecessors_holding(self, kind: str, urn: int) -> list[int]:
        """The nearest generation of the school's predecessors (GIAS links) that holds a row of this feed: one URN
        (a converter, or the one predecessor of an amalgamation with figures), several, or none. [] when the school
        has a row of its own."""
        idx = self._index(kind)
        if int(urn) in idx:
            return []
        links, seen, generation = self._links(), {int(urn)}, list(self._links().get(int(urn), []))
        while generation:
            held = [u for u in dict.fromkeys(generation) if u in idx]
            if held:
                return held
            seen.update(generation)
            generation = [p for u in generation for p in links.get(u, []) if p not in seen]
        return []

    def predecessor_note(self, kind: str, urn: int) -> str:
        """Why a school with several predecessors holding figures is not judged on them ("" otherwise)."""
        held = self.predecessors_holding(kind, urn)
        if len(held) < 2:
            return ""
        return (f"formed from {len(held)} schools with their own figures (predecessor URNs "
                f"{', '.join(map(str, sorted(held)))}, GIAS links): not judged on one of them")

    def kind_of_source(self, source: str) -> str | None:
        """The kind of the feed file named `source` (an indicator's evidence names its file)."""
        return next((f.kind for f in self.feeds if f.source == source), None)

    def _links(self) -> dict:
        if "links" not in self._cache:  # built once per term: the links file is all England
            self._cache["links"] = predecessor_map(self.feeds)
        return self._cache["links"]

    def carry_forward(self, previous: dict) -> dict:
        """Earlier terms' records (category, measures) under each school's current URN: a converter academy or an
        amalgamated school keeps its predecessor's history (GIAS links)."""
        links = self._links()
        if not links:
            return previous
        out = dict(previous)
        for urn in la_gias(self.feeds, self.la_code)["urn"] if any(f.kind == "gias" for f in self.feeds) else []:
            urn = int(urn)
            if urn not in out:
                prev = _one_predecessor_in(links, urn, previous)
                if prev is not None:  # marked, so the history comparison does not count it as a school that left
                    out[urn] = {**previous[prev], "carried_from": prev}
        return out

    def la_name(self) -> str:
        """The LA's name as GIAS gives it, or "" when the extract does not name it."""
        gias = la_gias(self.feeds, self.la_code)
        names = gias["la_name"].dropna().astype(str).str.strip() if "la_name" in gias else pd.Series(dtype=str)
        names = names[names != ""]
        return str(names.mode().iloc[0]) if len(names) else ""

    def _index(self, kind: str) -> dict:
        key = ("index", kind)
        if key not in self._cache:
            df = self.frame(kind)
            self._cache[key] = {} if df.empty or "urn" not in df else {
                int(r["urn"]): r for r in df.to_dict("records")}
        return self._cache[key]

    def row_in_year(self, kind: str, urn: int, academic_year: str) -> dict | None:
        """The school's row in the file of that academic year (e.g. last year's KS2), indexed once per term."""
        key = ("year_index", kind, academic_year)
        if key not in self._cache:
            f = next((f for f in self.by_kind.get(kind) or [] if f.academic_year == academic_year), None)
            df = None if f is None else f.schools
            self._cache[key] = {} if df is None or df.empty or "urn" not in df else {
                int(r["urn"]): r for r in df.to_dict("records") if pd.notna(r["urn"])}
        return self._cache[key].get(urn)

    def national(self, kind: str, phase: str | None = None, scope: str | None = None) -> dict:
        """The national comparator row, for the school's phase where the feed splits by phase.

        `scope` (the rule set's `national_comparator` for the kind: "state_funded" or "all_schools") picks among the
        performance tables' national rows by their record type; the row carries its words in `_label`, e.g.
        "national (state-funded schools)", for the evidence. No row of that scope: {} (not judged against national).
        """
        key = ("national", kind, phase, scope)
        if key not in self._cache:
            self._cache[key] = self._national(kind, phase, scope)
        return self._cache[key]

    def _national(self, kind: str, phase: str | None, scope: str | None = None) -> dict:
        f = self.latest(kind)
        if f is None or f.comparators is None or f.comparators.empty:
            return {}
        nat = f.comparators[f.comparators["level"] == "national"]
        if nat.empty:
            return {}
        types = NATIONAL_RECTYPES.get(kind)
        if scope and types and "rectype" in nat:
            rectype = {s: r for r, s in types.items()}.get(scope)
            if rectype is None:
                raise ValueError(f"national comparator {scope!r} for {kind}: not one of {', '.join(types.values())}")
            same = nat[nat["rectype"].astype(str).str.strip() == rectype]
            return {**same.iloc[0].to_dict(), "_label": NATIONAL_LABELS[scope]} if len(same) else {}
        if types and "rectype" in nat:  # no choice given (a rule set without one): the row used is named by its type
            first = nat.iloc[0].to_dict()
            scope_of = types.get(str(first.get("rectype") or "").strip())
            return {**first, "_label": NATIONAL_LABELS[scope_of]} if scope_of else first
        if phase and "phase" in nat:
            same = nat[nat["phase"].astype(str).str.upper() == phase.upper()]
            if not same.empty:
                return same.iloc[0].to_dict()
        if "phase" in nat:
            allp = nat[nat["phase"].isna() | nat["phase"].astype(str).isin(["", "ALL", "Total"])]
            if not allp.empty:
                return allp.iloc[0].to_dict()
        return nat.iloc[0].to_dict()

    def status(self, kind: str, urn: int, column: str) -> str | None:
        """Why a figure is missing: the status code and its reason, e.g. 'SUPP (5 or fewer pupils)'."""
        key = ("status", kind)
        if key not in self._cache:
            f = self.latest(kind)
            st = f.statuses if f is not None and f.statuses is not None else pd.DataFrame()
            found: dict = {}
            # Column by column, not a dict per row (to_dict("records")): a county's KS2 statuses run to tens of
            # thousands of rows, read the first time a school's figure is missing. A row without a URN (the LA's or
            # the national one) is keyed None, as to_dict gave it.
            def values(c):
                return [None if v is pd.NA else v for v in st[c].tolist()] if c in st else [None] * len(st)

            for urn, column, code, reason in zip(*map(values, ("urn", "column", "code", "reason"))):
                code = str(code or "").strip()  # a blank cell has no code: its reason alone
                found.setdefault((urn, column), (f"{code} ({reason})" if code else str(reason)) if reason else code)
            self._cache[key] = found
        return self._cache[key].get((urn, column))

    def rows_for(self, kind: str, urn: int) -> pd.DataFrame:
        df = self.frame(kind)
        if df.empty or "urn" not in df:
            return df
        key = ("groups", kind)
        if key not in self._cache:
            self._cache[key] = {int(u): g for u, g in df.groupby("urn", sort=False)}
        return self._cache[key].get(int(urn), df.iloc[0:0])

    def checksums(self) -> dict[str, str]:
        return {f.source: f.sha256 for f in sorted(self.feeds, key=lambda f: f.source)}

    def provenance(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"file": f.source, "kind": f.kind, "academic_year": f.academic_year or "", "rows": f.rows,
              "sha256": f.sha256} for f in sorted(self.feeds, key=lambda f: (f.kind, f.source))],
            columns=["file", "kind", "academic_year", "rows", "sha256"])

    def window(self) -> tuple[date, date]:
        """The evidence window: from the start of the previous term to the end of this one."""
        start = self.term.previous().dates()[0]
        return start, self.term.dates()[1]


# The performance tables' national rows by record type (DfE's coding in the files' metadata, not a policy): KS2
# RECTYPE 4 "National (all schools)", 5 "National (state-funded schools only)"; KS4 RECTYPE 5 "National (all
# schools)", 7 "National (maintained schools)", the state-funded figure DfE headlines. Which one a school is
# compared with is the rule set's `national_comparator`.
NATIONAL_RECTYPES = {"ks2": {"4": "all_schools", "5": "state_funded"}, "ks4": {"5": "all_schools", "7": "state_funded"}}
NATIONAL_LABELS = {"all_schools": "national (all schools)", "state_funded": "national (state-funded schools)"}

# DfE and Ofsted publications (often all England): only the LA's schools are used, the rest set aside and counted.
SCOPED_KINDS = ("ks2", "ks4", "absence", "census", "ofsted")
LINKS_KIND = "gias_links"


def la_gias(feeds: list, la_code: str) -> pd.DataFrame:
    """The LA's rows of the GIAS extract(s): every status (open or closed), maintained or academy."""
    frames = [f.schools for f in feeds if f.kind == "gias" and not f.schools.empty]
    if not frames:
        return pd.DataFrame()
    gias = pd.concat(frames, ignore_index=True)
    return gias[gias["la_code"].astype(str).str.strip() == str(la_code)]


def predecessor_map(feeds: list) -> dict[int, list[int]]:
    """URN -> its direct predecessors' URNs by the GIAS links file(s), most recent link first."""
    links = [f.schools for f in feeds if f.kind == LINKS_KIND and not f.schools.empty]
    if not links:
        return {}
    df = pd.concat(links, ignore_index=True)
    pred = df[df["link_type"].astype(str).str.startswith("Predecessor")]
    by_urn: dict[int, list[int]] = {}
    pred = pred.assign(_d=pd.to_datetime(pred["link_date"], errors="coerce"))
    for u, p in zip(pred.sort_values("_d", na_position="first", kind="stable")["urn"],
                    pred.sort_values("_d", na_position="first", kind="stable")["link_urn"]):
        by_urn.setdefault(int(u), []).insert(0, int(p))
    return by_urn


def _one_predecessor_in(links: dict[int, list[int]], urn: int, held) -> int | None:
    """The predecessor in `held` of the nearest generation that has any there; None when that generation has two
    or more (an amalgamation: no one school's record is the new school's)."""
    seen, generation = {int(urn)}, list(links.get(int(urn), []))
    while generation:
        found = [u for u in dict.fromkeys(generation) if u in held]
        if found:
            return found[0] if len(found) == 1 else None
        seen.update(generation)
        generation = [p for u in generation for p in links.get(u, []) if p not in seen]
    return None


def predecessors(by_urn: dict[int, list[int]], urn: int) -> list[int]:
    """Predecessor URNs of a school, nearest first (a chain of conversions and amalgamations is followed)."""
    out, todo = [], list(by_urn.get(int(urn), []))
    while todo:
        u = todo.pop(0)
        if u not in out and u != int(urn):
            out.append(u)
            todo.extend(by_urn.get(u, []))
    return out


def scope_urns(feeds: list, la_code: str) -> set[int] | None:
    """URNs whose DfE/Ofsted rows the run uses: the LA's GIAS schools and their predecessors. None without GIAS."""
    gias = la_gias(feeds, la_code)
    if not any(f.kind == "gias" for f in feeds):
        return None
    urns = {int(u) for u in gias["urn"]} if not gias.empty else set()
    by_urn = predecessor_map(feeds)
    for u in list(urns):
        urns.update(predecessors(by_urn, u))
    return urns


def in_scope_mask(feed, urns: set[int] | None, la_code: str | None) -> pd.Series:
    """True for the rows of `feed.schools` that are the LA's: URN in `urns`, else (no GIAS) the row's LA code."""
    df = feed.schools
    if feed.kind == LINKS_KIND and urns is not None and not df.empty:
        return df["urn"].isin(list(urns)) | df["link_urn"].isin(list(urns))
    if feed.kind not in SCOPED_KINDS or df.empty or "urn" not in df:
        return pd.Series(True, index=df.index)
    if urns is not None:
        return df["urn"].astype("Int64").isin(list(urns)).fillna(False).astype(bool)
    if la_code and "la_code" in df:
        return df["la_code"].astype(str).str.strip().eq(str(la_code))
    return pd.Series(True, index=df.index)


def in_scope(feed, urns: set[int] | None, la_code: str):
    """The feed with only the LA's school rows (and its own LA's comparator rows); the others are set aside."""
    if feed.kind not in SCOPED_KINDS:
        return feed
    mask = in_scope_mask(feed, urns, la_code)
    comps = feed.comparators
    if comps is not None and not comps.empty and "level" in comps and "la_code" in comps:
        other_la = comps["level"].eq("la") & comps["la_code"].astype(str).str.strip().ne(str(la_code))
        comps = comps[~other_la]
    if bool(mask.all()) and comps is feed.comparators:
        return feed
    return replace(feed, schools=feed.schools[mask].reset_index(drop=True), comparators=comps)


# LA-held feeds may come as several files in a term (one per adviser, say): use them all.
LA_HELD_CONCAT = {"adviser_judgements", "la_intelligence", "letters_log", "moderation", "ward_members", "laig_notes"}


def months_before(d: date, months: int) -> date:
    return d - timedelta(days=round(months * 30.44))


def read_without_other_schools(path, err, urns: set[int] | None, la_code: str):
    """A DfE file whose only unreadable rows are other schools' (a whole-England download): those rows are set
    aside with one warning, and the rest read, rows numbered as in the file. None when any problem is in the
    header, a row of the LA's own schools, or the file is not a CSV: then the reader's error stands."""
    import csv
    import io
    import tempfile
    from pathlib import Path

    from ..errors import FeedError, Problem
    from .feeds import detect_kind, read_feed

    path = Path(path)
    if path.suffix.lower() != ".csv" or any(p.row is None or p.row <= 1 for p in err.problems):
        return None
    data = path.read_bytes()
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError:
        text, encoding = data.decode("cp1252"), "cp1252"
    reader = csv.reader(io.StringIO(text, newline=""))
    records = []  # (first physical line, cells)
    line = 1
    try:
        for cells in reader:
            records.append((line, cells))
            line = reader.line_num + 1
    except csv.Error:  # a cell over the field limit, a stray NUL: the reader's error (file, row) stands
        return None
    if not records:
        return None
    header = [h.replace("\ufeff", "").strip().upper() for h in records[0][1]]
    if detect_kind(records[0][1]) not in SCOPED_KINDS:
        return None
    urn_i = next((header.index(h) for h in ("URN", "SCHOOL_URN") if h in header), None)
    la_i = next((header.index(h) for h in ("LA", "LEA", "OLD_LA_CODE") if h in header), None)

    def others(cells) -> bool:
        urn = cells[urn_i].strip() if urn_i is not None and urn_i < len(cells) else ""
        la = cells[la_i].strip() if la_i is not None and la_i < len(cells) else ""
        if urns is not None and urn.isdigit():
            return int(urn) not in urns
        return bool(la) and la != str(la_code)

    by_line = {ln: cells for ln, cells in records[1:]}
    bad = {p.row for p in err.problems}
    if not all(r in by_line and others(by_line[r]) for r in bad):
        return None
    kept = [records[0]] + [(ln, c) for ln, c in records[1:] if ln not in bad]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(c for _, c in kept)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        copy.write_text(out.getvalue(), encoding=encoding)
        try:
            feed = read_feed(copy)
        except FeedError:
            return None  # still unreadable without those rows: the reader's error on the file stands
    original = {i + 1: ln for i, (ln, _) in enumerate(kept)}  # line in the copy -> line in the file
    for frame in (feed.schools, feed.comparators, feed.statuses):
        if frame is not None and "_row" in frame and len(frame):
            frame["_row"] = frame["_row"].map(lambda r: original.get(int(r), r))
    first = min(err.problems, key=lambda p: p.row)
    note = Problem(path.name, first.row, first.column,
                   f"{len(bad)} row(s) for other LAs' schools, which this run does not use, could not be read and "
                   f"were set aside (the first: {first.message})", severity="warning", check=first.check or "read")
    return replace(feed, source=path.name, path=str(path), sha256=hashlib.sha256(data).hexdigest(),
                   warnings=[note] + [replace(w, file=path.name, row=original.get(w.row, w.row)) for w in feed.warnings])


def read_files(paths: list, la_code: str, levels=None) -> tuple[list, list]:
    """Read a term's files as the run does (the `extract` stage, and `compare`): the GIAS links download by its own
    reader, every other file by its kind's; a whole-England download whose only unreadable rows are other LAs'
    schools is read without them. Returns (feeds, problems of the files that could not be read). `levels`: the
    LA's rule set's (id, levels), for read_feed's messages."""
    from ..errors import FeedError
    from .feeds import read_feed
    from .links import is_links_file, read_links

    feeds, failed = [], []
    for p in paths:
        try:
            # The GIAS links download is a feed of its own: predecessor URNs, so results follow a school.
            feeds.append(read_links(p) if is_links_file(p) else read_feed(p, levels))
        except FeedError as exc:  # keep reading: the operator gets every broken file at once
            failed.append((p, exc))
    problems = []
    urns = scope_urns(feeds, la_code)
    for p, exc in failed:
        # A whole-England download whose only unreadable rows are other LAs' schools: those rows are set aside.
        feed = read_without_other_schools(p, exc, urns, la_code)
        if feed is None:
            problems.extend(exc.problems)
        else:
            feeds.append(feed)
    return feeds, problems
