"""Real servers for tests, started on 127.0.0.1 by the test setup and stopped afterwards."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: use the postgres system user that Debian's package creates.
    return ["runuser", "-u", "postgres", "--"] + cmd if os.geteuid() == 0 else cmd


@contextmanager
def postgres_server():
    """Yield a SQLAlchemy URL for a throwaway PostgreSQL cluster listening on 127.0.0.1 only."""
    bindir = _pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (Debian package 'postgresql'); .ci/run installs it")
    root = Path(tempfile.mkdtemp(prefix="si-pg-"))
    data, port = root / "data", free_port()
    os.chmod(root, 0o777)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    try:
        subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "si", "--auth=trust", "-E", "UTF8"]),
                       check=True, capture_output=True)
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                                     f"-h 127.0.0.1 -p {port} -k {root}", "start"]), check=True, capture_output=True)
        subprocess.run(_as_postgres([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "si", "si"]),
                       check=True, capture_output=True)
        yield f"postgresql+psycopg2://si@127.0.0.1:{port}/si"
    finally:
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def _smbd_bin() -> str | None:
    return shutil.which("smbd") or next((p for p in ("/usr/sbin/smbd", "/usr/local/sbin/smbd") if os.path.exists(p)), None)


def _stop_group(proc: subprocess.Popen) -> None:
    """Stop a server started with start_new_session=True, with the helper processes it forked."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        deadline = time.time() + wait  # the leader is gone: give its children a moment too
        while time.time() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


@contextmanager
def samba_server(share: str = "si", password: str = "si-Shared-Drive-1"):
    """Yield (host, port, share, user, password, local_folder) for a throwaway Samba share on 127.0.0.1 only.

    Runs Debian's smbd in the foreground with a private smb.conf: its passdb, locks, state, cache and pid files
    all live in a temp dir, so /etc/samba and /var/lib/samba are never touched. SMB2/3 only, one writable share
    backed by `local_folder`. smbd needs root to switch to the logged-in user: the Samba user is the current
    unix user (root in CI), added to the private passdb with `smbpasswd -c <conf> -a -s`.
    """
    import pwd

    smbd = _smbd_bin()
    if smbd is None:
        raise RuntimeError("Samba is not installed (Debian package 'samba'); .ci/run installs it")
    sbin = Path(smbd).parent
    smbpasswd = shutil.which("smbpasswd") or str(sbin.parent / "bin" / "smbpasswd")
    user = pwd.getpwuid(os.geteuid()).pw_name
    root = Path(tempfile.mkdtemp(prefix="si-smb-"))
    folder = root / "share"
    dirs = {name: root / name for name in ("private", "lock", "state", "cache", "pid", "ncalrpc", "log")}
    for d in [folder, *dirs.values()]:
        d.mkdir(mode=0o755)
    port = free_port()
    conf = root / "smb.conf"
    conf.write_text(f"""[global]
    netbios name = SITEST
    workgroup = WORKGROUP
    server role = standalone server
    security = user
    map to guest = never
    interfaces = 127.0.0.1
    bind interfaces only = yes
    smb ports = {port}
    disable netbios = yes
    server min protocol = SMB2_02
    client min protocol = SMB2_02
    private dir = {dirs['private']}
    lock directory = {dirs['lock']}
    state directory = {dirs['state']}
    cache directory = {dirs['cache']}
    pid directory = {dirs['pid']}
    ncalrpc dir = {dirs['ncalrpc']}
    passdb backend = tdbsam:{dirs['private'] / 'passdb.tdb'}
    log file = {dirs['log'] / 'log.%m'}
    max log size = 0
    load printers = no
    printing = bsd
    printcap name = /dev/null
    disable spoolss = yes
    store dos attributes = no
    ea support = no
    map archive = no
    kernel oplocks = no
    smbd:backgroundqueue = no

[{share}]
    path = {folder}
    read only = no
    browseable = yes
    guest ok = no
    valid users = {user}
    create mask = 0644
    directory mask = 0755
""")
    proc = None
    try:
        subprocess.run([smbpasswd, "-c", str(conf), "-a", "-s", user], input=f"{password}\n{password}\n",
                       text=True, check=True, capture_output=True)
        out = open(root / "smbd.out", "wb")
        proc = subprocess.Popen([smbd, "--foreground", "--no-process-group", "--debug-stdout", "-d", "1",
                                 "-s", str(conf)], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # smbd signals its whole process group on shutdown
        out.close()
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                hint = "" if os.geteuid() == 0 else " (smbd needs root to serve files as a logged-in user)"
                raise RuntimeError(f"smbd exited with {proc.returncode}{hint}:\n"
                                   f"{(root / 'smbd.out').read_text(errors='replace')[-4000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.time() > deadline:
                raise TimeoutError(f"smbd not listening on 127.0.0.1:{port} after 60s")
            time.sleep(0.2)
        yield "127.0.0.1", port, share, user, password, folder
    finally:
        if proc is not None:
            _stop_group(proc)
        shutil.rmtree(root, ignore_errors=True)


def worker_name() -> str:
    """[core] hostname_callable for test workers: each names itself by SI_TEST_WORKER (they share one host)."""
    return os.environ.get("SI_TEST_WORKER") or socket.getfqdn()


@contextmanager
def redis_server():
    """Yield a redis:// URL for a throwaway Debian redis-server on 127.0.0.1 (no persistence)."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(binary):
        raise RuntimeError("redis-server is not installed (Debian package 'redis-server')")
    root = Path(tempfile.mkdtemp(prefix="si-redis-"))
    port = free_port()
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(root), "--protected-mode", "yes"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port(port, timeout=30)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop_group(proc)
        shutil.rmtree(root, ignore_errors=True)
