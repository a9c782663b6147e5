"""Scan engines: where the per-file analysis of a scan runs.

The pipeline lists the evidence, skips what a case already holds (resume), cuts the rest into units of
files, and hands them to an engine; the engine returns each unit's records through `store_records`, which
writes them to the case from the scan's own process. An engine whose workers could write to a shared store
(PostgreSQL) would take the store there instead of `store_records`: that is the seam.
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

# (source id, records of a unit, files the unit held) -> None: stores them and advances the progress.
StoreRecords = Callable[[int, list[ItemRecord], int], None]


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
