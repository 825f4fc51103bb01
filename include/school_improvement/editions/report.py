"""Termly report for managers: a PDF plus CSVs and a workbook, in a RESTRICTED and a GENERAL edition.

This module holds what an edition is made from (`ReportInputs`) and puts an edition together (`build_edition`); each
job it calls is a module of its own: `confidentiality` (the general view, the one place that decides what is
confidential, so the PDF and the CSVs can never disagree about what they leave out), `tables` (CSV layouts, formula
and bidi neutralisation), `charts`, `front_page`, `profiles`, `render` (Jinja2 and the tagged PDF write) and `drafts`.

Determinism: the only date written anywhere is `inputs.run_date` (also the PDF's creation date),
charts are SVG with a fixed hash salt and no date, and the PDF identifier is derived from the
content, so identical inputs give byte-identical files.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .cells import LEVEL_LABELS, _is_na, _records, _term_sort_key, _text, _urn_key, _with_int_urn
from .charts import (GAP_CHART_MAX_SCHOOLS, chart_disadvantaged_gap, chart_distribution, chart_vs_national,
                     level_colours)
from .charts import LEVEL_COLOURS
from .confidentiality import general_view
from .drafts import WEEKDAY_DEADLINES, render_drafts
from ..decisions.categorise import SHORT_OF_MINIMUM
from .front_page import (FRONT_ROOMS, evidence_in_words, fits_one_page, front_keys, movers, one_line_reason,
                         placed_by_default)
from .profiles import _bullets, _figures, letter_triggers, table_reasons
from .render import _layout, _write
from .tables import CSV_SPECS, RESTRICTED_ONLY_CSVS, WORKBOOK_NAME, _sorted, with_decisions, write_csv
from ..terms import Term


EDITIONS = ("restricted", "general")


@dataclass
class ReportInputs:
    la_code: str
    la_name: str
    term: str  # "2025-26-autumn"
    rule_set_id: str
    rule_set_title: str
    run_date: datetime.date
    categorisation: pd.DataFrame
    evidence: pd.DataFrame
    history: pd.DataFrame  # urn, term, category (recent terms including this one)
    indicators: pd.DataFrame
    letters: pd.DataFrame
    academy_concerns: pd.DataFrame
    member_alerts: pd.DataFrame
    data_quality: pd.DataFrame
    provenance: pd.DataFrame  # file, kind, academic_year, rows, sha256
    drafts: list[dict] = field(default_factory=list)
    # The rule set's levels, least support first (an LA's own may be named and counted otherwise): the level table,
    # the transitions and the movers follow them.
    levels: tuple[str, ...] = ("low", "medium", "high")
    laig_notes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["urn", "meeting_date", "key_points", "notes"]))
    academy_note: str = ""  # e.g. where whistleblowing about an academy is redirected
    # The rule set's own review date: the front page says it, and that the rule set is past it when the term starts
    # after it (the Strategy may no longer be the LA's policy).
    rule_set_review_by: datetime.date | None = None
    # This term's LA-intelligence flags (urn, flag, severity, detail, raised_by_team, raised_on): restricted only.
    intelligence: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["urn", "flag", "severity", "detail", "raised_by_team", "raised_on"]))
    data_notes: list = field(default_factory=list)  # plain sentences for the front page: missing feeds, data age, warnings
    # Names of school staff (GIAS headteachers): the general edition withholds them wherever they appear.
    staff_names: list[str] = field(default_factory=list)
    # The letters' and academy concerns' checks (decisions.letters.decision_evidence): evidence.csv, restricted only.
    decision_evidence: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The rule set's words for the disadvantaged-gap page (title, why); empty: plain words naming no Strategy.
    gap_section: dict = field(default_factory=dict)


def _row_number(v):
    """A file's row number as written in data_quality.csv (a whole number), else the value as it is."""
    return int(v) if isinstance(v, float) and v == v and v.is_integer() else v


def _previous_term(history: pd.DataFrame, term: str) -> str | None:
    earlier = [t for t in map(str, history["term"].dropna().unique()) if _term_sort_key(t) < _term_sort_key(term)]
    return max(earlier, key=_term_sort_key) if earlier else None


def _context(inputs: ReportInputs, edition: str) -> dict:
    inputs = dataclasses.replace(inputs, **{
        name: _with_int_urn(getattr(inputs, name))
        for name in ("categorisation", "evidence", "history", "letters", "laig_notes", "intelligence")
    })
    cat = _sorted(inputs.categorisation, ["urn"])
    n = len(cat)
    cats = cat["category"].astype(object).map(_text) if n else pd.Series(dtype=object)
    order = list(reversed(inputs.levels))  # most support first, as the report lists them
    vocab = list(LEVEL_LABELS)  # another rule set's levels: most support first too, by the vocabulary's order
    others = lambda found: sorted(found, key=lambda c: (-vocab.index(c) if c in vocab else 1, c))  # noqa: E731
    levels = order + others(set(cats) - set(order) - {""})
    level_rows = [
        {"level": c, "label": LEVEL_LABELS.get(c, c), "count": int((cats == c).sum()),
         "pct": (100.0 * (cats == c).sum() / n) if n else None}
        for c in levels
    ]

    # The Strategy's default (no bullet met) is not a judgement: its schools are counted on a line of their own.
    default = pd.Series([placed_by_default(s) for s in _records(cat)], index=cat.index, dtype=bool) if n else \
        pd.Series(dtype=bool)
    for r in level_rows:
        r["by_default"] = int((default & (cats == r["level"])).sum()) if n else 0

    gob = cat["good_or_better"] if "good_or_better" in cat.columns else pd.Series(dtype=object)
    gob_known = gob[gob.map(lambda v: not _is_na(v))]
    good = {"yes": int(gob_known.map(bool).sum()), "known": len(gob_known), "unknown": n - len(gob_known),
            "pct": (100.0 * gob_known.map(bool).sum() / n) if n else None}

    history = inputs.history.copy()
    history["term"] = history["term"].astype(str)
    prev = _previous_term(history, inputs.term)
    if prev:  # last term's counts as last term's report showed them (whole LA, from the history)
        last = history[history["term"] == prev].drop_duplicates("urn", keep="last")["category"].astype(object).map(_text)
        for c in others(set(last) - set(levels) - {""}):  # a level of last term's rule set only: say where it went
            levels.append(c)
            level_rows.append({"level": c, "label": LEVEL_LABELS.get(c, c), "count": 0, "pct": 0.0 if n else None,
                               "by_default": 0})
        # Last term at levels this rule set does not have (the LA renamed its levels): the counts are shown side by
        # side, but a difference of two schemes' counts is no change ("+128" beside "not compared"): none is given,
        # and the table has no Change column (the movers' sentence says the levels are not compared).
        renamed = bool(set(last) - set(inputs.levels) - {""})
        for r in level_rows:
            r["previous"] = int((last == r["level"]).sum())
            r["change"] = None if renamed else r["count"] - r["previous"]
    levels_compared = bool(prev) and all(r.get("change") is not None for r in level_rows)
    transitions = None
    if prev:
        before = history[history["term"] == prev].drop_duplicates("urn", keep="last").set_index("urn")["category"]
        from_cat = cat["urn"].map(before).map(lambda v: _text(v) or "new")
        tab = pd.crosstab(from_cat.rename("from"), cats.rename("to"))
        row_order = [c for c in (*order, "new") if c in tab.index] + sorted(set(tab.index) - {*order, "new"})
        col_order = [c for c in order if c in tab.columns] + sorted(set(tab.columns) - set(order))
        tab = tab.reindex(index=row_order, columns=col_order, fill_value=0)
        transitions = {"previous_term": prev, "columns": col_order,
                       "rows": [{"from": r, "cells": [int(tab.at[r, c]) for c in col_order]} for r in row_order]}

    # "Since last term" only when it was last term: a history that skips terms is compared with, and says, its last.
    since = "since last term"
    if prev and prev != str(Term.parse(inputs.term).previous()):
        since = f"since {prev}, the last term on record (not the term before this one)"
    # Good or better is not known without an Ofsted file, nor when the file holds none of the LA's schools.
    no_file = "ofsted" not in set(inputs.provenance.get("kind", pd.Series(dtype=object)).astype(str))
    ofsted_unknown = ("because no Ofsted file was supplied" if no_file else
                      "because the Ofsted file holds no judgement for any of the LA's schools" if n and not good["known"]
                      else None)
    # Letters that rest on figures the data box calls out of date say so where the Director approves them (results
    # of an unknown year are said in the data box, but are not known to be old).
    from ..quality.data_age import OUT_OF_DATE

    # Only the feeds a letter's evidence cites count: real Surrey's letters all rest on KS2 results that are the newest
    # published, and its out-of-date census put "older than they should be" above them.
    from ..quality.notes import EVIDENCE_WORDS

    dq = inputs.data_quality
    old_kinds = set(dq.loc[dq["check"].astype(str).eq("data_age") & dq["severity"].astype(str).eq("warning")
                           & dq["message"].astype(str).str.contains(OUT_OF_DATE, regex=False), "feed_kind"]
                    .astype(str)) if len(dq) else set()
    cited = " ".join(str(v).lower() for c in ("evidence", "evidence_general") if c in inputs.letters
                     for v in inputs.letters[c] if isinstance(v, str))
    letters_on_old_data = any(w.lower() in cited for k in old_kinds for w in EVIDENCE_WORDS.get(k, ()))
    # Letters drafted last term too with none logged as sent (decisions.letters.flagged_again_problem, whose message
    # leads with the count): said where the Director approves them, not only in the data notes (real Surrey spring:
    # Appendix A only, the box reading as 24 new letters).
    again = dq.loc[dq["check"].astype(str).eq("letters_flagged_again"), "message"].astype(str) if len(dq) else []
    letters_again = next((int(m.group(1)) for m in (re.match(r"(\d+) letter\(s\) flagged", x) for x in again) if m),
                         0)

    # Drafts whose deadlines were counted in weekdays (no term dates for the year): said where the Director approves
    # them, not only in the data notes the front page has room for.
    weekday_deadlines = next(iter(dq.loc[dq["check"].astype(str).eq(WEEKDAY_DEADLINES), "message"].astype(str)), "") \
        if len(dq) else ""
    letters = _sorted(inputs.letters, ["urn", "letter"])
    letter_counts = (
        [{"letter": k, "count": int(v)} for k, v in letters["letter"].value_counts().sort_index().items()]
        if not letters.empty else []
    )

    dist_uri, dist_alt, _ = chart_distribution(history, inputs.term, inputs.levels)
    charts = {"distribution": {"uri": dist_uri, "alt": dist_alt}}
    ind = inputs.indicators
    if not ind.empty:
        uri, alt = chart_vs_national(ind)
        charts["national"] = {"uri": uri, "alt": alt}
        uri, alt = chart_disadvantaged_gap(ind)
        charts["gap"] = {"uri": uri, "alt": alt}

    by_level = [
        {"level": c, "label": LEVEL_LABELS.get(c, c),
         "schools": [{**s, "short_reason": one_line_reason(s)} for s in _records(cat[cats == c])]}
        for c in levels if (cats == c).any()
    ]
    moved = movers(cat, inputs.levels)
    # Last term at a level this rule set does not have (the LA changed its rule set, e.g. renamed its levels): not
    # compared, and not new either.
    before_levels = cat["previous_category"].map(_text) if "previous_category" in cat.columns else pd.Series(dtype=object)
    other_levels = sorted({v for v in before_levels if v and v not in inputs.levels})
    n_other_levels = int(before_levels.isin(other_levels).sum())
    new_schools = int(cat["previous_category"].map(lambda v: _text(v) == "").sum()) \
        if "previous_category" in cat.columns else 0
    academies = _records(_sorted(inputs.academy_concerns, ["urn"]))
    ind_by_urn = ({int(r["urn"]): r for r in _records(_with_int_urn(ind)) if r.get("urn") is not None}
                  if not ind.empty and "urn" in ind.columns else {})

    # Profiles in both editions; the general one is built from the general view, so the confidential detail
    # (LAIG, LA intelligence, adviser notes) is already gone from what it is given.
    terms = sorted(history["term"].unique(), key=_term_sort_key)
    hist_by_urn = _terms_by_urn(history)
    # Each table's records once, grouped by school, rather than a frame per school turned into records (a pandas
    # `to_dict` per school and table: half of this context's CPU); the same records in the same order.
    let_by_urn = _records_by_urn(letters)
    laig_by_urn = _records_by_urn(_sorted(inputs.laig_notes, ["urn", "meeting_date"]))
    intel_by_urn = _records_by_urn(_sorted(inputs.intelligence, ["urn", "raised_on", "flag"]))
    profiles = []
    for school in _records(cat):
        u = school["urn"]
        h = hist_by_urn.get(u, {})
        figures = _figures(ind_by_urn.get(u))
        profiles.append({
            "school": school,
            "trend": [{"term": t, "category": _text(h.get(t))} for t in terms[-6:]],
            "figures": figures,
            "bullets": _bullets(school, table_reasons(figures)),
            "letters": [{**r, "triggers": letter_triggers(r)} for r in let_by_urn.get(u, ())],
            "laig": list(laig_by_urn.get(u, ())),
            "intelligence": list(intel_by_urn.get(u, ())),
        })

    return {
        "edition": edition,
        "edition_label": edition.upper(),
        "la_code": inputs.la_code,
        "la_name": inputs.la_name,
        "term": inputs.term,
        "rule_set_id": inputs.rule_set_id,
        "rule_set_title": inputs.rule_set_title,
        "rule_set_review_by": inputs.rule_set_review_by.isoformat() if inputs.rule_set_review_by else "",
        "rule_set_past_review": bool(inputs.rule_set_review_by
                                     and Term.parse(inputs.term).dates()[0] > inputs.rule_set_review_by),
        "run_date": inputs.run_date.isoformat(),
        "run_date_long": f"{inputs.run_date.day} {inputs.run_date:%B %Y}",
        "n_schools": n,
        "level_rows": level_rows,
        "previous_term": prev,
        "levels_compared": levels_compared,
        "movers": moved,
        "n_more_support": sum(m["more_support"] and not m["by_default"] and not m.get("from_default") for m in moved),
        "n_less_support": sum(not m["more_support"] and not m["by_default"] and not m.get("from_default") for m in moved),
        "n_moved_by_default": sum(m["by_default"] for m in moved),
        "n_moved_from_default": sum(bool(m.get("from_default")) for m in moved),
        "n_new_schools": new_schools, "n_other_levels": n_other_levels,
        # Placed at the default with bullets met, but too few for a level (a rule set's min_bullets): not "none met".
        **({"default_why": "no bullet met, or too few for a level",
            "default_because": "no bullet was met, or too few for a level"}
           if "reasons" in cat and cat["reasons"].astype(str).str.contains(SHORT_OF_MINIMUM, regex=False).any() else
           {"default_why": "no bullet met", "default_because": "no bullet was met"}),
        "other_levels_sentence": (f"{n_other_levels} school{'s were' if n_other_levels != 1 else ' was'} last term at "
                                  f"{'levels' if len(other_levels) != 1 else 'a level'} this rule set does not have "
                                  f"({', '.join(other_levels)}): not compared with their level now."),
        **front_keys(inputs, moved, academies, FRONT_ROOMS[0]),
        "front_only": False,  # the whole edition (build_edition lays the front page out alone to choose its room)
        "gap_chart_max": GAP_CHART_MAX_SCHOOLS,
        "gap_section": inputs.gap_section,
        # The report's CSS colours the seed's levels; a rule set's own levels (universal ... intensive) take the charts'
        # colour for their place in its order, not grey, so a badge reads as the same level in the table and the chart.
        "badge_styles": {lv: f"background: {c}; color: {'#111' if c in ('#f4a582', '#92c5de') else '#fff'}"
                         for lv, c in level_colours(inputs.levels).items() if lv not in LEVEL_COLOURS},
        "good": good,
        "no_ofsted": ofsted_unknown,
        "since": since,
        "letters_on_old_data": letters_on_old_data,
        "letters_again": letters_again,
        "letters_weekday_deadlines": weekday_deadlines,
        "transitions": transitions,
        "letter_counts": letter_counts,
        "n_letters": len(letters),
        # Evidence in words, as the front page's: "LA intelligence: risk of serious weaknesses ..." (the general
        # edition printed the flag codes, "sw_sm_risk (detail restricted)"), adviser judgements without criterion ids.
        # An escalation whose note is its whole evidence ("Warning Notice issued ...; concerns remain") is printed once.
        "letters_table": [{**r, "evidence": evidence_in_words(_text(r.get("evidence"))),
                           "escalation_same": _text(r.get("escalation_note")) == _text(r.get("evidence"))}
                          for r in _records(letters)],
        "n_academy_concerns": int(inputs.academy_concerns["urn"].nunique()) if not inputs.academy_concerns.empty else 0,
        "academy_note": inputs.academy_note,
        "academy_concerns": [{**a, "evidence": evidence_in_words(_text(a.get("evidence")))} for a in academies],
        "charts": charts,
        "by_level": by_level,
        "profiles": profiles,
        # Appendix A: a row number as the file's row ("7", not "7.0": the column holds blanks, so pandas reads floats).
        "data_quality": [{**q, "row": _row_number(q.get("row"))}
                         for q in _records(_sorted(inputs.data_quality, CSV_SPECS["data_quality.csv"][1]))],
        # Appendix B: a file's rows as a whole number too (a file with no count makes the column floats).
        "provenance": [{**f, "rows": _row_number(f.get("rows"))}
                       for f in _records(_sorted(inputs.provenance, ["kind", "file"]))],
    }


def _records_by_urn(frame: pd.DataFrame) -> dict:
    """urn -> the frame's records for it (`_records`), in the frame's order: as `_records` of each group of
    `frame.groupby("urn", sort=False)`, whose groups leave out rows without a URN."""
    out: dict = {}
    if frame.empty:
        return out
    for r in _records(frame):
        if r["urn"] is not None:
            out.setdefault(r["urn"], []).append(r)
    return out


def _terms_by_urn(history: pd.DataFrame) -> dict:
    """urn -> {term: category}, as `g.set_index("term")["category"]` per school read with `.get(term)`; a school
    with a term twice keeps that Series (its `.get` answers with both rows)."""
    out: dict = {}
    for u, g in history.groupby("urn", sort=False):
        terms, cats = g["term"].tolist(), g["category"].tolist()
        out[u] = dict(zip(terms, cats)) if len(set(terms)) == len(terms) else g.set_index("term")["category"]
    return out


def build_edition(inputs: ReportInputs, out_dir: Path, edition: str) -> list[Path]:
    """Write one edition into out_dir and return the files written (sorted)."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, not {edition!r}")
    view = inputs if edition == "restricted" else general_view(inputs)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # A re-run into the same folder must not leave last run's drafts (or restricted files) behind.
    shutil.rmtree(out_dir / "drafts", ignore_errors=True)
    (out_dir / "evidence.csv").unlink(missing_ok=True)
    written: list[Path] = []

    frames = {
        "categorisation.csv": view.categorisation, "letters.csv": view.letters,
        "academy_concerns.csv": view.academy_concerns, "member_alerts.csv": view.member_alerts,
        "data_quality.csv": view.data_quality, "evidence.csv": with_decisions(view.evidence, view.decision_evidence),
    }
    sheets = {}
    for name, (columns, keys) in CSV_SPECS.items():
        if name in RESTRICTED_ONLY_CSVS and edition != "restricted":
            continue
        path = out_dir / name
        frame = _sorted(frames[name], keys)
        write_csv(frame, path, columns)
        written.append(path)
        sheets[name.removesuffix(".csv")] = (frame, columns)  # the workbook: the same frames as the CSVs
    from .workbook import write_workbook

    written.append(write_workbook(sheets, out_dir / WORKBOOK_NAME, inputs.run_date, level_colours(inputs.levels)))

    path = out_dir / "report.pdf"
    context = _context(view, edition)
    # How much the front page names (its room) is chosen on the front page alone, laid out with only the start of
    # the contents after it: a busy term (real Surrey: no LA-held files, old results, schools leaving) overfilled
    # the first room, and the whole edition was laid out twice, a third of its CPU. The front page's own layout
    # does not depend on what follows it, except its page references ("listed on page N"), which point to page 2
    # there: never wider than in the edition, so a room the front page alone overfills, the edition would too.
    # The edition laid out whole is still what decides; the last room is taken whatever it holds, as before.
    for i, room in enumerate(FRONT_ROOMS):
        if i:  # many movers, long notes, schools leaving and joining at once: naming less
            context.update(front_keys(view, context["movers"], context["academy_concerns"], room))
        last = i == len(FRONT_ROOMS) - 1
        if not last and not fits_one_page(_layout("report.html.j2", {**context, "front_only": True})[0]):
            continue
        doc, identifier = _layout("report.html.j2", context)
        if last or fits_one_page(doc):
            break
    _write(doc, path, identifier, context["run_date"], release_layout=True)
    written.append(path)

    if edition == "restricted":
        drafts = sorted(view.drafts, key=lambda d: (_urn_key(d.get("urn")), _text(d.get("letter"))))
        written += render_drafts(view, drafts, out_dir / "drafts")
    return sorted(written)
