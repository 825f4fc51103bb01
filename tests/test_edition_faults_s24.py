"""Edition faults noticed at earlier stops and left alone, each checked here on the report's own template and code:
an infant school's profile says once that it has no key-stage results."""

from __future__ import annotations

import re

import pytest

from school_improvement.editions import report
from school_improvement.editions.render import _environment
from school_improvement.evidence.indicators import NO_RESULTS
from test_report import make_inputs
from test_report_words_whole import _profile, laid_out_lines


def _words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.slow  # an edition rendered beyond the shared fixtures (over test-fast's CPU budget)
def test_an_infant_schools_profile_says_once_that_it_has_no_key_stage_results():
    """An infant school's profile said it three times: the sentence above its figures, the gap row's "Disadvantaged
    gap: no KS2 or KS4 results for this school" and "Not judged from data: no KS2 or KS4 results for this school
    (phase Infant)" among the bullets. The indicators' own reasons for such a school are put in its rows here."""
    inputs = make_inputs(6)
    ind, cat = inputs.indicators, inputs.categorisation
    infant, other = int(ind.loc[1, "urn"]), int(ind.loc[0, "urn"])
    ind["ks"] = ["KS2" if u != infant else None for u in ind["urn"]]
    ind.loc[ind["urn"] == infant, ["att_label", "att_year", "att_value", "att_national", "disadv_gap"]] = None
    ind["gap_reason"] = [NO_RESULTS if u == infant else None for u in ind["urn"]]  # as the indicators give it
    i = cat.index[cat["urn"] == infant][0]
    cat.loc[i, "reasons"] += (f"\nNot judged from data: {NO_RESULTS} | {NO_RESULTS} (phase Infant)"
                              " | absence: no figure for this school")
    for edition in report.EDITIONS:
        html = _environment().get_template("report.html.j2").render(**report._context(inputs, edition))
        mine = _words(_profile(html, infant))
        said = mine.count("no KS2 or KS4 results") + mine.count("No Key Stage 2 or 4 results")
        assert said == 1, (edition, mine)
        assert "so no attainment, progress or disadvantaged gap is shown" in mine, mine
        assert "Not judged from data: absence: no figure for this school" in mine  # what the table does not say stays
        assert "Disadvantaged gap (points)" not in mine
        assert "Disadvantaged gap (points)" in _words(_profile(html, other))  # a school with results keeps its row


FILES = ("gias_850_936_extract_2022-04-20.csv", "england_ks4provisional_2018-19.csv", "936_census_2019-20.csv",
         "adviser_judgements_2025-26-autumn.xlsx")
COLUMNS = ("PTRWM_EXP_DISAD_PREV", "PERCTOT_PREV_YEAR", "READPROG_LOWER")  # parts no wider than the column


def _appendix_lines(edition: str) -> list[str]:
    """Appendix A and B of an edition, their own markup and the report's CSS laid out alone: the text of each line."""
    inputs = make_inputs(4)
    dq = inputs.data_quality
    dq = dq.loc[dq.index.repeat(len(FILES))].reset_index(drop=True).iloc[:len(FILES)]
    dq["file"], dq["column"] = list(FILES), [*COLUMNS, "URN"]
    inputs.data_quality = dq
    prov = inputs.provenance
    prov = prov.loc[prov.index.repeat(len(FILES))].reset_index(drop=True).iloc[:len(FILES)]
    prov["file"] = list(FILES)
    inputs.provenance = prov
    html = _environment().get_template("report.html.j2").render(**report._context(inputs, edition))
    appendices = re.search(r'<section class="page" id="data-quality">.*</section>', html, re.S).group(0)
    return laid_out_lines(appendices)


@pytest.mark.slow  # an edition laid out beyond the shared fixtures (over test-fast's CPU budget)
def test_file_names_and_column_codes_break_only_after_their_underscores_in_the_appendices():
    """Appendix A and B broke file names and column codes anywhere ("gias_850_936_ex" / "tract_2022-04-20" / ".csv"):
    an adviser looking for the file reads it in whole parts, broken only after an underscore (or a hyphen, as
    words are)."""
    text = "\n".join(_appendix_lines("restricted")).replace("\u200b", "")  # <wbr>: in the layout, not the PDF's text
    for name in (*FILES, *COLUMNS):
        laid = re.findall(" ?\n?".join(map(re.escape, name)), text)  # each time it is printed, broken or not
        assert len(laid) >= 2 if name in FILES else laid, (name, text)  # a file: in Appendix A and B
        for shown in laid:
            cuts = [m.start() for m in re.finditer("\n", shown)]
            assert all(shown[c - 1] in "_-" for c in cuts), (name, shown)  # after an underscore (or a hyphen)


def test_an_academys_drop_in_ofsted_rating_says_how_a_report_card_is_read():
    """Under Ofsted's report cards (no overall grade), AC-10's "a drop in Ofsted rating" told of a fall of the academy
    as a whole where one evaluation area was below its previous judgement's band; SCL-6, the maintained schools'
    same bullet, already said how it is read. The other academy concerns stay the Strategy's words."""
    from school_improvement.rules import load_rule_set

    base, cards = load_rule_set("cambs-2021-23"), load_rule_set("cambs-2025-report-cards")
    b = {i.id: i for i in base.academy_concerns.indicators}
    c = {i.id: i for i in cards.academy_concerns.indicators}
    assert list(c) == list(b)
    scl6 = next(i for i in cards.letters["significant_concerns_letter"].indicators if i.id == "SCL-6")
    assert c["AC-10"].wording.startswith("a drop in Ofsted rating") and "report card" in c["AC-10"].wording
    assert "report card" in scl6.wording and c["AC-10"].evidence == b["AC-10"].evidence == scl6.evidence
    # academy_concerns_replace changes AC-9 and AC-10 alone (AC-9's "good school" under report cards: s25)
    assert all(c[k] == b[k] for k in b if k not in ("AC-9", "AC-10"))
    # The Strategy's own words lead; cambs-2021-23 adds what its last term (2025-26 autumn, which reads report cards
    # dated from 10 November 2025) reads of one (s25).
    assert b["AC-10"].wording.startswith("a drop in Ofsted rating") and "from 10 November 2025" in b["AC-10"].wording
