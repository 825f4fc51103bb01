"""plugins/la_config.py parses las.yaml once per content of the file, not at every call (each task process called it
two or three times: the regional DAG file's regions(), run_config's la_by_code, publish's)."""

from __future__ import annotations

import os

import pytest
import yaml


def _write(path, codes, landing="/srv/landing"):
    path.write_text(yaml.safe_dump({"las": [{"la_code": c, "landing": landing, "shared_drive": "/srv/drive",
                                             "region": "bench", "schools": 10} for c in codes]}))


def test_the_file_is_parsed_once_and_an_edit_is_read_even_with_the_same_size_and_time(tmp_path, monkeypatch):
    import la_config

    parsed = []
    real_load = yaml.load
    monkeypatch.setattr(la_config.yaml, "load", lambda *a, **k: parsed.append(1) or real_load(*a, **k))
    monkeypatch.setattr(la_config, "_READ", {})
    path = tmp_path / "las.yaml"
    _write(path, ["201", "202"])
    first = la_config.load_las(path)
    assert [la.la_code for la in first] == ["201", "202"] and len(parsed) == 1
    assert la_config.regions(path) == {"bench": ["201", "202"]}
    assert la_config.la_by_code("202", path).la_code == "202"
    assert len(parsed) == 1  # the same content: not parsed again

    stat = path.stat()
    _write(path, ["201", "203"])  # the same size, and its time set back: the content still decides
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert [la.la_code for la in la_config.load_las(path)] == ["201", "203"] and len(parsed) == 2


def test_the_environment_is_read_at_every_call_and_the_cache_cannot_be_changed_by_a_caller(tmp_path, monkeypatch):
    import la_config

    path = tmp_path / "las.yaml"
    _write(path, ["201"], landing="${SI_TEST_LANDING}")
    monkeypatch.setenv("SI_TEST_LANDING", "/srv/one")
    assert la_config.load_las(path)[0].landing == "/srv/one"
    monkeypatch.setenv("SI_TEST_LANDING", "/srv/two")
    assert la_config.load_las(path)[0].landing == "/srv/two"

    las = la_config.load_las(path)
    las.append(las[0].model_copy(update={"la_code": "202"}))
    assert [la.la_code for la in la_config.load_las(path)] == ["201"]


def test_a_refused_entry_is_refused_at_every_call_and_never_kept(tmp_path):
    import pytest

    import la_config

    path = tmp_path / "las.yaml"
    path.write_text(yaml.safe_dump({"las": [{"la_code": "20x", "landing": "/srv/l", "shared_drive": "/srv/d"}]}))
    for _ in range(2):
        with pytest.raises(ValueError, match="LA entry 1"):
            la_config.load_las(path)


@pytest.mark.slow  # the worker's warm-up run, importing the stages' modules (over test-fast's CPU budget)
def test_the_worker_warm_up_fills_every_copy_of_the_module_a_task_will_call(tmp_path, monkeypatch):
    """Airflow's plugin loader executes plugins/la_config.py again as a module of its own; a plugin imported before
    it (stage_runner) keeps the first copy's functions. The warm-up fills both."""
    import importlib.machinery
    import importlib.util
    import sys

    import la_config
    import worker_preload

    path = tmp_path / "las.yaml"
    _write(path, ["201", "202"])
    monkeypatch.setenv("SI_LAS_FILE", str(path))
    first = la_config
    monkeypatch.setattr(first, "_READ", {})
    loader = importlib.machinery.SourceFileLoader("la_config", first.__file__)
    second = importlib.util.module_from_spec(importlib.util.spec_from_loader("la_config", loader))
    loader.exec_module(second)
    monkeypatch.setitem(sys.modules, "la_config", second)
    holder = type(sys)("si_test_holder_of_the_first_copy")
    holder.la_by_code = first.la_by_code
    monkeypatch.setitem(sys.modules, holder.__name__, holder)

    worker_preload._warm_las_file()
    assert len(first._READ) == 1 and len(second._READ) == 1
