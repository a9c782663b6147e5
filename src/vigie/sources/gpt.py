"""GUID partition tables read by hand, header and entries checked by their CRC32.

The Sleuth Kit reads only a GPT's primary header (sector 1): a disk whose primary is damaged would show just
its protective MBR entry. Its partitions are then read from the backup header in the disk's last sector, and
a damaged backup beside a sound primary is said (a disk altered or cut short after it was partitioned).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

SECTOR = 512
_SIGNATURE = b"EFI PART"
_MAX_ENTRIES = 4096  # the usual table holds 128; a larger count is a damaged header


@dataclass(frozen=True)
class GptPartition:
    first: int  # sectors
    last: int
    name: str


def read_gpt(read_at: Callable[[int, int], bytes], lba: int) -> list[GptPartition] | None:
    """The used entries of the GPT whose header sits at sector `lba`, in table order; None where that header
    or its entry array is missing or fails its CRC32."""
    head = read_at(lba * SECTOR, SECTOR)
    if len(head) < 92 or head[:8] != _SIGNATURE:
        return None
    header_size, header_crc = struct.unpack_from("<II", head, 12)
    if not 92 <= header_size <= SECTOR or zlib.crc32(head[:16] + b"\0" * 4 + head[20:header_size]) != header_crc:
        return None
    entries_lba, count, entry_size, entries_crc = struct.unpack_from("<QIII", head, 72)
    if count > _MAX_ENTRIES or entry_size < 128 or entry_size % 8:
        return None
    table = read_at(entries_lba * SECTOR, count * entry_size)
    if len(table) != count * entry_size or zlib.crc32(table) != entries_crc:
        return None
    found = []
    for index in range(count):
        entry = table[index * entry_size: (index + 1) * entry_size]
        if entry[:16] == b"\0" * 16:  # an unused entry has a zero type
            continue
        first, last = struct.unpack_from("<QQ", entry, 32)
        found.append(GptPartition(first, last, entry[56:128].decode("utf-16-le", "replace").rstrip("\0")))
    return found
