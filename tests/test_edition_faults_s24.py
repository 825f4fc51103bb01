"""Edition faults noticed at earlier stops and left alone, each checked here on the report's own template and code:
an infant school's profile says once that it has no key-stage results."""

from __future__ import annotations

import re

from school_improvement.editions import report
from school_improvement.editions.render import _environment
from school_improvement.evidence.indicators import NO_RESULTS
from test_report import make_inputs
from test_report_words_whole import _profile


def _words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


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
