"""Pay the heavy imports once per Celery worker, not once per task: the worker's Celery configuration.

Every Airflow task on a Celery worker runs in a process forked from the worker (the worker's pool process
forks the task supervisor, which forks the task). A module imported in the worker's main process before its
pool starts is therefore already in every task's memory, shared copy-on-write: Great Expectations (several
seconds of import per process), pandas, pyarrow, WeasyPrint, matplotlib and the domain package's stages are then
imported once per worker instead of once per task. Airflow's Celery provider does the same for its own modules
(`on_celery_import_modules`); this adds ours through the option Airflow provides for the worker's Celery
configuration:

    AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=worker_preload.CELERY_CONFIG

(the module is on the worker's path as a plugin: plugins/ is on PYTHONPATH). The configuration itself is
Airflow's default, unchanged. The scheduler imports this module too (it builds the same Celery app to send
work) but Celery sends `import_modules` only in a worker, so the scheduler stays light.

The `gc.freeze()` after the preload does reach the tasks: Airflow's Celery provider calls `gc.unfreeze()` in its
`worker_ready` handler, but that runs in the worker's main process after the pool has forked, and Celery does not
re-fork pool processes under Airflow's default configuration; each task logs its frozen-object count
(plugins/stage_runner.py: about 520,000 objects). What did make a task's stage dearer than the same stage in one
process (validate: 3.3 s and 333,000 page faults against 1.5 s and 16,000) was the depth of the call stack a task
inherits from Celery and the Task SDK: see plugins/fresh_stack.py.

Beyond the imports, `warm()` fills the caches every task would otherwise fill for itself (the rule sets, the
report's templates, WeasyPrint's fonts, matplotlib's first figure): measured in forks of a preloaded process running
a 34-school LA's stages, about 0.9 s of CPU less per LA (13.4 s to 12.5 s, three alternating pairs). No Great
Expectations context, no file handles, no database connections, no threads: nothing that would be unsafe to share
across a fork, and nothing of an LA. SI_WORKER_WARM=0 leaves the warm-up out (the benchmarks' other arm). The domain
package stays free of Airflow and Celery.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys

log = logging.getLogger(__name__)

# The modules every task of the termly chain would otherwise import for itself, heaviest first. The stages import
# their modules inside the stage (the domain package's house rule), so each is listed: the report's modules bring
# matplotlib (about 0.3 s of CPU per render task, three render tasks per LA), the others a few milliseconds each.
# A task process's own start-up (parsing the DAG file, the Task SDK) measured 0.08 s: not worth preloading.
PRELOAD = (
    "great_expectations",
    "pandas",
    "pyarrow.parquet",
    "weasyprint",
    "school_improvement.pipeline",
    "school_improvement.quality.suites",
    "school_improvement.editions.report",
    "school_improvement.editions.drafts",
    "school_improvement.evidence.assess",
    "school_improvement.decisions.categorise",
    "school_improvement.decisions.letters",
    "school_improvement.quality.feed_set",
    "school_improvement.quality.data_age",
    "school_improvement.ingest.sources",
    "school_improvement.publish.edition",
    "school_improvement.history",
    "school_improvement.rules",
    # Imported by a stage on first use, in every task that runs it (measured with sys.modules before and after each
    # stage in a fork of the preloaded process): pyarrow's dataset reader (every artefact read) and openpyxl (the
    # workbook, in two report parts: 180 modules). (The artefact paths' universal_pathlib: Airflow imports it.)
    "pyarrow.dataset",
    "school_improvement.editions.workbook",
    # ... and by every report part (its CSVs, tables and notes; 10 ms of CPU per part in a fork of the preloaded process)
    "school_improvement.quality.notes", "pandas.io.formats.csvs", "pandas.core.reshape.reshape",
    "pandas.core.methods.to_dict",
)


def preload() -> list[str]:
    """Import PRELOAD (skipping any that fail: the task then imports it itself and reports the real error)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # as the tasks run it: no analytics threads
    done = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
            done.append(name)
        except Exception:  # a broken install must fail the task that needs it, with its own traceback
            log.warning("worker preload: could not import %s; tasks will import it themselves", name, exc_info=True)
    return done


def warm() -> list[str]:
    """What every task would otherwise do once for itself before its stage does any work, done once per worker
    (in forks of a preloaded process, a 34-school LA's stages took 2.3 s of CPU more on their first calls than on
    their second, over the ten tasks of an LA). Each step fills a cache that is the same for every LA and keyed so that a
    change on disk is still seen by the task:

    - the rule sets: every task that reads one parses and checks all of them (rules.rule_set_for); the cache is
      keyed by the rule-set files' names, sizes and modification times, so an edited rule set is read again;
    - the report's Jinja templates, compiled (Jinja reloads a template whose file has changed);
    - the Jinja templates of Great Expectations' Data Docs, compiled into the bytecode cache validate's Data Docs
      share (school_improvement.quality.gx_speed; checked against each template's source when loaded);
    - WeasyPrint's first layout with the report's stylesheet (fontconfig's and Pango's font set, HarfBuzz's shaping
      caches) and matplotlib's first figure (its font cache): nothing of an LA, no files, no threads.

    Data of an LA is never read here, and nothing that holds a connection, a file handle or a thread is built, so
    sharing the result across the fork is safe. A step that fails is logged and skipped: the task then does it."""
    done = []
    for name, step in (("rule sets", _warm_rule_sets), ("templates", _warm_templates), ("fonts", _warm_fonts),
                       ("charts", _warm_charts), ("data docs templates", _warm_data_docs)):
        try:
            step()
            done.append(name)
        except Exception:  # the task will do it itself, and report any real error with its own traceback
            log.warning("worker warm-up: %s failed; tasks will do it themselves", name, exc_info=True)
    return done


def warm_airflow() -> list[str]:
    """What Airflow and Celery do once per process below the worker, done once in the worker before its pool forks
    (py-spy on a worker's pool and task processes during bench_national.py; figures are CPU, alternating arms):

    - the task process's plugins: the Task SDK's task runner asks for its listener manager when it starts
      (`airflow.sdk.listener.get_listener_manager`, cached per process), which loads the plugins folder: every
      file of plugins/ compiled from source and executed again (Airflow's plugin loader; a read-only plugins mount
      keeps no bytecode), 0.042-0.047 s of CPU in every task process (forks of a preloaded process that had imported
      the plugins' own imports, as a task has by then through the DAG file; three alternating pairs of five forks;
      0.21-0.24 s where those imports were still to do), nothing once loaded in the worker. In one LA's run
      (bench_national.py --las 201, three alternating pairs with SI_WORKER_AIRFLOW_WARM=0): the tasks' CPU before
      their stage 0.082-0.095 -> 0.059-0.062 s per task, their pool process's around each 0.08-0.10 -> 0.05 s;
    - the Celery result backend's SQLAlchemy mappers: each pool process's first stored result configured them, and
      Airflow's mapper hook then imported all of Airflow's models (about 1.2 s of CPU once per pool process);
    - the Task SDK client's TLS context (the CA bundle read, once per pool process);
    - las.yaml, read (plugins/la_config.py keeps the LAs by the file's content): every task process read it two or
      three times (the regional DAG file's regions(), run_config's la_by_code, publish's), with all of England's LAs
      in it about 40 ms of YAML and pydantic each time (forks of a warmed process, regions() and la_by_code twice,
      three alternating pairs of three forks: 125-133 ms against 9-11 ms with the cache filled only for YAML).

    - the modules every task process still imported for itself (py-spy over a worker's task processes in
      bench_national.py --las 3): TASK_MODULES, 29-33 ms of CPU per task process against 0.1 ms once imported
      here (forks of a warmed process, three alternating pairs of three).

    Nothing here opens a connection, a file handle that stays open, or a thread. A change: the plugin modules (the
    DAG files' stage_runner, termly_tasks, la_config...) are then the worker's, so a plugins/ file edited after the
    worker started is seen after a worker restart, as the preloaded domain package already was (before, each task
    read plugins/ afresh). Deploying code restarts the workers (docker compose up -d) anyway.
    SI_WORKER_AIRFLOW_WARM=0 leaves it out (the benchmarks' "before" arm)."""
    done = []
    for name, step in (("task plugins", _warm_task_plugins), ("result backend", _warm_result_backend),
                       ("api client", _warm_api_client), ("las file", _warm_las_file),
                       ("task modules", _warm_task_modules)):
        try:
            step()
            done.append(name)
        except Exception:  # each process does it itself, as before
            log.warning("worker warm-up: %s failed; each process will do it itself", name, exc_info=True)
    return done


# Imported by every task process of the termly chain after its fork (the @task decorators' module as the DAG file is
# parsed, the local DAG bundle, the SMTP notifier's module through plugins/notifiers.py, Asset metadata for outlets,
# the hook-lineage collector, the artefacts' local UPath): the Task SDK's and providers' own modules, nothing of an LA.
TASK_MODULES = (
    "airflow.sdk.definitions.decorators",
    "airflow.providers.smtp.notifications.smtp",
    "airflow.sdk.definitions.asset.metadata",
    "airflow.sdk.lineage",
    "airflow.dag_processing.bundles.local",
    "upath.implementations.local",
)


def _warm_task_modules() -> None:
    missing = []
    for name in TASK_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # a provider not installed: each task imports (or not) as before
            missing.append(name)
    if missing:
        log.info("worker warm-up: not imported %s", ", ".join(missing))


def _warm_task_plugins() -> None:
    from airflow.sdk.listener import get_listener_manager

    get_listener_manager()


def _warm_result_backend() -> None:
    from celery.backends.database import models  # noqa: F401  (the result table's mappers)
    from sqlalchemy.orm import configure_mappers

    configure_mappers()


def _warm_api_client() -> None:
    from airflow.sdk.api.client import API_SSL_CA_FILE_PATH, API_SSL_CERT_PATH, Client

    Client._get_ssl_context_cached(API_SSL_CA_FILE_PATH, API_SSL_CERT_PATH)


def _warm_las_file() -> None:
    """Parse las.yaml into the cache of every copy of plugins/la_config.py a task will call: Airflow's plugin loader
    executes each file of plugins/ again as a module of its own (replacing the one imported before), so a plugin
    that imported la_config before the loader reached la_config.py holds the earlier copy's functions."""
    import la_config  # noqa: F401  (the plugin loader's copy, if it has run)

    done = set()
    for module in list(sys.modules.values()):
        names = getattr(module, "__dict__", None) or {}  # never getattr: a module's __getattr__ may warn or import
        for name in ("load_las", "la_by_code", "regions"):
            space = getattr(names.get(name), "__globals__", None)
            if space is not None and "_READ" in space and id(space) not in done:
                done.add(id(space))
                space["load_las"]()


def _warm_rule_sets() -> None:
    from school_improvement.rules import all_rule_sets

    all_rule_sets()


def _warm_templates() -> None:
    from school_improvement.editions.render import _ENV

    for name in ("report.html.j2", "letter.html.j2"):
        _ENV.get_template(name)


def _warm_data_docs() -> None:
    from school_improvement.quality.gx_speed import compile_data_docs_templates

    compile_data_docs_templates()


def _warm_fonts() -> None:
    from school_improvement import TEMPLATES_DIR
    from school_improvement.editions.lean_ua import LeanHTML
    from school_improvement.editions.render import TemplateOnlyFetcher

    html = ('<html lang="en"><head><link rel="stylesheet" href="report.css"></head><body><h1>Warm-up</h1>'
            "<p>Text, <b>bold</b>, <i>italic</i> and 123.</p><table><tr><th>A</th><td>1</td></tr></table></body></html>")
    LeanHTML(string=html, base_url=TEMPLATES_DIR.as_uri() + "/", url_fetcher=TemplateOnlyFetcher()).write_pdf(
        pdf_variant="pdf/ua-1")


def _warm_charts() -> None:
    import io

    from school_improvement.editions import charts

    with charts.matplotlib.rc_context(charts._MPL_RC):
        fig, ax = charts.plt.subplots(figsize=(2, 1))
        ax.barh([0, 1], [1, 2], label="warm-up")
        ax.set_title("warm-up")
        ax.legend()
        fig.savefig(io.BytesIO(), format="svg")
        charts.plt.close(fig)


def __getattr__(name: str):
    """`CELERY_CONFIG`, built when Airflow's Celery app asks for it: Airflow loads every file of plugins/ in
    every process (api-server, dag-processor, tasks), and only a Celery process should import Celery."""
    if name != "CELERY_CONFIG":
        raise AttributeError(name)
    from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
    from celery.signals import import_modules

    import_modules.connect(_preload_before_the_pool_forks, weak=False)
    return dict(DEFAULT_CELERY_CONFIG)


def freeze_for_the_tasks() -> None:
    """As Airflow's own preload does: keep the imported objects out of the collector's reach, so a forked task does
    not copy the pages of every object by touching their reference counts during collection. They are counted once
    here, for each task's log line (plugins/stage_runner.frozen_by_worker): counting walks every frozen object, which
    each task did for itself (45 ms of CPU per task process, in forks of a warmed process, four alternating pairs)."""
    gc.freeze()
    os.environ["SI_WORKER_FROZEN_OBJECTS"] = str(gc.get_freeze_count())  # inherited by every process it forks
    if "school_improvement.collector" in sys.modules:  # its stages and report parts need not count the frozen objects
        sys.modules["school_improvement.collector"].OBJECTS_FROZEN_FOR_GOOD = True


def _preload_before_the_pool_forks(*args, **kwargs) -> None:
    from task_cpu import account_task_cpu
    from task_exit import watch_task_exits

    if watch_task_exits():  # every supervisor this worker forks frees its slot as soon as its task exits
        log.info("worker: task supervisors wait on their task's pidfd (plugins/task_exit.py)")
    account_task_cpu()  # each task's own CPU and its supervisor's, one line per task (plugins/task_cpu.py)
    airflow_too = os.environ.get("SI_WORKER_AIRFLOW_WARM", "1") != "0"  # "0": the benchmark's "before" arm
    preloaded = preload_before_forking(warm_airflow if airflow_too else None)
    if preloaded:
        log.info("worker preload: imported %s and warmed %s before forking the pool", ", ".join(preloaded[0]),
                 ", ".join(preloaded[1]) or "nothing")


def preload_before_forking(warm_more=None) -> tuple[list[str], list[str]] | None:
    """A process about to fork the processes that run tasks (a Celery worker's pool; the LocalExecutor's scheduler,
    plugins/preloaded_local_executor.py): import, warm (and `warm_more`, what only that process needs), then freeze.
    Returns what was imported and warmed, or None where SI_WORKER_PRELOAD=0 (the benchmark's "without" arm);
    SI_WORKER_WARM=0 leaves the warm-up out (its "before" arm)."""
    if os.environ.get("SI_WORKER_PRELOAD", "1") == "0":
        return None
    done = preload()
    warmed = warm() if os.environ.get("SI_WORKER_WARM", "1") != "0" else []
    if warm_more is not None:
        warmed += warm_more()
    freeze_for_the_tasks()
    return done, warmed
