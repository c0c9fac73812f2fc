"""A private PgBouncer in transaction mode in front of the test Postgres, as production runs it.

`pgbouncer_url` starts Debian's `pgbouncer` on 127.0.0.1 (a free port, or
$TUTORMESH_TEST_PGBOUNCER_PORT) with its own config and auth file in a temporary directory,
pointing at the server behind TUTORMESH_TEST_POSTGRES_URL, and yields the session's scratch
database URL through it. Transaction mode hands a server connection to a client for one
transaction only, so anything that outlives a transaction (server-side prepared statements,
session SET, advisory locks) breaks there: the code under test must cope. Missing `pgbouncer`
fails under CI and skips elsewhere (`service_missing`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.conftest import POSTGRES_URL, service_missing

PGBOUNCER_PORT = int(os.environ.get("TUTORMESH_TEST_PGBOUNCER_PORT", "0"))  # 0: any free port
# Test modules import these fixtures, so pytest may hold one copy per module: they share one server.
_running: dict[str, str] = {}
# Server connections per (database, user) pool. 20 covers the API's pools in one test process
# (SQLAlchemy 10 + overflow, the saver's 8); see docs/scale-plan.md for how production sizes it.
POOL_SIZE = 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(directory: Path, port: int, server_host: str, server_port: int, user: str) -> Path:
    """Write pgbouncer.ini and its auth file; return the ini path."""
    (directory / "users.txt").write_text(f'"{user}" ""\n')
    ini = directory / "pgbouncer.ini"
    ini.write_text(f"""[databases]
* = host={server_host} port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory / "users.txt"}
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
logfile = {directory / "pgbouncer.log"}
pidfile = {directory / "pgbouncer.pid"}
""")
    return ini


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 15.0) -> None:
    """Poll until a query through PgBouncer answers; fail with its log if it exits first."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"pgbouncer exited {proc.returncode}: {log.read_text() if log.exists() else ''}")
        try:
            with psycopg.connect(url, connect_timeout=2, prepare_threshold=None) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture(scope="session")
def pgbouncer(postgres_url: str) -> Iterator[str]:
    """Run a private PgBouncer for the session; yield its address as `host:port`."""
    if postgres_url in _running:
        yield _running[postgres_url]
        return
    binary = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        service_missing("PgBouncer", FileNotFoundError("no pgbouncer binary (scripts/setup installs it)"))
    port = PGBOUNCER_PORT or _free_port()
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            service_missing("PgBouncer", OSError(f"port {port} is taken"))
    server = urlsplit(POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1))
    user = server.username or "postgres"
    with tempfile.TemporaryDirectory(prefix="tm-pgbouncer-") as tmp:
        directory = Path(tmp)
        ini = _config(directory, port, server.hostname or "127.0.0.1", server.port or 5432, user)
        command = [str(binary), str(ini)]
        if os.geteuid() == 0:  # pgbouncer refuses to run as root: drop to the postgres account
            account = pwd.getpwnam("postgres")
            for path in (directory, *directory.iterdir()):
                os.chown(path, account.pw_uid, account.pw_gid)
            command = [str(binary), "-u", "postgres", str(ini)]
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            name = postgres_url.rpartition("/")[2]
            _wait_ready(f"postgresql://{user}@127.0.0.1:{port}/{name}", proc, directory / "pgbouncer.log")
            _running[postgres_url] = f"127.0.0.1:{port}"
            yield _running[postgres_url]
        finally:
            _running.pop(postgres_url, None)
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def pgbouncer_url(pgbouncer: str, postgres_url: str) -> str:
    """The session's scratch database, reached through PgBouncer in transaction mode."""
    user = urlsplit(postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)).username or "postgres"
    return f"postgresql+psycopg://{user}@{pgbouncer}/{postgres_url.rpartition('/')[2]}"
