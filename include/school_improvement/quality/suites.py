"""Quality suites: run one Great Expectations suite per feed and turn the results into `Problem`s.

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
from .gx_speed import configurations_built_once, data_docs_templates_compiled_once
from ..ingest.termdata import LINKS_KIND, SCOPED_KINDS, in_scope_mask, predecessor_map, predecessors, scope_urns

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
    results: list = field(default_factory=list, repr=False)  # GX ExpectationSuiteValidationResult per feed
    _context: object = field(default=None, repr=False)
    _suites: list = field(default_factory=list, repr=False)  # the GX suite of each result, for the Data Docs
    _stored: bool = field(default=False, repr=False)  # suites and results are in the context's stores

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
        """Write GX's static HTML Data Docs for this report's validations; returns the index.html path.

        The suites and results enter the context's stores only here: the checks themselves run without GX's
        stores (see `validate`), so a run that wants no Data Docs pays nothing for them."""
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier, ValidationResultIdentifier)

        target = Path(target_dir).resolve()
        target.mkdir(parents=True, exist_ok=True)
        ctx = self._context
        if not self._stored:
            for suite, result in zip(self._suites, self.results):
                suite_id = ExpectationSuiteIdentifier(name=suite.name)
                ctx.expectations_store.add(key=suite_id, value=suite)
                ctx.validation_results_store.store_validation_results(
                    suite_validation_result=result, expectation_suite_identifier=suite_id,
                    suite_validation_result_identifier=ValidationResultIdentifier(
                        expectation_suite_identifier=suite_id, run_id=result.meta["run_id"],
                        batch_identifier=result.batch_id))
            self._stored = True
        ctx.add_data_docs_site(site_name="school_improvement", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(target)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
        with data_docs_templates_compiled_once():
            ctx.build_data_docs(site_names=["school_improvement"])
        return target / "index.html"


def _gx():
    os.environ["GX_ANALYTICS_ENABLED"] = "False"  # never phone home from a council server
    from .gx_speed import scipy_stats_when_used

    scipy_stats_when_used()  # GX's import without scipy.stats, which no suite here uses (gx_speed.py)
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


def _message(cfg, value=None, headers: dict | None = None) -> str:
    """What failed, in words, naming the column as the file heads it (`headers`: Feed.headers)."""
    kw = cfg.kwargs
    headers = headers or {}
    col = headers.get(kw.get("column"), kw.get("column"))
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
        return f"{shown}duplicate {' + '.join(headers.get(c, c) for c in kw['column_list'])}"
    if t == "expect_column_values_to_be_between":
        if (cfg.meta or {}).get("check") == "date_not_future":
            return f"{shown}{col} is in the future"
        if kw.get("column") == "urn":
            return f"{shown}URN must be 6 digits, 100000-999999"
        lo, hi = (f"{v:g}" if isinstance(v, (int, float)) else v for v in (kw.get("min_value"), kw.get("max_value")))
        return f"{shown}{col} is outside {lo}..{hi}"
    if t == "expect_column_values_to_be_in_set":
        if (cfg.meta or {}).get("check") == "known_to_gias":
            # The run's URNs are the LA's: a URN GIAS lists under another LA is as unknown here as a mistyped one.
            return (f"{shown}URN is not one of this LA's schools in the GIAS establishment extract "
                    "(mistyped, or another LA's)")
        allowed = ", ".join(str(v) for v in kw["value_set"])
        return f"{shown}{col} is not a known code (allowed: {allowed})"
    return f"{shown}failed {t}"


def _problems(feed: Feed, result, scope: "pd.Series | None" = None) -> list[Problem]:
    out = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        sev = getattr(cfg.severity, "value", str(cfg.severity)).lower()
        severity = "critical" if sev == "critical" else "warning"
        check = (cfg.meta or {}).get("check") or cfg.type
        col = cfg.kwargs.get("column") or ",".join(cfg.kwargs.get("column_list", []) or []) or None
        shown = ",".join(feed.headers.get(c, c) for c in col.split(",")) if col else None  # the file's own header
        if (cfg.kwargs.get("mostly") is not None and cfg.type == "expect_column_values_to_not_be_null"
                and scope is not None and not bool(scope.all()) and col in feed.schools.columns):
            # A share of schools with no figure is the run's own schools' share: other LAs' rows (Surrey's census
            # and KS4 rows of independent schools, which publish no FSM or Attainment 8 figure) are set aside.
            own = feed.schools.loc[scope.values, col]
            if len(own) and own.notna().mean() >= cfg.kwargs["mostly"]:
                continue
        res = r.result or {}
        idx = res.get("unexpected_index_list")
        if cfg.kwargs.get("mostly") is not None or not idx:
            if r.exception_info and r.exception_info.get("raised_exception"):
                msg = f"check could not run: {r.exception_info.get('exception_message')}"
            else:
                msg = _message(cfg, headers=feed.headers)
            out.append(Problem(feed.source, None, shown, msg, severity=severity, check=check))
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
            out.append(Problem(feed.source, row, shown, _message(cfg, value, feed.headers), severity=severity,
                               check=check))
    return out


def validate(feeds: list[Feed], gias_urns=None, today: dt.date | None = None, la_code: str | None = None) -> QualityReport:
    """Validate every feed with its GX suite, judging each problem where it matters.

    The run's schools are the LA's in GIAS (`la_code`; without it, every school in the GIAS extract). A DfE or
    Ofsted row for another school is set aside and counted once per file; a problem in such a row is a warning
    (no one can fix the DfE's file, and the run does not use the row). A URN unknown to GIAS is critical only
    in an LA-held feed, where it is a typing error the LA can fix. `gias_urns` overrides the LA's URNs."""
    gx = _gx()
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.validator.v1_validator import Validator

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    # One data asset and batch definition for every feed: each feed's frame is its own batch. No suite, validation
    # definition or checkpoint is saved in the context: GX would serialise and compare them at each step (most of
    # validate's time); the suites and results reach its stores only if Data Docs are built.
    batch_def = ctx.data_sources.add_pandas("feeds").add_dataframe_asset(name="feed") \
        .add_batch_definition_whole_dataframe("feed")
    run_id = RunIdentifier(run_name="school_improvement", run_time=dt.datetime.now(dt.timezone.utc))
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": ["_row"]}
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

    problems, results, suites, own_rows = [], [], [], []
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
        suite = _suite(gx, feed.kind, name, extra)
        mask = in_scope_mask(feed, None if gias_urns is None else set(gias_urns), la_code)
        frame = _frame(feed)
        if feed.kind == LINKS_KIND and gias_urns is not None:
            frame = frame[mask.values].reset_index(drop=True)  # all England: only the links of the run's schools matter
        with configurations_built_once():
            result = Validator(batch_definition=batch_def, result_format=result_format,
                               batch_parameters={"dataframe": frame}).validate_expectation_suite(suite)
        result.meta.update(run_id=run_id, validation_time=run_id.run_time, batch_parameters={"dataframe": "<DATAFRAME>"})
        problems.extend(_judged_where_they_matter(feed, _problems(feed, result, mask), mask, la_code))
        results.append(result)
        suites.append(suite)
        problems.extend(feed.warnings)
        own_rows.append(_own_rows_not_in_gias(feed, mask, la_code))
    problems.extend(_own_schools_not_in_gias(own_rows, la_code))
    report = QualityReport(problems=problems, results=results, _context=ctx, _suites=suites)
    report._kinds = {f.source: f.kind for f in feeds}
    return report


def _own_rows_not_in_gias(feed: Feed, mask: pd.Series, la_code: str | None) -> tuple[str, pd.DataFrame]:
    """The rows a DfE or Ofsted file itself gives this LA's code but the GIAS extract does not hold."""
    if (not la_code or feed.kind == LINKS_KIND or feed.kind not in SCOPED_KINDS or bool(mask.all())
            or "la_code" not in feed.schools.columns):
        return feed.source, feed.schools.iloc[0:0]
    aside = feed.schools.loc[~mask.values]
    return feed.source, aside[aside["la_code"].astype(str).str.strip() == str(la_code)]


def _own_schools_not_in_gias(own_rows: list[tuple[str, pd.DataFrame]], la_code: str | None) -> list[Problem]:
    """The LA's own rows missing from GIAS, said once for the run (one row of data_quality.csv, one sentence on
    the front page), naming each file: an extract of one phase, or of another date, misses them in every results
    file alike, and would otherwise drop the LA's own schools with only an "info" line."""
    hit = [(name, own) for name, own in own_rows if len(own)]
    if not hit:
        return []
    total = sum(len(own) for _, own in hit)
    urns = sorted({int(u) for _, own in hit for u in own["urn"].dropna()})
    sample = ", ".join(str(u) for u in urns[:5])
    if len(hit) == 1:
        whose = f"{hit[0][0]} gives LA code {la_code}"
    else:
        whose = (f"{len(hit)} files give LA code {la_code} ("
                 + "; ".join(f"{name}: {len(own)}" for name, own in hit) + ")")
    what = (f"{total} rows that {whose} are for schools not in the GIAS extract (e.g. URN {sample}), so they are"
            if total != 1 else f"1 row that {whose} is for a school not in the GIAS extract (URN {sample}), so it is")
    return [Problem(", ".join(name for name, _ in hit), None, "urn",
                    f"{what} not categorised: is the GIAS extract complete (every phase and type, open and closed) "
                    "and of the right date?", severity="warning", check="own_schools_not_in_gias")]


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
    for (check, column), ps in elsewhere.items():
        first = ps[0]
        out.append(Problem(feed.source, first.row, column,
                           f"{len(ps)} row(s) for other LAs' schools, which this run does not use, fail this check "
                           f"(the first: {first.message})", severity="warning", check=check))
    return out + kept
