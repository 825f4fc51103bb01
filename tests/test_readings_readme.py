"""docs/readings/README.md against what it describes: its table lists every reading in the folder (and only those),
and the no-Warning-Notice reading's demo figures are those `compare` gives today."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parents[1] / "docs" / "readings"
README = (FOLDER / "README.md").read_text(encoding="utf-8")
ROWS = {m[1]: m[2] for m in re.finditer(r"^\| `([\w-]+)` \|(.*)\|$", README, re.M)}


def test_the_table_lists_every_reading_in_the_folder_and_no_other():
    files = sorted(p.stem for p in FOLDER.glob("*.yaml"))
    assert files, FOLDER
    assert sorted(set(ROWS) - {"cambs-2021-23"}) == files  # the shipped reading is the table's first row
    for name in files:  # the row's first cell says what the file reads differently
        assert ROWS[name].split("|")[0].strip(), name


@pytest.mark.slow  # the demo term read, validated and categorised under two rule sets (over 2 s of pipeline work)
def test_the_no_warning_notice_readings_demo_figures_are_compares(demo_landing):
    from school_improvement.decisions.what_if import compare_rule_sets, read_term
    from school_improvement.rules import load_rule_set_arg, rule_set_for
    from school_improvement.terms import Term

    said = re.search(r"no Warning Notice \((\d+) under the shipped reading\), Significant Concerns letters (\d+) -> "
                     r"(\d+), formal Significant Concerns (\d+) -> (\d+) \(what-if, no history\)",
                     ROWS["cambs-no-warning-notice"])
    assert said, ROWS["cambs-no-warning-notice"]
    root, _ = demo_landing(["2025-26-autumn", "2025-26-spring"])  # as `make demo` writes them
    term = Term.parse("2025-26-autumn")
    data = read_term("999", term, root, rule_set_for(term.reference_date, la_code="999").results_known)
    result = compare_rule_sets(data, load_rule_set_arg("cambs-2021-23"),
                               load_rule_set_arg(str(FOLDER / "cambs-no-warning-notice.yaml")))
    totals = {t["what"]: (t["a"], t["b"]) for t in result.totals}
    wn, scl, formal = (totals[f"letter {k}"] for k in ("warning notice", "significant concerns letter",
                                                        "significant concerns"))
    assert wn[1] == 0 and [int(g) for g in said.groups()] == [wn[0], *scl, *formal], totals
    assert all(a == b for what, (a, b) in totals.items() if what.startswith("schools at"))  # "levels unchanged"
