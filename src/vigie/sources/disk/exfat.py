"""exFAT's layout, allocation table and allocation bitmap: to check what The Sleuth Kit recovers of a deleted
file, and for Vigie's own reading of exFAT folders (`exfatdir.py`).

exFAT keeps a file either contiguous (NoFatChain: its FAT entries unused) or chained in the FAT. Deleting it
clears its bits in the allocation bitmap and leaves the FAT as it was; The Sleuth Kit reads every deleted file as
contiguous clusters from its first. Where the FAT still chains that first cluster elsewhere, the file was
fragmented and what is read is not all its own: said on its item.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Callable

import numpy as np

_FREE, _END = 0, 0xFFFFFFF8  # FAT values: no chain; from here on, the end of a chain (or a bad cluster)
FRAGMENTED_NOTE = ("a deleted exFAT file whose clusters the FAT still chains elsewhere (it was fragmented): read, as "
                    "The Sleuth Kit recovers deleted files, as contiguous clusters from its first, so its bytes may "
                    "be partly another file's and its hashes not those of the file deleted")
_STRUCTURES = (0x81, 0x82, 0x83)  # the root folder's allocation bitmap, up-case table and volume label entries
MAX_BITMAP_BYTES = 64 << 20  # an allocation bitmap of 512M clusters; a larger one is not read into memory
MAX_FAT_BYTES = 64 << 20  # a FAT of 16M clusters, read whole; a larger one is read entry by entry


class ExfatVolume:
    """One exFAT volume's layout, from its boot sector, and its FAT, read entry by entry as deleted files are
    judged."""

    def __init__(self, read_at: Callable[[int, int], bytes], offset: int, boot: bytes) -> None:
        self._read_at = read_at
        fat, _, heap, self.count, self.root = (int(value) for value in struct.unpack_from("<IIIII", boot, 80))
        self._sector_shift, self._cluster_shift = boot[108], boot[109]
        self.fats = min(max(boot[110], 1), 2)  # NumberOfFats: 2 on TexFAT, each with its allocation bitmap
        self._fat = offset + (fat << self._sector_shift)
        self._heap = heap  # in sectors, where TSK's block addresses (sectors) count from too
        self._offset = offset
        self._table: memoryview | None = None  # the FAT, cluster -> next, once read

    @classmethod
    def of(cls, read_at: Callable[[int, int], bytes], offset: int) -> ExfatVolume | None:
        boot = read_at(offset, 512)
        if len(boot) < 512 or boot[3:11] != b"EXFAT   " or not 9 <= boot[108] <= 12 or boot[109] > 25 - boot[108]:
            return None
        return cls(read_at, offset, boot)

    @property
    def cluster_bytes(self) -> int:
        return 1 << (self._sector_shift + self._cluster_shift)

    def in_volume(self, cluster: int) -> bool:
        return 2 <= cluster < self.count + 2

    def cluster_at(self, cluster: int) -> int:
        """Where a cluster starts in the media."""
        return self._offset + ((self._heap + ((cluster - 2) << self._cluster_shift)) << self._sector_shift)

    def read(self, cluster: int, length: int) -> bytes:
        """`length` bytes from the start of `cluster`; fewer where the image ends or cannot be read there."""
        return self._read(self.cluster_at(cluster), length)

    def _read(self, offset: int, length: int) -> bytes:
        try:
            return self._read_at(offset, length)
        except OSError:  # a damaged E01's chunk: read as cut short, which each reader says
            return b""

    def following(self, cluster: int) -> int | None:
        """The cluster the FAT chains `cluster` to; None at the chain's end, or where it holds no chain. The FAT
        is read whole the first time (one read, not one a cluster), where it is not larger than MAX_FAT_BYTES."""
        if self._table is None and 4 * (self.count + 2) <= MAX_FAT_BYTES:
            raw = self._read(self._fat, 4 * (self.count + 2))
            self._table = np.frombuffer(raw[: len(raw) // 4 * 4], "<u4").data  # plain ints: a numpy item is slow
        if self._table is not None:
            following = int(self._table[cluster]) if cluster < len(self._table) else _FREE
        else:
            raw = self._read(self._fat + 4 * cluster, 4)
            following = int(struct.unpack("<I", raw)[0]) if len(raw) == 4 else _FREE
        return None if following == _FREE or following >= _END else following

    def allocated(self, bitmap_cluster: int, bitmap_bytes: int) -> np.ndarray | None:
        """The allocation bitmap (stored contiguously from `bitmap_cluster`) as one bool a cluster, from cluster
        2; None where it is cut short or larger than read into memory."""
        needed = -(-self.count // 8)
        if not self.in_volume(bitmap_cluster) or bitmap_bytes < needed or needed > MAX_BITMAP_BYTES:
            return None
        raw = self.read(bitmap_cluster, needed)
        if len(raw) < needed:
            return None
        return np.unpackbits(np.frombuffer(raw, np.uint8), bitorder="little")[: self.count].astype(bool)

    def chained_elsewhere(self, first_sector: int, size: int) -> bool:
        """Whether the FAT chains the cluster at `first_sector` (a deleted file's first, in TSK's sectors) to
        another cluster than the next before `size` bytes are covered: the file was fragmented."""
        return self.fragmented(((first_sector - self._heap) >> self._cluster_shift) + 2, size)

    def fragmented(self, cluster: int, size: int) -> bool:
        """Whether the FAT chains `cluster` (a deleted file's first) to another cluster than the next before
        `size` bytes are covered."""
        needed = -(-size // self.cluster_bytes)
        for _ in range(min(needed, self.count) - 1):
            if not self.in_volume(cluster):
                return False
            following = self.following(cluster)
            if following is None:  # no chain (contiguous), or it ends: as read
                return False
            if following != cluster + 1:
                return True
            cluster = following
        return False


def own_structure(kind: int, seen: Counter[int], fats: int) -> bool:
    """Whether an entry of type `kind` of the root folder is one of the volume's own structures, given those of
    the folder's entries before it (`seen`, counted here): its allocation bitmaps (one a FAT), up-case table and
    volume label. Any other such entry is none of the volume's: The Sleuth Kit lists it as a file, an item."""
    if kind not in _STRUCTURES:
        return False
    seen[kind] += 1
    return seen[kind] <= (fats if kind == _STRUCTURES[0] else 1)
