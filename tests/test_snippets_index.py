"""The general edition's snippet search (confidentiality.Snippets) answers as the plain scan does,
`any(s in text for s in snippets)`, including for many snippets under one head (a county's adviser judgements all
begin "adviser judgement on"), which the index holds by length."""

import random

from school_improvement.editions.confidentiality import SNIPPET_MIN, Snippets


def _plain(snippets, text):
    return any(s in text for s in snippets)


def test_found_in_answers_as_the_plain_scan():
    rng = random.Random(13)
    names = ["A. Smith", "B. Jones", "C. Li", "Dee Oyelaran-Price"]
    snippets = {f"adviser judgement on LM-H{n} ({rng.choice(names)}, visit 2025-{m:02d}-1{d}): met"
                for n in range(1, 9) for m in range(1, 13) for d in range(3)}
    snippets |= {"safeguarding referral pending", "Head on long-term leave", "advise", "adviser"}
    index = Snippets(snippets)
    texts = [s for s in list(snippets)[:40]]
    texts += [f"Leadership: {s} and more" for s in list(snippets)[40:80]]
    texts += [s[:-1] for s in list(snippets)[:40]]  # one character short: not found
    texts += [s.replace("visit", "visits") for s in list(snippets)[:40]]
    texts += ["adviser judgement on LM-H1 (A. Smith, visit 2024-01-10): met", "", "advis", "an adviser said",
              "safeguarding referral pendin", "x" * SNIPPET_MIN, "Head on long-term leave; other"]
    hits = [index.found_in(t) for t in texts]
    assert hits == [_plain(snippets, t) for t in texts]
    assert any(hits) and not all(hits)


def test_short_snippets_a_caller_passes_are_still_found():
    index = Snippets({"Yes", "confidential detail"})
    assert index.found_in("Yes it was") and index.found_in("the confidential detail here")
    assert not index.found_in("no") and not index.found_in("confidential detai")


def test_names_withheld_as_the_plain_alternation_withholds_them():
    """The staff-name search built as a tree finds at each place the longest name written there, as the plain
    alternation of the names sorted longest first does: the same replacements, cell by cell."""
    import re

    from school_improvement.editions.confidentiality import NAME_WITHHELD, _longest_first

    rng = random.Random(7)
    names = {"Mrs Barnes", "Kate Barnes", "Kate Barnesworth", "Mr Li", "Mr Lee", "Mr Leeds", "Ann Lee", "Anne Lee",
             "Mary Jane O'Neil", "Dr Oyelaran-Price", "Jo Smith", "Jo Smithson"}
    names |= {f"Mx Tester{n}" for n in range(300)}
    ordered = sorted(names, key=len, reverse=True)
    plain = re.compile("|".join(re.escape(n) for n in ordered))
    words = [*ordered[:20], "Mr", "Le", "the head", "; ", "Barnes", "Kate Barne", "Mx Tester3x", "Mr Leedsy"]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 6))) for _ in range(400)]
    tree = _longest_first(ordered)
    assert [tree.sub(NAME_WITHHELD, t) for t in texts] == [plain.sub(NAME_WITHHELD, t) for t in texts]
    assert tree.sub(NAME_WITHHELD, "Kate Barnesworth and Mr Leeds") == f"{NAME_WITHHELD} and {NAME_WITHHELD}"
