"""Files written into an empty exFAT image made by `mkfs.exfat` (Debian's exfatprogs), without mounting it: no
Debian tool fills an exFAT image from user space. Each file is one contiguous run of clusters (the stream
extension's NoFatChain flag, so the FAT is left alone), listed in the root folder; a deleted file keeps its
clusters and its entries with their in-use bit cleared, as exFAT leaves them. `fsck.exfat -n` checks the
result in the tests, so this writer is held to the file system's own checker. The helpers at the end patch a
volume's bytes entry by entry (an entry set, a FAT link, a cluster marked in use) for the hostile structures
no writer makes."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

_FILE, _STREAM, _NAME = 0x85, 0xC0, 0xC1
_IN_USE = 0x80
_ARCHIVE, _FOLDER = 0x20, 0x10
_CONTIGUOUS = 0x03  # AllocationPossible | NoFatChain
_TIMESTAMP = ((2024 - 1980) << 25) | (5 << 21) | (17 << 16) | (14 << 11) | (30 << 5)  # 2024-05-17 14:30:00


@dataclass(frozen=True)
class ExfatFile:
    name: str  # ASCII, in the root folder
    data: bytes
    deleted: bool = False


def _rotate_add(checksum: int, byte: int) -> int:
    return ((((checksum << 15) | (checksum >> 1)) & 0xFFFF) + byte) & 0xFFFF


def _entry_set(file: ExfatFile, first_cluster: int, folder_bytes: int = 0) -> bytes:
    """`file`'s entry set; a folder's (`folder_bytes` long) where given."""
    name = file.name.encode("utf-16-le")
    chunks = [name[i:i + 30].ljust(30, b"\0") for i in range(0, len(name), 30)]
    name_hash = 0
    for char in file.name.upper().encode("utf-16-le"):
        name_hash = _rotate_add(name_hash, char)
    primary = bytearray(32)
    primary[0], primary[1] = _FILE, 1 + len(chunks)
    struct.pack_into("<HxxIII", primary, 4, _FOLDER if folder_bytes else _ARCHIVE, _TIMESTAMP, _TIMESTAMP,
                     _TIMESTAMP)
    stream = bytearray(32)
    stream[0], stream[1], stream[3] = _STREAM, _CONTIGUOUS, len(file.name)
    struct.pack_into("<H", stream, 4, name_hash)
    size = folder_bytes or len(file.data)
    struct.pack_into("<Q", stream, 8, size)
    struct.pack_into("<IQ", stream, 20, first_cluster if size else 0, size)
    entries = bytes(primary) + bytes(stream) + b"".join(bytes([_NAME, 0]) + chunk for chunk in chunks)
    checksum = 0
    for offset, byte in enumerate(entries):
        if offset not in (2, 3):
            checksum = _rotate_add(checksum, byte)
    entries = entries[:2] + struct.pack("<H", checksum) + entries[4:]
    if file.deleted:  # every entry of the set loses its in-use bit; the rest stays as it was
        entries = b"".join(bytes([entries[i] & ~_IN_USE & 0xFF]) + entries[i + 1:i + 32]
                           for i in range(0, len(entries), 32))
    return entries


def add_files(image: Path, files: list[ExfatFile], into: str | None = None) -> None:
    """Writes `files` into the root folder, or into a new folder `into` of it (one cluster)."""
    with image.open("r+b") as disk:
        boot = disk.read(512)
        heap, cluster_count, root = struct.unpack_from("<III", boot, 88)
        sector_size, cluster_size = 1 << boot[108], 1 << (boot[108] + boot[109])

        def cluster_offset(cluster: int) -> int:
            return heap * sector_size + (cluster - 2) * cluster_size

        disk.seek(cluster_offset(root))
        folder = bytearray(disk.read(cluster_size))
        end = next(i for i in range(0, cluster_size, 32) if folder[i] == 0)
        bitmap_entry = next(folder[i:i + 32] for i in range(0, end, 32) if folder[i] == 0x81)
        bitmap_cluster, bitmap_length = struct.unpack_from("<IQ", bitmap_entry, 20)
        disk.seek(cluster_offset(bitmap_cluster))
        bitmap = bytearray(disk.read(bitmap_length))
        free = max((c for c in range(2, cluster_count + 2) if bitmap[(c - 2) // 8] >> ((c - 2) % 8) & 1),
                   default=1) + 1
        target, target_end, target_cluster = folder, end, root
        if into is not None:
            entries = _entry_set(ExfatFile(into, b""), free, cluster_size)
            folder[end:end + len(entries)] = entries
            end += len(entries)
            bitmap[(free - 2) // 8] |= 1 << ((free - 2) % 8)
            target, target_end, target_cluster = bytearray(cluster_size), 0, free
            free += 1
        for file in files:
            clusters = -(-len(file.data) // cluster_size)
            if free + clusters > cluster_count + 2:
                raise ValueError("the exFAT image is too small for these files")
            entries = _entry_set(file, free)
            if target_end + len(entries) > cluster_size:
                raise ValueError("more files than the folder's first cluster holds")
            target[target_end:target_end + len(entries)] = entries
            target_end += len(entries)
            disk.seek(cluster_offset(free))
            disk.write(file.data)
            if not file.deleted:
                for cluster in range(free, free + clusters):
                    bitmap[(cluster - 2) // 8] |= 1 << ((cluster - 2) % 8)
            free += clusters
        disk.seek(cluster_offset(root))
        disk.write(folder)
        disk.seek(cluster_offset(target_cluster))
        disk.write(target)
        disk.seek(cluster_offset(bitmap_cluster))
        disk.write(bitmap)


def entry_set(image: bytes, name: str) -> int:
    """Where the File entry of the entry set for `name` (its first, on disk) lies in `image` (an exFAT volume)."""
    start = struct.unpack_from("<I", image, 88)[0] * (1 << image[108])
    found = image.find(name.encode("utf-16-le"), start)
    while (found - start) % 32 != 2:  # a name entry's characters start 2 bytes into it
        found = image.find(name.encode("utf-16-le"), found + 1)
    at = found - 2
    while image[at] & 0x7F != _FILE & 0x7F:
        at -= 32
    return at


def reseal(image: bytearray, at: int) -> None:
    """Gives the entry set at `at` the checksum its entries now call for (its count as its File entry says)."""
    checksum = 0
    for offset in range(32 * (image[at + 1] + 1)):
        if offset not in (2, 3):
            checksum = _rotate_add(checksum, image[at + offset])
    struct.pack_into("<H", image, at + 2, checksum)


def set_bytes(file: ExfatFile, first_cluster: int, folder_bytes: int = 0, chained: bool = False) -> bytes:
    """`file`'s entry set (a folder's, `folder_bytes` long, where given), its clusters contiguous from
    `first_cluster`, or chained in the FAT where `chained`."""
    entries = bytearray(_entry_set(file, first_cluster, folder_bytes))
    if chained:
        entries[33] &= ~0x02  # NoFatChain cleared
        reseal(entries, 0)
    return bytes(entries)


def cluster_at(image: bytes | bytearray, cluster: int) -> int:
    """Where `cluster` starts in `image` (an exFAT volume)."""
    heap = struct.unpack_from("<I", image, 88)[0] << image[108]
    return heap + ((cluster - 2) << (image[108] + image[109]))


def root_entries(image: bytearray, entries: bytes) -> None:
    """Appends `entries` to the root folder's (in its first cluster)."""
    root = cluster_at(image, struct.unpack_from("<I", image, 96)[0])
    end = next(at for at in range(root, len(image), 32) if image[at] == 0)
    image[end:end + len(entries)] = entries


def in_use(image: bytearray, cluster: int, data: bytes = b"") -> None:
    """Writes `data` at `cluster` and marks it in use in the allocation bitmap."""
    image[cluster_at(image, cluster): cluster_at(image, cluster) + len(data)] = data
    root = cluster_at(image, struct.unpack_from("<I", image, 96)[0])
    bitmap = next(at for at in range(root, len(image), 32) if image[at] == 0x81)
    at = cluster_at(image, struct.unpack_from("<I", image, bitmap + 20)[0]) + (cluster - 2) // 8
    image[at] |= 1 << ((cluster - 2) % 8)


def link(image: bytearray, cluster: int, following: int = 0xFFFFFFFF) -> None:
    """Chains `cluster` to `following` in the FAT (its end, by default)."""
    struct.pack_into("<I", image, (struct.unpack_from("<I", image, 80)[0] << image[108]) + 4 * cluster, following)
