# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
REPO := $(CURDIR)

# Overrides: make run LA=873 TERM=2025-26-autumn LANDING=/path/to/feeds SHARED_DRIVE=/path/to/out
LA ?= 999
# TERM is also the shell's terminal type: only a TERM given on the make command line names a school term.
RUN_TERM := $(if $(filter command line,$(origin TERM)),$(TERM),2025-26-spring)
DEMO_TERMS ?= 2025-26-autumn 2025-26-spring
LANDING ?=
SHARED_DRIVE ?= $(REPO)/shared-drive
SI_REPORT_POOL_GIB ?= 8

export AIRFLOW_HOME := $(REPO)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(REPO)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(REPO)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL ?= http://localhost:8080/execution/
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?= sqlite:///$(REPO)/.airflow/airflow.db
export SI_WORK_DIR ?= $(REPO)/.work
export PYTHONPATH := $(REPO)/include:$(REPO)/plugins
export GX_ANALYTICS_ENABLED := False
export SI_SHARED_DRIVE := $(SHARED_DRIVE)

.PHONY: run test test-fast screenshots airflow venv airflow-init demo clean system-deps bench bench-growth bench-airflow bench-national bench-scheduler corpus

# Debian packages: WeasyPrint's Pango and HarfBuzz subsetter (fast PDF fonts), poppler-utils (PDF tests),
# PostgreSQL (history store and real-scheduler tests), Samba (SMB shared-drive test), Redis (Celery test), Chromium (browser test),
# valgrind (bench_growth --instructions: instructions counted, the same on every run). Installed when missing,
# if we are root (CI is); otherwise listed for the user to install.
SYS_PKGS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils postgresql samba redis-server chromium valgrind
system-deps:
	@missing=$$(for p in $(SYS_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing $$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "please install with apt-get: $$missing"; exit 1; fi; \
	fi

$(BIN)/.installed: requirements.txt constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt -c constraints.txt
	touch $@

venv: $(BIN)/.installed

airflow-init: venv
	mkdir -p $(AIRFLOW_HOME) $(SI_WORK_DIR)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/db-migrate.log; exit 1)
	$(BIN)/airflow pools set si_reports $(SI_REPORT_POOL_GIB) "report renders: GiB of memory, 2 per render" > /dev/null

demo: venv
	$(BIN)/python -m demo_feeds --out $(REPO)/landing --la $(LA) --terms $(DEMO_TERMS)

# The main job: the termly DAG run through Airflow itself. With no LANDING, demo feeds are generated and the
# previous demo term is run first, so direction of travel has a term to compare with; the letters its edition drafted
# are then logged as sent (the demo LA signs and sends them), so the next term's ladder goes on from them.
# The default local shared-drive folder is marked as the share here; a real share is marked once by the LA (README).
run: airflow-init
	@if [ "$(SHARED_DRIVE)" = "$(REPO)/shared-drive" ]; then mkdir -p $(SHARED_DRIVE) && touch $(SHARED_DRIVE)/.school-improvement-share; fi
	@if [ -z "$(LANDING)" ]; then \
	  $(MAKE) --no-print-directory demo && \
	  for t in $(DEMO_TERMS); do \
	    [ "$$t" = "$(RUN_TERM)" ] && continue; \
	    $(BIN)/python -m school_improvement run-dag --la $(LA) --term $$t --landing $(REPO)/landing --shared-drive $(SHARED_DRIVE) || exit 1; \
	    $(BIN)/python -m demo_feeds --out $(REPO)/landing --la $(LA) --terms $$t --log-sent-from $(SHARED_DRIVE) || exit 1; \
	  done; \
	  $(BIN)/python -m school_improvement run-dag --la $(LA) --term $(RUN_TERM) --landing $(REPO)/landing --shared-drive $(SHARED_DRIVE); \
	else \
	  $(BIN)/python -m school_improvement run-dag --la $(LA) --term $(RUN_TERM) --landing $(LANDING) --shared-drive $(SHARED_DRIVE); \
	fi

# The Airflow UI (airflow standalone) with the DAG in it. Log in as `admin`; the password is printed and kept
# in .airflow/simple_auth_manager_passwords.json.generated. Its LocalExecutor forks its workers from a scheduler
# that has imported the stages' modules (plugins/preloaded_local_executor.py), as the Celery workers preload them.
airflow: airflow-init
	PATH="$(REPO)/$(BIN):$$PATH" AIRFLOW__API__HOST=127.0.0.1 \
	  AIRFLOW__CORE__EXECUTOR=preloaded_local_executor.LocalExecutor $(BIN)/airflow standalone

# Everything, as CI runs it (the 15 slowest printed, in wall time and in CPU, to see where the time goes as tests are
# added: a test waiting on Airflow takes wall time, a render CPU; servers a test stops count at its teardown), on
# TEST_WORKERS processes (pytest-xdist): a test module stays on one process with its fixtures; each process has its
# own Airflow home, demo feeds and free ports (tests/conftest.py orders the longest modules first). TEST_WORKERS=0
# runs everything in this one process. Three processes on two cores: the real-Airflow modules spend much of their
# time waiting for the scheduler, and a third process fills those waits (27 Nov 2026, on the 2-core machine of
# test-fast's figures below: 13 min 49 s on three, against 15 min 5 s and 15 min 18 s on two before the browser and
# REST tests shared their deployment; 16 min 10-36 s on 27 Nov with 1,264 tests, 1,610-1,696 s of CPU, where two
# cores give at least 13 min 25 s; 14 min 7 s with 1,274 tests and 1,476 s of CPU once dag.test()'s in-process API
# was built for one version, the browser left Airflow's pages while runs went on and the workers shared one migrated
# Airflow database; 10 min 23 s to 11 min 41 s in three runs on 28 Nov, 1,153-1,274 s of CPU in the tests, as the
# regional run came to be tested once, on Celery, the browser to draw no animations and a busy term's edition to be laid
# out whole once). A fourth process does not help: on 28 Nov four took 12 min 21 s against 11 min 34 s on three, the
# two cores busy for 1,471 of its 1,484 core-seconds (/proc/stat), so what shortens `make test` now is less CPU.
# The machine counts as much as the code: on 28 Nov, on another 2-core machine of this kind, the same 1,297 tests
# took 4 min 5 s (cores busy 473 s, idle 18 s) and `make test-fast` 22-23 s.
# Compiled files are kept, as in test-fast.
TEST_WORKERS ?= 3
FAST_WORKERS ?= 2
PYTEST_PARALLEL := --dist loadfile --no-loadscope-reorder
test: system-deps venv
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n $(TEST_WORKERS) $(PYTEST_PARALLEL) --durations=15 \
	  -p cpu_budget --cpu-budget 10 --cpu-budget-lines 15 tests

# The README runbook's screenshots, refreshed: the browser test (Airflow UI in Chromium) writing them into
# docs/screenshots. `make test` runs the same test but keeps its screenshots out of the repository.
screenshots: system-deps venv
	SI_SCREENSHOTS_DIR=$(REPO)/docs/screenshots $(BIN)/python -m pytest -q tests/test_scheduler_rest.py -k runbook

# The bad-input corpus as a table: cases tried, clear errors, warnings, accepted, crashes, wrong editions published.
corpus: venv
	$(BIN)/python tests/bad_input_table.py


# The edit-test loop: all but the tests marked slow. It leaves out every Airflow run (scheduler, REST API, UI in a
# browser, Celery workers, `dag.test()` and `airflow dags test`), PostgreSQL, Samba, whole demo or Surrey terms
# through the stages and the reports they render, report renders beyond one of each edition, documents laid out
# twice to compare our layout patches with the library's, Great Expectations run over whole or real feeds and its
# data docs, the 250-school demo generated, the real Surrey files read whole, and the bad-input corpus's cases run
# through the stages (each case's own outcome is still checked). `make test` runs all of them.
# A test keeps it so: under 0.5 s of CPU on its own (fixtures shared by its module count once, on the test that sets
# them up); fictional rows from tests/factories.py, or the 40-school small_demo, or a real file read once per module
# (functools.lru_cache, each test given its own copy), rather than a whole term through the stages; its check of
# the logic fast, and the end-to-end version of it (a whole demo or real-Surrey term through the stages, a report
# rendered beyond the shared fixtures, a subprocess importing Airflow, GX or WeasyPrint) @pytest.mark.slow with a
# comment saying why, so it still runs in `make test`. The CPU each test took is measured (tests/cpu_budget.py, user + system, its waited-for children too)
# and the tests over the budget are printed at the end of every run, most first: the list to look at when the loop
# slows. Measured 27 Nov 2026 on this 2-core machine: 1,049 tests in 75-79 s (133-141 s of CPU: 105 s in the
# tests, of which one render of each edition, test_report's, is 17 s; each worker's start and collection 13-14 s,
# and its first Great Expectations import 3-4 s more), against 133-154 s (250-285 s of CPU) for the 1,157 before the
# 110 over the budget were marked slow. Then 55-63 s (medians 59 and 62 s in two sets of three runs, each run paired
# with one of the tests before, whose medians were 72 and 73 s: 0.82-0.84 of their time), once (1) the modules that
# need Great Expectations or Airflow ran in one process (-p import_groups: tests/import_groups.py), no test module
# importing Airflow at collection, (2) the tests' HTTP servers stopped at once rather than at their next half-second
# poll, and (3) a term's open schools were built once per term (evidence.assess) and the decision tests assessed the
# evidence once for categorise and the letters, as the stages do (factories.decide). On a quieter hour the same
# tests took 55-58 s in four runs of five. This machine is about 2.4 times slower in CPU than the one on which an
# earlier 1,078 tests took 50-51 s.
# Python's compiled files are kept (in __pycache__, ignored by git) even where the shell sets PYTHONDONTWRITEBYTECODE:
# each worker otherwise compiles the project's modules and rewrites every test module's asserts again on every run
# (2.6 s of CPU per worker, measured); an edited file is compiled again by its timestamp, as always.
FAST_CPU_BUDGET ?= 0.5
test-fast: venv
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n $(FAST_WORKERS) $(PYTEST_PARALLEL) -p import_groups -p cpu_budget \
	  --cpu-budget $(FAST_CPU_BUDGET) -m "not slow" tests

# Figures, not pass/fail: how long each stage takes for one demo term, then cost against county size (the demo
# scaled to BENCH_SCHOOLS schools; per-stage CPU, peak memory, fitted exponent) and the county term against its floor.
BENCH_SCHOOLS ?= 250 1000 4000
bench: system-deps venv
	$(BIN)/python benchmarks/bench_pipeline.py $(RUN_TERM)
	$(BIN)/python benchmarks/bench_growth.py --term $(RUN_TERM) --schools $(BENCH_SCHOOLS)
	$(BIN)/python benchmarks/bench_airflow.py --term $(RUN_TERM)

# One demo county term in-process, through dag.test(), and on the CeleryExecutor with and without the workers'
# preload (plugins/worker_preload.py): CPU and wall, and the ratios to in-process. Needs PostgreSQL and Redis.
bench-airflow: system-deps venv
	$(BIN)/python benchmarks/bench_airflow.py --term $(RUN_TERM)

# England's LAs (real codes, names and school counts from ../shared/dfe/metadata) through the regional DAG on
# the CeleryExecutor: BENCH_LAS LAs spread over the size range (or a list of codes), and the fitted cost of all 153.
BENCH_LAS ?= 3
bench-national: system-deps venv
	$(BIN)/python benchmarks/bench_national.py --las $(BENCH_LAS)

# The services' CPU per second while a regional run's LA chains wait (no task running), for 3 and all 153 LAs; then
# the CPU of one scheduler pass over such a run, in-process (the machine's load does not change it).
bench-scheduler: system-deps venv
	$(BIN)/python benchmarks/bench_scheduler.py --las 3 153
	$(BIN)/python benchmarks/bench_scheduler.py --las 3 153 --loops 5

bench-growth: venv
	$(BIN)/python benchmarks/bench_growth.py --term $(RUN_TERM) --schools $(BENCH_SCHOOLS)

clean:
	rm -rf .airflow .work landing shared-drive
