"""Apple partition maps read by hand where The Sleuth Kit reads none.

The Sleuth Kit reads a map's entries as 512-byte blocks only. A CD image may keep them in 2048-byte blocks
(xorriso's `-apm-block-size 2048`, said by the driver descriptor in block 0): its HFS+ partition would go
unseen, and with it any file the ISO 9660 tree does not hold.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

_BLOCK_SIZES = (512, 1024, 2048, 4096)
_MAX_ENTRIES = 1024  # a map holds a handful; a larger count is a damaged one


@dataclass(frozen=True)
class ApmPartition:
    start: int  # blocks of the map's block size
    blocks: int
    kind: str  # the partition type: "Apple_HFS", "Apple_partition_map", ...


def read_apm(read_at: Callable[[int, int], bytes]) -> tuple[int, list[ApmPartition]] | None:
    """The block size and the entries (in map order, free space left out) of the Apple partition map at the
    image's start; None where there is none."""
    driver = read_at(0, 4)
    if len(driver) < 4 or driver[:2] != b"ER":
        return None
    (block_size,) = struct.unpack_from(">H", driver, 2)
    if block_size not in _BLOCK_SIZES:
        return None
    first = read_at(block_size, 80)
    if len(first) < 80 or first[:2] != b"PM":
        return None
    count = min(struct.unpack_from(">I", first, 4)[0], _MAX_ENTRIES)  # every entry repeats the map's size
    found = []
    for index in range(1, count + 1):
        entry = first if index == 1 else read_at(index * block_size, 80)
        if len(entry) < 80 or entry[:2] != b"PM":
            break
        start, blocks = struct.unpack_from(">II", entry, 8)
        kind = entry[48:80].split(b"\0", 1)[0].decode("ascii", "replace")
        if kind != "Apple_Free":  # free space: no partition, as The Sleuth Kit lists it
            found.append(ApmPartition(start, blocks, kind))
    return block_size, found
