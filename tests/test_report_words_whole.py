"""Words and figures printed whole in the report's tables, as an adviser reads them: no word of the edition's CSVs
cut across two lines without a hyphen ("mediu|m" in the levels tables' Last term column, "Congratulation|s letter"
in the letters table), no figure cut either (Appendix B's Rows "3219|7", its Year "2018-1|9"), and a school with no
key-stage results says so once instead of printing blank, unheaded columns."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from pypdf import PdfReader

from school_improvement.editions.cells import LETTER_LABELS, LEVEL_LABELS
from school_improvement.editions.report import build_edition
from test_report import make_inputs

WORD = re.compile(r"[A-Za-z]+")


def split_words(lines: list[str], vocabulary: set[str]) -> list[tuple[str, str]]:
    """Pairs of lines where a word of `vocabulary` was cut in two: the first ends with letters (no hyphen), the next
    begins with letters, the two together make a word of the vocabulary and one of the parts is not a word of it."""
    out = []
    for a, b in zip(lines, lines[1:]):
        end, start = re.search(r"([A-Za-z]+)$", a.rstrip()), re.match(r"^([A-Za-z]+)", b.lstrip())
        if end and start:
            x, y = end.group(1).lower(), start.group(1).lower()
            if x + y in vocabulary and (x not in vocabulary or y not in vocabulary):
                out.append((a, b))
    return out


def vocabulary_of(folder) -> set[str]:
    """The words of the edition's CSVs and the labels its tables print."""
    words = set()
    for path in folder.glob("*.csv"):
        words.update(w.lower() for w in WORD.findall(path.read_text(encoding="utf-8-sig")))
    for label in [*LETTER_LABELS.values(), *LEVEL_LABELS.values(), *LEVEL_LABELS]:
        words.update(w.lower() for w in WORD.findall(str(label)))
    return words


def test_split_words_finds_a_cut_word_and_not_two_words():
    vocab = {"medium", "congratulations", "letter", "school", "low"}
    lines = ["Primary Ward mediu", "m No bullet", "Congratulation", "s letter", "low", "school"]
    assert split_words(lines, vocab) == [("Primary Ward mediu", "m No bullet"), ("Congratulation", "s letter")]


@pytest.mark.slow  # renders the general edition
def test_table_words_and_figures_are_not_cut(tmp_path):
    inputs = make_inputs()
    cat = inputs.categorisation
    hostile = cat.loc[1, "school_name"]  # markup as a name is a run of characters with no space: cut anywhere
    for frame in (cat, inputs.letters, inputs.indicators):
        frame["school_name"] = frame["school_name"].replace(hostile, "School 001 Primary")
    cat["previous_category"] = "medium"  # every school's Last term column
    cat["phase"] = ["Primary", "Secondary"] * (len(cat) // 2)
    inputs.letters["letter"] = "congratulations"
    inputs.letters["letter_title"] = LETTER_LABELS["congratulations"]
    inputs.provenance = pd.DataFrame([
        {"file": "gias_links_2024-01-29.csv", "kind": "gias_links", "academic_year": "2023-24", "rows": 32197,
         "sha256": "ab" * 32},
        {"file": "936_ks2_2018-19.csv", "kind": "ks2", "academic_year": "2018-19", "rows": 242, "sha256": "cd" * 32}])
    inputs.data_quality.loc[0, "row"] = 32197
    build_edition(inputs, tmp_path, "general")

    pages = [p.extract_text() or "" for p in PdfReader(tmp_path / "report.pdf").pages]
    lines = [ln for page in pages for ln in page.splitlines()]
    vocab = vocabulary_of(tmp_path)
    assert {"medium", "congratulations"} <= vocab
    assert split_words(lines, vocab) == []
    text = "\n".join(lines)
    assert "Congratulations letter" in " ".join(text.split())
    for figure in ("32197", "2023-24", "2018-19"):  # Appendix A's row, Appendix B's rows and years: whole
        assert re.search(rf"(?<![\d-]){figure}(?![\d-])", text), figure
    assert "gias links" in text  # the kind in words, as Appendix A's


def _profile(html: str, urn: int) -> str:
    return html.split(f"(URN {urn})</span></h3>", 1)[1].split('<section class="profile">', 1)[0]


@pytest.mark.slow  # an edition rendered beyond the shared fixtures (over test-fast's CPU budget)
def test_a_school_without_key_stage_results_says_so_once_without_blank_columns():
    """An infant school (no KS2 results): its results table had two blank, unheaded year columns and an empty trend
    column on every row. Now one sentence says it has none, and the table has the columns with figures."""
    from school_improvement.editions import report
    from school_improvement.editions.render import _environment

    inputs = make_inputs(6)
    ind = inputs.indicators
    with_results, infant = int(ind.loc[0, "urn"]), int(ind.loc[1, "urn"])
    ind["ks"] = ["KS2" if u != infant else None for u in ind["urn"]]
    ind["att_label"], ind["att_year"], ind["att_value"], ind["att_national"] = "KS2 RWM", "2024-25", 55.0, 61.0
    ind.loc[ind["urn"] == infant, ["att_label", "att_year", "att_value", "att_national", "disadv_gap"]] = None
    html = _environment().get_template("report.html.j2").render(**report._context(inputs, "general"))
    mine = _profile(html, infant)
    assert "No Key Stage 2 or 4 results" in mine and "disadvantaged gap is shown" in mine
    assert "<th></th>" not in mine and "Trend / interval" not in mine and "Disadvantaged gap (points)" not in mine
    head = re.search(r"<thead>(.*?)</thead>", mine, re.S).group(1)
    assert re.findall(r">([^<>]+)</th>", head) == ["Measure", "Year before", "Latest", "National"]
    assert re.search(r"Overall absence</th><td class=\"num\">[^<]*</td><td class=\"num\">\d", mine)
    other = _profile(html, with_results)
    assert "No Key Stage 2 or 4 results" not in other and ">2024-25</th>" in other and "Trend / interval" in other


@pytest.mark.slow  # an edition rendered beyond the shared fixtures (over test-fast's CPU budget)
def test_a_first_term_does_not_say_no_school_changed_since_last_term():
    """Real Surrey's first term on record: the front page said no earlier term is held, the movers page "No school
    changed level since last term", a comparison with a term the history does not hold."""
    from school_improvement.editions import report
    from school_improvement.editions.render import _environment

    inputs = make_inputs(6)
    inputs.history = inputs.history[inputs.history["term"] == inputs.term]
    inputs.categorisation["previous_category"] = None
    html = _environment().get_template("report.html.j2").render(**report._context(inputs, "general"))
    movers = html.split('<section class="page" id="movers">', 1)[1].split("</section>", 1)[0]
    assert "since last term" not in movers and "No earlier term in the history" in movers


def laid_out_lines(fragment: str, first_page_only: bool = False) -> list[str]:
    """The text of each line WeasyPrint lays out for a fragment of the report's markup, with the report's CSS: what a
    reader sees broken across lines (a name, a figure or a file name cut in two)."""
    from weasyprint import CSS, HTML
    from weasyprint.formatting_structure import boxes

    from school_improvement import TEMPLATES_DIR

    css = CSS(filename=str(TEMPLATES_DIR / "report.css"))
    doc = HTML(string=f'<html lang="en-GB"><body>{fragment}</body></html>').render(stylesheets=[css])

    def lines(box):
        if isinstance(box, boxes.LineBox):
            yield "".join(t.text for t in box.descendants() if isinstance(t, boxes.TextBox)).strip()
        else:
            for child in getattr(box, "children", []):
                yield from lines(child)

    return [ln for page in doc.pages[:1 if first_page_only else None] for ln in lines(page._page_box)]


@pytest.mark.slow  # an edition laid out beyond the shared fixtures (over test-fast's CPU budget)
def test_a_school_name_and_its_urn_wrap_after_the_name_not_after_its_first_word():
    """Real Surrey's levels tables printed "Manorcroft" / "Primary School (124953)": the URN in a nowrap span after a
    name that fits its line made WeasyPrint break after the name's first word. The levels table's own markup and
    CSS, laid out alone."""
    from school_improvement.editions import report
    from school_improvement.editions.render import _environment

    inputs = make_inputs(6)
    inputs.categorisation["school_name"] = ["Wood Green Infant School", "Elm Tree Primary School"] * 3
    html = _environment().get_template("report.html.j2").render(**report._context(inputs, "general"))
    table = re.search(r'<table class="schools">.*?</table>', html, re.S).group(0)
    found = laid_out_lines(table, first_page_only=True)
    assert "Wood Green Infant School" in found and "Wood" not in found, found


def test_the_letters_and_academies_tables_name_la_intelligence_flags_in_words():
    """The demo's general edition printed "LA intelligence: sw_sm_risk (detail restricted)" in its letters table: a
    code no reader knows, where the front page says "risk of serious weaknesses or special measures"."""
    from school_improvement.editions import report
    from school_improvement.editions.render import _environment

    inputs = make_inputs(6)
    coded = "School is at risk of being put in Serious Weaknesses (WN-5): LA intelligence: sw_sm_risk (detail restricted)"
    inputs.letters.loc[0, "evidence"] = coded
    inputs.academy_concerns.loc[0, "evidence"] = "AC-2: LA intelligence: falling_roll (detail restricted)"
    html = _environment().get_template("report.html.j2").render(**report._context(inputs, "general"))
    letters = html.split('<section class="page" id="letters">', 1)[1].split("</section>", 1)[0]
    assert "sw_sm_risk" not in letters and "falling_roll" not in letters
    assert "LA intelligence: risk of serious weaknesses or special measures (detail restricted)" in letters
    assert "LA intelligence: falling roll (detail restricted)" in letters


def test_an_ofsted_safeguarding_judgement_is_printed_in_words_never_nan():
    """The demo's profiles read "Ofsted safeguarding: nan": a blank report-card safeguarding cell (NaN, truthy) was
    printed instead of the previous framework's "No". The judgement itself is unchanged."""
    import math

    from factories import gias, ofsted, term_data
    from school_improvement.evidence.indicators import SchoolIndicators
    from school_improvement.rules import load_rule_set

    urn = 990401
    data = term_data(gias=[gias(urn)], ofsted=[ofsted(urn, safeguarding=math.nan, oeif_safeguarding_effective="No",
                                                      oeif_overall=4)])
    found = SchoolIndicators(urn, data, load_rule_set("cambs-2021-23")).get("safeguarding_not_met")
    assert found.value == "Ofsted safeguarding: No" and found.met is True


def test_an_escalation_whose_note_is_its_evidence_is_printed_once():
    """Half the demo's letters (22 of 46: "Significant Concerns letter issued ...; concerns remain") printed the same
    sentence in the Evidence and the Escalation columns side by side."""
    from school_improvement.editions import report
    from school_improvement.editions.render import _environment

    inputs = make_inputs(6)
    remain = "Significant Concerns letter issued 2025-10-02; concerns remain (level of support: high)"
    inputs.letters.loc[0, ["evidence", "escalation_note"]] = remain
    html = _environment().get_template("report.html.j2").render(**report._context(inputs, "general"))
    letters = html.split('<section class="page" id="letters">', 1)[1].split("</section>", 1)[0]
    assert letters.count("concerns remain (level of support: high)") == 1 and "as the evidence" in letters
