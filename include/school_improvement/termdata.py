"""The feeds of one term, gathered by kind, with the lookups every stage needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from .terms import Term



@dataclass
class TermData:
    la_code: str
    term: Term
    feeds: list  # list[feeds.Feed]
    by_kind: dict = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        for f in self.feeds:
            self.by_kind.setdefault(f.kind, []).append(f)
        # Several files of one kind (e.g. KS2 for three years): the latest year is this term's.
        for kind, fs in self.by_kind.items():
            fs.sort(key=lambda f: (f.academic_year or "", f.source))

    def latest(self, kind: str):
        fs = self.by_kind.get(kind) or []
        return fs[-1] if fs else None

    def frame(self, kind: str) -> pd.DataFrame:
        # Every criterion of every school asks: build each frame once per term.
        key = ("frame", kind)
        if key not in self._cache:
            self._cache[key] = self._frame(kind)
        return self._cache[key]

    def _frame(self, kind: str) -> pd.DataFrame:
        f = self.latest(kind)
        if f is None:
            return pd.DataFrame()
        if kind not in LA_HELD_CONCAT:
            return f.schools
        # Several files may hold one LA-held feed; each row remembers its file, the source of its evidence.
        return pd.concat([x.schools.assign(_source=x.source) for x in self.by_kind[kind]], ignore_index=True)

    def row(self, kind: str, urn: int) -> dict | None:
        idx = self._index(kind)
        return idx.get(urn)

    def _index(self, kind: str) -> dict:
        key = ("index", kind)
        if key not in self._cache:
            df = self.frame(kind)
            self._cache[key] = {} if df.empty or "urn" not in df else {
                int(r["urn"]): r for r in df.to_dict("records")}
        return self._cache[key]

    def national(self, kind: str, phase: str | None = None) -> dict:
        """The national comparator row, for the school's phase where the feed splits by phase."""
        key = ("national", kind, phase)
        if key not in self._cache:
            self._cache[key] = self._national(kind, phase)
        return self._cache[key]

    def _national(self, kind: str, phase: str | None) -> dict:
        f = self.latest(kind)
        if f is None or f.comparators is None or f.comparators.empty:
            return {}
        nat = f.comparators[f.comparators["level"] == "national"]
        if nat.empty:
            return {}
        if phase and "phase" in nat:
            same = nat[nat["phase"].astype(str).str.upper() == phase.upper()]
            if not same.empty:
                return same.iloc[0].to_dict()
        if "phase" in nat:
            allp = nat[nat["phase"].isna() | nat["phase"].astype(str).isin(["", "ALL", "Total"])]
            if not allp.empty:
                return allp.iloc[0].to_dict()
        return nat.iloc[0].to_dict()

    def status(self, kind: str, urn: int, column: str) -> str | None:
        """Why a figure is missing: the status code and its reason, e.g. 'SUPP (5 or fewer pupils)'."""
        key = ("status", kind)
        if key not in self._cache:
            f = self.latest(kind)
            st = f.statuses if f is not None and f.statuses is not None else pd.DataFrame()
            found: dict = {}
            for r in st.to_dict("records"):
                found.setdefault((r.get("urn"), r.get("column")),
                                 f"{r['code']} ({r['reason']})" if r.get("reason") else str(r["code"]))
            self._cache[key] = found
        return self._cache[key].get((urn, column))

    def rows_for(self, kind: str, urn: int) -> pd.DataFrame:
        df = self.frame(kind)
        if df.empty or "urn" not in df:
            return df
        key = ("groups", kind)
        if key not in self._cache:
            self._cache[key] = {int(u): g for u, g in df.groupby("urn", sort=False)}
        return self._cache[key].get(int(urn), df.iloc[0:0])

    def checksums(self) -> dict[str, str]:
        return {f.source: f.sha256 for f in sorted(self.feeds, key=lambda f: f.source)}

    def provenance(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"file": f.source, "kind": f.kind, "academic_year": f.academic_year or "", "rows": f.rows,
              "sha256": f.sha256} for f in sorted(self.feeds, key=lambda f: (f.kind, f.source))],
            columns=["file", "kind", "academic_year", "rows", "sha256"])

    def window(self) -> tuple[date, date]:
        """The evidence window: from the start of the previous term to the end of this one."""
        start = self.term.previous().dates()[0]
        return start, self.term.dates()[1]


# LA-held feeds may come as several files in a term (one per adviser, say): use them all.
LA_HELD_CONCAT = {"adviser_judgements", "la_intelligence", "letters_log", "moderation", "ward_members", "laig_notes"}


def months_before(d: date, months: int) -> date:
    return d - timedelta(days=round(months * 30.44))
