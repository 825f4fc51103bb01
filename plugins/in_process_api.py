"""`dag.test()` and `airflow dags test` (run-dag, `make run`): the in-process Task Execution API built for the one
API version its only client speaks, the same answers for less CPU.

A task run in-process talks to an execution API app built in the same process (Airflow's InProcessExecutionAPI,
made once per process by the supervisor's `in_process_api_server`). Airflow builds that app with every version of
the API it has published (Cadwyn: nine, 2025-04-11 to 2026-06-30), so that a worker of an older Airflow can still
talk to a newer api-server. Cadwyn generates the routes and schemas of each version on the app's first request: 6-7 s
of CPU in each process (py-spy on `airflow dags test` of the fetch DAG: 42% of its samples). In-process there is one
client, the Task SDK of the same installed Airflow, which sends the newest version
(`airflow.sdk.api.datamodels._generated.API_VERSION`); no other process can reach the app.

So here the app is built with Cadwyn's head and that one version only, and without the routes Airflow marks as
existing only in older versions (Cadwyn deletes them from head and from the newest version, and would otherwise
insist that an older version restores them). The newest version's routes and schemas are Cadwyn's head in both
builds: tests/test_in_process_api.py compares the two apps' OpenAPI documents for that version (every route,
parameter and schema). Measured: the app and its first request 2.8-3.3 s of CPU against 8.9-9.8; the 40-school demo
term's dag.test() 33.0-35.5 s against 39.6-41.3 (three alternating pairs); a fetch DAG's `dags test` 9.0 against 17.0.

Only the supervisor's in-process app changes. The api-server's execution API, which workers of any version reach,
is Airflow's own. Only on the Airflow version this was read against (FOR_AIRFLOW); SI_IN_PROCESS_API_ALL_VERSIONS=1
leaves Airflow's own (to compare, or if in doubt). Installed when Airflow loads plugins, which `dags test` and
dag.test() do before the run's first task: the log then says "In-process execution API: built for API version ...
only" (tests/test_fetch_sources_dag.py reads it in a `dags test`).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import os
import threading

from airflow.plugins_manager import AirflowPlugin

FOR_AIRFLOW = "3.3.2"
_LOCK = threading.Lock()
log = logging.getLogger(__name__)


@contextlib.contextmanager
def newest_version_only():
    """While an execution API app is made: Airflow's version bundle and router, as create_task_execution_api_app
    reads them at call time, replaced by the newest version alone and the routes that version serves."""
    from airflow.api_fastapi.execution_api import routes, versions
    from airflow.sdk.api.datamodels._generated import API_VERSION
    from cadwyn import HeadVersion, Version, VersionBundle
    from cadwyn.route_generation import _DELETED_ROUTE_TAG
    from fastapi.routing import APIRoute

    full_bundle, full_router = versions.bundle, routes.execution_api_router
    if full_bundle.versions[0].value != API_VERSION:  # the SDK speaks another version: build Airflow's own
        yield False
        return
    router = copy.copy(full_router)  # the APIRouter's settings; Cadwyn copies the routes again as it generates
    router.routes = [r for r in full_router.routes
                     if not (isinstance(r, APIRoute) and _DELETED_ROUTE_TAG in r.tags)]
    with _LOCK:
        versions.bundle = VersionBundle(HeadVersion(), Version(API_VERSION))
        routes.execution_api_router = router
        try:
            yield True
        finally:
            versions.bundle, routes.execution_api_router = full_bundle, full_router


@functools.lru_cache(maxsize=1)
def in_process_api_server():
    """The supervisor's in_process_api_server, its app built for the newest version (once per process, as Airflow's)."""
    from airflow.api_fastapi.execution_api.app import InProcessExecutionAPI

    api = InProcessExecutionAPI()
    with newest_version_only() as newest:
        api.app  # made now, while the bundle is the newest version's; Cadwyn keeps the bundle and router it was given
    if newest:
        from airflow.sdk.api.datamodels._generated import API_VERSION

        log.info("In-process execution API: built for API version %s only (plugins/in_process_api.py)", API_VERSION)
    return api


def _install() -> bool:
    import airflow
    from airflow.sdk.execution_time import supervisor

    if os.environ.get("SI_IN_PROCESS_API_ALL_VERSIONS") == "1" or airflow.__version__ != FOR_AIRFLOW:
        return False
    installed = supervisor.in_process_api_server
    in_process_api_server.airflow_function = getattr(installed, "airflow_function", installed)  # Airflow's own
    if getattr(installed, "newest_version_only", False):
        return True  # installed already: Airflow's plugin loader and `import in_process_api` make two modules
    in_process_api_server.newest_version_only = True
    supervisor.in_process_api_server = in_process_api_server
    return True


INSTALLED = _install()


class InProcessApiPlugin(AirflowPlugin):
    name = "si_in_process_api"
