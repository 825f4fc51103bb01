"""Airflow's LocalExecutor, with the heavy imports paid once per scheduler instead of once per task.

The LocalExecutor forks its worker processes from the scheduler when it starts, and each worker forks a process
per task (the Task SDK's supervisor): a module imported in the scheduler before the workers are forked is already
in every task's memory, shared copy-on-write. Without this every task process imported pandas and pyarrow, the
validate task Great Expectations, and the report tasks WeasyPrint and matplotlib, for itself. The real-scheduler
test's module (a broken run, its re-run and two more runs of the 40-school demo) took 3 min 48 s and 3 min 41 s of
user CPU with SI_WORKER_PRELOAD=0, and 2 min 43 s and 2 min 38 s with this (one pair in a row, on a slow 2-core
machine). This is the Celery workers' preload (plugins/worker_preload.py: the same modules, the same warm-up and the
same freeze), for the deployments that run the LocalExecutor: `make airflow` (`airflow standalone`) and the
real-scheduler tests.

    AIRFLOW__CORE__EXECUTOR=preloaded_local_executor.LocalExecutor

(plugins/ is on the scheduler's PYTHONPATH). Only the scheduler starts an executor, so the api-server and the
dag-processor, which read the setting, import this module and nothing heavy. With the spawn start method (not
Linux's default) workers do not inherit the scheduler's memory, so nothing is preloaded. SI_WORKER_PRELOAD=0 and
SI_WORKER_WARM=0 leave the preload and the warm-up out, as they do on Celery workers.
"""

from __future__ import annotations

import logging

from airflow.executors import local_executor

log = logging.getLogger(__name__)


class LocalExecutor(local_executor.LocalExecutor):
    """Airflow's LocalExecutor, its workers forked from a scheduler that has imported the stages' modules.

    Named as Airflow's own on purpose: Airflow tells a local executor from a distributed one by the class's name
    (SimpleAuthManager warns that a deployment "looks like production" under any other name), and this one is local."""

    def start(self) -> None:
        if self.is_mp_using_fork:
            import worker_preload

            # Frozen in the workers and the tasks they fork (LocalExecutor unfreezes only the scheduler after forking)
            preloaded = worker_preload.preload_before_forking()
            if preloaded:
                log.info("LocalExecutor preload: imported %s and warmed %s before forking the workers",
                         ", ".join(preloaded[0]), ", ".join(preloaded[1]) or "nothing")
        super().start()
