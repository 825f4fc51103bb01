"""The LA's own files as people fill them in, in Excel: workbooks written as Excel saves them (date cells, numbers,
TRUE/FALSE), read by the real reader, then judged for a term. Fictional schools (URNs 99xxxx) and people."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from factories import gias, term_data
from school_improvement.errors import FeedError
from school_improvement.evidence.assess import assess
from school_improvement.ingest.feeds import read_feed
from school_improvement.quality.notes import front_page_notes
from school_improvement.rules import rule_set_for
from school_improvement.terms import Term

URN = 990411
D = dt.datetime
HEADERS = {
    "letters_log": ["urn", "letter", "concern", "issued_on", "issued_by", "term"],
    "moderation": ["urn", "term", "final_category", "reason", "approved_by", "approved_on"],
    "adviser_judgements": ["urn", "criterion_id", "area", "met", "adviser", "visit_date", "note"],
    "la_intelligence": ["urn", "flag", "severity", "detail", "raised_by_team", "raised_on"],
    "laig_notes": ["urn", "meeting_date", "key_points", "notes"],
    "ward_members": ["ward", "member_name", "party", "email"],
}


def workbook(path: Path, kind: str, rows: list[list], header: list[str] | None = None) -> Path:
    """A workbook as Excel saves one: bold header, dates as date cells shown dd/mm/yyyy, the header frozen."""
    import openpyxl
    from openpyxl.styles import Font

    header = header or HEADERS[kind]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = kind
    ws.append(header)
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in rows:
        ws.append(r)
    for row in ws.iter_rows(min_row=2):
        for c in row:
            if isinstance(c.value, dt.datetime):
                c.number_format = "dd/mm/yyyy"
    ws.freeze_panes = "A2"
    wb.save(path)
    return path


def run_term(term: str, tmp_path: Path, **files):
    """The term's evidence from generated workbooks (kind -> rows) beside a one-school GIAS."""
    feeds = [read_feed(workbook(tmp_path / f"{kind}.xlsx", kind, rows)) for kind, rows in files.items()]
    data = term_data(term, gias=[gias(URN)], **{f.kind: f for f in feeds})
    return assess(data, rule_set_for(Term.parse(term).reference_date, la_code="999"))


def scl(term: str, issued: dt.datetime) -> list:
    return [URN, "significant_concerns_letter", "SCL-4 leadership capacity", issued, "Head of School Improvement", term]


def test_a_letter_logged_under_a_term_far_from_its_date_stops_the_run_naming_file_row_and_column(tmp_path):
    # Typed 2026-27 for 2025-26: as written, the letter of 20 November 2025 would be from a later term, not the
    # earlier letter a warning notice follows, and the run would draft a second significant-concerns letter.
    with pytest.raises(FeedError) as err:
        run_term("2025-26-spring", tmp_path, letters_log=[scl("2025-26-autumn", D(2025, 10, 2)),
                                                          scl("2026-27-autumn", D(2025, 11, 20))])
    (p,) = err.value.problems
    assert (p.file, p.row, p.column, p.severity) == ("letters_log.xlsx", 3, "term", "critical")
    assert "2026-27-autumn" in p.message and "20 November 2025" in p.message


def test_a_moderation_decision_one_term_from_its_date_is_kept_as_written_and_said_on_the_front_page(tmp_path):
    # The spring panel's decision typed as autumn: one term apart (a holiday could explain it), so the term column
    # decides, and the front page says so with the file and row.
    ev = run_term("2025-26-spring", tmp_path, moderation=[
        [URN, "2025-26-autumn", "high", "Fictional: head absent, no cover", "Moderation panel", D(2026, 1, 20)]])
    (p,) = [p for p in ev.problems if p.check == "term_date"]
    assert (p.file, p.row, p.column, p.severity) == ("moderation.xlsx", 2, "term", "warning")
    import pandas as pd

    frame = pd.DataFrame([{"file": p.file, "feed_kind": "moderation", "row": p.row, "column": p.column,
                           "severity": p.severity, "check": p.check, "message": p.message}])
    (note,) = front_page_notes(frame)
    assert note.startswith("moderation.xlsx: row 2: ") and "2025-26-autumn" in note and "20 January 2026" in note


def test_rows_whose_term_and_date_agree_raise_nothing(tmp_path):
    ev = run_term("2025-26-spring", tmp_path, letters_log=[scl("2025-26-autumn", D(2025, 10, 2))], moderation=[
        [URN, "2025-26-spring", "medium", "Fictional: new head", "Moderation panel", D(2026, 1, 20)]])
    assert not [p for p in ev.problems if p.check == "term_date"]


def test_an_adviser_judgement_dated_after_the_term_is_set_aside_and_said_with_its_rows(tmp_path):
    # A summer visit typed with next year's date: the run cannot use it for 2025-26-summer, and used to drop it
    # without a word. Now it is set aside with its file, rows and dates, and the front page says so.
    from school_improvement.quality.data_age import known_at_term

    term = Term.parse("2025-26-summer")
    rows = [[URN, "LM-H2", "leadership_management", True, "Fictional Adviser", D(2026, 5, 12), "Fictional note"],
            [URN, "QE-H5", "quality_of_education", True, "Fictional Adviser", D(2027, 5, 12), "Fictional note"],
            [URN, "BA-H4", "behaviour_attitudes", True, "Fictional Adviser", D(2027, 5, 12), "Fictional note"]]
    feeds = [read_feed(workbook(tmp_path / "adviser visits (summer).xlsx", "adviser_judgements", rows))]
    known = rule_set_for(term.reference_date, la_code="999").results_known
    kept, said = known_at_term(feeds, term, known, {URN})
    assert list(kept[0].schools["criterion_id"]) == ["LM-H2"]
    (p,) = said
    assert (p.file, p.row, p.column, p.check, p.severity) == (
        "adviser visits (summer).xlsx", 3, "visit_date", "after_term", "warning")
    assert "2 adviser judgements" in p.message and "rows 3, 4" in p.message and "12 May 2027" in p.message
    import pandas as pd

    (note,) = front_page_notes(pd.DataFrame([{"file": p.file, "feed_kind": "adviser_judgements", "row": p.row,
                                              "column": p.column, "severity": p.severity, "check": p.check,
                                              "message": p.message}]))
    assert note.startswith("adviser visits (summer).xlsx: 2 adviser judgements dated after")


@pytest.mark.parametrize("kind, row", [
    ("la_intelligence", [URN, "finance", "medium", "Fictional detail", "Schools Finance", D(2026, 9, 15)]),
    ("laig_notes", [URN, D(2026, 9, 15), "Fictional key points", "Fictional notes"]),
])
def test_the_las_other_dated_rows_after_the_term_are_set_aside_and_said(tmp_path, kind, row):
    from school_improvement.quality.data_age import known_at_term

    term = Term.parse("2025-26-summer")
    feeds = [read_feed(workbook(tmp_path / f"{kind}.xlsx", kind, [row]))]
    kept, said = known_at_term(feeds, term, rule_set_for(term.reference_date, la_code="999").results_known, {URN})
    assert kept[0].schools.empty
    (p,) = said
    assert (p.file, p.row, p.check) == (f"{kind}.xlsx", 2, "after_term") and "15 September 2026" in p.message


def test_a_ward_spelt_otherwise_than_in_gias_is_said_with_the_gias_spelling(tmp_path):
    # Democratic Services write "and" where GIAS writes "&": the high-support school's member alert would name no
    # member, and nothing said so. A ward with none of the LA's schools in it is not a mistake.
    feeds = [read_feed(workbook(tmp_path / "ward_members.xlsx", "ward_members", [
        ["Northgate and Rowtown", "Cllr Fictional One", "Independent", "one@example.org"],
        ["Northgate & Rowtown", "Cllr Fictional Two", "Independent", "two@example.org"],
        ["Eastfield Moor", "Cllr Fictional Three", "Independent", "three@example.org"],
        ["Hill Top", "Cllr Fictional Four", "Independent", "four@example.org"]]))]
    data = term_data("2025-26-spring", gias=[gias(URN, ward="Northgate & Rowtown"), gias(URN + 1, ward="Eastfield")],
                     ward_members=feeds[0])
    ev = assess(data, rule_set_for(Term.parse("2025-26-spring").reference_date, la_code="999"))
    said = [p for p in ev.problems if p.check == "ward_spelling"]
    assert [(p.file, p.row, p.column) for p in said] == [("ward_members.xlsx", 2, "ward")]
    assert "'Northgate & Rowtown'" in said[0].message and "Cllr Fictional One" in said[0].message


def test_a_workbook_left_open_in_excel_is_said_on_the_front_page(tmp_path, monkeypatch):
    # Excel's owner file beside an open workbook: "~$" and the name with its first two letters replaced (long names).
    # The run reads the last saved copy, so what the adviser is still typing is not in the edition: said, by name.
    import pandas as pd

    from school_improvement import pipeline

    landing = tmp_path / "landing"
    landing.mkdir()
    workbook(landing / "adviser_judgements.xlsx", "adviser_judgements", [
        [URN, "LM-M2", "leadership_management", True, "Fictional Adviser", D(2025, 10, 8), "Fictional note"]])
    (landing / "~$viser_judgements.xlsx").write_bytes(b"\x10Fictional Adviser" + b"\x20" * 37 + b"\x00" * 110)
    cfg = pipeline.RunConfig(la_code="999", term="2025-26-autumn", landing=str(landing), work_dir=str(tmp_path / "w"))
    pipeline.extract(cfg)
    said = [p for p in pipeline._load_feeds(cfg)["read_problems"] if p.check == "file_open"]
    assert [(p.file, p.severity) for p in said] == [("adviser_judgements.xlsx", "warning")]
    frame = pd.DataFrame([{"file": p.file, "feed_kind": "", "row": p.row, "column": p.column, "severity": p.severity,
                           "check": p.check, "message": p.message} for p in said])
    (note,) = front_page_notes(frame)
    assert note.startswith("adviser_judgements.xlsx was open in Excel") and "~$viser_judgements.xlsx" in note

    (landing / "~$viser_judgements.xlsx").unlink()
    (landing / ".~lock.adviser_judgements.xlsx#").write_text(",Fictional Adviser,PC,26.11.2026 10:00,file:///C:/")
    pipeline.extract(cfg)
    said = [p for p in pipeline._load_feeds(cfg)["read_problems"] if p.check == "file_open"]
    assert [p.file for p in said] == ["adviser_judgements.xlsx"] and ".~lock.adviser_judgements.xlsx#" in said[0].message


def test_judgements_and_decisions_about_a_school_not_categorised_are_said_not_dropped(tmp_path):
    # An adviser's visit to an academy and a panel's decision on it: only maintained schools are categorised, so the
    # rows are not used, and the run says which rows and why.
    academy = URN + 7
    feeds = [read_feed(workbook(tmp_path / "adviser_judgements.xlsx", "adviser_judgements", [
        [URN, "LM-M2", "leadership_management", True, "Fictional Adviser", D(2025, 10, 8), "Fictional note"],
        [academy, "LM-H2", "leadership_management", True, "Fictional Adviser", D(2025, 10, 9), "Fictional note"],
        [academy, "QE-H5", "quality_of_education", True, "Fictional Adviser", D(2025, 10, 9), "Fictional note"]])),
        read_feed(workbook(tmp_path / "moderation.xlsx", "moderation", [
            [academy, "2025-26-autumn", "high", "Fictional reason", "Moderation panel", D(2025, 10, 20)],
            [academy, "2024-25-summer", "high", "Fictional reason", "Moderation panel", D(2025, 5, 20)]]))]
    data = term_data("2025-26-autumn", gias=[gias(URN), gias(academy, type="Academy converter", type_group="Academies",
                                                             is_academy=True, is_la_maintained=False)],
                     **{f.kind: f for f in feeds})
    ev = assess(data, rule_set_for(Term.parse("2025-26-autumn").reference_date, la_code="999"))
    said = sorted((p.file, p.row, p.column, p.message.split(" (")[0]) for p in ev.problems
                  if p.check == "not_categorised")
    assert said == [("adviser_judgements.xlsx", 3, "urn", f"2 adviser judgements for URN {academy}"),
                    ("moderation.xlsx", 2, "urn", f"1 moderation decision for URN {academy}")]
    assert all("an academy" in p.message for p in ev.problems if p.check == "not_categorised")


def test_an_excel_date_shown_as_a_number_is_refused_saying_which_date_it_is(tmp_path):
    path = workbook(tmp_path / "adviser_judgements.xlsx", "adviser_judgements", [
        [URN, "LM-M2", "leadership_management", True, "Fictional Adviser", 45938, "Fictional note"]])
    with pytest.raises(FeedError) as err:
        read_feed(path)
    (p,) = err.value.problems
    assert (p.file, p.row, p.column) == ("adviser_judgements.xlsx", 2, "visit_date")
    assert "45938 is 8 October 2025" in p.message and "format the column as a date" in p.message


def test_a_title_typed_above_the_header_is_refused_naming_the_header_row(tmp_path):
    import openpyxl

    path = tmp_path / "adviser_judgements.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Adviser visits - autumn 2025 (Fictional LA)"])
    ws.append([])
    ws.append(HEADERS["adviser_judgements"])
    ws.append([URN, "LM-M2", "leadership_management", True, "Fictional Adviser", D(2025, 10, 8), "Fictional note"])
    wb.save(path)
    with pytest.raises(FeedError) as err:
        read_feed(path)
    (p,) = err.value.problems
    assert (p.file, p.row, p.check) == ("adviser_judgements.xlsx", 3, "header_row")
    assert "adviser_judgements file is on row 3" in p.message and "Adviser visits - autumn 2025" in p.message


def test_merged_cells_in_a_column_the_run_reads_are_refused_naming_the_range(tmp_path):
    # An adviser merges a school's URN cell down over its rows: Excel saves the URN in the first cell only, and the
    # run used to report "URN is missing" on every other row without saying why.
    path = workbook(tmp_path / "adviser_judgements.xlsx", "adviser_judgements", [
        [URN, "LM-M2", "leadership_management", True, "Fictional Adviser", D(2025, 10, 8), "Fictional note"],
        [URN, "QE-M4", "quality_of_education", True, "Fictional Adviser", D(2025, 10, 8), "Fictional note"],
        [URN, "BA-M2", "behaviour_attitudes", False, "Fictional Adviser", D(2025, 10, 8), "Fictional note"]],
        header=HEADERS["adviser_judgements"] + ["comments"])
    import openpyxl

    wb = openpyxl.load_workbook(path)
    wb.active.merge_cells("A2:A4")
    wb.active.merge_cells("H2:H4")  # a column the run does not read: harmless
    wb.save(path)
    with pytest.raises(FeedError) as err:
        read_feed(path)
    (p,) = err.value.problems
    assert (p.file, p.row, p.column, p.check) == ("adviser_judgements.xlsx", 2, "urn", "merged_cells")
    assert "A2:A4 are merged" in p.message


def test_merged_cells_only_where_the_run_does_not_read_are_harmless(tmp_path):
    path = workbook(tmp_path / "adviser_judgements.xlsx", "adviser_judgements", [
        [URN, "LM-M2", "leadership_management", True, "Fictional Adviser", D(2025, 10, 8), "Fictional note", "x"],
        [URN, "QE-M4", "quality_of_education", True, "Fictional Adviser", D(2025, 10, 8), "Fictional note", ""]],
        header=HEADERS["adviser_judgements"] + ["comments"])
    import openpyxl

    wb = openpyxl.load_workbook(path)
    wb.active.merge_cells("H2:H3")
    wb.save(path)
    assert list(read_feed(path).schools["criterion_id"]) == ["LM-M2", "QE-M4"]


@pytest.mark.slow  # the LA's files read and refused whole (over test-fast's CPU budget)
def test_a_urn_of_another_las_school_is_refused_saying_so(tmp_path, shared_dfe):
    # The real GIAS extract holds Surrey's (936) and Hampshire's (850) schools: a Hampshire URN typed in Surrey's
    # adviser file is in the extract, so "not in the GIAS extract" sent the officer looking in the wrong place.
    from school_improvement.quality.suites import validate

    gias_feed = read_feed(shared_dfe / "samples" / "gias_850_936_extract_2022-04-20.csv")
    hants = gias_feed.schools[(gias_feed.schools["la_code"] == "850") & gias_feed.schools["is_open"]]
    other = int(hants["urn"].iloc[0])
    ours = int(gias_feed.schools.loc[gias_feed.schools["la_code"] == "936", "urn"].iloc[0])
    feeds = [gias_feed, read_feed(workbook(tmp_path / "adviser_judgements.xlsx", "adviser_judgements", [
        [ours, "LM-L2", "leadership_management", True, "Fictional Adviser", D(2022, 3, 9), "Fictional note"],
        [other, "LM-L2", "leadership_management", True, "Fictional Adviser", D(2022, 3, 9), "Fictional note"]]))]
    report = validate(feeds, la_code="936")
    (p,) = [p for p in report.problems if p.check == "known_to_gias"]
    assert (p.file, p.row, p.column, p.severity) == ("adviser_judgements.xlsx", 3, "urn", "critical")
    assert p.message == (f"{other}: URN is not one of this LA's schools in the GIAS establishment extract "
                         "(mistyped, or another LA's)")


def test_a_macro_enabled_workbook_is_read_and_an_old_excel_file_stops_the_run(tmp_path):
    # Saved as .xlsm (a template with a button) or as Excel 97-2003 .xls: both were passed over without a word, and
    # the front page said no adviser judgements were supplied while the schools' levels moved without them.
    from school_improvement import pipeline
    from school_improvement.errors import ValidationFailed

    landing = tmp_path / "landing"
    landing.mkdir()
    workbook(landing / "adviser_judgements.xlsm", "adviser_judgements", [
        [URN, "LM-M2", "leadership_management", True, "Fictional Adviser", D(2025, 10, 8), "Fictional note"]])
    cfg = pipeline.RunConfig(la_code="999", term="2025-26-autumn", landing=str(landing), work_dir=str(tmp_path / "w"))
    pipeline.extract(cfg)
    feeds = pipeline._load_feeds(cfg)["feeds"]
    assert [(f.source, f.kind, len(f.schools)) for f in feeds] == [("adviser_judgements.xlsm", "adviser_judgements", 1)]

    (landing / "la_intelligence.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    pipeline.extract(cfg)
    (p,) = [p for p in pipeline._load_feeds(cfg)["read_problems"] if p.file == "la_intelligence.xls"]
    assert p.severity == "critical" and "Excel 97-2003" in p.message and "save it as 'Excel Workbook (.xlsx)'" in p.message
    with pytest.raises(ValidationFailed) as err:
        pipeline.validate(cfg)
    assert "la_intelligence.xls" in {p.file for p in err.value.problems}



def test_a_hidden_sheet_of_drop_down_lists_is_named_as_hidden(tmp_path):
    # A template with drop-downs keeps their lists on another sheet, often hidden: the run keeps to one sheet of data
    # (docs/LA_FEEDS.md), and the error now says the other sheet is hidden, or the officer cannot find it.
    import openpyxl

    path = workbook(tmp_path / "adviser_judgements.xlsx", "adviser_judgements", [
        [URN, "LM-M2", "leadership_management", True, "Fictional Adviser", D(2025, 10, 8), "Fictional note"]])
    wb = openpyxl.load_workbook(path)
    lists = wb.create_sheet("Lists")
    for r in (["criterion_id", "area"], ["LM-L1", "leadership_management"], ["QE-L1", "quality_of_education"]):
        lists.append(r)
    lists.sheet_state = "hidden"
    wb.save(path)
    with pytest.raises(FeedError) as err:
        read_feed(path)
    (p,) = err.value.problems
    assert (p.file, p.check) == ("adviser_judgements.xlsx", "sheets")
    assert "more than one sheet holds data ('adviser_judgements', 'Lists')" in p.message
    assert "'Lists' is hidden: right-click a sheet tab, Unhide" in p.message


@pytest.mark.parametrize("kind, row, column", [
    ("letters_log", [URN, "significant_concerns_letter", "SCL-4", None, "Head of School Improvement", "2025-26-autumn"],
     "issued_on"),
    ("la_intelligence", [URN, "safeguarding", "high", "Fictional detail", "Education Safeguarding", None], "raised_on"),
])
def test_a_letter_or_flag_with_no_date_stops_the_run_naming_the_cell(tmp_path, kind, row, column):
    # Undated, a logged letter was not an earlier letter (the run drafted it again instead of the warning notice)
    # and a flag was outside every evidence window: both were passed over without a word.
    with pytest.raises(FeedError) as err:
        read_feed(workbook(tmp_path / f"{kind}.xlsx", kind, [row]))
    (p,) = err.value.problems
    assert (p.file, p.row, p.column, p.check) == (f"{kind}.xlsx", 2, column, "not_blank")


@pytest.mark.parametrize("typed, read", [
    ("3 October 2025", dt.date(2025, 10, 3)), ("03-Oct-25", dt.date(2025, 10, 3)), ("3rd Oct 2025", dt.date(2025, 10, 3)),
    ("3/10/25", dt.date(2025, 10, 3)), ("2025-10-03 ", dt.date(2025, 10, 3)), ("03/10/2025", dt.date(2025, 10, 3)),
])
def test_dates_typed_as_text_that_cannot_be_misread_are_read(tmp_path, typed, read):
    feed = read_feed(workbook(tmp_path / "adviser_judgements.xlsx", "adviser_judgements", [
        [URN, "LM-M2", "leadership_management", True, "Fictional Adviser", typed, "Fictional note"]]))
    assert feed.schools["visit_date"].tolist() == [read]


@pytest.mark.parametrize("typed, says", [
    ("10/13/2025", "month/day order (US): dates are read day first, so write 13/10/2025"),
    ("3rd Oct", "it has no year"),
])
def test_dates_that_cannot_be_read_say_why(tmp_path, typed, says):
    with pytest.raises(FeedError) as err:
        read_feed(workbook(tmp_path / "adviser_judgements.xlsx", "adviser_judgements", [
            [URN, "LM-M2", "leadership_management", True, "Fictional Adviser", typed, "Fictional note"]]))
    (p,) = err.value.problems
    assert (p.row, p.column, p.check) == (2, "visit_date", "date") and says in p.message


@pytest.mark.parametrize("typed, met", [("Met", True), ("Not met", False), ("not  met ", False), ("YES", True),
                                        (True, True), (False, False)])
def test_met_written_in_the_columns_own_words_is_read(tmp_path, typed, met):
    feed = read_feed(workbook(tmp_path / "adviser_judgements.xlsx", "adviser_judgements", [
        [URN, "LM-M2", "leadership_management", typed, "Fictional Adviser", D(2025, 10, 8), "Fictional note"]]))
    assert feed.schools["met"].tolist() == [met]


@pytest.mark.parametrize("typed", ["Partly", "N/A"])
def test_met_neither_yes_nor_no_is_refused_saying_what_to_do(tmp_path, typed):
    with pytest.raises(FeedError) as err:
        read_feed(workbook(tmp_path / "adviser_judgements.xlsx", "adviser_judgements", [
            [URN, "LM-M2", "leadership_management", typed, "Fictional Adviser", D(2025, 10, 8), "Fictional note"]]))
    (p,) = err.value.problems
    assert (p.row, p.column) == (2, "met") and "decide met or not met, or leave its row out" in p.message


def test_feed_files_in_a_folder_inside_the_landing_folder_are_said_not_read(tmp_path):
    # "LA files" made to keep the landing folder tidy: its workbooks were passed over and the front page said the
    # LA's files were not supplied. An LA-code folder (the <landing>/<la>/<term>/ layout) is not such a folder.
    import pandas as pd

    from school_improvement import pipeline

    landing = tmp_path / "landing"
    (landing / "LA files").mkdir(parents=True)
    (landing / "999").mkdir()
    workbook(landing / "moderation.xlsx", "moderation", [
        [URN, "2025-26-autumn", "medium", "Fictional reason", "Moderation panel", D(2025, 10, 20)]])
    workbook(landing / "LA files" / "adviser_judgements.xlsx", "adviser_judgements", [
        [URN, "LM-M2", "leadership_management", True, "Fictional Adviser", D(2025, 10, 8), "Fictional note"]])
    workbook(landing / "999" / "ward_members.xlsx", "ward_members", [["Northgate", "Cllr Fictional", "Independent", ""]])
    cfg = pipeline.RunConfig(la_code="998", term="2025-26-autumn", landing=str(landing), work_dir=str(tmp_path / "w"))
    pipeline.extract(cfg)
    said = [p for p in pipeline._load_feeds(cfg)["read_problems"] if p.check == "folder_not_read"]
    assert [(p.file, p.severity) for p in said] == [("LA files", "warning")]
    (note,) = front_page_notes(pd.DataFrame([{"file": p.file, "feed_kind": "", "row": p.row, "column": p.column,
                                              "severity": p.severity, "check": p.check, "message": p.message}
                                             for p in said]))
    assert "'LA files'" in note and "adviser_judgements.xlsx" in note and "move them up a level" in note


def test_real_surrey_wards_written_as_gias_writes_them_raise_nothing_and_and_for_ampersand_is_said(tmp_path, shared_dfe):
    # Every ward of Surrey's schools in the real GIAS extract, once as GIAS spells it and once with "&" written "and"
    # (as a members list from Democratic Services may): the exact names raise nothing, each respelt one is said.
    from school_improvement.evidence.la_files import ward_problems
    from school_improvement.ingest.termdata import TermData

    gias_feed = read_feed(shared_dfe / "samples" / "gias_850_936_extract_2022-04-20.csv")
    wards = sorted({w for w in gias_feed.schools.loc[gias_feed.schools["la_code"] == "936", "ward"].dropna()})
    respelt = [w.replace(" & ", " and ") for w in wards if " & " in w]
    assert len(wards) > 100 and respelt
    rows = [[w, f"Cllr Fictional {i}", "Independent", ""] for i, w in enumerate(wards + respelt)]
    members = read_feed(workbook(tmp_path / "ward_members.xlsx", "ward_members", rows))
    said = ward_problems(TermData("936", Term.parse("2022-23-autumn"), [gias_feed, members]))
    assert sorted(p.row for p in said) == list(range(len(wards) + 2, len(wards) + len(respelt) + 2))


@pytest.mark.parametrize("typed, says", [(f"{URN}.0", "remove the decimal part"),
                                         (f"{str(URN)[:3]} {str(URN)[3:]}", "remove the space")])
def test_a_urn_typed_with_a_decimal_or_a_space_is_refused_saying_what_to_remove(tmp_path, typed, says):
    with pytest.raises(FeedError) as err:
        read_feed(workbook(tmp_path / "adviser_judgements.xlsx", "adviser_judgements", [
            [typed, "LM-M2", "leadership_management", True, "Fictional Adviser", D(2025, 10, 8), "Fictional note"]]))
    (p,) = err.value.problems
    assert (p.row, p.column, p.check) == (2, "urn", "urn_format") and says in p.message
