"""plugins/in_process_api.py: dag.test()'s in-process execution API built for the one version its client speaks.

The app built for the newest version alone must serve that version exactly as Airflow's own app (every version)
does: the same OpenAPI document (every route, parameter and schema). Airflow's own app serves older versions too,
which ours does not: the comparison can tell the two builds apart.
"""

from __future__ import annotations

import pytest

# FastAPI's own module imports starlette's test client, which warns about httpx: not this project's to change
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient` is deprecated")


@pytest.fixture(scope="module")
def airflow_api():
    pytest.importorskip("airflow.sdk.execution_time.supervisor")
    import importlib.util
    from pathlib import Path

    # As in dag.test(): Airflow's plugin loader runs the file as a module of its own first (loading every plugin
    # would cost a second here), then an `import` makes a second copy
    path = Path(__file__).resolve().parents[1] / "plugins" / "in_process_api.py"
    spec = importlib.util.spec_from_file_location("si_plugin_loaders_copy_of_in_process_api", path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    import in_process_api

    if not in_process_api.INSTALLED:
        pytest.skip(f"not installed here (Airflow other than {in_process_api.FOR_AIRFLOW}, or switched off)")
    return in_process_api


def _openapi(api, version: str) -> tuple[int, dict]:
    import httpx

    client = httpx.Client(transport=api.transport, base_url="http://in-process.invalid/")
    r = client.get("openapi.json", params={"version": version})
    return r.status_code, (r.json() if r.status_code == 200 else {})


@pytest.mark.slow  # Airflow's own app: Cadwyn generates every API version (6-7 s of CPU)
def test_the_newest_version_is_served_as_airflows_own_app_serves_it_and_no_other(airflow_api):
    from airflow.api_fastapi.execution_api.app import InProcessExecutionAPI
    from airflow.api_fastapi.execution_api.versions import bundle
    from airflow.sdk.api.datamodels._generated import API_VERSION

    own = InProcessExecutionAPI()  # Airflow's own build, every version
    ours = airflow_api.in_process_api_server.__wrapped__()  # a new one, not the process's cached app
    status, own_doc = _openapi(own, API_VERSION)
    assert status == 200 and own_doc["info"]["version"] == API_VERSION
    assert own_doc["paths"], own_doc
    assert _openapi(ours, API_VERSION) == (200, own_doc)

    older = bundle.versions[1].value  # the version before the newest: Airflow's own app still serves it
    status, older_doc = _openapi(own, older)
    assert status == 200 and older_doc != own_doc
    assert _openapi(ours, older)[1] != older_doc


def test_the_supervisor_uses_it_and_airflow_own_stays_reachable(airflow_api):
    from airflow.sdk.execution_time import supervisor

    installed = supervisor.in_process_api_server  # this module's, or the plugin loader's copy of it
    assert installed.newest_version_only is True
    assert installed.airflow_function.__module__ == "airflow.sdk.execution_time.supervisor"
    assert airflow_api.in_process_api_server.airflow_function is installed.airflow_function


def test_nothing_is_changed_on_another_airflow_or_when_switched_off(airflow_api, monkeypatch):
    import airflow
    from airflow.sdk.execution_time import supervisor

    airflow_function = supervisor.in_process_api_server.airflow_function
    monkeypatch.setattr(supervisor, "in_process_api_server", airflow_function)  # as before the plugin loaded
    monkeypatch.setenv("SI_IN_PROCESS_API_ALL_VERSIONS", "1")
    assert airflow_api._install() is False and supervisor.in_process_api_server is airflow_function
    monkeypatch.delenv("SI_IN_PROCESS_API_ALL_VERSIONS")
    monkeypatch.setattr(airflow, "__version__", "3.4.0")
    assert airflow_api._install() is False and supervisor.in_process_api_server is airflow_function
    monkeypatch.setattr(airflow, "__version__", airflow_api.FOR_AIRFLOW)
    assert airflow_api._install() is True and supervisor.in_process_api_server is airflow_api.in_process_api_server
    assert airflow_api.in_process_api_server.airflow_function is airflow_function
