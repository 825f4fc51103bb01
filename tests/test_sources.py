"""Feeds fetched from their public sources, against a server on 127.0.0.1 shaped like GIAS, GOV.UK and EES."""

from __future__ import annotations

import csv
import io
import html as html_lib
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from school_improvement import pipeline
from school_improvement.ingest import sources
from demo_feeds.demo_generator import generate_demo
from school_improvement.ingest.feeds import read_feed
from source_server import Route, source_server
from small_demo import demo_file

TERM = "2025-26-autumn"
GIAS_PATH = "/edubase/downloads/public/edubasealldata{:%Y%m%d}.csv"
LINKS_PATH = "/edubase/downloads/public/links_edubasealldata{:%Y%m%d}.csv"
OFSTED_PAGE = "/api/content/government/statistical-data-sets/monthly-management-information-ofsteds-school-inspections-outcomes"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    generate_demo(root, terms=[TERM])
    return root / "999" / TERM


@pytest.fixture(scope="module")
def gias_bytes(demo) -> bytes:
    data = demo_file(demo, "edubasealldata").read_bytes()
    data.decode("cp1252")  # as GIAS publishes it
    return data


def _links_bytes(gias: bytes) -> bytes:
    urns = [r["URN"] for r in csv.DictReader(io.StringIO(gias.decode("cp1252")))][:3]
    out = io.StringIO()
    w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow(["URN", "LinkURN", "LinkName", "LinkType", "LinkEstablishedDate"])
    w.writerow([urns[0], urns[1], "Ashby Primary Sch\u00f6ol", "Predecessor - merged", "01-09-2021"])
    return out.getvalue().encode("cp1252")


def _ees_bytes(demo: Path, time_period: str) -> bytes:
    """The demo's absence figures in EES's long school-level layout (one row per school and year, a national row)."""
    rows = list(csv.DictReader(io.StringIO(demo_file(demo, "999_abs").read_text(encoding="utf-8-sig"))))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["time_period", "time_identifier", "geographic_level", "country_code", "old_la_code", "estab",
                "school_urn", "sess_overall_percent", "enrolments_pa_10_exact_percent"])
    w.writerow([time_period, "Academic year", "National", "E92000001", "", "", "", "6.9", "17.8"])
    for r in rows:
        if (r.get("URN") or "").strip():
            w.writerow([time_period, "Academic year", "School", "E92000001", r["LA"], r["ESTAB"], r["URN"],
                        r["PERCTOT"], r["PPERSABS10"]])
    return out.getvalue().encode("utf-8")


def _ofsted_content(months: list[date], extra: list[dict] | None = None) -> dict:
    atts = [{"attachment_type": "file", "content_type": "text/csv", "filename": f"mi_{d:%Y%m%d}.csv",
             "title": f"Management information - state-funded schools - latest inspections as at {d.day} {d:%B %Y}",
             "url": f"/media/{d:%Y%m%d}/mi_{d:%Y%m%d}.csv"} for d in months]
    return {"base_path": OFSTED_PAGE.replace("/api/content", ""), "document_type": "statistical_data_set",
            "title": "Monthly management information: Ofsted's school inspections outcomes",
            "details": {"attachments": (extra or []) + atts}}


def _cfg(**http) -> dict:
    cfg = sources.load_config()
    cfg["http"] = {**cfg["http"], "backoff_s": 1, **http}
    return cfg


def _run_cfg(landing: Path, tmp: Path) -> pipeline.RunConfig:
    return pipeline.RunConfig(la_code="999", term=TERM, landing=str(landing), work_dir=str(tmp / "work"),
                              history_url=f"sqlite:///{tmp / 'history.sqlite'}", run_id="r1")


# ------------------------------------------------------------------ GIAS
@pytest.mark.slow  # a term extracted from fetched copies (over test-fast's CPU budget)
def test_gias_404_on_the_run_date_falls_back_a_day_and_archives_with_url_validators_and_sha(tmp_path, gias_bytes):
    run = date(2026, 1, 26)
    with source_server() as srv:
        srv.routes[GIAS_PATH.format(run - timedelta(days=1))] = Route(gias_bytes)
        srv.routes[LINKS_PATH.format(run - timedelta(days=1))] = Route(_links_bytes(gias_bytes))
        got = sources.fetch_source("gias", srv.base, tmp_path, when=run, cfg=_cfg(), sleep=lambda s: None)
        assert srv.count(GIAS_PATH.format(run)) == 1  # today's was asked for first, and was 404
    by_kind = {g["kind"]: g for g in got}
    assert by_kind["gias"]["data_date"] == "2026-01-25" and by_kind["gias"]["file"] == "edubasealldata20260125.csv"
    store = sources.Store(sources.store_root(tmp_path))
    (copy,) = [c for c in store.copies("gias") if c.kind == "gias"]
    assert copy.url == srv.base + GIAS_PATH.format(run - timedelta(days=1))
    assert copy.etag and copy.last_modified and copy.fetched_at
    path = copy.path(store.root)
    assert path.read_bytes() == gias_bytes  # raw, unchanged (cp1252)
    import hashlib
    assert copy.sha256 == hashlib.sha256(gias_bytes).hexdigest()
    assert read_feed(path).kind == "gias"


def test_gias_with_nothing_published_in_the_window_fails_clearly(tmp_path):
    with source_server() as srv:
        with pytest.raises(sources.SourceError) as err:
            sources.fetch_source("gias", srv.base, tmp_path, when=date(2026, 1, 26), cfg=_cfg(), sleep=lambda s: None)
    msg = str(err.value)
    assert "no gias file published for any day from 2026-01-19 to 2026-01-26" in msg
    assert "no earlier copy is held" in msg


def test_an_unchanged_source_is_not_downloaded_again(tmp_path, gias_bytes):
    run = date(2026, 1, 26)
    path = GIAS_PATH.format(run)
    with source_server() as srv:
        srv.routes[path] = Route(gias_bytes)
        srv.routes[LINKS_PATH.format(run)] = Route(_links_bytes(gias_bytes))
        first = sources.fetch_source("gias", srv.base, tmp_path, when=run, cfg=_cfg(), sleep=lambda s: None)
        second = sources.fetch_source("gias", srv.base, tmp_path, when=run, cfg=_cfg(), sleep=lambda s: None)
        asked = srv.headers_for(path)
    assert [g["status"] for g in first] == ["downloaded", "downloaded"]
    assert [g["status"] for g in second] == ["not modified", "not modified"]
    assert "If-None-Match" not in asked[0] and asked[1]["If-None-Match"] == srv.routes[path].etag
    assert asked[1]["If-Modified-Since"] == srv.routes[path].last_modified
    # The archive is reused: same file, same download time, one copy in the store.
    assert second[0]["sha256"] == first[0]["sha256"] and second[0]["fetched_at"] == first[0]["fetched_at"]
    store = sources.Store(sources.store_root(tmp_path))
    assert len([c for c in store.copies("gias") if c.kind == "gias"]) == 1


def test_a_compressed_answer_is_archived_as_the_publisher_s_file(tmp_path, gias_bytes):
    run = date(2026, 1, 26)
    with source_server() as srv:
        srv.routes[GIAS_PATH.format(run)] = Route(gias_bytes, gzip=True)
        srv.routes[LINKS_PATH.format(run)] = Route(_links_bytes(gias_bytes), gzip=True)
        got = sources.fetch_source("gias", srv.base, tmp_path, when=run, cfg=_cfg(), sleep=lambda s: None)
    store = sources.Store(sources.store_root(tmp_path))
    (copy,) = [c for c in store.copies("gias") if c.kind == "gias"]
    assert copy.path(store.root).read_bytes() == gias_bytes and got[0]["bytes"] == len(gias_bytes)


def test_a_changed_source_is_downloaded_again(tmp_path, gias_bytes):
    run = date(2026, 1, 26)
    with source_server() as srv:
        srv.routes[GIAS_PATH.format(run)] = Route(gias_bytes)
        srv.routes[LINKS_PATH.format(run)] = Route(_links_bytes(gias_bytes))
        sources.fetch_source("gias", srv.base, tmp_path, when=run, cfg=_cfg(), sleep=lambda s: None)
        changed = gias_bytes.replace(b"Open", b"Closed", 1)
        srv.routes[GIAS_PATH.format(run)] = Route(changed)
        again = sources.fetch_source("gias", srv.base, tmp_path, when=run, cfg=_cfg(), sleep=lambda s: None)
    gias = next(g for g in again if g["kind"] == "gias")
    assert gias["status"] == "downloaded"
    store = sources.Store(sources.store_root(tmp_path))
    (copy,) = [c for c in store.copies("gias") if c.kind == "gias"]
    assert copy.path(store.root).read_bytes() == changed


# ------------------------------------------------------------------ failures
def test_a_timeout_is_retried_with_backoff_then_fails_clearly(tmp_path):
    run = date(2026, 1, 26)
    waits = []
    with source_server() as srv:
        srv.routes[GIAS_PATH.format(run)] = Route(b"URN\n", stall_s=5)
        with pytest.raises(sources.SourceError) as err:
            sources.fetch_source("gias", srv.base, tmp_path, when=run, cfg=_cfg(read_timeout_s=0.3, attempts=3),
                                 sleep=waits.append)
        assert srv.count(GIAS_PATH.format(run)) == 3
    assert waits == [1, 2]  # backoff doubles between tries
    msg = str(err.value)
    assert "Get Information about Schools could not be fetched" in msg and "timed out" in msg
    assert "3 attempt(s)" in msg and GIAS_PATH.format(run) in msg


def test_a_server_error_is_retried_and_an_earlier_copy_is_named(tmp_path, gias_bytes):
    run = date(2026, 1, 26)
    with source_server() as srv:
        srv.routes[GIAS_PATH.format(run)] = Route(gias_bytes)
        srv.routes[LINKS_PATH.format(run)] = Route(_links_bytes(gias_bytes))
        sources.fetch_source("gias", srv.base, tmp_path, when=run, cfg=_cfg(), sleep=lambda s: None)
        srv.routes[GIAS_PATH.format(run)] = Route(status=503)
        with pytest.raises(sources.SourceError) as err:
            sources.fetch_source("gias", srv.base, tmp_path, when=run, cfg=_cfg(attempts=2), sleep=lambda s: None)
        assert srv.count(GIAS_PATH.format(run)) == 3  # 1 good, then 2 tries answered 503
    assert "HTTP 503" in str(err.value)
    assert "the termly run will use the latest good copy: edubasealldata20260126.csv" in str(err.value)


@pytest.mark.parametrize("send_length", [True, False], ids=["declared", "streamed"])
def test_a_50_mb_answer_over_the_limit_is_refused_and_nothing_kept(tmp_path, send_length):
    run = date(2026, 1, 26)
    with source_server() as srv:
        srv.routes[GIAS_PATH.format(run)] = Route(stream_bytes=50 * 1024 * 1024, send_length=send_length)
        with pytest.raises(sources.SourceError) as err:
            sources.fetch_source("gias", srv.base, tmp_path, when=run, cfg=_cfg(max_bytes=10 * 1024 * 1024),
                                 sleep=lambda s: None)
    assert "refused" in str(err.value) and "10,485,760" in str(err.value)
    store = sources.Store(sources.store_root(tmp_path))
    assert store.copies("gias") == []
    assert not any(p.is_file() for p in (store.root / "gias").rglob("*")) if (store.root / "gias").exists() else True


# ------------------------------------------------------------------ Ofsted MI through the GOV.UK Content API
def test_ofsted_picks_the_latest_as_at_not_after_the_data_date(tmp_path, demo):
    months = [date(2025, 8, 31), date(2025, 9, 30), date(2025, 10, 31), date(2025, 11, 30)]
    other = [{"attachment_type": "file", "content_type": "text/csv", "url": "/media/fe/fe.csv",
              "title": "Management information - further education and skills - as at 31 October 2025"}]
    mi = (demo / "management_information_latest_inspections.csv").read_bytes()
    with source_server() as srv:
        srv.routes[OFSTED_PAGE] = Route(json.dumps(_ofsted_content(months, other)).encode(), "application/json")
        for d in months:
            srv.routes[f"/media/{d:%Y%m%d}/mi_{d:%Y%m%d}.csv"] = Route(mi)
        got = sources.fetch_source("ofsted", srv.base, tmp_path, when=date(2025, 11, 15), cfg=_cfg(),
                                   sleep=lambda s: None)
        assert srv.count("/media/20251130/mi_20251130.csv") == 0 and srv.count("/media/fe/fe.csv") == 0
    (g,) = got
    assert g["data_date"] == "2025-10-31" and g["url"].endswith("/media/20251031/mi_20251031.csv")
    store = sources.Store(sources.store_root(tmp_path))
    assert read_feed(store.copies("ofsted")[0].path(store.root)).kind == "ofsted"


def test_ofsted_with_no_attachment_old_enough_fails_clearly(tmp_path):
    with source_server() as srv:
        srv.routes[OFSTED_PAGE] = Route(json.dumps(_ofsted_content([date(2025, 11, 30)])).encode(), "application/json")
        with pytest.raises(sources.SourceError, match=r"on or before 2025-11-15.*as at: 2025-11-30"):
            sources.fetch_source("ofsted", srv.base, tmp_path, when=date(2025, 11, 15), cfg=_cfg(),
                                 sleep=lambda s: None)


# ------------------------------------------------------------------ EES
def test_ees_data_sets_come_from_the_configured_ids_and_a_term_never_uses_a_later_year(tmp_path, demo):
    cfg = _cfg()
    cfg["ees"]["data_sets"] = {"2023-24": {"absence": "ds-abs-2324"}, "2025-26": {"absence": "ds-abs-2526"}}
    with source_server() as srv:
        for ds, tp in (("ds-abs-2324", "202324"), ("ds-abs-2526", "202526")):
            srv.routes[f"/statistics/v1/data-sets/{ds}/csv"] = Route(_ees_bytes(demo, tp))
        got = sources.fetch_source("ees", srv.base, tmp_path, cfg=cfg, sleep=lambda s: None)
    assert sorted(g["file"] for g in got) == ["ees_absence_2023-24.csv", "ees_absence_2025-26.csv"]
    choice = sources.for_term(tmp_path, date(2025, 10, 1), "2025-26", cfg)
    assert [c.copy.academic_year for c in choice.chosen] == ["2023-24"]  # 2025-26 results do not exist yet
    feed = read_feed(choice.chosen[0].path)
    assert feed.kind == "absence" and feed.academic_year == "2023-24"


def test_ees_without_configured_data_sets_says_where_to_add_them(tmp_path):
    with pytest.raises(sources.SourceError, match="include/config/sources.yaml"):
        sources.fetch_source("ees", "http://127.0.0.1:9", tmp_path, cfg=_cfg(), sleep=lambda s: None)


# ------------------------------------------------------------------ the termly run
def _landing_without(demo: Path, tmp: Path, *drop: str) -> Path:
    folder = tmp / "landing" / "999" / TERM
    folder.mkdir(parents=True)
    for p in demo.iterdir():
        if p.name not in drop:
            shutil.copy2(p, folder / p.name)
    return tmp / "landing"


def _fetch_gias(srv, work: Path, gias: bytes, day: date) -> None:
    srv.routes[GIAS_PATH.format(day)] = Route(gias)
    srv.routes[LINKS_PATH.format(day)] = Route(_links_bytes(gias))
    sources.fetch_source("gias", srv.base, work, when=day, cfg=_cfg(), sleep=lambda s: None)


@pytest.mark.slow  # a term extracted from fetched copies (over test-fast's CPU budget)
def test_a_file_dropped_in_the_landing_folder_wins_over_a_fetched_one(tmp_path, demo, gias_bytes):
    cfg = _run_cfg(_landing_without(demo, tmp_path), tmp_path)
    fetched = gias_bytes.replace(b"Open", b"Closed")  # a different extract: it must not be read
    with source_server() as srv:
        _fetch_gias(srv, cfg.work_dir, fetched, cfg.as_of_date())
    pipeline.extract(cfg)
    manifest = json.loads((cfg.run_dir / "raw" / "raw_manifest.json").read_text())
    assert not any(m.get("origin") == "fetched" for m in manifest)
    landing_gias = demo_file(demo, "edubasealldata").name  # dated the day before the run date
    assert (cfg.run_dir / "raw" / landing_gias).read_bytes() == gias_bytes
    assert [p.name for p in (cfg.run_dir / "raw").glob("*edubasealldata*.csv")] == [landing_gias]


@pytest.mark.slow  # a whole demo term's stages
def test_a_fetched_gias_is_used_when_none_is_dropped_and_the_report_says_where_each_file_came_from(
        tmp_path, demo, gias_bytes):
    from school_improvement.editions import render, report

    cfg = _run_cfg(_landing_without(demo, tmp_path, demo_file(demo, "edubasealldata").name), tmp_path)
    day = cfg.as_of_date() - timedelta(days=3)
    with source_server() as srv:
        _fetch_gias(srv, cfg.work_dir, gias_bytes, day)
        url = srv.base + GIAS_PATH.format(day)
    archive = tmp_path / "archive"
    pipeline.extract(cfg, archive_dir=str(archive))
    manifest = {m["file"]: m for m in json.loads((cfg.run_dir / "raw" / "raw_manifest.json").read_text())}
    name = f"edubasealldata{day:%Y%m%d}.csv"
    assert manifest[name]["origin"] == "fetched" and manifest[name]["url"] == url
    assert manifest[name]["age_days"] == 3 and manifest[name]["data_date"] == day.isoformat()
    assert (archive / "999" / TERM / cfg.run_dir.name / name).read_bytes() == gias_bytes
    assert f"links_{name}" not in manifest  # no reader for the links file yet: archived in the store, not read
    for stage in (pipeline.validate, pipeline.assess_evidence, pipeline.categorise, pipeline.flag_letters):
        stage(cfg)
    inputs = pipeline.report_inputs(cfg)
    origin = dict(zip(inputs.provenance["file"], inputs.provenance["origin"]))
    assert origin[name] == f"fetched from {url} on {manifest[name]['fetched_at'][:10]} (dated {day}, 3 days old at the run date)"
    assert origin[demo_file(demo, "999_ks2final").name] == "landing folder"
    html = render._environment().get_template("report.html.j2").render(**report._context(inputs, "general"))
    assert "Came from" in html and f"fetched from {url}" in html
    # The front page's data box says which feed was fetched, from where, and how old it was.
    box = html_lib.unescape(html[html.index("What you must know about the data"):html.index('id="headline"')])
    assert sources.fetched_notes(cfg.run_dir)[0] in box
    # A copy this fresh is not called old.
    dq = inputs.data_quality
    assert not (dq["check"] == "fetched_copy_age").any()
    (note,) = sources.fetched_notes(cfg.run_dir)
    assert note.endswith("3 days old at the run date).") and "older than" not in note


@pytest.mark.slow  # a whole demo term through extract and validate
def test_when_a_source_cannot_be_reached_the_run_uses_the_latest_good_copy_and_says_how_old(
        tmp_path, demo, gias_bytes):
    cfg = _run_cfg(_landing_without(demo, tmp_path, demo_file(demo, "edubasealldata").name), tmp_path)
    old_day = cfg.as_of_date() - timedelta(days=30)
    with source_server() as srv:
        _fetch_gias(srv, cfg.work_dir, gias_bytes, old_day)
    with source_server() as srv:  # since then, GIAS answers 503 every time
        for back in range(8):
            srv.routes[GIAS_PATH.format(cfg.as_of_date() - timedelta(days=back))] = Route(status=503)
        with pytest.raises(sources.SourceError, match="latest good copy: edubasealldata"):
            sources.fetch_source("gias", srv.base, cfg.work_dir, when=cfg.as_of_date(), cfg=_cfg(attempts=1),
                                 sleep=lambda s: None)
    pipeline.extract(cfg)
    pipeline.validate(cfg)
    dq = pd.read_csv(cfg.run_dir / "quality" / "data_quality.csv", encoding="utf-8-sig", keep_default_na=False)
    age = dq[dq["check"] == "fetched_copy_age"]
    assert len(age) == 1
    assert "30 days before the run date" in age.iloc[0]["message"] and age.iloc[0]["severity"] == "warning"
    (note,) = sources.fetched_notes(cfg.run_dir)  # for the front page's "What you must know about the data"
    assert note.startswith(f"edubasealldata{old_day:%Y%m%d}.csv was fetched from Get Information about Schools")
    assert "30 days old at the run date" in note and "older than 14 days: newer copies could not be fetched" in note


def test_fetched_copies_dated_after_the_run_date_are_not_used(tmp_path, demo, gias_bytes):
    cfg = _run_cfg(_landing_without(demo, tmp_path, demo_file(demo, "edubasealldata").name), tmp_path)
    with source_server() as srv:
        _fetch_gias(srv, cfg.work_dir, gias_bytes, cfg.as_of_date() + timedelta(days=40))
    choice = sources.for_term(cfg.work_dir, cfg.as_of_date(), "2025-26")
    assert choice.chosen == [] and any(k == "gias" and "dated after the run date" in n for k, n in choice.notes)
    raw = tmp_path / "raw"  # no GIAS dropped either: the run says why the fetched one was not used
    raw.mkdir()
    (raw / "raw_manifest.json").write_text("[]")
    feeds, problems = sources.merge_fetched(cfg, raw, [], [], None)
    notes = [p for p in problems if p.check == "fetched_source"]
    assert feeds == [] and len(notes) == 2  # the extract and its links file
    assert all("dated after the run date" in n.message and n.severity == "warning" for n in notes)
    assert any("Get Information about Schools gias copies" in n.message for n in notes)


@pytest.mark.slow  # a term extracted from fetched copies (over test-fast's CPU budget)
def test_with_no_store_the_run_reads_the_landing_folder_as_before(tmp_path, demo):
    cfg = _run_cfg(_landing_without(demo, tmp_path), tmp_path)
    out = pipeline.extract(cfg)
    manifest = json.loads((cfg.run_dir / "raw" / "raw_manifest.json").read_text())
    assert sorted(m["file"] for m in manifest) == sorted(p.name for p in demo.iterdir() if p.suffix == ".csv")
    assert all("origin" not in m for m in manifest) and "gias" in out["kinds"]


def test_the_fetch_command_fetches_without_airflow_and_exits_1_with_the_reason(tmp_path, gias_bytes, capsys):
    from school_improvement.__main__ import main

    run = date(2026, 1, 26)
    with source_server() as srv:
        srv.routes[GIAS_PATH.format(run)] = Route(gias_bytes)
        srv.routes[LINKS_PATH.format(run)] = Route(_links_bytes(gias_bytes))
        assert main(["fetch", "gias", "--base-url", srv.base, "--date", "2026-01-26", "--work-dir", str(tmp_path)]) == 0
        assert "gias gias: downloaded edubasealldata20260126.csv" in capsys.readouterr().out
        srv.routes.clear()
        assert main(["fetch", "gias", "--base-url", srv.base, "--date", "2026-02-20", "--work-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAILED: Get Information about Schools could not be fetched")
    assert "latest good copy: edubasealldata20260126.csv" in out


def test_real_downloads_served_as_the_sources_are_archived_byte_for_byte_and_read(tmp_path, shared_dfe):
    """Real GIAS (Surrey + Hampshire rows), Ofsted MI and EES absence files, served the way their sources serve them."""
    import hashlib

    gias = (shared_dfe / "samples" / "gias_850_936_extract_2022-04-20.csv").read_bytes()
    links = (shared_dfe / "samples" / "gias_links_2024-01-29.csv").read_bytes()
    mi = (shared_dfe / "samples" / "873_ofsted_mi_latest_inspections_2026_sample.csv").read_bytes()
    ees = (shared_dfe / "samples" / "ees_absence_3term_school_380_excerpt.csv").read_bytes()
    run = date(2022, 4, 20)
    cfg = _cfg()
    cfg["ees"]["data_sets"] = {"2020-21": {"absence": "real-ees-excerpt"}}
    with source_server() as srv:
        srv.routes[GIAS_PATH.format(run)] = Route(gias, gzip=True)
        srv.routes[LINKS_PATH.format(run)] = Route(links)
        srv.routes[OFSTED_PAGE] = Route(json.dumps(_ofsted_content([date(2026, 1, 31)])).encode(), "application/json")
        srv.routes["/media/20260131/mi_20260131.csv"] = Route(mi)
        srv.routes["/statistics/v1/data-sets/real-ees-excerpt/csv"] = Route(ees)
        got = (sources.fetch_source("gias", srv.base, tmp_path, when=run, cfg=cfg, sleep=lambda s: None)
               + sources.fetch_source("ofsted", srv.base, tmp_path, when=date(2026, 2, 10), cfg=cfg, sleep=lambda s: None)
               + sources.fetch_source("ees", srv.base, tmp_path, cfg=cfg, sleep=lambda s: None))
    store = sources.Store(sources.store_root(tmp_path))
    served = {"gias": gias, "gias_links": links, "ofsted": mi, "absence": ees}
    for g in got:
        (copy,) = [c for s in sources.SOURCES for c in store.copies(s) if c.url == g["url"]]
        assert copy.path(store.root).read_bytes() == served[g["kind"]]
        assert copy.sha256 == hashlib.sha256(served[g["kind"]]).hexdigest()
    kinds = {g["kind"]: g for g in got}
    surrey = read_feed(store.root / "gias" / next(c.file for c in store.copies("gias") if c.kind == "gias"))
    assert surrey.kind == "gias" and (surrey.schools["la_code"].astype(str) == "936").sum() > 400
    assert read_feed(store.root / "ofsted" / store.copies("ofsted")[0].file).kind == "ofsted"
    absence = read_feed(store.root / "ees" / store.copies("ees")[0].file)
    assert absence.kind == "absence" and kinds["absence"]["academic_year"] == "2020-21"


@pytest.mark.slow  # a whole demo term through extract and validate
def test_a_landing_gias_of_another_academic_year_wins_and_a_newer_fetched_one_is_said(tmp_path, demo, gias_bytes):
    """Surrey trial: the landing folder's GIAS extract was dated in August (the previous academic year by its date)
    and the fetch DAG had a September one: both were read and the run stopped on "2 GIAS establishment extracts".
    The file dropped by hand wins, as it does within a year, and the newer fetched copy is said."""
    landing = _landing_without(demo, tmp_path, demo_file(demo, "edubasealldata").name)
    dropped = landing / "999" / TERM / "edubasealldata20250815.csv"
    dropped.write_bytes(gias_bytes)
    cfg = _run_cfg(landing, tmp_path)
    day = cfg.as_of_date() - timedelta(days=2)
    with source_server() as srv:
        _fetch_gias(srv, cfg.work_dir, gias_bytes, day)
    pipeline.extract(cfg)
    data = pipeline._term_data(cfg)
    assert [f.source for f in data.by_kind["gias"]] == ["edubasealldata20250815.csv"]
    pipeline.validate(cfg)  # one GIAS extract: no feed_set stop
    dq = pd.read_csv(cfg.run_dir / "quality" / "data_quality.csv", encoding="utf-8-sig", keep_default_na=False)
    [said] = dq[dq["check"].eq("fetched_source") & dq["file"].eq(dropped.name)].to_dict("records")
    assert said["severity"] == "warning"
    assert f"edubasealldata{day:%Y%m%d}.csv, dated {day:%d %B %Y}" in said["message"]
    assert "dated 15 August 2025) is used" in said["message"] and "remove it from the landing folder" in said["message"]
    from school_improvement.quality.notes import front_page_notes

    assert any("a file dropped by hand wins" in n for n in front_page_notes(dq))
