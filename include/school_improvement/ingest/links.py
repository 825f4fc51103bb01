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

from ..errors import FeedError, Problem

KIND = "gias_links"
HEADER = ("URN", "LINKURN", "LINKTYPE")  # the columns that identify the file (case and spacing ignored)


def is_links_file(path) -> bool:
    """True when the file's header is the GIAS links download's."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return False
    from .feeds import header_of  # never raises on a file that is not CSV text: read_feed then says what it is

    cols = {re.sub(r"\s+", "", c).upper() for c in header_of(path)}
    return set(HEADER) <= cols


def read_links(path):
    """Read the links file into a Feed of kind `gias_links` (urn, link_urn, link_name, link_type, link_date).

    Whatever goes wrong, the error names the file (as read_feed's): a damaged file is never a bare traceback that
    the task retries as if the drive had hiccupped."""
    path = Path(path)
    try:
        return _read_links(path)
    except (FeedError, OSError):  # an unreadable drive is not a damaged file: the task may retry it
        raise
    except Exception as err:  # noqa: BLE001 -- a damaged download raises almost anything in pandas
        raise FeedError(Problem(path.name, None, None, f"cannot read the GIAS links file ({type(err).__name__}: "
                                f"{str(err)[:300]}); it is damaged, or not saved as CSV: download it again",
                                check="parse")) from err


def _read_links(path: Path):
    from .feeds import Feed

    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")  # GIAS downloads are Windows-1252
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    raw.columns = [re.sub(r"\s+", "", c).upper() for c in raw.columns]
    for col in ("URN", "LINKURN", "LINKTYPE"):
        if col not in raw:
            raise FeedError(Problem(path.name, 1, col, f"required column {col} is missing for a GIAS links file",
                                    check="required_column"))
    problems = []
    for col, shown in (("URN", "URN"), ("LINKURN", "LinkURN")):
        values = raw[col].str.strip()
        for i in values.index[~values.str.fullmatch(r"\d{6}")][:500]:
            problems.append(Problem(path.name, int(i) + 2, shown,
                                    f"URN {values[i]!r} is malformed: a URN is 6 digits, 100000-999999", check="urn_format"))
    if problems:
        raise FeedError(problems)
    when = pd.to_datetime(raw.get("LINKESTABLISHEDDATE", pd.Series("", index=raw.index)).str.strip(),
                          format="%d-%m-%Y", errors="coerce")
    schools = pd.DataFrame({
        "urn": raw["URN"].str.strip().astype("int64"), "link_urn": raw["LINKURN"].str.strip().astype("int64"),
        "link_name": raw.get("LINKNAME", pd.Series("", index=raw.index)).astype(str),
        "link_type": raw["LINKTYPE"].astype(str).str.strip(),
        "link_date": [None if pd.isna(d) else d.date() for d in when], "_row": raw.index + 2})
    m = re.search(r"(20\d\d)(\d\d)(\d\d)|(20\d\d)-(\d\d)-(\d\d)", path.name)
    year = None
    if m:
        y, mo = (int(m.group(1)), int(m.group(2))) if m.group(1) else (int(m.group(4)), int(m.group(5)))
        start = y if mo >= 9 else y - 1
        year = f"{start}-{(start + 1) % 100:02d}"
    return Feed(kind=KIND, source=path.name, path=str(path), sha256=hashlib.sha256(data).hexdigest(),
                academic_year=year, rows=len(schools), schools=schools, comparators=pd.DataFrame(),
                statuses=pd.DataFrame(columns=["urn", "column", "code", "reason", "_row"]))
