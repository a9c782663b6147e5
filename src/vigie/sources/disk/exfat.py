"""exFAT's layout and allocation table, to check what The Sleuth Kit recovers of a deleted file.

exFAT keeps a file either contiguous (NoFatChain: its FAT entries unused) or chained in the FAT. Deleting it
clears its bits in the allocation bitmap and leaves the FAT as it was; The Sleuth Kit reads every deleted file as
contiguous clusters from its first. Where the FAT still chains that first cluster elsewhere, the file was
fragmented and what is read is not all its own: said on its item.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

_FREE, _END = 0, 0xFFFFFFF8  # FAT values: no chain; from here on, the end of a chain (or a bad cluster)


class ExfatVolume:
    """One exFAT volume's layout, from its boot sector, and its FAT, read entry by entry as deleted files are
    judged."""

    def __init__(self, read_at: Callable[[int, int], bytes], offset: int, boot: bytes) -> None:
        self._read_at = read_at
        fat, _, heap, self._count, self.root = (int(value) for value in struct.unpack_from("<IIIII", boot, 80))
        self._sector_shift, self._cluster_shift = boot[108], boot[109]
        self._fat = offset + (fat << self._sector_shift)
        self._heap = heap  # in sectors, where TSK's block addresses (sectors) count from too
        self._offset = offset

    @classmethod
    def of(cls, read_at: Callable[[int, int], bytes], offset: int) -> ExfatVolume | None:
        boot = read_at(offset, 512)
        if len(boot) < 512 or boot[3:11] != b"EXFAT   " or not 9 <= boot[108] <= 12 or boot[109] > 25 - boot[108]:
            return None
        return cls(read_at, offset, boot)

    @property
    def cluster_bytes(self) -> int:
        return 1 << (self._sector_shift + self._cluster_shift)

    def cluster_at(self, cluster: int) -> int:
        """Where a cluster starts in the media."""
        return self._offset + ((self._heap + ((cluster - 2) << self._cluster_shift)) << self._sector_shift)

    def chained_elsewhere(self, first_sector: int, size: int) -> bool:
        """Whether the FAT chains the cluster at `first_sector` (a deleted file's first, in TSK's sectors) to
        another cluster than the next before `size` bytes are covered: the file was fragmented."""
        cluster = ((first_sector - self._heap) >> self._cluster_shift) + 2
        needed = -(-size // self.cluster_bytes)
        for _ in range(min(needed, self._count) - 1):
            if not 2 <= cluster < self._count + 2:
                return False
            raw = self._read_at(self._fat + 4 * cluster, 4)
            following = int(struct.unpack("<I", raw)[0]) if len(raw) == 4 else _FREE
            if following == _FREE or following >= _END:  # no chain (contiguous), or it ends: as read
                return False
            if following != cluster + 1:
                return True
            cluster = following
        return False
