"""The scan pipeline: sources -> analysis in a process pool -> case store -> matching -> stacks.

Each finished batch is committed at once, so a scan killed at any point keeps every item it stored, and a
re-run skips them and completes the rest.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from rich.progress import Progress

from vigie.analysis import ItemRecord, analyse_entry
from vigie.config import Settings
from vigie.matching.engine import match_items
from vigie.sources import Entry, open_source
from vigie.store.audit import record_case_state
from vigie.store.sqlite import SqliteCaseStore
from vigie.triage import build_stacks

_BATCH_FILES = 32
_BATCH_BYTES = 64 * 1024 * 1024


class ScanError(Exception):
    """The scan itself could not go on (as opposed to a bad file, which is recorded and skipped)."""


@dataclass
class ScanResult:
    scan_id: int
    files_seen: int = 0
    files_skipped: int = 0
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
            "items_added": self.items_added,
            "items_with_errors": self.items_with_errors,
            "new_matches": self.matches,
            "stacks": self.stacks,
            "seconds": round(self.seconds, 2),
        }


def analyse_batch(root: str, entries: list[Entry], settings: Settings) -> list[ItemRecord]:
    """Worker entry point: every record of a batch of top-level entries."""
    source = open_source(root)
    records: list[ItemRecord] = []
    for entry in entries:
        try:
            records.extend(analyse_entry(entry, lambda e=entry: source.open(e.relpath), settings))
        except Exception as exc:  # a defect of ours must cost one file, never the scan
            failed = ItemRecord(relpath=entry.relpath, size=entry.size, mtime=entry.mtime)
            failed.add_error("internal", f"analysis failed ({type(exc).__name__}: {exc}); please report this")
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
    store: SqliteCaseStore,
    paths: list[str],
    settings: Settings,
    progress: Progress | None = None,
    actor: str = "vigie",
) -> ScanResult:
    started = time.monotonic()
    scan_id = store.begin_scan({"paths": paths, "settings": settings.as_dict()})
    result = ScanResult(scan_id=scan_id)
    plans: list[tuple[int, str, list[Entry], list[Entry]]] = []
    walking = progress.add_task("Listing evidence", total=None) if progress else None
    for given in paths:
        source = open_source(given)
        source_id = store.add_source(given, source.root, source.kind)
        done = store.finished_relpaths(source_id)
        readable, unreadable = [], []
        for entry in source.entries():
            result.files_seen += 1
            if entry.relpath in done:
                result.files_skipped += 1
            elif entry.error:
                unreadable.append(entry)
            else:
                readable.append(entry)
            if progress and walking is not None and result.files_seen % 1000 == 0:
                progress.update(walking, completed=result.files_seen)
        plans.append((source_id, source.root, readable, unreadable))
    if progress and walking is not None:
        progress.update(walking, completed=result.files_seen, total=result.files_seen)

    to_do = sum(len(r) + len(u) for _, _, r, u in plans)
    task = progress.add_task("Hashing files", total=to_do) if progress else None

    def store_records(source_id: int, records: list[ItemRecord], files: int) -> None:
        added = store.add_items(source_id, scan_id, records)
        result.items_added += len(added)
        result.items_with_errors += sum(1 for r in records if r.errors)
        if progress and task is not None:
            progress.advance(task, files)

    try:
        for source_id, _, _, unreadable in plans:
            if unreadable:
                store_records(source_id, [r for e in unreadable for r in analyse_entry(e, None, settings)],
                              len(unreadable))
        _analyse_all(plans, settings, store_records)
        result.status = "complete"
    except KeyboardInterrupt:
        result.status = "interrupted"
        raise
    finally:
        if result.status != "complete":
            result.seconds = time.monotonic() - started
            store.finish_scan(scan_id, result.status, result.counts())
            store.append_audit(actor, "scan", {"scan_id": scan_id, "paths": paths, "status": result.status,
                                               **result.counts()})

    new_items = store.item_ids(scan_id)
    matching = progress.add_task("Matching hash lists", total=len(new_items)) if progress else None
    result.matches = match_items(
        store, settings, new_items,
        progress=(lambda n: progress.advance(matching, n)) if progress and matching is not None else None,
    )
    if progress and matching is not None:
        progress.update(matching, completed=len(new_items))
    result.stacks = build_stacks(store, settings)
    result.seconds = time.monotonic() - started
    store.finish_scan(scan_id, result.status, result.counts())
    store.append_audit(actor, "scan", {"scan_id": scan_id, "paths": paths, "status": result.status,
                                       **result.counts()})
    record_case_state(store, actor)
    return result


def _analyse_all(
    plans: list[tuple[int, str, list[Entry], list[Entry]]], settings: Settings, store_records: Any
) -> None:
    work = [(source_id, root, batch) for source_id, root, readable, _ in plans for batch in _batches(readable)]
    if settings.workers <= 1 or len(work) <= 1:
        for source_id, root, batch in work:
            store_records(source_id, analyse_batch(root, batch, settings), len(batch))
        return
    workers = min(settings.workers, os.cpu_count() or 1, len(work))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: dict[Future[list[ItemRecord]], tuple[int, int]] = {}
        queue = iter(work)
        try:
            while True:
                while len(pending) < workers * 3:
                    try:
                        source_id, root, batch = next(queue)
                    except StopIteration:
                        break
                    pending[pool.submit(analyse_batch, root, batch, settings)] = (source_id, len(batch))
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    source_id, files = pending.pop(future)
                    store_records(source_id, future.result(), files)
        except BrokenProcessPool as exc:
            raise ScanError(
                "a worker process died (out of memory, or a crash in an image decoder); every finished item is "
                "stored: run the same scan again to resume, with --workers 1 to find the file that causes it"
            ) from exc
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
