"""Makes an orphan on an NTFS image that mkntfs and ntfscp built: no Debian tool deletes a file or a folder from
NTFS without mounting it, so the file's record and its folder's index are changed here as Windows leaves them
when a folder and its file are deleted and the folder's record is used again: the record not in use, its
$FILE_NAME naming a parent record that is no folder, and its name gone from the root's index (no trace left in
the index's slack, which The Sleuth Kit also reads).

Only what mkntfs writes on a small volume is handled: a contiguous $MFT, the root's names in one INDX record.
"""

from __future__ import annotations

import struct
from pathlib import Path

_SECTOR = 512
_FILE_NAME = 0x30
_END = 0xFFFFFFFF


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


def orphan(image: Path, name: str, gone_parent: int) -> int:
    """Deletes the root's file `name` as if its folder had been deleted with it: its record (returned) is no
    longer in use and names MFT entry `gone_parent` as its folder; its name is gone from the root's index."""
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
                struct.pack_into("<H", record, 0x16, struct.unpack_from("<H", record, 0x16)[0] & ~1)
                attribute = struct.unpack_from("<H", record, 0x14)[0]
                while (kind := struct.unpack_from("<I", record, attribute)[0]) != _END:
                    if kind == _FILE_NAME:
                        content = attribute + struct.unpack_from("<H", record, attribute + 0x14)[0]
                        struct.pack_into("<Q", record, content, gone_parent | 1 << 48)
                    attribute += struct.unpack_from("<I", record, attribute + 4)[0]
                data[at:at + record_size] = _protected(record)
                image.write_bytes(bytes(data))
                return number
            entry += length
    raise ValueError(f"{name} not found in an INDX record")
