"""Run a command (CI: `make test`) with the services the tests use: a private PostgreSQL server on a Unix socket
(tests/pg.py) and a local Ray head of 2 CPUs with token authentication (tests/ray_head.py), each stopped by its
own PID when the command ends. The tests find them through VIGIE_TEST_POSTGRES and VIGIE_TEST_RAY; a service that cannot
start here is left out with the reason, and the tests start their own or skip, as on a developer machine.

    python tests/services.py make test
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from pg import SERVER_ENV as POSTGRES_ENV
from pg import private_server, why_no_server
from ray_head import SERVER_ENV as RAY_ENV
from ray_head import ray_head


def main(command: list[str]) -> int:
    env = dict(os.environ)
    with ExitStack() as services:
        reason = why_no_server()
        if reason is None:
            env[POSTGRES_ENV] = services.enter_context(private_server())
            print(f"services: PostgreSQL at {env[POSTGRES_ENV]}", flush=True)
        else:
            print(f"services: no PostgreSQL ({reason})", flush=True)
        if (Path(sys.executable).parent / "ray").exists():
            head_env = {**env, "RAY_ADDRESS": ""}
            head_env.pop("PYTHONPATH", None)
            try:
                head = services.enter_context(ray_head(head_env))
            except RuntimeError as error:  # the Ray tests then start their own, and say why where they cannot
                print(f"services: no Ray head ({error})", flush=True)
            else:
                env[RAY_ENV] = head.address
                env.update(head.client_env)
                print(f"services: Ray head at {env[RAY_ENV]}", flush=True)
        else:
            print("services: no Ray head (Ray is not installed: the `cluster` extra)", flush=True)
        return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
