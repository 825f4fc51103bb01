"""Run one pipeline stage inside an Airflow task: the run's settings, the history secret, error mapping.

A task's settings come from the LA its DAG is bound to (include/config/las.yaml), the run's declared Params
(`term`, `as_of`) and the run id. The history database URL is a secret: it is read here, inside the task, from
the `si_history` Connection or else the SI_HISTORY_URL environment variable, registered with Airflow's log masker,
and handed to the stage in memory only. It is never returned, logged or put in XCom. Which of the two a run uses
is decided once per run (`run_history_url`): every task of a run writes the same history database.
"""

from __future__ import annotations

import csv
import logging
import os
import sys
from pathlib import Path

from la_config import REPO, la_by_code

log = logging.getLogger(__name__)
HISTORY_CONN_ID = "si_history"
# The stages that read or write the history database (school_improvement.pipeline): only their tasks may look the
# Connection up (run_history_url). Each look-up is a request through the task's supervisor to the api-server (a 404
# where the deployment gives SI_HISTORY_URL, as docker-compose.yaml does); extract, validate and assemble_reports
# never use it.
HISTORY_STAGES = frozenset({"assess_evidence", "categorise", "flag_letters", "build_report_part", "build_reports",
                            "publish"})


class PerPageProgressLeftOut(logging.Filter):
    """Leaves out WeasyPrint's line per page laid out ("Step 5 - Creating layout - Page 12", and again "(up-to-date)"
    on each repagination pass), keeping its steps and repaginations. A task's every log line is a JSON message to its
    supervisor, which writes it to the task log: these were 5,379 of the 5,700 lines of three LAs' run (2,034 in one
    county's restricted edition), and England's would be about 150,000 lines nobody reads."""

    PREFIX = "Step 5 - Creating layout - Page"

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(self.PREFIX))


def quiet_per_page_progress() -> None:
    """Install PerPageProgressLeftOut on WeasyPrint's progress logger (once per process)."""
    progress = logging.getLogger("weasyprint.progress")
    if not any(isinstance(f, PerPageProgressLeftOut) for f in progress.filters):
        progress.addFilter(PerPageProgressLeftOut())


def work_dir() -> str:
    """The artefact store: each run's stage outputs live under <work_dir>/<la>/<term>/<run>/ (shared by all workers)."""
    return os.environ.get("SI_WORK_DIR") or str(Path(os.environ.get("AIRFLOW_HOME", REPO / ".airflow")) / "si-work")


def history_url() -> str:
    """The history database URL (a secret), or "" for the stage's default SQLite file under the work folder."""
    url = _connection_url()
    if url is None:  # no such Connection: the environment, else the default
        url = os.environ.get("SI_HISTORY_URL", "")
    if url:
        _mask(url)
    return url


def _connection_url() -> str | None:
    """The `si_history` Connection's URL, or None when it is not defined (a request to the api-server in a task)."""
    try:
        from airflow.sdk import Connection
        return Connection.get(HISTORY_CONN_ID).get_uri()
    except Exception:  # not defined (AirflowNotFoundException), or no Task SDK here: as before, the environment
        return None


# In the run folder: which of the two this run's history is ("connection" or "environment"), never the URL.
HISTORY_SOURCE = "history_source.json"


def run_history_url(run_dir) -> str:
    """history_url() for a task of the run in `run_dir`, with the Connection looked up once per run where it is not
    there: the run's first task that uses the history asks for `si_history` (the Connection takes precedence over
    SI_HISTORY_URL) and records which it found in the run folder. Where it found none, the run's later tasks read
    SI_HISTORY_URL without asking again: each request was a 404 through the task's supervisor to the api-server, on 7
    of an LA's 10 tasks. Where it found the Connection, each task reads it (the URL is a secret and is never stored).

    So a run writes one history database from its first history task to publish, even if the Connection is added
    part-way; the run's extract forgets the record (run_task_stage), so a run started again from extract asks anew.
    A Connection that the run used and that has since gone stops the task (retried) rather than switch databases."""
    from school_improvement import artefacts

    marker = artefacts.location(run_dir) / HISTORY_SOURCE
    try:
        source = artefacts.read_json(marker).get("source")
    except FileNotFoundError:
        source = None
    if source == "environment":
        url = os.environ.get("SI_HISTORY_URL", "")
    else:
        url = _connection_url()
        if url is None and source == "connection":
            raise RuntimeError(f"this run's history is the Airflow Connection {HISTORY_CONN_ID!r}, which is no longer "
                               "defined: define it again and clear this task, or start the run again from extract")
        if source is None:
            artefacts.write_json(marker, {"source": "environment" if url is None else "connection",
                                          "connection": HISTORY_CONN_ID})
        if url is None:
            url = os.environ.get("SI_HISTORY_URL", "")
    if url:
        _mask(url)
    return url


def forget_history_source(run_dir) -> None:
    """Drop the run's record of its history source: the chain starting again from extract decides it anew."""
    from school_improvement import artefacts

    marker = artefacts.location(run_dir) / HISTORY_SOURCE
    if marker.exists():
        marker.unlink()


def _mask(url: str) -> None:
    """Tell Airflow's secrets masker about the URL and its password, so neither can reach a task log."""
    try:
        from airflow.sdk.log import mask_secret
        from sqlalchemy.engine import make_url

        mask_secret(url)
        password = make_url(url).password
        if password:
            mask_secret(str(password))
    except Exception:  # masking is a second line of defence: the URL is never logged by our code anyway
        log.debug("could not register the history URL with the secrets masker")


def run_config(params: dict, context: dict, la_code: str | None = None) -> dict:
    """The run's settings (no secrets): the LA is the DAG's own, never a Param a run can change.

    The term comes from the `term` Param, else from the data interval (logical_date may be None on manual runs).
    """
    import pendulum
    from school_improvement.pipeline import RunConfig
    from school_improvement.terms import Term, term_for_date

    la = la_by_code(la_code if la_code is not None else params["la_code"])
    term = (params.get("term") or "").strip()
    if not term:
        when = context.get("data_interval_start") or context.get("logical_date")
        if when is None:
            dr = context.get("dag_run")
            when = getattr(dr, "run_after", None)
        # Data intervals are UTC: 1 September 00:00 in London is still 31 August in UTC.
        term = str(term_for_date(pendulum.instance(when).in_timezone("Europe/London").date()))
    Term.parse(term)  # fail fast on a malformed term
    dr = context.get("dag_run")
    run_id = getattr(dr, "run_id", None) or context.get("run_id") or "manual"
    cfg = RunConfig(la_code=la.la_code, term=term, landing=la.landing, work_dir=work_dir(), run_id=run_id,
                    la_name=la.la_name, as_of=(params.get("as_of") or "").strip())
    return cfg.to_dict()


def run_stage(stage: str, cfg: dict, **kwargs):
    """Run one pipeline stage. Data errors fail at once without retries; anything else may be retried.

    Publishing's only data error is a conflict with the history (another run of the term overlapped); whatever
    else stops it (an unreachable or unmounted drive, a lock held by another run) is worth a retry.
    """
    from airflow.sdk.exceptions import AirflowFailException
    from school_improvement import pipeline
    from school_improvement.errors import FeedError, RulesError, ValidationFailed
    from school_improvement.publish.edition import PublishConflict

    uses_history = stage in HISTORY_STAGES
    url = run_history_url(pipeline.RunConfig(**cfg).run_dir) if uses_history else ""
    config = pipeline.RunConfig(**{**cfg, "history_url": url})
    # csv.Error (a cell over the field limit, a NUL byte) is the file's fault as much as a FeedError: retried, it
    # would fail three times and show the operator a traceback instead of the file to fix.
    data_errors = (FeedError, ValidationFailed, RulesError, FileNotFoundError, ValueError, csv.Error) \
        if stage != "publish" else (PublishConflict,)
    stage_fn = getattr(pipeline, stage)
    try:
        return stage_fn(config, **kwargs)
    except data_errors as exc:
        # Fixing these needs a person: retrying would only repeat the same message.
        raise AirflowFailException(f"{stage} failed for LA {config.la_code} term {config.term}:\n{exc}") from exc


def frozen_by_worker() -> str:
    """How many objects the Celery worker froze before forking this task (plugins/worker_preload.py counts them once,
    in the worker), for the task's log line; "none" outside a worker. Not counted here: `gc.get_freeze_count()` walks
    every frozen object, about half a million in a worker's fork, 45 ms of CPU in every task process, and under
    Celery it was half of a task's CPU outside its stage (py-spy over a worker in bench_national.py)."""
    return os.environ.get(FROZEN_COUNT_VARIABLE) or "none"


FROZEN_COUNT_VARIABLE = "SI_WORKER_FROZEN_OBJECTS"


def skip_the_exit_collections() -> None:
    """Freeze every object when this process exits, so CPython's finalization does not walk them all.

    Why: `dag.test()` and `airflow dags test` (make run's run-dag, the tests of the whole DAG) run every task in one
    process, which then exits through CPython's finalization: its garbage collections walk every object Airflow and
    the stages left behind, about a million after a demo term. py-spy over that exit: nearly all of it in
    gc_collect_main, 6.1 s of CPU of a dag.test() whose stages took 50 s (40-school demo), 6.2 s after the 250-school
    term; the same stages in a plain Python process leave far fewer objects. Frozen objects are outside the
    collector's generations, so those walks find nothing to do; reference counting still frees what module teardown
    releases, atexit handlers (logging's flush, weakref.finalize's callbacks) run as before, and the memory of any
    cycle left goes back with the process. A Celery task process leaves by os._exit after its atexit handlers: the
    freeze there is one O(1) call. Registered once per process (atexit keeps one entry for gc.freeze)."""
    import atexit
    import gc

    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


def run_task_stage(stage: str, la_code: str, **kwargs) -> dict:
    """What a DAG task does: settings from the task's context, the stage, and a small result for XCom.

    The result holds paths and counts only: the LA, the term, the run folder and the stage's own counts.
    """
    import resource

    from airflow.sdk import get_current_context

    before = resource.getrusage(resource.RUSAGE_SELF)  # the task process's CPU so far: its start-up
    skip_the_exit_collections()
    preloaded = "great_expectations" in sys.modules  # the Celery worker's preload reached this task
    frozen = frozen_by_worker()
    ctx = get_current_context()
    cfg = run_config(ctx["params"], ctx, la_code)
    quiet_per_page_progress()
    from school_improvement.pipeline import RunConfig

    if stage == "extract":  # a durable copy of the raw feeds, per LA/term/run
        kwargs.setdefault("archive_dir", f"{work_dir()}/archive")
        forget_history_source(RunConfig(**cfg).run_dir)  # the run (re)starts: its history source is decided anew
    if os.environ.get("SI_FRESH_STACK", "1") == "0":  # the benchmark's "before" arm
        out = run_stage(stage, cfg, **kwargs) or {}
    else:  # deep under Celery's and the Task SDK's frames: see plugins/fresh_stack.py
        from fresh_stack import call_on_fresh_stack

        out = call_on_fresh_stack(run_stage, stage, cfg, **kwargs) or {}
    after = resource.getrusage(resource.RUSAGE_SELF)
    # What the task costs beyond its stage (parsing the DAG file, imports, the Task SDK), for the benchmarks.
    log.info("stage %s: %.2f s CPU in this task process before the stage, %.2f s in it (%.2f s system, %d page "
             "faults; preloaded: %s; frozen objects: %s)", stage, before.ru_utime + before.ru_stime,
             after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, after.ru_stime - before.ru_stime,
             after.ru_minflt - before.ru_minflt, preloaded, frozen)
    return {"la_code": cfg["la_code"], "term": cfg["term"], "run_dir": str(RunConfig(**cfg).run_dir), **out}


def run_policy_what_if(params: dict, las: list[dict]) -> dict:
    """The policy what-if task: one term of one configured LA under two rule sets; paths and counts for XCom."""
    from school_improvement.decisions import what_if  # heavy imports inside the task

    la = next((x for x in las if x["la_code"] == params["la_code"]), None)
    if la is None:
        raise ValueError(f"LA {params['la_code']} is not in include/config/las.yaml: no landing folder is known for it")
    return what_if.run_what_if(params["la_code"], params["term"], la["landing"], params["rules_a"], params["rules_b"],
                               f"{work_dir()}/what-if", history_url())
