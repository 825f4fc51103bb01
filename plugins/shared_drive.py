"""The shared drive the reports are published to: a local folder, or an SMB share through an Airflow Connection."""

from __future__ import annotations

from pathlib import Path

from la_config import safe_drive


def _attach_smb(url: str, conn_id: str) -> None:
    """Attach fsspec's SMBFileSystem for `conn_id`: Airflow 3.3 registers no filesystem for smb://.

    The Connection (any conn_type, e.g. "samba") gives host (else the URL's), port (else 445), login and
    password; extra may set "encrypt" (bool) and "timeout" (seconds). ObjectStoragePath(url, conn_id=conn_id)
    then finds this filesystem through airflow.sdk.io.attach's store for ("smb", conn_id).
    """
    from urllib.parse import urlsplit

    from airflow.sdk import Connection
    from airflow.sdk.io import attach
    from fsspec.implementations.smb import SMBFileSystem

    conn = Connection.get(conn_id)
    extra = conn.extra_dejson or {}
    fs = SMBFileSystem(host=conn.host or urlsplit(url).hostname, port=conn.port or None,
                       username=conn.login or None, password=conn.password or None,
                       encrypt=extra.get("encrypt"), timeout=int(extra.get("timeout", 60)))
    # attach() caches one store per (protocol, conn_id); set its fs each time so a changed Connection applies
    # (fsspec reuses the connected instance while the settings are the same).
    attach(protocol="smb", conn_id=conn_id).fs = fs


def shared_drive_path(url: str, conn_id: str = ""):
    """The shared drive as an ObjectStoragePath: a local folder, or smb://host/share/... through a Connection.

    Nothing is created here: whether it is the LA's share (its `.school-improvement-share` file) is publish's check
    (school_improvement.publish.edition.check_is_share), so an unmounted share's mount point never takes reports.
    """
    return _drive_path(url, conn_id)


def _drive_path(url: str, conn_id: str = ""):
    from airflow.sdk import ObjectStoragePath

    safe_drive(url)  # an absolute folder or smb://host/share/path, with no '..' part
    if "://" not in url:
        url = "file://" + str(Path(url).resolve())
    elif url.lower().startswith("smb://"):
        if not conn_id:
            raise ValueError(f"{url}: an smb:// shared drive needs shared_drive_conn_id (an Airflow Connection)")
        _attach_smb(url, conn_id)
    return ObjectStoragePath(url, conn_id=conn_id or None)


STAGE_KEYS = ("la_code", "term", "run_dir")  # what every task result carries besides the stage's own counts


def edition_metadata(la_code: str, published: dict, counts: dict, letters: dict) -> dict:
    """What an asset event says about the edition: which, where, and its counts. Paths and counts; no secrets."""
    levels = {k: int(v) for k, v in counts.items() if k not in STAGE_KEYS and k != "rule_set"}
    per_letter = {k: int(v) for k, v in (letters.get("letters") or {}).items()}
    return {"la_code": la_code, "term": counts.get("term", ""), "edition": published.get("edition", ""),
            "status": published.get("status", ""), "edition_path": str(published.get("edition_path", "")),
            "rule_set": counts.get("rule_set", ""), "schools_per_level": levels, "letters": per_letter,
            "academies_of_concern": int(letters.get("academies_of_concern", 0)),
            "member_alerts": int(letters.get("member_alerts", 0))}


def publish_and_announce(la_code: str, counts: dict, letters: dict, outlet) -> dict:
    """The publish task: copy the staged edition to the LA's shared drive, record an asset event carrying the
    edition's metadata (on the LA's Asset, or through a regional AssetAlias), and send the run's summary."""
    from airflow.sdk import AssetAlias, get_current_context
    from la_config import la_by_code
    from notifiers import send_success_summary
    from stage_runner import run_task_stage
    from termly_tasks import reports_asset

    ctx = get_current_context()
    la = la_by_code(la_code)
    drive = shared_drive_path(la.shared_drive, la.shared_drive_conn_id)
    result = run_task_stage("publish", la_code, shared_drive=drive)
    result["files"] = len(result.get("files") or [])  # XCom: the count; the list is the edition's manifest.json
    published = {k: v for k, v in result.items() if k not in STAGE_KEYS}
    meta = edition_metadata(la_code, published, counts, letters)
    if isinstance(outlet, AssetAlias):
        ctx["outlet_events"][outlet].add(reports_asset(la_code), extra=meta)
    else:
        ctx["outlet_events"][outlet].extra = meta
    summary = {"cfg": {"la_code": la_code, "term": result["term"]},
               "counts": {k: v for k, v in counts.items() if k not in STAGE_KEYS},
               "letters": {k: v for k, v in letters.items() if k not in STAGE_KEYS}, "published": published}
    send_success_summary(ctx, summary)  # counts per level, letters flagged, where the reports are
    return result
