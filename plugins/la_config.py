"""The LAs this deployment serves (include/config/las.yaml), validated by pydantic before any DAG is built.

Every value here becomes part of a path or a DAG id, so each is checked against a strict pattern: a bad entry
stops the DAG file from loading with the file, the entry and the field named, rather than letting
`la_code: "../../.."` copy the raw feeds (LAIG notes included) outside the work folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

REPO = Path(__file__).resolve().parents[1]
LAS_FILE = REPO / "include" / "config" / "las.yaml"  # SI_LAS_FILE names another (a deployment's own, or a test's)
DEMO_LA_CODE = "999"  # the fictional demo LA (school_improvement.DEMO_LA_CODE)

LA_CODE_PATTERN = r"^\d{3}$"  # a DfE "old" LA code, e.g. 873; the demo LA is 999
TERM_PATTERN = r"^(\d{4}-\d{2}-(autumn|spring|summer))?$"  # blank: the term of the run's date
AS_OF_PATTERN = r"^(\d{4}-\d{2}-\d{2})?$"  # blank: the term's scheduled run date
NAME_PATTERN = r"^[a-z0-9_]*$"  # region names and Connection ids: they end up in DAG ids and pool names
CONN_ID_PATTERN = r"^[A-Za-z0-9_-]*$"


def _expand(value: str) -> str:
    """${VAR} from the environment (unset is blank, so the default applies)."""
    return re.sub(r"\$\{(\w+)\}", lambda m: os.environ.get(m.group(1), ""), value or "")


def safe_folder(value: str, what: str) -> str:
    """An absolute local folder with no `..` part (a path that climbs out is refused, never normalised)."""
    p = PurePosixPath(value)
    if not p.is_absolute():
        raise ValueError(f"{what} must be an absolute folder, not {value!r}")
    if ".." in p.parts or "\x00" in value:
        raise ValueError(f"{what} must not contain '..': {value!r}")
    return str(p)


def safe_drive(value: str, what: str = "shared_drive") -> str:
    """A local folder (as safe_folder) or smb://host/share/path with no `..` part."""
    if "://" not in value:
        return safe_folder(value, what)
    parts = urlsplit(value)
    if parts.scheme.lower() != "smb" or not parts.hostname:
        raise ValueError(f"{what} must be a folder or smb://host/share/path, not {value!r}")
    if ".." in PurePosixPath(parts.path).parts or parts.query or parts.fragment or "@" in parts.netloc:
        # credentials belong in the Airflow Connection, never in a URL that is shown in the UI
        raise ValueError(f"{what} must be smb://host/share/path with no '..', query or credentials: {value!r}")
    return value


class LAConfig(BaseModel):
    """One LA: its code and name, the region it belongs to, where its feeds land and where its reports go."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    la_code: str
    la_name: str = ""
    region: str = ""
    landing: str
    shared_drive: str
    shared_drive_conn_id: str = ""
    # How many schools the LA's reports cover (its GIAS or census count; 0: not stated). Data, not a priority: a
    # regional run starts its largest LAs first (regions()), so the longest chain is not the one left running alone.
    schools: int = Field(default=0, ge=0)

    @field_validator("la_code", mode="before")
    @classmethod
    def _code(cls, v):
        v = str(v).strip() if isinstance(v, (str, int)) else v
        if not isinstance(v, str) or not (re.fullmatch(LA_CODE_PATTERN, v) or v == DEMO_LA_CODE):
            raise ValueError(f"la_code must be a three-digit DfE LA code (e.g. 873), not {v!r}")
        return v

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        if not re.fullmatch(NAME_PATTERN, v):
            raise ValueError(f"region must be lower-case letters, digits and _ (it names a DAG), not {v!r}")
        return v

    @field_validator("shared_drive_conn_id")
    @classmethod
    def _conn(cls, v: str) -> str:
        if not re.fullmatch(CONN_ID_PATTERN, v):
            raise ValueError(f"shared_drive_conn_id must be an Airflow Connection id, not {v!r}")
        return v


    @field_validator("landing")
    @classmethod
    def _landing(cls, v: str) -> str:
        return safe_folder(v, "landing")

    @field_validator("shared_drive")
    @classmethod
    def _drive(cls, v: str) -> str:
        return safe_drive(v)

    @property
    def dag_id(self) -> str:
        return f"termly_school_improvement_{self.la_code}"


def las_file() -> Path:
    return Path(os.environ.get("SI_LAS_FILE") or LAS_FILE)


# The LAs as read, by the file's path and content and the environment variables it names. Every task process read
# las.yaml two or three times (the regional DAG file's regions() when the task parses it, run_config's la_by_code,
# publish's again): with all of England's 153 LAs in it, about 40 ms each time (PyYAML's pure-Python parser, then
# pydantic): read once per worker now (a Celery worker's warm-up, plugins/worker_preload.py) and once per content of
# the file after. Keyed by the bytes read, so an edited file is read again however soon after; an entry the file
# refuses is never kept (the error is raised again at every call).
_READ: dict[tuple, tuple] = {}
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where it is built: the same data


def load_las(path: Path | str | None = None) -> list[LAConfig]:
    """Every LA in the file, validated; a clear error naming the file, the entry and the field otherwise."""
    path = Path(path) if path else las_file()
    data = path.read_bytes()
    named = sorted(set(re.findall(r"\$\{(\w+)\}", data.decode("utf-8", "replace"))))  # as _expand finds them
    key = (str(path), data, tuple((name, os.environ.get(name)) for name in named))
    if key not in _READ:
        las = tuple(_validated(path, (yaml.load(data, Loader=_YAML_LOADER) or {}).get("las") or []))
        if len(_READ) >= 8:  # a few files at most (a test's, a deployment's): never grows with use
            _READ.clear()
        _READ[key] = las
    return list(_READ[key])  # LAConfig is frozen: only the list is the caller's


def _validated(path: Path, raw: list) -> list[LAConfig]:
    defaults = {"landing": str(REPO / "landing"), "shared_drive": str(REPO / "shared-drive")}
    out, seen = [], set()
    for i, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: LA entry {i} is not a mapping")
        entry = {**entry}
        for key in ("landing", "shared_drive"):
            entry[key] = _expand(str(entry.get(key) or "")) or defaults[key]
        try:
            la = LAConfig(**entry)
        except ValidationError as exc:
            fields = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"{path}: LA entry {i} ({entry.get('la_code')!r}): {fields}") from None
        if la.la_code in seen:
            raise ValueError(f"{path}: LA {la.la_code} is listed twice")
        seen.add(la.la_code)
        out.append(la)
    return out


def la_by_code(la_code: str, path: Path | str | None = None) -> LAConfig:
    for la in load_las(path):
        if la.la_code == str(la_code):
            return la
    raise ValueError(f"LA {la_code!r} is not configured in {path or las_file()}")


def regions(path: Path | str | None = None) -> dict[str, list[str]]:
    """Region name -> the LA codes in it, largest first by their stated `schools` (ties, and LAs whose count is
    not stated, in the file's order). LAs with no region are in no regional DAG.

    Why largest first: the regional DAG maps its task group over this list, and Airflow's scheduler starts ready
    tasks of equal priority in map-index order, so the largest LA's chain (the longest: its renders grow with its
    schools) starts first and the small LAs fill the slots around it and at the end. In the file's order a large
    LA listed last ran its renders alone while the other slots stood idle (longest processing time first).
    """
    out: dict[str, list[LAConfig]] = {}
    for la in load_las(path):
        if la.region:
            out.setdefault(la.region, []).append(la)
    return {region: [la.la_code for la in sorted(las, key=lambda la: -la.schools)] for region, las in out.items()}
