"""The Ray engine: the pool's per-file analysis as Ray tasks, on a cluster or on a local Ray started for the scan.

Each task analyses one unit of files with the pool's own `analyse_batch`, so answers, bad-input handling and
the per-file budget (SIGALRM: Ray runs a task in its worker's main thread) are the pool's. Workers open the
evidence themselves: its paths must be readable on every node (shared storage). A task whose worker dies is
retried by Ray on another worker; one that still fails goes through the pool's `recover`, which narrows it
down to the file that ends its worker and records that file against its item.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from rich.progress import Progress, TaskID

from vigie.config import Settings
from vigie.errors import VigieError
from vigie.records import ItemRecord
from vigie.scan.engines import StoreRecords
from vigie.scan.pipeline import Unit, analyse_batch, recover
from vigie.signals.analysed import Analysed
from vigie.sources import Entry

_TASK_RETRIES = 3  # a worker (or node) lost mid-task: Ray runs the task again elsewhere, this many times
_UNITS_PER_CPU = 3  # units in flight per CPU of the cluster: workers never wait, memory stays bounded
_POLL_SECONDS = 1.0


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise VigieError("the ray engine needs Ray: pip install 'vigie[cluster]'", exit_code=2) from exc
    return ray


@contextmanager
def ray_engine(address: str | None, workers: int, progress: Progress | None) -> Iterator[RayEngine]:
    """Connect to the cluster at `address`; without one, start a local Ray of `workers` CPUs in its own
    temporary folder, and shut it down after the scan (never `ray stop`, which would end every Ray here).
    A Ray this process started before (a test, a notebook) is used as it is."""
    ray = _ray()
    owned, temp = not ray.is_initialized(), None
    if owned:
        try:
            if address:
                ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
            else:
                temp = tempfile.mkdtemp(prefix="vigie-ray-")
                ray.init(address="local", num_cpus=workers, _temp_dir=temp, include_dashboard=False,
                         log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            if temp:
                shutil.rmtree(temp, ignore_errors=True)
            raise VigieError(f"cannot start Ray ({address or 'local'}): {exc}") from exc
    try:
        yield RayEngine(ray, progress)
    finally:
        if owned:
            ray.shutdown()
        if temp:
            shutil.rmtree(temp, ignore_errors=True)


@dataclass
class _CaseIfReachable:
    """The case's copy finder, as seen from a worker: a node that cannot read the case only loses the reuse
    of findings (the file is analysed afresh), never the file."""

    first_copy: Callable[[str], int | None]

    def __call__(self, sha256: str) -> int | None:
        try:
            return self.first_copy(sha256)
        except Exception:  # the case is on another machine, or not readable here
            return None


def _analyse_unit(root: str, entries: list[Entry], settings: Settings, analysed: Analysed
                  ) -> tuple[list[ItemRecord], str]:
    """The Ray task: a unit's records, and which worker made them (for per-worker throughput)."""
    return analyse_batch(root, entries, settings, analysed), f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class RayEngine:
    ray: Any
    progress: Progress | None = None
    rows: dict[str, TaskID] = field(default_factory=dict)  # per-worker progress rows: files, files/s
    files: dict[str, int] = field(default_factory=dict)

    def __call__(self, work: deque[Unit], settings: Settings, store_records: StoreRecords, analysed: Analysed
                 ) -> None:
        ray = self.ray
        from ray.exceptions import RayError, RayTaskError

        task = ray.remote(max_retries=_TASK_RETRIES, num_cpus=1)(_analyse_unit)
        slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
        settings_ref = ray.put(settings)
        finder = _CaseIfReachable(analysed.first_copy) if analysed.first_copy is not None else None
        analysed_ref = ray.put(replace(analysed, first_copy=finder))
        pending: dict[Any, Unit] = {}
        try:
            while work or pending:
                while work and len(pending) < slots * _UNITS_PER_CPU:
                    unit = work.popleft()
                    pending[task.remote(unit.root, unit.entries, settings_ref, analysed_ref)] = unit
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=_POLL_SECONDS)
                if ready:
                    ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)
                lost = []
                for ref in ready:
                    unit = pending.pop(ref)
                    try:
                        records, worker = ray.get(ref)
                    except RayTaskError:
                        raise  # a defect of ours outside analyse_batch's guard: never hidden
                    except RayError:  # its worker died on every try (a crash in a decoder, out of memory)
                        lost.append(replace(unit, alone=len(unit.entries) == 1))  # alone: that file is the cause
                        continue
                    store_records(unit.source_id, records, len(unit.entries))
                    self._count(worker, len(unit.entries))
                if lost:
                    recover(lost, {}, work, store_records)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        finally:
            self._finish()

    def _count(self, worker: str, files: int) -> None:
        if self.progress is None:
            return
        if worker not in self.rows:
            self.rows[worker] = self.progress.add_task(f"  worker {worker}", total=None)
        self.files[worker] = self.files.get(worker, 0) + files
        self.progress.advance(self.rows[worker], files)

    def _finish(self) -> None:
        if self.progress is not None:
            for worker, row in self.rows.items():
                self.progress.update(row, total=self.files[worker])
