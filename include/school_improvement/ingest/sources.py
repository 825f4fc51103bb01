"""Feeds fetched from their public sources: GIAS, Ofsted's management information and Explore Education Statistics.

The fetch (run by the `fetch_sources_*` DAGs) downloads a source into a store of raw copies, each with its URL,
time, HTTP validators (ETag, Last-Modified) and SHA-256. The termly run then picks, for its run date, the newest
good copy of each kind from that store (`for_term`); a file dropped in the landing folder of the same kind and year
wins over a fetched one (`pipeline.extract` applies that), and the report's provenance says which came from where.

Hosts are given by the caller (Airflow Connections in production, 127.0.0.1 in tests); nothing here imports
Airflow. HTTP is `requests` with timeouts, retries with backoff, conditional requests and a size limit.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import yaml

from .. import INCLUDE_DIR

SOURCES_FILE = INCLUDE_DIR / "config" / "sources.yaml"
SOURCES = ("gias", "ofsted", "ees")
SOURCE_TITLES = {"gias": "Get Information about Schools", "ofsted": "Ofsted management information",
                 "ees": "Explore Education Statistics"}


class SourceError(RuntimeError):
    """A source that could not be fetched, with what was tried; the latest good copy stays in the store."""


def load_config(path: Path | str = SOURCES_FILE) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def store_root(work_dir: str | Path) -> Path:
    """Where fetched copies live: one store per deployment (the sources are national, not per LA)."""
    return Path(work_dir) / "sources"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


# ------------------------------------------------------------------ the store of fetched copies
@dataclass
class Copy:
    """One fetched file in the store. `data_date` is the date the publisher gives it (GIAS file date, Ofsted
    "as at" date); `academic_year` is set for EES data sets."""

    source: str
    kind: str
    url: str
    file: str  # path relative to the source's folder in the store
    sha256: str
    bytes: int
    fetched_at: str  # ISO UTC: when these bytes were downloaded
    checked_at: str  # ISO UTC: when the source last confirmed them (a 304 updates this only)
    etag: str = ""
    last_modified: str = ""
    data_date: str = ""
    academic_year: str = ""
    title: str = ""

    def path(self, root: Path) -> Path:
        return root / self.source / self.file

    @property
    def name(self) -> str:
        return Path(self.file).name


class Store:
    """`<root>/<source>/index.json` lists the copies; bytes are in `<root>/<source>/files/<sha12>/<name>`."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _index_path(self, source: str) -> Path:
        return self.root / source / "index.json"

    def copies(self, source: str) -> list[Copy]:
        p = self._index_path(source)
        if not p.exists():
            return []
        return [Copy(**c) for c in json.loads(p.read_text(encoding="utf-8"))]

    def by_url(self, source: str, url: str) -> Copy | None:
        found = [c for c in self.copies(source) if c.url == url and c.path(self.root).is_file()]
        return found[-1] if found else None

    def put(self, copy: Copy) -> None:
        """Add or replace the copy for its URL; the index is replaced whole, never half-written."""
        rest = [c for c in self.copies(copy.source) if c.url != copy.url]
        p = self._index_path(copy.source)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(".json.tmp")
        tmp.write_text(json.dumps([asdict(c) for c in rest + [copy]], indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, p)


# ------------------------------------------------------------------ HTTP
@dataclass
class HttpSettings:
    connect_timeout_s: float = 10
    read_timeout_s: float = 120
    attempts: int = 3
    backoff_s: float = 5
    max_bytes: int = 200 * 1024 * 1024
    user_agent: str = "school-improvement-pipeline"

    @classmethod
    def from_config(cls, cfg: dict) -> "HttpSettings":
        known = {k: v for k, v in (cfg.get("http") or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)


class NotFound(Exception):
    """404/410: the file is not (yet) published at this URL."""


@dataclass
class Fetched:
    copy: Copy
    status: str  # "downloaded" | "not modified"


class Fetcher:
    """Downloads one URL into the store: conditional on the copy already held, retried, size-limited."""

    def __init__(self, store: Store, settings: HttpSettings, sleep: Callable[[float], None] = time.sleep,
                 session=None, auth=None):
        import requests

        self.store, self.settings, self.sleep = store, settings, sleep
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = settings.user_agent
        self.auth = auth

    def _get(self, url: str, headers: dict):
        """GET with retries: timeouts, connection errors and 5xx are retried with backoff; the rest are not."""
        import requests

        s = self.settings
        last = ""
        for attempt in range(1, s.attempts + 1):
            try:
                resp = self.session.get(url, headers=headers, stream=True, auth=self.auth,
                                        timeout=(s.connect_timeout_s, s.read_timeout_s))
            except requests.Timeout:
                last = f"timed out (connect {s.connect_timeout_s:g} s, read {s.read_timeout_s:g} s)"
            except requests.ConnectionError as exc:
                last = f"could not connect ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
            else:
                if resp.status_code < 500:
                    return resp
                last = f"HTTP {resp.status_code} {resp.reason}"
                resp.close()
            if attempt < s.attempts:
                self.sleep(s.backoff_s * 2 ** (attempt - 1))
        raise SourceError(f"{url}: {last}, {s.attempts} attempt(s)")

    def fetch(self, source: str, kind: str, url: str, *, data_date: str = "", academic_year: str = "",
              title: str = "", name: str | None = None) -> Fetched:
        import requests

        held = self.store.by_url(source, url)
        headers = {}
        if held is not None:  # ask only for a changed file
            if held.etag:
                headers["If-None-Match"] = held.etag
            if held.last_modified:
                headers["If-Modified-Since"] = held.last_modified
        resp = self._get(url, headers)
        with resp:
            if resp.status_code == 304 and held is not None:
                held.checked_at = _now().isoformat()
                self.store.put(held)
                return Fetched(held, "not modified")
            if resp.status_code in (404, 410):
                raise NotFound(url)
            if resp.status_code != 200:
                raise SourceError(f"{url}: HTTP {resp.status_code} {resp.reason}")
            limit = self.settings.max_bytes
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise SourceError(f"{url}: refused, the answer is {int(declared):,} bytes and the limit is {limit:,} "
                                  "(http.max_bytes in include/config/sources.yaml)")
            name = name or url.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
            name = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or f"{kind}.csv"  # a name, never a path
            folder = self.store.root / source / "files"
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{name}.{os.getpid()}.part"
            h, n = hashlib.sha256(), 0
            try:
                with open(tmp, "wb") as out:
                    try:
                        for chunk in resp.iter_content(1 << 16):
                            n += len(chunk)
                            if n > limit:
                                raise SourceError(f"{url}: refused, the answer passed the limit of {limit:,} bytes "
                                                  "(http.max_bytes in include/config/sources.yaml); nothing was kept")
                            h.update(chunk)
                            out.write(chunk)
                    except requests.RequestException as exc:  # stalled or cut mid-body: not a whole file
                        raise SourceError(f"{url}: the download broke off after {n:,} bytes ({type(exc).__name__})") from exc
                # Content-Length counts the bytes on the wire: compare only when they were not compressed.
                encoded = resp.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
                declared_ok = encoded or not declared or not declared.isdigit() or int(declared) == n
                if not declared_ok:  # a cut connection must not pass for a whole file
                    raise SourceError(f"{url}: the answer was cut short ({n:,} of {int(declared):,} bytes)")
                sha = h.hexdigest()
                dest = folder / sha[:12] / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, dest)
            finally:
                tmp.unlink(missing_ok=True)
        now = _now().isoformat()
        copy = Copy(source=source, kind=kind, url=url, file=str(dest.relative_to(self.store.root / source)),
                    sha256=sha, bytes=n, fetched_at=now, checked_at=now, etag=resp.headers.get("ETag", ""),
                    last_modified=resp.headers.get("Last-Modified", ""), data_date=data_date,
                    academic_year=academic_year, title=title)
        self.store.put(copy)
        return Fetched(copy, "downloaded")


# ------------------------------------------------------------------ the three sources
def _join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def fetch_gias(fetcher: Fetcher, base_url: str, cfg: dict, run_date: date) -> list[Fetched]:
    """The all-establishments extract and its links file: the run date's, else the newest of earlier days."""
    g = cfg["gias"]
    out = []
    for spec in g["files"]:
        tried = []
        for back in range(int(g.get("days_back", 7)) + 1):
            day = run_date - timedelta(days=back)
            url = _join(base_url, spec["path"].format(date=day))
            try:
                out.append(fetcher.fetch("gias", spec["kind"], url, data_date=day.isoformat()))
                break
            except NotFound:
                tried.append(day.isoformat())
        else:
            raise SourceError(f"GIAS: no {spec['kind']} file published for any day from {tried[-1]} to {tried[0]} "
                              f"(404 for each, e.g. {_join(base_url, spec['path'].format(date=run_date))})")
    return out


def parse_as_at(text: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), "%d %B %Y").date()
    except ValueError:
        try:
            return datetime.strptime(text.strip(), "%d %b %Y").date()
        except ValueError:
            return None


def ofsted_attachments(content: dict, title_pattern: str) -> list[tuple[date, dict]]:
    """The CSV attachments of the GOV.UK content item whose title matches, with their "as at" dates, oldest first."""
    pat = re.compile(title_pattern, re.IGNORECASE)
    found = []
    for att in (content.get("details") or {}).get("attachments") or []:
        m = pat.search(att.get("title") or "")
        url = att.get("url") or ""
        is_csv = (att.get("content_type") or "").startswith("text/csv") or url.lower().endswith(".csv")
        when = parse_as_at(m.group("as_at")) if m else None
        if when and is_csv and url:
            found.append((when, att))
    return sorted(found, key=lambda x: x[0])


def choose_ofsted(content: dict, title_pattern: str, not_after: date) -> tuple[date, dict]:
    listed = ofsted_attachments(content, title_pattern)
    usable = [x for x in listed if x[0] <= not_after]
    if not usable:
        dates = ", ".join(d.isoformat() for d, _ in listed) or "none"
        raise SourceError(f"Ofsted MI: no 'state-funded schools - latest inspections as at <date>' CSV dated on or "
                          f"before {not_after.isoformat()} on the GOV.UK page (attachments as at: {dates})")
    return usable[-1]


def fetch_ofsted(fetcher: Fetcher, base_url: str, cfg: dict, not_after: date) -> list[Fetched]:
    """The latest "as at" CSV not after `not_after`, found through the GOV.UK Content API page's attachments."""
    o = cfg["ofsted"]
    page = _join(base_url, o["content_path"])
    resp = fetcher._get(page, {"Accept": "application/json"})
    with resp:
        if resp.status_code != 200:
            raise SourceError(f"Ofsted MI: {page} answered HTTP {resp.status_code} {resp.reason}")
        try:
            content = json.loads(resp.content[: fetcher.settings.max_bytes])
        except ValueError as exc:
            raise SourceError(f"Ofsted MI: {page} is not JSON ({exc})") from exc
    as_at, att = choose_ofsted(content, o["title_pattern"], not_after)
    url = att["url"]
    if url.startswith("/"):  # a path on the same host
        url = _join(base_url, url)
    try:
        return [fetcher.fetch("ofsted", "ofsted", url, data_date=as_at.isoformat(), title=att.get("title", ""))]
    except NotFound as exc:
        raise SourceError(f"Ofsted MI: the attachment {att.get('title')!r} listed on {page} is missing (404 at {url})") from exc


def fetch_ees(fetcher: Fetcher, base_url: str, cfg: dict) -> list[Fetched]:
    """Each configured data set (per academic year and kind) as CSV from the EES public API."""
    e = cfg["ees"]
    sets = e.get("data_sets") or {}
    if not sets:
        raise SourceError("EES: no data sets configured: add ees.data_sets (academic year: kind: data-set id) to "
                          f"{SOURCES_FILE.relative_to(INCLUDE_DIR.parent)}")
    out = []
    for year, kinds in sorted(sets.items()):
        for kind, ds_id in sorted((kinds or {}).items()):
            url = _join(base_url, _join(e.get("api_prefix", ""), f"/v1/data-sets/{ds_id}/csv"))
            try:
                out.append(fetcher.fetch("ees", kind, url, academic_year=str(year), name=f"ees_{kind}_{year}.csv"))
            except NotFound as exc:
                raise SourceError(f"EES: data set {ds_id} ({kind} {year}) not found (404 at {url}); check its id in "
                                  "include/config/sources.yaml") from exc
    return out


def fetch_source(source: str, base_url: str, work_dir: str | Path, *, when: date | None = None,
                 cfg: dict | None = None, sleep: Callable[[float], None] = time.sleep, auth=None) -> list[dict]:
    """Fetch one source into the store; returns what was fetched (for the task's XCom and the Asset event)."""
    cfg = cfg or load_config()
    fetcher = Fetcher(Store(store_root(work_dir)), HttpSettings.from_config(cfg), sleep=sleep, auth=auth)
    when = when or date.today()
    try:
        if source == "gias":
            got = fetch_gias(fetcher, base_url, cfg, when)
        elif source == "ofsted":
            got = fetch_ofsted(fetcher, base_url, cfg, when)
        elif source == "ees":
            got = fetch_ees(fetcher, base_url, cfg)
        else:
            raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    except SourceError as exc:
        held = latest_copies(Store(store_root(work_dir)), source)
        fallback = ("; the termly run will use the latest good copy: " + ", ".join(
            f"{c.name} (fetched {c.fetched_at[:10]})" for c in held)) if held else "; no earlier copy is held"
        raise SourceError(f"{SOURCE_TITLES.get(source, source)} could not be fetched: {exc}{fallback}") from exc
    return [{"kind": f.copy.kind, "file": f.copy.name, "url": f.copy.url, "sha256": f.copy.sha256,
             "bytes": f.copy.bytes, "data_date": f.copy.data_date, "academic_year": f.copy.academic_year,
             "fetched_at": f.copy.fetched_at, "status": f.status} for f in got]


def latest_copies(store: Store, source: str) -> list[Copy]:
    """The newest copy of each kind held for a source."""
    best: dict[str, Copy] = {}
    for c in store.copies(source):
        if c.path(store.root).is_file():
            key = (c.data_date or c.academic_year, c.fetched_at)
            if c.kind not in best or key >= (best[c.kind].data_date or best[c.kind].academic_year, best[c.kind].fetched_at):
                best[c.kind] = c
    return [best[k] for k in sorted(best)]


# ------------------------------------------------------------------ what a term uses
@dataclass
class Chosen:
    copy: Copy
    path: Path
    age_days: int | None  # days from the publisher's date (else the fetch) to the term's run date
    old: bool  # older than the source's max_age_days

    def origin(self) -> dict:
        c = self.copy
        return {"origin": "fetched", "source": c.source, "url": c.url, "fetched_at": c.fetched_at,
                "checked_at": c.checked_at, "etag": c.etag, "last_modified": c.last_modified,
                "data_date": c.data_date, "age_days": self.age_days}


@dataclass
class Choice:
    chosen: list[Chosen] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (kind, plain sentence): what was not used and why


def for_term(work_dir: str | Path, run_date: date, academic_year: str, cfg: dict | None = None) -> Choice:
    """The fetched copies a term uses: per kind, the newest dated on or before the run date (GIAS, Ofsted), and
    EES data sets of academic years that ended before the term's year began (never results from the future)."""
    cfg = cfg or load_config()
    store = Store(store_root(work_dir))
    out = Choice()
    for source in SOURCES:
        max_age = (cfg.get(source) or {}).get("max_age_days")
        by_kind: dict[str, list[Copy]] = {}
        for c in store.copies(source):
            if c.path(store.root).is_file():
                by_kind.setdefault(c.kind, []).append(c)
        for kind, copies in sorted(by_kind.items()):
            if source == "ees":
                usable = [c for c in copies if c.academic_year and c.academic_year[:4] < academic_year[:4]]
                for c in sorted(usable, key=lambda c: c.academic_year):
                    out.chosen.append(Chosen(c, c.path(store.root), None, False))
                continue
            dated = [(date.fromisoformat(c.data_date or c.fetched_at[:10]), c) for c in copies]
            usable = [x for x in dated if x[0] <= run_date]
            if not usable:
                first = min(d for d, _ in dated)
                out.notes.append((kind, f"The fetched {SOURCE_TITLES[source]} {kind} copies are all dated after the run "
                                 f"date {run_date.isoformat()} (earliest {first.isoformat()}): none was used."))
                continue
            when, c = max(usable, key=lambda x: (x[0], x[1].fetched_at))
            age = (run_date - when).days
            out.chosen.append(Chosen(c, c.path(store.root), age, bool(max_age) and age > int(max_age)))
    return out


def age_sentence(ch: Chosen) -> str:
    c = ch.copy
    dated = f"dated {c.data_date}" if c.data_date else f"fetched {c.fetched_at[:10]}"
    return (f"{c.name} was fetched from {SOURCE_TITLES[c.source]} ({dated}, {ch.age_days} days before the run date; "
            f"last checked {c.checked_at[:10]})")


def origin_text(entry: dict) -> str:
    """Where a feed came from, for the report's provenance: the landing folder, or the URL and when."""
    if entry.get("origin") != "fetched":
        return "landing folder"
    text = f"fetched from {entry.get('url', '')} on {str(entry.get('fetched_at', ''))[:10]}"
    if entry.get("data_date"):
        text += f" (dated {entry['data_date']}"
        text += f", {entry['age_days']} days old at the run date)" if entry.get("age_days") is not None else ")"
    return text


def fetched_notes(run_dir: Path, cfg: dict | None = None) -> list[str]:
    """Plain sentences for the report's front page: each fetched feed the run used and how old it was.

    For `ReportInputs.data_notes` (the "What you must know about the data" box)."""
    manifest = Path(run_dir) / "raw" / "raw_manifest.json"
    entries = [m for m in (json.loads(manifest.read_text()) if manifest.exists() else []) if m.get("origin") == "fetched"]
    if not entries:
        return []
    cfg = cfg or load_config()
    notes = []
    for m in entries:
        title = SOURCE_TITLES.get(m.get("source", ""), m.get("source", ""))
        when = f"dated {m['data_date']}, " if m.get("data_date") else ""
        age = m.get("age_days")
        text = f"{m['file']} was fetched from {title} on {str(m.get('fetched_at', ''))[:10]} ({when}"
        text += f"{age} days old at the run date)." if age is not None else "no date of its own)."
        max_age = (cfg.get(m.get("source", "")) or {}).get("max_age_days")
        if age is not None and max_age and age > int(max_age):
            text += f" That is older than {max_age} days: newer copies could not be fetched."
        notes.append(text)
    return notes


def with_origin(provenance, run_dir: Path):
    """The provenance table with a column saying where each file came from (from the run's raw manifest)."""
    manifest = Path(run_dir) / "raw" / "raw_manifest.json"
    by_file = {m["file"]: origin_text(m) for m in (json.loads(manifest.read_text()) if manifest.exists() else [])}
    out = provenance.copy()
    out["origin"] = [by_file.get(f, "landing folder") for f in out["file"]]
    return out


def copy_into(ch: Chosen, dest_dir: Path, taken: set[str]) -> Path:
    """Copy a chosen fetched file into the run's raw folder under its own name (prefixed if a landing file has it)."""
    name = ch.copy.name if ch.copy.name not in taken else f"fetched_{ch.copy.name}"
    dest = dest_dir / name
    shutil.copy2(ch.path, dest)
    return dest


def merge_fetched(cfg, raw: Path, feeds: list, problems: list, archive_dir: str | None) -> tuple[list, list]:
    """Add the term's fetched copies to the feeds read from the landing folder (pipeline.extract calls this).

    A landing file of the same kind and academic year (or with no year, like GIAS and Ofsted MI) wins: the fetched
    one is then not used. Each fetched file used is copied into the run's raw folder and its manifest entry says
    where it came from, when, and how old it is; a copy older than the source's max_age_days is a warning."""
    from ..errors import FeedError, Problem
    from .feeds import detect_kind, header_of, read_feed

    choice = for_term(cfg.work_dir, cfg.as_of_date(), cfg.term_obj.academic_year)
    if not choice.chosen and not choice.notes:
        return feeds, problems
    landing = {(f.kind, f.academic_year) for f in feeds}
    manifest = json.loads((raw / "raw_manifest.json").read_text())
    taken = {m["file"] for m in manifest}
    landing_kinds = {k for k, _ in landing}
    problems = list(problems) + [Problem("(fetched sources)", None, None, n, severity="warning", check="fetched_source")
                                 for k, n in choice.notes if k not in landing_kinds]  # moot when a file was dropped
    added = []
    # A dated extract (GIAS, Ofsted MI) is one list as at a day, whatever academic year its date falls in: a landing
    # file of the kind wins over a fetched copy of any date (two would stop the run, feed_set), and a newer fetched
    # copy left unused is said, so the operator can remove the dropped file to use it.
    dropped = {f.kind: f for f in feeds if f.kind in DATED_EXTRACT_KINDS}
    for ch in choice.chosen:
        header = header_of(ch.path)  # [] for a copy that is not CSV text: read below, so its error is said
        kind = detect_kind(header)
        if kind is None and header:  # e.g. the GIAS links file before a reader for it exists: archived, not read
            continue
        year = ch.copy.academic_year or None
        if kind in dropped:
            problems.extend(_newer_not_used(dropped[kind], ch))
            continue
        if any(k == kind and (y == year or y is None or year is None) for k, y in landing):
            continue  # a file dropped by hand wins
        dest = copy_into(ch, raw, taken)
        taken.add(dest.name)
        try:
            feed = read_feed(dest)
        except FeedError as exc:
            problems.extend(exc.problems)
            feed = None
        if feed is not None:
            if any(f.kind == feed.kind and (f.academic_year == feed.academic_year or None in (f.academic_year, feed.academic_year))
                   for f in feeds):
                dest.unlink()  # its year, known only once read, matches a landing file: the landing file wins
                continue
            feeds.append(feed)
        entry = {"file": dest.name, "sha256": ch.copy.sha256, "bytes": ch.copy.bytes, **ch.origin()}
        manifest.append(entry)
        added.append(dest)
        if ch.old:
            problems.append(Problem(dest.name, None, None, age_sentence(ch) + ": newer copies could not be fetched, "
                                    "so this older one was used", severity="warning", check="fetched_copy_age"))
    (raw / "raw_manifest.json").write_text(json.dumps(manifest, indent=2))
    if archive_dir and added:
        dest_dir = Path(archive_dir) / cfg.la_code / cfg.term / cfg.run_dir.name
        for p in added + [raw / "raw_manifest.json"]:
            shutil.copy2(p, dest_dir / p.name)
    return feeds, problems


DATED_EXTRACT_KINDS = ("gias", "ofsted")  # one file as at a day: never two in a run


def _newer_not_used(landing_feed, ch: Chosen) -> list:
    """A warning when a fetched copy newer than the landing folder's file of its kind was not used."""
    from ..errors import Problem

    m = re.search(r"(20\d\d)-?(\d\d)-?(\d\d)", Path(landing_feed.source).name)
    try:
        dropped_on = date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    except ValueError:
        dropped_on = None
    fetched_on = date.fromisoformat(ch.copy.data_date) if ch.copy.data_date else None
    if fetched_on is None or (dropped_on is not None and fetched_on <= dropped_on):
        return []
    when = f"dated {dropped_on:%d %B %Y}" if dropped_on else "of no date in its name"
    return [Problem(landing_feed.source, None, None,
                    f"the {landing_feed.kind.upper() if landing_feed.kind == 'gias' else 'Ofsted'} file in the landing "
                    f"folder ({when}) is used, not the newer copy fetched from {SOURCE_TITLES[ch.copy.source]} "
                    f"({ch.copy.name}, dated {fetched_on:%d %B %Y}): a file dropped by hand wins; remove it from the "
                    "landing folder to use the fetched one", severity="warning", check="fetched_source")]


# ------------------------------------------------------------------ command line: `python -m school_improvement fetch`
def _run_fetch(args) -> int:
    work = args.work_dir or os.environ.get("SI_WORK_DIR") or ".work"
    when = date.fromisoformat(args.date) if args.date else None
    try:
        got = fetch_source(args.source, args.base_url, work, when=when)
    except SourceError as exc:
        print(f"FAILED: {exc}")
        return 1
    for g in got:
        print(f"{args.source} {g['kind']}: {g['status']} {g['file']} ({g['bytes']:,} bytes, sha256 {g['sha256']}) "
              f"from {g['url']}")
    print(f"store: {store_root(work) / args.source}")
    return 0


def cli_builder(sub) -> None:
    """The `fetch` subcommand: one source into the store, without Airflow (e.g. to try a host by hand)."""
    sub.add_argument("source", choices=SOURCES)
    sub.add_argument("--base-url", required=True,
                     help="e.g. https://ea-edubase-api-prod.azurewebsites.net, https://www.gov.uk, https://api.education.gov.uk")
    sub.add_argument("--date", default="", help="the run date (GIAS file date, Ofsted 'as at' limit); default today")
    sub.add_argument("--work-dir", default="", help="default $SI_WORK_DIR, else ./.work")
    sub.set_defaults(func=_run_fetch)
