"""GUID partition tables read by hand, header and entries checked by their CRC32.

The Sleuth Kit reads only a GPT's primary header (sector 1), and reads it whatever its CRC32s say: a disk whose
primary is damaged would show its partitions as they stand there, or just its protective MBR entry, and a
backup listing other partitions would go unseen. Both headers are checked here: the primary at sector 1, the
backup where the primary says (or the disk's last sector).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeGuard

SECTOR = 512
_SIGNATURE = b"EFI PART"
_MAX_ENTRIES = 4096  # the usual table holds 128; a larger count is a damaged header


@dataclass(frozen=True)
class GptPartition:
    first: int  # sectors
    last: int
    name: str


@dataclass(frozen=True)
class GptHeader:
    lba: int  # where it sits, in sectors
    alternate: int  # where it says the other header sits
    partitions: tuple[GptPartition, ...]  # its used entries in table order, as listed whatever the CRC32s say
    damage: str | None  # why it fails its checks; None where it is sound


@dataclass(frozen=True)
class GptCheck:
    """A disk's two GPT headers, as found; None where that header is missing (no signature)."""
    sector: int  # bytes
    primary: GptHeader | None
    backup: GptHeader | None
    backup_lba: int  # where the backup was looked for


def sound(header: GptHeader | None) -> TypeGuard[GptHeader]:
    return header is not None and header.damage is None


def read_gpt_header(read_at: Callable[[int, int], bytes], lba: int, sector: int = SECTOR) -> GptHeader | None:
    """The GPT header at sector `lba` and the entries it lists, checked; None where none is seen there."""
    try:
        head = read_at(lba * sector, sector)
    except OSError:  # a sector missing from a cut E01: no header seen there (the cut is said on the image)
        return None
    if len(head) < 92 or head[:8] != _SIGNATURE:
        return None
    header_size, header_crc = struct.unpack_from("<II", head, 12)
    alternate = struct.unpack_from("<Q", head, 32)[0]
    entries_lba, count, entry_size, entries_crc = struct.unpack_from("<QIII", head, 72)
    if not 92 <= header_size <= sector or count > _MAX_ENTRIES or entry_size < 128 or entry_size % 8:
        return GptHeader(lba, alternate, (), f"its header is malformed ({count:,} entries of {entry_size} bytes, "
                                             f"header size {header_size})")
    damage = None
    if zlib.crc32(head[:16] + b"\0" * 4 + head[20:header_size]) != header_crc:
        damage = "its header CRC32 does not match"
    try:
        table = read_at(entries_lba * sector, count * entry_size)
    except OSError as exc:
        return GptHeader(lba, alternate, (), f"its partition-entry array is unreadable ({exc})")
    if len(table) != count * entry_size:
        return GptHeader(lba, alternate, (), "its partition-entry array lies past the end of the image")
    if damage is None and zlib.crc32(table) != entries_crc:
        damage = "its partition-entry array CRC32 does not match"
    found = []
    for index in range(count):
        entry = table[index * entry_size: (index + 1) * entry_size]
        if entry[:16] == b"\0" * 16:  # an unused entry has a zero type
            continue
        first, last = struct.unpack_from("<QQ", entry, 32)
        found.append(GptPartition(first, last, entry[56:128].decode("utf-16-le", "replace").rstrip("\0")))
    return GptHeader(lba, alternate, tuple(found), damage)


def check_gpt(read_at: Callable[[int, int], bytes], size: int) -> GptCheck | None:
    """Both GPT headers of a disk of `size` bytes, in 512- or 4096-byte sectors; None where neither is found."""
    for sector in (SECTOR, 4096):
        last = size // sector - 1
        if last <= 1:
            return None
        primary = read_gpt_header(read_at, 1, sector)
        places = [last]
        if primary is not None and 1 < primary.alternate < last:  # a disk grown after it was partitioned
            places.insert(0, primary.alternate)
        for place in places:
            backup = read_gpt_header(read_at, place, sector)
            if backup is not None:
                return GptCheck(sector, primary, backup, place)
        if primary is not None:
            return GptCheck(sector, primary, None, places[0])
    return None
