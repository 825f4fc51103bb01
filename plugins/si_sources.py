"""Airflow side of the public sources: a hook that reads the source's Connection, the fetch task, one Asset per source,
and the record of which Asset versions a termly run used. The fetching itself is school_improvement.ingest.sources.

Connections (HTTP type; host, and schema https): si_gias (ea-edubase-api-prod.azurewebsites.net), si_ofsted
(www.gov.uk) and si_ees (api.education.gov.uk). Tests point them at 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

from airflow.sdk import Asset, BaseHook

log = logging.getLogger(__name__)
SOURCES = ("gias", "ofsted", "ees")
CONN_IDS = {s: f"si_{s}" for s in SOURCES}
REAL_HOSTS = {"gias": "ea-edubase-api-prod.azurewebsites.net", "ofsted": "www.gov.uk", "ees": "api.education.gov.uk"}


def source_asset(source: str) -> Asset:
    """One Asset per source: each successful fetch is a new version (its event's extra lists the files and SHA-256)."""
    return Asset(name=f"si_source_{source}", uri=f"school-improvement://sources/{source}")


def source_assets() -> list[Asset]:
    return [source_asset(s) for s in SOURCES]


class PublicSourceHook(BaseHook):
    """Reads a source's Connection (host, schema, port, optional login/password) and calls the domain fetcher."""

    conn_name_attr = "conn_id"
    default_conn_name = "si_gias"
    conn_type = "http"
    hook_name = "School improvement public source"

    def __init__(self, source: str, conn_id: str | None = None):
        super().__init__()
        if source not in SOURCES:
            raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
        self.source, self.conn_id = source, conn_id or CONN_IDS[source]

    def base_url(self) -> tuple[str, tuple[str, str] | None]:
        try:
            conn = self.get_connection(self.conn_id)
        except Exception as exc:  # the SDK raises its own "not found" type
            raise LookupError(f"the Airflow Connection {self.conn_id!r} is missing: create it (type HTTP, host "
                              f"{REAL_HOSTS[self.source]}, schema https) in Admin > Connections") from exc
        host = (conn.host or "").rstrip("/")
        if not host:
            raise LookupError(f"the Airflow Connection {self.conn_id!r} has no host (e.g. {REAL_HOSTS[self.source]})")
        if "://" not in host:
            host = f"{conn.schema or 'https'}://{host}"
        if conn.port:
            host = f"{host}:{conn.port}"
        auth = (conn.login, conn.password or "") if conn.login else None
        return host, auth

    def fetch(self, work_dir: str, when: date) -> list[dict]:
        from school_improvement.ingest.sources import fetch_source

        base, auth = self.base_url()
        return fetch_source(self.source, base, work_dir, when=when, auth=auth)


def _run_day(context: dict) -> date:
    """The London date the run stands for (logical_date may be None on manual runs)."""
    import pendulum

    when = context.get("logical_date") or getattr(context.get("dag_run"), "run_after", None) or pendulum.now("UTC")
    return pendulum.instance(when).in_timezone("Europe/London").date()


def fetch_source_task(source: str, context: dict) -> dict:
    """The fetch task: new files land in the store and the source's Asset gets a new version.

    An unreachable source raises, so this task fails (its failure callback sends the alert) and the termly run
    keeps using the latest good copy. A missing Connection or configuration fails at once: retrying cannot fix it.
    """
    from airflow.sdk.exceptions import AirflowFailException
    from school_improvement.ingest.sources import SourceError
    from si_airflow import work_dir

    try:
        got = PublicSourceHook(source).fetch(work_dir(), _run_day(context))
    except LookupError as exc:
        raise AirflowFailException(str(exc)) from exc
    except SourceError as exc:
        if "no data sets configured" in str(exc):
            raise AirflowFailException(str(exc)) from exc
        raise
    for g in got:
        log.info("%s %s: %s (%s bytes, sha256 %s) from %s", source, g["kind"], g["status"], g["bytes"], g["sha256"], g["url"])
    context["outlet_events"][source_asset(source)].extra = {"files": got}
    return {"source": source, "files": [{k: g[k] for k in ("kind", "file", "sha256", "status")} for g in got]}


def record_source_versions(context: dict, run_dir: str) -> dict:
    """Write which version (latest event) of each source Asset the termly run saw, beside its raw feeds.

    The run's raw manifest already names each fetched file with its SHA-256; this ties those to the Asset events.
    Never fails the run: a term with only dropped files has no events to record."""
    seen = {}
    for source in SOURCES:
        try:
            events = context["inlet_events"][source_asset(source)]
            last = events[-1] if len(events) else None
        except Exception as exc:  # no event yet, or the API could not say
            seen[source] = {"event": None, "note": f"{type(exc).__name__}: {exc}"[:300]}
            continue
        seen[source] = None if last is None else {
            "event_id": getattr(last, "id", None), "timestamp": str(getattr(last, "timestamp", "")),
            "source_run_id": getattr(last, "source_run_id", None), "extra": getattr(last, "extra", None)}
    out = Path(run_dir) / "source_assets.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(seen, indent=2, sort_keys=True, default=str))
    log.info("source Asset versions seen by this run: %s", json.dumps(seen, default=str)[:2000])
    return seen


def release_dates() -> list:
    """EES release dates from include/config/sources.yaml, 09:30 London time (when DfE statistics are published)."""
    import pendulum
    from school_improvement.ingest.sources import load_config

    days = (load_config().get("ees") or {}).get("release_dates") or []
    return [pendulum.parse(str(d), tz="Europe/London").replace(hour=9, minute=30) for d in days]
