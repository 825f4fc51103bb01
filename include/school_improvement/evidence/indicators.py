"""Data indicators named by the rule sets (`indicator: attainment_consistently_below`, ...).

Each returns a Finding: met True/False, or None with the reason no judgement was made (suppressed,
not published, small cohort). Thresholds come from the rule set, never from here.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from ..rules import RuleSet
from ..ingest.termdata import TermData
from ..vocabulary import VOCAB

# Why a school's attainment and gap are not judged when the results files hold no row for it (an infant school):
# the profile's sentence above its figures says this once (editions/profiles.py).
NO_RESULTS = "no KS2 or KS4 results for this school"

SCALES = VOCAB.ofsted
OFSTED_BANDS = {b: i for i, b in enumerate(SCALES.bands)}  # best first
REPORT_CARD_SCALE = SCALES.report_card_labels
RC_AREAS = list(SCALES.report_card_areas)  # every evaluation area, early years and post-16 included
KEY_JUDGEMENTS = list(SCALES.key_judgements)
CATEGORY_OF_CONCERN = tuple(SCALES.categories_of_concern)


@dataclass
class Finding:
    met: bool | None
    value: str = ""  # the evidence, in words, with figures
    source: str = ""  # the feed file it came from
    reason: str = ""  # why no judgement was made (met is None)
    measures: dict | None = None  # figures to store in the history
    comparator: str = ""  # what the figure was compared with, e.g. "national (state-funded schools) 61.0%"


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


# The Ofsted MI's category columns, by field name, with the header the file gives them (said in data_quality.csv).
CATEGORY_COLUMNS = {"category_of_concern": "Category of concern", "oeif_category_of_concern": "Latest OEIF category of "
                    "concern", "recent_category_of_concern": "Most recent category of concern"}
_NO_VALUE = {"", "null", "nan", "none", "not applicable"}


def category_reading(r: dict) -> dict:
    """What the row's category columns say: the category (as `_category_of_concern`), the column that named it and its
    cell, and the cells no word or code of the vocabulary reads (`unknown`: [(column, value)], said, never read as none
    without a word)."""
    areas = any(r.get(a) in REPORT_CARD_SCALE for a in RC_AREAS)
    keys = ("category_of_concern",) if areas else tuple(CATEGORY_COLUMNS)
    codes = {k.upper(): v for k, v in SCALES.category_codes.items()}
    out: dict = {"category": None, "column": None, "value": None, "unknown": []}
    for k in keys:
        raw = r.get(k)
        text = "" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw).strip()
        if text.lower() in _NO_VALUE:
            continue
        named = next((c for c in CATEGORY_OF_CONCERN if c in text.lower()), None) or codes.get(text.upper())
        if named is None:
            out["unknown"].append((CATEGORY_COLUMNS[k], text))
        elif out["category"] is None:
            out.update(category=named, column=CATEGORY_COLUMNS[k], value=text)
    return out


def _category_of_concern(r: dict) -> str | None:
    """The vocabulary's category of concern ('special measures', 'serious weaknesses', under report cards 'requires
    significant improvement') that Ofsted's category columns name for the school's latest judgement. Once the school
    has a report card, its "Category of concern" is that report card's: the "Latest OEIF" columns stay as the last
    graded inspection left them, and read after a report card they put a school out of special measures back in it
    (s24)."""
    return category_reading(r)["category"]


def _report_card_band(areas: dict, safeguarding_not_met: bool) -> str:
    """The worst band of any evaluation area (early years and post-16 included); safeguarding not met: the worst."""
    if safeguarding_not_met:
        return SCALES.bands[-1]
    return SCALES.worst_band(SCALES.band_of_report_card(v) for v in areas.values())


def _report_card_text(areas: dict) -> str:
    return "report card: " + ", ".join(f"{SCALES.report_card_areas[k]} {v}" for k, v in areas.items())


def _day(v):
    return v if hasattr(v, "year") else None


def graded_date(r: dict, has_report_card: bool = False):
    """The date of the latest graded (OEIF) inspection. Ofsted's files before report cards (the management information
    to 2024) have no "Inspection start date of latest OEIF graded inspection": their "Inspection start date" is the
    latest graded inspection's, beside its "Overall effectiveness". Read undated, the graded judgement lost to any dated
    ungraded inspection, even one before it: a school judged Requires improvement in 2023 was read as Good by its
    "School remains Good" of 2021 (s24). Where the row has a report card, "Inspection start date" is the report card's."""
    d = _day(r.get("oeif_date"))
    return d if d is not None or has_report_card else _day(r.get("inspection_date"))


def _of_predecessor(r: dict, prefix: str) -> str:
    """", of its predecessor school (URN n)" when Ofsted's MI says the inspection does not relate to the school's
    current URN (a converter or an amalgamated school shown with its predecessor's inspection), else ""."""
    if str(r.get(f"{prefix}_relates") or "").strip().lower() != "no":
        return ""
    then = str(r.get(f"{prefix}_urn_then") or "").strip().removesuffix(".0")
    return f", of its predecessor school{f' (URN {then})' if then and then.upper() != 'NULL' else ''}"


def predecessor_inspected(r: dict, prefix: str) -> str | None:
    """The URN of the predecessor school an inspection was of, when it was not of this URN: the MI says "No" to
    "Does the ... inspection relate to the URN of the current school?", or the whole row is the predecessor's (GIAS
    links, `predecessor_results`). "URN not given" when the MI says "No" without the URN. None: the school's own."""
    if r.get("_predecessor") is not None:
        return str(r["_predecessor"])
    if str(r.get(f"{prefix}_relates") or "").strip().lower() != "no":
        return None
    then = str(r.get(f"{prefix}_urn_then") or "").strip().removesuffix(".0")
    return then if then and then.upper() != "NULL" else "URN not given"


def latest_judgement(r: dict) -> dict | None:
    """Ofsted's latest judgement of either framework: band, text (with date and framework) and date.

    A report card once the school has one; a graded inspection before that; an inspection from September 2024
    whose overall effectiveness was "Not judged" by its key judgements, which were still graded.
    """
    sg_not_met = str(r.get("safeguarding") or "").strip().lower() == "not met" or \
        str(r.get("oeif_safeguarding_effective") or "").strip().lower() == "no"
    found = []
    areas = {a: r.get(a) for a in RC_AREAS if r.get(a) in REPORT_CARD_SCALE}
    if areas:
        d = _day(r.get("inspection_date"))
        found.append({"band": _report_card_band(areas, sg_not_met), "date": d, "framework": "report card",
                      "predecessor": predecessor_inspected(r, "rc"),
                      "text": _report_card_text(areas) + f"; safeguarding {r.get('safeguarding') or 'not recorded'} "
                              f"(report card, {d or 'date n/a'}{_of_predecessor(r, 'rc')})"})
    grade = _num(r.get("oeif_overall"))
    d = graded_date(r, bool(areas))
    if grade is not None and SCALES.band_of_grade(grade):
        text = f"overall effectiveness {SCALES.grade_label(grade)} (grade {int(grade)}, graded inspection, {d or 'date n/a'}" \
            f"{_of_predecessor(r, 'oeif')})"
        ungraded = r.get("ungraded_outcome")
        if isinstance(ungraded, str) and ungraded.strip():
            # Dated, and said to be earlier when it was: "School remains Good (Concerns)" of 2021 beside a graded Good
            # of 2023 read as a concern after it (real Cambridgeshire rows, s24).
            ud = _day(r.get("ungraded_date"))
            text += (f"; {'an earlier ' if ud and d and ud < d else ''}ungraded inspection: {ungraded}"
                     + (f" ({ud})" if ud else ""))
        found.append({"band": SCALES.band_of_grade(grade), "date": d, "framework": "graded inspection", "text": text,
                      "predecessor": predecessor_inspected(r, "oeif")})
    else:
        keys = {k: _num(r.get(k)) for k in KEY_JUDGEMENTS}
        keys = {k: g for k, g in keys.items() if g is not None and SCALES.band_of_grade(g)}
        if keys:
            found.append({"band": SCALES.worst_band(SCALES.band_of_grade(g) for g in keys.values()), "date": d,
                          "framework": "graded inspection, overall effectiveness not judged",
                          "predecessor": predecessor_inspected(r, "oeif"),
                          "text": "overall effectiveness not judged; key judgements: " + ", ".join(
                              f"{SCALES.key_judgements[k]} {SCALES.grade_label(g)}" for k, g in keys.items())
                          + f" (graded inspection, {d or 'date n/a'}{_of_predecessor(r, 'oeif')})"})
    outcome, ud = r.get("ungraded_outcome"), _day(r.get("ungraded_date"))
    band = SCALES.band_of_ungraded(outcome)
    if band and (not found or (ud and all(j["date"] is None or j["date"] < ud for j in found))):
        # An ungraded inspection after the last graded one confirms the school's judgement, with its own date.
        found.append({"band": band, "date": ud, "framework": "ungraded inspection",
                      "predecessor": predecessor_inspected(r, "ungraded"),
                      "text": f"ungraded inspection: {outcome} ({ud or 'date n/a'}{_of_predecessor(r, 'ungraded')})"})
    if not found:
        return None
    # The latest by date; a report card wins a tie (it is the newer framework).
    return max(reversed(found), key=lambda j: j["date"] or _day(dt.date.min))


def _yr(year: str) -> str:
    return f" ({year})" if year else ""


def _year_before(year: str) -> str:
    """'2018-19' -> '2017-18'."""
    start = int(str(year)[:4]) - 1
    return f"{start}-{(start + 1) % 100:02d}"


# Why a trend (declining, consistently, sustained, improving) is not judged from one year's figures.
_ONE_YEAR = "one year's figures only, no trend: not judged"


def _earlier_year(e: dict, n: int) -> str:
    """An earlier year's figure named by its year: "previous year (2021-22)", "year before (2020-21)", or, where
    results were not published between them, the year alone and the gap ("2018-19 (no results between it and
    2021-22)"), never "year before" of a year four years back."""
    word = "previous year" if n == 1 else "year before"
    year, after = e.get(f"prev{n}_year") or "", e.get("year") if n == 1 else e.get("prev1_year")
    if not year or not after:
        return word
    return f"{word} ({year})" if _year_before(after) == year else f"{year} (no results between it and {after})"


def _not_held(years: int, held: int) -> str:
    return f"{years} years asked for by the rule set (consistently_years), the feeds hold {held}: not judged"


def _fmt(v: float | None, unit: str = "") -> str:
    return "n/a" if v is None else f"{v:.1f}{unit}"


_ATTAINMENT = ("small_cohort", "attainment_below_points", "attainment8_below_points")  # every attainment figure
_GAP = ("small_cohort", "disadvantaged_gap_wide_points")
# Which thresholds each indicator reads (tests/test_rule_set_mistakes.py checks it against what the code reads): a
# rule set's threshold that no indicator it names reads would change nothing, so it is refused when it loads.
THRESHOLDS_READ: dict[str, tuple[str, ...]] = {
    "attainment_consistently_below": _ATTAINMENT + ("consistently_years",),
    "attainment_broadly_in_line": _ATTAINMENT + ("attainment_in_line_points",),
    "attainment_at_or_above_national": _ATTAINMENT,
    "attainment_declining": _ATTAINMENT + ("attainment_declining_points",),
    "attainment_declining_sharply": _ATTAINMENT + ("attainment_declining_points",),
    "attainment_significant_improvement": _ATTAINMENT + ("attainment_improvement_points",),
    "progress_significantly_below": _ATTAINMENT,
    "progress_significantly_above": _ATTAINMENT,
    "disadvantaged_gap_wide": _GAP,
    "disadvantaged_gap_persistently_wide": _GAP + ("consistently_years",),
    "disadvantaged_gap_persistently_very_wide": _GAP + ("disadvantaged_gap_very_wide_points", "consistently_years"),
    "disadvantaged_accelerated": ("small_cohort", "disadvantaged_accelerated_points"),
    "disadvantaged_below_national_disadvantaged": ("small_cohort", "disadvantaged_below_points"),
    "disadvantaged_below_national_other": ("small_cohort", "disadvantaged_below_points"),
    "attendance_high_or_rapidly_improving": ("attendance_rapid_improvement_points",),
    "attendance_low_not_improving": ("attendance_low_points", "attendance_low_one_year_points",
                                     "attendance_rapid_improvement_points"),
    "attendance_consistently_low": ("attendance_consistently_low_points", "persistent_absence_low_points",
                                    "attendance_rapid_improvement_points", "consistently_years"),
    "persistent_absence_high": ("persistent_absence_low_points",),
    "absence_rising": ("absence_rising_points",),
}


class SchoolIndicators:
    """Computes the indicators of one school for one term, caching each one."""

    def __init__(self, urn: int, data: TermData, rules: RuleSet, prior: dict | None = None):
        self.urn, self.data, self.rules = urn, data, rules
        self.prior = prior or {}  # measures stored for this school in earlier terms: name -> (value, data_year)
        self.gias = data.row("gias", urn) or {}
        self.phase = str(self.gias.get("phase") or "")
        self._cache: dict[str, Finding] = {}
        self._ofsted_read: dict | None = None
        self.measures: dict = {}

    def get(self, name: str) -> Finding:
        if name not in self._cache:
            fn = getattr(self, f"_i_{name}", None)
            if fn is None:
                raise KeyError(f"rule set {self.rules.id} names unknown indicator {name!r}")
            self._cache[name] = fn()
            if self._cache[name].measures:
                self.measures.update(self._cache[name].measures)
        return self._cache[name]

    def t(self, name: str) -> float:
        return self.rules.threshold(name)

    # ---------------------------------------------------------------- leadership
    def head_now(self) -> str:
        return " ".join(str(self.gias.get(k) or "") for k in ("head_first_name", "head_last_name")).strip()

    def head_since(self) -> str:
        """The term this head was first seen in GIAS ('' when already in post before the history starts)."""
        before, since = (self.prior.get("head") or ("", ""))
        if not before:
            return ""
        return since if before == self.head_now() else str(self.data.term)

    def _i_headteacher_changed(self) -> Finding:
        """A headteacher first named in GIAS within the last year (three terms), by the history."""
        now, (before, _) = self.head_now(), (self.prior.get("head") or ("", ""))
        if not now:
            return Finding(None, reason="headteacher not named in GIAS")
        if not before:
            return Finding(None, reason="no earlier headteacher in the history to compare with")
        since = self.head_since()
        terms, t = set(), self.data.term
        for _ in range(self.rules.windows.new_head_terms):
            terms.add(str(t))
            t = t.previous()
        recent = bool(since) and since in terms
        return Finding(recent, value=f"GIAS headteacher {now}" + (f", in post since {since}" if since else ""),
                       source=self.data.latest("gias").source)

    # ---------------------------------------------------------------- attainment
    def _too_old(self, kind: str, r: dict, feed) -> str | None:
        """The reason results older than the rule set's `oldest_results` allows are not judged (None: recent)."""
        from ..quality.data_age import too_old

        year = r.get("academic_year")  # an EES file of several years: the school's own latest year
        year = year if isinstance(year, str) and year.strip() else feed.academic_year
        return too_old(kind, year, self.data.term, self.rules.oldest_results)

    def _ks2(self):
        r = self.data.row("ks2", self.urn)
        return (r, self.data.latest("ks2")) if r else (None, None)

    def _ks4(self):
        r = self.data.row("ks4", self.urn)
        return (r, self.data.latest("ks4")) if r else (None, None)

    def _attainment(self) -> list[dict]:
        """One entry per key stage with figures: diff to national, significance where CIs exist."""
        out = []
        small = self.t("small_cohort")
        r, feed = self._ks2()
        if r is not None:
            nat = self.data.national("ks2", scope=self.rules.national_comparator.get("ks2"))
            e = {"ks": "KS2", "source": feed.source, "year": feed.academic_year or ""}
            cohort = _num(r.get("cohort"))
            v, n = _num(r.get("rwm_exp")), _num(nat.get("rwm_exp"))
            p1, p2 = _num(r.get("rwm_exp_prev1")), _num(r.get("rwm_exp_prev2"))
            n1 = _num(nat.get("rwm_exp_prev1"))
            e.update(value=v, national=n, prev1=p1, prev2=p2, national_prev1=n1, cohort=cohort)
            e.update({f"prev{i}_year": y if isinstance(y := r.get(f"rwm_exp_prev{i}_year"), str) else "" for i in (1, 2)})
            self._consecutive_only(e)
            e["national_label"] = nat.get("_label") or "national"
            old = self._too_old("ks2", r, feed)
            if old:
                e["reason"] = old
            elif cohort is not None and cohort < small:
                e["reason"] = f"small cohort ({int(cohort)} pupils at KS2): reported as small, not judged"
            elif v is None:
                e["reason"] = f"KS2 RWM expected standard not available: {self.data.status('ks2', self.urn, 'rwm_exp') or 'no figure'}"
            elif n is None:
                e["reason"] = "no national KS2 comparator row in the feed"
            # Progress has confidence intervals: 'below' means significantly below (upper limit < 0).
            uppers = [_num(r.get(f"{s}_prog_upper")) for s in ("read", "writ", "mat")]
            lowers = [_num(r.get(f"{s}_prog_lower")) for s in ("read", "writ", "mat")]
            e["progress_published"] = any(u is not None for u in uppers)
            e["sig_below"] = any(u is not None and u < 0 for u in uppers)
            e["sig_above"] = any(lo is not None and lo > 0 for lo in lowers)
            e["label"] = "KS2 reading, writing and maths at expected standard"
            e["unit"] = "%"
            e["below_points"] = self.t("attainment_below_points")
            out.append(e)
        r, feed = self._ks4()
        if r is not None:
            nat = self.data.national("ks4", scope=self.rules.national_comparator.get("ks4"))
            e = {"ks": "KS4", "source": feed.source, "year": feed.academic_year or ""}
            cohort = _num(r.get("cohort"))
            v, n = _num(r.get("att8")), _num(nat.get("att8"))
            e.update(value=v, national=n, prev1=None, prev2=None, national_prev1=None, cohort=cohort)
            e["national_label"] = nat.get("_label") or "national"
            old = self._too_old("ks4", r, feed)
            if old:
                e["reason"] = old
            elif cohort is not None and cohort < small:
                e["reason"] = f"small cohort ({int(cohort)} pupils at KS4): reported as small, not judged"
            elif v is None:
                e["reason"] = f"Attainment 8 not available: {self.data.status('ks4', self.urn, 'att8') or 'no figure'}"
            elif n is None:
                e["reason"] = "no national KS4 comparator row in the feed"
            up, lo = _num(r.get("p8_upper")), _num(r.get("p8_lower"))
            e["progress_published"] = up is not None
            e["sig_below"] = up is not None and up < 0
            e["sig_above"] = lo is not None and lo > 0
            e["label"] = "KS4 Attainment 8"
            e["unit"] = ""
            e["below_points"] = self.t("attainment8_below_points")
            if not e["progress_published"]:
                e["p8_note"] = f"Progress 8 not published: {self.data.status('ks4', self.urn, 'p8') or 'no figure'}"
            prior = self.prior.get("att8")
            if prior and prior[1] != e["year"]:
                e["prev1"], e["prev1_year"] = _num(prior[0]), prior[1] if isinstance(prior[1], str) else ""
                self._consecutive_only(e)  # e.g. 2018-19's Attainment 8 in the history beside 2021-22's
            out.append(e)
        return self._not_compared(out)

    def _consecutive_only(self, e: dict) -> None:
        """The rule set's `trends.across_unpublished_years: not_judged`: an earlier year that is not the year just
        before (2018-19 beside 2021-22, no results between them) is shown and not read in a trend."""
        if not (self.rules.trends and self.rules.trends.across_unpublished_years == "not_judged"):
            return
        for n, after in ((1, e.get("year")), (2, e.get("prev1_year"))):
            year = e.get(f"prev{n}_year")
            if year and after and _year_before(after) != year and e.get(f"prev{n}") is not None:
                e["trend_note"] = (f"{year} {_fmt(e[f'prev{n}'], e.get('unit', '%'))} not read in a trend: no results "
                                   f"between it and {after} (the rule set reads consecutive years)")
                e["prev2"] = None
                if n == 1:
                    e["prev1"], e["national_prev1"] = None, None
                return

    def _not_compared(self, entries: list[dict]) -> list[dict]:
        """A school of a type the rule set does not compare with national (a special school): every figure is
        shown with the rule set's reason and none is judged, whatever its cohort."""
        rule = self.rules.results_not_compared
        if rule and str(self.gias.get("type") or "") in rule.school_types:
            for e in entries:
                e["reason"] = f"{self.gias.get('type')}: {rule.reason}"
        return entries

    def _attainment_finding(self, test, describe) -> Finding:
        stages = self._attainment()
        if not stages:
            return Finding(None, reason=f"{NO_RESULTS} (phase {self.phase or 'unknown'})")
        judged = [e for e in stages if "reason" not in e]
        if not judged:
            return Finding(None, reason="; ".join(e["reason"] for e in stages), source=stages[0]["source"])
        # A test answers True, False, or the reason it cannot judge (e.g. a trend with one year's figures only).
        answers = [(e, test(e)) for e in judged]
        hits = [e for e, a in answers if a is True]
        e = hits[0] if hits else judged[0]
        measures = {("rwm_exp" if x["ks"] == "KS2" else "att8"): (x["value"], x["year"]) for x in judged}
        versus = f"{e.get('national_label') or 'national'} {_fmt(e.get('national'), e.get('unit', ''))}"
        if not hits and all(isinstance(a, str) for _, a in answers):
            return Finding(None, value=describe(e), source=e["source"], measures=measures, comparator=versus,
                           reason="; ".join(f"{x['label']}: {a}" for x, a in answers))
        return Finding(bool(hits), value=describe(e), source=e["source"], measures=measures, comparator=versus)

    @staticmethod
    def _describe(e) -> str:
        u = e["unit"]
        s = f"{e['label']} {_fmt(e['value'], u)} vs {e.get('national_label') or 'national'} {_fmt(e['national'], u)}{_yr(e['year'])}"
        if e.get("prev1") is not None:
            s += f"; {_earlier_year(e, 1)} {_fmt(e['prev1'], u)}"
            if e.get("national_prev1") is not None:
                s += f" vs national {_fmt(e['national_prev1'], u)}"
        if e.get("prev2") is not None:
            s += f"; {_earlier_year(e, 2)} {_fmt(e['prev2'], u)}"
        if e.get("trend_note"):
            s += f"; {e['trend_note']}"
        if e.get("progress_published"):
            s += ("; progress significantly below average" if e["sig_below"] else
                  "; progress significantly above average" if e["sig_above"] else
                  "; progress not significantly different from average")
        return s

    def _below(self, e) -> bool:
        # "Attainment is consistently below national averages" is about attainment: the attainment figure decides.
        # Progress (significance from its confidence intervals) is evidence too, and is reported beside it.
        return e["value"] < e["national"] - e["below_points"]

    def _national_two_years_back(self, e) -> float | None:
        if e["ks"] != "KS2":
            return None
        return _num(self.data.national("ks2", scope=self.rules.national_comparator.get("ks2")).get("rwm_exp_prev2"))

    def _years(self) -> int:
        """How many years "consistently" / "persistently" asks for: the rule set's `consistently_years` (1, 2 or 3)."""
        return int(self.t("consistently_years"))

    def _i_attainment_consistently_below(self) -> Finding:
        def test(e):
            if not self._below(e):
                return False
            years = self._years()
            if years == 1:
                return True
            if e.get("prev1") is None:  # "consistently": this year and the year before (and before that)
                return _ONE_YEAR
            nat1 = e.get("national_prev1") or e["national"]
            if not e["prev1"] < nat1 - e["below_points"]:
                return False
            if years == 2:
                return True
            if e.get("prev2") is None:
                # The file holds that year but not the school's figure (suppressed, blank): said as such, not as a
                # year the feeds lack.
                if e.get("trend_note"):  # the year there is beyond the years with no results (rule set: trends)
                    return f"{e['trend_note']}: not judged"
                why = self.data.status("ks2", self.urn, "rwm_exp_prev2") if e["ks"] == "KS2" else None
                if why or e.get("prev2_year"):
                    return f"no figure for {e.get('prev2_year') or 'the year before last'}: {why or 'blank'}: not judged"
                return _not_held(years, 2)
            nat2 = self._national_two_years_back(e) or nat1  # none in the feed: last year's stands in
            return e["prev2"] < nat2 - e["below_points"]
        return self._attainment_finding(test, self._describe)

    def _i_attainment_broadly_in_line(self) -> Finding:
        band = self.t("attainment_in_line_points")
        return self._attainment_finding(
            lambda e: not self._below(e) and -band <= e["value"] - e["national"] < 0, self._describe)

    def results_summary(self) -> list[str]:
        """The school's latest KS2/KS4 figures and how they compare, whatever level they point to."""
        out = []
        for e in self._attainment():
            if "reason" in e and e.get("value") is None:
                out.append(f"{e['label']}: {e['reason']}")
            else:
                out.append(self._describe(e) + (f" ({e['reason']})" if "reason" in e else ""))
        g = self._gap()
        if "reason" not in g:
            out.append(f"{g['label']}: disadvantaged {_fmt(g['disadv'], '%')} vs others {_fmt(g['other'], '%')}, gap "
                       f"{_fmt(g['gap'])} points vs national gap {_fmt(g['nat_gap'])}{_yr(g['year'])}"
                       + (f"; previous year gap {_fmt(g['gap_prev1'])}" if g["gap_prev1"] is not None else ""))
        elif g.get("source"):
            out.append(f"Disadvantaged gap: {g['reason']}")
        return out

    def _i_attainment_at_or_above_national(self) -> Finding:
        return self._attainment_finding(
            lambda e: e["value"] >= e["national"] and not e["sig_below"], self._describe)

    # Progress, for a reading that judges achievement by progress rather than attainment ("achieve well", "persistent
    # concerns about achievement", "attainment/progress gaps"): a subject's KS2 progress score, or KS4 Progress 8,
    # significantly below (above) average, i.e. its confidence interval wholly below (above) 0. Not published: not
    # judged. The shipped rule set reports progress beside attainment and names neither.
    def _i_progress_significantly_below(self) -> Finding:
        return self._attainment_finding(
            lambda e: e["sig_below"] if e.get("progress_published") else "progress not published: not judged",
            self._describe)

    def _i_progress_significantly_above(self) -> Finding:
        return self._attainment_finding(
            lambda e: (e["sig_above"] and not e["sig_below"]) if e.get("progress_published")
            else "progress not published: not judged", self._describe)

    def _declining(self, e) -> "bool | str":
        """A trend: lower than the year before, which was lower than the year before that, by `points` in all."""
        p1, p2 = e.get("prev1"), e.get("prev2")
        if p1 is None:
            return _ONE_YEAR
        if p2 is None:  # only one earlier year (e.g. KS4 from the history): a single fall of the full size
            return e["value"] <= p1 - self.t("attainment_declining_points")
        return e["value"] < p1 < p2 and e["value"] <= p2 - self.t("attainment_declining_points")

    def _i_attainment_declining(self) -> Finding:
        return self._attainment_finding(self._declining, self._describe)

    def _i_attainment_declining_sharply(self) -> Finding:
        # The high-support bullet: declining, and now below national.
        return self._attainment_finding(lambda e: self._below(e) and self._declining(e), self._describe)

    def _i_attainment_significant_improvement(self) -> Finding:
        pts = self.t("attainment_improvement_points")

        # The rule set's reading: an improvement over time, above the better of the earlier years by `pts`, and
        # never while any subject's progress is significantly below average. Progress above average alone is not
        # an improvement (it is one year's figure), so it is not read here.
        def test(e):
            earlier = [p for p in (e.get("prev1"), e.get("prev2")) if p is not None]
            if not earlier:
                return _ONE_YEAR
            return e["value"] >= max(earlier) + pts and not e["sig_below"]
        return self._attainment_finding(test, self._describe)

    def _i_below_floor_standard(self) -> Finding:
        return Finding(None, reason="the DfE floor standard no longer exists (last applied to 2019 results)")

    # ---------------------------------------------------------------- disadvantaged (Priority 3)
    def _gap(self) -> dict:
        small = self.t("small_cohort")
        r, feed = self._ks2()
        if r is not None:
            nat = self.data.national("ks2", scope=self.rules.national_comparator.get("ks2"))
            d, o = _num(r.get("rwm_exp_disadv")), _num(r.get("rwm_exp_other"))
            d1, o1 = _num(r.get("rwm_exp_disadv_prev1")), _num(r.get("rwm_exp_other_prev1"))
            nd, no = _num(nat.get("rwm_exp_disadv")), _num(nat.get("rwm_exp_other"))
            nd1, no1 = _num(nat.get("rwm_exp_disadv_prev1")), _num(nat.get("rwm_exp_other_prev1"))
            g = {"ks": "KS2", "source": feed.source, "year": feed.academic_year or "",
                 "disadv": d, "other": o, "cohort": _num(r.get("disadv_cohort")),
                 "gap": None if d is None or o is None else o - d,
                 "gap_prev1": None if d1 is None or o1 is None else o1 - d1,
                 "disadv_prev1": d1,
                 "nat_gap": None if nd is None or no is None else no - nd,
                 "nat_gap_prev1": None if nd1 is None or no1 is None else no1 - nd1,
                 "nat_disadv": nd, "nat_other": no, "unit_of": "%",
                 "label": "KS2 RWM expected standard", "unit": " points", "national_label": nat.get("_label") or "national"}
            y1 = r.get("rwm_exp_prev1_year")
            if (self.rules.trends and self.rules.trends.across_unpublished_years == "not_judged" and isinstance(y1, str)
                    and feed.academic_year and _year_before(feed.academic_year) != y1 and g["gap_prev1"] is not None):
                g["gap_prev1"], g["disadv_prev1"] = None, None
                g["prev1_note"] = (f"{y1} gap not read in a trend: no results between it and {feed.academic_year} "
                                   "(the rule set reads consecutive years)")
            # Last year's gap counts towards "persistently wide" only if last year's cohort was big enough to judge
            # (the small-cohort rule applies to every year it reads, not only this one).
            last = self.data.row_in_year("ks2", self.urn, _year_before(feed.academic_year)) if feed.academic_year else None
            c1 = _num(last.get("disadv_cohort")) if last else None
            if c1 is not None and c1 < small and g["gap_prev1"] is not None:
                g["gap_prev1"], g["disadv_prev1"] = None, None
                g["prev1_note"] = (f"previous year not counted: no disadvantaged pupils in {_year_before(feed.academic_year)}"
                                   if c1 == 0 else f"previous year not counted: small disadvantaged cohort in "
                                   f"{_year_before(feed.academic_year)} ({int(c1)} pupils)")
            old = self._too_old("ks2", r, feed)
            if old:
                g["reason"] = old
            elif g["cohort"] is not None and g["cohort"] < small:
                # No disadvantaged pupils at all is not a small group of them (real KS2 rows: TFSM6CLA1A 0).
                g["reason"] = ("no disadvantaged pupils in this cohort: no gap to judge" if g["cohort"] == 0
                               else f"small disadvantaged cohort ({int(g['cohort'])} pupils): not judged")
            elif g["gap"] is None:
                g["reason"] = ("disadvantaged gap not available: "
                               f"{self.data.status('ks2', self.urn, 'rwm_exp_disadv') or self.data.status('ks2', self.urn, 'rwm_exp_other') or 'no figure'}")
            elif g["nat_gap"] is None:
                g["reason"] = "no national disadvantaged gap in the feed"
            return self._not_compared([g])[0]
        r, feed = self._ks4()
        if r is not None:
            nat = self.data.national("ks4", scope=self.rules.national_comparator.get("ks4"))
            d, o = _num(r.get("att8_disadv")), _num(r.get("att8_other"))
            nd, no = _num(nat.get("att8_disadv")), _num(nat.get("att8_other"))
            g = {"ks": "KS4", "source": feed.source, "year": feed.academic_year or "", "disadv": d, "other": o,
                 "cohort": None, "gap": None if d is None or o is None else o - d, "gap_prev1": None,
                 "disadv_prev1": None, "nat_gap": None if nd is None or no is None else no - nd,
                 "nat_gap_prev1": None, "nat_disadv": nd, "nat_other": no, "unit_of": "",
                 "label": "KS4 Attainment 8", "unit": "", "national_label": nat.get("_label") or "national"}
            prior = self.prior.get("disadv_gap")
            if prior and prior[1] != g["year"]:
                g["gap_prev1"] = _num(prior[0])
            old = self._too_old("ks4", r, feed)
            if old:
                g["reason"] = old
            elif g["gap"] is None:
                g["reason"] = f"disadvantaged Attainment 8 not available: {self.data.status('ks4', self.urn, 'att8_disadv') or 'no figure'}"
            elif g["nat_gap"] is None:
                g["reason"] = "no national disadvantaged gap in the feed"
            return self._not_compared([g])[0]
        return {"reason": NO_RESULTS, "source": ""}

    def _gap_finding(self, test, rise: bool = False) -> Finding:
        g = self._gap()
        if "reason" in g:
            return Finding(None, reason=g["reason"], source=g.get("source", ""))
        s = (f"{g['label']}: disadvantaged {_fmt(g['disadv'], '%')} vs others {_fmt(g['other'], '%')}, "
             f"gap {_fmt(g['gap'])} points vs {g.get('national_label') or 'national'} gap {_fmt(g['nat_gap'])}{_yr(g['year'])}")
        if g["gap_prev1"] is not None:
            s += f"; previous year gap {_fmt(g['gap_prev1'])}"
            if rise and g.get("disadv_prev1") is not None:  # what the test reads beside the gap: their own rise
                s += f", disadvantaged {_fmt(g['disadv_prev1'], '%')}"
        elif g.get("prev1_note"):
            s += f"; {g['prev1_note']}"
        met, measures = test(g), {"disadv_gap": (g["gap"], g["year"])}
        versus = f"{g.get('national_label') or 'national'} gap {_fmt(g['nat_gap'])} points"
        if isinstance(met, str):  # a trend with one year's gap only: not judged, with the figures shown
            return Finding(None, value=s, source=g["source"], reason=f"disadvantaged gap: {met}", measures=measures,
                           comparator=versus)
        return Finding(bool(met), value=s, source=g["source"], measures=measures, comparator=versus)

    def disadvantaged_gap(self) -> tuple[float | None, float | None]:
        g = self._gap()
        return (g.get("gap"), g.get("nat_gap")) if "reason" not in g else (None, g.get("nat_gap"))

    def _i_disadvantaged_gap_wide(self) -> Finding:
        w = self.t("disadvantaged_gap_wide_points")
        return self._gap_finding(lambda g: g["gap"] - g["nat_gap"] > w)

    def _persistently(self, g, now_over: bool, w: float) -> "bool | str":
        """Wide this year and last ("persistently", `consistently_years` 2); last year's gap unknown: no trend, not
        judged. One year: this year's gap alone. Three: the feeds hold two years' gaps, so not judged."""
        years = self._years()
        if not now_over or years == 1:
            return now_over
        if g["gap_prev1"] is None:
            return _ONE_YEAR
        wide_before = g["gap_prev1"] - (g["nat_gap_prev1"] or g["nat_gap"]) > w
        return wide_before if (years == 2 or not wide_before) else _not_held(years, 2)

    def _i_disadvantaged_gap_persistently_wide(self) -> Finding:
        w = self.t("disadvantaged_gap_wide_points")
        return self._gap_finding(lambda g: self._persistently(g, g["gap"] - g["nat_gap"] > w, w))

    def _i_disadvantaged_gap_persistently_very_wide(self) -> Finding:
        w, vw = self.t("disadvantaged_gap_wide_points"), self.t("disadvantaged_gap_very_wide_points")
        return self._gap_finding(lambda g: self._persistently(g, g["gap"] - g["nat_gap"] > vw, w))

    def _disadvantaged_vs(self, key: str, whom: str) -> Finding:
        """The school's disadvantaged pupils' own figure below a national one by more than
        `disadvantaged_below_points` (the same points on the KS4 Attainment 8 scale, as the gap thresholds)."""
        g, pts = self._gap(), self.t("disadvantaged_below_points")
        if "reason" in g:
            return Finding(None, reason=g["reason"], source=g.get("source", ""))
        u = g["unit_of"]
        versus = f"{g.get('national_label') or 'national'}, {whom} {_fmt(g[key], u)}"
        s = f"{g['label']}: disadvantaged pupils {_fmt(g['disadv'], u)} vs {versus}{_yr(g['year'])}"
        return Finding(g["disadv"] < g[key] - pts, value=s, source=g["source"],
                       measures={"disadv_gap": (g["gap"], g["year"])}, comparator=versus)

    # Priority 3 ("improve outcomes for disadvantaged and vulnerable groups ... and close the gaps between them and
    # other pupils in the country") and the peer review ("a pattern of low achievement in many of the more
    # vulnerable groups"): the group's own results, for a reading that weighs them beside the in-school gap.
    def _i_disadvantaged_below_national_disadvantaged(self) -> Finding:
        return self._disadvantaged_vs("nat_disadv", "disadvantaged pupils")

    def _i_disadvantaged_below_national_other(self) -> Finding:
        # DfE's measure of the gap: the school's disadvantaged pupils against other pupils nationally.
        return self._disadvantaged_vs("nat_other", "other pupils")

    def _i_disadvantaged_accelerated(self) -> Finding:
        # "Significantly accelerated the achievement of disadvantaged groups": the gap narrowed by `w` AND the
        # disadvantaged pupils' own figure rose by `w` (a gap can narrow because the others' results fell).
        # Without last year's disadvantaged figure (and gap) there is no acceleration to see: not judged.
        # Its own threshold: a reading of "wide" (SCL-8) must not move "significantly accelerated" (CG-3) unsaid.
        w = self.t("disadvantaged_accelerated_points")

        def test(g):
            if g["gap_prev1"] is None or g["disadv_prev1"] is None:
                return _ONE_YEAR
            return g["gap"] <= g["gap_prev1"] - w and g["disadv"] >= g["disadv_prev1"] + w
        return self._gap_finding(test, rise=True)

    # ---------------------------------------------------------------- attendance
    def _absence(self) -> dict:
        r = self.data.row("absence", self.urn)
        feed = self.data.latest("absence")
        if r is None:
            return {"reason": "no absence figures for this school in the absence feed", "source": feed.source if feed else ""}
        kind = f"{self.phase} {self.gias.get('type') or ''}".lower()
        phase = "special" if "special" in kind else "secondary" if ("secondary" in kind or "all-through" in kind) \
            else "primary" if "primary" in kind else None
        nat = self.data.national("absence", phase)
        a = {"source": feed.source, "year": feed.academic_year or "",
             "overall": _num(r.get("overall_absence")), "persistent": _num(r.get("persistent_absence")),
             "nat_overall": _num(nat.get("overall_absence")), "nat_persistent": _num(nat.get("persistent_absence")),
             "threshold": _num(r.get("persistent_threshold")) or 10}
        prior = self.prior.get("overall_absence")
        a["prev"] = _num(prior[0]) if prior and prior[1] != a["year"] else None
        if a["prev"] is None:
            a["prev"] = _num(self._absence_history(feed).get(self.urn))
        old = self._too_old("absence", r, feed)
        if old:
            a["reason"] = old
        elif a["overall"] is None:
            a["reason"] = f"overall absence not available: {self.data.status('absence', self.urn, 'overall_absence') or 'no figure'}"
        elif a["nat_overall"] is None:
            a["reason"] = "no national absence comparator in the feed"
        return a

    def _absence_history(self, feed) -> dict:
        """Each school's overall absence in the feed's latest earlier year, indexed once per term (not per school)."""
        key = ("absence_history", feed.source)
        if key not in self.data._cache:
            hist = getattr(feed, "history", None)
            latest: dict = {}
            if hist is not None and not hist.empty:
                hist = hist.sort_values("academic_year", kind="stable")
                for urn, v in zip(hist["urn"], hist["overall_absence"]):
                    latest[urn] = v  # sorted by year: the latest year's figure wins
            self.data._cache[key] = latest
        return self.data._cache[key]

    def _absence_finding(self, test) -> Finding:
        a = self._absence()
        if "reason" in a:
            return Finding(None, reason=a["reason"], source=a.get("source", ""))
        s = (f"overall absence {_fmt(a['overall'], '%')} vs national {_fmt(a['nat_overall'], '%')}; "
             f"persistent absence ({int(a['threshold'])}%+) {_fmt(a['persistent'], '%')} vs national "
             f"{_fmt(a['nat_persistent'], '%')}{_yr(a['year'])}")
        if a["prev"] is not None:
            s += f"; previous year overall absence {_fmt(a['prev'], '%')}"
        else:
            s += "; one year only, no trend"
        met, measures = test(a), {"overall_absence": (a["overall"], a["year"])}
        versus = (f"national overall absence {_fmt(a['nat_overall'], '%')}, "
                  f"persistent absence {_fmt(a['nat_persistent'], '%')}")
        if isinstance(met, str):  # a trend asked of one year's figures: not judged, with the figures shown
            return Finding(None, value=s, source=a["source"], reason=f"absence: {met}", measures=measures,
                           comparator=versus)
        return Finding(bool(met), value=s, source=a["source"], measures=measures, comparator=versus)

    def absence_figures(self) -> dict:
        a = self._absence()
        return {} if "reason" in a else a

    def _improving(self, a) -> bool:
        return a["prev"] is not None and a["overall"] <= a["prev"] - self.t("attendance_rapid_improvement_points")

    def _i_attendance_high_or_rapidly_improving(self) -> Finding:
        def test(a):
            if a["overall"] <= a["nat_overall"]:
                return True
            return _ONE_YEAR if a["prev"] is None else self._improving(a)
        return self._absence_finding(test)

    def _i_attendance_low_not_improving(self) -> Finding:
        # "Not showing sustained improvement" needs a trend. With one year's figures the rule set decides: judged
        # only against its (higher) `attendance_low_one_year_points` when it names one, else not judged.
        def test(a):
            if not a["overall"] > a["nat_overall"] + self.t("attendance_low_points"):
                return False
            if a["prev"] is None:
                if "attendance_low_one_year_points" not in self.rules.thresholds:
                    return _ONE_YEAR
                return a["overall"] > a["nat_overall"] + self.t("attendance_low_one_year_points")
            return not self._improving(a)
        return self._absence_finding(test)

    def _i_attendance_consistently_low(self) -> Finding:
        # "Consistently low": this year and the year before (the feed has no earlier national figure: this year's
        # stands in), not improving; one year's figures: not judged.
        def test(a):
            bar = a["nat_overall"] + self.t("attendance_consistently_low_points")
            pa = a["persistent"] is not None and a["nat_persistent"] is not None and \
                a["persistent"] > a["nat_persistent"] + self.t("persistent_absence_low_points")
            if not (a["overall"] > bar and pa):
                return False
            years = self._years()
            if years == 1:
                return True
            if a["prev"] is None:
                return _ONE_YEAR
            before = a["prev"] > bar and not self._improving(a)
            return before if (years == 2 or not before) else _not_held(years, 2)
        return self._absence_finding(test)

    def _i_persistent_absence_high(self) -> Finding:
        """Persistent absence well above national, whatever overall absence says ("or persistent absence")."""
        return self._absence_finding(
            lambda a: a["persistent"] is not None and a["nat_persistent"] is not None
            and a["persistent"] > a["nat_persistent"] + self.t("persistent_absence_low_points"))

    def _i_absence_rising(self) -> Finding:
        # "High/increasing absence rates" (WN-2): above national and up on the year before by `absence_rising_points`
        # (its own threshold: a reading of "low" attendance, BA-M1's line, must not move WN-2 unsaid).
        return self._absence_finding(lambda a: False if a["overall"] <= a["nat_overall"] else _ONE_YEAR
                                     if a["prev"] is None else a["overall"] >= a["prev"] + self.t("absence_rising_points"))

    # ---------------------------------------------------------------- Ofsted
    def _ofsted(self) -> dict:
        # Read once per school: every Ofsted indicator, the academy concerns' predecessor check and the data-quality
        # notes ask for it (each call re-read the row's judgements and category columns).
        if self._ofsted_read is None:
            self._ofsted_read = self._read_ofsted()
        return self._ofsted_read

    def _read_ofsted(self) -> dict:
        r = self.data.row("ofsted", self.urn)
        feed = self.data.latest("ofsted")
        if r is None:
            # Without an Ofsted file nothing is known; "no inspection record" would read as never inspected.
            # A file that holds none of the LA's schools (another LA's, or a sample) says nothing of this school.
            reason = ("no Ofsted file was supplied" if not feed else
                      f"not known: the Ofsted file ({feed.source}) holds no judgement for any of the LA's schools"
                      if self.data.frame("ofsted").empty else "no Ofsted inspection record for this school")
            return {"band": None, "reason": reason, "source": feed.source if feed else ""}
        o = {"source": feed.source, "row": r}
        cat = category_reading(r)
        o["category"], o["category_unknown"] = cat["category"], cat["unknown"]
        o["safeguarding_not_met"] = str(r.get("safeguarding") or "").strip().lower() == "not met" or \
            str(r.get("oeif_safeguarding_effective") or "").strip().lower() == "no"
        j = latest_judgement(r)
        if j:
            band, o["text"], o["predecessor"] = j["band"], j["text"], j.get("predecessor")
        else:
            band = None
            o["reason"] = f"no Ofsted judgement: {self.data.status('ofsted', self.urn, 'oeif_overall') or 'no grade'}"
        if o["category"] and j and band != SCALES.bands[-1]:
            # A category of concern beside a latest judgement better than the worst band. Named by that judgement's own
            # column (a report card's "Category of concern", a graded inspection's "Latest OEIF category of concern"),
            # it is Ofsted's word on the same inspection: read, and the row's contradiction said. Named by another
            # column ("Most recent category of concern", or an earlier inspection's), it is not the school's now (the
            # vocabulary's category_with_better_judgement): not read, and said with the row and column.
            same = (cat["column"] == CATEGORY_COLUMNS["category_of_concern"] and j["framework"] == "report card") or \
                (cat["column"] == CATEGORY_COLUMNS["oeif_category_of_concern"]
                 and j["framework"].startswith("graded inspection"))
            said = (cat["column"], cat["value"], j["text"], same)
            if same or SCALES.category_with_better_judgement == "read":
                o["category_contradicted"] = said
            else:
                o["category_set_aside"] = said
                o["category"] = None
        if not o["category"] and j and band == SCALES.bands[-1] and SCALES.categories_of_worst_band(j["framework"]):
            # Ofsted puts every school it judges in the worst band in a category of concern (the vocabulary's
            # worst_band_categories); a blank category column does not take it out of one. Said in data quality.
            o["category"] = " or ".join(SCALES.categories_of_worst_band(j["framework"]))
            o["category_unnamed"] = True
        if o["category"]:
            band = SCALES.bands[-1]
            named = o["category"] + (" (the Ofsted file's category columns name none: Ofsted places every school "
                                     "judged so in one of these)" if o.get("category_unnamed") else "")
            o["text"] = "; ".join(filter(None, [o.get("text"), f"category of concern: {named}"]))
        o["band"] = band
        prior = self.prior.get("ofsted_band")
        o["prev_band"] = prior[0] if prior else None
        return o

    def _ofsted_finding(self, test, needs_prev=False) -> Finding:
        o = self._ofsted()
        if o["band"] is None:
            return Finding(None, reason=o["reason"], source=o.get("source", ""), measures=None)
        if needs_prev and o["prev_band"] is None:
            return Finding(None, reason="no earlier Ofsted outcome in the history to compare with", source=o["source"],
                           measures={"ofsted_band": (o["band"], "")})
        text = o["text"]
        if o["prev_band"]:
            text += f"; previously {o['prev_band'].replace('_', ' ')}"
        return Finding(bool(test(o)), value=text, source=o["source"], measures={"ofsted_band": (o["band"], "")})

    def latest_judgement_good_or_better(self) -> bool | None:
        """For the headline "% judged good or better": Ofsted's latest word, whichever framework gave it."""
        r = self.data.row("ofsted", self.urn)
        if r is None:
            return None
        if self._ofsted().get("category"):
            return False
        j = latest_judgement(r)
        return None if j is None else j["band"] == SCALES.bands[0]

    def _i_ofsted_good_or_better(self) -> Finding:
        return self._ofsted_finding(lambda o: o["band"] == SCALES.bands[0])

    def _i_ofsted_requires_improvement(self) -> Finding:
        return self._ofsted_finding(lambda o: o["band"] == SCALES.bands[1])

    def _i_ofsted_inadequate(self) -> Finding:
        return self._ofsted_finding(lambda o: o["band"] == SCALES.bands[-1])

    def _i_ofsted_category_of_concern(self) -> Finding:
        o = self._ofsted()
        if o.get("row") is None:
            return Finding(None, reason=o["reason"], source=o.get("source", ""))
        unnamed = " (the Ofsted file's category columns name none; Ofsted places every school judged so in one of " \
            "these: check the inspection report)" if o.get("category_unnamed") else ""
        return Finding(o["category"] is not None, value=f"Ofsted category of concern: {o['category'] or 'none'}{unnamed}",
                       source=o["source"])

    def _i_safeguarding_not_met(self) -> Finding:
        o = self._ofsted()
        if o.get("row") is None:
            return Finding(None, reason=o["reason"], source=o.get("source", ""))
        r = o["row"]
        said = r.get("safeguarding") or r.get("oeif_safeguarding_effective")
        if said is None or str(said).strip() == "":
            return Finding(None, reason="Ofsted safeguarding judgement not recorded", source=o["source"])
        # In words: a blank report-card column read as NaN is truthy, and printed "Ofsted safeguarding: nan".
        shown = next((v for v in (r.get("safeguarding"), r.get("oeif_safeguarding_effective"))
                      if isinstance(v, str) and v.strip()), said)
        return Finding(o["safeguarding_not_met"], value=f"Ofsted safeguarding: {shown}", source=o["source"])

    def _i_ofsted_at_risk_of_downgrade(self) -> Finding:
        """Ofsted's latest word on the school is an ungraded inspection whose outcome says the grade may not hold
        (the vocabulary's `at_risk`: "School remains Good (Concerns) - S5 Next"), with no graded inspection or report
        card since."""
        o = self._ofsted()
        r = o.get("row")
        if r is None:
            return Finding(None, reason=o["reason"], source=o.get("source", ""))
        outcome, ud = r.get("ungraded_outcome"), _day(r.get("ungraded_date"))
        later = [d for d in (_day(r.get("oeif_date")), _day(r.get("inspection_date"))) if d is not None]
        if not (SCALES.ungraded_at_risk(outcome) and ud is not None and all(d < ud for d in later)):
            return Finding(False, value=o.get("text") or "no ungraded inspection with concerns since the last graded one",
                           source=o["source"])
        return Finding(True, value=f"ungraded inspection: {outcome} ({ud}): Ofsted's grade stands for now, and its next "
                                   "inspection is a graded one", source=o["source"])

    def _i_ofsted_dropped(self) -> Finding:
        return self._ofsted_finding(lambda o: OFSTED_BANDS[o["band"]] > OFSTED_BANDS[o["prev_band"]], needs_prev=True)

    def _i_ofsted_improved(self) -> Finding:
        return self._ofsted_finding(lambda o: OFSTED_BANDS[o["band"]] < OFSTED_BANDS[o["prev_band"]]
                                    and self._inspected_recently(o), needs_prev=True)

    def _inspected_recently(self, o) -> bool:
        """An inspection (graded, report card or ungraded) published in this term or the last. An ungraded inspection
        whose outcome confirms no judgement (the vocabulary's `band: null`, e.g. "School remains Good (Concerns) - S5
        Next") does not count: it neither sustained nor improved the school's grade."""
        from .assess import terms_window  # the evidence stage imports this module

        start, end = terms_window(self.data.term, self.rules.windows.evidence_terms)
        r = o.get("row") or {}
        dates = [r.get(k) for k in ("inspection_date", "oeif_date")]
        if SCALES.band_of_ungraded(r.get("ungraded_outcome")) is not None:
            dates.append(r.get("ungraded_date"))
        return any(hasattr(d, "year") and start <= d <= end for d in dates)

    def _i_ofsted_good_or_better_sustained(self) -> Finding:
        # Sustained means a new inspection confirmed it, not merely that nothing changed. An ungraded outcome confirms
        # good only when the vocabulary says so ("remains good", not "remains Good (Concerns)").
        def test(o):
            good = SCALES.bands[0]
            remains = SCALES.band_of_ungraded((o.get("row") or {}).get("ungraded_outcome")) == good
            return o["band"] == good and (o["prev_band"] in (None, good)) and self._inspected_recently(o) \
                and (o["prev_band"] == good or remains)
        return self._ofsted_finding(test)

    def _i_ofsted_requires_improvement_sustained(self) -> Finding:
        return self._ofsted_finding(lambda o: o["band"] != SCALES.bands[0] and o["prev_band"] not in (None, SCALES.bands[0]),
                                    needs_prev=True)
