"""A file one of Vigie's own readers (FAT, exFAT) lists in The Sleuth Kit's stead, as the read-back reads it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OwnFile:
    """Where its content lies in the media, or why it cannot be read."""

    address: int  # The Sleuth Kit's metadata address for its directory entry
    size: int
    runs: list[tuple[int, int]]  # (position in the media, length), in order
    error: str | None
