"""Publishing editions to the shared drive: layout, manifest, idempotence and atomicity."""

from __future__ import annotations

import hashlib
import json
import secrets

import pytest
from upath import UPath

from school_improvement.publish import edition as publish
from school_improvement.publish.edition import PublishError, publish_edition, read_current

from publish_helpers import LA, TERM, inject_failure, make_staged


def snapshot(term_dir) -> dict[str, bytes]:
    """Every file under term_dir with its bytes, for before/after comparison."""
    out = {}
    stack = [term_dir]
    while stack:
        d = stack.pop()
        for p in d.iterdir():
            if p.is_dir():
                stack.append(p)
            else:
                out[p.as_posix()[len(term_dir.as_posix()):]] = p.read_bytes()
    return out


@pytest.fixture(params=["local-path", "file-upath", "memory-upath"])
def drive(request, tmp_path):
    if request.param == "local-path":
        publish.mark_as_share(tmp_path / "shared")
        yield tmp_path / "shared"
        return
    if request.param == "file-upath":
        publish.mark_as_share(UPath((tmp_path / "shared").as_uri()))
        yield UPath((tmp_path / "shared").as_uri())
        return
    root = UPath(f"memory://shared-{secrets.token_hex(4)}")
    publish.mark_as_share(root)
    yield root
    root.fs.rm(root.path, recursive=True) if root.exists() else None


def test_layout_manifest_and_current(drive, tmp_path):
    res = publish_edition(make_staged(tmp_path), drive, LA, TERM)
    assert res.status == "published" and res.edition == "edition-001"
    term_dir = drive / LA / "2025-26" / "autumn"
    ed = term_dir / "edition-001"
    names = {n for n in snapshot(term_dir)}
    assert names == {"/current.json", "/edition-001/manifest.json", "/edition-001/inputs.json",
                     "/edition-001/general/categorisation.csv", "/edition-001/general/report.pdf",
                     "/edition-001/restricted/categorisation.csv", "/edition-001/restricted/report.pdf",
                     "/edition-001/restricted/drafts/1-warning_notice.pdf"}
    manifest = json.loads((ed / "manifest.json").read_text())
    assert manifest["edition"] == "edition-001" and manifest["la_code"] == LA and manifest["term"] == TERM
    assert manifest["published_at"] == "2025-11-10"
    for entry in manifest["files"]:
        data = (ed / entry["path"]).read_bytes()
        assert entry["size"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert len(manifest["files"]) == 6  # every staged file, manifest itself excluded
    current = read_current(drive, LA, TERM)
    assert current["edition"] == "edition-001" and current["manifest"] == "edition-001/manifest.json"


def test_manifest_written_last(drive, tmp_path, monkeypatch):
    order = []
    real = publish._write_json

    def spy(p, data):
        order.append(p.name)
        return real(p, data)

    real_copy = publish.shutil.copyfileobj

    def copy_spy(fin, fout, *a):
        order.append("copy")
        return real_copy(fin, fout, *a)

    monkeypatch.setattr(publish, "_write_json", spy)
    monkeypatch.setattr(publish.shutil, "copyfileobj", copy_spy)
    publish_edition(make_staged(tmp_path), drive, LA, TERM)
    assert order[-2] == "manifest.json" and "copy" not in order[order.index("manifest.json"):]
    assert order[-1].startswith(".current.json.")


def test_unchanged_inputs_publish_nothing(drive, tmp_path):
    first = publish_edition(make_staged(tmp_path / "a"), drive, LA, TERM)
    term_dir = drive / LA / "2025-26" / "autumn"
    before = snapshot(term_dir)
    again = publish_edition(make_staged(tmp_path / "b"), drive, LA, TERM)  # new PDF bytes, same CSVs and inputs
    assert again.status == "unchanged" and again.edition == "edition-001"
    assert again.message == "unchanged, edition-001 stays current"
    assert again.content_hash == first.content_hash
    assert snapshot(term_dir) == before


def test_changed_inputs_make_edition_002(drive, tmp_path):
    publish_edition(make_staged(tmp_path, "v1"), drive, LA, TERM)
    term_dir = drive / LA / "2025-26" / "autumn"
    first = {k: v for k, v in snapshot(term_dir).items() if k.startswith("/edition-001/")}
    res = publish_edition(make_staged(tmp_path, "v2"), drive, LA, TERM)
    assert res.status == "published" and res.edition == "edition-002" and res.edition_number == 2
    assert read_current(drive, LA, TERM)["edition"] == "edition-002"
    after = snapshot(term_dir)
    assert {k: v for k, v in after.items() if k.startswith("/edition-001/")} == first  # kept untouched
    assert json.loads(after["/edition-002/manifest.json"])["previous_edition"] == "edition-001"
    assert not [k for k in after if ".staging-" in k or ".tmp" in k]


@pytest.mark.parametrize("fail_at", ["copy", "verify", "rename", "current"])
def test_failure_leaves_previous_state_byte_identical(drive, tmp_path, monkeypatch, fail_at):
    publish_edition(make_staged(tmp_path, "v1"), drive, LA, TERM)
    term_dir = drive / LA / "2025-26" / "autumn"
    before = snapshot(term_dir)

    inject_failure(monkeypatch, fail_at)

    with pytest.raises(PublishError):
        publish_edition(make_staged(tmp_path, "v2"), drive, LA, TERM)
    assert snapshot(term_dir) == before
    assert read_current(drive, LA, TERM)["edition"] == "edition-001"


def test_read_current_none_before_first_publish(drive):
    assert read_current(drive, LA, TERM) is None


def test_rejects_unsafe_la_code(tmp_path):
    with pytest.raises(ValueError):
        publish_edition(make_staged(tmp_path), tmp_path / "shared", "../999", TERM)


def test_an_edition_that_only_new_code_changes_is_published_anew(drive, tmp_path):
    """The PDF is left out of the content hash (it carries its run date), so inputs.json names the software that made
    the edition: a re-run whose CSVs are the same but whose code changed (a profile's wording, a chart) is a new
    edition, not "unchanged" with the old PDF kept."""
    from school_improvement.pipeline import software_fingerprint

    def staged(name, software):
        s = make_staged(tmp_path / name)
        (s / "inputs.json").write_text(json.dumps({"run_date": "2025-11-10", "term": TERM, "software": software}))
        return s

    first = publish_edition(staged("a", software_fingerprint()), drive, LA, TERM)
    same = publish_edition(staged("b", software_fingerprint()), drive, LA, TERM)
    assert same.status == "unchanged" and same.content_hash == first.content_hash
    newer = publish_edition(staged("c", "0" * 64), drive, LA, TERM)
    assert newer.status == "published" and newer.edition == "edition-002"


def test_the_software_fingerprint_follows_the_code_and_templates(tmp_path):
    from school_improvement.pipeline import software_fingerprint

    code, templates = tmp_path / "code", tmp_path / "templates"
    (code / "sub" / "__pycache__").mkdir(parents=True)
    templates.mkdir()
    (code / "sub" / "stage.py").write_text("X = 1\n")
    (templates / "report.html.j2").write_text("<p>{{ x }}</p>")
    folders = ((code, "*.py"), (templates, "*"))
    before = software_fingerprint(folders)
    (code / "sub" / "__pycache__" / "stage.cpython-311.py").write_text("compiled")  # not the source
    assert software_fingerprint(folders) == before
    (templates / "report.html.j2").write_text("<p>{{ x }} </p>")
    assert software_fingerprint(folders) != before
    assert len(software_fingerprint()) == 64  # the installed package's own


def test_assemble_writes_the_software_into_inputs_json(tmp_path):
    from school_improvement import pipeline

    cfg = pipeline.RunConfig(la_code=LA, term=TERM, landing=str(tmp_path), work_dir=str(tmp_path / "w"),
                             history_url=f"sqlite:///{tmp_path / 'h.sqlite'}", run_id="sw")
    for part in pipeline.REPORT_PARTS:
        (cfg.run_dir / "parts" / part).mkdir(parents=True)
        (cfg.run_dir / "parts" / part / "part.json").write_text(json.dumps({"part": part, "rule_set": "r", "files": 0}))
    (cfg.run_dir / "raw").mkdir()
    (cfg.run_dir / "raw" / "raw_manifest.json").write_text("[]")
    staged = pipeline.assemble_reports(cfg)["staged"]
    written = json.loads((tmp_path / staged / "inputs.json").read_text())
    assert written["software"] == pipeline.software_fingerprint()
