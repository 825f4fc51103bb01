"""Shared by the publish tests (local, memory and SMB drives): a staged edition, and faults injected mid-publish."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from school_improvement.publish import edition as publish

LA, TERM = "999", "2025-26-autumn"


def make_staged(root: Path, marker: str = "v1") -> Path:
    staged = root / f"staged-{marker}"
    for edition in ("restricted", "general"):
        (staged / edition).mkdir(parents=True)
        (staged / edition / "categorisation.csv").write_bytes(f"\ufeffurn,category\r\n1,{marker}\r\n".encode())
        (staged / edition / "report.pdf").write_bytes(b"%PDF-1.7 " + secrets.token_bytes(4096))  # differs every run
    (staged / "restricted" / "drafts").mkdir()
    (staged / "restricted" / "drafts" / "1-warning_notice.pdf").write_bytes(b"%PDF draft")
    (staged / "inputs.json").write_text(json.dumps({"run_date": "2025-11-10", "term": TERM}))
    return staged


def inject_failure(monkeypatch, fail_at: str) -> None:
    """Make the next publish fail at one step: copy, verify, rename or current (replacing current.json)."""
    if fail_at == "copy":  # the drive goes away on the third file, after part of it was written
        real, calls = publish.shutil.copyfileobj, []

        def flaky(fin, fout, *a):
            calls.append(1)
            if len(calls) == 3:
                fout.write(b"partial")
                raise OSError("network name no longer available")
            return real(fin, fout, *a)

        monkeypatch.setattr(publish.shutil, "copyfileobj", flaky)
    elif fail_at == "verify":  # a copy lands truncated
        monkeypatch.setattr(publish.shutil, "copyfileobj", lambda fin, fout, *a: fout.write(fin.read()[:-1]))
    elif fail_at == "rename":
        monkeypatch.setattr(publish, "_rename_dir", lambda s, d: (_ for _ in ()).throw(OSError("rename refused")))
    elif fail_at == "current":  # edition renamed into place, then replacing current.json fails: it must go again
        monkeypatch.setattr(publish, "_replace_file", lambda s, d: (_ for _ in ()).throw(OSError("replace refused")))
    else:
        raise ValueError(fail_at)
