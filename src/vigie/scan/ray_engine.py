"""The Ray engine: the pool's per-file analysis as Ray tasks, on a cluster or on a local Ray started for the scan.

Each task analyses one unit of files with the pool's own `analyse_batch`, so answers, bad-input handling and
the per-file budget (SIGALRM: Ray runs a task in its worker's main thread) are the pool's; a worker stalled in C
code, which the alarm cannot reach, shows its file on a watch (a Ray actor) and its task is cancelled, as the
pool ends such a worker. Workers open the
evidence themselves: its paths must be readable on every node (shared storage). A task whose worker (or node)
is lost goes through the pool's `recover`: its files are run again, one per task, on whichever workers are
free, and a file that ends its worker each time is recorded against its item. Ray's own task retries are off:
they would run a file that crashes its worker three more times, and an attempt cut short would leave its
file on the watch, read as a stall. When the case is in PostgreSQL, each task stores its unit's records itself
(one transaction, through its worker's own connection) and sends back only counts: the driver tracks progress
and resume, and no unit's records cross the object store.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, cast

from rich.progress import Progress, TaskID

from vigie.config import Settings
from vigie.errors import VigieError
from vigie.records import ItemRecord
from vigie.scan.engines import ItemWriter, StoreRecords
from vigie.scan.pipeline import Unit, analyse_batch, recover
from vigie.signals.analysed import Analysed
from vigie.signals.budget import stall_message, watched_by
from vigie.sources import Entry

_UNITS_PER_CPU = 3  # units in flight per CPU of the cluster: workers never wait, memory stays bounded
_POLL_SECONDS = 1.0
# After an interrupt, how long the scan waits for its cancelled units to end: a unit dispatched as it was
# cancelled may still run, and into PostgreSQL it writes; the scan returns only once none does (or this passes).
_CANCEL_WAIT_SECONDS = 30.0


def _ray() -> Any:
    try:
        import ray
        import ray._private.utils as ray_utils
    except ImportError as exc:
        raise VigieError("the ray engine needs Ray: pip install 'vigie[cluster]'", exit_code=2) from exc
    # Ray names the job by this process's command line, which it sends as UTF-8: evidence given by a path that
    # is not UTF-8 made it refuse to start; the name is only shown, so the path's bad bytes are shown replaced
    entrypoint = cast(Callable[[], object], ray_utils.get_entrypoint_name)
    if not getattr(entrypoint, "vigie_safe", False):
        def safe_entrypoint() -> str:
            return str(entrypoint()).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        safe_entrypoint.vigie_safe = True  # type: ignore[attr-defined]
        ray_utils.get_entrypoint_name = safe_entrypoint
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
            if address:  # the package of this scan goes to the workers; its dependencies must be installed there
                import vigie

                ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING,
                         runtime_env={"py_modules": [vigie]})
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


class _StallWatch:
    """A Ray actor: the file each running task is analysing, since when (the actor's clock), and its budget."""

    def __init__(self) -> None:
        self.running: dict[str, tuple[float, float, str]] = {}

    def post(self, task: str, label: str, seconds: float) -> None:
        self.running[task] = (time.monotonic(), seconds, label)

    def clear(self, task: str) -> None:
        self.running.pop(task, None)

    def stalled(self) -> list[tuple[str, str, str]]:
        """(task id, item relpath, message) of the tasks far past their file's budget; each said once."""
        now, found = time.monotonic(), []
        for task, (started, seconds, label) in list(self.running.items()):
            if message := stall_message(started, seconds, now):
                found.append((task, label, message))
                del self.running[task]
        return found


@dataclass
class _Watched:
    """The budget's board in a Ray task: posts go to the watch, without waiting for it."""

    watch: Any
    task: str

    def post(self, slot: int, label: str, seconds: float) -> None:
        self.watch.post.remote(self.task, label, seconds)

    def clear(self, slot: int) -> None:
        self.watch.clear.remote(self.task)


def _analyse_unit(root: str, entries: list[Entry], settings: Settings, analysed: Analysed, watch: Any,
                  source_id: int, writer: ItemWriter | None) -> tuple[list[ItemRecord], tuple[int, int], str]:
    """The Ray task: a unit's records, or with `writer` (a shared store) none, the worker having stored them
    itself; (items added, records with errors) when it did; and which worker it was (for per-worker throughput)."""
    import ray

    worker = f"{socket.gethostname()}:{os.getpid()}"
    if not os.path.lexists(root):  # a node without the evidence: a set-up error, not the files' fault
        raise VigieError(f"the evidence {root} cannot be found on the Ray worker {worker}: mount it at the same path "
                         "on every node, then run the same command to resume")
    watched_by(_Watched(watch, ray.get_runtime_context().get_task_id() or ""), 0)
    records = analyse_batch(root, entries, settings, analysed)
    if writer is None:
        return records, (0, 0), worker
    return [], (writer(source_id, records), sum(1 for r in records if r.errors)), worker


@dataclass
class RayEngine:
    ray: Any
    progress: Progress | None = None
    rows: dict[str, TaskID] = field(default_factory=dict)  # a progress row per node: files, files/s per worker
    files: dict[str, int] = field(default_factory=dict)  # files analysed per worker (host:pid)
    started: float = 0.0

    def __call__(self, work: deque[Unit], settings: Settings, store_records: StoreRecords, analysed: Analysed
                 ) -> None:
        ray = self.ray
        from ray.exceptions import RayError, RayTaskError

        self.started = time.monotonic()

        task = ray.remote(max_retries=0, num_cpus=1)(_analyse_unit)
        slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
        settings_ref = ray.put(settings)
        finder = _CaseIfReachable(analysed.first_copy) if analysed.first_copy is not None else None
        analysed_ref = ray.put(replace(analysed, first_copy=finder))
        watch = ray.remote(num_cpus=0)(_StallWatch).remote()
        pending: dict[Any, Unit] = {}
        stalls: dict[Any, dict[str, str]] = {}  # a task cancelled for a stall -> {its file: the error}
        try:
            while work or pending:
                while work and len(pending) < slots * _UNITS_PER_CPU:
                    unit = work.popleft()
                    pending[task.remote(unit.root, unit.entries, settings_ref, analysed_ref, watch, unit.source_id,
                                        store_records.shared)] = unit
                ray.wait(list(pending), num_returns=1, timeout=_POLL_SECONDS)
                by_task = {ref.task_id().hex(): ref for ref in pending}
                for task_id, item, message in ray.get(watch.stalled.remote()):
                    if task_id in by_task:
                        stalls.setdefault(by_task[task_id], {})[item] = message
                        ray.cancel(by_task[task_id], force=True)  # ends its worker: the C code never returns
                ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)
                lost, stalled = [], {}
                for ref in ready:
                    unit = pending.pop(ref)
                    try:
                        records, (added, with_errors), worker = ray.get(ref)
                    except RayTaskError as failure:
                        if isinstance(failure.cause, VigieError):
                            raise VigieError(str(failure.cause)) from None
                        raise  # a defect of ours outside analyse_batch's guard: never hidden
                    except RayError:  # cancelled above, or its worker or node died (a crash, out of memory)
                        lost.append(unit)
                        stalled.update(stalls.pop(ref, {}))
                        watch.clear.remote(ref.task_id().hex())
                        continue
                    if store_records.shared is None:
                        store_records(unit.source_id, records, len(unit.entries))
                    else:
                        store_records.stored(len(unit.entries), added, with_errors)
                    self._count(worker, len(unit.entries))
                if lost:
                    recover(lost, stalled, work, store_records)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            if pending:
                ray.wait(list(pending), num_returns=len(pending), timeout=_CANCEL_WAIT_SECONDS)
            raise
        finally:
            self._finish()

    def _count(self, worker: str, files: int) -> None:
        self.files[worker] = self.files.get(worker, 0) + files
        if self.progress is None:
            return
        node = _node(worker)
        if node not in self.rows:
            self.rows[node] = self.progress.add_task("", total=None)
        self.progress.update(self.rows[node], advance=files, description=self._rate(node))

    def _node_files(self, node: str) -> list[int]:
        return [files for worker, files in self.files.items() if _node(worker) == node]

    def _rate(self, node: str) -> str:
        """A node's files per second since the engine began, and per worker (the bar's rate is the last 30 s)."""
        shares = self._node_files(node)
        rate = sum(shares) / max(time.monotonic() - self.started, 1e-3)
        return f"  {node}: {len(shares)} worker(s), {rate:.1f} files/s, {rate / len(shares):.1f} each"

    def _finish(self) -> None:
        if self.progress is not None:
            for node, row in self.rows.items():
                self.progress.update(row, total=sum(self._node_files(node)), description=self._rate(node))


def _node(worker: str) -> str:
    return worker.rsplit(":", 1)[0]
