"""What the reader must know about the data, in sentences: the front page's notes and each letter's data age."""

from __future__ import annotations

import re

import pandas as pd


# rule_set_review_date: the rule set is past its review date; fetched_source: a fetched copy not used
# (fetched_notes already gives each fetched copy's age).
# In the order the front page says them: that this edition replaces an earlier one of the term, and what changed;
# later terms' editions out of date until re-run (this term run after them,
# or re-run with other results) first, as the reader must act on it; then evidence dated after the edition's own
# date (the date printed on it is not the date of what it shows); then what changes how far the reader may rely on
# the edition (results too old to judge, how old the results are, files from after the term left unused, the LA's own
# schools in the results but not in the GIAS extract (a partial extract leaves schools uncategorised), feeds missing,
# a list of schools of the wrong day, a rule set past its review), so that a front page which can hold only the first
# few still says those (editions.front_page.data_notes).
NOTE_CHECKS = ("edition_replaced", "history_order", "after_edition_date", "results_too_old", "ofsted_category_unknown",
               "ofsted_category_not_current", "academy_predecessor_inspection", "data_age", "after_term", "term_date", "letters_log_ladder", "letters_log_school", "recognition_after_concern", "gias_closing_letter", "file_open",
               "folder_not_read", "own_schools_not_in_gias", "feed_missing", "feed_empty", "feed_set", "ward_spelling",
               "national_comparator", "gias_after_term", "gias_old", "rule_set_review_date", "rule_set_in_force", "term_calendar",
               "fetched_source", "gias_date", "no_summary_rows", "gias_close_date", "gias_open_date", "gias_column_missing", "year_in_name",
               "letters_flagged_again", "ofsted_category_blank", "ofsted_not_listed",
               # last: academies read on their own figures only (fewer concerns put to trusts, each academy's evidence
               # saying why), after every note on how far the edition may be relied on; Appendix A says it whenever
               # the front page's box is full
               "academy_predecessor_results")
# Within a check, warnings before the information lines (e.g. results out of date before the newest published).
_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def _sentence(text: str) -> str:
    text = str(text).strip()
    if text and not re.match(r"[^:\s]+\.(csv|xlsx)\b|[^:]+\.(csv|xlsx):", text):  # a file's name keeps its case
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def front_page_notes(frame: pd.DataFrame) -> list[str]:
    """Plain sentences for the report's front page: missing feeds, data age, files set aside, warnings."""
    if frame is None or frame.empty:
        return []
    # Checks about one file say which: the message alone ("the KS2 file has ...") would not tell the reader.
    named = ("no_summary_rows", "term_date", "ward_spelling", "letters_log_ladder", "letters_log_school",
             "recognition_after_concern")  # own_schools_not_in_gias names its files itself
    said = frame.loc[frame["check"].isin(NOTE_CHECKS)].to_dict("records")
    said.sort(key=lambda r: (NOTE_CHECKS.index(r["check"]), _SEVERITY_ORDER.get(str(r.get("severity", "")), 1)))
    said = _not_supplied_together(_too_old_together(_after_edition_together(said)))
    notes = list(dict.fromkeys(_sentence(f"{r['file']}: {r['message']}" if r["check"] in named else r["message"])
                               for r in said))
    # The results' ages, one sentence per kind (KS2, KS4, absence, census): one note, so that the notes after them
    # (the GIAS extract's date, the LA's schools it lacks) still fit the front page's box.
    ages = list(dict.fromkeys(_sentence(r["message"]) for r in said if r["check"] == "data_age"))
    if len(ages) > 1:
        first = notes.index(ages[0])
        notes = [n for n in notes if n not in ages]
        notes.insert(first, " ".join(ages))
    aside = frame[frame["check"].eq("set_aside")]
    if len(aside):
        n = sum(int(str(m).split(" ", 1)[0]) for m in aside["message"] if str(m).split(" ", 1)[0].isdigit())
        notes.append(f"{n} rows for schools not in this LA's GIAS extract were set aside from {len(aside)} "
                     "file(s) and not used.")
    # The report lists the other warnings file by file (report.data_notes).
    return notes


_TOO_OLD = re.compile(r"^(?P<label>.+?) are for (?P<year>\d{4}-\d\d), (?P<age>\d+ years? before \S+): (?P<rest>older than .+)$")


_USED_AFTER = re.compile(r"^(?P<file>.+?): (?P<what>\d+ .+?)(?: \(rows? [^)]*\))?, dated after (?P<on>.+?), the date "
                         r"of this edition \(as_of\), up to (?P<last>\d+ \w+ \d{4}), (?:were|was) used .* as_of "
                         r"(?P<iso>\d{4}-\d\d-\d\d)$")


def _after_edition_together(said: list[dict]) -> list[dict]:
    """The files whose rows dated after the edition's date were used (quality.data_age, `edition_date.after:
    said`; one row per file in data_quality.csv) are one sentence on the front page, where the first stood: the
    date the edition shows what was known by, and the as_of that would date it so."""
    rows = [(r, _USED_AFTER.match(str(r["message"]))) for r in said if r["check"] == "after_edition_date"]
    rows = [(r, m) for r, m in rows if m]
    if not rows:
        return said
    latest = max(rows, key=lambda rm: rm[1]["iso"])[1]
    parts = "; ".join(f"{m['what']} ({m['file']})" for _, m in rows)
    one = {**rows[0][0], "check": "after_edition_date", "message": (
        f"This edition is dated {rows[0][1]['on']} but uses evidence dated after it, up to {latest['last']}: {parts}. "
        f"It shows what was known by {latest['last']}, not by its date; to date it so, run the term again with "
        f"as_of {latest['iso']}")}
    gone = [r for r, _ in rows]
    first = said.index(gone[0])
    rest = [r for r in said if r not in gone]
    return rest[:first] + [one] + rest[first:]


_SHOULD_EXIST = re.compile(r"but (?P<year>\d{4}-\d\d) figures should exist")


def _too_old_together(said: list[dict]) -> list[dict]:
    """The kinds of results too old to judge (quality.data_age.too_old_problems, one row per file in
    data_quality.csv) are one sentence on the front page, where the first stood: "KS2 results, KS4 results and
    absence figures are for 2018-19, 7 years before 2025-26: older than ...". The same files' data_age sentences
    (how old, and which newer figures should exist) are folded into it: said once, so the box keeps its room."""
    rows = [(r, _TOO_OLD.match(str(r["message"]))) for r in said if r["check"] == "results_too_old"]
    rows = [(r, m) for r, m in rows if m]
    if not rows or len({m["rest"] for _, m in rows}) != 1:
        return said
    m0 = rows[0][1]
    labels = [m["label"] for _, m in rows]
    if len({(m["year"], m["age"]) for _, m in rows}) == 1:  # of one year, as a landing folder usually is
        named = labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"
        text = f"{named} are for {m0['year']}, {m0['age']}: {m0['rest']}"
    else:
        parts = [f"{m['label']} ({m['year']}, {m['age']})" for _, m in rows]
        text = f"{', '.join(parts[:-1])} and {parts[-1]} are {m0['rest']}"
    label_of = {str(r["file"]): m["label"] for r, m in rows}
    ages = [r for r in said if r["check"] == "data_age" and str(r["file"]) in label_of]
    newer = [f"{label_of[str(r['file'])]} {m['year']}" for r in ages
             for m in [_SHOULD_EXIST.search(str(r["message"]))] if m]
    if newer:  # the data_age sentences' "but 2021-22 figures should exist", in a few words: published, not given
        text = f"{text.rstrip('.')} (newer figures are published, not supplied: {', '.join(newer)})"
    one = {**rows[0][0], "message": text}
    gone = [r for r, _ in rows] + ages
    first = said.index(rows[0][0])
    rest = [r for r in said if r not in gone]
    first = len([r for r in said[:first] if r not in gone])
    return rest[:first] + [one] + rest[first:]


# How the front page names a kind of LA-held file in the one sentence that lists those not supplied.
_KIND_NAMES = {"adviser_judgements": "adviser judgements", "la_intelligence": "LA intelligence",
               "letters_log": "letters log", "moderation": "moderation", "ward_members": "ward members",
               "laig_notes": "LAIG notes"}


def _not_supplied_together(said: list[dict]) -> list[dict]:
    """Three or more LA-held files not supplied at all (a county running on published data alone) are one sentence,
    each with what it leaves unjudged, where the first of them stood: six separate lines would push the notes
    that follow them (the list of schools' day, the rule set's review) off the front page."""
    gone = [r for r in said if r["check"] == "feed_missing" and str(r.get("file", "")).startswith("(no ")
            and str(r.get("feed_kind", "")) in _KIND_NAMES]
    if len(gone) < 3:
        return said

    def part(r):
        _, sep, then = str(r["message"]).partition(": ")
        name = _KIND_NAMES[str(r["feed_kind"])]
        return f"{name} ({then.strip().rstrip('.')})" if sep else name

    one = {**gone[0], "message": "Not supplied, of the LA's own files: " + "; ".join(part(r) for r in gone)}
    first = said.index(gone[0])
    rest = [r for r in said if r not in gone]
    return rest[:first] + [one] + rest[first:]


def age_notes(frame: pd.DataFrame) -> dict[str, str]:
    """Feed kind -> how old its figures are (the data_age sentence), for each letter's evidence."""
    if frame is None or frame.empty:
        return {}
    rows = frame[frame["check"].eq("data_age") & frame["feed_kind"].astype(str).ne("")]
    return {str(r["feed_kind"]): _sentence(r["message"]) for r in rows.to_dict("records")}


# Words in a letter's evidence that show which feed it rests on.
EVIDENCE_WORDS = {"ks2": ("KS2",), "ks4": ("KS4", "Attainment 8", "Progress 8"), "absence": ("absence",),
                  "census": ("census",)}


def with_data_age(text: str, ages: dict[str, str]) -> str:
    """The evidence, followed by how old the figures it cites are."""
    text = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    extra = [ages[k] for k, words in EVIDENCE_WORDS.items()
             if k in ages and any(w.lower() in text.lower() for w in words)]
    return text + "".join(f" [Data age: {a}]" for a in extra) if extra else text
