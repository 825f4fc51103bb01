"""What the reader must know about the data, in sentences: the front page's notes and each letter's data age."""

from __future__ import annotations

import pandas as pd


# rule_set_review_date: the rule set is past its review date; fetched_source: a fetched copy not used
# (fetched_notes already gives each fetched copy's age).
# In the order the front page says them: what changes how far the reader may rely on the edition comes first
# (how old the results are, files from after the term left unused, feeds missing, a list of schools of the wrong
# day, a rule set past its review), so that a front page which can hold only the first few still says those
# (editions.front_page.data_notes).
NOTE_CHECKS = ("data_age", "after_term", "feed_missing", "feed_empty", "feed_set", "national_comparator",
               "gias_after_term", "gias_old", "rule_set_review_date", "own_schools_not_in_gias", "term_calendar",
               "fetched_source", "gias_date", "no_summary_rows")
# Within a check, warnings before the information lines (e.g. results out of date before the newest published).
_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def _sentence(text: str) -> str:
    text = str(text).strip()
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "?")) else text + "."


def front_page_notes(frame: pd.DataFrame) -> list[str]:
    """Plain sentences for the report's front page: missing feeds, data age, files set aside, warnings."""
    if frame is None or frame.empty:
        return []
    # Checks about one file say which: the message alone ("the KS2 file has ...") would not tell the reader.
    named = ("no_summary_rows",)  # own_schools_not_in_gias names its files itself
    said = frame.loc[frame["check"].isin(NOTE_CHECKS)].to_dict("records")
    said.sort(key=lambda r: (NOTE_CHECKS.index(r["check"]), _SEVERITY_ORDER.get(str(r.get("severity", "")), 1)))
    said = _not_supplied_together(said)
    notes = list(dict.fromkeys(_sentence(f"{r['file']}: {r['message']}" if r["check"] in named else r["message"])
                               for r in said))
    aside = frame[frame["check"].eq("set_aside")]
    if len(aside):
        n = sum(int(str(m).split(" ", 1)[0]) for m in aside["message"] if str(m).split(" ", 1)[0].isdigit())
        notes.append(f"{n} rows for schools not in this LA's GIAS extract were set aside from {len(aside)} "
                     "file(s) and not used.")
    # The report lists the other warnings file by file (report.data_notes).
    return notes


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
