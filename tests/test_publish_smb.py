"""Publishing to a real SMB share (Samba's smbd on 127.0.0.1) through an Airflow Connection.

The shared drive is what the DAG uses: `shared_drive_path("smb://host/share/reports", conn_id=...)`, an
ObjectStoragePath whose fsspec SMBFileSystem comes from the `si_shared_drive` Connection (defined in the
environment). What lands on the share is checked through the share's backing folder on this machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

import servers
from school_improvement.publish import edition as publish
from school_improvement.publish.edition import PublishError, publish_edition, read_current

from publish_helpers import LA, TERM, inject_failure, make_staged
CONN_ID = "si_shared_drive"
pytestmark = pytest.mark.slow  # a Samba server started by the test

if servers._smbd_bin() is None:
    pytest.skip("Samba's smbd is not installed (Debian package 'samba'; .ci/run installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def smb():
    """A running Samba share and the si_shared_drive Connection pointing at it, for the whole module."""
    import smbclient

    env_key = f"AIRFLOW_CONN_{CONN_ID.upper()}"
    saved = os.environ.get(env_key)
    with servers.samba_server() as (host, port, share, user, password, folder):
        os.environ[env_key] = json.dumps({"conn_type": "samba", "host": host, "port": port,
                                          "login": user, "password": password})
        try:
            yield {"host": host, "port": port, "share": share, "folder": folder}
        finally:
            if saved is None:
                os.environ.pop(env_key, None)
            else:
                os.environ[env_key] = saved
            try:
                smbclient.delete_session(host, port=port)  # before smbd goes away
            except Exception:
                pass


@pytest.fixture
def drive(smb):
    from si_airflow import shared_drive_path

    path = shared_drive_path(f"smb://{smb['host']}/{smb['share']}/reports", conn_id=CONN_ID)
    (smb["folder"] / "reports").mkdir(exist_ok=True)
    (smb["folder"] / "reports" / publish.SHARE_SENTINEL).write_text("")  # what the LA places on the share once
    yield path
    shutil.rmtree(smb["folder"] / "reports", ignore_errors=True)


@pytest.fixture
def term_folder(smb) -> Path:
    """The term's folder as the SMB server stores it on disk."""
    return smb["folder"] / "reports" / LA / "2025-26" / "autumn"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_drive_is_an_smb_object_storage_path(drive, smb):
    from airflow.sdk import ObjectStoragePath
    from fsspec.implementations.smb import SMBFileSystem

    assert isinstance(drive, ObjectStoragePath)
    assert drive.protocol == "smb" and drive.conn_id == CONN_ID
    assert isinstance(drive.fs, SMBFileSystem) and drive.fs.port == smb["port"]
    assert (drive / LA).fs is drive.fs  # child paths keep the Connection's filesystem


def test_publish_lands_on_share_with_manifest_and_current(drive, term_folder, tmp_path):
    staged = make_staged(tmp_path)
    res = publish_edition(staged, drive, LA, TERM)
    assert res.status == "published" and res.edition == "edition-001" and res.edition_number == 1

    on_disk = snapshot(term_folder)
    assert set(on_disk) == {"current.json", "edition-001/manifest.json", "edition-001/inputs.json",
                            "edition-001/general/categorisation.csv", "edition-001/general/report.pdf",
                            "edition-001/restricted/categorisation.csv", "edition-001/restricted/report.pdf",
                            "edition-001/restricted/drafts/1-warning_notice.pdf"}
    manifest = json.loads(on_disk["edition-001/manifest.json"])
    assert manifest["edition"] == "edition-001" and manifest["la_code"] == LA and manifest["term"] == TERM
    assert len(manifest["files"]) == 6
    for entry in manifest["files"]:
        data = on_disk[f"edition-001/{entry['path']}"]
        assert entry["size"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert data == (staged / entry["path"]).read_bytes()  # byte-identical to what was staged

    current = json.loads(on_disk["current.json"])
    assert current["edition"] == "edition-001" and current["manifest"] == "edition-001/manifest.json"
    assert read_current(drive, LA, TERM) == current  # read back over SMB too


def test_unchanged_then_changed_makes_edition_002(drive, term_folder, tmp_path, monkeypatch):
    import smbclient

    first = publish_edition(make_staged(tmp_path / "a", "v1"), drive, LA, TERM)
    before = snapshot(term_folder)

    again = publish_edition(make_staged(tmp_path / "b", "v1"), drive, LA, TERM)  # new PDF bytes, same CSVs
    assert again.status == "unchanged" and again.edition == "edition-001"
    assert again.content_hash == first.content_hash
    assert snapshot(term_folder) == before

    replaced = []
    real_replace = smbclient.replace
    monkeypatch.setattr(smbclient, "replace", lambda s, d, **kw: (replaced.append(d), real_replace(s, d, **kw))[1])
    res = publish_edition(make_staged(tmp_path / "c", "v2"), drive, LA, TERM)
    assert res.status == "published" and res.edition == "edition-002" and res.edition_number == 2
    assert [d.rsplit("\\", 1)[-1] for d in replaced] == ["current.json"]  # one atomic overwrite on the server

    after = snapshot(term_folder)
    assert {k: v for k, v in after.items() if k.startswith("edition-001/")} == \
        {k: v for k, v in before.items() if k.startswith("edition-001/")}
    assert json.loads(after["current.json"])["edition"] == "edition-002"
    assert read_current(drive, LA, TERM)["edition"] == "edition-002"
    manifest = json.loads(after["edition-002/manifest.json"])
    assert manifest["previous_edition"] == "edition-001"
    for entry in manifest["files"]:
        assert entry["sha256"] == hashlib.sha256(after[f"edition-002/{entry['path']}"]).hexdigest()
    assert sorted(p.name for p in term_folder.iterdir()) == ["current.json", "edition-001", "edition-002"]


@pytest.mark.parametrize("fail_at", ["copy", "verify", "current"])
def test_failure_leaves_share_byte_identical(drive, term_folder, tmp_path, monkeypatch, fail_at):
    publish_edition(make_staged(tmp_path, "v1"), drive, LA, TERM)
    before = snapshot(term_folder)

    inject_failure(monkeypatch, fail_at)

    with pytest.raises(PublishError):
        publish_edition(make_staged(tmp_path, "v2"), drive, LA, TERM)
    assert snapshot(term_folder) == before
    assert sorted(p.name for p in term_folder.iterdir()) == ["current.json", "edition-001"]  # no .staging-/.tmp
    assert read_current(drive, LA, TERM)["edition"] == "edition-001"
