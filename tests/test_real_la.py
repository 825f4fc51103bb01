"""A real LA's downloads, as downloaded, give an honest edition (Surrey, LA 936, a 2021-22 term).

The landing folder is built from the real files (tests/real_la.py); whole-England shaped absence, census and
KS4 files make the run set other LAs aside. The whole run goes through Airflow once; the feed-presence cases
run the stages in-process (pipeline.py), as the DAG's tasks do.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from real_la import LA, build_landing, surrey_open_maintained
from school_improvement.terms import Term
from school_improvement import pipeline
from school_improvement.errors import ValidationFailed

REPO = Path(__file__).resolve().parents[1]
TERM = "2021-22-autumn"


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def airflow_run(shared_dfe, tmp_path_factory, airflow_db):
    """The DAG run by Airflow (`dag.test()`, in-process) for LA 936 on the real landing folder."""
    root = tmp_path_factory.mktemp("surrey")
    landing = build_landing(shared_dfe, root / "landing", links=True)
    airflow_db()  # this session's Airflow database, migrated once (tests/conftest.py)
    # The LA is bound to its DAG: a deployment's las.yaml naming Surrey, its landing folder and shared drive.
    las = root / "las.yaml"
    drive = root / "drive"
    drive.mkdir()
    (drive / ".school-improvement-share").write_text("")  # the LA marks the real share once
    las.write_text(f'las:\n  - la_code: "{LA}"\n    landing: "{landing}"\n    shared_drive: "{drive}"\n')
    keys = ("SI_WORK_DIR", "SI_LAS_FILE")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({"SI_WORK_DIR": str(root / "work"), "SI_LAS_FILE": str(las)})
    try:
        from airflow.dag_processing.dagbag import DagBag

        dag = DagBag(dag_folder=str(REPO / "dags")).dags[f"termly_school_improvement_{LA}"]
        dr = dag.test(run_conf={"term": TERM})
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return root, dr


def _edition(root: Path) -> Path:
    folder = root / "drive" / LA / "2021-22" / "autumn"
    current = json.loads((folder / "current.json").read_text())
    return folder / current["edition"]


@pytest.mark.slow  # the whole term through Airflow
def test_real_surrey_downloads_publish_through_airflow(airflow_run, shared_dfe):
    root, dr = airflow_run
    assert str(dr.state).endswith("success"), dr.state
    ed = _edition(root)
    cat = pd.read_csv(ed / "general" / "categorisation.csv", encoding="utf-8-sig")
    # Every open maintained Surrey school in the GIAS rows is categorised; no other LA's school is.
    assert set(cat["urn"]) == surrey_open_maintained(shared_dfe, Term.parse(TERM).dates()[0], links=True)
    dq = pd.read_csv(ed / "general" / "data_quality.csv", encoding="utf-8-sig", keep_default_na=False)
    missing = set(dq.loc[dq["check"] == "feed_missing", "feed_kind"])
    assert missing == {"ofsted", "adviser_judgements", "la_intelligence", "letters_log", "moderation",
                       "ward_members", "laig_notes"}
    # Other LAs' rows were set aside, once per file, not one problem per row.
    aside = dq[dq["check"] == "set_aside"]
    assert set(aside["file"]) >= {"england_abs_2018-19.csv", "england_census_2019-20.csv",
                                  "england_ks4provisional_2018-19.csv"}
    assert aside["file"].is_unique
    assert not (dq["severity"] == "critical").any()
    # The age of the results: 2018-19 KS2, three years before 2021-22, none published in between.
    ages = dq[dq["check"] == "data_age"].set_index("feed_kind")["message"]
    assert "KS2 results are for 2018-19, 3 years before 2021-22" in ages["ks2"] and "2019-20, 2020-21" in ages["ks2"]
    assert "2020-21 figures should exist" in ages["census"]  # January 2021 census was published: out of date
    text = _pdf_text(ed / "general" / "report.pdf")
    front = text[:text.index("Contents")]
    # A real county with every LA-held file missing and old results: the front page still fits one page.
    first = re.sub(r"\s+", " ", text.split("\f")[0])
    assert "Academies of concern" in first and "Contents" in text.split("\f")[1], first[-300:]
    assert "Surrey: school improvement" in front and "LA 936" not in text  # GIAS names the LA
    assert "What you must know about the data" in front
    flat = re.sub(r"\s+", " ", front)
    assert "No Ofsted file was supplied" in flat and "KS2 results are for 2018-19, 3 years before 2021-22" in flat
    assert "Not supplied, of the LA's own files: adviser judgements (the categorisation rests on published data" in flat
    headline = flat[flat.index("LA-maintained schools categorised for"):]
    headline = headline[:headline.index("aim")]
    assert "Good or better: not known, because no Ofsted file was supplied" in headline and "%" not in headline
    inputs = json.loads((ed / "inputs.json").read_text())
    assert "gias_links_2024-01-29.csv" in {f["file"] for f in inputs["feeds"]}
    letters = pd.read_csv(ed / "restricted" / "letters.csv", encoding="utf-8-sig", keep_default_na=False)
    flagged = letters[letters["letter"] != "congratulations"]
    assert len(flagged) and flagged["evidence"].str.contains(r"Data age: KS2 results are for 2018-19").all()
    # Academies named in the general edition carry the same caveat (written from the evidence's general twin).
    acads = pd.read_csv(ed / "general" / "academy_concerns.csv", encoding="utf-8-sig", keep_default_na=False)
    data_led = acads[acads["evidence"].str.contains("KS2|absence", regex=True)]
    assert len(data_led) and data_led["evidence"].str.contains("Data age:").all()
    # The all-through schools with KS4 results show them in their profile's figures table, not KS2 alone.
    cats = pd.read_csv(ed / "restricted" / "categorisation.csv", encoding="utf-8-sig", keep_default_na=False)
    with_ks4 = set(cats.loc[cats["reasons"].str.contains(r"KS4 Attainment 8 \d", regex=True), "urn"])
    restricted = re.sub(r"\s+", " ", _pdf_text(ed / "restricted" / "report.pdf"))
    assert with_ks4
    for urn in with_ks4:
        profile = restricted[restricted.index(f"(URN {urn})"):]
        profile = profile[:profile.index("Why this level")]
        assert "KS4 Attainment 8" in profile and "Progress 8" in profile, urn
    # Without an Ofsted file no profile says a school was never inspected.
    assert "no inspection on record" not in text and "not known, because no Ofsted file was supplied" in re.sub(r"\s+", " ", text)
    # The GIAS extract (April 2022) is later than the term: said, so missing or new schools are looked at.
    assert (dq["check"] == "gias_after_term").any()
    assert "is dated 20 April 2022, after 2021-22-autumn ended" in flat


def _cfg(landing: Path, tmp: Path, la: str = LA) -> pipeline.RunConfig:
    return pipeline.RunConfig(la_code=la, term=TERM, landing=str(landing), work_dir=str(tmp / "work"),
                              history_url=f"sqlite:///{tmp / 'history.sqlite'}", run_id="r1")


@pytest.mark.slow  # a whole real Surrey term through the stages (GX validation of every feed)
def test_without_gias_the_run_fails_clearly_and_leaves_its_evidence(shared_dfe, tmp_path):
    cfg = _cfg(build_landing(shared_dfe, tmp_path / "landing", leave_out=("gias",)), tmp_path)
    pipeline.extract(cfg)
    with pytest.raises(ValidationFailed) as err:
        pipeline.validate(cfg)
    msg = str(err.value)
    assert "nothing will be published" in msg and "no GIAS establishment extract was supplied" in msg
    where = Path(msg.rsplit(" in ", 1)[1].strip())
    assert where == cfg.run_dir / "quality" / "data_quality.csv" and where.is_file()
    dq = pd.read_csv(where, encoding="utf-8-sig", keep_default_na=False)
    assert (dq["check"].eq("feed_missing") & dq["feed_kind"].eq("gias") & dq["severity"].eq("critical")).any()
    assert not (cfg.run_dir / "staged").exists()


@pytest.mark.slow  # a whole real Surrey term through the stages (GX validation of every feed)
def test_an_la_the_gias_extract_does_not_hold_categorises_nothing_and_stops(shared_dfe, tmp_path):
    cfg = _cfg(build_landing(shared_dfe, tmp_path / "landing"), tmp_path, la="937")
    pipeline.extract(cfg)
    with pytest.raises(ValidationFailed, match="the GIAS extract has no schools for LA 937"):
        pipeline.validate(cfg)


def _render_front_and_headline(inputs) -> str:
    from school_improvement.editions import render, report

    html = render._environment().get_template("report.html.j2").render(**report._context(inputs, "general"))
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.slow  # a whole real Surrey term through the stages (GX validation of every feed)
@pytest.mark.parametrize("kind, said", [
    ("ks2", "No KS2 results file was supplied"),
    ("ks4", "No KS4 results file was supplied"),
    ("absence", "No absence file was supplied"),
    ("census", "No school census file was supplied"),
])
def test_each_expected_feed_removed_in_turn_is_said_never_zero(shared_dfe, tmp_path, kind, said):
    cfg = _cfg(build_landing(shared_dfe, tmp_path / "landing", leave_out=(kind,)), tmp_path)
    for stage in ("extract", "validate", "assess_evidence", "categorise", "flag_letters"):
        getattr(pipeline, stage)(cfg)
    inputs = pipeline.report_inputs(cfg)
    dq = inputs.data_quality
    row = dq[dq["check"].eq("feed_missing") & dq["feed_kind"].eq(kind)]
    assert len(row) == 1 and row.iloc[0]["severity"] == "warning" and said in row.iloc[0]["message"]
    assert any(n.startswith(said) for n in inputs.data_notes)
    page = _render_front_and_headline(inputs)
    assert "What you must know about the data" in page and said in page
    assert "no Ofsted file was supplied" in page  # the headline figure that rests on Ofsted says so
    assert not re.search(r"\(0(\.0)?%\) are judged good or better", page)
    # The rest of the run still stands on what was supplied: every open maintained school is categorised.
    assert set(inputs.categorisation["urn"].astype(int)) == surrey_open_maintained(shared_dfe, Term.parse(TERM).dates()[0])


def _census_landing(shared_dfe, folder: Path, edit) -> Path:
    from real_la import GIAS, england_shaped

    folder.mkdir(parents=True)
    (folder / GIAS).write_bytes((shared_dfe / "samples" / GIAS).read_bytes())
    england_shaped(shared_dfe / "samples" / "936_census_2019-20.csv", folder / "england_census_2019-20.csv",
                   "LA", "URN", edit)
    return folder


def _text_in_another_las_row(rows, h):
    rows[5][h["PSENELSE"]] = "n/a"  # text in a number column, in another LA's row


@pytest.mark.slow  # the real whole-England census through extract and validate
def test_an_unreadable_value_in_another_las_row_is_set_aside_with_a_warning(shared_dfe, tmp_path):
    cfg = _cfg(_census_landing(shared_dfe, tmp_path / "landing", _text_in_another_las_row), tmp_path)
    assert pipeline.extract(cfg)["unreadable"] == 0
    pipeline.validate(cfg)
    dq = pd.read_csv(cfg.run_dir / "quality" / "data_quality.csv", encoding="utf-8-sig", keep_default_na=False)
    [w] = dq[dq["message"].str.contains("could not be read and were set aside")].to_dict("records")
    assert w["severity"] == "warning" and "'n/a' is not a number" in w["message"] and w["column"] == "PSENELSE"
    census = pipeline._term_data(cfg).frame("census")
    assert len(census) and (census["la_code"].astype(str) == LA).all()
    # Rows keep their line numbers in the file as downloaded, for any later message.
    lines = (cfg.run_dir / "raw" / "england_census_2019-20.csv").read_bytes().decode("utf-8-sig").splitlines()
    for r in census.tail(3).to_dict("records"):
        assert lines[r["_row"] - 1].startswith(f"{r['urn']},{LA},")
    nat = pipeline._term_data(cfg).latest("census").comparators  # after the set-aside row in the file
    assert list(nat["_row"]) == [i + 1 for i, ln in enumerate(lines) if ln.startswith("NAT,")]


@pytest.mark.slow  # the real whole-England census through extract and validate (the check command's case of it
# stays in the fast tier: test_feed_set's impossible value in the LA's own row)
def test_an_unreadable_value_in_the_las_own_row_stops_the_run(shared_dfe, tmp_path):
    folder = _census_landing(shared_dfe, tmp_path / "landing", None)
    census = folder / "england_census_2019-20.csv"
    lines = census.read_bytes().decode("utf-8-sig").split("\n")
    header = lines[0].split(",")
    mine = surrey_open_maintained(shared_dfe, Term.parse(TERM).dates()[0])
    i = next(i for i, ln in enumerate(lines) if ln.split(",")[0].isdigit() and int(ln.split(",")[0]) in mine)
    cells = lines[i].split(",")  # an open maintained Surrey school
    cells[header.index("PSENELSE")] = "n/a"
    lines[i] = ",".join(cells)
    census.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode())
    cfg = _cfg(folder, tmp_path)
    assert pipeline.extract(cfg)["unreadable"] == 1
    with pytest.raises(ValidationFailed, match=rf"england_census_2019-20.csv, row {i + 1}, column 'PSENELSE'"):
        pipeline.validate(cfg)


@pytest.mark.slow  # a whole real Surrey term through extract and validate (GX)
def test_a_gias_extract_refused_for_a_repeated_row_is_not_also_said_to_be_missing(shared_dfe, tmp_path):
    """A trial (s31): one GIAS row repeated stopped the run naming file, row and column, and then said "no GIAS
    establishment extract was supplied ... Download the LA's establishment fields CSV", of a file the user gave."""
    from real_la import GIAS

    landing = build_landing(shared_dfe, tmp_path / "landing")
    lines = (landing / GIAS).read_bytes().split(b"\r\n")
    (landing / GIAS).write_bytes(b"\r\n".join([*lines[:461], lines[460], *lines[461:]]))
    cfg = _cfg(landing, tmp_path)
    pipeline.extract(cfg)
    with pytest.raises(ValidationFailed) as err:
        pipeline.validate(cfg)
    message = str(err.value)
    assert f"{GIAS}, row 462, column 'URN': duplicate urn" in message, message
    assert "no GIAS establishment extract was supplied" not in message and "(no gias file)" not in message, message


@pytest.mark.slow  # a whole real Surrey term through the stages (GX validation of every feed), twice
def test_a_ks2_download_cut_at_a_row_boundary_stops_the_run_if_it_is_the_newest_else_is_said_on_the_front_page(
        shared_dfe, tmp_path):
    """Cut cleanly after a school row, the file has no LA or national rows: never passed off as a smaller LA.
    The newest year's is the one its schools are compared with national from, so the run stops naming it: published
    with a warning, real Surrey lost 24 letters, and the warning was pushed off the front page (trial s31). An older
    year's is only read for its figures: the run goes on, and the front page says it."""
    from school_improvement.ingest.feeds import read_feed
    from school_improvement.quality.notes import front_page_notes

    landing = build_landing(shared_dfe, tmp_path / "landing")
    lines = (landing / "936_ks2_2018-19.csv").read_bytes().split(b"\r\n")
    (landing / "936_ks2_2018-19.csv").write_bytes(b"\r\n".join(lines[:150]))
    (w,) = [p for p in read_feed(landing / "936_ks2_2018-19.csv").warnings if p.check == "no_summary_rows"]
    assert (w.row, w.column) == (150, "RECTYPE") and "may have been cut off" in w.message
    assert not [p for p in read_feed(shared_dfe / "samples" / "936_ks2_2018-19.csv").warnings
                if p.check == "no_summary_rows"]  # the whole file has its LA and national rows
    cfg = _cfg(landing, tmp_path)
    pipeline.extract(cfg)
    with pytest.raises(ValidationFailed, match=r"936_ks2_2018-19.csv, row 150, column 'RECTYPE'.*the newest KS2 file "
                                               r"\(for 2018-19\) has no national summary rows.*download it again"):
        pipeline.validate(cfg)

    (landing / "936_ks2_2018-19.csv").write_bytes((shared_dfe / "samples" / "936_ks2_2018-19.csv").read_bytes())
    older = (landing / "936_ks2_2016-17.csv").read_bytes().split(b"\r\n")
    (landing / "936_ks2_2016-17.csv").write_bytes(b"\r\n".join(older[:150]))
    cfg = _cfg(landing, tmp_path / "older")
    pipeline.extract(cfg)
    pipeline.validate(cfg)
    dq = pd.read_csv(cfg.run_dir / "quality" / "data_quality.csv", encoding="utf-8-sig", keep_default_na=False)
    assert not dq["check"].eq("no_national_row").any()
    notes = " ".join(front_page_notes(dq))
    assert "936_ks2_2016-17.csv" in notes and "no LA or national summary rows" in notes


@pytest.mark.slow  # a whole real Surrey term through the stages (GX validation of every feed)
def test_the_las_own_rows_missing_from_gias_are_a_warning_on_the_front_page(shared_dfe, tmp_path):
    """Rows the DfE file gives LA 936 but the GIAS extract lacks (a phase-limited or differently dated extract)."""
    from school_improvement.quality.notes import front_page_notes

    cfg = _cfg(build_landing(shared_dfe, tmp_path / "landing"), tmp_path)
    pipeline.extract(cfg)
    pipeline.validate(cfg)
    dq = pd.read_csv(cfg.run_dir / "quality" / "data_quality.csv", encoding="utf-8-sig", keep_default_na=False)
    (own,) = dq[dq["check"] == "own_schools_not_in_gias"].to_dict("records")  # once, naming each file
    assert own["severity"] == "warning" and "england_census_2019-20.csv" in own["file"].split(", ")
    said = [n for n in front_page_notes(dq) if "are for schools not in the GIAS extract" in n]
    assert len(said) == 1 and "give LA code 936 (" in said[0] and "england_census_2019-20.csv: " in said[0]
    notes = " ".join(front_page_notes(dq))
    assert "not this LA's" not in notes


@pytest.mark.slow  # a second real Surrey term through the stages and the general edition rendered
def test_the_front_page_of_a_second_real_term_with_schools_that_left_fits_one_page(airflow_run):
    """2022-23 autumn after 2021-22 autumn (the term Airflow ran and published above, whose history it goes on
    from): old results, missing LA-held files, schools that converted or closed and one proposed to close, all on
    the front page, which still ends with the academies of concern."""
    root, _ = airflow_run
    history = root / "work" / "history.sqlite"  # where the run above kept it (no SI_HISTORY_URL, no Connection)
    assert history.is_file()
    cfg = pipeline.RunConfig(la_code=LA, term="2022-23-autumn", landing=str(root / "landing"),
                             work_dir=str(root / "work"), history_url=f"sqlite:///{history}", run_id="r1")
    for stage in pipeline.STAGES[:pipeline.STAGES.index("build_reports")]:
        getattr(pipeline, stage)(cfg)
    out = pipeline.build_report_part(cfg, "general")
    pages = _pdf_text(Path(out["path"]) / "report.pdf").split("\f")
    first = re.sub(r"\s+", " ", pages[0])
    assert "not categorised now" in first and "converted to an academy" in first  # the schools that left
    assert "Academies of concern" in first and "Contents" in pages[1], first[-400:]
    # The results name schools the GIAS extract lacks (it holds one phase of Surrey's): the reader is told on the
    # front page, not in the appendix, since such schools are not categorised at all.
    box = first[first.index("What you must know about the data"):first.index("Schools at each level")]
    assert "are for schools not in the GIAS extract" in box, box
