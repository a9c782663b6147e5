"""A worker process keeps BLAS to one thread even when the program loaded numpy before vigie (vigie's own
setting, made at its import, is then too late): a thread per core in each worker multiplied scans' CPU time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import json, os
import numpy  # before vigie, as a library user's program may
from threadpoolctl import threadpool_info
import vigie.workers as worker
before = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
worker.start_worker(os.getppid())
after = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
print(json.dumps([before, after]))
"""


def test_a_worker_started_after_numpy_keeps_blas_to_one_thread() -> None:
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    environment["OPENBLAS_NUM_THREADS"] = environment["OMP_NUM_THREADS"] = "4"  # as numpy would on 4 cores
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120,
                            env=environment, check=True)
    before, after = json.loads(result.stdout)
    assert before and max(before) > 1  # numpy's BLAS was loaded with more than one thread
    assert after == [1] * len(before)
