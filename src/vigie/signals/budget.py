"""A wall-clock budget per file, so no single file stalls a scan.

Python code past its budget is interrupted by SIGALRM (main thread only). A stall inside C code cannot be
interrupted, and may hold the GIL: so each pool worker also shows, in memory shared with the scan, which
file it is analysing since when, and the scan ends a worker that runs far past the budget.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from types import FrameType
from typing import Any, Protocol

_STALL_FACTOR = 2  # a worker is ended once a file has run this many times its budget
_LABEL_BYTES = 4096


class FileTimeout(BaseException):
    """Raised inside the analysis of a file past its budget. Not an Exception: generic handlers must not catch
    it and carry on with the same file."""


def timeout_message(seconds: float) -> str:
    return f"analysis stopped after {seconds:g} s, the per-file budget (file_seconds in vigie.toml)"


def stall_message(started: float, seconds: float, now: float) -> str | None:
    """The error of a file analysed since `started` (monotonic) under a budget of `seconds`, once its worker
    must be ended; None before."""
    if not started or now - started <= _STALL_FACTOR * seconds:
        return None
    return f"{timeout_message(seconds)}; the analysis did not respond, so its worker was ended"


@dataclass
class _Budget:
    active: bool = False
    seconds: float = 0.0


class Board(Protocol):
    """Where a worker shows the scan which file it is analysing (StallBoard; the Ray engine's watch)."""

    def post(self, slot: int, label: str, seconds: float) -> None: ...

    def clear(self, slot: int) -> None: ...


_current = _Budget()
_board: tuple[Board, int] | None = None  # this worker's slot on the scan's board


def watched_by(board: Board, slot: int) -> None:
    """In a worker: post each file's start to `board`, so the scan can end a worker stalled in C code."""
    global _board
    _board = (board, slot)


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    if _current.active:
        _current.active = False
        raise FileTimeout(timeout_message(_current.seconds) + "; the file's digests are kept")


@contextmanager
def file_budget(seconds: float, label: str) -> Iterator[None]:
    """Raise FileTimeout inside the block once `seconds` have passed. Outside the main thread, or within
    another budget, the block runs unbounded."""
    if seconds <= 0 or _current.active or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    _current.seconds = seconds
    _current.active = True
    if _board is not None:
        _board[0].post(_board[1], label, seconds)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        _current.active = False  # first, so an alarm racing the end of the block raises nothing
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if _board is not None:
            _board[0].clear(_board[1])


class StallBoard:
    """Shared memory where each worker of one pool posts the file it is analysing, since when, and its budget."""

    def __init__(self, context: BaseContext, workers: int) -> None:
        self.slots = workers
        self.pids: Any = context.Array("q", workers, lock=False)
        self.times: Any = context.Array("d", 2 * workers, lock=False)  # started (monotonic), budget; 0: idle
        self.labels: Any = context.Array("c", workers * _LABEL_BYTES, lock=False)
        self.taken: Any = context.Value("i", 0)

    def join(self, pid: int) -> None:
        """In a new worker: take a slot."""
        with self.taken.get_lock():
            slot = self.taken.value
            self.taken.value += 1
        if slot < self.slots:
            self.pids[slot] = pid
            watched_by(self, slot)

    def post(self, slot: int, label: str, seconds: float) -> None:
        data = label.encode("utf-8", "surrogatepass")[:_LABEL_BYTES]
        start = slot * _LABEL_BYTES
        self.labels[start : start + _LABEL_BYTES] = data.ljust(_LABEL_BYTES, b"\0")
        self.times[2 * slot + 1] = seconds
        self.times[2 * slot] = time.monotonic()

    def clear(self, slot: int) -> None:
        self.times[2 * slot] = 0.0

    def stalled(self) -> list[tuple[int, str, str]]:
        """(pid, item relpath, message) of the workers far past their file's budget."""
        found = []
        now = time.monotonic()
        for slot in range(self.slots):
            message = stall_message(self.times[2 * slot], self.times[2 * slot + 1], now)
            if message:
                raw = bytes(self.labels[slot * _LABEL_BYTES : (slot + 1) * _LABEL_BYTES]).rstrip(b"\0")
                try:
                    label = raw.decode("utf-8", "surrogatepass")
                except UnicodeDecodeError:  # cut inside a character: the name is matched by its start
                    label = raw.decode("utf-8", "ignore")
                found.append((int(self.pids[slot]), label, message))
        return found
