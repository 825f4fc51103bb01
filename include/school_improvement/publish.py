"""Publish a staged report folder to the shared drive as a new, immutable edition.

Layout under the shared drive (any pathlib.Path, or UPath / Airflow ObjectStoragePath):

    <la_code>/<academic-year>/<season>/
        edition-001/{restricted/..., general/..., inputs.json, manifest.json}
        edition-002/...
        current.json        # names the edition readers should use

Readers only ever see complete editions: files are copied into a hidden `.staging-<random>/` folder
beside the editions, verified (size and SHA-256), manifest.json is written last, the folder is
renamed to `edition-NNN` in one step, and only then is current.json replaced (temp file + rename).
Any failure removes what this run created, so earlier editions and current.json are untouched.

Atomicity: on local disks and SMB mounts (pathlib.Path or a `file://` UPath) both renames are
os.rename / os.replace, which are atomic. On an `smb://` share (fsspec's SMBFileSystem, e.g. an Airflow
ObjectStoragePath) they are SMB2 renames on the server: the edition rename refuses an existing target, and
current.json is replaced with ReplaceIfExists, so it is never missing. Through other fsspec back ends
(memory://, object stores)
`mv` may be copy-then-delete; editions are still never half-visible via current.json, because
current.json is written only after the edition is complete.
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from .terms import Term

EDITION_RE = re.compile(r"^edition-(\d{3,})$")
MANIFEST = "manifest.json"
CURRENT = "current.json"
INPUTS = "inputs.json"
CHUNK = 1 << 20


class PublishError(RuntimeError):
    """Publishing failed; nothing new is visible on the shared drive."""


@dataclass
class PublishResult:
    status: str  # "published" | "unchanged"
    edition: str  # "edition-002": the edition that is current after this call
    edition_number: int
    edition_path: Any  # same path type as shared_drive
    content_hash: str
    files: list[dict] = field(default_factory=list)  # manifest entries: path, size, sha256
    message: str = ""


# --------------------------------------------------------------------------------------------
# Path helpers that work for pathlib.Path and UPath alike
# --------------------------------------------------------------------------------------------


def _local_os_path(p) -> str | None:
    """The OS path if `p` is on the local file system (pathlib, or UPath file://), else None."""
    if isinstance(p, PurePath) and not hasattr(p, "fs"):
        return str(p)
    protocol = getattr(p, "protocol", None)
    if protocol in ("file", "local", ""):
        return p.path
    return None


def _rename_dir(src, dst) -> None:
    """Rename a directory, refusing to merge into an existing one."""
    if dst.exists():
        raise FileExistsError(f"{dst} already exists (another publish running?)")
    local_src, local_dst = _local_os_path(src), _local_os_path(dst)
    if local_src is not None and local_dst is not None:
        os.rename(local_src, local_dst)  # atomic; fails rather than merging if dst appeared meanwhile
    else:
        src.fs.mv(src.path, dst.path, recursive=True)


def _smb_replace(src, dst) -> bool:
    """Atomic overwrite on an smb:// share (fsspec's `mv` there refuses an existing target). False if not SMB."""
    fs = getattr(src, "fs", None)
    if getattr(src, "protocol", None) != "smb" or not hasattr(fs, "host"):
        return False
    import smbclient  # smbprotocol: what fsspec's SMBFileSystem uses

    def unc(p) -> str:
        return "\\\\" + fs.host + p.path.replace("/", "\\")

    smbclient.replace(unc(src), unc(dst), port=fs.port or 445)  # SMB2 rename with ReplaceIfExists
    return True


def _replace_file(src, dst) -> None:
    local_src, local_dst = _local_os_path(src), _local_os_path(dst)
    if local_src is not None and local_dst is not None:
        os.replace(local_src, local_dst)  # atomic overwrite
        return
    if _smb_replace(src, dst):
        return
    try:
        src.fs.mv(src.path, dst.path)
    except (FileExistsError, OSError):
        # Some back ends refuse to overwrite on mv: the old file is kept until the last moment.
        if not dst.exists():
            raise
        dst.unlink()
        src.fs.mv(src.path, dst.path)


def _remove_tree(p) -> None:
    local = _local_os_path(p)
    if local is not None:
        shutil.rmtree(local, ignore_errors=True)
        return
    try:
        if p.exists():
            p.fs.rm(p.path, recursive=True)
    except FileNotFoundError:
        pass


def _sha256_of(path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _staged_files(staged: Path) -> list[tuple[str, Path]]:
    """(posix relative path, file) for every regular file under staged, in a stable order."""
    staged = Path(staged)
    files = [(p.relative_to(staged).as_posix(), p) for p in staged.rglob("*") if p.is_file()]
    if any(rel == MANIFEST for rel, _ in files):
        raise PublishError(f"{staged} already holds a {MANIFEST}: publish writes it")
    return sorted(files)


def content_hash(staged: Path) -> str:
    """Hash of what the edition says: every CSV plus inputs.json (PDFs embed their own dates, so they
    would make every run look new)."""
    lines = []
    for rel, p in _staged_files(staged):
        if rel.endswith(".csv") or rel == INPUTS:
            lines.append(f"{rel}\t{_sha256_of(p)[0]}\n")
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def _term_dir(shared_drive, la_code: str, term: str):
    t = Term.parse(term)
    if not re.fullmatch(r"[A-Za-z0-9_-]+", str(la_code)):
        raise ValueError(f"la_code {la_code!r} is not a safe folder name")
    return shared_drive / str(la_code) / t.academic_year / t.season


def _read_json(p) -> dict | None:
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except OSError as exc:  # smbprotocol's SMBOSError: errno ENOENT, but not a FileNotFoundError
        if exc.errno == errno.ENOENT:
            return None
        raise


def _write_json(p, data: dict) -> None:
    p.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")


def read_current(shared_drive, la_code: str, term: str) -> dict | None:
    """current.json for the term (edition, edition_number, content_hash, ...), or None if never published."""
    return _read_json(_term_dir(shared_drive, la_code, term) / CURRENT)


def _existing_numbers(term_dir) -> list[int]:
    if not term_dir.exists():
        return []
    return sorted(int(m[1]) for p in term_dir.iterdir() if (m := EDITION_RE.match(p.name)))


def _published_at(staged: Path, published_at) -> str:
    if published_at is not None:
        return published_at.isoformat() if hasattr(published_at, "isoformat") else str(published_at)
    inputs = Path(staged) / INPUTS
    if inputs.exists():
        data = json.loads(inputs.read_text(encoding="utf-8"))
        for key in ("published_at", "run_date"):
            if data.get(key):
                return str(data[key])
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


# --------------------------------------------------------------------------------------------
# Publishing
# --------------------------------------------------------------------------------------------


def publish_edition(staged: Path, shared_drive, la_code: str, term: str, published_at=None) -> PublishResult:
    """Publish `staged` as the next edition, unless its content equals the current edition's."""
    staged = Path(staged)
    if not staged.is_dir():
        raise PublishError(f"staged folder {staged} does not exist")
    files = _staged_files(staged)
    chash = content_hash(staged)
    term_dir = _term_dir(shared_drive, la_code, term)

    current = read_current(shared_drive, la_code, term)
    if current:
        current_dir = term_dir / current["edition"]
        manifest = _read_json(current_dir / MANIFEST) or {}
        if manifest.get("content_hash") == chash:
            return PublishResult(
                status="unchanged", edition=current["edition"], edition_number=int(current["edition_number"]),
                edition_path=current_dir, content_hash=chash, files=manifest.get("files", []),
                message=f"unchanged, {current['edition']} stays current",
            )

    term_dir.mkdir(parents=True, exist_ok=True)
    number = max(_existing_numbers(term_dir), default=0) + 1
    edition = f"edition-{number:03d}"
    staging = term_dir / f".staging-{secrets.token_hex(8)}"
    final = term_dir / edition
    tmp_current = term_dir / f".{CURRENT}.{secrets.token_hex(8)}.tmp"
    renamed = False
    try:
        staging.mkdir(parents=True, exist_ok=False)
        entries = []
        for rel, src in files:
            src_sha, src_size = _sha256_of(src)
            dst = staging.joinpath(*rel.split("/"))
            dst.parent.mkdir(parents=True, exist_ok=True)
            with src.open("rb") as fin, dst.open("wb") as fout:
                shutil.copyfileobj(fin, fout, CHUNK)
            # Read back what landed, not what we meant to write: catches truncation on network drives.
            dst_sha, dst_size = _sha256_of(dst)
            if (dst_sha, dst_size) != (src_sha, src_size):
                raise PublishError(f"copy of {rel} does not match: {dst_size} bytes sha256 {dst_sha}, "
                                   f"expected {src_size} bytes sha256 {src_sha}")
            entries.append({"path": rel, "size": src_size, "sha256": src_sha})

        manifest = {
            "la_code": str(la_code), "term": str(term), "edition": edition, "edition_number": number,
            "content_hash": chash, "published_at": _published_at(staged, published_at),
            "previous_edition": current["edition"] if current else None, "files": entries,
        }
        _write_json(staging / MANIFEST, manifest)  # last: an edition with a manifest is complete

        _rename_dir(staging, final)
        renamed = True
        _write_json(tmp_current, {
            "la_code": str(la_code), "term": str(term), "edition": edition, "edition_number": number,
            "content_hash": chash, "published_at": manifest["published_at"], "manifest": f"{edition}/{MANIFEST}",
        })
        _replace_file(tmp_current, term_dir / CURRENT)
    except BaseException as exc:
        # Undo only what this run created; earlier editions and current.json were never touched.
        _remove_tree(staging)
        if renamed:
            _remove_tree(final)
        try:
            if tmp_current.exists():
                tmp_current.unlink()
        except OSError:
            pass
        if isinstance(exc, Exception) and not isinstance(exc, PublishError):
            raise PublishError(f"publishing {la_code} {term} failed; nothing new published: {exc}") from exc
        raise

    return PublishResult(
        status="published", edition=edition, edition_number=number, edition_path=final, content_hash=chash,
        files=entries, message=f"published {edition}" + (f", replacing {current['edition']}" if current else ""),
    )
