"""A private PostgreSQL server for the tests: initdb in its own temp dir, listening only on a Unix socket in that
dir (no TCP), stopped by its own PID. As root the server runs as the `postgres` user, which owns the dir.
`VIGIE_TEST_POSTGRES` (a libpq URL of a database the tests may create schemas in) uses a running server instead."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

SERVER_ENV = "VIGIE_TEST_POSTGRES"
_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def postgres_bin(name: str) -> str | None:
    for folder in _BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    return shutil.which(name)


def why_no_server() -> str | None:
    """Why the tests cannot have a PostgreSQL server (None: they can)."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        return "psycopg/psycopg_pool are not installed (pip install -e '.[cluster]')"
    if os.environ.get(SERVER_ENV):
        return None
    if postgres_bin("initdb") is None or postgres_bin("pg_ctl") is None:
        return "PostgreSQL's initdb/pg_ctl are not installed (Debian package postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a `postgres` user to run the server as"
    return None


@contextmanager
def private_server() -> Iterator[str]:
    """A libpq URL (without ?case=) of a database on a server of the tests' own."""
    if os.environ.get(SERVER_ENV):
        yield os.environ[SERVER_ENV]
        return
    folder = Path(tempfile.mkdtemp(prefix="vigie-pg-"))  # short: a socket path has a length limit
    prefix: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    pid = None
    try:
        subprocess.run([*prefix, postgres_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], check=True, capture_output=True)
        options = f"-c listen_addresses='' -k {folder} -c fsync=off -c max_connections=60"
        subprocess.run([*prefix, postgres_bin("pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
                        "-o", options, "start"], check=True, capture_output=True)
        pid = int((data / "postmaster.pid").read_text().split()[0])
        yield f"postgresql://postgres@/postgres?host={quote(str(folder), safe='')}"
    finally:
        if pid is not None:
            _stop(pid)
        shutil.rmtree(folder, ignore_errors=True)


def _stop(pid: int) -> None:
    os.kill(pid, signal.SIGINT)  # fast shutdown
    for _ in range(300):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
