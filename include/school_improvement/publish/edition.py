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

The drive must prove it is the share: the LA places an empty file named `.school-improvement-share` at its root
once (README, deployment). An unmounted share whose mount point still exists is an empty local folder without
it, so nothing is written to local disk by mistake. Each publish of a term holds `.publish.lock` in the term's
folder (two operators, or two LAs' runs on one history database, never interleave), checks with the caller
that the history still holds this run's inputs, and first tidies what a killed publish left: `.staging-*`
folders, temporary current.json files, and an edition renamed into place that current.json never named
(adopted when it holds exactly what is being published, else removed: no reader was ever pointed at it).
A corrupt manifest.json or current.json of an older edition does not block a new edition; it is reported.

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
from typing import Any, Callable

from ..terms import Term

EDITION_RE = re.compile(r"^edition-(\d{3,})$")
MANIFEST = "manifest.json"
CURRENT = "current.json"
INPUTS = "inputs.json"
CHUNK = 1 << 20
SHARE_SENTINEL = ".school-improvement-share"  # placed once by the LA at the shared drive's root
LOCK = ".publish.lock"
STALE_LOCK_SECONDS = 3600  # a publish takes minutes; a lock this old was left by a killed run


class PublishError(RuntimeError):
    """Publishing failed; nothing new is visible on the shared drive."""


class NotTheShare(PublishError):
    """The shared drive path lacks the sentinel file: an unmounted share, or the wrong folder."""


class PublishBusy(PublishError):
    """Another publish of the same term holds the lock (worth retrying later)."""


class PublishConflict(PublishError):
    """What would be published disagrees with the history database: a person must re-run the term."""


def mark_as_share(shared_drive) -> None:
    """Place the sentinel (what the LA does once on the real share; `make run` and the tests on local folders)."""
    shared_drive.mkdir(parents=True, exist_ok=True)
    (shared_drive / SHARE_SENTINEL).write_text("This folder is the school-improvement shared drive.\n",
                                               encoding="utf-8")


def check_is_share(shared_drive) -> None:
    try:
        ok = (shared_drive / SHARE_SENTINEL).exists()
    except OSError as exc:
        raise NotTheShare(f"cannot reach the shared drive {shared_drive}: {exc}") from exc
    if not ok:
        raise NotTheShare(
            f"{shared_drive} does not hold the file {SHARE_SENTINEL}, so it is not the shared drive (is the share "
            f"mounted?). Nothing was published. If this is the right folder, place an empty {SHARE_SENTINEL} "
            "file at its root once (see the README, Deployment).")


@dataclass
class PublishResult:
    status: str  # "published" | "unchanged"
    edition: str  # "edition-002": the edition that is current after this call
    edition_number: int
    edition_path: Any  # same path type as shared_drive
    content_hash: str
    files: list[dict] = field(default_factory=list)  # manifest entries: path, size, sha256
    message: str = ""
    warnings: list[str] = field(default_factory=list)  # what was found and tidied or left (corrupt JSON, leftovers)


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
    p = _term_dir(shared_drive, la_code, term) / CURRENT
    try:
        return _read_json(p)
    except ValueError as exc:
        raise PublishError(f"{p} is not valid JSON ({exc}); the next publish replaces it") from exc


def _read_json_tolerant(p, warnings: list[str]) -> dict | None:
    """Like _read_json, but a corrupt file is reported in `warnings` and read as absent."""
    try:
        data = _read_json(p)
    except (ValueError, UnicodeDecodeError) as exc:
        warnings.append(f"{p} is corrupt ({type(exc).__name__}: {str(exc)[:120]}); ignored")
        return None
    if data is not None and not isinstance(data, dict):
        warnings.append(f"{p} does not hold a JSON object; ignored")
        return None
    return data


def _take_lock(term_dir, owner: str, warnings: list[str]):
    lock = term_dir / LOCK
    body = json.dumps({"owner": owner, "taken_at": datetime.datetime.now(datetime.timezone.utc).isoformat()})
    for attempt in (1, 2):
        try:
            local = _local_os_path(lock)
            if local is not None:
                fd = os.open(local, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(body)
            else:  # fsspec: no exclusive create everywhere; exists-then-write leaves a small window
                if lock.exists():
                    raise FileExistsError(str(lock))
                lock.write_text(body, encoding="utf-8")
            return lock
        except FileExistsError:
            held = _read_json_tolerant(lock, warnings) or {}
            try:
                age = (datetime.datetime.now(datetime.timezone.utc)
                       - datetime.datetime.fromisoformat(held["taken_at"])).total_seconds()
            except (KeyError, TypeError, ValueError):
                age = STALE_LOCK_SECONDS + 1  # unreadable: left half-written by a killed run
            if attempt == 1 and age > STALE_LOCK_SECONDS:
                warnings.append(f"removed a stale publish lock ({held.get('owner', 'unknown')}, "
                                f"{int(age)} s old) left by a killed run")
                lock.unlink()
                continue
            raise PublishBusy(f"another publish of this term is running ({held.get('owner', 'unknown')}, since "
                              f"{held.get('taken_at', '?')}); try again when it has finished, or delete {lock} "
                              "if no run is active") from None
    raise PublishBusy(f"could not take {lock}")


def _release_lock(lock) -> None:
    try:
        lock.unlink()
    except (FileNotFoundError, OSError):
        pass


def _tidy(term_dir, current: dict | None, current_corrupt: bool, chash: str, warnings: list[str]):
    """Remove what killed publishes left. Returns an orphan edition to adopt (its manifest matches `chash`)."""
    adopt = None
    for p in list(term_dir.iterdir()):
        if p.name.startswith(".staging-") or (p.name.startswith(f".{CURRENT}.") and p.name.endswith(".tmp")):
            _remove_tree(p) if p.is_dir() else p.unlink()
            warnings.append(f"removed {p.name}, left by an interrupted publish")
    numbers = _existing_numbers(term_dir)
    if current is None and (current_corrupt or len(numbers) > 1):
        # Cannot tell which editions were ever current (only a first publish killed before current.json leaves
        # a single edition and no current.json): leave them all.
        if numbers:
            warnings.append(f"current.json is {'corrupt' if current_corrupt else 'missing'}; editions "
                            f"{', '.join(f'edition-{n:03d}' for n in numbers)} left as they are")
        return None
    current_no = int(current["edition_number"]) if current else 0
    for n in numbers:
        if n <= current_no:
            continue
        orphan = term_dir / f"edition-{n:03d}"
        manifest = _read_json_tolerant(orphan / MANIFEST, warnings) or {}
        if adopt is None and manifest.get("content_hash") == chash and _verifies(orphan, manifest):
            adopt = (orphan, n, manifest)
            warnings.append(f"adopted {orphan.name}: renamed into place by an interrupted publish, never made current")
            continue
        _remove_tree(orphan)
        warnings.append(f"removed {orphan.name}: renamed into place by an interrupted publish, never made current")
    return adopt


def _verifies(edition, manifest: dict) -> bool:
    try:
        return bool(manifest.get("files")) and all(
            _sha256_of(edition.joinpath(*e["path"].split("/"))) == (e["sha256"], e["size"])
            for e in manifest["files"])
    except (OSError, KeyError, TypeError):
        return False


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


def publish_edition(staged: Path, shared_drive, la_code: str, term: str, published_at=None,
                    check: Callable[[], None] | None = None, owner: str = "") -> PublishResult:
    """Publish `staged` as the next edition, unless its content equals the current edition's.

    `check` (optional) is called with the term's lock held, before anything is written and again just before
    current.json is replaced; it raises (e.g. PublishConflict) when the edition must not become current.
    """
    staged = Path(staged)
    if not staged.is_dir():
        raise PublishError(f"staged folder {staged} does not exist")
    files = _staged_files(staged)
    chash = content_hash(staged)
    term_dir = _term_dir(shared_drive, la_code, term)
    check_is_share(shared_drive)
    term_dir.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    lock = _take_lock(term_dir, owner or f"pid {os.getpid()}", warnings)
    try:
        return _publish_locked(staged, files, chash, term_dir, la_code, term, published_at, check, warnings)
    finally:
        _release_lock(lock)


def _publish_locked(staged, files, chash, term_dir, la_code, term, published_at, check, warnings) -> PublishResult:
    if check is not None:
        check()
    current_path = term_dir / CURRENT
    seen = len(warnings)
    current = _read_json_tolerant(current_path, warnings)
    if current is not None and not (isinstance(current.get("edition"), str) and EDITION_RE.match(current["edition"])
                                    and str(current.get("edition_number", "")).isdigit()):
        warnings.append(f"{current_path} does not name an edition; ignored")
        current = None
    current_corrupt = current is None and len(warnings) > seen
    highest = max(_existing_numbers(term_dir), default=0)  # an orphan's number is not reused after it is removed
    adopt = _tidy(term_dir, current, current_corrupt, chash, warnings)
    if current:
        current_dir = term_dir / current["edition"]
        manifest = _read_json_tolerant(current_dir / MANIFEST, warnings) or {}
        if manifest.get("content_hash") == chash:
            return PublishResult(
                status="unchanged", edition=current["edition"], edition_number=int(current["edition_number"]),
                edition_path=current_dir, content_hash=chash, files=manifest.get("files", []),
                message=f"unchanged, {current['edition']} stays current", warnings=warnings,
            )
    if adopt is not None:
        final, number, manifest = adopt
        tmp_current = term_dir / f".{CURRENT}.{secrets.token_hex(8)}.tmp"
        try:
            if check is not None:
                check()
            _write_json(tmp_current, {
                "la_code": str(la_code), "term": str(term), "edition": final.name, "edition_number": number,
                "content_hash": chash, "published_at": manifest.get("published_at"),
                "manifest": f"{final.name}/{MANIFEST}"})
            _replace_file(tmp_current, current_path)
        except BaseException as exc:
            if tmp_current.exists():
                tmp_current.unlink()
            if isinstance(exc, Exception) and not isinstance(exc, PublishError):
                raise PublishError(f"publishing {la_code} {term} failed; nothing new published: {exc}") from exc
            raise
        return PublishResult(status="published", edition=final.name, edition_number=number, edition_path=final,
                             content_hash=chash, files=manifest.get("files", []),
                             message=f"published {final.name} (adopted)", warnings=warnings)

    number = max([highest, *_existing_numbers(term_dir)]) + 1
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
        if check is not None:
            check()  # the history may have moved on while we copied: then this edition must not become current
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
        warnings=warnings,
    )
