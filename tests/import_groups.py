"""xdist's file scheduling, with the modules that need one heavy library kept in one process (`-p import_groups`).

`make test-fast` runs two processes. Great Expectations costs 3-7 s of CPU to import and Airflow 3-4 s, and only a
few of the loop's modules need either. With `--dist loadfile` alone they land in both processes, and each pays the
import. Here each library's modules are one work unit, so one process pays it once.

The lists were found by making the import fail (a meta-path finder raising ModuleNotFoundError, installed after
collection) and reading which modules' tests then failed, or were skipped by an importorskip. A module missing from
a list costs the other process the import again; nothing else changes: each test still runs once, and a module's
tests stay together.
"""

from __future__ import annotations

SHARE_A_PROCESS = {
    "great_expectations": ("test_quality.py", "test_feed_set.py", "test_gx_ids.py", "test_la_files.py",
                           "test_own_levels.py"),
    "airflow": ("test_alerts.py", "test_compose.py", "test_dag_integrity.py", "test_dag_secrets_and_paths.py",
                "test_in_process_api.py", "test_policy_what_if_dag.py", "test_publish_faults.py",
                "test_scheduler_fastpath.py", "test_scheduler_fastpath_pass.py", "test_stage_data_errors.py",
                "test_stage_exit.py", "test_task_exit.py", "test_terms.py"),
}
GROUP_OF = {module: library for library, modules in SHARE_A_PROCESS.items() for module in modules}


def scope_of(nodeid: str) -> str:
    """The work unit of a test: its library's group, else its file (as `--dist loadfile`)."""
    path = nodeid.split("::", 1)[0]
    group = GROUP_OF.get(path.rsplit("/", 1)[-1])
    return f"imports {group}" if group else path


def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadfile":
        return None  # only --dist loadfile is refined; any other mode is xdist's own
    from xdist.scheduler import LoadFileScheduling

    class ImportGroupScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return ImportGroupScheduling(config, log)
