"""The one confidentiality policy: `general_view(inputs)` decides what leaves the restricted edition, so the general
PDF, CSVs and workbook can never disagree about what they leave out. Confidential detail is generalised by kind
("LA intelligence: safeguarding concern (detail restricted)"), staff names are withheld."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

import pandas as pd

from .cells import SOURCE_LABELS, _is_true, _text, _urn_key

if TYPE_CHECKING:
    from .report import ReportInputs


RESTRICTED_TEXT = "(detail restricted)"
NAME_WITHHELD = "(name withheld)"


def _generalised_reason(row) -> str:
    source = _text(row.get("source"))
    label = SOURCE_LABELS.get(source, source.replace("_", " ") or "LA information")
    topic = _text(row.get("area")) or _text(row.get("measure")) or "school"
    return f"{label}: {topic.replace('_', ' ').lower()} concern {RESTRICTED_TEXT}"


SNIPPET_MIN = 6  # shorter or numeric strings ("12", "Yes") would match innocent text; they are not detail anyway


class Snippets:
    """The confidential snippets, found in a text as `any(s in text for s in snippets)` would find them, but by
    looking up each position's first SNIPPET_MIN characters: a county has over a thousand snippets and tens of
    thousands of cells, and the plain scan cost seconds per general edition.

    Under one head, the snippets are held by length, so that a position is tested with one set look-up per length
    rather than one comparison per snippet: the adviser judgements' values all begin "adviser judgement on", one head
    for most of a county's snippets (4,635 of 5,079 at 1,000 demo schools), and comparing each cell with each of them
    made the general edition's scrub grow as schools squared (4 s at 1,000 schools, 16 times that at 4,000)."""

    def __init__(self, snippets):
        self.all = frozenset(snippets)
        self._short = [s for s in self.all if len(s) < SNIPPET_MIN]  # only when a caller passes its own set
        self._by_head: dict[str, dict[int, set[str]]] = {}
        for s in self.all:
            if len(s) >= SNIPPET_MIN:
                self._by_head.setdefault(s[:SNIPPET_MIN], {}).setdefault(len(s), set()).add(s)
        # The positions where a head begins, found by the regex engine in one pass over the text (a lookahead, so
        # that heads overlapping each other are all found) rather than by a slice and a look-up per character in
        # Python: the general edition tests tens of thousands of cells, nearly all holding no head at all.
        self._heads = re.compile(f"(?=({_longest_first(sorted(self._by_head)).pattern}))") if self._by_head else None

    def found_in(self, text: str) -> bool:
        if any(s in text for s in self._short):
            return True
        if self._heads is None:
            return False
        heads = self._by_head
        for match in self._heads.finditer(text):
            i = match.start()
            if any(text[i:i + n] in same for n, same in heads[match.group(1)].items()):
                return True
        return False


def _as_snippets(snippets) -> Snippets:
    return snippets if isinstance(snippets, Snippets) else Snippets(snippets)


def _confidential_snippets(inputs: ReportInputs) -> set[str]:
    """Every piece of text that must not leave the restricted edition."""
    snippets: set[str] = set()
    ev = inputs.evidence
    if not ev.empty and "confidential" in ev.columns:
        conf = ev[ev["confidential"].map(_is_true)]
        for col in ("value", "comparator"):
            if col in conf.columns:
                snippets.update(_text(v) for v in conf[col])
    if not ev.empty:
        # LA-intelligence specifics and adviser notes are confidential whatever their flag says.
        private = ev[_private_mask(ev)]
        for col in ("value", "detail"):
            if col in private.columns:
                snippets.update(_text(v) for v in private[col])
    for col in ("key_points", "notes"):
        if col in inputs.laig_notes.columns:
            snippets.update(_text(v) for v in inputs.laig_notes[col])
    if "detail" in inputs.intelligence.columns:
        snippets.update(_text(v) for v in inputs.intelligence["detail"])
    for d in inputs.drafts:
        snippets.update(_text(d.get(k)) for k in ("head_name", "chair_name"))
    if "override_reason" in inputs.categorisation.columns:  # the moderation panel's reason
        snippets.update(_text(v) for v in inputs.categorisation["override_reason"])
    return {s.strip() for s in snippets if len(s.strip()) >= SNIPPET_MIN and not _looks_numeric(s)}


def _looks_numeric(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _scrub_parts(text: str, snippets: set[str], private_wordings: dict[str, str], protected: frozenset = frozenset()
                 ) -> str:
    """Replace each "; "-separated part that carries confidential detail with its generalised form.

    Line by line, and a Strategy wording that itself contains "; " (`protected`) is kept whole.
    """
    if not text:
        return text
    snippets = _as_snippets(snippets)
    return "\n".join(_scrub_line(line, snippets, private_wordings, protected) for line in text.split("\n"))


def _scrub_line(text: str, snippets: Snippets, private_wordings: dict[str, str], protected: frozenset) -> str:
    guard = "\x1f"
    for w in sorted({w for w in (*protected, *private_wordings) if w and "; " in w}, key=len, reverse=True):
        if w in text:
            text = text.replace(w, w.replace("; ", guard))
    out, said = [], set()
    for part in (p.replace(guard, "; ") for p in text.split("; ")):
        replacement = None
        for wording, general in private_wordings.items():
            if wording and (part == wording or part.startswith(wording)):
                replacement = general
                break
        if replacement is None and snippets.found_in(part):
            replacement = f"LA information {RESTRICTED_TEXT}"
        if replacement is None:
            out.append(part)  # the text as written, repeated or not: two bullets may give the same figures
        elif replacement not in said:  # a generalised text once
            said.add(replacement)
            out.append(replacement)
    return "; ".join(out)


def staff_names(gias: pd.DataFrame) -> list[str]:
    """Headteachers' names as GIAS gives them, in the spellings a sentence may use (title + last, first + last)."""
    out: set[str] = set()
    for r in gias.to_dict("records") if not gias.empty else []:
        title, first, last = (_text(r.get(k)).strip() for k in ("head_title", "head_first_name", "head_last_name"))
        if first and last:
            out.add(f"{first} {last}")
        if title and last and title.lower() not in ("not applicable", "null"):
            out.add(f"{title} {last}")
    return sorted(out)


def _longest_first(names: list[str]) -> re.Pattern:
    """One regex finding what `"|".join(longest first)` finds (at each place, the longest name written there), built
    as a tree of the names' characters: the plain alternation tries every name at every character of every cell, and
    a county's head teachers' names are thousands (the scrub grew as schools squared). A name that ends where a
    longer one goes on is an optional tail, tried first (greedy), so the longest still wins."""
    tree: dict = {}
    for name in names:
        node = tree
        for ch in name:
            node = node.setdefault(ch, {})
        node[""] = {}  # a name ends here

    def regex(node: dict) -> str:
        branches = [re.escape(ch) + regex(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return re.compile(regex(tree))


def _withhold_names(df: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Replace every staff name in the text cells with NAME_WITHHELD (longest first: 'Mrs Jo Bloggs' before 'Jo Bloggs')."""
    names = sorted({n for n in names if len(n.strip()) >= 4}, key=len, reverse=True)
    if not names or df.empty:
        return df
    pattern = _longest_first(names)
    df = df.copy()
    for col in df.columns:
        if pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
            continue
        df[col] = df[col].map(lambda v: pattern.sub(NAME_WITHHELD, v) if isinstance(v, str) else v)
    return df


def _scrub_frame(df: pd.DataFrame, snippets: set[str], wordings_by_urn: dict, text_cols: list[str],
                 protected: frozenset = frozenset(), written_general: frozenset = frozenset()) -> pd.DataFrame:
    """`written_general`: columns the stage wrote in their general form (a `<column>_general` twin). Their bullets
    already say "(detail restricted)" where the evidence is confidential, and a bullet's Strategy wording is public:
    only leaked snippets are looked for there. Replacing each bullet whose wording has confidential evidence
    somewhere would put "<source>: <area> concern (detail restricted)" for a met low-support bullet, once per area,
    losing the others (found by a trial: 191 of 200 demo schools' general reasons)."""
    df = df.copy()
    snippets = _as_snippets(snippets)
    for col in df.columns:
        if pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
            continue
        values = []
        for urn, v in zip(df["urn"] if "urn" in df.columns else [None] * len(df), df[col]):
            t = _text(v)
            if col in text_cols:
                wordings = {} if col in written_general else wordings_by_urn.get(_urn_key(urn), {})
                t2 = _scrub_parts(t, snippets, wordings, protected)
            elif snippets.found_in(t):
                t2 = RESTRICTED_TEXT
            else:
                values.append(v)
                continue
            values.append(t2)
        df[col] = pd.Series(values, index=df.index, dtype=object)
    return df


def _private_mask(ev: pd.DataFrame) -> pd.Series:
    """Evidence rows the general edition leaves out: flagged confidential, or LA intelligence or an adviser note."""
    mask = ev["confidential"].map(_is_true) if "confidential" in ev.columns else pd.Series(False, index=ev.index)
    if "measure" in ev.columns:
        mask = mask | ev["measure"].astype(str).str.startswith("LA intelligence")
    if "detail" in ev.columns:
        mask = mask | ev["detail"].map(lambda v: bool(_text(v).strip()))
    return mask


def general_view(inputs: ReportInputs) -> ReportInputs:
    """The inputs as the GENERAL edition may show them.

    Leaves out: LAIG key points and notes, confidential evidence rows (safeguarding specifics,
    LA intelligence detail, adviser notes), draft letters and with them head/chair names. Reasons,
    letter evidence and alerts that came from confidential evidence are generalised, e.g.
    "LA intelligence: safeguarding concern (detail restricted)". Any other cell still holding a
    confidential snippet becomes "(detail restricted)".
    """
    ev = inputs.evidence
    conf_mask = _private_mask(ev)
    conf = ev[conf_mask]
    wordings_by_urn: dict[str, dict[str, str]] = {}
    for _, row in conf.iterrows():
        general = _generalised_reason(row)
        for key in ("wording", "criterion_id"):
            w = _text(row.get(key))
            if w:
                wordings_by_urn.setdefault(_urn_key(row.get("urn")), {})[w] = general
    snippets = Snippets(_confidential_snippets(inputs))
    protected = frozenset(_text(w) for w in ev["wording"].unique()) if "wording" in ev.columns else frozenset()
    names = list(inputs.staff_names) + [_text(d.get(k)) for d in inputs.drafts for k in ("head_name", "chair_name")]
    text_cols = ["reasons", "overriding_condition", "override_reason", "evidence", "escalation_note", "reason",
                 "concerns", "next_step"]

    def scrub(df: pd.DataFrame) -> pd.DataFrame:
        # Stages that know what is confidential write a `<column>_general` twin: use it, then scrub anyway.
        twins = frozenset(c for c in df.columns if f"{c}_general" in df.columns)
        for col in twins:
            df = df.assign(**{col: df[f"{col}_general"]}).drop(columns=[f"{col}_general"])
        return _withhold_names(_scrub_frame(df, snippets, wordings_by_urn, text_cols, protected, twins), names)

    categorisation = scrub(inputs.categorisation)
    if "override_reason" in categorisation.columns:  # moderated: said, the reason restricted
        given = categorisation["override_reason"].map(lambda v: bool(_text(v).strip()))
        categorisation["override_reason"] = categorisation["override_reason"].where(~given, RESTRICTED_TEXT)
    return dataclasses.replace(
        inputs,
        categorisation=categorisation,
        evidence=scrub(ev[~conf_mask]).reset_index(drop=True),
        letters=scrub(inputs.letters),
        academy_concerns=scrub(inputs.academy_concerns),
        member_alerts=scrub(inputs.member_alerts),
        data_quality=scrub(inputs.data_quality),
        drafts=[],
        laig_notes=inputs.laig_notes.iloc[0:0].copy(),
        intelligence=inputs.intelligence.iloc[0:0].copy(),
    )
