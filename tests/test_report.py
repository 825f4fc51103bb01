"""Report editions: content, confidentiality of the GENERAL edition, CSV safety, PDF accessibility."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from pypdf import PdfReader

from school_improvement import TEMPLATES_DIR
from school_improvement.editions import cells, charts, front_page, render, report, tables
from school_improvement.editions.confidentiality import general_view
from school_improvement.editions.report import ReportInputs, build_edition
from school_improvement.editions.tables import write_csv

TERM = "2025-26-autumn"
HOSTILE_NAME = '<img src="http://x/y.png"><script>alert(1)</script> =HYPERLINK("http://evil","x") Primary'
# Strings that exist only in confidential inputs: none may reach the GENERAL edition.
MARKERS = {
    "laig_key_points": "CONFIDENTIAL-MARKER-1",
    "laig_notes": "CONFIDENTIAL-MARKER-2",
    "confidential_evidence": "CONFIDENTIAL-MARKER-3",
    "la_intelligence": "CONFIDENTIAL-MARKER-4",
    "head_name": "CONFIDENTIAL-MARKER-5",
    "chair_name": "CONFIDENTIAL-MARKER-6",
}
LEVEL_CYCLE = ["high", "medium", "low", "low", "medium", "low"]


def make_inputs(n: int = 12) -> ReportInputs:
    urns = [100000 + i for i in range(n)]
    names = [f"School {i:03d} Primary" for i in range(n)]
    names[1] = HOSTILE_NAME
    names[2] = "-Academy Road Infant"
    names[3] = "St Mary & St John's C of E $ School"  # & must be escaped, $ must not start mathtext
    cats = [LEVEL_CYCLE[i % len(LEVEL_CYCLE)] for i in range(n)]
    prev_cats = [LEVEL_CYCLE[(i + 1) % len(LEVEL_CYCLE)] for i in range(n)]
    cat = pd.DataFrame({
        "urn": urns, "school_name": names, "phase": "Primary", "school_type": "Community school",
        "ward": [f"Ward {i % 3}" for i in range(n)], "adviser": [f"Adviser {i % 4}" for i in range(n)],
        "category": cats, "computed_category": cats, "previous_category": prev_cats,
        "direction_of_travel": "stable", "override_reason": None, "override_by": None, "override_on": None,
        "criteria_met": "H1", "reasons": "KS2 attainment below national", "overriding_condition": None,
        "visits_planned": [{"high": 6, "medium": 3, "low": 1}[c] for c in cats],
        "support_plan": ["LA Support and Intervention Plan" if c == "high" else "Standard" for c in cats],
        "rule_set": "cambs-2022", "term": TERM,
        "good_or_better": pd.array([i % 3 != 0 for i in range(n)], dtype="boolean"),
    })
    # School 0: a reason that rests on LA intelligence (confidential), as categorise would write it.
    cat.loc[0, "reasons"] = f"Safeguarding concerns: {MARKERS['la_intelligence']} raised by education safeguarding; KS2 attainment below national"
    cat.loc[0, "criteria_met"] = "H7; H1"
    evidence = pd.DataFrame([
        {"urn": urns[0], "criterion_id": "H1", "area": "outcomes", "level": "high", "wording": "KS2 attainment below national",
         "measure": "rwm_exp", "value": "41.0", "comparator": "61.0", "source": "ks2", "confidential": False},
        {"urn": urns[0], "criterion_id": "H7", "area": "safeguarding", "level": "high", "wording": "Safeguarding concerns",
         "measure": "flag", "value": f"{MARKERS['la_intelligence']} raised by education safeguarding", "comparator": None,
         "source": "la_intelligence", "confidential": True},
        {"urn": urns[3], "criterion_id": "M4", "area": "leadership", "level": "medium", "wording": "Leadership capacity",
         "measure": "note", "value": f"Adviser note: {MARKERS['confidential_evidence']}", "comparator": None,
         "source": "adviser_judgements", "confidential": True},
        {"urn": urns[1], "criterion_id": "M1", "area": "attendance", "level": "medium", "wording": "Absence above national",
         "measure": "overall_absence", "value": -2.5, "comparator": "=1+1", "source": "absence", "confidential": False},
    ])
    terms = ["2024-25-spring", "2024-25-summer", TERM]
    history = pd.concat([
        pd.DataFrame({"urn": urns, "term": terms[0], "category": prev_cats}),
        pd.DataFrame({"urn": urns[:-1], "term": terms[1], "category": prev_cats[:-1]}),  # last school is new
        pd.DataFrame({"urn": urns, "term": TERM, "category": cats}),
    ], ignore_index=True)
    indicators = pd.DataFrame({
        "urn": urns, "school_name": names,
        "rwm_exp": [50 + (i * 7) % 30 for i in range(n)], "rwm_exp_national": 61.0,
        "overall_absence": [4 + (i % 5) * 0.6 for i in range(n)], "overall_absence_national": 5.5,
        "persistent_absence": [12 + i % 7 for i in range(n)], "persistent_absence_national": 16.0,
        "disadv_gap": [float((i * 5) % 35) - 3 for i in range(n)], "disadv_gap_national": 22.0,
        "good_or_better": [i % 3 != 0 for i in range(n)],
    })
    letters = pd.DataFrame([
        {"urn": urns[0], "school_name": names[0], "letter": "warning_notice", "indicators": "W2",
         "evidence": f"Safeguarding concerns: {MARKERS['la_intelligence']} raised by education safeguarding", "flagged_on": dt.date(2025, 11, 3),
         "term": TERM, "escalation_note": "previous significant concerns letter 2024-25-summer"},
        {"urn": urns[2], "school_name": names[2], "letter": "congratulations", "indicators": "C1",
         "evidence": "Ofsted improved", "flagged_on": dt.date(2025, 11, 3), "term": TERM, "escalation_note": None},
        {"urn": urns[1], "school_name": names[1], "letter": "significant_concerns_letter", "indicators": "S8",
         "evidence": "+ wide disadvantaged gap", "flagged_on": dt.date(2025, 11, 3), "term": TERM, "escalation_note": None},
    ])
    academy = pd.DataFrame([{"urn": 200001, "school_name": "Fen Academy", "trust": "Fen Trust", "concerns": "A2",
                             "evidence": "high persistent absence", "next_step": "Director meets CEO",
                             "escalate_to": "RSC", "flagged_on": dt.date(2025, 11, 3), "term": TERM}])
    alerts = pd.DataFrame([{"ward": "Ward 0", "member_name": "Cllr Smith", "party": "Ind", "email": "smith@example.org",
                            "urn": urns[0], "school_name": names[0], "reason": "warning_notice"}])
    dq = pd.DataFrame([{"file": "ks2.csv", "feed_kind": "ks2", "row": 7, "column": "rwm_exp", "severity": "warning",
                        "check": "range", "message": "@SUM value suppressed"},
                       {"file": "gias.csv", "feed_kind": "gias", "row": None, "column": None, "severity": "warning",
                        "check": "file", "message": "no close_date column"}])
    prov = pd.DataFrame([{"file": "ks2.csv", "kind": "ks2", "academic_year": "2024-25", "rows": n, "sha256": "ab" * 32},
                         {"file": "intel.xlsx", "kind": "la_intelligence", "academic_year": None, "rows": 1, "sha256": "cd" * 32}])
    drafts = [
        {"urn": urns[0], "school_name": names[0], "letter": "warning_notice", "letter_title": "Warning notice",
         "head_name": f"Ms A {MARKERS['head_name']}", "chair_name": f"Mr B {MARKERS['chair_name']}",
         "address_lines": ["1 High Street", "Wealdtown", "WE1 1AA"],
         "concerns": ["Safeguarding arrangements are not effective", "Attainment well below national"],
         "actions": [{"action": "Commission an external safeguarding review", "by_date": dt.date(2025, 12, 12)}],
         "date": dt.date(2025, 11, 10)},
        {"urn": urns[1], "school_name": names[1], "letter": "significant_concerns_letter",
         "letter_title": "Significant concerns", "head_name": "Mr C Head", "chair_name": "Dr D Chair",
         "address_lines": ["2 Low Road"], "concerns": ["Wide disadvantaged gap"],
         "actions": [{"action": "Pupil premium review", "by_date": dt.date(2026, 1, 30)}], "date": dt.date(2025, 11, 10)},
    ]
    laig = pd.DataFrame([{"urn": urns[0], "meeting_date": dt.date(2025, 10, 14),
                          "key_points": f"Key point {MARKERS['laig_key_points']}", "notes": f"Note {MARKERS['laig_notes']}"}])
    return ReportInputs(
        la_code="999", la_name="Wealdshire (demo)", term=TERM, rule_set_id="cambs-2022",
        rule_set_title="School Improvement Strategy 2022", run_date=dt.date(2025, 11, 10),
        categorisation=cat, evidence=evidence, history=history, indicators=indicators, letters=letters,
        academy_concerns=academy, member_alerts=alerts, data_quality=dq, provenance=prov, drafts=drafts, laig_notes=laig,
        decision_evidence=pd.DataFrame([  # the letters' checks, beside the bullets' in evidence.csv
            {"urn": urns[2], "decision": "letter: congratulations", "criterion_id": "CG-2", "area": "", "level": "",
             "wording": "Significant improvement in attainment", "measure": "data: attainment_significant_improvement",
             "met": True, "value": "KS2 78.0% vs national 61.0%", "comparator": "national 61.0%", "reason": "",
             "source": "ks2", "detail": "", "confidential": False}]),
        # The seed rule set's words for the disadvantaged-gap page (pipeline: rules.gap_section).
        gap_section={"title": "Priority 3: the widest disadvantaged gaps",
                     "why": "Priority 3 of the Strategy, and the peer review's finding: outcomes must improve."},
    )


def _page_texts(path: Path) -> tuple[str, ...]:
    """Each page's text, extracted once per file as written (pypdf's extraction is most of a read): the editions
    built once per module are read by many tests."""
    stat = Path(path).stat()
    return _page_texts_of(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _page_texts_of(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    return tuple(page.extract_text() or "" for page in PdfReader(path).pages)


def pdf_text(path: Path) -> str:
    return "\n".join(_page_texts(path))


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    inputs = make_inputs()
    root = tmp_path_factory.mktemp("editions")
    return inputs, {ed: (root / ed, build_edition(inputs, root / ed, ed)) for ed in report.EDITIONS}


def test_files_written(built):
    _, eds = built
    names = lambda ed: sorted(str(p.relative_to(eds[ed][0])) for p in eds[ed][1])
    common = ["academy_concerns.csv", "categorisation.csv", "data_quality.csv", "letters.csv", "member_alerts.csv", "report.pdf",
              "report.xlsx"]
    assert names("general") == common
    assert names("restricted") == sorted(common + ["evidence.csv", "drafts/100000-warning_notice.pdf",
                                                   "drafts/100001-significant_concerns_letter.pdf",
                                                   "drafts/draft_letters.pdf"])


@pytest.mark.parametrize("edition", report.EDITIONS)
def test_pdf_content(built, edition):
    inputs, eds = built
    text = pdf_text(eds[edition][0] / "report.pdf")
    t = flat(text)
    for needle in ("Wealdshire (demo)", TERM, "cambs-2022", "School Improvement Strategy 2022", f"{edition.upper()} EDITION",
                   "Contents", "What you must know about the data", "Schools that changed level",
                   "Letters awaiting the Director's approval", "Academies of concern", "Movement since last term",
                   "Priority 3", "peer review",
                   "Schools at each level of support", "Appendix A: data quality", "Appendix B: provenance"):
        assert needle in t, needle
    assert "ab" * 32 in "".join(text.split())  # SHA-256 wraps in its cell
    counts = inputs.categorisation["category"].value_counts()
    before = inputs.history[inputs.history["term"] == "2024-25-summer"]["category"].value_counts()
    for level in cells.LEVELS:  # the seed's levels; LEVEL_LABELS also labels other LAs' levels
        label = cells.LEVEL_LABELS[level]
        n, was = int(counts.get(level, 0)), int(before.get(level, 0))
        change = f"{n - was:+d}" if n != was else "no change"
        assert f"{label} {n} {round(100 * n / len(inputs.categorisation))}% {was} {change}" in t
    for name in inputs.categorisation["school_name"]:
        assert flat(name) in t, name
    # Profiles in both editions (the general one without the confidential detail: see the markers test).
    assert "School profiles" in t
    assert "Why this level: the Strategy's bullets, with the evidence" in t


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_contents_page_numbers(built):
    # pdftotext keeps the leader line intact where pypdf does not.
    _, eds = built
    pdf = eds["restricted"][0] / "report.pdf"
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                           text=True).stdout.split("\f")
    toc = {line.split(".")[0].strip(): int(line.split()[-1]) for line in pages[1].splitlines() if "...." in line}
    assert len(toc) == 9, toc
    for heading, number in toc.items():
        assert heading.split(":")[0].split(",")[0] in pages[number - 1], (heading, number)


def test_confidential_markers_only_in_restricted(built):
    _, eds = built

    def everything(edition):
        folder, files = eds[edition]
        text = []
        for p in files:
            if p.suffix == ".xlsx":
                from openpyxl import load_workbook

                wb = load_workbook(p)
                text += [str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c is not None]
                continue
            text.append(pdf_text(p) if p.suffix == ".pdf" else p.read_text(encoding="utf-8-sig"))
        return flat("\n".join(text))

    general, restricted = everything("general"), everything("restricted")
    for what, marker in MARKERS.items():
        assert marker not in general, what
        assert marker in restricted, what
    # The reason survives in generalised form.
    assert "LA intelligence: safeguarding concern (detail restricted)" in general
    assert "Safeguarding concerns" in restricted


def test_general_view_is_shared_and_generalises():
    inputs = make_inputs()
    view = general_view(inputs)
    assert view.drafts == [] and view.laig_notes.empty
    assert not view.evidence["confidential"].any()
    reasons = view.categorisation.loc[0, "reasons"].split("; ")
    assert reasons == ["LA intelligence: safeguarding concern (detail restricted)", "KS2 attainment below national"]
    # The input is not modified.
    assert "CONFIDENTIAL-MARKER-4" in inputs.categorisation.loc[0, "reasons"]


def test_csv_bom_order_and_formula_neutralisation(built):
    _, eds = built
    raw = (eds["restricted"][0] / "evidence.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw[3:].decode("utf-8").split("\r\n")
    assert lines[0] == ",".join(tables.EVIDENCE_COLUMNS)
    ev = pd.read_csv(eds["restricted"][0] / "evidence.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert "'=1+1" in set(ev["comparator"])
    cat = pd.read_csv(eds["general"][0] / "categorisation.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(cat.columns) == tables.CATEGORISATION_COLUMNS
    assert list(cat["urn"]) == sorted(cat["urn"])
    assert "'-Academy Road Infant" in set(cat["school_name"])
    hostile = cat.loc[cat["urn"] == "100001", "school_name"].item()
    assert hostile == HOSTILE_NAME  # starts with "<": text, not a formula
    letters = pd.read_csv(eds["general"][0] / "letters.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert "'+ wide disadvantaged gap" in set(letters["evidence"])
    dq = pd.read_csv(eds["general"][0] / "data_quality.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(dq["message"]) == ["no close_date column", "'@SUM value suppressed"]  # sorted by file
    assert list(dq["row"]) == ["", "7"]


def test_write_csv_numbers_stay_numbers(tmp_path):
    df = pd.DataFrame({"n": [-2.5, 3.0], "s": ["-Academy", "=HYPERLINK(\"http://x\")"], "t": ["\tx", "ok"]})
    write_csv(df, tmp_path / "x.csv", ["s", "n", "t", "missing"])
    text = (tmp_path / "x.csv").read_bytes().decode("utf-8-sig")
    assert text.split("\r\n")[:3] == ["s,n,t,missing", "'-Academy,-2.5,'\tx,", "\"'=HYPERLINK(\"\"http://x\"\")\",3.0,ok,"]


@pytest.fixture(scope="module")
def rebuilt(built, tmp_path_factory):
    """The general edition built again from inputs made afresh, into a folder that holds the restricted edition's
    files, as a re-run's folder may: one render for the three tests that need a rebuild."""
    _, eds = built
    folder = tmp_path_factory.mktemp("rebuilt") / "x"
    shutil.copytree(eds["restricted"][0], folder)
    return folder, build_edition(make_inputs(), folder, "general")


@pytest.mark.slow  # renders the general edition again (the rebuilt fixture)
def test_byte_identical_rebuild(built, rebuilt):
    _, eds = built
    _, again = rebuilt
    for p in again:
        assert p.read_bytes() == (eds["general"][0] / p.name).read_bytes(), p.name


def test_hostile_school_name_is_text(built):
    _, eds = built
    pdf = eds["general"][0] / "report.pdf"
    assert flat(HOSTILE_NAME) in flat(pdf_text(pdf))
    reader = PdfReader(pdf)
    for page in reader.pages:  # the <img> was not turned into an image
        assert not page.images


def test_url_fetcher_refuses_outside_templates(tmp_path):
    fetcher = render.TemplateOnlyFetcher()
    for url in ("http://example.org/x.png", "https://example.org/x.css", "file:///etc/passwd",
                (TEMPLATES_DIR / ".." / ".." / "school_improvement" / "editions" / "report.py").as_uri(),
                "file://" + str(TEMPLATES_DIR) + "/../school_improvement/editions/report.py", "ftp://x/y"):
        with pytest.raises(render.RefusedURL):
            fetcher.fetch(url)
    ok = fetcher.fetch((TEMPLATES_DIR / "report.css").as_uri())
    assert b"@page" in ok.read()
    ok.close()
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"


def test_render_refuses_external_resource(tmp_path):
    # Markup that pulls a remote image or a file outside the templates must fail the render, not fetch it.
    from weasyprint import HTML

    for src in ("http://127.0.0.1:9/x.png", "file:///etc/passwd"):
        html = f'<html lang="en-GB"><head><title>t</title></head><body><img src="{src}" alt="x"></body></html>'
        with pytest.raises(render.RefusedURL):
            HTML(string=html, base_url=TEMPLATES_DIR.as_uri() + "/",
                 url_fetcher=render.TemplateOnlyFetcher()).write_pdf(tmp_path / "x.pdf")


@pytest.mark.parametrize("edition", report.EDITIONS)
def test_pdf_tagged_with_language(built, edition):
    _, eds = built
    for p in eds[edition][1]:
        if p.suffix != ".pdf":
            continue
        root = PdfReader(p).trailer["/Root"]
        assert str(root["/Lang"]) == "en-GB"
        assert "/StructTreeRoot" in root
        assert root["/MarkInfo"]["/Marked"]
        assert PdfReader(p).metadata.title


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils not installed")
@pytest.mark.parametrize("edition", report.EDITIONS)
def test_every_page_renders_non_blank(built, edition, tmp_path):
    from PIL import Image

    _, eds = built
    pdf = eds[edition][0] / "report.pdf"
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == len(PdfReader(pdf).pages)
    for png in pages:
        lo, hi = Image.open(png).convert("L").getextrema()
        assert lo < 200, f"{png.name} looks blank"


@pytest.mark.slow  # renders the general edition again (the rebuilt fixture)
def test_rebuild_into_same_folder_drops_stale_restricted_files(built, rebuilt):
    _, eds = built
    folder, files = rebuilt
    assert {p.name for p in eds["restricted"][1]} - {p.name for p in files}  # the folder held restricted-only files
    assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == sorted(p.name for p in files)


# ------------------------------------------------------------------ the front page and the workbook
def pdf_pages(path: Path) -> list[str]:
    return [flat(t) for t in _page_texts(path)]


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("edition", report.EDITIONS)
def test_front_page_is_one_page(built, edition):
    _, eds = built
    pages = pdf_pages(eds[edition][0] / "report.pdf")
    front = pages[0]
    for needle in ("Wealdshire (demo)", TERM, "Rule set cambs-2022", "What you must know about the data",
                   "Schools at each level of support", "Schools that changed level",
                   "Letters awaiting the Director's approval", "Academies of concern (1)", "Director meets CEO"):
        assert needle in front, needle
    assert pages[1].startswith("Contents")  # nothing spilled over from the front page


@pytest.mark.parametrize("edition", report.EDITIONS)
def test_front_page_movers_match_categorisation_csv(built, edition):
    _, eds = built
    folder = eds[edition][0]
    cat = read_csv(folder / "categorisation.csv")
    rank = {"low": 1, "medium": 2, "high": 3}
    moved = cat[cat["previous_category"].isin(rank) & (cat["previous_category"] != cat["category"])]
    up = moved[moved["category"].map(rank) > moved["previous_category"].map(rank)]
    assert len(moved) and len(up) and len(up) < len(moved)  # the fixture has movers both ways
    pages = pdf_pages(folder / "report.pdf")
    assert (f"{len(moved)} schools changed level since last term: {len(up)} now need more support, "
            f"{len(moved) - len(up)} need less.") in pages[0]
    # The full list: every mover with its previous and new level, and no school that stayed.
    section = next(p for i, p in enumerate(pages) if i > 1 and "Schools that changed level Each school" in p)
    section = section[section.index("Schools that changed level Each school"):]
    for _, r in moved.iterrows():
        name = r["school_name"].lstrip("'")
        nospace = lambda t: "".join(t.split())  # long names wrap inside their cell
        assert nospace(f"{name} ({r['urn']}) {r['previous_category']} → {r['category']}") in nospace(section), name
    for _, r in cat[~cat.index.isin(moved.index)].iterrows():
        assert f"({r['urn']})" not in section, r["school_name"]
    # The front page shows the first movers, those needing more support first.
    first = up.iloc[0]["school_name"].lstrip("'")
    assert flat(first) in pages[0]


@pytest.mark.parametrize("edition", report.EDITIONS)
def test_front_page_data_warnings_match_data_quality_csv(built, edition):
    _, eds = built
    folder = eds[edition][0]
    dq = read_csv(folder / "data_quality.csv")
    pages = pdf_pages(folder / "report.pdf")
    front = pages[0]
    assert len(dq)
    # The front page counts the warnings of data_quality.csv (less the run's own notes, said as sentences, and the
    # information lines) in one line, file by file; Appendix A lists them all.
    from school_improvement.quality.notes import NOTE_CHECKS

    warned = dq[~dq["check"].isin(NOTE_CHECKS + ("set_aside",)) & dq["severity"].ne("info")]
    counts = warned["file"].value_counts()
    assert len(counts)
    total, files = int(counts.sum()), len(counts)
    assert f"{total} data-quality warning{'s' if total != 1 else ''} in {files} file{'s' if files != 1 else ''}:" in front
    for name, n in sorted(counts.items())[:front_page.FRONT_WARNING_FILES]:
        assert f"{name} ({n})" in front, name
    appendix = " ".join(p for p in pages if "Appendix A: data quality" in p)
    for name in counts.index:
        assert name in appendix, name
    assert "Nothing to report" not in front


@pytest.mark.slow  # renders an edition
def test_the_front_page_holds_the_most_important_notes_and_appendix_a_all_of_them(tmp_path):
    import dataclasses

    notes = [f"Note number {i} about the data." for i in range(front_page.FRONT_DATA_NOTES + 3)]
    inputs = dataclasses.replace(make_inputs(), data_notes=notes)
    build_edition(inputs, tmp_path / "many", "general")
    pages = pdf_pages(tmp_path / "many" / "report.pdf")
    box = pages[0][pages[0].index("What you must know about the data"):pages[0].index("Schools at each level")]
    for note in notes[:front_page.FRONT_DATA_NOTES]:
        assert note in box, note
    for note in notes[front_page.FRONT_DATA_NOTES:]:
        assert note not in box, note
    assert "3 more notes about the data: Appendix A lists every note." in box
    appendix = " ".join(p for p in pages if "Every note about the data" in p)
    for note in notes:
        assert note in appendix, note
    assert pages[1].startswith("Contents") or "Contents" in pages[1][:40]


@pytest.mark.slow  # renders the general edition twice
def test_front_page_data_notes_and_none(tmp_path):
    import dataclasses

    notes = ["The absence feed is missing: absence criteria were not judged.", "KS2 results are from 2023-24, a year older than usual."]
    inputs = dataclasses.replace(make_inputs(), data_notes=notes)
    build_edition(inputs, tmp_path / "notes", "general")
    front = pdf_pages(tmp_path / "notes" / "report.pdf")[0]
    box = front[front.index("What you must know about the data"):front.index("Schools at each level")]
    for note in notes:
        assert note in box, note
    quiet = dataclasses.replace(make_inputs(), data_notes=[], data_quality=make_inputs().data_quality.iloc[0:0])
    build_edition(quiet, tmp_path / "quiet", "general")
    front = pdf_pages(tmp_path / "quiet" / "report.pdf")[0]
    assert "Nothing to report: every feed was present and in date" in front


def test_one_line_reason_in_words():
    school = {"category": "high", "reasons": "Overriding condition: Safeguarding not met (Ofsted)\n"
              "Leadership and management best fits high support: Leaders lack capacity [LM-H2] (adviser judgement "
              "(A Adviser, visit 2026-01-19): met); Governance is weak [LM-H7] (adviser: LM-H7 (detail restricted))"}
    assert front_page.one_line_reason(school) == "Overriding condition: Safeguarding not met (Ofsted)"
    school["reasons"] = school["reasons"].split("\n", 1)[1]
    reason = front_page.one_line_reason(school)
    assert reason.startswith("Leadership and management best fits high support: Leaders lack capacity")
    assert "[" not in reason and "(+1 more)" in reason
    head, items = front_page.reason_items(school["reasons"])
    assert head == "Leadership and management best fits high support"
    assert items == [("Leaders lack capacity", "LM-H2", "adviser judgement (A Adviser, visit 2026-01-19): met"),
                     ("Governance is weak", "LM-H7", "adviser (detail restricted)")]


def test_general_reasons_keep_one_line_per_area():
    inputs = make_inputs()
    inputs.categorisation.loc[3, "reasons"] = ("Leadership best fits medium support: Leadership capacity [M4] "
                                               "(Adviser note: CONFIDENTIAL-MARKER-3)\nQuality of education best fits "
                                               "low support: Teaching is good [L1] (data)")
    reasons = general_view(inputs).categorisation.loc[3, "reasons"].split("\n")
    assert len(reasons) == 2 and reasons[1].startswith("Quality of education best fits low support")
    assert "CONFIDENTIAL-MARKER-3" not in "".join(reasons)


@pytest.mark.parametrize("edition", report.EDITIONS)
def test_workbook_sheets_match_the_csvs(built, edition):
    from openpyxl import load_workbook

    _, eds = built
    folder = eds[edition][0]
    wb = load_workbook(folder / "report.xlsx")
    csvs = sorted(p.stem for p in folder.glob("*.csv"))
    assert sorted(wb.sheetnames) == csvs  # the same confidentiality split: evidence only in the restricted one
    for name in csvs:
        ws = wb[name]
        csv = read_csv(folder / f"{name}.csv")
        rows = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
        assert rows[0] == list(csv.columns)
        assert len(rows) - 1 == len(csv)
        for got, want in zip(rows[1:], csv.itertuples(index=False)):
            for g, w in zip(got, want):
                g = g.removesuffix(" 00:00:00")  # a date cell reads back as a datetime
                assert g == w or (g.replace(".0", "") == w.replace(".0", "")), (name, got, tuple(want))
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
        assert all(ws.column_dimensions[c.column_letter].width for c in ws[1])
        for row in ws.iter_rows(min_row=2):  # no cell Excel would run as a formula
            for c in row:
                assert c.data_type != "f", (name, c.coordinate, c.value)
    cat = wb["categorisation"]
    col = [c.value for c in cat[1]].index("category") + 1
    for (cell,) in cat.iter_rows(min_row=2, min_col=col, max_col=col):
        assert cell.fill.fgColor.rgb.endswith(charts.LEVEL_COLOURS[cell.value].lstrip("#").upper()), cell.value
    names = [c.value for c in cat["B"][1:]]
    assert "'-Academy Road Infant" in names
    if "evidence" in wb.sheetnames:  # the level of the bullet each check is for, filled as the schools' levels
        ev = wb["evidence"]
        col = [c.value for c in ev[1]].index("level") + 1
        cells = [cell for (cell,) in ev.iter_rows(min_row=2, min_col=col, max_col=col)]
        assert cells and all(c.fill.fgColor.rgb.endswith(charts.LEVEL_COLOURS[c.value].lstrip("#").upper())
                             for c in cells if c.value in charts.LEVEL_COLOURS)


@pytest.mark.slow  # renders the general edition again (the rebuilt fixture)
def test_workbook_is_reproducible(built, rebuilt):
    _, eds = built
    folder, again = rebuilt
    assert folder / "report.xlsx" in again
    assert (folder / "report.xlsx").read_bytes() == (eds["general"][0] / "report.xlsx").read_bytes()


def test_general_one_line_reason_names_restricted_evidence_in_words():
    """The general edition's reason for a mover says in words what rests on confidential evidence: no criterion id,
    no flag code (seen by a new user: "adviser: LM-H8 (detail restricted)")."""
    from school_improvement.rules import load_rule_set

    ids = {c.id for c in load_rule_set("cambs-2025-report-cards").criteria}
    cid = sorted(ids)[0]
    school = {"category": "high", "reasons": "Overriding condition: Substantive leadership is not in place "
              f"(adviser: {cid} (detail restricted); LA intelligence: no_substantive_leadership, new_head (detail restricted))"}
    reason = front_page.one_line_reason(school)
    assert not any(i in reason for i in ids) and "_" not in reason, reason
    assert "adviser (detail restricted)" in reason
    assert "LA intelligence: no substantive leadership, new headteacher (detail restricted)" in \
        front_page.evidence_in_words(school["reasons"])
    head, items = front_page.reason_items(f"Leadership best fits high support: Leaders lack capacity [{cid}] "
                                          f"(adviser: {cid} (detail restricted); adviser: {sorted(ids)[1]} (detail restricted))")
    assert not any(i in items[0][2] for i in ids), items


def test_restricted_reasons_and_bullets_read_in_words_without_criterion_ids():
    """The restricted edition's adviser evidence reads "adviser judgement (<adviser>, visit <date>): met" under the
    Strategy's wording, on the front page, the level tables and the profiles: no criterion id a reader cannot use
    (seen on the demo: "adviser judgement on LM-H8 (Ruth ..."). categorisation.csv and evidence.csv keep the ids."""
    from school_improvement.editions.profiles import _bullets
    from school_improvement.rules import load_rule_set

    ids = sorted(c.id for c in load_rule_set("cambs-2025-report-cards").criteria)
    a, b = ids[0], ids[1]
    reasons = (f"Overriding condition: Substantive leadership is not in place (adviser judgement on {a} (R Adviser, "
               f"visit 2026-01-26): met; no substantive leadership (high) raised by Governor Services on 2026-01-23)\n"
               f"Leadership and management best fits high support: Leaders lack capacity [{a}] (adviser judgement "
               f"on {a} (R Adviser, visit 2026-01-26): met); Governance is weak [{b}] (adviser judgement on {b} "
               f"(R Adviser, visit 2026-01-26): met)")
    school = {"category": "high", "reasons": reasons}
    reason = front_page.one_line_reason(school)
    assert not any(i in reason for i in ids), reason
    assert reason.startswith("Overriding condition: Substantive leadership is not in place (adviser judgement "
                             "(R Adviser, visit 2026-01-26): met")
    bullets = _bullets(school)
    assert bullets[0]["text"].startswith("Overriding condition: Substantive leadership is not in place "
                                         "(adviser judgement (R Adviser, visit 2026-01-26): met;")
    assert bullets[1]["groups"] == [{"evidence": "adviser judgement (R Adviser, visit 2026-01-26): met",
                                     "wordings": ["Leaders lack capacity", "Governance is weak"]}]
    assert not any(i in str(bullets) for i in ids), bullets
    school["reasons"] = reasons.split("\n", 1)[1]
    reason = front_page.one_line_reason(school)
    assert reason.startswith("Leadership and management best fits high support: Leaders lack capacity")
    assert not any(i in reason for i in ids), reason


@pytest.mark.slow  # renders the general edition
def test_front_page_counts_schools_placed_by_default(tmp_path):
    """Schools at the rule set's no-evidence level because nothing could be judged get their own line on the front
    page, apart from those placed there by evidence."""
    from school_improvement.decisions.categorise import NO_EVIDENCE_PLACEMENT

    inputs = make_inputs()
    medium = inputs.categorisation.index[inputs.categorisation["category"] == "medium"]
    for i in medium[:2]:
        inputs.categorisation.loc[i, "reasons"] = ("No criterion could be judged from the evidence available: "
                                                   + NO_EVIDENCE_PLACEMENT.format(level="medium"))
    ctx = report._context(inputs, "general")
    rows = {r["level"]: r for r in ctx["level_rows"]}
    assert rows["medium"]["by_default"] == 2 and rows["high"]["by_default"] == 0 and rows["low"]["by_default"] == 0
    build_edition(inputs, tmp_path, "general")
    front = flat(pdf_pages(tmp_path / "report.pdf")[0])
    # True of schools with evidence judged and none met as well as of those with nothing judged (Surrey trial).
    assert "of which placed by the Strategy's default (no bullet met, until an adviser visit) 2" in front
    assert "no evidence either way" not in front


@pytest.mark.slow  # renders the general edition
def test_urns_and_words_do_not_break_in_narrow_columns(tmp_path):
    """Seen by a new user in the PDF's narrow columns: URNs split across lines and words cut anywhere ("Secondar|y").
    A URN is never split; a word is split only at a syllable, with a hyphen."""
    inputs = make_inputs()
    cat = inputs.categorisation
    cat["phase"] = ["Secondary", "Not applicable", "Primary", "All-through"] * (len(cat) // 4)
    cat["ward"] = "Jesselthorpe Rural"
    cat["school_name"] = [f"Wendleholt Community Primary and Nursery School {i}" for i in range(len(cat))]
    build_edition(inputs, tmp_path, "general")
    lines = [ln.strip() for p in PdfReader(tmp_path / "report.pdf").pages for ln in (p.extract_text() or "").splitlines()]
    text = "\n".join(lines)
    for urn in cat["urn"].astype(str):
        assert f"({urn})" in text and f"URN {urn}" in text, urn
        assert not any(ln.endswith(("(" + urn[:k], "URN " + urn[:k])) or ln.startswith(urn[k:] + ")")
                       for k in range(1, 5) for ln in lines), urn
    for word in ("Secondary", "Jesselthorpe"):
        cut = [ln for ln in lines if any(ln.endswith(word[:k]) for k in range(2, len(word)))]
        assert not cut, cut


def test_html_parser_finds_its_scan_regexes_in_its_cache():
    """WeasyPrint's parser (tinyhtml5) stored each scan's regex under the wrong key and compiled it on every scan;
    the render module's cache answers under the key looked up, with the same regex."""
    import tinyhtml5
    import tinyhtml5.inputstream as stream

    assert render._CharsUntilRegexes  # imported with the report
    tinyhtml5.parse("<p class='a'>x &amp; y</p>" * 3)
    cached = stream.characters_until_regex
    assert (("&", "<", "\u0000"), False) in cached
    assert cached[(("&", "<", "\u0000"), False)].pattern == "[^\\x26\\x3c\\x00]+"


def test_front_page_academy_steps_in_words_and_also_met_bullets():
    """The front page names each step of the route once, in its wording: not the first academy's steps per concern
    (concern ids, and true of that academy alone). A bullet met at another level reads "Also met: ...", not ". Also"."""
    academies = [{"urn": 1, "school_name": "Fen Academy", "trust": "Fen Trust", "next_step": "academy_meeting",
                  "next_step_detail": "The Director meets the CEO. Per concern: AC-9 academy meeting"},
                 {"urn": 2, "school_name": "Marsh Academy", "trust": "", "next_step": "academy_meeting",
                  "next_step_detail": "The Director meets the CEO. Per concern: AC-2 academy meeting"}]
    (step,) = front_page.academies_by_step(academies)
    assert step["detail"] == "The Director meets the CEO" and step["shown"] == ["Fen Academy (Fen Trust)", "Marsh Academy"]
    head, items = front_page.reason_items("Quality best fits low support: Teaching is good [Q-L1] (data). Also met: "
                                          "(medium) Attainment is broadly in line [Q-M3] (KS2 59.0%)")
    assert [w for w, _, _ in items] == ["Teaching is good", "Also met: (medium) Attainment is broadly in line"]


@pytest.mark.slow  # the report's context (charts and all) built seven times
def test_the_front_page_says_what_it_compares_with_what_it_cannot_know_and_what_rests_on_old_data():
    """Surrey trial: 'since last term' compared with a term four years earlier; '0 of them (0%) are good or better'
    from an Ofsted file with none of the LA's schools; letters awaiting approval on 7-year-old results, uncaveated."""
    import dataclasses

    inputs = make_inputs()
    ofsted = {"file": "ofsted.csv", "kind": "ofsted", "academic_year": "2025-26", "rows": 9, "sha256": "ef" * 32}
    inputs = dataclasses.replace(inputs, provenance=pd.concat([inputs.provenance, pd.DataFrame([ofsted])],
                                                              ignore_index=True))
    ctx = report._context(inputs, "general")
    assert ctx["since"] == "since last term" and ctx["no_ofsted"] is None and not ctx["letters_on_old_data"]

    hist = inputs.history.copy()
    hist = hist[hist["term"] != "2024-25-summer"]  # the history skips the term before this one
    ctx = report._context(dataclasses.replace(inputs, history=hist), "general")
    assert ctx["previous_term"] == "2024-25-spring"
    assert ctx["since"] == "since 2024-25-spring, the last term on record (not the term before this one)"

    none_known = inputs.categorisation.assign(good_or_better=pd.array([None] * len(inputs.categorisation), dtype="boolean"))
    ctx = report._context(dataclasses.replace(inputs, categorisation=none_known), "general")
    assert ctx["no_ofsted"] == "because the Ofsted file holds no judgement for any of the LA's schools"
    no_file = inputs.provenance[inputs.provenance["kind"] != "ofsted"]
    assert report._context(dataclasses.replace(inputs, provenance=no_file), "general")["no_ofsted"] == \
        "because no Ofsted file was supplied"

    old = pd.concat([inputs.data_quality, pd.DataFrame([{
        "file": "ks2.csv", "feed_kind": "ks2", "row": None, "column": None, "severity": "warning", "check": "data_age",
        "message": "KS2 results are for 2018-19, 7 years before 2025-26: the evidence is out of date"}])],
        ignore_index=True)
    # The caveat is for letters that cite the out-of-date results (these letters cite none: test_trial_s22x).
    assert not report._context(dataclasses.replace(inputs, data_quality=old), "general")["letters_on_old_data"]
    on_ks2 = inputs.letters.assign(evidence=[*inputs.letters["evidence"][:-1], "KS2 RWM expected standard 52.0%"])
    inputs = dataclasses.replace(inputs, letters=on_ks2)
    ctx = report._context(dataclasses.replace(inputs, data_quality=old), "general")
    assert ctx["letters_on_old_data"]
    unknown = pd.concat([inputs.data_quality, pd.DataFrame([{
        "file": "gias.csv", "feed_kind": "gias", "row": None, "column": None, "severity": "warning", "check": "data_age",
        "message": "the academic year of this GIAS file is unknown (not in the file, its name or its data)"}])],
        ignore_index=True)  # an unknown year is not known to be old: no caveat over the letters
    assert not report._context(dataclasses.replace(inputs, data_quality=unknown), "general")["letters_on_old_data"]
    html = render._ENV.get_template("report.html.j2").render(**ctx)
    assert "Before approving:" in html
    assert "Before approving:" not in render._ENV.get_template("report.html.j2").render(
        **report._context(inputs, "general"))


def test_a_progress_verdict_is_never_printed_under_earlier_years_columns():
    """Surrey trial: the latest year's 'significantly below national' sat in a cell spanning the two earlier years'
    columns, so it read as 2016-17's. The verdict goes with the row's label, the score in the latest year's column."""
    import re

    template = (TEMPLATES_DIR / "report.html.j2").read_text(encoding="utf-8")
    row = next(ln for ln in template.splitlines() if "r.label }} (confidence interval)" in ln)
    cells = re.findall(r"<(th|td)[^>]*>(.*?)</\1>", row)
    assert "r.verdict" in cells[0][1] and all("r.verdict" not in c for _, c in cells[1:])
    assert "colspan" not in row


def test_front_page_notes_come_most_important_first():
    from school_improvement.quality.notes import front_page_notes

    frame = pd.DataFrame([
        {"file": "t.yaml", "check": "term_calendar", "severity": "warning", "message": "the term is not in the calendar"},
        {"file": "ks2.csv", "check": "data_age", "severity": "info", "message": "KS2 results are the newest published"},
        {"file": "abs.csv", "check": "data_age", "severity": "warning", "message": "absence figures are out of date"},
        {"file": "(none)", "check": "feed_missing", "severity": "warning", "message": "no adviser judgements"},
        {"file": "x.csv", "check": "ragged_rows", "severity": "warning", "message": "not a note"},
    ])
    # The results' ages are one note (warnings first), so the notes after them still fit the box.
    assert front_page_notes(frame) == ["Absence figures are out of date. KS2 results are the newest published.",
                                       "No adviser judgements.", "The term is not in the calendar."]


def test_the_las_own_files_not_supplied_are_one_sentence_on_the_front_page():
    from school_improvement.quality.feed_set import EXPECTED_FEEDS, missing_file
    from school_improvement.quality.notes import front_page_notes

    kinds = ["adviser_judgements", "la_intelligence", "letters_log", "moderation"]
    frame = pd.DataFrame([{"file": "ks2.csv", "feed_kind": "ks2", "check": "data_age", "severity": "info",
                           "message": "KS2 results are the newest published"},
                          {"file": missing_file("ofsted"), "feed_kind": "ofsted", "check": "feed_missing",
                           "severity": "warning", "message": EXPECTED_FEEDS["ofsted"]}]
                         + [{"file": missing_file(k), "feed_kind": k, "check": "feed_missing", "severity": "warning",
                             "message": EXPECTED_FEEDS[k]} for k in kinds])
    notes = front_page_notes(frame)
    assert len(notes) == 3 and notes[1].startswith("No Ofsted file was supplied")
    assert notes[2].startswith("Not supplied, of the LA's own files: adviser judgements (the categorisation rests on")
    assert "letters log (letters already issued are not known, so no escalation is flagged)" in notes[2]
    # Two are said one by one.
    assert len(front_page_notes(frame.iloc[:4])) == 4


def test_an_all_through_schools_profile_shows_both_key_stages():
    import json

    from school_improvement.editions.profiles import _figures

    ind = {"ks": "KS2", "att_label": "KS2 RWM", "att_year": "2018-19", "att_value": 65.0, "att_national": 65.0,
           "att_prev1": 58.0, "att_prev2": 67.0, "att_national_prev1": 64.0,
           "att_other": json.dumps([{"ks": "KS4", "label": "KS4 Attainment 8", "year": "2018-19", "value": 51.6,
                                     "national": 46.5, "prev1": None, "prev2": None},
                                    {"ks": "KS4", "label": "KS4 Attainment 8", "year": "2017-18", "value": 50.0,
                                     "national": 46.0, "prev1": None, "prev2": None}]),
           "progress": json.dumps([["KS2 maths progress", -1.3, -2.9, 0.3], ["Progress 8", 0.43, 0.17, 0.69]])}
    f = _figures(ind)
    same, other = f["attainment_more"]
    assert same == {"label": "KS4 Attainment 8", "values": ["–", "–", "51.6"], "national": "46.5"}
    assert other["label"] == "KS4 Attainment 8 (2017-18)" and other["values"][-1] == "50.0"
    assert [r["label"] for r in f["progress"]] == ["KS2 maths progress", "Progress 8"]
    assert f["progress"][1]["verdict"] == "significantly above national"


def test_pdf_streams_are_deflated_at_zlib_default_level():
    """pydyf would deflate each content stream at level 9, a fifth of a report's write for 4% smaller files:
    the editions deflate at zlib's default level (render imported, as every edition is)."""
    import zlib

    import pydyf

    data = b"".join(b"BT /F1 9 Tf 10 %d Td (Level of support %d) Tj ET\n" % (i, i % 7) for i in range(4000))
    stream = pydyf.Stream([data], compress=True)
    body = stream.data.split(b"stream\n", 1)[1].rsplit(b"\nendstream", 1)[0]
    assert zlib.decompress(body) == data
    assert body == zlib.compress(data, render.PDF_ZLIB_LEVEL)
    assert render.PDF_ZLIB_LEVEL == 6


@pytest.mark.slow  # lays the general edition out twice, whole
def test_a_front_page_overfilled_by_a_busy_term_is_laid_out_again_naming_less(tmp_path, monkeypatch):
    """Every kind of front-page item at once, and long: movers beyond the usual room, long notes, schools that left,
    joined and are proposed to close, academies at several steps. The front page still ends on page 1 with the
    academies of concern, and what it no longer names is pointed to. The rooms it overfills are found on the front
    page alone; the edition is laid out whole once, in the room that fits."""
    import dataclasses

    base = make_inputs()  # 12 schools, each made a mover below: more movers than any room names
    cat = base.categorisation.copy()
    long = "Longwater-under-Edge Church of England Voluntary Controlled Primary School and Nursery"
    cat["school_name"] = [f"{long} {i:02d}" for i in range(len(cat))]
    cat["previous_category"] = cat["category"].map({"high": "low", "medium": "high", "low": "medium"})
    cat["reasons"] = [f"{'Leadership and management' if i % 2 else 'Quality of education'} best fits {c} support: "
                      "Leaders have not secured improvement in the quality of teaching across the school since the "
                      f"last inspection [LM-H{i}] (KS2 reading, writing and maths at expected standard 41.0% vs national "
                      "61.0% (2024-25); previous year 43.0%)" for i, c in enumerate(cat["category"])]
    dq = [{"file": f"feed_{i}.csv", "feed_kind": "ks2", "row": i, "column": "c", "severity": "warning",
           "check": "range", "message": "a suppressed value"} for i in range(9)]
    for i in range(12):
        dq.append({"file": "gias.csv", "feed_kind": "gias", "row": None, "column": "URN", "severity": "info",
                   "check": "school_left", "message": f"{long} L{i} (URN {300000 + i}), medium support in 2025-26-summer, "
                   f"is not categorised in {TERM}: {'converted to an academy' if i % 2 else 'closed'} (GIAS)"})
        dq.append({"file": "gias.csv", "feed_kind": "gias", "row": None, "column": "URN", "severity": "info",
                   "check": "school_joined", "message": f"{long} J{i} (URN {310000 + i}) is categorised for the first "
                   "time since 2025-26-summer: opened 01 September 2025 (new provision)"})
        dq.append({"file": "gias.csv", "feed_kind": "gias", "row": i, "column": "EstablishmentStatus (name)",
                   "severity": "warning", "check": "gias_proposed_to_close",
                   "message": f"{long} P{i} (URN {320000 + i}) is listed as 'Open, but proposed to close'"})
    notes = [f"Note {i}: the KS2 results this term rests on are from 2023-24, a year older than the rule set expects, "
             "because the 2024-25 file was not in the landing folder; every letter drafted on them says so, and the "
             "data checks that need a newer year are not judged." for i in range(12)]
    academies = pd.DataFrame([{"urn": 200000 + i, "school_name": f"{long} Academy {i}", "trust": "Fenland Learning Trust",
                               "concerns": "A2", "evidence": "high persistent absence",
                               "next_step": f"step_{i % 4}", "next_step_detail": f"Step {i % 4}: the Director of "
                               "Education writes to the trust's chief executive and the Regional Director, asking "
                               "for a meeting within 20 school days", "escalate_to": "RD",
                               "flagged_on": dt.date(2025, 11, 3), "term": TERM} for i in range(16)])
    busy = dataclasses.replace(base, categorisation=cat, data_quality=pd.DataFrame(dq), data_notes=notes,
                               academy_concerns=academies)
    laid_out, layout = [], report._layout  # front_only of each layout, in order

    def recorded(name, context):
        laid_out.append(context["front_only"])
        return layout(name, context)
    monkeypatch.setattr(report, "_layout", recorded)
    build_edition(busy, tmp_path / "busy", "general")
    monkeypatch.undo()
    assert laid_out == [True, True, True, False]  # rooms 1 and 2 overfilled alone; the third fits, laid out whole
    pages = pdf_pages(tmp_path / "busy" / "report.pdf")
    front = pages[0]
    assert "Academies of concern (16)" in front and pages[1].startswith("Contents"), front[-300:]
    tight = front_page.FRONT_ROOMS[2]  # the busy term fits the third room (the fourth also folds the route)
    # The second room, skipped on the front page alone, overfills the edition laid out whole too.
    context = report._context(general_view(busy), "general")
    context.update(front_page.front_keys(general_view(busy), context["movers"], context["academy_concerns"],
                                         front_page.FRONT_ROOMS[1]))
    assert not front_page.fits_one_page(render._layout("report.html.j2", context)[0])
    assert tight.movers == tight.named == tight.academies == 0  # the last room names nobody: counts and pointers
    assert "They are listed, with why, on page" in front
    assert "12 schools categorised in" in front and "6 closed; 6 converted to an academy. Each is in Appendix A" in front
    assert "check against your records): 12 schools, listed in Appendix A" in front
    assert "12 schools are categorised for the first time, listed in Appendix A" in front
    assert front.count("Listed on page") == 4  # each step of the route, its academies in the table
    assert f"{12 - tight.notes} more notes about the data: Appendix A lists every note." in front
    assert long not in front
    for note in notes:  # every note is still in the edition
        assert flat(note) in " ".join(pages[2:]), note


def test_schools_moved_only_to_the_default_level_are_counted_apart_from_those_moved_on_evidence():
    """Results too old to judge can send many schools to the Strategy's default level (no bullet met): the front page
    must not say they "now need more support" as if their evidence showed it (found on real Surrey 2022-23)."""
    from school_improvement.decisions.categorise import NO_EVIDENCE_PLACEMENT

    inputs = make_inputs()
    cat = inputs.categorisation.copy()
    cat["previous_category"] = cat["category"]
    cat.loc[0, ["previous_category", "category"]] = ["low", "high"]  # moved on evidence
    for i in (1, 2):  # moved only to the default level
        cat.loc[i, ["previous_category", "category"]] = ["low", "medium"]
        cat.loc[i, "reasons"] = "Quality of education: " + NO_EVIDENCE_PLACEMENT.format(level="medium")
    context = report._context(dataclasses.replace(inputs, categorisation=cat), "general")
    assert (context["n_more_support"], context["n_less_support"], context["n_moved_by_default"]) == (1, 0, 2)
    assert [m["by_default"] for m in context["movers"]] == [False, True, True]  # moved on evidence first
    assert [m["urn"] for m in context["front_movers"]] == [cat.loc[0, "urn"]]  # the sentence counts the others


def test_front_page_counts_agree_in_number_and_a_profile_without_an_adviser_says_so():
    """Trial: "1 now need more support", and a profile reading "adviser ·" with nothing between for a school that has
    no adviser named."""
    import html as html_lib

    from school_improvement.editions.render import _ENV

    inputs = make_inputs()
    cat = inputs.categorisation.copy()
    cat["previous_category"] = cat["category"]
    cat.loc[0, ["previous_category", "category"]] = ["low", "high"]
    cat.loc[1, "adviser"] = ""
    context = report._context(dataclasses.replace(inputs, categorisation=cat), "restricted")
    text = " ".join(html_lib.unescape(_ENV.get_template("report.html.j2").render(**context)).split())
    assert "1 now needs more support</strong>, 0 need less" in text
    assert "adviser none named ·" in text and "adviser ·" not in text
