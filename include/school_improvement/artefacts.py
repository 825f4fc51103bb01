"""Typed stage artefacts: Parquet for tables, JSON for small facts, at paths under the run folder.

The stages hand each other files, never Python objects: a table is a Parquet file, a small fact a JSON file,
and a feed (`Feed`: frames plus metadata) a folder of both. Paths are `UPath`-compatible (a local folder by
default; an Airflow `ObjectStoragePath`, itself a `UPath`, for S3 or Azure Blob), so this module reads and writes
through the path object only and imports nothing from Airflow.

Fidelity matters more than elegance: the report must come out byte-identical whichever way the stages ran, so
columns Parquet cannot type (an object column mixing, say, dates and text) are kept as typed JSON text, and the
JSON here tags dates, tuples and non-finite floats instead of flattening them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import shutil
from dataclasses import asdict, fields
from decimal import Decimal
from pathlib import Path

import pandas as pd

from .errors import Problem

# pandas 3 keeps text in pyarrow when pyarrow is installed (it is, for the Parquet artefacts), and reading cell by
# cell, as categorise does, then costs about twice the CPU. pandas' own storage behaves the same and is faster here.
pd.set_option("mode.string_storage", "python")

FORMAT = 1  # bump when the layout of a stage's artefacts changes
_JSON_COLUMNS_KEY = b"school_improvement.json_columns"


# ------------------------------------------------------------------ paths
def location(path):
    """A UPath-compatible path: an ObjectStoragePath/UPath as given, anything else (str, Path, URL) as a UPath."""
    if hasattr(path, "protocol") and hasattr(path, "fs"):
        return path
    from upath import UPath

    return UPath(os.fspath(path) if isinstance(path, os.PathLike) else path)


def _is_local(path) -> bool:
    return getattr(path, "protocol", "") in ("", "file", "local")


def remove_tree(path) -> None:
    """Remove a folder of artefacts (what an earlier attempt left), local or in an object store."""
    path = location(path)
    if not path.exists():
        return
    if _is_local(path):
        shutil.rmtree(os.fspath(path) if isinstance(path, os.PathLike) else path.path)
    else:
        path.fs.rm(path.path, recursive=True)


def _write_bytes(path, data: bytes) -> None:
    """Write whole or not at all: locally through a temporary file and a rename (a killed attempt never leaves
    half an artefact); an object store's PUT is already all-or-nothing."""
    path = location(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if _is_local(path):
        local = Path(os.fspath(path) if isinstance(path, os.PathLike) else path.path)
        tmp = local.with_name(local.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, local)
    else:
        with path.open("wb") as fh:
            fh.write(data)


def _read_bytes(path) -> bytes:
    path = location(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run the earlier task first (clear it in the UI to re-run)")
    with path.open("rb") as fh:
        return fh.read()


# ------------------------------------------------------------------ typed JSON
def _encode(v):
    if isinstance(v, dict):
        if all(isinstance(k, str) for k in v):
            return {k: _encode(x) for k, x in v.items()}
        return {"$map": [[_encode(k), _encode(x)] for k, x in v.items()]}  # int keys (URNs) stay ints
    if isinstance(v, tuple):
        return {"$tuple": [_encode(x) for x in v]}
    if isinstance(v, list):
        return [_encode(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return {"$set": [_encode(x) for x in sorted(v, key=repr)]}
    if v is None or isinstance(v, (bool, str)):
        return v
    if v is pd.NaT:
        return {"$nat": True}
    if isinstance(v, pd.Timestamp):
        return {"$timestamp": v.isoformat()}
    if isinstance(v, dt.datetime):
        return {"$datetime": v.isoformat()}
    if isinstance(v, dt.date):
        return {"$date": v.isoformat()}
    if isinstance(v, Decimal):
        return {"$decimal": str(v)}
    if hasattr(v, "item") and not isinstance(v, (int, float)):  # numpy scalar
        return _encode(v.item())
    if isinstance(v, float):
        return v if math.isfinite(v) else {"$float": repr(v)}
    if isinstance(v, int):
        return v
    if v is pd.NA:
        return {"$na": True}
    raise TypeError(f"cannot store a {type(v).__name__} in a JSON artefact: {v!r}")


def _decode(v):
    if isinstance(v, list):
        return [_decode(x) for x in v]
    if not isinstance(v, dict):
        return v
    if len(v) == 1:
        (tag, x), = v.items()
        if tag == "$map":
            return {_decode(k): _decode(y) for k, y in x}
        if tag == "$tuple":
            return tuple(_decode(y) for y in x)
        if tag == "$set":
            return {_decode(y) for y in x}
        if tag == "$date":
            return dt.date.fromisoformat(x)
        if tag == "$datetime":
            return dt.datetime.fromisoformat(x)
        if tag == "$timestamp":
            return pd.Timestamp(x)
        if tag == "$decimal":
            return Decimal(x)
        if tag == "$float":
            return float(x)
        if tag == "$nat":
            return pd.NaT
        if tag == "$na":
            return pd.NA
    return {k: _decode(x) for k, x in v.items()}


def dumps(obj) -> str:
    return json.dumps(_encode(obj), indent=1, sort_keys=False, allow_nan=False, ensure_ascii=False)


def loads(text: str):
    return _decode(json.loads(text))


def write_json(path, obj) -> None:
    _write_bytes(path, dumps(obj).encode("utf-8"))


def read_json(path):
    return loads(_read_bytes(path).decode("utf-8"))


# ------------------------------------------------------------------ tables
def _arrow_table(df: pd.DataFrame):
    """The frame as an Arrow table; object columns Arrow cannot type are kept as typed JSON text."""
    import pyarrow as pa

    if any(not isinstance(c, str) for c in df.columns):
        raise TypeError(f"Parquet needs text column names, not {list(df.columns)!r}")
    json_cols = []
    try:
        table = pa.Table.from_pandas(df, preserve_index=None)
    except pa.ArrowException:  # ArrowInvalid, ArrowTypeError or not implemented: a column Arrow cannot type
        df = df.copy()
        for c in df.columns:
            if df[c].dtype != object:
                continue
            try:
                pa.array(df[c], from_pandas=True)
            except pa.ArrowException:
                df[c] = [dumps(v) for v in df[c]]
                json_cols.append(c)
        table = pa.Table.from_pandas(df, preserve_index=None)
    meta = dict(table.schema.metadata or {})
    meta[_JSON_COLUMNS_KEY] = json.dumps(json_cols).encode()
    return table.replace_schema_metadata(meta)


def write_table(path, df: pd.DataFrame) -> None:
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(_arrow_table(df), buf)
    _write_bytes(path, buf.getvalue())


def read_table(path, categories: "list[str] | None" = None) -> pd.DataFrame:
    """The table as written. `categories`: text columns to read as pandas categoricals, each distinct value held
    once in memory (a long table repeating a few wordings per school would otherwise hold a copy per row)."""
    import pyarrow.parquet as pq

    # One file, read as one file: pq.read_table goes through pyarrow's dataset layer (a dataset, fragments, a scanner)
    # for every file, which was half the CPU of reading a term's 48 small feed tables in a task (0.08 s against 0.05).
    table = pq.ParquetFile(io.BytesIO(_read_bytes(path)), read_dictionary=categories).read()
    json_cols = json.loads((table.schema.metadata or {}).get(_JSON_COLUMNS_KEY, b"[]"))
    df = table.to_pandas()
    for c in json_cols:
        df[c] = pd.Series([loads(v) for v in df[c]], index=df.index, dtype=object)
    return df


# ------------------------------------------------------------------ problems and feeds
def problems_to_json(problems: list[Problem]) -> list[dict]:
    return [asdict(p) for p in problems]


def problems_from_json(items: list[dict]) -> list[Problem]:
    return [Problem(**p) for p in items]


FEED_FRAMES = ("schools", "comparators", "statuses", "history")


def write_feed(folder, feed) -> dict:
    """One feed as a folder: feed.json (metadata and reading warnings) and a Parquet file per frame."""
    folder = location(folder)
    meta = {f.name: getattr(feed, f.name) for f in fields(feed) if f.name not in FEED_FRAMES + ("warnings",)}
    meta["warnings"] = problems_to_json(feed.warnings)
    meta["format"] = FORMAT
    for name in FEED_FRAMES:
        write_table(folder / f"{name}.parquet", getattr(feed, name))
    write_json(folder / "feed.json", meta)
    return {"kind": feed.kind, "source": feed.source, "rows": feed.rows}


def read_feed_artefact(folder):
    from .ingest.feeds import Feed

    folder = location(folder)
    meta = read_json(folder / "feed.json")
    meta.pop("format", None)
    meta["warnings"] = problems_from_json(meta["warnings"])
    frames = {name: read_table(folder / f"{name}.parquet") for name in FEED_FRAMES}
    return Feed(**meta, **frames)


def write_feeds(folder, feeds: list, read_problems: list[Problem]) -> dict:
    """The extract stage's output: every feed read, in order, and the files that could not be read."""
    folder = location(folder)
    remove_tree(folder)  # a cleared task replaces its output, never appends
    names = []
    for n, feed in enumerate(feeds):
        name = f"{n:03d}_{feed.kind}"
        write_feed(folder / name, feed)
        names.append(name)
    write_json(folder / "read_problems.json", problems_to_json(read_problems))
    write_json(folder / "index.json", {"format": FORMAT, "feeds": names})  # last: its presence means complete
    return {"feeds": len(names), "path": str(folder)}


def read_feeds(folder) -> tuple[list, list[Problem]]:
    folder = location(folder)
    index = read_json(folder / "index.json")
    if index.get("format") != FORMAT:
        raise ValueError(f"{folder} was written in artefact format {index.get('format')}, not {FORMAT}: "
                         "clear extract to re-run it")
    feeds = [read_feed_artefact(folder / name) for name in index["feeds"]]
    return feeds, problems_from_json(read_json(folder / "read_problems.json"))
