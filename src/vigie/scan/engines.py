"""Scan engines: where the per-file analysis of a scan runs.

The pipeline lists the evidence, skips what a case already holds (resume), cuts the rest into units of
files, and hands them to an engine; the engine returns each unit's records through `store_records`, which
writes them to the case from the scan's own process. Where the store is shared (PostgreSQL), `store_records`
also offers a picklable writer: an engine whose workers can reach the store (Ray) has them write their units
themselves, and only tells `store_records` what was stored, for the counts and the progress.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from vigie.config import Settings
from vigie.records import ItemRecord
from vigie.signals.analysed import Analysed

if TYPE_CHECKING:
    from rich.progress import Progress

    from vigie.scan.pipeline import Unit

ENGINES = ("pool", "ray")

# (source id, records of a unit) -> how many items it added: a shared store's writer, called by workers.
ItemWriter = Callable[[int, list[ItemRecord]], int]


class StoreRecords(Protocol):
    # None: only the scan's process writes to the case
    shared: ItemWriter | None

    def __call__(self, source_id: int, records: list[ItemRecord], files: int) -> None:
        """Store a unit's records (from `files` files) and advance the progress."""

    def stored(self, files: int, added: int, with_errors: int) -> None:
        """A unit that a worker stored itself through `shared`: counted, and the progress advanced."""


class Engine(Protocol):
    def __call__(self, work: deque[Unit], settings: Settings, store_records: StoreRecords, analysed: Analysed
                 ) -> None:
        """Analyse every unit of `work` (the engine may queue units again there), storing each unit's records
        once: bounded memory (a few units in flight per worker), each file within settings.file_seconds,
        a file that ends its worker recorded against its item."""


@contextmanager
def open_engine(name: str, settings: Settings, address: str | None = None, progress: Progress | None = None
                ) -> Iterator[Engine]:
    """The engine called `name` (one of ENGINES) for one scan, shut down after it."""
    if name == "pool":
        from vigie.scan.pipeline import analyse_in_pool

        yield analyse_in_pool
        return
    from vigie.scan.ray_engine import ray_engine

    with ray_engine(address, settings.workers, progress) as engine:
        yield engine
