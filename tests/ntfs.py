"""Deletes a file from an NTFS image that mkntfs and ntfscp built, as Windows does: no Debian tool deletes from
NTFS without mounting it. The file's record is no longer in use and its sequence number is raised, and its name
is gone from the root's index (no trace left in the index's slack, which The Sleuth Kit also reads). Its
$FILE_NAME may be made to name another parent record: a folder deleted with it, whose record was used again,
which makes it an orphan.

Only what mkntfs writes on a small volume is handled: a contiguous $MFT, the root's names in one INDX record.
"""

from __future__ import annotations

import struct
from pathlib import Path

_SECTOR = 512
_FILE_NAME = 0x30
_END = 0xFFFFFFFF
ROOT = 5 | 5 << 48  # the root folder's MFT reference, as mkntfs writes it


def _fixed(block: bytearray) -> bytearray:
    """A multi-sector record (FILE, INDX) with its update sequence undone: each sector's last two bytes back."""
    offset, count = struct.unpack_from("<HH", block, 4)
    for index in range(1, count):
        end = index * _SECTOR
        block[end - 2:end] = block[offset + 2 * index:offset + 2 * index + 2]
    return block


def _protected(block: bytearray) -> bytearray:
    """The record with its update sequence applied again, as it lies on disk."""
    offset, count = struct.unpack_from("<HH", block, 4)
    for index in range(1, count):
        end = index * _SECTOR
        block[offset + 2 * index:offset + 2 * index + 2] = block[end - 2:end]
        block[end - 2:end] = block[offset:offset + 2]
    return block


def delete(image: Path, name: str, parent: int = ROOT) -> int:
    """Deletes the root's file `name`; its record (returned) names `parent` (an MFT reference: entry number and,
    from bit 48, sequence number) as its folder."""
    data = bytearray(image.read_bytes())
    cluster = struct.unpack_from("<H", data, 11)[0] * data[13]
    mft = struct.unpack_from("<Q", data, 0x30)[0] * cluster
    record_size = 1 << -struct.unpack_from("<b", data, 0x40)[0]
    encoded = name.encode("utf-16-le")
    for start in range(0, len(data), cluster):  # the root's INDX record holding the name
        if data[start:start + 4] != b"INDX":
            continue
        block = _fixed(bytearray(data[start:start + cluster]))
        first, used = struct.unpack_from("<II", block, 0x18)
        entry = 0x18 + first
        while entry < 0x18 + used:
            reference, length, key = struct.unpack_from("<QHH", block, entry)
            if key and block[entry + 0x52:entry + 0x52 + len(encoded)] == encoded:
                end = 0x18 + used
                block[entry:end] = block[entry + length:end] + bytes(length)
                struct.pack_into("<I", block, 0x1C, used - length)
                data[start:start + cluster] = _protected(block)
                number = reference & ((1 << 48) - 1)
                at = mft + number * record_size
                record = _fixed(bytearray(data[at:at + record_size]))
                sequence, flags = struct.unpack_from("<H", record, 0x10)[0], struct.unpack_from("<H", record, 0x16)[0]
                struct.pack_into("<H", record, 0x10, sequence + 1)
                struct.pack_into("<H", record, 0x16, flags & ~1)  # not in use
                attribute = struct.unpack_from("<H", record, 0x14)[0]
                while (kind := struct.unpack_from("<I", record, attribute)[0]) != _END:
                    if kind == _FILE_NAME:
                        content = attribute + struct.unpack_from("<H", record, attribute + 0x14)[0]
                        struct.pack_into("<Q", record, content, parent)
                    attribute += struct.unpack_from("<I", record, attribute + 4)[0]
                data[at:at + record_size] = _protected(record)
                image.write_bytes(bytes(data))
                return number
            entry += length
    raise ValueError(f"{name} not found in an INDX record")
