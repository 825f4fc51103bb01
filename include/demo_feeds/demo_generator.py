"""Demo feeds for a fictional LA ("Wealdshire (demo)", code 999), in the real DfE/Ofsted file formats.

`generate_demo(landing_root)` writes one landing folder per term, `landing_root/<la>/<term>/`, holding the
latest published KS2, KS4, absence and census files (performance-tables style: UTF-8 with BOM, CRLF, no
final newline), a GIAS extract and Ofsted management information (cp1252), and the LA-held feeds in this
project's own formats (see docs/LA_FEEDS.md). Everything is invented: URNs 990001-999999, LAESTAB 999xxxx,
made-up places, people and trusts. Output is byte-identical for a given seed and term list.

Each term's files are as a real LA's would be for a run on the term's scheduled date (its edition's date when as_of
is blank): GIAS and Ofsted MI downloaded the day before, visits, flags and LAIG meetings since the last term's run,
moderation this term before the run, letters signed after the run that drafted them. So a demo edition uses nothing
dated after its own date, and its front page opens as a normal term's would.

`write_templates(folder)` writes the blank LA-held feed templates (.csv and .xlsx).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from school_improvement import DEMO_LA_CODE, DEMO_LA_NAME
from school_improvement.terms import Term, TermCalendar, TermWindow
from school_improvement.vocabulary import VOCAB

DEFAULT_TERMS = ["2024-25-spring", "2024-25-summer", "2025-26-autumn"]
REPORT_CARD_START = date(2025, 11, 10)  # Ofsted report cards replace OEIF grades for inspections from here
OEIF_NOT_JUDGED_FROM = date(2024, 9, 1)  # overall effectiveness no longer given from September 2024

# ---------------------------------------------------------------------------------------------------------
# LA-held feeds: exact headers (`urn` + canonical columns in DATA_MODEL.md; ward_members has no urn)

LA_FEED_COLUMNS: dict[str, list[str]] = {
    "adviser_judgements": ["urn", "criterion_id", "area", "met", "adviser", "visit_date", "note"],
    "la_intelligence": ["urn", "flag", "severity", "detail", "raised_by_team", "raised_on"],
    "letters_log": ["urn", "letter", "concern", "issued_on", "issued_by", "term"],
    "moderation": ["urn", "term", "final_category", "reason", "approved_by", "approved_on"],
    "ward_members": ["ward", "member_name", "party", "email"],
    "laig_notes": ["urn", "meeting_date", "key_points", "notes"],
}

AREAS = {"LM": "leadership_management", "QE": "quality_of_education", "BA": "behaviour_attitudes",
         "PD": "personal_development"}
# Bullets per area and level in the Strategy's prioritisation criteria, in order: LM-L1..LM-L5 etc.
CRITERIA_COUNTS = {
    "LM": {"L": 5, "M": 5, "H": 9},
    "QE": {"L": 4, "M": 6, "H": 7},
    "BA": {"L": 3, "M": 3, "H": 4},
    "PD": {"L": 2, "M": 2, "H": 2},
}
CRITERION_IDS = [f"{a}-{lv}{i}" for a, lv_counts in CRITERIA_COUNTS.items()
                 for lv, n in lv_counts.items() for i in range(1, n + 1)]

# Codes from the product's one vocabulary (include/vocabulary.yaml), as the feed readers use them.
INTEL_FLAGS = list(VOCAB.intelligence_flags)
SEVERITIES = list(VOCAB.severities)
LETTER_CODES = list(VOCAB.letters)

TEAM_FOR_FLAG = {
    "safeguarding": "Education Safeguarding", "behaviour_safety": "Education Safeguarding",
    "finance": "Schools Finance",
    "governance": "Governor Services", "governors_not_acknowledging": "Governor Services",
    "no_substantive_leadership": "Governor Services",
    "inclusion": "SEND and Inclusion", "exclusions": "SEND and Inclusion",
    "admissions_reluctance": "SEND and Inclusion",
    "attendance": "Attendance Service", "falling_roll": "Admissions",
    "staffing_turbulence": "HR Schools", "staff_turnover": "HR Schools",
}
INTEL_DETAIL = {
    "safeguarding": "Referral handling delayed; single central record incomplete at LADO visit.",
    "finance": "Deficit budget recovery plan not agreed; in-year overspend forecast.",
    "governance": "Several governor vacancies; committee minutes show little challenge.",
    "leadership_capacity": "Senior team stretched; deputy covering class full time.",
    "new_head": "Headteacher new to post this year; induction and mentor arranged.",
    "interim_head": "Interim headteacher in place pending recruitment.",
    "no_substantive_leadership": "No substantive headteacher; chair of governors also interim.",
    "staffing_turbulence": "High vacancy rate; long-term agency cover in two classes.",
    "staff_turnover": "Five teachers left at end of last year; two grievances lodged.",
    "complaints": "Rising number of parental complaints escalated to the LA.",
    "exclusions": "Suspensions well above LA average this term.",
    "engagement": "School has declined adviser visits and LA briefings.",
    "self_evaluation": "SEF not updated since last inspection; judgements over-generous.",
    "attendance": "Persistent absence rising; attendance officer capacity limited.",
    "inclusion": "Concerns about part-time timetables and SEND provision.",
    "moderation": "KS2 writing moderation found judgements not secure.",
    "admissions_reluctance": "Repeated reluctance to admit pupils with EHC plans via fair access.",
    "behaviour_safety": "Reports of unsafe behaviour at lunchtimes; incidents logged by parents.",
    "sw_sm_risk": "At risk of a category of concern at next inspection.",
    "ri_monitoring_insufficient_progress": "Monitoring shows insufficient progress against the RI action plan.",
    "leaders_not_acting": "Leaders have not acted on agreed LAIG actions.",
    "governors_not_acknowledging": "Governors do not accept the seriousness of the position.",
    "falling_roll": "Roll falling faster than local demographic change.",
    "no_primary_offer": "School does not buy into the Primary School Improvement Offer; annual monitoring visit only.",
    "warning_notice_compliance": "Actions required by the warning notice not met by the deadline.",
}

# ---------------------------------------------------------------------------------------------------------
# Real DfE / Ofsted header lists (written here because the real samples are absent in production)

KS2_BASE = [
    "RECTYPE", "ALPHAIND", "LEA", "ESTAB", "URN", "SCHNAME", "ADDRESS1", "ADDRESS2", "ADDRESS3", "TOWN", "PCODE",
    "TELNUM", "PCON_CODE", "PCON_NAME", "URN_AC", "SCHNAME_AC", "OPEN_AC", "NFTYPE", "ICLOSE", "RELDENOM",
    "AGERANGE", "TAB15", "TAB1618", "TOTPUPS", "TPUPYEAR", "TELIG", "BELIG", "GELIG", "PBELIG", "PGELIG",
    "TFSM6CLA1A", "PTFSM6CLA1A", "TNotFSM6CLA1A", "PTNotFSM6CLA1A", "TEALGRP2", "PTEALGRP2", "TMOBN", "PTMOBN",
    "PTRWM_EXP", "PTRWM_HIGH", "READPROG", "READPROG_LOWER", "READPROG_UPPER", "READCOV", "WRITPROG",
    "WRITPROG_LOWER", "WRITPROG_UPPER", "WRITCOV", "MATPROG", "MATPROG_LOWER", "MATPROG_UPPER", "MATCOV",
    "PTREAD_EXP", "PTREAD_HIGH", "READ_AVERAGE", "PTGPS_EXP", "PTGPS_HIGH", "GPS_AVERAGE", "PTMAT_EXP",
    "PTMAT_HIGH", "MAT_AVERAGE", "PTWRITTA_EXP", "PTWRITTA_HIGH", "PTRWM_EXP_B", "PTRWM_EXP_G",
    "PTRWM_EXP_FSM6CLA1A", "PTRWM_EXP_NotFSM6CLA1A", "DIFFN_RWM_EXP", "PTRWM_HIGH_FSM6CLA1A",
    "PTRWM_HIGH_NotFSM6CLA1A", "DIFFN_RWM_HIGH", "READ_AVERAGE_FSM6CLA1A", "READ_AVERAGE_NotFSM6CLA1A",
    "MAT_AVERAGE_FSM6CLA1A", "MAT_AVERAGE_NotFSM6CLA1A", "TEALGRP1", "PTEALGRP1", "TSENELE", "PSENELE",
    "TSENELK", "PSENELK", "TSENELEK", "PSENELEK",
]
KS2_PREV = ["TELIG_{yy}", "PTFSM6CLA1A_{yy}", "PTNOTFSM6CLA1A_{yy}", "PTRWM_EXP_{yy}", "PTRWM_HIGH_{yy}",
            "PTRWM_EXP_FSM6CLA1A_{yy}", "PTRWM_HIGH_FSM6CLA1A_{yy}", "PTRWM_EXP_NotFSM6CLA1A_{yy}",
            "PTRWM_HIGH_NotFSM6CLA1A_{yy}", "READPROG_{yy}", "READPROG_LOWER_{yy}", "READPROG_UPPER_{yy}",
            "WRITPROG_{yy}", "WRITPROG_LOWER_{yy}", "WRITPROG_UPPER_{yy}", "MATPROG_{yy}", "MATPROG_LOWER_{yy}",
            "MATPROG_UPPER_{yy}", "READ_AVERAGE_{yy}", "MAT_AVERAGE_{yy}"]
KS2_3YR = ["TELIG_3YR", "PTRWM_EXP_3YR", "PTRWM_HIGH_3YR", "READ_AVERAGE_3YR", "MAT_AVERAGE_3YR"]
# In the 2024/25 download these six header columns have no values on the rows (a ragged file).
KS2_RAGGED_TAIL = ["READPROG_UNADJUSTED", "WRITPROG_UNADJUSTED", "MATPROG_UNADJUSTED", "READPROG_DESCR",
                   "WRITPROG_DESCR", "MATPROG_DESCR"]

KS4_HEADER_BASE = [
    "RECTYPE", "LEA", "ESTAB", "URN", "SCHNAME", "SCHNAME_AC", "ADDRESS1", "TOWN", "PCODE", "ICLOSE", "NFTYPE",
    "RELDENOM", "ADMPOL", "EGENDER", "AGERANGE", "TOTPUPS", "TPUP", "TFSM6CLA1A", "PTFSM6CLA1A", "TNOTFSM6CLA1A",
    "PTNOTFSM6CLA1A", "ATT8SCR", "ATT8SCRENG", "ATT8SCRMAT", "P8PUP", "P8MEACOV", "P8MEA", "P8CILOW", "P8CIUPP",
    "P8MEA_ORIG", "P8CILOW_ORIG", "P8CIUPP_ORIG", "PTL2BASICS_94", "PTL2BASICS_95", "EBACCAPS",
    "ATT8SCR_FSM6CLA1A", "P8MEA_FSM6CLA1A", "ATT8SCR_NFSM6CLA1A", "P8MEA_NFSM6CLA1A", "PTFSM6CLA1ABASICS_94",
    "PTNOTFSM6CLA1ABASICS_94", "ATT8SCR_PREV", "ATT8SCR_PREV2", "P8MEA_PREV", "P8MEA_PREV2",
    "PTL2BASICS_94_PREV", "PTL2BASICS_94_PREV2",
]

ABS_HEADER = ["LA", "ESTAB", "URN", "PERCTOT", "PPERSABS10"]

CENSUS_HEADER_OLD = ["URN", "LA", "ESTAB", "SCHOOLTYPE", "NOR", "NORG", "NORB", "PNORG", "PNORB", "TSENELSE",
                     "PSENELSE", "TSENELK", "PSENELK", "NUMEAL", "NUMENGFL", "NUMUNCFL", "PNUMEAL", "PNUMENGFL",
                     "PNUMUNCFL", "NUMFSM", "NUMFSMEVER", "PNUMFSMEVER"]
# From 2024/25: ESTAB -> Estab, PNUMUNCFL -> PNUMUNCLF, NORFSMEVER added, percentages written as "44.98%".
CENSUS_HEADER_2025 = ["URN", "LA", "Estab", "SCHOOLTYPE", "NOR", "NORG", "NORB", "PNORG", "PNORB", "TSENELSE",
                      "PSENELSE", "TSENELK", "PSENELK", "NUMEAL", "NUMENGFL", "NUMUNCFL", "PNUMEAL", "PNUMENGFL",
                      "PNUMUNCLF", "NUMFSM", "NUMFSMEVER", "NORFSMEVER", "PNUMFSMEVER"]

GIAS_HEADER = [
    "URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName", "TypeOfEstablishment (name)",
    "EstablishmentTypeGroup (name)", "EstablishmentStatus (name)", "ReasonEstablishmentOpened (name)", "OpenDate",
    "ReasonEstablishmentClosed (name)", "CloseDate", "PhaseOfEducation (name)", "StatutoryLowAge",
    "StatutoryHighAge", "Boarders (name)", "NurseryProvision (name)", "OfficialSixthForm (name)", "Gender (name)",
    "ReligiousCharacter (name)", "ReligiousEthos (name)", "Diocese (name)", "AdmissionsPolicy (name)",
    "SchoolCapacity", "SpecialClasses (name)", "CensusDate", "NumberOfPupils", "NumberOfBoys", "NumberOfGirls",
    "PercentageFSM", "TrustSchoolFlag (name)", "Trusts (name)", "SchoolSponsorFlag (name)", "SchoolSponsors (name)",
    "FederationFlag (name)", "Federations (name)", "UKPRN", "FEHEIdentifier", "FurtherEducationType (name)",
    "OfstedLastInsp", "LastChangedDate", "Street", "Locality", "Address3", "Town", "County (name)", "Postcode",
    "SchoolWebsite", "TelephoneNum", "HeadTitle (name)", "HeadFirstName", "HeadLastName", "HeadPreferredJobTitle",
    "BSOInspectorateName (name)", "InspectorateReport", "DateOfLastInspectionVisit", "NextInspectionVisit",
    "TeenMoth (name)", "TeenMothPlaces", "CCF (name)", "SENPRU (name)", "EBD (name)", "PlacesPRU", "FTProv (name)",
    "EdByOther (name)", "Section41Approved (name)", "SEN1 (name)", "SEN2 (name)", "SEN3 (name)", "SEN4 (name)",
    "SEN5 (name)", "SEN6 (name)", "SEN7 (name)", "SEN8 (name)", "SEN9 (name)", "SEN10 (name)", "SEN11 (name)",
    "SEN12 (name)", "SEN13 (name)", "TypeOfResourcedProvision (name)", "ResourcedProvisionOnRoll",
    "ResourcedProvisionCapacity", "SenUnitOnRoll", "SenUnitCapacity", "GOR (name)", "DistrictAdministrative (name)",
    "AdministrativeWard (name)", "ParliamentaryConstituency (name)", "UrbanRural (name)", "GSSLACode (name)",
    "Easting", "Northing", "MSOA (name)", "LSOA (name)", "InspectorateName (name)", "SENStat", "SENNoStat",
    "PropsName", "OfstedRating (name)", "RSCRegion (name)", "Country (name)", "UPRN", "SiteName", "QABName (name)",
    "EstablishmentAccredited (name)", "QABReport", "CHNumber", "MSOA (code)", "LSOA (code)", "FSM",
    "Linked establishments",
]

OFSTED_HEADER = [
    "Web Link (opens in new window)", "URN", "LAESTAB", "School name", "Ofsted phase", "Type of education",
    "School open date", "Admissions policy", "Sixth form", "Designated religious character", "Religious ethos",
    "Faith grouping", "Ofsted region", "Region", "Local authority", "Parliamentary constituency", "Postcode",
    "Multi-academy trust UID", "Multi-academy trust name", "Academy sponsor UID", "Academy sponsor name",
    "The income deprivation affecting children index (IDACI) quintile", "Total number of pupils",
    "Statutory lowest age", "Statutory highest age", "Inspection number of latest full inspection",
    "Inspection type", "Inspection type grouping", "Event type grouping", "Inspection start date",
    "Publication date", "Does the latest full inspection relate to the URN of the current school?",
    "URN at time of latest full inspection", "LAESTAB at time of latest full inspection",
    "School name at time of latest full inspection", "School type at time of latest full inspection",
    "Category of concern", "Safeguarding standards", "Safeguarding standards - date of grade", "Inclusion",
    "Inclusion - date of grade", "Curriculum and teaching", "Curriculum and teaching - date of grade",
    "Achievement", "Achievement - date of grade", "Attendance and behaviour",
    "Attendance and behaviour - date of grade", "Personal development and wellbeing",
    "Personal development and wellbeing - date of grade", "Early years (where applicable)",
    "Early years - date of grade", "Post-16 provision (where applicable)", "Post-16 provision - date of grade",
    "Leadership and governance", "Leadership and governance - date of grade",
    "Inspection number of latest OEIF graded inspection", "Inspection type of latest OEIF graded inspection",
    "Inspection type grouping of latest OEIF graded inspection",
    "Event type grouping of latest OEIF graded inspection",
    "Inspection start date of latest OEIF graded inspection",
    "Publication date of latest OEIF graded inspection",
    "Does the latest OEIF graded inspection relate to the URN of the current school?",
    "URN at time of latest OEIF graded inspection", "LAESTAB at time of latest OEIF graded inspection",
    "School name at time of latest OEIF graded inspection", "School type at time of latest OEIF graded inspection",
    "Latest OEIF category of concern", "Latest OEIF overall effectiveness", "Latest OEIF quality of education",
    "Latest OEIF behaviour and attitudes", "Latest OEIF personal development",
    "Latest OEIF effectiveness of leadership and management", "Latest OEIF  safeguarding is effective?",
    "Latest OEIF early years provision (where applicable)", "Latest OEIF sixth form provision (where applicable)",
    "Latest ungraded inspection number", "Date of latest ungraded inspection",
    "Ungraded inspection publication date", "Does the ungraded inspection relate to the URN of the current school?",
    "URN at time of the ungraded inspection", "LAESTAB at time of the ungraded inspection",
    "School name at time of the ungraded inspection", "School type at time of the ungraded inspection",
    "Ungraded inspection overall outcome", "Most recent category of concern",
]
RC_AREAS = [("Inclusion", "Inclusion - date of grade"),
            ("Curriculum and teaching", "Curriculum and teaching - date of grade"),
            ("Achievement", "Achievement - date of grade"),
            ("Attendance and behaviour", "Attendance and behaviour - date of grade"),
            ("Personal development and wellbeing", "Personal development and wellbeing - date of grade"),
            ("Early years (where applicable)", "Early years - date of grade"),
            ("Post-16 provision (where applicable)", "Post-16 provision - date of grade"),
            ("Leadership and governance", "Leadership and governance - date of grade")]
RC_SCALE = ["Urgent improvement", "Needs attention", "Expected standard", "Strong standard", "Exceptional"]

# ---------------------------------------------------------------------------------------------------------
# Invented vocabulary. Syllables chosen to make names that are unlikely to be real schools.

_PLACE_A = ["Abben", "Brisk", "Cawl", "Dorn", "Eskel", "Fray", "Gann", "Hobb", "Imble", "Jessel", "Kerrin",
            "Lumb", "Morran", "Nabb", "Oxlan", "Pruff", "Quarn", "Rilt", "Scarrow", "Tubben", "Ulver", "Varr",
            "Wolvey", "Yeld", "Zenn", "Blen", "Cromb", "Dribb", "Fost", "Grobb", "Hesk", "Lidd", "Marrow",
            "Penn", "Rudd", "Sleff", "Thwaill", "Wendle"]
_PLACE_B = ["combe", "ley", "wick", "ford", "bury", "stead", "thorpe", "field", "hurst", "den", "well", "mere",
            "brook", "wold", "ridge", "holt", "ton", "by", "cote", "dene"]
_FIRST = ["Amelia", "Ben", "Carys", "Daniel", "Eleanor", "Farhan", "Grace", "Harriet", "Imran", "Joanna",
          "Keith", "Lucy", "Martin", "Niamh", "Oliver", "Priya", "Rachel", "Simon", "Tariq", "Ursula", "Victoria",
          "William", "Zoë", "Siân", "Renée", "José", "Chloé", "Gareth", "Helen", "Aled", "Bethan", "Colin",
          "Deborah", "Ewan", "Fiona", "Graham", "Hannah", "Ian", "Jasmine", "Karen"]
_LAST = ["Ashdown", "Brindle", "Carver", "Dunmore", "Everitt", "Fairclough", "Gedling", "Hollis", "Ingram",
         "Jessop", "Kettley", "Lowther", "Maddox", "Nettleship", "Orchard", "Pickering", "Quilter", "Rendell",
         "Sowerby", "Tranter", "Upcott", "Vardy", "Whitlock", "Yelland", "Abernethy", "Blackmore", "Cotterill",
         "Dearlove", "Eccles", "Fenwick", "Goodyear", "Hebden", "Lockwood", "Merriman", "Pennock", "Rowntree"]
_MALE = {"Ben", "Daniel", "Farhan", "Imran", "Keith", "Martin", "Oliver", "Simon", "Tariq", "William", "José",
         "Gareth", "Aled", "Colin", "Ewan", "Graham", "Ian"}


def _title(rng, first: str) -> str:
    opts = ["Mr", "Mr", "Dr"] if first in _MALE else ["Mrs", "Ms", "Miss", "Mrs", "Dr"]
    return opts[int(rng.integers(len(opts)))]
_WARD_SUFFIX = ["North", "South", "East", "West", "Central", "Rural", "Town", "and Villages"]
_TRUST_STEMS = ["Learning Trust", "Academies Trust", "Education Partnership", "Multi-Academy Trust",
                "Schools Trust", "Co-operative Learning Trust"]
_PARTIES = ["Conservative", "Labour", "Liberal Democrats", "Green", "Independent"]
_ADVISERS = ["Ruth Calloway", "Nadeem Sharrock", "Felicity Ormerod", "Gwen Tallis", "Patrick Oyelaran",
             "Marian Westcott", "Hugh Brennand"]
_DIRECTOR = "Director of Education (demo)"

PHASES_KS2 = {"Primary", "Special"}


@dataclass
class School:
    urn: int
    estab: int
    name: str
    phase: str  # Primary | Secondary | Special | Nursery
    maintained: bool
    gias_type: str
    type_group: str
    nftype: str
    ofsted_type: str
    religious: str
    low_age: int
    high_age: int
    ward: str
    town: str
    postcode: str
    trust: str
    adviser: str
    nor: int
    disadv: float  # share of pupils disadvantaged
    sen: float
    eal: float
    q: float  # latent quality, ~N(0, 1)
    trend: float  # change in q per year
    roll_trend: float  # proportional change in roll per year
    open_date: str
    year_noise: dict = field(default_factory=dict)
    heads: list = field(default_factory=list)  # [(effective date, title, first, last)]
    ofsted: list = field(default_factory=list)  # inspection events (dicts)
    idaci: int = 3
    cohort_override: dict = field(default_factory=dict)  # year -> (cohort, n_disadv)
    noise: float = 1.0  # scale of year-to-year noise in results (low for scenario schools)
    la: str = DEMO_LA_CODE

    @property
    def laestab(self) -> str:
        return f"{self.la}{self.estab:04d}"

    def q_at(self, year: int) -> float:
        """Latent quality for the academic year ending in `year`."""
        return self.q + self.trend * (year - 2024) + self.year_noise.get(year, 0.0)

    def head_at(self, d: date):
        cur = self.heads[0]
        for h in self.heads:
            if h[0] <= d:
                cur = h
        return cur

    def nor_at(self, year: int) -> int:
        return max(12, int(round(self.nor * (1 + self.roll_trend) ** (year - 2024))))


# ---------------------------------------------------------------------------------------------------------
# Output helpers


def _csv_bytes(header: list[str], rows: list[list], *, quote_all=False, final_newline=False,
               ragged_to: int | None = None) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in (r[:ragged_to] if ragged_to else r)])
    text = buf.getvalue()
    return text if final_newline else text[:-2]


def _write_perf(path: Path, header, rows, ragged_to=None):
    # Performance-tables downloads: UTF-8 with BOM, CRLF, no final newline.
    path.write_bytes(b"\xef\xbb\xbf" + _csv_bytes(header, rows, ragged_to=ragged_to).encode("utf-8"))


def _write_cp1252(path: Path, header, rows, quote_all=False):
    path.write_bytes(_csv_bytes(header, rows, quote_all=quote_all).encode("cp1252"))


def _write_la_feed(path: Path, kind: str, rows: list[dict]):
    cols = LA_FEED_COLUMNS[kind]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([r.get(c, "") for c in cols])
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")


def _pct(v) -> str:
    return f"{int(round(v))}%"


def _num1(v) -> str:
    # Performance tables drop a trailing ".0" ("14" not "14.0").
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def _d_slash(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _d_dash(d: date) -> str:
    return d.strftime("%d-%m-%Y")


def _school_days(start: date, end: date) -> list[date]:
    out, d = [], start
    while d <= end:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


def _rand_day(rng, start: date, end: date) -> date:
    days = _school_days(start, end) or [start]
    return days[int(rng.integers(len(days)))]


def perf_year(term: Term) -> int:
    """Year (end of academic year) of the latest final KS2/KS4 results published before the term.

    KS2 final results for year Y/Y+1 are out by December of Y+1, so every term of 2025-26 uses 2024-25."""
    return term.start_year


def _window(term: Term) -> TermWindow:
    """The term's dates and closures from the calendar, or its nominal dates (weekdays only) when it is not listed."""
    return TermCalendar.load().windows.get(term) or TermWindow(term, *term.nominal_dates(), ())


@lru_cache(maxsize=64)  # asked per school and row: the national benchmark generates tens of thousands
def run_date(term: Term) -> date:
    """The term's scheduled run date: the calendar's, or for a term the calendar does not list the run date the
    pipeline takes from its nominal dates. A run with as_of blank is dated so (pipeline.RunConfig.as_of_date)."""
    return _window(term).nth_school_day(TermCalendar.load().run_after_school_days)


def gias_extract_date(term: Term) -> date:
    """The day the demo's GIAS extract and Ofsted MI are dated: the day before the term's scheduled run, as an
    officer downloads them for the run."""
    return run_date(term) - timedelta(days=1)


@lru_cache(maxsize=64)
def _before_run(term: Term, since: date | None = None) -> tuple[date, ...]:
    """The school days on which the LA-held rows new at this term's scheduled run are dated, as a real LA's are:
    after the previous term's run to the end of that term, and from this term's start to the day before its run
    (the run is at 06:00, and an edition dated its run date shows what was known by then: a demo row dated after
    it would open every demo front page with "uses evidence dated after it"). Visits, flags and LAIG meetings are
    spread over these weeks, about a term's worth. `since`: none before that day (a head who started this term is
    not judged at a visit before it); if that leaves none, this term's days before the run."""
    prev = term.previous()
    pw, w = _window(prev), _window(term)
    cut = run_date(term) - timedelta(days=1)
    days = [d for d in _school_days(run_date(prev) + timedelta(days=1), pw.end) if pw.is_school_day(d)]
    days += [d for d in _school_days(w.start, cut) if w.is_school_day(d)]
    if since is not None:
        days = [d for d in days if d >= since] or [d for d in _school_days(w.start, cut) if w.is_school_day(d)]
    return tuple(days or [w.start])


def _pick_day(rng, days) -> date:
    return days[int(rng.integers(len(days)))]  # one draw, as _rand_day, so the rng stream stays aligned


def dfe_file_names(la_code: str, term: Term) -> dict[str, str]:
    """Feed kind -> the name the demo gives a term's DfE, GIAS and Ofsted file, as an officer saves the downloads:
    the results' academic year in the name (the DfE's zips name it only in their folder), so a run knows how old
    each file is instead of warning that it cannot tell. GIAS names its extracts with the day they were taken
    (edubasealldataYYYYMMDD.csv), so the run can say how old the list of schools is."""
    y = perf_year(term)
    year = f"{y - 1}-{y % 100:02d}"
    return {"ks2": f"{la_code}_ks2final_{year}.csv", "ks4": f"{la_code}_ks4final_{year}.csv",
            "absence": f"{la_code}_abs_{year}.csv", "census": f"{la_code}_census_{year}.csv",
            "gias": f"edubasealldata{gias_extract_date(term):%Y%m%d}.csv",
            "ofsted": "management_information_latest_inspections.csv"}


def _results_published(year: int) -> bool:
    return year not in (2020, 2021)  # no tests during the pandemic


def _ks2_progress_published(year: int) -> bool:
    return _results_published(year) and year not in (2024, 2025)  # no KS1 baseline for these cohorts


def _p8_published(year: int) -> bool:
    return _results_published(year) and year not in (2025, 2026)  # no KS2 baseline for these cohorts


# ---------------------------------------------------------------------------------------------------------
# The roster of schools (independent of terms, so every term sees the same LA)


def _place_names(rng, n: int) -> list[str]:
    combos = [a + b for a in _PLACE_A for b in _PLACE_B]
    idx = rng.permutation(len(combos))[:n]
    return [combos[i] for i in idx]


DEMO_SCHOOLS = 250  # the roster's size at scale 1
SCALED_PLACE_PREFIXES = ("Upper", "Lower", "Great", "Little", "North", "South", "East", "West", "Nether", "High",
                         "Old", "New")


def _scaled(count: int, schools: int | None) -> int:
    """A roster line's count when the demo is scaled to about `schools` schools (every line in proportion)."""
    return count if not schools else max(1, round(count * schools / DEMO_SCHOOLS))


def _by_phase(spec: list[tuple], phases: dict[str, int]) -> list[tuple]:
    """The roster lines rescaled so each phase holds exactly `phases[phase]` schools (lines of a phase in
    proportion, largest remainders first): an LA's real school counts per phase, for national benchmarks."""
    unknown = set(phases) - {line[0] for line in spec}
    if unknown:
        raise ValueError(f"the demo roster has no phase {sorted(unknown)}; its phases: "
                         f"{sorted({line[0] for line in spec})}")
    counts = [0] * len(spec)
    for phase, wanted in phases.items():
        idx = [i for i, line in enumerate(spec) if line[0] == phase]
        base = sum(spec[i][-1] for i in idx)
        exact = {i: spec[i][-1] * wanted / base for i in idx}
        for i in idx:
            counts[i] = int(exact[i])
        short = wanted - sum(counts[i] for i in idx)
        for i in sorted(idx, key=lambda i: (-(exact[i] - int(exact[i])), i))[:short]:
            counts[i] += 1
    return [(*line[:-1], n) for line, n in zip(spec, counts)]


def _build_roster(seed: int, la: str = DEMO_LA_CODE, schools_wanted: int | None = None,
                  phases: dict[str, int] | None = None) -> tuple[list[School], list[str], list[str]]:
    if phases:
        schools_wanted = sum(phases.values())
    rng = np.random.default_rng([seed, 0])
    # A scaled roster needs more place names; the draw is one permutation either way, so scale 1 is unchanged.
    places = _place_names(rng, 320 if not schools_wanted else len(_PLACE_A) * len(_PLACE_B))
    ward_names = [f"{places[i]} {_WARD_SUFFIX[i % len(_WARD_SUFFIX)]}" if i % 3 else places[i]
                  for i in range(16)]
    towns = places[16:30]
    trusts = [f"{places[30 + i]} {_TRUST_STEMS[i % len(_TRUST_STEMS)]}" for i in range(7)]
    school_places = places[40:]

    # (phase, maintained, gias type, group, nftype, ofsted type, religious, ages, count)
    spec = [
        ("Primary", True, "Community school", "Local authority maintained schools", "CY", "Community School",
         "Does not apply", (4, 11), 100),
        ("Primary", True, "Voluntary aided school", "Local authority maintained schools", "VA",
         "Voluntary Aided School", "Church of England", (4, 11), 30),
        ("Primary", True, "Voluntary controlled school", "Local authority maintained schools", "VC",
         "Voluntary Controlled School", "Church of England", (4, 11), 24),
        ("Primary", True, "Foundation school", "Local authority maintained schools", "FD", "Foundation School",
         "Does not apply", (4, 11), 6),
        ("Primary", True, "Community school", "Local authority maintained schools", "CY", "Community School",
         "Does not apply", (4, 7), 8),  # infant schools: no KS2
        ("Secondary", True, "Community school", "Local authority maintained schools", "CY", "Community School",
         "Does not apply", (11, 18), 14),
        ("Secondary", True, "Foundation school", "Local authority maintained schools", "FD", "Foundation School",
         "Does not apply", (11, 16), 5),
        ("Special", True, "Community special school", "Special schools", "CYS", "Community Special School",
         "Does not apply", (4, 19), 9),
        ("Nursery", True, "Local authority nursery school", "Local authority maintained schools", "", "LA Nursery School",
         "Does not apply", (2, 5), 4),
        ("Primary", False, "Academy converter", "Academies", "ACC", "Academy Converter", "Does not apply",
         (4, 11), 22),
        ("Primary", False, "Academy sponsor led", "Academies", "AC", "Academy Sponsor Led", "Does not apply",
         (4, 11), 10),
        ("Secondary", False, "Academy converter", "Academies", "ACC", "Academy Converter", "Does not apply",
         (11, 18), 8),
        ("Secondary", False, "Academy sponsor led", "Academies", "AC", "Academy Sponsor Led", "Does not apply",
         (11, 16), 4),
        ("Secondary", False, "Free schools", "Free Schools", "F", "Free School", "Does not apply", (11, 16), 3),
        ("Special", False, "Academy special converter", "Academies", "ACCS", "Academy Special Converter",
         "Does not apply", (5, 19), 3),
    ]
    spec = _by_phase(spec, phases) if phases else [(*line[:-1], _scaled(line[-1], schools_wanted)) for line in spec]
    n_total = sum(s[-1] for s in spec)
    if n_total > 9000:
        raise ValueError(f"the demo roster holds at most 9,000 schools (fictional URNs 990001-999999), not {n_total}")
    urns = np.sort(rng.choice(np.arange(990001, 1000000), size=n_total, replace=False))
    urn_order = rng.permutation(n_total)
    schools: list[School] = []
    used_names: set[str] = set()
    estab_next = {"Primary": 2000, "Secondary": 4000, "Special": 7000, "Nursery": 1000}
    k = 0
    for phase, maint, gtype, group, nft, otype, relig, (lo, hi), count in spec:
        for _ in range(count):
            place = school_places[k % len(school_places)]
            if k >= len(school_places):  # a scaled roster: "Upper Abbencombe", "Lower Abbencombe", ...
                place = f"{SCALED_PLACE_PREFIXES[k // len(school_places) - 1]} {place}"  # 12 x 720 > 9,000
            name = _school_name(rng, place, phase, maint, gtype, relig, lo, hi)
            while name in used_names:
                name = name.replace(place, place + "wood", 1)
            used_names.add(name)
            estab = estab_next[phase] + (3000 if relig != "Does not apply" and phase == "Primary" else 0)
            estab_next[phase] += 1
            if not maint:
                estab = {"Primary": 2500, "Secondary": 4500, "Special": 7500}[phase] + (k % 400)
            if phase == "Primary":
                nor = int(np.clip(rng.lognormal(np.log(220), 0.5), 35, 640))
            elif phase == "Secondary":
                nor = int(np.clip(rng.normal(1000, 300), 450, 1800))
            elif phase == "Special":
                nor = int(rng.integers(60, 220))
            else:
                nor = int(rng.integers(60, 140))
            if hi == 7:
                nor = int(nor * 0.55)
            disadv = float(np.clip(rng.beta(2.2, 7.5), 0.03, 0.7))
            q = float(rng.normal(0, 1)) - 1.2 * (disadv - 0.23)
            title_first = _FIRST[int(rng.integers(len(_FIRST)))]
            last = _LAST[int(rng.integers(len(_LAST)))]
            title = _title(rng, title_first)
            ward = ward_names[int(rng.integers(len(ward_names)))]
            open_date = "" if maint else _d_dash(date(int(rng.integers(2011, 2023)), [9, 1, 4][int(rng.integers(3))], 1))
            s = School(
                urn=int(urns[urn_order[k]]), estab=estab, name=name, phase=phase, maintained=maint,
                gias_type=gtype, type_group=group, nftype=nft, ofsted_type=otype, religious=relig,
                low_age=lo, high_age=hi, ward=ward, town=towns[int(rng.integers(len(towns)))],
                postcode=_postcode(rng),
                trust="" if maint else trusts[int(rng.integers(len(trusts)))],
                adviser=_ADVISERS[ward_names.index(ward) % len(_ADVISERS)],
                nor=nor, disadv=disadv, sen=float(np.clip(rng.normal(0.14, 0.04), 0.04, 0.3)),
                eal=float(np.clip(rng.lognormal(np.log(0.08), 0.8), 0.0, 0.6)),
                q=q, trend=float(rng.normal(0, 0.15)), roll_trend=float(rng.normal(-0.005, 0.02)),
                open_date=open_date, idaci=int(np.clip(round(5 - disadv * 10), 1, 5)), la=la,
            )
            if phase == "Special":
                s.disadv, s.sen = float(np.clip(rng.normal(0.45, 0.1), 0.2, 0.7)), 0.95
            s.year_noise = {y: float(rng.normal(0, 0.25)) for y in range(2015, 2031)}
            s.heads = [(date(2000, 1, 1), title, title_first, last)]
            # Some heads change each September (routine turnover).
            for y in (2023, 2024, 2025):
                if rng.random() < 0.06:
                    f2 = _FIRST[int(rng.integers(len(_FIRST)))]
                    s.heads.append((date(y, 9, 1), _title(rng, f2), f2, _LAST[int(rng.integers(len(_LAST)))]))
            schools.append(s)
            k += 1
    schools.sort(key=lambda s: s.urn)
    for s in schools:
        _background_ofsted(rng, s)
    return schools, ward_names, trusts


def _postcode(rng) -> str:
    # "WD" is not a real postcode area for these towns; the demo just needs the shape.
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return (f"WD{int(rng.integers(1, 30))} {int(rng.integers(1, 10))}"
            f"{letters[int(rng.integers(20))]}{letters[int(rng.integers(20))]}")


def _school_name(rng, place, phase, maint, gtype, relig, lo, hi) -> str:
    if phase == "Nursery":
        return f"{place} Nursery School"
    if phase == "Special":
        return f"{place} {['School', 'Park School', 'Hill School'][int(rng.integers(3))]}"
    if phase == "Secondary":
        if gtype == "Free schools":
            return f"{place} Free School"
        if not maint:
            return f"{place} {['Academy', 'Community Academy'][int(rng.integers(2))]}"
        return f"{place} {['Community College', 'High School', 'School'][int(rng.integers(3))]}"
    if hi == 7:
        return f"{place} Infant School"
    if not maint:
        return f"{place} {['Primary Academy', 'Academy', 'Primary School'][int(rng.integers(3))]}"
    if relig == "Church of England":
        return f"{place} {['C of E Primary School', 'Church of England Primary School', 'CE Primary School'][int(rng.integers(3))]}"
    return f"{place} {['Primary School', 'Community Primary School', 'Primary School'][int(rng.integers(3))]}"


# ---------------------------------------------------------------------------------------------------------
# Ofsted histories


def _oeif_grade(rng, q: float) -> int:
    # Roughly 15% Outstanding, 70% Good, 11% RI, 4% Inadequate.
    x = q + rng.normal(0, 0.45)
    return 1 if x > 1.25 else 2 if x > -1.4 else 3 if x > -2.25 else 4


def _oeif_event(rng, d: date, overall: int, inspection_type="S5 Inspection", category="",
                safeguarding="Yes") -> dict:
    subs = [int(np.clip(overall + rng.choice([-1, 0, 0, 0, 0, 1]), 1, 4)) for _ in range(4)]
    subs[0] = overall  # quality of education usually drives the overall grade
    if overall == 4:
        subs[3] = 4
    return {"kind": "oeif", "date": d, "pub": d + timedelta(days=int(rng.integers(18, 40))),
            "number": int(rng.integers(10100000, 10499999)), "type": inspection_type,
            "overall": overall if d < OEIF_NOT_JUDGED_FROM else "Not judged", "true_overall": overall,
            "subs": subs, "category": category, "safeguarding": safeguarding}


def _rc_event(rng, d: date, level: int, safeguarding="Met", category="") -> dict:
    """Report-card inspection; `level` 0..4 indexes RC_SCALE around which area grades fall."""
    grades = [RC_SCALE[int(np.clip(level + rng.choice([-1, 0, 0, 0, 1]), 0, 4))] for _ in RC_AREAS]
    return {"kind": "rc", "date": d, "pub": d + timedelta(days=int(rng.integers(14, 30))),
            "number": int(rng.integers(10500000, 10599999)), "type": "S5 Inspection",
            "grades": grades, "safeguarding": safeguarding, "category": category,
            "true_overall": {0: 4, 1: 3, 2: 2, 3: 2, 4: 1}[level]}


def _ungraded_event(rng, d: date, outcome: str) -> dict:
    return {"kind": "ungraded", "date": d, "pub": d + timedelta(days=int(rng.integers(20, 45))),
            "number": int(rng.integers(10200000, 10499999)), "outcome": outcome}


def _inspection_event(rng, d: date, overall: int, **kw) -> dict:
    """A graded inspection in whichever framework applied on date d."""
    if d >= REPORT_CARD_START:
        level = {1: 3, 2: 2, 3: 1, 4: 0}[overall]
        sg = "Not met" if kw.get("safeguarding") == "No" else "Met"
        return _rc_event(rng, d, level, safeguarding=sg, category=kw.get("category", ""))
    return _oeif_event(rng, d, overall, **kw)


def _background_ofsted(rng, s: School):
    start = date(2016, 9, 1)
    d = start + timedelta(days=int(rng.integers(0, (date(2024, 7, 15) - start).days)))
    d = _rand_day(rng, d, d + timedelta(days=6))
    g = _oeif_grade(rng, s.q_at(d.year))
    cat = ""
    itype = "S5 Inspection"
    if g == 4:
        cat = "Special Measures" if rng.random() < 0.5 else "Serious Weaknesses"
        d = max(d, date(2023, 1, 10))  # a category of concern is recent (it would have been re-inspected)
    if g == 3:
        d = max(d, date(2022, 1, 10))  # RI schools are re-inspected within ~30 months
    s.ofsted.append(_oeif_event(rng, d, g, itype, category=cat, safeguarding="No" if cat and rng.random() < 0.3 else "Yes"))
    # Good/Outstanding schools often have a later ungraded inspection.
    if g <= 2 and d < date(2022, 6, 1) and rng.random() < 0.6:
        d2 = d + timedelta(days=int(rng.integers(900, 1400)))
        d2 = min(d2, date(2025, 7, 10))
        outcome = "School remains Good" if g == 2 else "School remains Outstanding"
        if rng.random() < 0.12:
            outcome += " (Concerns) - S5 Next"
        s.ofsted.append(_ungraded_event(rng, _rand_day(rng, d2, d2 + timedelta(days=6)), outcome))
    # A few fresh graded inspections spread over 2024-2027, so each term has new outcomes.
    for _ in range(2):
        if rng.random() < 0.09:
            d3 = date(2024, 9, 10) + timedelta(days=int(rng.integers(0, 900)))
            if d3.month in (8,):
                continue
            d3 = _rand_day(rng, d3, d3 + timedelta(days=6))
            y = d3.year + (1 if d3.month >= 9 else 0)
            g3 = _oeif_grade(rng, s.q_at(y))
            cat3 = ("Serious Weaknesses" if g3 == 4 else "")
            s.ofsted.append(_inspection_event(rng, d3, g3, category=cat3))


# ---------------------------------------------------------------------------------------------------------
# Scenarios: schools made to exercise the Strategy (letters, academy route, flags)


@dataclass
class Plan:
    """What the LA holds about each school in each term (levels, flags, letters), keyed by term index."""
    levels: dict = field(default_factory=dict)  # (urn, ti) -> "low"|"medium"|"high"
    flags: dict = field(default_factory=dict)  # (urn, ti) -> [(flag, severity)]
    letters: list = field(default_factory=list)  # (urn, letter, concern, ti)  ti may be negative (history)
    moderation: dict = field(default_factory=dict)  # ti -> [(urn, final_category, reason)]
    extra_criteria: dict = field(default_factory=dict)  # (urn, ti) -> [criterion ids met]


class DemoTooSmall(ValueError):
    """The roster has no school left that a scenario can bend: the demo is too small to show every scenario."""


def _pick(scenario: str, rng, pool: list[School], taken: set[int], pred) -> School:
    cands = [s for s in pool if s.urn not in taken and pred(s)]
    if not cands:
        raise DemoTooSmall(scenario)
    s = cands[int(rng.integers(len(cands)))]
    taken.add(s.urn)
    return s


def _assign_scenarios(seed: int, schools: list[School], terms: list[Term]) -> tuple[dict, Plan]:
    """Bend chosen schools so each scenario shows up in the last term (L) with history in earlier terms."""
    rng = np.random.default_rng([seed, 1])
    L = terms[-1]
    lstart, _ = L.dates()
    taken: set[int] = set()
    prim = [s for s in schools if s.maintained and s.phase == "Primary" and s.high_age == 11]
    acad = [s for s in schools if not s.maintained and s.phase in ("Primary", "Secondary")]
    sc: dict[str, School] = {}
    plan = Plan()
    n = len(terms)
    last = n - 1

    def big(s):
        return s.nor >= 180

    def set_levels(s, seq):  # seq aligned with the END of the term list
        for i, lv in enumerate(reversed(seq)):
            if last - i >= 0:
                plan.levels[(s.urn, last - i)] = lv

    def flag(s, ti, f, sev):
        if ti >= 0:
            plan.flags.setdefault((s.urn, ti), []).append((f, sev))

    def mid(ti_offset):  # a school day in the middle of term L - offset
        t = L
        for _ in range(ti_offset):
            t = t.previous()
        a, b = t.dates()
        return _rand_day(rng, a + timedelta(days=14), b - timedelta(days=21))

    lrun = run_date(L)

    def recent():  # an inspection since the last term's run, published before this one's (its Ofsted MI shows it)
        return _pick_day(rng, [d for d in _before_run(L) if d <= lrun - timedelta(days=10)] or [lstart])

    # Congratulations: RI in 2022, improving sharply, re-inspected last term with good grades.
    s = sc["congratulations"] = _pick("congratulations", rng, prim, taken, big)
    s.q, s.trend = -0.2, 0.8
    s.ofsted = [_oeif_event(rng, date(2022, 3, 8), 3, category="")]
    s.ofsted.append(_inspection_event(rng, mid(1), 2))
    s.ofsted[-1]["subs"] = [2, 2, 2, 2] if s.ofsted[-1]["kind"] == "oeif" else None
    set_levels(s, ["medium", "medium", "low"])

    # Significant concerns letter: was Good, declining, drop in Ofsted this term, combination of concerns.
    s = sc["significant_concerns_letter"] = _pick("significant_concerns_letter", rng, prim, taken, big)
    s.q, s.trend = -0.2, -0.6
    s.ofsted = [_oeif_event(rng, date(2019, 11, 12), 2)]
    ev = _inspection_event(rng, recent(), 3)
    if ev["kind"] == "rc":  # a drop, not a category of concern: nothing below "Needs attention"
        ev["grades"] = ["Needs attention", "Needs attention", "Needs attention", "Expected standard",
                        "Expected standard", "Expected standard", "Not applicable", "Needs attention"]
    else:
        ev["subs"] = [3, 2, 2, 3]
    s.ofsted.append(ev)
    set_levels(s, ["low", "medium", "high"])
    for f, sev in [("complaints", "medium"), ("staff_turnover", "medium"), ("attendance", "medium"),
                   ("self_evaluation", "high")]:
        flag(s, last, f, sev)

    # Warning notice: significant-concerns letter two terms ago, concerns remain.
    s = sc["warning_notice"] = _pick("warning_notice", rng, prim, taken, big)
    s.q, s.trend = -2.3, -0.1
    s.ofsted = [_oeif_event(rng, date(2023, 6, 14), 3, inspection_type="S5 Inspection")]
    set_levels(s, ["high", "high", "high"])
    plan.letters.append((s.urn, "significant_concerns_letter",
                         "Declining KS2 outcomes; leadership capacity; governance not holding leaders to account",
                         last - 2))
    for ti in range(max(0, last - 2), n):
        flag(s, ti, "leadership_capacity", "high")
    flag(s, last, "ri_monitoring_insufficient_progress", "high")
    flag(s, last, "leaders_not_acting", "high")
    flag(s, last, "governors_not_acknowledging", "high")

    # Formal significant concerns: letter, then warning notice last term; still at risk of SW/SM.
    s = sc["significant_concerns"] = _pick("significant_concerns", rng, prim, taken, big)
    s.q, s.trend = -2.6, -0.05
    s.ofsted = [_oeif_event(rng, date(2023, 2, 7), 3)]
    set_levels(s, ["high", "high", "high"])
    plan.letters.append((s.urn, "significant_concerns_letter", "Low standards in reading and maths; weak leadership",
                         last - 3))
    plan.letters.append((s.urn, "warning_notice", "Standards below floor; leaders not taking urgent action",
                         last - 1))
    for ti in range(n):
        flag(s, ti, "leadership_capacity", "high")
    flag(s, last, "sw_sm_risk", "high")
    flag(s, last, "warning_notice_compliance", "high")
    flag(s, last, "governors_not_acknowledging", "medium")

    # Safeguarding not met at an inspection since the last run (a report card if they had begun by then; OEIF
    # "No" before report cards).
    s = sc["safeguarding_not_met"] = _pick("safeguarding_not_met", rng, prim, taken, big)
    s.q, s.trend = -0.6, -0.3
    s.ofsted = [_oeif_event(rng, date(2021, 10, 5), 2)]
    d = max(recent(), REPORT_CARD_START) if lrun > REPORT_CARD_START + timedelta(days=30) else recent()
    d = _rand_day(rng, d, min(d + timedelta(days=6), lrun - timedelta(days=10)))
    if d >= REPORT_CARD_START:
        ev = _rc_event(rng, d, 1, safeguarding="Not met", category="Special Measures")
        ev["grades"][-1] = "Urgent improvement"
    else:
        ev = _oeif_event(rng, d, 4, category="Special Measures", safeguarding="No")
    s.ofsted.append(ev)
    set_levels(s, ["medium", "medium", "high"])
    flag(s, last, "safeguarding", "high")
    plan.extra_criteria[(s.urn, last)] = ["LM-H1"]

    # New head from the start of the last term.
    s = sc["new_head"] = _pick("new_head", rng, prim, taken, lambda x: True)
    s.q, s.trend = 0.1, 0.0
    s.ofsted = [_oeif_event(rng, date(2022, 1, 18), 2)]
    s.heads = s.heads[:1] + [(lstart, "Mr", "Aled", "Fenwick")]
    set_levels(s, ["low", "low", "medium"])
    flag(s, last, "new_head", "medium")
    plan.extra_criteria[(s.urn, last)] = ["LM-M5"]

    # Interim head and no substantive leadership.
    s = sc["interim_head"] = _pick("interim_head", rng, prim, taken, lambda x: True)
    s.q, s.trend = -0.5, -0.15
    s.ofsted = [_oeif_event(rng, date(2021, 11, 23), 2)]
    s.heads = s.heads[:1] + [(lstart, "Mrs", "Bethan", "Hebden", "Interim Headteacher")]
    set_levels(s, ["medium", "medium", "high"])
    flag(s, last, "interim_head", "high")
    flag(s, last, "no_substantive_leadership", "high")
    plan.extra_criteria[(s.urn, last)] = ["LM-H8"]

    # Does not buy the Primary Offer (around 10% of primaries; this one is named for tests).
    s = sc["no_primary_offer"] = _pick("no_primary_offer", rng, prim, taken, lambda x: True)
    s.q, s.trend = 0.6, 0.0
    s.ofsted = [_oeif_event(rng, date(2018, 5, 15), 2), _ungraded_event(rng, date(2023, 2, 28), "School remains Good")]
    set_levels(s, ["low", "low", "low"])

    # Moderation override: evidence says low, LA moderation panel moves it to medium.
    s = sc["moderation_override"] = _pick("moderation_override", rng, prim, taken, big)
    s.q, s.trend = 0.7, 0.0
    s.ofsted = [_oeif_event(rng, date(2022, 6, 21), 2)]
    set_levels(s, ["low", "low", "low"])
    plan.moderation.setdefault(last, []).append(
        (s.urn, "medium", "Head on long-term sick leave since the end of last term; deputy acting up with no cover. "
                          "Panel agreed half-termly visits until substantive arrangements are in place."))
    flag(s, last, "leadership_capacity", "medium")

    # Small cohort (<= 5 pupils in Y6): every KS2 measure SUPP.
    s = sc["small_cohort"] = _pick("small_cohort", rng, prim, taken, lambda x: True)
    s.nor = 38
    s.ofsted = [_oeif_event(rng, date(2019, 3, 12), 2)]
    for y in range(2015, 2031):
        s.cohort_override[y] = (int(rng.integers(3, 6)), 1)
    # Disadvantaged group of <= 5 in an otherwise reportable cohort.
    s = sc["suppressed_disadvantaged"] = _pick("suppressed_disadvantaged", rng, prim, taken, lambda x: True)
    s.nor, s.disadv = 150, 0.08
    s.ofsted = [_oeif_event(rng, date(2022, 10, 4), 2)]
    for y in range(2015, 2031):
        s.cohort_override[y] = (int(rng.integers(19, 25)), int(rng.integers(2, 5)))

    # Direction of travel.
    s = sc["improving"] = _pick("improving", rng, prim, taken, big)
    s.q, s.trend = -0.9, 0.75
    s.ofsted = [_oeif_event(rng, date(2023, 3, 14), 3)]
    set_levels(s, ["high", "medium", "low"])
    s = sc["declining"] = _pick("declining", rng, prim, taken, big)
    s.q, s.trend = 0.3, -0.8
    s.ofsted = [_oeif_event(rng, date(2022, 5, 10), 2)]
    set_levels(s, ["low", "medium", "high"])
    flag(s, last, "staffing_turbulence", "high")

    # Categories of concern already in place.
    s = sc["special_measures"] = _pick("special_measures", rng, prim, taken, lambda x: True)
    s.q, s.trend = -2.3, 0.1
    s.ofsted = [_oeif_event(rng, date(2024, 3, 12), 4, category="Special Measures", safeguarding="No")]
    set_levels(s, ["high", "high", "high"])
    plan.letters.append((s.urn, "significant_concerns_letter", "Inspection judged the school inadequate",
                         last - 4))
    s = sc["serious_weaknesses"] = _pick("serious_weaknesses", rng, prim, taken, lambda x: True)
    s.q, s.trend = -1.9, 0.0
    s.ofsted = [_oeif_event(rng, date(2024, 5, 21), 4, category="Serious Weaknesses")]
    set_levels(s, ["high", "high", "high"])

    # Falling roll.
    s = sc["falling_roll"] = _pick("falling_roll", rng, prim, taken, big)
    s.roll_trend = -0.14
    s.q, s.trend = -0.3, -0.1
    s.ofsted = [_oeif_event(rng, date(2022, 11, 8), 2)]
    set_levels(s, ["low", "medium", "medium"])
    flag(s, last, "falling_roll", "medium")
    flag(s, last - 1, "falling_roll", "low")

    # A maintained secondary with declining attainment.
    sec = [x for x in schools if x.maintained and x.phase == "Secondary"]
    s = sc["secondary_concern"] = _pick("secondary_concern", rng, sec, taken, lambda x: True)
    s.q, s.trend = -1.3, -0.3
    s.ofsted = [_oeif_event(rng, date(2023, 5, 16), 3)]
    set_levels(s, ["medium", "medium", "high"])
    flag(s, last, "exclusions", "high")
    flag(s, last, "attendance", "medium")

    # Academies: each stage of the LA's route. The route runs per concern, so the log names the concern ids.
    s = sc["academy_meeting"] = _pick("academy_meeting", rng, acad, taken, lambda x: True)
    s.q, s.trend = -0.6, -0.5
    s.ofsted = [_oeif_event(rng, date(2022, 2, 8), 2)]
    flag(s, last, "attendance", "medium")
    flag(s, last, "exclusions", "high")
    s = sc["academy_formal_letter"] = _pick("academy_formal_letter", rng, acad, taken, lambda x: True)
    s.q, s.trend = -1.4, -0.3
    s.ofsted = [_oeif_event(rng, date(2023, 9, 26), 3)]
    plan.letters.append((s.urn, "academy_meeting", "AC-1, AC-2, AC-5: Declining KS2 results and high persistent absence", last - 1))
    flag(s, last - 1, "attendance", "medium")
    flag(s, last, "attendance", "high")
    flag(s, last, "admissions_reluctance", "medium")
    s = sc["academy_escalation"] = _pick("academy_escalation", rng, acad, taken, lambda x: True)
    s.q, s.trend = -1.9, -0.2
    s.ofsted = [_oeif_event(rng, date(2019, 6, 4), 2), _inspection_event(rng, mid(1), 3)]
    plan.letters.append((s.urn, "academy_meeting", "AC-3, AC-7, AC-8: High exclusions; breakdown in leadership", last - 2))
    plan.letters.append((s.urn, "academy_formal_letter", "AC-3, AC-7, AC-8: Concerns unresolved after meeting with the CEO", last - 1))
    for ti in range(max(0, last - 2), n):
        flag(s, ti, "exclusions", "high")
        flag(s, ti, "engagement", "medium")
    flag(s, last, "behaviour_safety", "high")

    # A report card with strong grades, to show the new framework on a good school.
    if lrun > REPORT_CARD_START + timedelta(days=30):  # report cards had begun a month before the run
        s = sc["report_card_strong"] = _pick("report_card_strong", rng, prim, taken, big)
        s.q, s.trend = 1.2, 0.05
        s.ofsted = [_oeif_event(rng, date(2021, 11, 30), 2)]
        ev = _rc_event(rng, _rand_day(rng, REPORT_CARD_START, REPORT_CARD_START + timedelta(days=10)), 3)
        s.ofsted.append(ev)
        set_levels(s, ["low", "low", "low"])

    # Inspections since the last term's run are published before this one, so the Ofsted MI downloaded for it
    # (the day before, with GIAS) shows them.
    prun = run_date(L.previous())
    for s in sc.values():
        for ev in s.ofsted:
            if prun < ev["date"] < lrun:
                ev["pub"] = min(ev["pub"], max(ev["date"] + timedelta(days=7), lrun - timedelta(days=2)))
    # Noise off the scenario schools so their story is clean.
    for s in sc.values():
        s.year_noise = {y: 0.0 for y in s.year_noise}
        s.noise = 0.25
    # Primary Offer: ~10% of maintained primaries do not buy in; flagged every term.
    non_buyers = [sc["no_primary_offer"]] + [x for x in prim if x.urn not in taken and rng.random() < 0.09]
    for s in non_buyers:
        for ti in range(n):
            flag(s, ti, "no_primary_offer", "low")
    return {k: v.urn for k, v in sc.items()}, plan


# ---------------------------------------------------------------------------------------------------------
# Performance data (per school and year, from a rng seeded by school and year so years agree across files)

NAT_KS2 = {  # national RWM expected, disadvantaged, other, high standard
    2016: (53, 39, 60, 5), 2017: (61, 47, 67, 9), 2018: (64, 51, 70, 10), 2019: (65, 51, 71, 11),
    2022: (59, 43, 66, 7), 2023: (60, 44, 66, 8), 2024: (61, 46, 67, 8), 2025: (62, 47, 69, 8),
}


def _nat_ks2(year):
    return NAT_KS2.get(year, (62, 47, 69, 8))


def _ks2_result(seed: int, s: School, year: int) -> dict | None:
    if not _results_published(year) or s.phase not in PHASES_KS2 or s.high_age < 11:
        return None
    rng = np.random.default_rng([seed, s.urn, year, 2])
    q = s.q_at(year)
    if year in s.cohort_override:
        cohort, nd = s.cohort_override[year]
    else:
        base = s.nor_at(year) / (7 if s.phase == "Primary" else 14)
        cohort = max(1, int(round(base * rng.normal(1, 0.1))))
        nd = int(rng.binomial(cohort, float(np.clip(s.disadv + rng.normal(0, 0.04), 0.01, 0.9))))
    no = cohort - nd
    if s.phase == "Special":
        rwm = float(np.clip(rng.normal(6, 5), 0, 30))
        gap = 3.0
    else:
        rwm = float(np.clip(60 + 13 * (0.8 * q + 0.6 * s.noise * rng.normal()), 5, 100))
        gap = float(np.clip(rng.normal(20, 7), 0, 45))
    pd_ = nd / cohort if cohort else 0
    rwm_d = float(np.clip(rwm - gap * (1 - pd_), 0, 100))
    rwm_o = float(np.clip(rwm + gap * pd_, 0, 100))
    n_d = int(round(rwm_d / 100 * nd))
    n_o = int(round(rwm_o / 100 * no))
    r = {
        "cohort": cohort, "nd": nd, "no": no,
        "rwm": 100 * (n_d + n_o) / cohort,
        "rwm_d": 100 * n_d / nd if nd else None, "rwm_o": 100 * n_o / no if no else None,
        "high": rwm * float(rng.uniform(0.08, 0.2)),
        "high_d": rwm_d * float(rng.uniform(0.03, 0.12)), "high_o": rwm_o * float(rng.uniform(0.08, 0.22)),
        "read": min(100, rwm + float(rng.uniform(8, 18))), "mat": min(100, rwm + float(rng.uniform(6, 15))),
        "gps": min(100, rwm + float(rng.uniform(5, 15))), "writ": min(100, rwm + float(rng.uniform(4, 12))),
        "read_avg": int(round(105 + 0.12 * (rwm - 60) + rng.normal(0, 0.7))),
        "mat_avg": int(round(104 + 0.12 * (rwm - 60) + rng.normal(0, 0.7))),
        "gps_avg": int(round(105 + 0.13 * (rwm - 60) + rng.normal(0, 0.8))),
        "boys": int(rng.binomial(cohort, 0.51)), "eal": int(rng.binomial(cohort, min(0.95, s.eal))),
        "sen_e": int(rng.binomial(cohort, 0.04 if s.phase == "Primary" else 0.9)),
        "sen_k": int(rng.binomial(cohort, s.sen if s.phase == "Primary" else 0.05)),
    }
    # Progress scores: N(0, 2.5) tied to quality; 95% CI half-width ~ 3.5 / sqrt(cohort / 30).
    hw = 3.5 / np.sqrt(max(cohort, 1) / 30)
    for subj in ("read", "writ", "mat"):
        p = float(np.clip(2.5 * (0.6 * q + 0.8 * rng.normal()), -12, 9)) if s.phase == "Primary" else \
            float(rng.normal(-4, 2))
        r[f"{subj}_prog"] = (round(p, 2), round(p - hw, 2), round(p + hw, 2))
    return r


def _fmt_prog(v) -> str:
    return f"{v:.1f}"


def _ks2_rows(seed: int, schools: list[School], year: int) -> tuple[list[str], list[list], int | None]:
    yy = year % 100
    new_fmt = year >= 2025
    header = list(KS2_BASE)
    if new_fmt:  # 2024/25 spells the not-disadvantaged count in upper case
        header = [h.replace("TNotFSM6CLA1A", "TNOTFSM6CLA1A") for h in header]
    for py in (yy - 1, yy - 2):
        header += [c.format(yy=f"{py:02d}") for c in KS2_PREV]
    if new_fmt:
        header += KS2_3YR
    ragged = len(header) if new_fmt else None
    if new_fmt:
        header += KS2_RAGGED_TAIL
    col = {c: i for i, c in enumerate(header)}
    nat_rwm, nat_d, nat_o, nat_h = _nat_ks2(year)
    rows = []
    agg = []
    for s in schools:
        r = _ks2_result(seed, s, year)
        if r is None:
            continue
        row = [""] * len(header)

        def put(c, v):
            row[col[c]] = v

        put("RECTYPE", "1" if s.phase == "Primary" else "2")
        put("ALPHAIND", str(10000 + (s.urn % 9000)))
        put("LEA", s.la)
        put("ESTAB", str(s.estab))
        put("URN", str(s.urn))
        put("SCHNAME", s.name)
        put("ADDRESS1", f"{s.name.split()[0]} Lane")
        put("TOWN", s.town)
        put("PCODE", s.postcode)
        put("TELNUM", f"01999{s.urn % 1000000:06d}")
        put("URN_AC", "0")
        put("NFTYPE", s.nftype)
        put("ICLOSE", "0")
        put("RELDENOM", s.religious)
        put("AGERANGE", f"{s.low_age}-{s.high_age}")
        put("TAB15", "0")
        put("TAB1618", "0")
        put("TOTPUPS", str(s.nor_at(year)))
        c = r["cohort"]
        put("TPUPYEAR", str(c))
        put("TELIG", str(c))
        put("BELIG", str(r["boys"]))
        put("GELIG", str(c - r["boys"]))
        put("PBELIG", _pct(100 * r["boys"] / c))
        put("PGELIG", _pct(100 - 100 * r["boys"] / c))
        put("TFSM6CLA1A", str(r["nd"]))
        put("PTFSM6CLA1A", _pct(100 * r["nd"] / c))
        put("TNOTFSM6CLA1A" if new_fmt else "TNotFSM6CLA1A", str(r["no"]))
        put("PTNOTFSM6CLA1A" if new_fmt else "PTNotFSM6CLA1A", _pct(100 * r["no"] / c))
        put("TEALGRP2", str(r["eal"]))
        put("PTEALGRP2", _pct(100 * r["eal"] / c))
        put("TEALGRP1", str(c - r["eal"]))
        put("PTEALGRP1", _pct(100 - 100 * r["eal"] / c))
        put("TMOBN", str(c - min(c, 2)))
        put("PTMOBN", _pct(100 * (c - min(c, 2)) / c))
        put("TSENELE", str(r["sen_e"]))
        put("PSENELE", _pct(100 * r["sen_e"] / c))
        put("TSENELK", str(r["sen_k"]))
        put("PSENELK", _pct(100 * r["sen_k"] / c))
        put("TSENELEK", str(r["sen_e"] + r["sen_k"]))
        put("PSENELEK", _pct(100 * (r["sen_e"] + r["sen_k"]) / c))
        small = c <= 5
        measures = {
            "PTRWM_EXP": r["rwm"], "PTRWM_HIGH": r["high"], "PTREAD_EXP": r["read"],
            "PTREAD_HIGH": r["read"] * 0.4, "PTGPS_EXP": r["gps"], "PTGPS_HIGH": r["gps"] * 0.38,
            "PTMAT_EXP": r["mat"], "PTMAT_HIGH": r["mat"] * 0.3, "PTWRITTA_EXP": r["writ"],
            "PTWRITTA_HIGH": r["writ"] * 0.18, "PTRWM_EXP_B": r["rwm"] - 3, "PTRWM_EXP_G": r["rwm"] + 3,
        }
        for k, v in measures.items():
            put(k, "SUPP" if small else _pct(float(np.clip(v, 0, 100))))
        for k, v in (("READ_AVERAGE", r["read_avg"]), ("MAT_AVERAGE", r["mat_avg"]), ("GPS_AVERAGE", r["gps_avg"])):
            put(k, "SUPP" if small else str(v))
        d_small, o_small = r["nd"] <= 5, r["no"] <= 5
        put("PTRWM_EXP_FSM6CLA1A", "SUPP" if d_small else _pct(r["rwm_d"]))
        put("PTRWM_HIGH_FSM6CLA1A", "SUPP" if d_small else _pct(r["high_d"]))
        put("PTRWM_EXP_NotFSM6CLA1A", "SUPP" if o_small else _pct(r["rwm_o"]))
        put("PTRWM_HIGH_NotFSM6CLA1A", "SUPP" if o_small else _pct(r["high_o"]))
        # DIFFN_*: school disadvantaged minus national other pupils.
        put("DIFFN_RWM_EXP", "SUPP" if d_small else str(int(round(r["rwm_d"])) - nat_o))
        put("DIFFN_RWM_HIGH", "SUPP" if d_small else str(int(round(r["high_d"])) - 11))
        put("READ_AVERAGE_FSM6CLA1A", "SUPP" if d_small else str(r["read_avg"] - 2))
        put("READ_AVERAGE_NotFSM6CLA1A", "SUPP" if o_small else str(r["read_avg"] + 1))
        put("MAT_AVERAGE_FSM6CLA1A", "SUPP" if d_small else str(r["mat_avg"] - 3))
        put("MAT_AVERAGE_NotFSM6CLA1A", "SUPP" if o_small else str(r["mat_avg"] + 1))
        if _ks2_progress_published(year):
            for subj, code in (("read", "READ"), ("writ", "WRIT"), ("mat", "MAT")):
                p, lo, hi = r[f"{subj}_prog"]
                put(f"{code}PROG", "SUPP" if small else _fmt_prog(p))
                put(f"{code}PROG_LOWER", "SUPP" if small else _fmt_prog(lo))
                put(f"{code}PROG_UPPER", "SUPP" if small else _fmt_prog(hi))
                put(f"{code}COV", "SUPP" if small else _pct(95))
        # Prior years, from the same per-year generator.
        for py in (year - 1, year - 2):
            p2 = f"{py % 100:02d}"
            pr = _ks2_result(seed, s, py)
            if pr is None:
                continue
            ps = pr["cohort"] <= 5
            put(f"TELIG_{p2}", str(pr["cohort"]))
            put(f"PTFSM6CLA1A_{p2}", _pct(100 * pr["nd"] / pr["cohort"]))
            put(f"PTNOTFSM6CLA1A_{p2}", _pct(100 * pr["no"] / pr["cohort"]))
            put(f"PTRWM_EXP_{p2}", "SUPP" if ps else _pct(pr["rwm"]))
            put(f"PTRWM_HIGH_{p2}", "SUPP" if ps else _pct(pr["high"]))
            put(f"PTRWM_EXP_FSM6CLA1A_{p2}", "SUPP" if pr["nd"] <= 5 else _pct(pr["rwm_d"]))
            put(f"PTRWM_HIGH_FSM6CLA1A_{p2}", "SUPP" if pr["nd"] <= 5 else _pct(pr["high_d"]))
            put(f"PTRWM_EXP_NotFSM6CLA1A_{p2}", "SUPP" if pr["no"] <= 5 else _pct(pr["rwm_o"]))
            put(f"PTRWM_HIGH_NotFSM6CLA1A_{p2}", "SUPP" if pr["no"] <= 5 else _pct(pr["high_o"]))
            put(f"READ_AVERAGE_{p2}", "SUPP" if ps else str(pr["read_avg"]))
            put(f"MAT_AVERAGE_{p2}", "SUPP" if ps else str(pr["mat_avg"]))
            if _ks2_progress_published(py):
                for subj, code in (("read", "READ"), ("writ", "WRIT"), ("mat", "MAT")):
                    p, lo, hi = pr[f"{subj}_prog"]
                    put(f"{code}PROG_{p2}", "SUPP" if ps else _fmt_prog(p))
                    put(f"{code}PROG_LOWER_{p2}", "SUPP" if ps else _fmt_prog(lo))
                    put(f"{code}PROG_UPPER_{p2}", "SUPP" if ps else _fmt_prog(hi))
        if new_fmt:
            yrs = [_ks2_result(seed, s, y) for y in (year - 2, year - 1, year)]
            if all(yrs):
                tot = sum(x["cohort"] for x in yrs)
                put("TELIG_3YR", str(tot))
                if tot <= 5:
                    for k in KS2_3YR[1:]:
                        put(k, "SUPP")
                else:
                    put("PTRWM_EXP_3YR", _pct(sum(x["rwm"] * x["cohort"] for x in yrs) / tot))
                    put("PTRWM_HIGH_3YR", _pct(sum(x["high"] * x["cohort"] for x in yrs) / tot))
                    put("READ_AVERAGE_3YR", str(int(round(sum(x["read_avg"] * x["cohort"] for x in yrs) / tot))))
                    put("MAT_AVERAGE_3YR", str(int(round(sum(x["mat_avg"] * x["cohort"] for x in yrs) / tot))))
            else:
                for k in KS2_3YR[1:]:
                    put(k, "NA")
        rows.append(row)
        if s.phase == "Primary":
            agg.append(r)
    # LA row (RECTYPE 3) and national rows, as the real download: RECTYPE 4 all schools, 5 state-funded schools (the
    # rule sets' national comparator).
    tot = sum(a["cohort"] for a in agg)
    nd = sum(a["nd"] for a in agg)
    la = [""] * len(header)
    la[col["RECTYPE"]], la[col["LEA"]], la[col["SCHNAME"]] = "3", schools[0].la, DEMO_LA_NAME
    la[col["TELIG"]], la[col["TFSM6CLA1A"]] = str(tot), str(nd)
    la[col["PTRWM_EXP"]] = _pct(sum(a["rwm"] * a["cohort"] for a in agg) / tot)
    la[col["PTRWM_HIGH"]] = _pct(sum(a["high"] * a["cohort"] for a in agg) / tot)
    la[col["PTRWM_EXP_FSM6CLA1A"]] = _pct(sum((a["rwm_d"] or 0) * a["nd"] for a in agg) / max(nd, 1))
    la[col["PTRWM_EXP_NotFSM6CLA1A"]] = _pct(sum((a["rwm_o"] or 0) * a["no"] for a in agg) / max(tot - nd, 1))
    nat = [""] * len(header)
    nat[col["RECTYPE"]] = "4"
    nat[col["PTRWM_EXP"]], nat[col["PTRWM_HIGH"]] = _pct(nat_rwm), _pct(nat_h)
    nat[col["PTRWM_EXP_FSM6CLA1A"]], nat[col["PTRWM_EXP_NotFSM6CLA1A"]] = _pct(nat_d), _pct(nat_o)
    for py in (year - 1, year - 2):
        if _results_published(py):
            nat[col[f"PTRWM_EXP_{py % 100:02d}"]] = _pct(_nat_ks2(py)[0])
    if _ks2_progress_published(year):
        for code in ("READ", "WRIT", "MAT"):
            la[col[f"{code}PROG"]] = "0.3"
            nat[col[f"{code}PROG"]] = "0.0"
    state_funded = list(nat)
    state_funded[col["RECTYPE"]] = "5"
    rows += [la, nat, state_funded]
    return header, rows, ragged


def _ks4_result(seed: int, s: School, year: int) -> dict | None:
    if not _results_published(year) or s.phase not in ("Secondary", "Special") or s.high_age < 16:
        return None
    rng = np.random.default_rng([seed, s.urn, year, 4])
    q = s.q_at(year)
    cohort = max(2, int(round(s.nor_at(year) / (5.6 if s.phase == "Secondary" else 13) * rng.normal(1, 0.06))))
    nd = int(rng.binomial(cohort, float(np.clip(s.disadv + 0.03, 0.02, 0.9))))
    if s.phase == "Special":
        att8 = float(np.clip(rng.normal(6, 4), 0, 25))
        gap = 2.0
    else:
        att8 = float(np.clip(46 + 9 * (0.8 * q + 0.6 * s.noise * rng.normal()), 15, 75))
        gap = float(np.clip(rng.normal(14, 4), 2, 25))
    pd_ = nd / cohort
    p8 = float(np.clip(0.5 * (0.8 * q + 0.6 * rng.normal()), -2.5, 2)) if s.phase == "Secondary" else \
        float(rng.normal(-1.3, 0.4))
    hw = 1.7 / np.sqrt(cohort)
    return {"cohort": cohort, "nd": nd, "att8": att8, "att8_d": max(0.0, att8 - gap * (1 - pd_)),
            "att8_o": att8 + gap * pd_, "p8": p8, "p8_lo": p8 - hw, "p8_hi": p8 + hw,
            "p8_d": p8 - 0.45, "p8_o": p8 + 0.12,
            "b94": float(np.clip(65 + 1.9 * (att8 - 46), 0, 100)) if s.phase == "Secondary" else float(rng.uniform(0, 5))}


def _ks4_rows(seed: int, schools: list[School], year: int) -> tuple[list[str], list[list]]:
    header = KS4_HEADER_BASE
    col = {c: i for i, c in enumerate(header)}
    rows, agg = [], []
    p8_ok = _p8_published(year)
    for s in schools:
        r = _ks4_result(seed, s, year)
        if r is None:
            continue
        row = [""] * len(header)
        c = r["cohort"]
        small = c <= 5
        vals = {
            "RECTYPE": "1" if s.phase == "Secondary" else "2", "LEA": s.la, "ESTAB": str(s.estab),
            "URN": str(s.urn), "SCHNAME": s.name, "ADDRESS1": f"{s.name.split()[0]} Road", "TOWN": s.town,
            "PCODE": s.postcode, "ICLOSE": "0", "NFTYPE": s.nftype, "RELDENOM": s.religious,
            "ADMPOL": "NSE" if s.phase == "Secondary" else "NA", "EGENDER": "MIXED",
            "AGERANGE": f"{s.low_age}-{s.high_age}", "TOTPUPS": str(s.nor_at(year)), "TPUP": str(c),
            "TFSM6CLA1A": str(r["nd"]), "PTFSM6CLA1A": f"{100 * r['nd'] / c:.1f}%",
            "TNOTFSM6CLA1A": str(c - r["nd"]), "PTNOTFSM6CLA1A": f"{100 * (c - r['nd']) / c:.1f}%",
        }
        sup = "SUPP" if small else None
        vals.update({
            "ATT8SCR": sup or f"{r['att8']:.1f}", "ATT8SCRENG": sup or f"{r['att8'] * 0.22:.1f}",
            "ATT8SCRMAT": sup or f"{r['att8'] * 0.2:.1f}",
            "PTL2BASICS_94": sup or f"{r['b94']:.1f}%", "PTL2BASICS_95": sup or f"{r['b94'] * 0.68:.1f}%",
            "EBACCAPS": sup or f"{r['att8'] / 11:.2f}",
            "ATT8SCR_FSM6CLA1A": "SUPP" if r["nd"] <= 5 else f"{r['att8_d']:.1f}",
            "ATT8SCR_NFSM6CLA1A": "SUPP" if c - r["nd"] <= 5 else f"{r['att8_o']:.1f}",
            "PTFSM6CLA1ABASICS_94": "SUPP" if r["nd"] <= 5 else f"{max(0, r['b94'] - 22):.1f}%",
            "PTNOTFSM6CLA1ABASICS_94": "SUPP" if c - r["nd"] <= 5 else f"{min(100, r['b94'] + 7):.1f}%",
        })
        if p8_ok:
            vals.update({"P8PUP": str(c - 1), "P8MEACOV": "97%", "P8MEA": sup or f"{r['p8']:.2f}",
                         "P8CILOW": sup or f"{r['p8_lo']:.2f}", "P8CIUPP": sup or f"{r['p8_hi']:.2f}",
                         "P8MEA_ORIG": sup or f"{r['p8']:.2f}", "P8CILOW_ORIG": sup or f"{r['p8_lo']:.2f}",
                         "P8CIUPP_ORIG": sup or f"{r['p8_hi']:.2f}",
                         "P8MEA_FSM6CLA1A": "SUPP" if r["nd"] <= 5 else f"{r['p8_d']:.2f}",
                         "P8MEA_NFSM6CLA1A": "SUPP" if c - r["nd"] <= 5 else f"{r['p8_o']:.2f}"})
        else:
            for k in ("P8PUP", "P8MEACOV", "P8MEA", "P8CILOW", "P8CIUPP", "P8MEA_ORIG", "P8CILOW_ORIG",
                      "P8CIUPP_ORIG", "P8MEA_FSM6CLA1A", "P8MEA_NFSM6CLA1A"):
                vals[k] = "NA"
        for suffix, py in (("_PREV", year - 1), ("_PREV2", year - 2)):
            pr = _ks4_result(seed, s, py)
            if pr:
                vals["ATT8SCR" + suffix] = f"{pr['att8']:.1f}"
                vals["PTL2BASICS_94" + suffix] = f"{pr['b94']:.1f}%"
                vals["P8MEA" + suffix] = f"{pr['p8']:.2f}" if _p8_published(py) else "NA"
        for k, v in vals.items():
            row[col[k]] = v
        rows.append(row)
        if s.phase == "Secondary":
            agg.append(r)
    tot = sum(a["cohort"] for a in agg)
    la = [""] * len(header)
    la[col["RECTYPE"]], la[col["LEA"]], la[col["TPUP"]] = "4", schools[0].la, str(tot)
    la[col["ATT8SCR"]] = f"{sum(a['att8'] * a['cohort'] for a in agg) / tot:.1f}"
    la[col["PTL2BASICS_94"]] = f"{sum(a['b94'] * a['cohort'] for a in agg) / tot:.1f}%"
    la[col["P8MEA"]] = f"{sum(a['p8'] * a['cohort'] for a in agg) / tot:.2f}" if p8_ok else "NA"
    nat = [""] * len(header)
    # National rows, as the real download: RECTYPE 5 all schools (independent schools too), 7 state-funded
    # ("maintained") schools, the rule sets' national comparator.
    nat[col["RECTYPE"]], nat[col["ATT8SCR"]], nat[col["PTL2BASICS_94"]] = "5", "44.1", "61.8%"
    state_funded = [""] * len(header)
    state_funded[col["RECTYPE"]], state_funded[col["ATT8SCR"]], state_funded[col["PTL2BASICS_94"]] = "7", "45.9", "64.9%"
    state_funded[col["P8MEA"]] = "-0.03" if p8_ok else "NA"
    rows += [la, nat, state_funded]
    return header, rows


def _absence(seed: int, s: School, year: int) -> tuple[float, float]:
    rng = np.random.default_rng([seed, s.urn, year, 7])
    base = {"Primary": 5.5, "Secondary": 8.4, "Special": 11.5, "Nursery": 6.0}[s.phase]
    overall = float(np.clip(base - 0.55 * s.q_at(year) + rng.normal(0, 0.6), 2.5, 25))
    pa = float(np.clip(overall * 2.55 + rng.normal(0, 2.2) + (rng.exponential(4) if rng.random() < 0.1 else 0),
                       1, 80))
    return overall, pa


def _abs_rows(seed: int, schools: list[School], year: int) -> list[list]:
    rows, by_phase = [], {"PRI": [], "SEC": [], "SPE": []}
    for s in schools:
        if s.phase == "Nursery":
            continue
        o, p = _absence(seed, s, year)
        rows.append([s.la, str(s.estab), str(s.urn), _num1(o), _num1(p)])
        by_phase[{"Primary": "PRI", "Secondary": "SEC", "Special": "SPE"}[s.phase]].append((o, p, s.nor_at(year)))
    for ph, vals in by_phase.items():
        w = sum(v[2] for v in vals)
        rows.append([schools[0].la, ph, "", _num1(sum(v[0] * v[2] for v in vals) / w),
                     _num1(sum(v[1] * v[2] for v in vals) / w)])
    for ph, o, p in (("PRI", 5.5, 14.6), ("SEC", 8.9, 25.6), ("SPE", 13.0, 37.2)):
        rows.append(["NAT", ph, "", _num1(o), _num1(p)])
    return rows


def _census_rows(seed: int, schools: list[School], year: int) -> tuple[list[str], list[list]]:
    new_fmt = year >= 2025
    header = CENSUS_HEADER_2025 if new_fmt else CENSUS_HEADER_OLD

    def pc(v):  # 2025 writes "44.98%"; earlier years a bare 1-dp number
        return f"{v:.2f}%" if new_fmt else _num1(v)

    stype = {"Primary": "State-funded primary", "Secondary": "State-funded secondary",
             "Special": "State-funded special school", "Nursery": "State-funded nursery"}
    rows = []
    for s in schools:
        rng = np.random.default_rng([seed, s.urn, year, 9])
        nor = s.nor_at(year)
        g = int(rng.binomial(nor, 0.49 if s.phase != "Special" else 0.28))
        ehcp = int(rng.binomial(nor, 0.03 if s.phase != "Special" else 0.97))
        senk = int(rng.binomial(nor, s.sen if s.phase != "Special" else 0.02))
        eal = int(rng.binomial(nor, min(0.95, s.eal)))
        unc = int(rng.binomial(nor, 0.003))
        eng = nor - eal - unc
        fsm_ever = int(rng.binomial(nor, s.disadv))
        fsm = int(fsm_ever * 0.8)
        row = [str(s.urn), s.la, str(s.estab), stype[s.phase], str(nor), str(g), str(nor - g),
               pc(100 * g / nor), pc(100 - 100 * g / nor), str(ehcp), pc(100 * ehcp / nor), str(senk),
               pc(100 * senk / nor), str(eal), str(eng), str(unc), pc(100 * eal / nor), pc(100 * eng / nor),
               pc(100 * unc / nor), str(fsm)]
        if s.phase == "Nursery":  # FSM-ever is not collected for nursery pupils
            row += ["NA", "NA", pc(0)] if new_fmt else ["NA", "NA"]
        else:
            row += [str(fsm_ever), str(nor), pc(100 * fsm_ever / nor)] if new_fmt else \
                [str(fsm_ever), pc(100 * fsm_ever / nor)]
        rows.append(row)
    nat = [("PRI", "State-funded primary", 4554974, 26.3, 15.0, 3.5), ("SEC", "State-funded secondary", 3671427,
           28.9, 13.4, 3.1), ("SPE", "Special school", 168890, 51.9, 0.5, 99.5)]
    for code, name, nor, fsm, senk, ehcp in nat:
        vals = ["NAT", "", code, name, str(nor), str(nor // 2), str(nor - nor // 2), pc(49.1), pc(50.9),
                str(int(nor * ehcp / 100)), pc(ehcp), str(int(nor * senk / 100)), pc(senk),
                str(int(nor * 0.21)), str(int(nor * 0.785)), str(int(nor * 0.005)), pc(21.0), pc(78.5), pc(0.5),
                str(int(nor * fsm / 100 * 0.9))]
        vals += [str(int(nor * fsm / 100)), str(nor), pc(fsm)] if new_fmt else [str(int(nor * fsm / 100)), pc(fsm)]
        rows.append(vals)
    return header, rows


# ---------------------------------------------------------------------------------------------------------
# GIAS and Ofsted snapshots


def _latest(events, kind, cutoff):
    ev = [e for e in events if e["kind"] == kind and e["pub"] <= cutoff]
    return max(ev, key=lambda e: e["date"]) if ev else None


def _ofsted_word(g) -> str:
    return {1: "Outstanding", 2: "Good", 3: "Requires improvement", 4: "Inadequate"}.get(g, "")


def _gias_rows(schools: list[School], term: Term, cutoff: date) -> list[list]:
    col = {c: i for i, c in enumerate(GIAS_HEADER)}
    start, _ = term.dates()
    census_year = perf_year(term)
    rows = []
    for s in schools:
        r = ["" for _ in GIAS_HEADER]
        head = s.head_at(start)
        oe = _latest(s.ofsted, "oeif", cutoff)
        last_insp = max([e["date"] for e in s.ofsted if e["pub"] <= cutoff], default=None)
        nor = s.nor_at(census_year)
        boys = int(nor * 0.51)
        vals = {
            "URN": str(s.urn), "LA (code)": s.la, "LA (name)": DEMO_LA_NAME,
            "EstablishmentNumber": str(s.estab), "EstablishmentName": s.name,
            "TypeOfEstablishment (name)": s.gias_type, "EstablishmentTypeGroup (name)": s.type_group,
            "EstablishmentStatus (name)": "Open",
            "ReasonEstablishmentOpened (name)": "Academy Converter" if s.gias_type == "Academy converter" else
            ("New Provision" if s.gias_type == "Free schools" else "Not applicable"),
            "OpenDate": s.open_date, "ReasonEstablishmentClosed (name)": "Not applicable",
            "PhaseOfEducation (name)": "Not applicable" if s.phase == "Special" else s.phase,
            "StatutoryLowAge": str(s.low_age), "StatutoryHighAge": str(s.high_age),
            "Boarders (name)": "No boarders", "NurseryProvision (name)": "Has Nursery Classes" if s.phase == "Nursery"
            else "No Nursery Classes",
            "OfficialSixthForm (name)": "Has a sixth form" if s.high_age >= 18 else "Does not have a sixth form",
            "Gender (name)": "Mixed", "ReligiousCharacter (name)": s.religious,
            "ReligiousEthos (name)": s.religious, "Diocese (name)": "Diocese of Wealdshire (demo)"
            if s.religious != "Does not apply" else "Not applicable",
            "AdmissionsPolicy (name)": "Non-selective" if s.phase == "Secondary" else "Not applicable",
            "SchoolCapacity": str(int(s.nor * 1.15 // 10 * 10)), "SpecialClasses (name)": "No Special Classes",
            "CensusDate": _d_dash(date(census_year, 1, 16)), "NumberOfPupils": str(nor),
            "NumberOfBoys": str(boys), "NumberOfGirls": str(nor - boys),
            "PercentageFSM": f"{100 * s.disadv * 0.8:.1f}",
            "TrustSchoolFlag (name)": "Supported by a multi-academy trust" if s.trust else "Not applicable",
            "Trusts (name)": s.trust, "SchoolSponsorFlag (name)": "Linked to a sponsor" if s.gias_type ==
            "Academy sponsor led" else "Not applicable", "SchoolSponsors (name)": s.trust if s.gias_type ==
            "Academy sponsor led" else "", "FederationFlag (name)": "Not under a federation",
            "UKPRN": str(10090000 + s.urn % 100000), "FurtherEducationType (name)": "Not applicable",
            "OfstedLastInsp": _d_dash(last_insp) if last_insp else "", "LastChangedDate": _d_dash(start),
            "Street": f"{s.name.split()[0]} Lane", "Town": s.town, "County (name)": "Wealdshire",
            "Postcode": s.postcode, "SchoolWebsite": f"www.{s.name.split()[0].lower()}.wealdshire.example",
            "TelephoneNum": f"01999{s.urn % 1000000:06d}", "HeadTitle (name)": head[1], "HeadFirstName": head[2],
            "HeadLastName": head[3], "HeadPreferredJobTitle": head[4] if len(head) > 4 else "Headteacher",
            "BSOInspectorateName (name)": "Not applicable", "TeenMoth (name)": "Not applicable",
            "CCF (name)": "Not applicable", "SENPRU (name)": "Not applicable", "EBD (name)": "Not applicable",
            "EdByOther (name)": "Not applicable", "Section41Approved (name)": "Not applicable",
            "TypeOfResourcedProvision (name)": "Not applicable", "GOR (name)": "South East",
            "DistrictAdministrative (name)": "Wealdshire (demo)", "AdministrativeWard (name)": s.ward,
            "ParliamentaryConstituency (name)": "Weald Vale (demo)",
            "UrbanRural (name)": "(England/Wales) Rural town and fringe", "GSSLACode (name)": "E10999999",
            "Easting": str(500000 + s.urn % 9973), "Northing": str(130000 + s.urn % 7919),
            "OfstedRating (name)": _ofsted_word(oe["overall"]) if oe and isinstance(oe["overall"], int) else "",
            "RSCRegion (name)": "South-East England and South London", "QABName (name)": "Not applicable",
            "EstablishmentAccredited (name)": "Not applicable", "FSM": str(int(nor * s.disadv * 0.8)),
            "Linked establishments": "Does not have links",
        }
        for k, v in vals.items():
            r[col[k]] = v
        rows.append(r)
    return rows


def _ofsted_rows(schools: list[School], cutoff: date) -> list[list]:
    col = {c: i for i, c in enumerate(OFSTED_HEADER)}
    rows = []
    for s in schools:
        r = ["NULL"] * len(OFSTED_HEADER)
        phase = s.phase
        vals = {
            "Web Link (opens in new window)":
                f"http://www.ofsted.gov.uk/inspection-reports/find-inspection-report/provider/ELS/{s.urn}",
            "URN": str(s.urn), "LAESTAB": s.laestab, "School name": s.name, "Ofsted phase": phase,
            "Type of education": s.ofsted_type, "School open date": s.open_date.replace("-", "/") or "NULL",
            "Admissions policy": "Non-selective" if phase == "Secondary" else "Not applicable",
            "Sixth form": "Has a sixth form" if s.high_age >= 18 else "Does not have a sixth form",
            "Designated religious character": s.religious, "Religious ethos": s.religious,
            "Faith grouping": "Christian" if s.religious != "Does not apply" else "Non-faith",
            "Ofsted region": "South East", "Region": "South East", "Local authority": DEMO_LA_NAME,
            "Parliamentary constituency": "Weald Vale (demo)", "Postcode": s.postcode,
            "The income deprivation affecting children index (IDACI) quintile": str(s.idaci),
            "Total number of pupils": str(s.nor), "Statutory lowest age": str(s.low_age),
            "Statutory highest age": str(s.high_age),
        }
        if s.trust:
            vals["Multi-academy trust UID"] = str(17000 + sum(map(ord, s.trust)) % 999)
            vals["Multi-academy trust name"] = s.trust
            if s.gias_type == "Academy sponsor led":
                vals["Academy sponsor UID"], vals["Academy sponsor name"] = vals["Multi-academy trust UID"], s.trust
        ident = {"URN": str(s.urn), "LAESTAB": s.laestab, "name": s.name, "type": s.ofsted_type}
        rc = _latest(s.ofsted, "rc", cutoff)
        oe = _latest(s.ofsted, "oeif", cutoff)
        ug = _latest(s.ofsted, "ungraded", cutoff)
        written_category: dict[int, str] = {}  # id(event) -> its category as written, where Ofsted's rules give one
        if rc:
            dd = _d_slash(rc["date"])
            vals.update({
                "Inspection number of latest full inspection": str(rc["number"]), "Inspection type": rc["type"],
                "Inspection type grouping": rc["type"], "Event type grouping": "Schools - S5",
                "Inspection start date": dd, "Publication date": _d_slash(rc["pub"]),
                "Does the latest full inspection relate to the URN of the current school?": "Yes",
                "URN at time of latest full inspection": ident["URN"],
                "LAESTAB at time of latest full inspection": ident["LAESTAB"],
                "School name at time of latest full inspection": ident["name"],
                "School type at time of latest full inspection": ident["type"],
                "Category of concern": rc["category"], "Safeguarding standards": rc["safeguarding"],
                "Safeguarding standards - date of grade": dd,
            })
            for (area, dcol), g in zip(RC_AREAS, rc["grades"]):
                na = (area.startswith("Early years") and phase not in ("Primary", "Nursery")) or \
                     (area.startswith("Post-16") and s.high_age < 18)
                vals[area] = "Not applicable" if na else g
                vals[dcol] = dd
            # Ofsted places a school with Urgent improvement or safeguarding not met in a category of concern.
            if not rc["category"] and (RC_SCALE[0] in [vals[a] for a, _ in RC_AREAS] or rc["safeguarding"] == "Not met"):
                vals["Category of concern"] = written_category[id(rc)] = "Requires significant improvement"
        if oe:
            g = oe["overall"]
            vals.update({
                "Inspection number of latest OEIF graded inspection": str(oe["number"]),
                "Inspection type of latest OEIF graded inspection": oe["type"],
                "Inspection type grouping of latest OEIF graded inspection": oe["type"],
                "Event type grouping of latest OEIF graded inspection": "Schools - S5",
                "Inspection start date of latest OEIF graded inspection": _d_slash(oe["date"]),
                "Publication date of latest OEIF graded inspection": _d_slash(oe["pub"]),
                "Does the latest OEIF graded inspection relate to the URN of the current school?": "Yes",
                "URN at time of latest OEIF graded inspection": ident["URN"],
                "LAESTAB at time of latest OEIF graded inspection": ident["LAESTAB"],
                "School name at time of latest OEIF graded inspection": ident["name"],
                "School type at time of latest OEIF graded inspection": ident["type"],
                # From September 2024 (overall effectiveness "Not judged") an Inadequate key judgement is a category.
                "Latest OEIF category of concern": written_category.setdefault(id(oe), oe["category"] or (
                    "Serious Weaknesses" if g == "Not judged" and 4 in oe["subs"] else "")),
                "Latest OEIF overall effectiveness": str(g),
                "Latest OEIF quality of education": str(oe["subs"][0]),
                "Latest OEIF behaviour and attitudes": str(oe["subs"][1]),
                "Latest OEIF personal development": str(oe["subs"][2]),
                "Latest OEIF effectiveness of leadership and management": str(oe["subs"][3]),
                "Latest OEIF  safeguarding is effective?": oe["safeguarding"],
                "Latest OEIF early years provision (where applicable)": str(oe["subs"][0])
                if phase in ("Primary", "Nursery") else "9",
                "Latest OEIF sixth form provision (where applicable)": str(oe["subs"][0])
                if s.high_age >= 18 else "9",
            })
        if ug:
            vals.update({
                "Latest ungraded inspection number": str(ug["number"]),
                "Date of latest ungraded inspection": _d_slash(ug["date"]),
                "Ungraded inspection publication date": _d_slash(ug["pub"]),
                "Does the ungraded inspection relate to the URN of the current school?": "Yes",
                "URN at time of the ungraded inspection": ident["URN"],
                "LAESTAB at time of the ungraded inspection": ident["LAESTAB"],
                "School name at time of the ungraded inspection": ident["name"],
                "School type at time of the ungraded inspection": ident["type"],
                "Ungraded inspection overall outcome": ug["outcome"],
            })
        if rc or oe:
            latest = max([e for e in (rc, oe) if e], key=lambda e: e["date"])
            vals["Most recent category of concern"] = written_category.get(id(latest), latest["category"])
        for k, v in vals.items():
            r[col[k]] = v
        rows.append(r)
    return rows


# ---------------------------------------------------------------------------------------------------------
# LA-held feeds


def _levels_for_term(seed, schools, plan: Plan, ti: int, term: Term, cutoff: date) -> dict[int, str]:
    """Best-fit level per maintained school: scenario levels, else ~15% high / ~30% medium by risk."""
    rng = np.random.default_rng([seed, 3, term.start_year, term.season_index])
    maint = [s for s in schools if s.maintained]
    risk = {}
    for s in maint:
        oe = _latest(s.ofsted, "oeif", cutoff)
        rc = _latest(s.ofsted, "rc", cutoff)
        g = (rc or oe)["true_overall"] if (rc or oe) else 2
        risk[s.urn] = -s.q_at(perf_year(term)) + {1: -0.6, 2: 0.0, 3: 1.0, 4: 2.2}[g] + rng.normal(0, 0.35)
    order = sorted(maint, key=lambda s: -risk[s.urn])
    n = len(maint)
    out = {}
    for i, s in enumerate(order):
        out[s.urn] = "high" if i < round(0.14 * n) else "medium" if i < round(0.44 * n) else "low"
    for s in maint:
        if (s.urn, ti) in plan.levels:
            out[s.urn] = plan.levels[(s.urn, ti)]
    return out


# Criteria that stand for specific facts (safeguarding not met, a letter issued, no substantive head, a new
# head): only set where the demo's story says so, never drawn at random.
RESERVED_CRITERIA = {"LM-H1", "LM-H4", "LM-H8", "LM-M5"}

_NOTES = {
    "L": ["Leaders know the school well; priorities accurate.", "Books show well-sequenced learning.",
          "Strong culture; pupils articulate and proud of work.", "Governors challenge effectively."],
    "M": ["Improvement plan lacks measurable milestones.", "Inconsistent practice across year groups.",
          "Attendance improving but not yet sustained.", "Curriculum redesign at an early stage."],
    "H": ["Serious concerns raised at visit; follow-up agreed.", "Leaders lack capacity to secure rapid change.",
          "Learning walk: weak teaching in several classes.", "Governors unaware of key weaknesses."],
}


def _story_urns(plan, ti) -> set[int]:
    """Schools whose story this term is told (a set level, a flag, a criterion, a letter in the log): their visits
    and flags are dated this term, before its run, so they follow any letter of the last term (issued after its
    run) and any change of head at the start of this one."""
    return ({u for (u, t) in plan.levels if t == ti} | {u for (u, t) in plan.flags if t == ti}
            | {u for (u, t) in plan.extra_criteria if t == ti} | {e[0] for e in plan.letters})


def _since(s: "School", term: Term, story: set[int]) -> date | None:
    """The first day a row about this school may be dated (see _before_run): this term's start for a story school
    or one whose head started since the last run, else none."""
    start, _ = term.dates()
    if s.urn in story or s.head_at(start)[0] > run_date(term.previous()):
        return start
    return None


def _adviser_rows(seed, schools, plan, ti, term, levels, cutoff) -> list[dict]:
    rng = np.random.default_rng([seed, 4, term.start_year, term.season_index])
    start, _ = term.dates()
    story = _story_urns(plan, ti)
    rows = []
    for s in schools:
        if not s.maintained:
            continue
        lv = levels[s.urn][0].upper()
        visit = _pick_day(rng, _before_run(term, _since(s, term, story)))
        chosen = []
        for area, counts in CRITERIA_COUNTS.items():
            k = {"LM": 2, "QE": 2, "BA": 1, "PD": 1}[area]
            if lv == "H" and area in ("LM", "QE"):
                k = 3
            pool = [i for i in range(1, counts[lv] + 1) if f"{area}-{lv}{i}" not in RESERVED_CRITERIA]
            ids = rng.choice(np.array(pool), size=min(k, len(pool)), replace=False)
            for i in sorted(ids):
                chosen.append((f"{area}-{lv}{i}", True))
            # Best fit: sometimes one bullet from the next level down is also met, or one at its own level not met.
            if rng.random() < 0.2:
                other = {"L": "M", "M": "L", "H": "M"}[lv]
                cid = f"{area}-{other}{int(rng.integers(1, counts[other] + 1))}"
                if cid not in RESERVED_CRITERIA:
                    chosen.append((cid, True))
            if rng.random() < 0.15:
                chosen.append((f"{area}-{lv}{int(rng.integers(1, counts[lv] + 1))}", False))
        for cid in plan.extra_criteria.get((s.urn, ti), []):
            chosen.append((cid, True))
        head = s.head_at(start)
        if head[0].year > 2001 and (start - head[0]).days < 330:  # new or interim head in the first year
            chosen.append(("LM-M5", True))
        oe = _latest(s.ofsted, "oeif", cutoff)
        if oe and oe["safeguarding"] == "No" and ("LM-H1", True) not in chosen:
            chosen.append(("LM-H1", True))
        # Schools with a warning notice or significant-concerns letter meet LM-H4 while it stands.
        if any(u == s.urn and let in ("significant_concerns_letter", "warning_notice", "significant_concerns")
               and t < ti for u, let, _, t in plan.letters) and levels[s.urn] == "high":
            chosen.append(("LM-H4", True))
        seen = set()
        for cid, met in chosen:
            if (cid, met) in seen or (cid, not met) in seen:
                continue
            seen.add((cid, met))
            lvl = cid.split("-")[1][0]
            rows.append({"urn": s.urn, "criterion_id": cid, "area": AREAS[cid[:2]], "met": "TRUE" if met else "FALSE",
                         "adviser": s.adviser, "visit_date": visit.isoformat(),
                         "note": _NOTES[lvl][int(rng.integers(len(_NOTES[lvl])))] if met else
                         "Not seen at this visit."})
    return rows


_BG_FLAGS = {
    "high": ["leadership_capacity", "governance", "staffing_turbulence", "self_evaluation", "attendance",
             "complaints", "finance", "inclusion", "engagement", "sw_sm_risk"],
    "medium": ["attendance", "staff_turnover", "self_evaluation", "governance", "moderation", "finance",
               "complaints"],
    "low": ["moderation", "finance", "attendance"],
    "academy": ["attendance", "exclusions", "admissions_reluctance", "behaviour_safety", "engagement"],
}


def _intel_rows(seed, schools, plan, ti, term, levels) -> list[dict]:
    rng = np.random.default_rng([seed, 5, term.start_year, term.season_index])
    start, _ = term.dates()
    story = _story_urns(plan, ti)
    scenario_flagged = {u for (u, t) in plan.flags if t == ti}
    rows = []
    for s in schools:
        items = list(plan.flags.get((s.urn, ti), []))
        if s.urn not in scenario_flagged or all(f == "no_primary_offer" for f, _ in items):
            if s.maintained:
                lv = levels[s.urn]
                k = {"high": int(rng.integers(1, 4)), "medium": int(rng.random() < 0.5) + int(rng.random() < 0.2),
                     "low": int(rng.random() < 0.08)}[lv]
                sev = {"high": ["medium", "high"], "medium": ["low", "medium"], "low": ["low"]}[lv]
                pool = _BG_FLAGS[lv]
            else:
                k = int(rng.random() < 0.1)
                sev, pool = ["low", "medium"], _BG_FLAGS["academy"]
            for f in rng.choice(pool, size=k, replace=False):
                items.append((str(f), sev[int(rng.integers(len(sev)))]))
            # Routine head changes show up as new_head in the first year.
            h = s.head_at(start)
            if s.maintained and h[0].year > 2001 and (start - h[0]).days < 330 and (s.urn, ti) not in plan.flags:
                items.append(("new_head", "low"))
        for f, sev in items:
            rows.append({"urn": s.urn, "flag": f, "severity": sev, "detail": INTEL_DETAIL[f],
                         "raised_by_team": TEAM_FOR_FLAG.get(f, "School Improvement"),
                         "raised_on": _pick_day(rng, _before_run(term, _since(s, term, story))).isoformat()})
    return rows


def _letters_rows(seed, schools, plan, ti, terms_all: list[Term], levels_by_ti) -> list[dict]:
    """Cumulative log of letters issued in terms before term index ti (history before the first term too)."""
    rng = np.random.default_rng([seed, 6])
    rows = []
    entries = list(plan.letters)
    # Background: congratulations letters to a few low-level schools each earlier term.
    scenario_urns = {e[0] for e in plan.letters} | {u for (u, _t) in plan.levels}
    low_urns = sorted(s.urn for s in schools if s.maintained and s.urn not in scenario_urns)
    for t in range(-3, ti):
        picks = rng.choice(low_urns, size=4, replace=False)
        for u in picks:
            if t >= 0 and levels_by_ti.get(t, {}).get(int(u)) != "low":
                continue
            entries.append((int(u), "congratulations", "Sustained good overall effectiveness; strong KS2 results", t))
    for urn, letter, concern, t in sorted(entries, key=lambda e: (e[3], e[0], e[1])):
        if t >= ti:
            continue
        term = _term_at(terms_all, t)
        _, b = term.dates()
        # The run drafts the letter; it is signed and sent in the weeks after, within the term it is for.
        run = run_date(term)
        issued = _rand_day(np.random.default_rng([seed, 8, urn, t + 100]), run + timedelta(days=1),
                           min(run + timedelta(days=21), b - timedelta(days=5)))
        rows.append({"urn": urn, "letter": letter, "concern": concern if letter != "congratulations" else "",
                     "issued_on": issued.isoformat(),
                     "issued_by": _DIRECTOR if letter.startswith("academy") or letter in ("warning_notice",
                                                                                      "significant_concerns")
                     else "Head of School Improvement (demo)", "term": str(term)})
    return rows


def _term_at(terms: list[Term], t: int) -> Term:
    """Term for index t in the requested list; negative indices count back before the first term."""
    if t >= 0:
        return terms[t]
    term = terms[0]
    for _ in range(-t):
        term = term.previous()
    return term


def _laig_rows(seed, schools, ti, term, levels) -> list[dict]:
    rng = np.random.default_rng([seed, 10, term.start_year, term.season_index])
    # Half-termly, the two LAIG meetings before the run: in the last term's second half and this term's first weeks.
    days = _before_run(term)
    start, _ = term.dates()
    halves = ([d for d in days if d < start], [d for d in days if d >= start])
    rows = []
    for s in schools:
        if not s.maintained or levels[s.urn] != "high":
            continue
        for half in halves:
            d = _pick_day(rng, half or days)
            rows.append({
                "urn": s.urn, "meeting_date": d.isoformat(),
                "key_points": "1. Phonics: consistency improving; 2. Maths: gaps in Y5/6 arithmetic; "
                              "3. Attendance: PA still above LA average; 4. Governance: chair attending LAIG; "
                              "5. Next LAIG to review writing moderation outcomes",
                "notes": ["Support plan milestones partly met; adviser to revisit.",
                          "Concern about pace of change; escalate if no progress by next LAIG.",
                          "Leaders receptive; interim targets met for reading."][int(rng.integers(3))],
            })
    return rows


def _ward_rows(seed, wards) -> list[dict]:
    rng = np.random.default_rng([seed, 11])
    rows = []
    for w in wards:
        for _ in range(int(rng.integers(1, 4))):
            f, l = _FIRST[int(rng.integers(len(_FIRST)))], _LAST[int(rng.integers(len(_LAST)))]
            ascii_f = f.replace("ë", "e").replace("â", "a").replace("é", "e")
            rows.append({"ward": w, "member_name": f"Cllr {f} {l}",
                         "party": _PARTIES[int(rng.integers(len(_PARTIES)))],
                         "email": f"{ascii_f.lower()}.{l.lower()}@wealdshire.example"})
    return rows


def _moderation_rows(seed, plan, ti, term, levels) -> list[dict]:
    rng = np.random.default_rng([seed, 12, term.start_year, term.season_index])
    # The panel meets in the term it moderates, before the run that applies its decisions.
    start, _ = term.dates()
    end = run_date(term) - timedelta(days=1)
    rows = []
    for urn, final, reason in plan.moderation.get(ti, []):
        rows.append({"urn": urn, "term": str(term), "final_category": final, "reason": reason,
                     "approved_by": "Moderation panel (Head of School Improvement)",
                     "approved_on": _rand_day(rng, start + timedelta(days=5), end).isoformat()})
    # One routine override a term: a medium school moved to low after a strong visit.
    meds = sorted(u for u, lv in levels.items() if lv == "medium")
    if meds:
        u = int(meds[int(rng.integers(len(meds)))])
        if not any(r["urn"] == u for r in rows):
            rows.append({"urn": u, "term": str(term), "final_category": "low",
                         "reason": "Moderation visit found rapid improvement since data year; evidence of secure "
                                   "teaching in all classes.",
                         "approved_by": "Moderation panel (Head of School Improvement)",
                         "approved_on": _rand_day(rng, start + timedelta(days=5), end).isoformat()})
    return rows


# ---------------------------------------------------------------------------------------------------------
# Entry points


def generate_demo(landing_root: Path, la_code: str = DEMO_LA_CODE, terms=None, seed: int = 2025,
                  schools: int | None = None, phases: dict[str, int] | None = None) -> dict:
    """Write demo landing folders `landing_root/<la_code>/<term>/` for each term. Returns a summary dict:
    la_code, la_name, terms, folders {term: path}, files {term: [names]}, schools, maintained, academies,
    scenarios {name: urn}, levels {term: {urn: category}} (the intended best-fit level, for tests).

    `schools` scales the roster (250 schools by default) to about that many, every kind of school in proportion,
    so every feed grows with it: for benchmarks of cost against county size. `phases` ({"Primary": 210, ...})
    instead sets the number of schools of each phase exactly (maintained and academies in the demo's
    proportions): a real LA's counts, for the national benchmark."""
    la_code = str(la_code)
    if schools is not None and schools < 1:
        raise ValueError(f"the number of demo schools must be at least 1, not {schools}")
    term_objs = sorted({Term.parse(str(t)) for t in (terms or DEFAULT_TERMS)})
    root = Path(landing_root) / la_code
    wanted = schools
    schools, wards, _trusts = _build_roster(seed, la_code, schools, phases)
    try:
        scenarios, plan = _assign_scenarios(seed, schools, term_objs)
    except DemoTooSmall as exc:
        # Every scenario (each letter type, moderation, academies of concern, ...) is placed on its own school of
        # the right kind: a roster too small for them is refused rather than written without some of them.
        asked = f" (scaled for {wanted})" if wanted and not phases else ""
        raise DemoTooSmall(
            f"a demo roster of {len(schools)} schools{asked} is too small: no school was left for its scenario "
            f"{exc.args[0]!r} (the demo places each of its scenarios on a school of its own; 40 schools is the "
            "smallest the tests use)") from None
    levels_by_ti = {}
    files_by_term = {}
    folders = {}
    # Each term's DfE-side snapshots (GIAS, Ofsted MI) are downloaded the day before its scheduled run, and the
    # levels the demo intends rest on what they show.
    for ti, term in enumerate(term_objs):
        cutoff = gias_extract_date(term)
        levels_by_ti[ti] = _levels_for_term(seed, schools, plan, ti, term, cutoff)
    for ti, term in enumerate(term_objs):
        cutoff = gias_extract_date(term)
        folder = root / str(term)
        folder.mkdir(parents=True, exist_ok=True)
        year = perf_year(term)
        levels = levels_by_ti[ti]
        written = []

        names = dfe_file_names(la_code, term)
        h, rows, ragged = _ks2_rows(seed, schools, year)
        _write_perf(folder / names["ks2"], h, rows, ragged_to=ragged)
        h, rows = _ks4_rows(seed, schools, year)
        _write_perf(folder / names["ks4"], h, rows)
        _write_perf(folder / names["absence"], ABS_HEADER, _abs_rows(seed, schools, year))
        h, rows = _census_rows(seed, schools, year)
        _write_perf(folder / names["census"], h, rows)
        _write_cp1252(folder / names["gias"], GIAS_HEADER, _gias_rows(schools, term, cutoff), quote_all=True)
        _write_cp1252(folder / names["ofsted"], OFSTED_HEADER, _ofsted_rows(schools, cutoff))
        written += list(names.values())

        la_feeds = {
            "adviser_judgements": _adviser_rows(seed, schools, plan, ti, term, levels, cutoff),
            "la_intelligence": _intel_rows(seed, schools, plan, ti, term, levels),
            "letters_log": _letters_rows(seed, schools, plan, ti, term_objs, levels_by_ti),
            "moderation": _moderation_rows(seed, plan, ti, term, levels),
            "ward_members": _ward_rows(seed, wards),
            "laig_notes": _laig_rows(seed, schools, ti, term, levels),
        }
        for kind, rows in la_feeds.items():
            _write_la_feed(folder / f"{kind}.csv", kind, rows)
            written.append(f"{kind}.csv")
        files_by_term[str(term)] = written
        folders[str(term)] = str(folder)

    (root / "demo_scenarios.json").write_text(json.dumps(scenarios, indent=2, sort_keys=True) + "\n",
                                              encoding="utf-8")
    return {
        "la_code": la_code, "la_name": DEMO_LA_NAME, "terms": [str(t) for t in term_objs],
        "folders": folders, "files": files_by_term, "schools": len(schools),
        "maintained": sum(s.maintained for s in schools), "academies": sum(not s.maintained for s in schools),
        "scenarios": scenarios,
        "levels": {str(t): levels_by_ti[i] for i, t in enumerate(term_objs)},
    }


def _stable_zip(data: bytes) -> bytes:
    """Re-pack an .xlsx with fixed zip and document timestamps so regenerated templates are byte-identical."""
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2025-01-01T00:00:00Z", body)
            zi = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, body)
    return out.getvalue()


def write_templates(folder: Path) -> list[Path]:
    """Blank LA-held feed templates: <name>.csv and <name>.xlsx, header row only."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for kind, cols in LA_FEED_COLUMNS.items():
        p = folder / f"{kind}.csv"
        p.write_text(",".join(cols) + "\n", encoding="utf-8", newline="")
        out.append(p)
        wb = Workbook()
        ws = wb.active
        ws.title = kind
        ws.append(cols)
        for c in ws[1]:
            c.font = Font(bold=True)
        for i, name in enumerate(cols):
            ws.column_dimensions[chr(ord("A") + i)].width = max(12, len(name) + 4)
        ws.freeze_panes = "A2"
        x = folder / f"{kind}.xlsx"
        wb.properties.creator = "demo_feeds.demo_generator"
        buf = io.BytesIO()
        wb.save(buf)
        x.write_bytes(_stable_zip(buf.getvalue()))
        out.append(x)
    return out
