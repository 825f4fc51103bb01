"""The demo LA logs the letters a term's edition drafted, as an LA that signs and sends them does.

The demo's letters log (letters_log.csv in each term's landing folder) is generated before any run, so it holds only
the letters the demo's scenarios planned. Run term after term, the next term's ladder then found almost every letter
of the term before "flagged again" (the demo's spring edition led with 53 of them): not what a new user's first
edition of an LA that logs what it sends looks like. After a demo term is run (`make run`), this reads the letters
of that term's published edition (restricted/letters.csv) and adds them to the letters log of every later term's
landing folder, dated in the weeks after the run: the LA signs and sends them, and the ladder goes on from them.
Demo only: the product itself never guesses that a drafted letter was sent; the LA's log says so.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from school_improvement.terms import Term
from school_improvement.vocabulary import VOCAB

from .demo_generator import _DIRECTOR, LA_FEED_COLUMNS, _rand_day

LOG = "letters_log.csv"
# As the generated log: the Director signs the rungs at the top of the ladder, the Head of School Improvement the rest.
_SIGNED_BY_DIRECTOR = ("warning_notice", "significant_concerns")
_HEAD = "Head of School Improvement (demo)"


def edition_letters(shared_drive, la_code: str, term: str) -> Path:
    """restricted/letters.csv of the term's current edition on the shared drive."""
    from school_improvement.publish.edition import _term_dir, read_current

    current = read_current(Path(shared_drive), la_code, term)
    if not current or not current.get("edition"):
        raise FileNotFoundError(f"no published edition of {term} for LA {la_code} under {shared_drive} "
                                f"(current.json missing): run the term first")
    return _term_dir(Path(shared_drive), la_code, term) / current["edition"] / "restricted" / "letters.csv"


def _edition_rows(letters_csv: Path) -> list[dict]:
    """The edition's letters, and the academy route steps beside them (academy_concerns.csv: the step taken)."""
    out = []
    with open(letters_csv, encoding="utf-8-sig", newline="") as f:
        out += list(csv.DictReader(f))
    academies = letters_csv.with_name("academy_concerns.csv")
    if academies.exists():
        with open(academies, encoding="utf-8-sig", newline="") as f:
            out += [{**r, "letter": r["next_step"], "indicators": r.get("concerns", "")} for r in csv.DictReader(f)
                    if r.get("next_step") in VOCAB.letters]
    return out


def _sent_rows(letters_csv: Path, term: Term, seed: int) -> list[dict]:
    _start, end = term.dates()
    rows = []
    for r in _edition_rows(letters_csv):
        if r.get("term") != str(term):
            continue
        urn, letter = int(r["urn"]), r["letter"]
        flagged = date.fromisoformat(r["flagged_on"])
        # Signed and sent in the weeks after the run, within the term (as the generated log's letters).
        issued = _rand_day(np.random.default_rng([seed, 8, urn, 500]), flagged + timedelta(days=1),
                           max(flagged + timedelta(days=1), min(flagged + timedelta(days=21), end - timedelta(days=5))))
        rows.append({"urn": urn, "letter": letter,
                     "concern": "" if letter == "congratulations" else r.get("indicators", ""),
                     "issued_on": issued.isoformat(),
                     "issued_by": _DIRECTOR if letter in _SIGNED_BY_DIRECTOR or letter.startswith("academy")
                     else _HEAD, "term": str(term)})
    return rows


def log_sent_letters(landing_root, la_code: str, term: str, letters_csv, seed: int = 2025) -> dict[str, int]:
    """Add `term`'s letters from `letters_csv` to the letters log of each later term in the landing; a letter
    already logged for the term (same URN and letter) is not added twice. Returns rows added per term folder."""
    t = Term.parse(str(term))
    sent = _sent_rows(Path(letters_csv), t, seed)
    added = {}
    for folder in sorted(Path(landing_root, str(la_code)).iterdir()):
        try:
            later = Term.parse(folder.name)
        except ValueError:
            continue
        log = folder / LOG
        if later <= t or not log.exists():
            continue
        with open(log, encoding="utf-8", newline="") as f:
            have = list(csv.DictReader(f))
        logged = {(str(r["urn"]), r["letter"], r["term"]) for r in have}
        new = [r for r in sent if (str(r["urn"]), r["letter"], r["term"]) not in logged]
        cols = LA_FEED_COLUMNS["letters_log"]
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for r in [*have, *new]:
            w.writerow([r.get(c, "") for c in cols])
        log.write_text(buf.getvalue(), encoding="utf-8", newline="")  # the whole log, replaced
        added[folder.name] = len(new)
    return added
