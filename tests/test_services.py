"""`make test` runs the suite under tests/services.py: the PostgreSQL server and Ray head it starts reach the
command, and both are gone when it ends."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from pg import why_no_server

SERVICES = Path(__file__).parent / "services.py"


@pytest.mark.slow
@pytest.mark.skipif(why_no_server() is not None, reason=f"no PostgreSQL server here: {why_no_server()}")
@pytest.mark.skipif(not (Path(sys.executable).parent / "ray").exists(), reason="Ray is not installed (`cluster`)")
def test_the_suites_services_reach_the_command_and_stop_with_it() -> None:
    names = ("VIGIE_TEST_POSTGRES", "VIGIE_TEST_RAY")
    show = f"import json, os; print(json.dumps({{k: os.environ.get(k) for k in {names}}})); raise SystemExit(3)"
    env = {k: v for k, v in os.environ.items() if k not in names}
    ran = subprocess.run([sys.executable, str(SERVICES), sys.executable, "-c", show], capture_output=True,
                         text=True, timeout=180, env=env)
    assert ran.returncode == 3, "the command's exit status is the run's"
    given = json.loads(ran.stdout.strip().splitlines()[-1])
    socket_dir = parse_qs(urlparse(given["VIGIE_TEST_POSTGRES"]).query)["host"][0]
    assert not Path(socket_dir).exists(), "the PostgreSQL server's folder is removed once it stopped"
    host, port = given["VIGIE_TEST_RAY"].rsplit(":", 1)
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect((host, int(port)))  # the head is gone
