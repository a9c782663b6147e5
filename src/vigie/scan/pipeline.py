"""The scan pipeline: sources -> analysis in a process pool -> case store -> matching -> stacks.

Each finished batch is committed at once, so a scan killed at any point keeps every item it stored, and a
re-run skips them and completes the rest.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from multiprocessing.context import BaseContext
from typing import Any

from rich.progress import Progress, TaskID

from vigie.config import Settings
from vigie.matching.engine import match_pending
from vigie.matching.roles import MATCHING_LOCK
from vigie.matching.stacks import build_stacks
from vigie.records import ItemRecord
from vigie.scan.engines import Engine, ItemWriter, StoreRecords
from vigie.scan.roles import ScanStore
from vigie.signals.analysed import ANALYSIS_VERSION, TOO_LARGE_NOTE, UNFINISHED_STAGES, Analysed, reusable_scans
from vigie.signals.analysis import CHUNK, analyse_entry, internal_failure, load_models
from vigie.signals.budget import StallBoard
from vigie.signals.crypto import StreamingDigests
from vigie.sources import Entry, open_source
from vigie.sources.base import ARCHIVE_SEPARATOR
from vigie.workers import start_worker

SCAN_START_ACTION = "scan-start"  # audited as a scan begins, before its row is written

_BATCH_FILES = 32
_BATCH_BYTES = 64 * 1024 * 1024
CHANGED_NOTE = ("changed since it was scanned (its size or modification time differ): this case keeps what was "
                "read then and a later scan does not read it again; `vigie verify` lists it, and a new case scans "
                "the new content")
_POLL_SECONDS = 1.0  # how often the scan looks for workers far past a file's budget


@dataclass
class ScanResult:
    scan_id: int
    files_seen: int = 0
    files_skipped: int = 0
    files_changed: int = 0  # of those skipped, files whose size or time differ from the scan's
    items_added: int = 0
    items_with_errors: int = 0
    matches: dict[str, int] = field(default_factory=dict)
    stacks: int = 0
    seconds: float = 0.0
    status: str = "running"

    def counts(self) -> dict[str, Any]:
        return {
            "files_seen": self.files_seen,
            "files_skipped_as_done": self.files_skipped,
            "files_changed_since_scanned": self.files_changed,
            "items_added": self.items_added,
            "items_with_errors": self.items_with_errors,
            "new_matches": self.matches,
            "stacks": self.stacks,
            "seconds": round(self.seconds, 2),
        }


def analyse_batch(
    root: str, entries: list[Entry], settings: Settings, analysed: Analysed | None = None
) -> list[ItemRecord]:
    """Worker entry point: every record of a batch of top-level entries. With `analysed`, content analysed
    before (in the case, or earlier in this batch) is not decoded again."""
    source = open_source(root)
    load_models(settings)
    records: list[ItemRecord] = []
    batch = None if analysed is None else replace(analysed, batch={})  # copies by path stay in one source
    for entry in entries:
        try:
            records.extend(analyse_entry(entry, lambda e=entry: source.open(e.relpath), settings, batch))
        except Exception as exc:  # a defect of ours must cost one file, never the scan, nor its digests
            failed = _culprit(root, entry, "internal", internal_failure(exc))
            if batch is not None:
                batch.forget(entry.relpath)  # its records are lost: no later copy may point to them
            records.append(failed)
    return records


def _batches(entries: list[Entry]) -> Iterator[list[Entry]]:
    batch: list[Entry] = []
    size = 0
    for entry in entries:
        batch.append(entry)
        size += entry.size or 0
        if len(batch) >= _BATCH_FILES or size >= _BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def run_scan(
    store: ScanStore,
    paths: list[str],
    settings: Settings,
    progress: Progress | None = None,
    actor: str = "vigie",
    engine: Engine | None = None,
) -> ScanResult:
    """Scan `paths` into `store`; `engine` runs the per-file analysis (None: this machine's process pool)."""
    started = time.monotonic()
    # audited before its row is written: a case whose log is empty while it holds a scan was wiped, even where
    # that scan was killed before it could say how it ended
    store.append_audit(actor, SCAN_START_ACTION, {"paths": paths})
    scan_id = store.begin_scan({"paths": paths, "settings": settings.as_dict(), "analysis": ANALYSIS_VERSION})
    for earlier, arguments in store.notice_interrupted_scans(scan_id):  # killed: they said nothing themselves
        store.append_audit(actor, "scan", {"scan_id": earlier, "paths": json.loads(arguments).get("paths", []),
                                           "status": "interrupted", "noticed_by_scan": scan_id})
    result = ScanResult(scan_id=scan_id)
    plans: list[tuple[int, str, list[Entry], list[Entry]]] = []
    walking = progress.add_task("Listing evidence", total=None) if progress else None
    for given in paths:
        source = open_source(given)
        source_id = store.add_source(given, source.root, source.kind)
        done = store.finished_files(source_id)
        readable, unreadable, changed = [], [], []
        for entry in source.entries():
            result.files_seen += 1
            if entry.relpath in done:
                result.files_skipped += 1
                size, mtime = done[entry.relpath]
                if size is not None and entry.size is not None and (size, mtime) != (entry.size, entry.mtime):
                    changed.append(entry.relpath)
            elif entry.error:
                unreadable.append(entry)
            else:
                readable.append(entry)
            if progress and walking is not None and result.files_seen % 1000 == 0:
                progress.update(walking, completed=result.files_seen)
        plans.append((source_id, source.root, readable, unreadable))
        if changed:  # the case keeps what was read then; the new content would go unread, unsaid
            store.note_changed(source_id, changed, CHANGED_NOTE)
            result.files_changed += len(changed)
    if progress and walking is not None:
        progress.update(walking, completed=result.files_seen, total=result.files_seen)

    to_do = sum(len(r) + len(u) for _, _, r, u in plans)
    task = progress.add_task("Hashing files", total=to_do) if progress else None

    store_records = _Storing(store, scan_id, result, progress, task, store.item_writer(scan_id))

    try:
        for source_id, _, _, unreadable in plans:
            if unreadable:
                store_records(source_id, [r for e in unreadable for r in analyse_entry(e, None, settings)],
                              len(unreadable))
        scans = reusable_scans(store.scan_arguments(), settings)
        analysed = Analysed(store.copy_finder(scans, UNFINISHED_STAGES, TOO_LARGE_NOTE) if scans else None)
        work = deque(Unit(source_id, root, batch)
                     for source_id, root, readable, _ in plans for batch in _batches(readable))
        if work:
            (engine or analyse_in_pool)(work, settings, store_records, analysed)
        result.status = "complete"
    except BaseException:  # Ctrl-C, a full disk, a defect: the scan stopped before its end
        result.status = "interrupted"
        raise
    finally:
        if result.status != "complete":
            result.seconds = time.monotonic() - started
            store.finish_scan(scan_id, result.status, result.counts())
            store.append_audit(actor, "scan", {"scan_id": scan_id, "paths": paths, "status": result.status,
                                               **result.counts()})

    # Every item not yet matched, whichever run stored it: a killed run's items are matched here.
    matching = progress.add_task("Matching hash lists", total=None) if progress else None
    matched = 0

    def advance(items: int) -> None:
        nonlocal matched
        matched += items
        if progress and matching is not None:
            progress.update(matching, completed=matched)

    with store.exclusive(MATCHING_LOCK):
        result.matches = match_pending(store, settings, progress=advance)
        if progress and matching is not None:
            progress.update(matching, total=matched)
        result.stacks = build_stacks(store, settings)
    result.seconds = time.monotonic() - started
    store.finish_scan(scan_id, result.status, result.counts())
    store.append_audit(actor, "scan", {"scan_id": scan_id, "paths": paths, "status": result.status,
                                       **result.counts()})
    store.record_case_state(actor)
    return result


@dataclass
class _Storing:
    """A scan's StoreRecords: a unit's records go to the case, its counts to the result, its files to the bar."""

    store: ScanStore
    scan_id: int
    result: ScanResult
    progress: Progress | None
    task: TaskID | None
    shared: ItemWriter | None

    def __call__(self, source_id: int, records: list[ItemRecord], files: int) -> None:
        added = self.store.add_items(source_id, self.scan_id, records)
        self.stored(files, len(added), sum(1 for r in records if r.errors))

    def stored(self, files: int, added: int, with_errors: int) -> None:
        self.result.items_added += added
        self.result.items_with_errors += with_errors
        if self.progress and self.task is not None:
            self.progress.advance(self.task, files)


@dataclass
class Unit:
    """Top-level entries analysed together in one worker call."""

    source_id: int
    root: str
    entries: list[Entry]
    alone: bool = False  # run with nothing else in flight, to tell which file ends its worker


def _init_worker(parent_pid: int, board: StallBoard) -> None:
    start_worker(parent_pid)
    board.join(os.getpid())


def analyse_in_pool(work: deque[Unit], settings: Settings, store_records: StoreRecords, analysed: Analysed) -> None:
    """The default engine: this machine's worker processes (or this process, for one worker)."""
    if settings.workers <= 1:
        for unit in work:
            store_records(unit.source_id, analyse_batch(unit.root, unit.entries, settings, analysed),
                          len(unit.entries))
        return
    workers = min(settings.workers, os.cpu_count() or 1, len(work))
    context = multiprocessing.get_context()
    if context.get_start_method() == "fork":
        load_models(settings)  # once here, for every forked worker (the detector alone took 50 ms in each)
    pending: dict[Future[list[ItemRecord]], Unit] = {}
    pool, board = _new_pool(context, workers)
    try:
        while work or pending:
            while work and len(pending) < workers * 3 and not any(u.alone for u in pending.values()):
                if work[0].alone and pending:
                    break
                unit = work.popleft()
                pending[pool.submit(analyse_batch, unit.root, unit.entries, settings, analysed)] = unit
            finished, _ = wait(pending, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
            stalled: dict[str, str] = {}
            for pid, item, message in board.stalled():
                stalled[item] = message
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)  # our own worker: the pool breaks, and is replaced below
            lost = []
            for future in finished:
                unit = pending.pop(future)
                try:
                    records = future.result()
                except BrokenProcessPool:
                    lost.append(unit)
                    continue
                store_records(unit.source_id, records, len(unit.entries))
            if not lost and not stalled:
                continue
            wait(pending)  # a broken pool fails every call in flight at once
            for future, unit in pending.items():
                failure = future.exception()
                if failure is None:
                    store_records(unit.source_id, future.result(), len(unit.entries))
                elif isinstance(failure, BrokenProcessPool):
                    lost.append(unit)
                else:
                    raise failure
            pending.clear()
            pool.shutdown(wait=True, cancel_futures=True)
            pool, board = _new_pool(context, workers)
            recover(lost, stalled, work, store_records)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _new_pool(context: BaseContext, workers: int) -> tuple[ProcessPoolExecutor, StallBoard]:
    board = StallBoard(context, workers)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                               initargs=(os.getpid(), board))
    return pool, board


def recover(lost: list[Unit], stalled: dict[str, str], work: deque[Unit], store_records: StoreRecords) -> None:
    """After a worker died: record the file that ended it, and queue the others again. A file the scan ended
    for running far past its budget is known by name; otherwise the lost calls are retried file by file, then
    alone, until the file that ends its worker is the only one running."""
    named = {id(e): message for unit in lost for e in unit.entries if (message := _stall_message(e, stalled))}
    retry: list[Unit] = []
    for unit in lost:
        for entry in unit.entries:
            if id(entry) in named:
                store_records(unit.source_id, [_culprit(unit.root, entry, "timeout", named[id(entry)])], 1)
        rest = [e for e in unit.entries if id(e) not in named]
        if not rest:
            continue
        if named:  # the others were ended with the pool: innocent
            retry.append(Unit(unit.source_id, unit.root, rest))
        elif unit.alone:
            message = ("the worker process analysing this file died (out of memory, a crash in a decoder, or a "
                       "stall); the file's digests are kept")
            store_records(unit.source_id, [_culprit(unit.root, rest[0], "crash", message)], 1)
        elif len(rest) > 1:
            retry.extend(Unit(unit.source_id, unit.root, [entry]) for entry in rest)
        else:
            retry.append(Unit(unit.source_id, unit.root, rest, alone=True))
    work.extendleft(reversed(retry))


def _stall_message(entry: Entry, stalled: dict[str, str]) -> str:
    for item, message in stalled.items():
        if item == entry.relpath or item.startswith(entry.relpath + ARCHIVE_SEPARATOR):
            return message if item == entry.relpath else f"{message} (at {item})"
    return ""


def _culprit(root: str, entry: Entry, stage: str, message: str) -> ItemRecord:
    """The record of a file whose analysis ended its worker: its digests, taken here, and the error."""
    record = ItemRecord(relpath=entry.relpath, size=entry.size, mtime=entry.mtime, ctime=entry.ctime,
                        atime=entry.atime)
    record.add_error(stage, message)
    digests = StreamingDigests()
    try:
        with open_source(root).open(entry.relpath) as stream:
            while chunk := stream.read(CHUNK):
                digests.update(chunk)
    except OSError as exc:
        record.add_error("read", f"cannot read: {exc.strerror or exc}")
        return record
    record.digests = digests.result()
    return record
