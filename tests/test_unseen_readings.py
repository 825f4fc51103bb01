"""Readings of the Strategy the project had not seen, written as an adviser at another LA would (helper V's trial
on real Surrey): each case loaded before and was silently applied the wrong way, crashed, or was refused in words
that did not say what to do. Each reading is a small draft that `extends: cambs-2021-23`, as the README tells an LA
to write one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from school_improvement.errors import RulesError
from school_improvement.rules import load_rule_set_arg

HEAD = "id: {name}\ntitle: A reading\nextends: cambs-2021-23\nreview_by: 2026-08-31\n"


def _reading(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(HEAD.format(name=name) + body, encoding="utf-8")
    return path


def _assert_refused(path, says) -> str:
    """The reading at `path` is refused, naming its file and saying each of `says`; the refusal's message."""
    with pytest.raises(RulesError) as err:
        load_rule_set_arg(str(path))
    msg = str(err.value)
    assert str(path) in msg, msg
    for s in says:
        assert s in msg, msg
    return msg


REFUSED = [
    # The Strategy's table lists HIGH first: copied that way, every tie and mean went the other way (7 Surrey
    # schools moved from low to medium, 2 more Significant Concerns letters), and nothing said so.
    ("levels-most-support-first", "levels: [high, medium, low]\n",
     ["line 5", "levels", "not least support first", "high, medium, low must be listed as low, medium, high", "vocabulary.yaml"]),
    ("level-twice", "levels: [low, medium, medium, high]\n", ["line 5", "names a level twice"]),
    ("level-not-in-vocabulary", "levels: [green, amber, red]\n", ["levels[0]", "'green'", "include/vocabulary.yaml"]),
    # A criterion whose `to` is before its `from` was never in force: the one high school on Surrey went to medium.
    ("dates-reversed", "criteria_replace:\n  - {id: QE-H6, area: quality_of_education, level: high, wording: x, "
     "evidence: [{indicator: attainment_consistently_below}], in_force: {from: 2022-09-01, to: 2021-08-31}}\n",
     ["line 6", "criteria[34] (QE-H6).in_force", "is before `from`", "never be in force"]),
    # A ladder that goes round: every Significant Concerns letter vanished (11 on Surrey), silently.
    ("ladder-circle", "letters:\n  significant_concerns_letter:\n    title: SCL\n    escalates_from: significant_concerns\n"
     "    indicators: [{id: SCL-3, wording: x, evidence: [{intelligence: [finance]}]}]\n",
     ["line 8", "letters.significant_concerns_letter.escalates_from", "goes round in a circle"]),
    ("ladder-from-recognition", "letters:\n  significant_concerns_letter:\n    title: SCL\n    escalates_from: congratulations\n"
     "    indicators: [{id: SCL-3, wording: x, evidence: [{intelligence: [finance]}]}]\n",
     ["escalates_from 'congratulations', a recognition letter"]),
    ("indicator-id-twice", "letters:\n  warning_notice:\n    title: WN\n    escalates_from: significant_concerns_letter\n"
     "    indicators:\n      - {id: WN-2, wording: x, evidence: [{indicator: absence_rising}]}\n"
     "      - {id: WN-2, wording: y, evidence: [{intelligence: [leaders_not_acting]}]}\n",
     ["letters.warning_notice.indicators", "duplicate ids ['WN-2']"]),
    # An empty academy route crashed flag_letters with an IndexError naming no file.
    ("empty-route", "academy_concerns: {route: []}\n", ["line 5", "academy_concerns.route", "at least 1 item"]),
    ("deadline-negative", "letter_actions:\n  significant_concerns_letter:\n    - {action: Meet, within_days: -10}\n",
     ["line 7", "within_days", "greater than or equal to 1"]),
    ("margin-negative", "best_fit: {near_tie_margin: -0.2}\n", ["best_fit.near_tie_margin", "greater than or equal to 0"]),
    ("laig-negative", "support_plan:\n  high: {summary: x, visits: monthly, laig_reviews_per_term: -2}\n",
     ["support_plan.high.laig_reviews_per_term"]),
    ("null-for-a-key-the-parent-lacks", "letters: {warning_notices: null}\n",
     ["line 5", "warning_notices set to null", "no such key to remove"]),
]


@pytest.mark.parametrize("case, body, says", REFUSED, ids=[c[0] for c in REFUSED])
def test_a_reading_the_engine_would_apply_wrongly_is_refused_naming_file_line_and_key(tmp_path, case, body, says):
    path = _reading(tmp_path, case, body)
    msg = _assert_refused(path, says)
    assert "Traceback" not in msg and "errors.pydantic.dev" not in msg


def test_a_review_date_before_the_rule_set_comes_into_force_is_refused(tmp_path):
    path = tmp_path / "v-review.yaml"
    path.write_text("id: v-review\ntitle: x\nextends: cambs-2021-23\nin_force: {from: 2021-09-01}\n"
                    "review_by: 2020-08-31\n", encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rule_set_arg(str(path))
    assert f"{path}, line 5: review_by" in str(err.value) and "before the rule set comes into force" in str(err.value)


def test_a_letter_the_la_does_not_use_is_dropped_with_null_and_the_rest_is_checked_without_it(tmp_path):
    """An LA without the Warning Notice: `warning_notice: null` drops it; the rung above must then name another
    rung, and what named it is refused by file and key until it does."""
    half = _reading(tmp_path, "v-no-wn", "letters: {warning_notice: null}\n")
    with pytest.raises(RulesError) as err:
        load_rule_set_arg(str(half))
    msg = str(err.value)
    assert "letters.significant_concerns.escalates_from: 'warning_notice' is named but is not a letter" in msg, msg
    assert "letter_actions.warning_notice" in msg and "concerns_remain.letters_met" in msg, msg
    assert "member_alerts.letters_issued: 'warning_notice' is not a letter of this rule set" in msg, msg
    whole = _reading(tmp_path, "v-no-wn2", "letters:\n  warning_notice: null\n  significant_concerns:\n"
                     "    title: Significant Concerns (formal)\n    escalates_from: significant_concerns_letter\n"
                     "    requires_escalation: true\n"
                     "    indicators: [{id: SC-1, wording: x, evidence: [{indicator: ofsted_inadequate}]}]\n"
                     "letter_actions: {warning_notice: null}\n"
                     "concerns_remain: {letters_met: [significant_concerns_letter]}\n"
                     "member_alerts: {letters_issued: [significant_concerns_letter, significant_concerns]}\n")
    rs = load_rule_set_arg(str(whole))
    assert "warning_notice" not in rs.letters and "warning_notice" not in rs.letter_actions
    assert rs.ladder() == ["significant_concerns_letter", "significant_concerns"]


def test_a_threshold_the_reading_inherits_and_no_longer_reads_does_not_block_it(tmp_path):
    """Congratulations replaced whole with CG-2 only: the parent's `disadvantaged_accelerated_points` (read by CG-3
    alone) was refused, with "remove it" pointing at the parent's file, which the LA does not edit."""
    body = ("letters:\n  congratulations:\n    title: Congratulations letter\n    recognition: true\n"
            "    not_for_categories: [medium, high]\n    indicators:\n"
            "      - {id: CG-2, wording: x, evidence: [{indicator: attainment_significant_improvement}]}\n")
    path = _reading(tmp_path, "v-cong", body)
    rs = load_rule_set_arg(str(path))
    assert [i.id for i in rs.letters["congratulations"].indicators] == ["CG-2"]
    assert rs.letters["congratulations"].not_for_categories == ["medium", "high"]
    # the reading's own unread threshold is still refused
    own = _reading(tmp_path, "v-cong2", body + "thresholds: {disadvantaged_accelerated_points: 3}\n")
    with pytest.raises(RulesError) as err:
        load_rule_set_arg(str(own))
    assert f"{own}, line" in str(err.value) and "disadvantaged_accelerated_points" in str(err.value)


def _letter_text(drafts: list[dict]) -> str:
    import re

    from school_improvement.editions import render

    html = render._environment().get_template("letter.html.j2").render(
        drafts=[{"date_long": "6 October 2025", "head_name": "H", "chair_name": "C", "address_lines": [], "weekday_years": [],
                 **d} for d in drafts],
        la_name="Northmoor", la_code="990", term="2025-26-autumn", rule_set_id="x", run_date="2025-10-06")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def test_a_recognition_letter_named_otherwise_is_drafted_as_congratulations_not_as_concerns():
    """Letters named otherwise (Northmoor's `letter_of_recognition`): the draft said "I am writing to set out the local
    authority's significant concerns ... Please confirm within ten school days how the governing body will address
    these concerns" to a school being congratulated, because the template knew only the name `congratulations`."""
    from datetime import date

    from factories import gias, judgement, ks2, term_data
    from school_improvement.decisions.categorise import categorise
    from school_improvement.decisions.letters import flag_letters
    from school_improvement.rules import load_rule_set

    nm, urn = load_rule_set("northmoor-2024-27"), 998001
    up = ks2(urn, rwm_exp=75.0, rwm_exp_prev1=62.0, rwm_exp_prev2=60.0)
    data = term_data("2025-26-autumn", la="990", gias=[dict(gias(urn), la_code="990")], ks2=[up],
                     adviser_judgements=[judgement(urn, "NM-LM-U1")])
    out = flag_letters(data, nm, categorise(data, nm, {}).table, {}, date(2025, 10, 6))
    assert [d["letter"] for d in out.drafts] == ["letter_of_recognition"]
    text = _letter_text(out.drafts)
    assert "I am writing to congratulate the school" in text and "We will continue to support" not in text
    assert "concerns" not in text and "governing body" not in text, text


def test_the_letters_opening_and_closing_are_the_rule_sets_words():
    """The Warning Notice's opening and the "ten school days" request were the template's, by letter name: an LA
    with another deadline, or letters named otherwise, got Cambridgeshire's words."""
    from school_improvement.rules import load_rule_set

    cambs = load_rule_set("cambs-2021-23")
    wn = cambs.letters["warning_notice"]
    assert "this is a warning notice" in wn.opening and "ten school days" in wn.closing
    base = {"urn": 1, "school_name": "Example School", "letter_title": "T", "concerns": ["c"], "actions": []}
    text = _letter_text([{**base, "letter": "warning_notice", "recognition": False, "opening": wn.opening,
                          "closing": wn.closing}])
    assert ("this is a warning notice. The local authority has the following concerns about the school, identified "
            "in our termly review for 2025-26-autumn:") in text and "within ten school days" in text
    text = _letter_text([{**base, "letter": "notice_of_concern", "recognition": False, "opening": None,
                          "closing": "Please reply within five school days."}])
    assert "set out the local authority's significant concerns" in text and "within five school days" in text
    assert "ten school days" not in text and "warning notice" not in text


def test_the_front_page_counts_and_moves_schools_by_the_rule_sets_own_levels():
    """An LA whose levels are universal / targeted / intensive: the front page listed High, Medium and Low at 0, left
    out a level no school is at now (128 Surrey schools at universal last term, none now), said "No school changed
    level" and counted every school as "categorised for the first time"."""
    import dataclasses

    from test_report import make_inputs

    from school_improvement.editions import report

    rename = {"low": "universal", "medium": "targeted", "high": "intensive"}
    inputs = make_inputs(12)
    cat = inputs.categorisation.copy()
    cat["category"] = cat["category"].map(rename)
    cat["computed_category"] = cat["category"]
    cat["previous_category"] = cat["previous_category"].map(rename)
    cat.loc[cat["category"] == "universal", "category"] = "targeted"  # nobody at universal now
    history = inputs.history.copy()
    history["category"] = history["category"].map(rename)
    now = history["term"] == inputs.term
    history.loc[now, "category"] = history.loc[now, "urn"].map(cat.set_index("urn")["category"])
    own = dataclasses.replace(inputs, categorisation=cat, history=history, levels=("universal", "targeted", "intensive"))
    ctx = report._context(own, "general")
    rows = {r["level"]: r for r in ctx["level_rows"]}
    assert list(rows) == ["intensive", "targeted", "universal"], list(rows)
    assert rows["universal"]["count"] == 0 and rows["universal"]["previous"] > 0 and rows["universal"]["change"] < 0
    moved = [(m["from"], m["to"]) for m in ctx["movers"]]
    expected = [(p, c) for p, c in zip(cat["previous_category"], cat["category"]) if p != c]
    assert sorted(moved) == sorted(expected) and moved, moved
    assert all(m["more_support"] == (m["to"] == "intensive" or m["from"] == "universal") for m in ctx["movers"])
    assert ctx["n_new_schools"] == 0
    assert ctx["transitions"]["columns"] == ["intensive", "targeted"]
    # the seed's levels, unchanged
    seed = report._context(inputs, "general")
    assert [r["level"] for r in seed["level_rows"]] == ["high", "medium", "low"] and seed["movers"]


def test_a_draft_flagged_before_letters_carried_their_words_takes_them_from_its_rule_set():
    """A report re-run on an earlier letters stage (drafts.json without `recognition`): the words come from the rule set
    that flagged it, so a congratulations letter is not drafted as a concern letter."""
    from test_report import make_inputs

    from school_improvement.editions.drafts import _draft_context

    import dataclasses

    inputs = dataclasses.replace(make_inputs(4), rule_set_id="cambs-2021-23")
    old = {"urn": 1, "letter": "congratulations", "date": None}
    assert _draft_context(inputs, old)["recognition"] is True
    wn = _draft_context(inputs, {**old, "letter": "warning_notice"})
    assert wn["recognition"] is False and "this is a warning notice" in wn["opening"] and "ten school days" in wn["closing"]


def test_a_school_whose_bullets_fall_short_of_the_minimum_is_not_said_to_have_none_met():
    """`min_bullets: {low: 2}` on Surrey: schools with one low bullet met were placed at the default level with the
    reason "No bullet was met by the evidence judged (7 data or adviser check(s), none met)"; the bullet met was said
    only in the borderline line."""
    from factories import gias, ks2, term_data
    from school_improvement.decisions.categorise import categorise
    from school_improvement.rules import load_rule_set

    base = load_rule_set("cambs-2021-23")
    rules = base.model_copy(update={"best_fit": base.best_fit.model_copy(update={"min_bullets": {"low": 2}})})
    urn = 990777
    # KS2 well above national (QE-L4 met, one low bullet); nothing else judged.
    data = term_data(gias=[gias(urn)], ks2=[ks2(urn, rwm_exp=80.0, rwm_exp_prev1=79.0, rwm_exp_prev2=78.0)])
    row = categorise(data, rules, {}).table.iloc[0]
    assert row["category"] == "medium"  # the rule set's no-evidence level
    assert "none met" not in row["reasons"], row["reasons"]
    assert "No area has as many bullets met as the rule set asks for a level (met: (low) " in row["reasons"]
    assert "[QE-L4]" in row["reasons"] and "[QE-L4]" in row["reasons_general"]
    # still counted as placed by default on the front page
    from school_improvement.editions.front_page import placed_by_default

    assert placed_by_default(dict(row))
    # with the shipped reading one bullet places the area
    assert categorise(data, base, {}).table.iloc[0]["category"] == "low"


@pytest.mark.parametrize("levels, refused", [
    (["low", "medium", "high"], False), (["universal", "targeted", "enhanced", "intensive"], False),
    (["low", "medium", "enhanced", "high"], False),  # a level of the other scale added between: the LA's own order
    (["high", "medium", "low"], True), (["intensive", "targeted", "universal"], True), (["low", "high", "medium"], True),
])
def test_levels_are_refused_only_when_two_of_one_scale_are_the_wrong_way_round(levels, refused):
    from school_improvement.rules import _vocabulary_problems, load_rule_set

    rs = load_rule_set("cambs-2021-23").model_copy(update={"levels": levels})
    said = [m for _, m in _vocabulary_problems(rs) if "least support first" in m]
    assert bool(said) is refused, said


def test_a_reading_drops_or_adds_a_bullet_without_copying_every_criterion(tmp_path):
    """"A bullet the LA drops or adds": a draft could only replace a criterion by id; dropping or adding one meant
    copying every criterion of the parent into the draft."""
    path = _reading(tmp_path, "v-bullets", "criteria_remove: [QE-M5]\ncriteria_add:\n"
                    "  - {id: QE-H8, area: quality_of_education, level: high, wording: \"Disadvantaged pupils' attainment "
                    "is well below that of other pupils nationally\", evidence: [{indicator: disadvantaged_gap_persistently_wide}]}\n")
    rs = load_rule_set_arg(str(path))
    ids = [c.id for c in rs.criteria]
    from school_improvement.rules import load_rule_set

    assert "QE-M5" not in ids and ids[-1] == "QE-H8" and len(ids) == len(load_rule_set("cambs-2021-23").criteria)
    for body, says in [
        ("criteria_remove: [QE-M55]\n", "criteria_remove names unknown criteria ['QE-M55']"),
        ("criteria_remove: QE-M5\n", "`criteria_remove:` is a list"),
        ("criteria_add:\n  - {id: QE-M5, area: quality_of_education, level: medium, wording: x, "
         "evidence: [{indicator: ofsted_dropped}]}\n", "already has (change one with `criteria_replace:`)"),
        ("criteria_remove: [LM-H1]\n", "overriding condition OV-SAFEGUARDING names unknown criteria ['LM-H1']"),
        ("criteria_add:\n  - {id: QE-H9, area: quality_of_education, level: highest, wording: x, "
         "evidence: [{indicator: ofsted_dropped}]}\n", "level 'highest' is not one of"),
    ]:
        bad = _reading(tmp_path, "v-bad", body)
        with pytest.raises(RulesError) as err:
            load_rule_set_arg(str(bad))
        assert says in str(err.value) and str(bad) in str(err.value), str(err.value)


def test_the_levels_chart_colours_a_rule_sets_own_levels_and_stacks_them_most_support_first():
    """Levels named otherwise were all drawn the same grey, stacked in alphabetical order."""
    import base64

    import pandas as pd

    from school_improvement.editions.charts import LEVEL_COLOURS, chart_distribution, level_colours

    own = ("universal", "targeted", "enhanced", "intensive")
    colours = level_colours(own)
    assert len(set(colours.values())) == 4 and colours["universal"] == LEVEL_COLOURS["low"]
    assert colours["intensive"] == LEVEL_COLOURS["high"]
    assert level_colours() == LEVEL_COLOURS
    history = pd.DataFrame({"urn": [1, 2, 3, 4], "term": "2025-26-autumn", "category": list(own)})
    uri, alt, counts = chart_distribution(history, "2025-26-autumn", own)
    assert list(counts.columns) == ["intensive", "enhanced", "targeted", "universal"]
    svg = base64.b64decode(uri.split(",", 1)[1]).decode()
    assert all(c in svg for c in colours.values()) and "#999999" not in svg


@pytest.mark.parametrize("case, body, says", [
    # The same step twice: the route's furthest step taken is found by its code, so it could never pass it.
    ("route-step-twice", "academy_concerns:\n  route:\n    - {step: academy_meeting, wording: a}\n"
     "    - {step: academy_meeting, wording: b}\n", ["line 6", "step 'academy_meeting' is given twice"]),
    # `with_category: []` was read as every level (an empty list is no restriction).
    ("with-category-empty", "letters_replace:\n  significant_concerns_letter:\n    - {id: SCL-1, wording: x, evidence: "
     "[{indicator: attainment_declining, with_category: []}]}\n", ["line 7", "(SCL-1).evidence[0]", "names no level"]),
    ("threshold-above-100", "thresholds: {attainment_below_points: 1000}\n",
     ["line 5", "thresholds.attainment_below_points", "1000 is above 100"]),
    ("date-not-iso", "in_force: {from: 01/09/2021}\n", ["line 5", "in_force.from", "YYYY-MM-DD", "'01/09/2021'"]),
])
def test_more_mistakes_an_adviser_makes_are_refused_in_their_words(tmp_path, case, body, says):
    path = _reading(tmp_path, case, body)
    _assert_refused(path, says)


def test_a_reading_that_extends_a_rule_set_not_there_names_the_draft_and_the_nearest(tmp_path):
    path = tmp_path / "v-typo.yaml"
    path.write_text("id: v-typo\ntitle: x\nextends: cambs-2021-32\nreview_by: 2026-08-31\n", encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rule_set_arg(str(path))
    msg = str(err.value)
    assert msg.startswith(f"{path}: extends: rule set 'cambs-2021-32' not found") and "did you mean 'cambs-2021-23'" in msg


def test_a_level_code_longer_than_the_historys_column_is_refused_in_the_vocabulary():
    """A level added to the vocabulary as "intervention_plus" was stored by SQLite and refused by PostgreSQL
    mid-run ("value too long for type character varying(10)"), after the categorisation was computed."""
    import yaml

    from school_improvement import history
    from school_improvement.vocabulary import LEVEL_NAME_MAX, VOCABULARY_FILE, Vocabulary

    assert history.school_terms.c.category.type.length == LEVEL_NAME_MAX
    assert history.school_terms.c.previous_category.type.length == LEVEL_NAME_MAX
    raw = yaml.safe_load(VOCABULARY_FILE.read_text(encoding="utf-8"))
    raw["support_levels"]["intervention_plus"] = "Intervention plus"
    with pytest.raises(ValueError, match="'intervention_plus'.*longer than 10 characters"):
        Vocabulary.model_validate(raw)


def test_a_letter_flag_or_area_named_otherwise_says_where_the_codes_are_and_the_nearest():
    """An LA naming its letters its own way was told only "letter 'x' is not in the vocabulary"."""
    import tempfile

    for body, says in [("member_alerts: {letters_issued: [warning_notce]}\n",
                        ["include/vocabulary.yaml, letters:", "did you mean 'warning_notice'?", "added there, once"]),
                       ("letters_replace:\n  significant_concerns_letter:\n    - {id: SCL-3, wording: x, evidence: "
                        "[{intelligence: [finances]}]}\n", ["intelligence_flags; did you mean 'finance'?"])]:
        with tempfile.TemporaryDirectory() as d:
            path = _reading(Path(d), "v-names", body)
            with pytest.raises(RulesError) as err:
                load_rule_set_arg(str(path))
        for s in says:
            assert s in str(err.value), str(err.value)


def test_a_reading_of_the_academy_route_shows_in_the_what_if():
    """A route of two steps (meeting, then escalation): the next step due for an academy whose meeting is in the letters
    log changes, and the what-if said "0 academies' concerns change"."""
    from datetime import date

    from factories import absence, gias, letter, term_data
    from school_improvement.decisions.what_if import compare_rule_sets
    from school_improvement.rules import load_rule_set

    rules = load_rule_set("cambs-2021-23")
    route = [s for s in rules.academy_concerns.route if s.step != "academy_formal_letter"]
    two_steps = rules.model_copy(update={"id": "draft-route", "academy_concerns": rules.academy_concerns.model_copy(
        update={"route": route})})
    acad = 990402
    data = term_data(gias=[gias(990403), gias(acad, type="Academy converter", type_group="Academies", trust="Test Trust",
                                                is_academy=True, is_la_maintained=False)],
                     absence=[absence(acad, overall_absence=9.0, persistent_absence=30.0)],
                     letters_log=[letter(acad, "academy_meeting", date(2025, 6, 1), concern="AC-2")])
    result = compare_rule_sets(data, rules, two_steps)
    row = result.table[result.table["urn"] == acad].iloc[0]
    assert row["academy_concerns_a"] == row["academy_concerns_b"] == "AC-2"
    assert (row["academy_step_a"], row["academy_step_b"]) == ("academy_formal_letter", "academy_escalation"), row.to_dict()
    assert "next step under cambs-2021-23: academy_formal_letter; under draft-route: academy_escalation" in row["why"]


def test_a_logged_letter_the_rule_set_reads_nowhere_is_said_not_dropped_silently():
    """An LA that renamed its ladder (notice of concern -> pre-warning letter -> statutory warning notice): a Warning
    Notice logged last term under the earlier name was read by nothing, so the ladder started again at its first
    rung with no word (on the demo, the one formal Significant Concerns became a pre-warning letter)."""
    from datetime import date

    from factories import flag, gias, letter, term_data
    from school_improvement.decisions.categorise import categorise
    from school_improvement.decisions.letters import flag_letters
    from school_improvement.rules import load_rule_set

    nm, urn = load_rule_set("northmoor-2024-27"), 998101
    data = term_data("2025-26-autumn", la="990", gias=[dict(gias(urn), la_code="990")],
                     la_intelligence=[flag(urn, "finance", "medium")],
                     letters_log=[letter(urn, "warning_notice", date(2025, 6, 1)),
                                  letter(urn, "notice_of_concern", date(2025, 6, 1), concern="NM-C2"),
                                  letter(urn, "significant_concerns_letter", date(2019, 6, 1))])  # long ago: not said
    out = flag_letters(data, nm, categorise(data, nm, {}).table, {}, date(2025, 10, 6))
    said = [p for p in out.problems if p.check == "letter_not_in_rule_set"]
    assert len(said) == 1 and said[0].severity == "warning", [p.message for p in out.problems]
    assert "'warning_notice'" in said[0].message and f"URN {urn} on 2025-06-01" in said[0].message
    assert "northmoor-2024-27 reads nowhere" in said[0].message
    # a letter the rule set reads is not said
    cambs = load_rule_set("cambs-2021-23")
    data = term_data(gias=[gias(urn)], letters_log=[letter(urn, "warning_notice", date(2025, 6, 1))])
    out = flag_letters(data, cambs, categorise(data, cambs, {}).table, {}, date(2025, 10, 6))
    assert not [p for p in out.problems if p.check == "letter_not_in_rule_set"]


def test_schools_last_term_at_levels_of_an_earlier_rule_set_are_not_called_new():
    """The LA adopts its own reading with its levels renamed: every school was "categorised for the first time" and
    its direction of travel "new"."""
    import dataclasses
    import re

    from test_report import make_inputs

    from school_improvement.decisions.categorise import direction
    from school_improvement.editions import render, report
    from school_improvement.rules import load_rule_set

    nm = load_rule_set("northmoor-2024-27")
    assert direction("medium", "targeted", nm) == "not compared" and direction("", "targeted", nm) == "new"
    assert direction("universal", "targeted", nm) == "declining"
    inputs = make_inputs(12)
    rename = {"low": "universal", "medium": "targeted", "high": "intensive"}
    cat = inputs.categorisation.copy()
    cat["category"] = cat["category"].map(rename)
    history = inputs.history.copy()
    now = history["term"] == inputs.term
    history.loc[now, "category"] = history.loc[now, "category"].map(rename)
    own = dataclasses.replace(inputs, categorisation=cat, history=history, levels=("universal", "targeted", "intensive"))
    ctx = report._context(own, "general")
    assert ctx["n_new_schools"] == 0 and ctx["n_other_levels"] == 12 and not ctx["movers"]
    html = render._environment().get_template("report.html.j2").render(**ctx)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert [r["level"] for r in ctx["level_rows"]] == ["intensive", "targeted", "universal", "high", "medium", "low"]
    assert ("12 schools were last term at levels this rule set does not have (high, low, medium): not compared with "
            "their level now.") in text, text[:3000]
    assert "categorised for the first time" not in text


@pytest.mark.parametrize("case, body, says", [
    # `absense` left later absence files in use for an earlier term: results from after the term, silently.
    ("known-kind-typo", "results_known: {year_ended: [ks2, ks4, absense, census]}\n",
     ["results_known.year_ended", "'absense' is not a feed kind", "did you mean 'absence'"]),
    ("known-key-typo", "results_known: {years_ended: [ks2]}\n", ["'years_ended' is not a key of results_known"]),
    ("known-by-typo", "results_known: {dated_rows: {ofsted: {columns: [inspection_date], known_by: term_ends}}}\n",
     ["results_known.dated_rows.ofsted.known_by", "not 'term_ends'"]),
    # U's edition_date and V's key check landed together: the key is read, and a typo in it is said.
    ("edition-date-after", "results_known: {edition_date: {after: setaside, columns: {ofsted: [inspection_date]}}}\n",
     ["results_known.edition_date.after", "not 'setaside'"]),
    ("edition-date-column", "results_known: {edition_date: {after: said, columns: {adviser_judgements: [visited]}}}\n",
     ["results_known.edition_date.columns.adviser_judgements", "'visited' is not a date column"]),
    ("published-kind-typo", "published_results:\n  KS2: {not_published: ['2019-20'], lag_years: {autumn: 1}, label: K}\n",
     ["line 6", "published_results.KS2", "'KS2' is not a feed kind"]),
    ("published-season-typo", "published_results:\n  ks2: {not_published: ['2019-20'], lag_years: {autum: 1}, label: K}\n",
     ["'autum' is not a term of the year", "did you mean 'autumn'"]),
    ("published-year", "published_results:\n  ks2: {not_published: ['2019/20'], lag_years: {autumn: 1}, label: K}\n",
     ["'2019/20' is not an academic year written like 2019-20"]),
    ("max-age-typo", "extract_max_age_days: {gais: 60}\n", ["extract_max_age_days.gais", "did you mean 'gias'"]),
    ("max-age-negative", "extract_max_age_days: {gias: -5}\n", ["-5 is below 1 day"]),
    ("body-dates-reversed", "escalation_bodies:\n  - {key: regional, name: RSC, from: 2022-07-01, to: 2014-09-01}\n"
     "  - {key: funding_body, name: F}\n  - {key: ofsted, name: Ofsted}\n", ["escalation body 'RSC'", "never be named"]),
    # {funding_bodies} raised a KeyError when the edition was built, naming no file.
    ("whistleblowing-placeholder", "academy_concerns: {whistleblowing: 'Redirect to {funding_bodies}.'}\n",
     ["academy_concerns.whistleblowing", "{funding_bodies}", "did you mean 'funding_body'"]),
])
def test_a_mistake_in_the_operating_blocks_is_refused_not_read_by_nothing(tmp_path, case, body, says):
    path = _reading(tmp_path, case, body)
    _assert_refused(path, says)


def test_a_dated_rows_column_the_feed_does_not_have_is_refused(tmp_path):
    """`inspection_dat`: no Ofsted row was set aside, so an inspection from after the term was used, unsaid."""
    path = _reading(tmp_path, "v-cols", "results_known:\n  dated_rows:\n"
                    "    ofsted: {columns: [inspection_dat, oeif_date], known_by: term_end}\n")
    _assert_refused(path, ["results_known.dated_rows.ofsted.columns", "'inspection_dat' is not a date column",
                           "did you mean 'inspection_date'"])


def test_a_special_school_type_one_letter_off_is_refused(tmp_path):
    """`Community special schol`: matched exactly, it matched no school, so special schools' results were judged
    against national (every one at high support with a Significant Concerns letter, by the shipped reading's note)."""
    path = _reading(tmp_path, "v-types", "results_not_compared: {school_types: [Community special schol, "
                    "Pupil referral unit, Hospital school], reason: x}\n")
    msg = _assert_refused(path, ["results_not_compared.school_types", "did you mean 'Community special school'"])
    assert "Hospital school" not in msg  # a type not near any known one is the LA's to name


@pytest.mark.parametrize("body, says", [
    # Two digits matched no LA: LA 936 silently kept the seed's rule set, its own reading not applied.
    ("la_codes: ['93']\n", ["la_codes[0]", "'93' is not an LA code"]),
    ("la_codes: [936]\n", ["la_codes[0]", "written in quotes (\"936\")"]),
    # These crashed the loader with a TypeError / AttributeError naming no file.
    ("criteria_replace: {id: QE-M5}\n", ["`criteria_replace:` is a list of whole entries"]),
    ("letters_replace: [SCL-1]\n", ["`letters_replace:` maps a letter to its indicators"]),
    ("letters_replace:\n  significant_concerns_letter: {id: SCL-1}\n", ["`letters_replace: significant_concerns_letter:`"]),
])
def test_a_reading_for_an_la_or_of_replacements_in_the_wrong_shape_is_refused(tmp_path, body, says):
    path = _reading(tmp_path, "v-shape", body)
    _assert_refused(path, says)


def test_a_what_if_with_another_las_rule_set_says_so():
    from factories import gias, term_data
    from school_improvement.decisions.what_if import compare_rule_sets
    from school_improvement.rules import load_rule_set

    rules = load_rule_set("cambs-2021-23")
    other = rules.model_copy(update={"id": "draft-936", "la_codes": ["936"]})
    warnings = compare_rule_sets(term_data(gias=[gias(990501)]), rules, other).warnings
    assert any("draft-936 serves LA 936, not LA 999" in w for w in warnings), warnings
    assert not [w for w in compare_rule_sets(term_data(gias=[gias(990501)]), rules, rules).warnings if "serves LA" in w]


def test_the_front_page_does_not_say_no_bullet_met_of_schools_with_too_few_for_a_level():
    import dataclasses
    import re

    from test_report import make_inputs

    from school_improvement.decisions.categorise import NO_EVIDENCE_PLACEMENT, SHORT_OF_MINIMUM
    from school_improvement.editions import render, report

    inputs = make_inputs(6)
    cat = inputs.categorisation.copy()
    cat.loc[cat["category"] == "medium", "reasons"] = (f"{SHORT_OF_MINIMUM} (met: (low) x [QE-L4]): "
                                                       + NO_EVIDENCE_PLACEMENT.format(level="medium"))
    ctx = report._context(dataclasses.replace(inputs, categorisation=cat), "general")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", render._environment().get_template("report.html.j2").render(**ctx)))
    assert "placed by the Strategy's default (no bullet met, or too few for a level, until an adviser visit)" in text
    seed = report._context(inputs, "general")
    assert seed["default_why"] == "no bullet met"


def test_a_what_if_between_rule_sets_with_different_levels_says_so():
    """Cambridgeshire against a reading with its levels renamed: "172 change category", every school, and no word why."""
    from factories import gias, term_data
    from school_improvement.decisions.what_if import compare_rule_sets
    from school_improvement.rules import load_rule_set

    a, b = load_rule_set("cambs-2021-23"), load_rule_set("northmoor-2024-27")
    warnings = compare_rule_sets(term_data(gias=[gias(990501)]), a, b).warnings
    assert any("different levels (cambs-2021-23: low, medium, high; northmoor-2024-27: universal" in w for w in warnings)
    assert not [w for w in compare_rule_sets(term_data(gias=[gias(990501)]), a, a).warnings if "different levels" in w]


def test_a_letters_opening_with_a_placeholder_the_draft_does_not_fill_is_refused(tmp_path):
    path = _reading(tmp_path, "v-open", "letters:\n  congratulations:\n    title: C\n    recognition: true\n"
                    "    opening: \"Dear {school}, congratulations on {term}\"\n"
                    "    indicators: [{id: CG-2, wording: x, evidence: [{indicator: attainment_significant_improvement}]}]\n"
                    "thresholds: {disadvantaged_accelerated_points: null}\n")
    with pytest.raises(RulesError) as err:
        load_rule_set_arg(str(path))
    msg = str(err.value)
    assert "letters.congratulations.opening" in msg and "names {school}" in msg and "{term}}" not in msg, msg
