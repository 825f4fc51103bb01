"""Quality: run one Great Expectations suite per feed and turn the results into `Problem`s.

Suites live as JSON in include/expectations/<kind>.json so data owners can read them; checks that depend on
the run (URN known to GIAS, dates not in the future) are added here. Each expectation carries a GX
severity: "critical" stops the run, "warning" goes to data_quality.csv.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import EXPECTATIONS_DIR
from ..errors import Problem, ValidationFailed
from ..ingest.feeds import LA_HELD_KINDS, Feed
from ..ingest.termdata import LINKS_KIND, SCOPED_KINDS, in_scope_mask, la_gias, predecessor_map, predecessors, scope_urns

DATE_COLUMNS = {
    "gias": ("open_date",), "ofsted": ("inspection_date", "oeif_date", "ungraded_date"),
    "adviser_judgements": ("visit_date",), "la_intelligence": ("raised_on",), "letters_log": ("issued_on",),
    "moderation": ("approved_on",), "laig_notes": ("meeting_date",),
}
MAX_ROWS_PER_CHECK = 500  # enough to fix a file; GX returns every unexpected row in COMPLETE mode
FRAME_COLUMNS = ["file", "feed_kind", "row", "column", "severity", "check", "message"]


def load_suite_dict(kind: str) -> dict:
    return json.loads((Path(EXPECTATIONS_DIR) / f"{kind}.json").read_text(encoding="utf-8"))


@dataclass
class QualityReport:
    problems: list[Problem]
    results: list = field(default_factory=list, repr=False)  # GX CheckpointResult per feed
    _context: object = field(default=None, repr=False)

    @property
    def critical(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "critical"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "critical"]

    def to_frame(self) -> pd.DataFrame:
        kinds = getattr(self, "_kinds", {})
        rows = [dict(file=p.file, feed_kind=kinds.get(p.file, ""), row=p.row, column=p.column, severity=p.severity,
                     check=p.check, message=p.message) for p in self.problems]
        df = pd.DataFrame(rows, columns=FRAME_COLUMNS)
        df["row"] = df["row"].astype("Int64")
        order = df.assign(_sev=df["severity"].ne("critical"))
        return df.loc[order.sort_values(["_sev", "file", "row", "column", "check"], kind="stable",
                                        na_position="first").index].reset_index(drop=True)

    def raise_if_critical(self) -> None:
        if self.critical:
            raise ValidationFailed(self.critical)

    def build_data_docs(self, target_dir) -> Path:
        """Write GX's static HTML Data Docs for this report's validations; returns the index.html path."""
        target = Path(target_dir).resolve()
        target.mkdir(parents=True, exist_ok=True)
        ctx = self._context
        ctx.add_data_docs_site(site_name="school_improvement", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(target)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
        ctx.build_data_docs(site_names=["school_improvement"])
        return target / "index.html"


def _gx():
    os.environ["GX_ANALYTICS_ENABLED"] = "False"  # never phone home from a council server
    import great_expectations as gx

    return gx


def _suite(gx, kind: str, name: str, extra: list[dict]):
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    spec = load_suite_dict(kind)
    expectations = [
        ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e.get("meta", {}),
                                 severity=e.get("severity", "critical")).to_domain_obj()
        for e in spec["expectations"] + extra
    ]
    return gx.ExpectationSuite(name=name, expectations=expectations, meta=spec.get("meta", {}))


def _frame(feed: Feed) -> pd.DataFrame:
    """The schools table as GX sees it: dates as timestamps so range checks work."""
    df = feed.schools.copy()
    for c in DATE_COLUMNS.get(feed.kind, ()):
        if c in df:
            df[c] = pd.to_datetime(df[c], errors="coerce")
    for c in df.columns:  # GX pandas metrics want plain objects, not pandas' string extension dtype
        if str(df[c].dtype) in ("str", "string"):
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df.reset_index(drop=True)


def _message(cfg, value=None) -> str:
    kw = cfg.kwargs
    col = kw.get("column")
    t = cfg.type
    shown = "" if value is None else f"{value!r}: "
    if t == "expect_column_to_exist":
        return f"required column {col} is missing"
    if t == "expect_column_values_to_not_be_null":
        if kw.get("mostly") is not None:
            return f"{col} has no figure for more than {100 - round(kw['mostly'] * 100)}% of schools (suppressed or blank)"
        return f"{col} is blank"
    if t == "expect_column_values_to_be_unique":
        return f"{shown}{col} is duplicated"
    if t == "expect_compound_columns_to_be_unique":
        return f"{shown}duplicate {' + '.join(kw['column_list'])}"
    if t == "expect_column_values_to_be_between":
        if (cfg.meta or {}).get("check") == "date_not_future":
            return f"{shown}{col} is in the future"
        if col == "urn":
            return f"{shown}URN must be 6 digits, 100000-999999"
        lo, hi = (f"{v:g}" if isinstance(v, (int, float)) else v for v in (kw.get("min_value"), kw.get("max_value")))
        return f"{shown}{col} is outside {lo}..{hi}"
    if t == "expect_column_values_to_be_in_set":
        if (cfg.meta or {}).get("check") == "known_to_gias":
            return f"{shown}URN is not in the GIAS establishment extract"
        allowed = ", ".join(str(v) for v in kw["value_set"])
        return f"{shown}{col} is not a known code (allowed: {allowed})"
    return f"{shown}failed {t}"


def _problems(feed: Feed, result) -> list[Problem]:
    out = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        sev = getattr(cfg.severity, "value", str(cfg.severity)).lower()
        severity = "critical" if sev == "critical" else "warning"
        check = (cfg.meta or {}).get("check") or cfg.type
        col = cfg.kwargs.get("column") or ",".join(cfg.kwargs.get("column_list", []) or []) or None
        res = r.result or {}
        idx = res.get("unexpected_index_list")
        if cfg.kwargs.get("mostly") is not None or not idx:
            if r.exception_info and r.exception_info.get("raised_exception"):
                msg = f"check could not run: {r.exception_info.get('exception_message')}"
            else:
                msg = _message(cfg)
            out.append(Problem(feed.source, None, col, msg, severity=severity, check=check))
            continue
        for item in idx[:MAX_ROWS_PER_CHECK]:
            row = int(item["_row"]) if isinstance(item, dict) and "_row" in item else None
            value = item.get(col) if isinstance(item, dict) and col in item else None
            if isinstance(value, pd.Timestamp):
                value = value.date().isoformat()
            elif hasattr(value, "item"):  # numpy scalar -> plain Python for a readable message
                value = value.item()
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            out.append(Problem(feed.source, row, col, _message(cfg, value), severity=severity, check=check))
    return out


def validate(feeds: list[Feed], gias_urns=None, today: dt.date | None = None, la_code: str | None = None) -> QualityReport:
    """Validate every feed with its GX suite, judging each problem where it matters.

    The run's schools are the LA's in GIAS (`la_code`; without it, every school in the GIAS extract). A DfE or
    Ofsted row for another school is set aside and counted once per file; a problem in such a row is a warning
    (no one can fix the DfE's file, and the run does not use the row). A URN unknown to GIAS is critical only
    in an LA-held feed, where it is a typing error the LA can fix. `gias_urns` overrides the LA's URNs."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = ctx.data_sources.add_pandas("feeds")
    today = today or dt.date.today()
    if gias_urns is None:
        gias = [f for f in feeds if f.kind == "gias"]
        if la_code is not None:
            gias_urns = scope_urns(feeds, la_code)
        elif gias:
            gias_urns = set().union(*(set(f.schools["urn"].astype(int)) for f in gias))
            links = predecessor_map(feeds)  # and their predecessors, by the GIAS links
            for u in list(gias_urns):
                gias_urns.update(predecessors(links, u))
    gias_urns = None if gias_urns is None else sorted(int(u) for u in gias_urns)

    problems, results = [], []
    for n, feed in enumerate(feeds):
        name = f"{n:02d}_{feed.kind}_{Path(feed.source).stem}"[:120]
        extra = []
        if gias_urns is not None and feed.kind in LA_HELD_KINDS and feed.kind != "ward_members":
            extra.append({"type": "expect_column_values_to_be_in_set", "severity": "critical",
                          "kwargs": {"column": "urn", "value_set": gias_urns}, "meta": {"check": "known_to_gias"}})
        for c in DATE_COLUMNS.get(feed.kind, ()):
            extra.append({"type": "expect_column_values_to_be_between", "severity": "warning",
                          "kwargs": {"column": c, "max_value": pd.Timestamp(today).isoformat()},
                          "meta": {"check": "date_not_future"}})
        # add, not add_or_update: the context is new, and add_or_update re-saves the suite at each level
        # (checkpoint -> validation -> suite), comparing every expectation pairwise: most of validate's time.
        suite = ctx.suites.add(_suite(gx, feed.kind, name, extra))
        asset = source.add_dataframe_asset(name=name)
        batch_def = asset.add_batch_definition_whole_dataframe(name)
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch_def, suite=suite))
        checkpoint = ctx.checkpoints.add(gx.Checkpoint(
            name=name, validation_definitions=[vd],
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["_row"]}))
        mask = in_scope_mask(feed, None if gias_urns is None else set(gias_urns), la_code)
        frame = _frame(feed)
        if feed.kind == LINKS_KIND and gias_urns is not None:
            frame = frame[mask.values].reset_index(drop=True)  # all England: only the links of the run's schools matter
        run = checkpoint.run(batch_parameters={"dataframe": frame})
        found = [p for vr in run.run_results.values() for p in _problems(feed, vr)]
        problems.extend(_judged_where_they_matter(feed, found, mask, la_code))
        results.append(run)
        problems.extend(feed.warnings)
    report = QualityReport(problems=problems, results=results, _context=ctx)
    report._kinds = {f.source: f.kind for f in feeds}
    return report


def _judged_where_they_matter(feed: Feed, found: list[Problem], mask: pd.Series, la_code: str | None = None
                              ) -> list[Problem]:
    """Keep problems in the LA's rows as they are; set aside the other schools' rows, counted once per file,
    with their problems summarised as one warning per check and column (naming the first row)."""
    if feed.kind == LINKS_KIND:
        return found  # GX saw only the run's schools' links; the other links are simply not needed
    if feed.kind not in SCOPED_KINDS or bool(mask.all()):
        return found
    aside_rows = set(int(r) for r in feed.schools.loc[~mask.values, "_row"])
    kept, elsewhere = [], {}
    for p in found:
        if p.row is not None and p.row in aside_rows:
            elsewhere.setdefault((p.check, p.column), []).append(p)
        else:
            kept.append(p)
    out = [Problem(feed.source, None, None,
                   f"{len(aside_rows)} of {len(feed.schools)} school rows are for schools not in this LA's GIAS "
                   f"extract: set aside, not used", severity="info", check="set_aside")]
    if la_code and "la_code" in feed.schools.columns:
        # Rows the file itself gives this LA's code but the GIAS extract does not hold: an extract of one phase, or
        # of another date, would otherwise drop the LA's own schools with only an "info" line.
        aside = feed.schools.loc[~mask.values]
        own = aside[aside["la_code"].astype(str).str.strip() == str(la_code)]
        if len(own):
            sample = ", ".join(str(int(u)) for u in own["urn"].dropna().head(5))
            out.append(Problem(feed.source, None, "urn",
                               f"{len(own)} row(s) that this file gives LA code {la_code} are for schools not in the "
                               f"GIAS extract (e.g. URN {sample}), so they are not categorised: is the GIAS extract "
                               "complete (every phase and type, open and closed) and of the right date?",
                               severity="warning", check="own_schools_not_in_gias"))
    for (check, column), ps in elsewhere.items():
        first = ps[0]
        out.append(Problem(feed.source, first.row, column,
                           f"{len(ps)} row(s) for other LAs' schools, which this run does not use, fail this check "
                           f"(the first: {first.message})", severity="warning", check=check))
    return out + kept


# ------------------------------------------------------------------ which files the run takes
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


def _p(file, message, severity="warning", check="", row=None, column=None) -> Problem:
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
        out.append(_p(gias[1].source, f"{len(gias)} GIAS establishment extracts ({names}): keep only the one for "
                      "this term, so the run does not have to guess which list of schools is right",
                      "critical", "feed_set"))
    by_year: dict = {}
    for f in feeds:
        if f.kind in SCOPED_KINDS:
            by_year.setdefault((f.kind, f.academic_year or "unknown"), []).append(f)
    for (kind, year), fs in sorted(by_year.items()):
        if len(fs) > 1:
            names = ", ".join(f.source for f in fs)
            out.append(_p(fs[1].source, f"{len(fs)} {FEED_LABELS.get(kind, kind)} files for academic year {year} "
                          f"({names}): keep one (the run would otherwise have to pick one by its name)",
                          "critical", "feed_set"))
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
            out.append(_p(grp.iloc[1]["_source"], msg, "critical", "feed_set", int(grp.iloc[1]["_row"]), key[0]))
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
        return [_p(missing_file("gias"), "no GIAS establishment extract was supplied: it is required, as it says which "
                   f"schools are the LA's. Download the LA's establishment fields CSV from {GIAS_DOWNLOAD} and put it "
                   "in the landing folder as downloaded", "critical", "feed_missing")]
    mine = la_gias(feeds, la_code)
    if mine.empty:
        las = sorted({str(x) for f in gias for x in f.schools["la_code"].dropna()})
        return [_p(gias[0].source, f"the GIAS extract has no schools for LA {la_code} (it holds LA(s) "
                   f"{', '.join(las[:10]) or 'none'}): is this the right LA or the right file?", "critical", "feed_missing")]
    is_open = mine["status"].astype(str).str.startswith("Open")
    if not (is_open & mine["is_la_maintained"].astype(bool)).any():
        out.append(_p(gias[0].source, f"the GIAS extract lists no open LA-maintained school for LA {la_code}: the run "
                      "would categorise 0 schools, so nothing is published", "critical", "no_schools"))
    phases = mine.loc[is_open, "phase"].astype(str).str.lower()
    has_secondary = phases.str.contains("secondary|all-through|16 plus").any()
    kinds = {f.kind for f in feeds}
    for kind, consequence in EXPECTED_FEEDS.items():
        if kind == "ks4" and not has_secondary:
            continue
        if kind not in kinds:
            out.append(_p(missing_file(kind), consequence[0].upper() + consequence[1:], "warning", "feed_missing"))
        elif kind in SCOPED_KINDS:
            urns = scope_urns(feeds, la_code)
            if not any(in_scope_mask(f, urns, la_code).any() for f in feeds if f.kind == kind and not f.schools.empty):
                names = ", ".join(f.source for f in feeds if f.kind == kind)
                out.append(_p(names, f"the {FEED_LABELS.get(kind, kind)} file(s) hold no rows for LA {la_code}'s "
                              f"schools: {consequence.split(': ', 1)[1]}", "warning", "feed_missing"))
        elif kind in EMPTY_FEEDS and all(f.schools.empty for f in feeds if f.kind == kind):
            names = ", ".join(f.source for f in feeds if f.kind == kind)
            out.append(_p(names, EMPTY_FEEDS[kind][0].upper() + EMPTY_FEEDS[kind][1:], "warning", "feed_empty"))
    return out


def _year_start(year: str) -> int | None:
    try:
        return int(str(year)[:4])
    except ValueError:
        return None


def _year(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


def _gias_after_term(feeds: list[Feed], term) -> list[Problem]:
    """A GIAS extract (or links file) dated after the term: schools that opened, closed or converted since are as
    GIAS says now, not as they were in the term. Said, so the reader knows which schools may be missing or new."""
    import re
    from datetime import date

    out, end = [], term.dates()[-1]
    for f in feeds:
        if f.kind not in ("gias", LINKS_KIND):
            continue
        m = re.search(r"(20\d\d)-?(\d\d)-?(\d\d)", Path(f.source).name)
        try:
            when = date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
        except ValueError:
            when = None
        if when and when > end:
            out.append(_p(f.source, f"the GIAS file is dated {when:%d %B %Y}, after {term} ended ({end:%d %B %Y}): "
                          "schools that opened, closed or became academies since then are listed as GIAS lists them "
                          "now, not as they were in the term; check the schools categorised against your own records",
                          "warning", "gias_after_term"))
    return out


def data_age(feeds: list[Feed], term, published_results: dict) -> list[Problem]:
    """How old each DfE feed's figures are for the term, against the newest that should exist.

    `published_results` (rule-set data): per kind, the academic years with no published figures and how many
    years before the term's own the newest figures are. Older than expected: a warning. As new as can be but
    still years old (e.g. 2018-19 results in 2021-22, none published in between): said, as information."""
    out = []
    term_start = int(term.start_year)
    for f in feeds:
        if not f.academic_year and f.kind not in LA_HELD_KINDS and f.kind != "gias_links":
            out.append(_p(f.source, f"the academic year of this {FEED_LABELS.get(f.kind, f.kind)} file is unknown "
                          "(not in the file, its name or its data): its figures are used as this term's, unchecked",
                          "warning", "data_age"))
    out.extend(_gias_after_term(feeds, term))
    for kind, spec in (published_results or {}).items():
        fs = [f for f in feeds if f.kind == kind and f.academic_year]
        if not fs:
            continue
        latest = max(fs, key=lambda f: f.academic_year)
        have = _year_start(latest.academic_year)
        if have is None:
            continue
        gaps = {str(y) for y in spec.get("not_published", [])}
        lag = int((spec.get("lag_years") or {}).get(term.season, 1))
        expect = term_start - lag
        while _year(expect) in gaps:
            expect -= 1
        label = spec.get("label", kind)
        age = term_start - have
        skipped = sorted(y for y in gaps if have < _year_start(y) < term_start)
        why = f"; none were published for {', '.join(skipped)}" if skipped else ""
        if have < expect:
            years = f"{age} year{'s' if age != 1 else ''}"
            out.append(_p(latest.source, f"{label} are for {latest.academic_year}, {years} before {term.academic_year}, "
                          f"but {_year(expect)} figures should exist for {term}: the evidence is out of date{why}",
                          "warning", "data_age"))
        elif age > 1:
            out.append(_p(latest.source, f"{label} are for {latest.academic_year}, {age} years before {term.academic_year}: "
                          f"the newest published{why}", "info", "data_age"))
    return out


def calendar_check(term) -> list[Problem]:
    from ..terms import TermCalendar

    cal = TermCalendar.load()
    if cal.term_dates(term) is None:
        start, end = term.nominal_dates()
        return [_p("include/calendar/term_dates.yaml", f"{term} is not in the term calendar: nominal dates "
                   f"{start} to {end} are used (due dates are moved to weekdays); add the term's dates to the calendar",
                   "warning", "term_calendar")]
    return []


# rule_set_review_date: the rule set is past its review date; fetched_source: a fetched copy not used
# (fetched_notes already gives each fetched copy's age).
NOTE_CHECKS = ("feed_missing", "feed_empty", "feed_set", "data_age", "term_calendar", "rule_set_review_date",
               "fetched_source", "own_schools_not_in_gias", "gias_after_term", "no_summary_rows")


def _sentence(text: str) -> str:
    text = str(text).strip()
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "?")) else text + "."


def front_page_notes(frame: pd.DataFrame) -> list[str]:
    """Plain sentences for the report's front page: missing feeds, data age, files set aside, warnings."""
    if frame is None or frame.empty:
        return []
    # Checks about one file say which: the message alone ("the KS2 file has ...") would not tell the reader.
    named = ("no_summary_rows", "own_schools_not_in_gias")
    said = frame.loc[frame["check"].isin(NOTE_CHECKS)]
    notes = list(dict.fromkeys(_sentence(f"{r['file']}: {r['message']}" if r["check"] in named else r["message"])
                               for r in said.to_dict("records")))
    aside = frame[frame["check"].eq("set_aside")]
    if len(aside):
        n = sum(int(str(m).split(" ", 1)[0]) for m in aside["message"] if str(m).split(" ", 1)[0].isdigit())
        notes.append(f"{n} rows for schools not in this LA's GIAS extract were set aside from {len(aside)} "
                     "file(s) and not used.")
    # The report lists the other warnings file by file (report.data_notes).
    return notes


def age_notes(frame: pd.DataFrame) -> dict[str, str]:
    """Feed kind -> how old its figures are (the data_age sentence), for each letter's evidence."""
    if frame is None or frame.empty:
        return {}
    rows = frame[frame["check"].eq("data_age") & frame["feed_kind"].astype(str).ne("")]
    return {str(r["feed_kind"]): _sentence(r["message"]) for r in rows.to_dict("records")}


# Words in a letter's evidence that show which feed it rests on.
EVIDENCE_WORDS = {"ks2": ("KS2",), "ks4": ("KS4", "Attainment 8", "Progress 8"), "absence": ("absence",),
                  "census": ("census",)}


def with_data_age(text: str, ages: dict[str, str]) -> str:
    """The evidence, followed by how old the figures it cites are."""
    text = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    extra = [ages[k] for k, words in EVIDENCE_WORDS.items()
             if k in ages and any(w.lower() in text.lower() for w in words)]
    return text + "".join(f" [Data age: {a}]" for a in extra) if extra else text
