"""A Ray head of the tests' own: `ray start --head --block`, with token authentication (Ray's ports are
not loopback only), in its own temporary folder and process
group, stopped by that group (never `ray stop`, which would end every Ray on the machine)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVER_ENV = "VIGIE_TEST_RAY"  # the address of a running head the tests use instead of starting their own


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def ray_head(env: dict[str, str], cpus: int = 2) -> Iterator[str]:
    """The address of a new head of `cpus` CPUs, started with `env`; its clients need RAY_AUTH_MODE=token."""
    env = {**env, "RAY_AUTH_MODE": "token"}
    port = free_port()
    temp = tempfile.mkdtemp(prefix="vigie-head-")  # short: Ray's socket paths must fit in 107 bytes
    head = subprocess.Popen(
        [str(Path(sys.executable).parent / "ray"), "start", "--head", f"--port={port}", f"--num-cpus={cpus}",
         f"--temp-dir={temp}", "--include-dashboard=false", "--block"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    try:
        assert head.stdout is not None
        for line in head.stdout:
            if "Ray runtime started" in line:
                break
        else:
            raise RuntimeError(f"the Ray head did not start (exit {head.wait()})")
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(head.pid, signal.SIGKILL)  # the head and every Ray process it started: none other
        head.wait()
        shutil.rmtree(temp, ignore_errors=True)
