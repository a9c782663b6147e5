"""A Ray head of the tests' own: `ray start --head --block`, with token authentication (Ray's ports are
not loopback only) by a token of its own (never the user's ~/.ray/auth_token, which a fresh machine does not
have), in its own temporary folder and process group, stopped by that group (never `ray stop`, which would end
every Ray on the machine)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVER_ENV = "VIGIE_TEST_RAY"  # the address of a running head the tests use instead of starting their own


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class RayHead:
    address: str
    client_env: dict[str, str]  # what a client (a scan, ray.init) needs in its environment to connect


@contextmanager
def ray_head(env: dict[str, str], cpus: int = 2) -> Iterator[RayHead]:
    """A new head of `cpus` CPUs, started with `env`."""
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    env = {**env, **auth}
    port = free_port()
    temp = tempfile.mkdtemp(prefix="vigie-head-")  # short: Ray's socket paths must fit in 107 bytes
    head = subprocess.Popen(
        [str(Path(sys.executable).parent / "ray"), "start", "--head", f"--port={port}", f"--num-cpus={cpus}",
         f"--temp-dir={temp}", "--include-dashboard=false", "--block"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    try:
        assert head.stdout is not None
        said = []
        for line in head.stdout:
            if "Ray runtime started" in line:
                break
            said.append(line)
        else:
            raise RuntimeError(f"the Ray head did not start (exit {head.wait()}): {''.join(said[-5:])}")
        yield RayHead(f"127.0.0.1:{port}", auth)
    finally:
        with contextlib.suppress(ProcessLookupError):  # a head that failed to start has already exited
            os.killpg(head.pid, signal.SIGKILL)  # the head and every Ray process it started: none other
        head.wait()
        shutil.rmtree(temp, ignore_errors=True)
