"""An MBR's partitions read by hand, to check what The Sleuth Kit read of it.

The Sleuth Kit reads a GPT instead of an MBR whose first entry is the GPT's protective one, so a hybrid MBR
(a Boot Camp Mac's) may list a partition the GPT does not; and it stops an extended partition's chain of
logical partitions after 128 of them. Both would hide a partition's files without a word.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

SECTOR = 512
_BOOT_SIGNATURE = b"\x55\xaa"
_ENTRIES_AT = 446
_PROTECTIVE = 0xEE  # a GPT's protective entry
_EXTENDED = frozenset({0x05, 0x0F, 0x85})
MOST_LOGICAL = 4096  # an extended partition's chain is walked this far (a loop, or a hostile chain, ends it)


@dataclass(frozen=True)
class MbrPartition:
    start: int  # sectors from the disk's start
    sectors: int
    kind: int  # the partition type byte


@dataclass(frozen=True)
class MbrPartitions:
    partitions: list[MbrPartition]  # primaries, then logicals in chain order; extended containers left out
    chain_cut: bool  # the chain of logical partitions goes on past MOST_LOGICAL


def entries_of(sector: bytes) -> list[MbrPartition]:
    """A boot record's four entries that name a partition (type and length not zero)."""
    if len(sector) < SECTOR or sector[510:512] != _BOOT_SIGNATURE:
        return []
    found = []
    for index in range(4):
        status, kind, start, sectors = struct.unpack_from("<B3xB3xII", sector, _ENTRIES_AT + 16 * index)
        if status in (0x00, 0x80) and kind and sectors:
            found.append(MbrPartition(start, sectors, kind))
    return found


def read_mbr(read_at: Callable[[int, int], bytes]) -> MbrPartitions:
    """The partitions the MBR at the disk's start lists, its extended partition's logicals included."""
    found: list[MbrPartition] = []
    chain_cut = False
    for entry in entries_of(read_at(0, SECTOR)):
        if entry.kind not in _EXTENDED:
            found.append(entry)
            continue
        logicals, cut = _logicals(read_at, entry.start)
        found += logicals
        chain_cut = chain_cut or cut
    return MbrPartitions(found, chain_cut)


def _logicals(read_at: Callable[[int, int], bytes], extended: int) -> tuple[list[MbrPartition], bool]:
    """The logical partitions of the extended partition starting at sector `extended`: each extended boot
    record gives one (from its own start) and where the next record is (from the extended partition's)."""
    found: list[MbrPartition] = []
    record, seen = extended, set()
    while record not in seen:
        if len(found) >= MOST_LOGICAL:
            return found, True
        seen.add(record)
        entries = entries_of(read_at(record * SECTOR, SECTOR))
        link = None
        for entry in entries:
            if entry.kind in _EXTENDED:
                link = link if link is not None else extended + entry.start
            elif entry.kind != _PROTECTIVE:
                found.append(MbrPartition(record + entry.start, entry.sectors, entry.kind))
        if link is None:
            break
        record = link
    return found, False


def is_protective(kind: int) -> bool:
    return kind == _PROTECTIVE
