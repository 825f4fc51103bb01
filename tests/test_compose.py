"""Review of the deployment files (docker-compose.yaml, Dockerfile, .env.example) without Docker.

Each test is a check a reviewer would make by reading the files: the image matches the Airflow pin, every
service is healthy-checked and starts after what it needs, all Airflow services share one configuration,
no secret is written into the compose file, and .env.example names every variable the compose file needs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yaml"
DOCKERFILE = REPO / "Dockerfile"
ENV_EXAMPLE = REPO / ".env.example"

WORKERS = ("airflow-worker", "airflow-worker-2")
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", *WORKERS,
                    "airflow-triggerer", "airflow-init")
LONG_RUNNING_AIRFLOW = tuple(s for s in AIRFLOW_SERVICES if s != "airflow-init")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $${...} is an escaped dollar.
VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|(^|_)KEY$", re.I)


@pytest.fixture(scope="module")
def compose() -> dict:
    with open(COMPOSE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)  # PyYAML resolves the &anchors and <<: merges as compose does


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def env_of(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):  # KEY=value list form
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def strings(node):
    """Every string value in the loaded compose file (keys are never interpolated)."""
    if isinstance(node, dict):
        for v in node.values():
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)
    elif isinstance(node, str):
        yield node


def resolve_defaults(text: str) -> str:
    """What compose makes of ${VAR:-default} when VAR is unset (the repo's own defaults)."""
    return VAR.sub(lambda m: m.group(3) if m.group(2) in (":-", "-") else "", text)


def bind_mounts(service: dict) -> list[tuple[str, str]]:
    """(host path, container path) of each bind mount (a source that is a path, not a named volume)."""
    out = []
    for vol in service.get("volumes") or []:
        if isinstance(vol, dict):
            if vol.get("type") == "bind":
                out.append((vol["source"], vol["target"]))
            continue
        source, target = split_volume(vol)[:2]
        if resolve_defaults(source).startswith((".", "/", "~")):
            out.append((source, target))
    return out


def split_volume(spec: str) -> list[str]:
    """`source:target[:mode]`, where the source may be ${VAR:-default} with a colon of its own."""
    parts, depth, cur = [], 0, ""
    for ch in spec:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == ":" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return parts + [cur]


def env_example() -> dict:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def dockerfile_from_tag() -> str:
    froms = [ln.split()[1] for ln in DOCKERFILE.read_text().splitlines() if ln.strip().upper().startswith("FROM ")]
    assert len(froms) == 1, f"expected one FROM in the Dockerfile, found {froms}"
    image, _, tag = froms[0].partition(":")
    assert image == "apache/airflow", froms[0]
    return tag


def requirement_pin(name: str) -> str:
    for line in (REPO / "requirements.txt").read_text().splitlines():
        m = re.match(rf"^\s*{re.escape(name)}\s*==\s*([^\s;#]+)", line, re.I)
        if m:
            return m.group(1)
    raise AssertionError(f"{name} is not pinned with == in requirements.txt")


# ------------------------------------------------------------------ image
def test_dockerfile_tag_equals_airflow_pin():
    assert dockerfile_from_tag() == requirement_pin("apache-airflow")
    # and the build checks it again after pip install
    assert f"'{requirement_pin('apache-airflow')}'" in DOCKERFILE.read_text()


def test_dockerfile_installs_weasyprint_libraries_and_pins():
    text = DOCKERFILE.read_text()
    for pkg in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core"):
        assert pkg in text, pkg
    assert re.search(r"pip install --no-cache-dir -r \S*requirements\.txt -c \S*constraints\.txt", text)
    for f in ("requirements.txt", "constraints.txt"):
        assert (REPO / f).is_file()
        assert re.search(rf"^COPY .*\b{re.escape(f)}\b", text, re.M), f"{f} is not copied into the image"
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] == "airflow", "the image must end as the airflow user, not root"
    # apt-get runs as root, pip as airflow (the official image refuses pip as root)
    assert text.index("USER root") < text.index("apt-get install") < text.index("USER airflow") < text.index("pip install")


def test_constraints_agree_with_requirements():
    constraints = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==", 1)
            constraints[re.sub(r"[-_.]+", "-", name.strip().lower())] = version.strip()
    for line in (REPO / "requirements.txt").read_text().splitlines():
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*(\S+)", line)
        if m:
            name = re.sub(r"[-_.]+", "-", m.group(1).lower())
            if name in constraints:
                assert constraints[name] == m.group(2), f"{name}: requirements {m.group(2)}, constraints {constraints[name]}"


def test_airflow_services_build_the_project_image(services):
    for name in AIRFLOW_SERVICES:
        build = services[name].get("build")
        context = build if isinstance(build, str) else (build or {}).get("context")
        assert context in (".", "./"), f"{name} does not build from ./Dockerfile"
        if isinstance(build, dict) and build.get("dockerfile"):
            assert build["dockerfile"] in ("Dockerfile", "./Dockerfile")
    assert len({services[n].get("image") for n in AIRFLOW_SERVICES}) == 1


# ------------------------------------------------------------------ services
def test_services_are_the_airflow3_set(services):
    expected = {"postgres", "redis", *AIRFLOW_SERVICES}
    assert expected <= set(services), f"missing: {expected - set(services)}"
    commands = {name: services[name].get("command") for name in LONG_RUNNING_AIRFLOW}
    assert commands == {"airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
                        "airflow-dag-processor": "dag-processor", "airflow-worker": "celery worker",
                        "airflow-worker-2": "celery worker", "airflow-triggerer": "triggerer"}
    assert not any("webserver" in str(s.get("command")) for s in services.values()), "Airflow 3 has no webserver"


def test_every_service_has_a_healthcheck(services):
    for name, svc in services.items():
        if name == "airflow-init":
            # a one-shot job: the others wait for it to exit 0 (service_completed_successfully) instead
            assert "restart" not in svc, "airflow-init must run once, not restart"
            continue
        hc = svc.get("healthcheck")
        assert hc and hc.get("test") and not hc.get("disable"), f"{name} has no healthcheck"
    assert "pg_isready" in str(services["postgres"]["healthcheck"]["test"])
    assert "redis-cli" in str(services["redis"]["healthcheck"]["test"])
    assert "8974/health" in str(services["airflow-scheduler"]["healthcheck"]["test"])
    # the execution API is built on its first request: healthy means built, before the workers start
    assert "/execution/health" in str(services["airflow-apiserver"]["healthcheck"]["test"])
    assert env_of(services["airflow-scheduler"])["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"].lower() == "true"


def test_every_service_depends_on_what_it_needs(services):
    def conditions(name):
        deps = services[name].get("depends_on") or {}
        assert isinstance(deps, dict), f"{name}: depends_on must give conditions, not a bare list"
        return {dep: (spec or {}).get("condition") for dep, spec in deps.items()}

    for name in AIRFLOW_SERVICES:
        deps = conditions(name)
        assert deps.get("postgres") == "service_healthy", name
        assert deps.get("redis") == "service_healthy", name
        if name != "airflow-init":
            assert deps.get("airflow-init") == "service_completed_successfully", name
    # workers and the triggerer talk to the execution API of the api-server
    for name in (*WORKERS, "airflow-triggerer"):
        assert conditions(name).get("airflow-apiserver") == "service_healthy", name
    for name in ("postgres", "redis"):
        assert not services[name].get("depends_on"), name


def test_airflow_init_migrates_and_creates_the_admin(services):
    init = services["airflow-init"]
    env = env_of(init)
    assert env["_AIRFLOW_DB_MIGRATE"] == "true"
    assert env["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert VAR.fullmatch(env["_AIRFLOW_WWW_USER_PASSWORD"]), "the admin password must come from .env"
    # FAB creates users with `airflow users create`: the auth manager must be FAB, as in the official file
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")
    assert "/entrypoint" in str(init["command"]), "the image's entrypoint does the migration and the user"
    assert str(init.get("user")).startswith("0"), "airflow-init runs as root to chown the shared folders"


def test_airflow_services_share_one_configuration(services):
    keys = ("AIRFLOW__CORE__EXECUTOR", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__BROKER_URL",
            "AIRFLOW__CELERY__RESULT_BACKEND", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY",
            "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__AUTH_MANAGER", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
            "SI_WORK_DIR", "SI_HISTORY_URL", "SI_LANDING", "SI_SHARED_DRIVE", "PYTHONPATH")
    envs = {name: env_of(services[name]) for name in AIRFLOW_SERVICES}
    for key in keys:
        values = {name: env.get(key) for name, env in envs.items()}
        assert len(set(values.values())) == 1 and None not in values.values(), f"{key} differs: {values}"
    env = envs["airflow-scheduler"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert urlsplit(resolve_defaults(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])).hostname == "postgres"
    # the driver named: SQLAlchemy 2.1 takes a bare postgresql:// for psycopg 3, which is not installed
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
    assert urlsplit(env["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis"
    # the workers' Celery configuration preloads the heavy imports (a module of plugins/, on PYTHONPATH)
    module, _, attr = env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"].rpartition(".")
    assert (REPO / "plugins" / f"{module}.py").is_file() and attr == "CELERY_CONFIG"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    assert env["GX_ANALYTICS_ENABLED"] == "False"
    # the execution API URL names the api-server service and the port it listens on
    assert "8080" in str(services["airflow-apiserver"].get("ports"))


def test_pythonpath_includes_include_and_plugins(services):
    env = env_of(services["airflow-worker"])
    parts = env["PYTHONPATH"].split(":")
    assert "/opt/airflow/include" in parts and "/opt/airflow/plugins" in parts
    targets = {t: s for s, t in bind_mounts(services["airflow-worker"])}
    assert resolve_defaults(targets["/opt/airflow/include"]) == "./include"
    assert resolve_defaults(targets["/opt/airflow/plugins"]) == "./plugins"
    assert resolve_defaults(targets["/opt/airflow/dags"]) == "./dags"


def test_work_dir_is_a_named_volume_shared_by_every_airflow_service(compose, services):
    for name in AIRFLOW_SERVICES:
        env = env_of(services[name])
        work = env["SI_WORK_DIR"]
        named = [split_volume(v)[0] for v in services[name]["volumes"] if isinstance(v, str)
                 and split_volume(v)[1] == work and not v.startswith((".", "/", "~", "$"))]
        assert named, f"{name}: SI_WORK_DIR {work} is not on a named volume"
        assert named[0] in (compose.get("volumes") or {})


def test_landing_and_shared_drive_are_mounted_where_the_env_points(services):
    worker = services["airflow-worker"]
    env = env_of(worker)
    mounts = {t: (s, v) for v in worker["volumes"] if isinstance(v, str)
              for s, t in [split_volume(v)[:2]] if (s, t) in bind_mounts(worker)}
    for var, host_var in (("SI_LANDING", "SI_LANDING_HOST"), ("SI_SHARED_DRIVE", "SI_SHARED_DRIVE_HOST")):
        source, _ = mounts[env[var]]
        m = VAR.fullmatch(source)
        assert m and m.group(1) == host_var and m.group(2) == ":-", f"{var}: host path should be ${{{host_var}:-...}}"
    assert mounts[env["SI_LANDING"]][1].endswith(":ro"), "the feeds are input only"
    # include/config/las.yaml takes the defaults from these variables
    las = (REPO / "include" / "config" / "las.yaml").read_text()
    assert "${SI_LANDING}" in las and "${SI_SHARED_DRIVE}" in las


def test_bind_mounted_host_paths_exist(services):
    """Code and config folders must be in the repo. Data folders (feeds, reports, logs) are created on the
    host by Docker at start-up and owned by airflow-init: they must be git-ignored instead, so that no feed,
    report or log is ever committed."""
    runtime = {"./landing", "./shared-drive", "./logs"}
    seen = set()
    for name, svc in services.items():
        for source, _ in bind_mounts(svc):
            seen.add(resolve_defaults(source))
    assert {"./dags", "./plugins", "./include", "./config", "./logs", "./deploy/postgres"} <= seen
    for path in sorted(seen):
        if path in runtime:
            assert git_ignored(path.rstrip("/") + "/"), f"{path} is written at run time but not git-ignored"
        else:
            assert (REPO / path).exists(), f"bind-mounted {path} does not exist in the repo"


def test_history_db_is_postgresql(services):
    env = env_of(services["airflow-worker"])
    url = urlsplit(resolve_defaults(env["SI_HISTORY_URL"]))
    assert url.scheme.startswith("postgresql"), env["SI_HISTORY_URL"]
    assert url.hostname == "postgres" and url.path == "/si_history" and url.username == "si_history"
    pg = services["postgres"]
    mounts = {t: s for s, t in bind_mounts(pg)}
    scripts = REPO / mounts["/docker-entrypoint-initdb.d"]
    inits = [p for p in scripts.iterdir() if p.suffix in (".sh", ".sql")]
    assert inits, "no init script for the history database"
    text = "\n".join(p.read_text() for p in inits)
    assert "CREATE DATABASE si_history" in text and "si_history LOGIN" in text
    for p in inits:
        if p.suffix == ".sh":
            assert subprocess.run(["bash", "-n", str(p)]).returncode == 0, f"{p} has a syntax error"
    # the password the init script sets is the one in SI_HISTORY_URL
    assert "SI_HISTORY_DB_PASSWORD" in env_of(pg) and "SI_HISTORY_DB_PASSWORD" in env["SI_HISTORY_URL"]
    assert "SI_HISTORY_DB_PASSWORD" in text


# ------------------------------------------------------------------ secrets
def test_no_secret_literals_in_the_compose_file(compose, services):
    for name, svc in services.items():
        for key, value in env_of(svc).items():
            if SECRET_NAME.search(key):
                m = VAR.fullmatch(value)
                assert m and m.group(2) in (None, ":?", "?"), \
                    f"{name}: {key} must be ${{VAR}} from .env without a default, not {value!r}"
            parts = urlsplit(value) if "://" in value else None
            if parts and parts.password:
                assert VAR.fullmatch(parts.password.replace("%7D", "}")) or VAR.search(value), \
                    f"{name}: {key} has a literal password"
                for m in VAR.finditer(value):
                    assert m.group(2) not in (":-", "-") or not m.group(3), f"{name}: {key} has a default password"
    for text in strings(compose):
        assert not re.search(r"[A-Za-z0-9_-]{43}=", text), f"looks like a Fernet key: {text!r}"


def test_env_example_defines_every_required_variable(compose):
    defined = env_example()
    used = {}
    for text in strings(compose):
        for m in VAR.finditer(text):
            used.setdefault(m.group(1), set()).add(m.group(2))
    required = {name for name, ops in used.items() if not ops <= {":-", "-"}}
    assert {"POSTGRES_PASSWORD", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"} <= required
    missing = required - set(defined)
    assert not missing, f".env.example lacks {sorted(missing)}"
    # and it holds no real secret: every secret is left blank for the operator to generate
    for key, value in defined.items():
        if SECRET_NAME.search(key):
            assert value == "", f".env.example gives {key} a value"
    text = ENV_EXAMPLE.read_text()
    assert "Fernet.generate_key()" in text and "secrets.token_urlsafe" in text


def git_ignored(path: str) -> bool:
    if shutil.which("git") and (REPO / ".git").exists():
        r = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=REPO)
        return r.returncode == 0
    patterns = {ln.strip() for ln in (REPO / ".gitignore").read_text().splitlines()}
    bare = path.removeprefix("./").rstrip("/")
    return bool({bare, f"/{bare}", f"{bare}/", f"/{bare}/"} & patterns)


def test_env_file_is_git_ignored():
    assert git_ignored(".env")
    assert not git_ignored(".env.example")


# ------------------------------------------------------------------ scale-out: workers, artefact store, pool
def test_two_workers_share_only_the_artefact_store(compose, services):
    a, b = (services[w] for w in WORKERS)
    assert env_of(a) == env_of(b) and a["volumes"] == b["volumes"] and a.get("command") == b.get("command")
    assert not a.get("hostname") and not b.get("hostname"), "each worker needs its own host name (Celery node name)"
    shared = [split_volume(v)[0] for v in a["volumes"] if isinstance(v, str)
              and split_volume(v)[1] == env_of(a)["SI_WORK_DIR"]]
    assert shared == ["si-artefacts"] and "si-artefacts" in compose["volumes"]
    assert not any(split_volume(v)[1].startswith("/tmp") for v in a["volumes"] if isinstance(v, str)), \
        "scratch space stays on each worker's own disk"
    concurrency = resolve_defaults(env_of(a)["AIRFLOW__CELERY__WORKER_CONCURRENCY"])
    assert int(concurrency) >= 1


def test_a_finished_task_releases_its_worker_slot_at_once_with_airflows_heartbeat_and_outage_tolerance(services):
    """The Task SDK supervisor slept one heartbeat interval after its task ended (benchmarks/bench_national.py
    measured 5.1 s on about half the tasks at Airflow's default 5 s); it now also waits on the task's pidfd
    (plugins/task_exit.py, installed by the workers' Celery configuration), so the heartbeat is Airflow's 5 s again,
    not a heartbeat a second from every running task, with as many seconds of failed heartbeats (interval x failures)
    as the defaults allow, so an api-server restart kills no task."""
    for w in WORKERS:
        env = env_of(services[w])
        interval = int(env["AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL"])
        failures = int(env["AIRFLOW__WORKERS__MAX_FAILED_HEARTBEATS"])
        assert env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] == "worker_preload.CELERY_CONFIG"
        assert interval >= 5
        assert interval * failures >= 5 * 3


def test_the_dag_processor_does_not_reparse_unchanged_dag_files_every_30_seconds(services):
    """Airflow re-parses a changed DAG file at once (file_parsing_sort_mode modified_time, its default); the interval
    only re-parses unchanged ones, which re-serialised England's 153 per-LA DAGs every 30 s by default."""
    env = env_of(services["airflow-dag-processor"])
    assert env.get("AIRFLOW__DAG_PROCESSOR__FILE_PARSING_SORT_MODE", "modified_time") == "modified_time"
    assert int(env["AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL"]) >= 300


def test_airflow_init_creates_the_report_pool_sized_by_memory(services):
    from termly_tasks import REPORT_POOL, REPORT_POOL_SLOTS

    script = "\n".join(services["airflow-init"]["command"])
    m = re.search(r'airflow pools set (\S+) "\$\{SI_REPORT_POOL_GIB:-(\d+)\}"', script)
    assert m, script
    assert m.group(1) == REPORT_POOL
    # the default leaves room for more than one render, and .env.example documents the variable
    assert int(m.group(2)) >= 2 * REPORT_POOL_SLOTS
    assert int(env_example()["SI_REPORT_POOL_GIB"]) >= REPORT_POOL_SLOTS
    assert script.index("/entrypoint airflow version") < script.index("airflow pools set"), \
        "the pool is created after the migration"
