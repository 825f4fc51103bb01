"""GIAS establishment links: which URN a school had before it converted, amalgamated or merged.

GIAS publishes them as a separate download (`links_edubasealldata<date>.csv`: URN, LinkURN, LinkName,
LinkType, LinkEstablishedDate). With it a converter academy or an amalgamated school keeps its history and
its previous published results under the new URN. The file is all England, as downloaded.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import pandas as pd

from .errors import FeedError, Problem

KIND = "gias_links"
HEADER = ("URN", "LINKURN", "LINKTYPE")  # the columns that identify the file (case and spacing ignored)


def is_links_file(path) -> bool:
    """True when the file's header is the GIAS links download's."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return False
    with open(path, "rb") as fh:
        first = fh.readline().decode("cp1252", errors="replace").lstrip("\ufeff").lstrip("ï»¿")
    cols = {re.sub(r"\s+", "", c).upper() for c in next(csv.reader([first]), [])}
    return set(HEADER) <= cols


def read_links(path):
    """Read the links file into a Feed of kind `gias_links` (urn, link_urn, link_name, link_type, link_date)."""
    from .feeds import Feed

    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")  # GIAS downloads are Windows-1252
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    raw.columns = [re.sub(r"\s+", "", c).upper() for c in raw.columns]
    problems, rows = [], []
    for i, r in enumerate(raw.to_dict("records"), start=2):
        urn, link = (str(r.get(c, "")).strip() for c in ("URN", "LINKURN"))
        for col, v in (("URN", urn), ("LinkURN", link)):
            if not re.fullmatch(r"\d{6}", v):
                problems.append(Problem(path.name, i, col, f"URN {v!r} is malformed: a URN is 6 digits, 100000-999999",
                                        check="urn_format"))
        when = pd.to_datetime(str(r.get("LINKESTABLISHEDDATE", "")).strip(), format="%d-%m-%Y", errors="coerce")
        rows.append({"urn": int(urn) if urn.isdigit() else None, "link_urn": int(link) if link.isdigit() else None,
                     "link_name": str(r.get("LINKNAME", "")), "link_type": str(r.get("LINKTYPE", "")).strip(),
                     "link_date": None if pd.isna(when) else when.date(), "_row": i})
    if problems:
        raise FeedError(problems)
    schools = pd.DataFrame(rows, columns=["urn", "link_urn", "link_name", "link_type", "link_date", "_row"])
    m = re.search(r"(20\d\d)(\d\d)(\d\d)|(20\d\d)-(\d\d)-(\d\d)", path.name)
    year = None
    if m:
        y, mo = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(4)), int(m.group(5)))
        start = y if mo >= 9 else y - 1
        year = f"{start}-{(start + 1) % 100:02d}"
    return Feed(kind=KIND, source=path.name, path=str(path), sha256=hashlib.sha256(data).hexdigest(),
                academic_year=year, rows=len(schools), schools=schools, comparators=pd.DataFrame(),
                statuses=pd.DataFrame(columns=["urn", "column", "code", "reason", "_row"]))
