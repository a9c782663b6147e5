"""Disks that hide a partition or a file system from a reader that trusts one structure: a picture's header in
an MBR's boot code, a disk image under a name no tool gives one, a whole-disk volume whose boot code passes for
an MBR, a hybrid MBR beside a GPT, an extended partition's chain past 128 logical partitions. Built with
Debian's tools (mkfs.vfat, mtools) and by hand; skipped where a tool or the `disk` extra is missing."""

from __future__ import annotations

import hashlib
import io
import struct
import subprocess
from pathlib import Path

from PIL import Image

from tests.test_disk_images import _SECTOR, _fat, _need, _picture, _scan
from vigie.config import Settings
from vigie.sources.reopen import read_item_bytes


def _volume(tmp_path: Path, name: str, kib: int, pictures: dict[str, bytes]) -> bytes:
    """A FAT volume's bytes holding `pictures` (name: bytes) in its root."""
    scratch = tmp_path / f"scratch-{name}"
    scratch.mkdir()
    for file, data in pictures.items():
        (scratch / file).write_bytes(data)
    path = tmp_path / f"{name}.fat"
    _fat(path, kib, [("copy", file, f"::{file}") for file in pictures], scratch)
    return path.read_bytes()


def _entry(kind: int, start: int, sectors: int) -> bytes:
    return struct.pack("<B3xB3xII", 0, kind, start, sectors)


def _table(disk: bytearray, sector: int, entries: list[bytes]) -> None:
    at = sector * _SECTOR
    disk[at + 446:at + 510] = b"".join(entries).ljust(64, b"\0")
    disk[at + 510:at + 512] = b"\x55\xaa"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_disk_whose_boot_code_is_a_picture_is_read_as_a_disk_and_a_disk_under_any_name_is_said(
    tmp_path: Path
) -> None:
    _need("mkfs.vfat", "mcopy")
    picture = _picture(41)
    volume = _volume(tmp_path, "a", 4096, {"A.JPG": picture})
    disk = bytearray((2048 + len(volume) // _SECTOR + 2048) * _SECTOR)
    _table(disk, 0, [_entry(0x0C, 2048, len(volume) // _SECTOR)])
    disk[2048 * _SECTOR:2048 * _SECTOR + len(volume)] = volume
    cover = io.BytesIO()
    Image.new("L", (8, 8), 128).save(cover, "JPEG", quality=20)
    disk[:len(cover.getvalue())] = cover.getvalue()  # the boot code: a picture's header sniffs first
    image = tmp_path / "disk.bin"
    image.write_bytes(bytes(disk))
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "sdcard").write_bytes(volume)  # a whole-disk volume, under a name no disk image has
    items = _scan(tmp_path / "case", image, folder)
    assert items[f"{image}!/p1/A.JPG"]["sha256"] == _sha(picture)
    assert items[str(image)]["media_type"] == "image/jpeg" and items[str(image)]["pdq"]  # a picture too
    assert "holds a FAT file system from its first bytes" in items[str(folder / "sdcard")]["errors"][0]["message"]


def test_a_whole_disk_volume_whose_boot_code_passes_for_an_mbr_is_read_beside_the_partition(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy")
    outer, inner = _picture(42), _picture(43)
    disk = bytearray(_volume(tmp_path, "outer", 8192, {"A.JPG": outer}))
    second = _volume(tmp_path, "inner", 1024, {"B.JPG": inner})
    start = len(disk) // _SECTOR
    disk += second
    disk[3:11], disk[54:57] = b"BSD  4.4", b"XYZ"  # names The Sleuth Kit takes for a FAT's, not an MBR's
    _table(disk, 0, [_entry(0x0C, start, len(second) // _SECTOR)])
    image = tmp_path / "card.img"
    image.write_bytes(bytes(disk))
    items = _scan(tmp_path / "case", image)
    assert items[f"{image}!/p0/A.JPG"]["sha256"] == _sha(outer)
    assert items[f"{image}!/p1/B.JPG"]["sha256"] == _sha(inner)
    assert "both are read" in items[f"{image}!/p0"]["errors"][0]["message"]
    assert read_item_bytes(str(image), "!/p0/A.JPG", Settings(), 10**7) == outer


def test_partitions_only_a_hybrid_mbr_or_a_long_chain_of_logical_partitions_lists_are_read(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    pictures = [_picture(seed) for seed in (44, 45)]
    first = _volume(tmp_path, "first", 1024, {"A.JPG": pictures[0]})
    last = _volume(tmp_path, "last", 1024, {"B.JPG": pictures[1]})
    sectors = len(first) // _SECTOR

    # a GPT read first (the MBR's protective entry comes first), and an MBR entry the GPT does not list
    hybrid = tmp_path / "hybrid.raw"
    disk = bytearray((2048 + 2 * sectors + 2048) * _SECTOR)
    disk[2048 * _SECTOR:2048 * _SECTOR + len(first)] = first
    hybrid.write_bytes(bytes(disk))
    subprocess.run(["sfdisk", "-q", str(hybrid)], check=True, capture_output=True,
                   input=f"label: gpt\nstart=2048, size={sectors}\n".encode())
    disk = bytearray(hybrid.read_bytes())
    behind = 2048 + sectors
    disk[behind * _SECTOR:behind * _SECTOR + len(last)] = last
    _table(disk, 0, [_entry(0xEE, 1, 2047), _entry(0x0C, behind, sectors)])
    hybrid.write_bytes(bytes(disk))

    # an extended partition whose chain holds 130 logical partitions, the last one with a picture
    chained = tmp_path / "chain.raw"
    count, extended = 130, 4096
    at = extended + 2 * count + 64
    disk = bytearray((at + sectors + 64) * _SECTOR)
    _table(disk, 0, [_entry(0x05, extended, at + sectors + 64 - extended)])
    for index in range(count):
        record = extended + 2 * index
        logical = _entry(0x0C, at - record, sectors) if index == count - 1 else _entry(0x83, 1, 1)
        link = [_entry(0x05, 2 * (index + 1), 2)] if index + 1 < count else []
        _table(disk, record, [logical, *link])
    disk[at * _SECTOR:at * _SECTOR + len(last)] = last
    chained.write_bytes(bytes(disk))

    items = _scan(tmp_path / "case", hybrid, chained)
    assert items[f"{hybrid}!/p1/A.JPG"]["sha256"] == _sha(pictures[0])
    found = [path for path, item in items.items() if path.startswith(f"{hybrid}!/") and path.endswith("B.JPG")]
    assert len(found) == 1 and items[found[0]]["sha256"] == _sha(pictures[1])
    assert "hybrid MBR" in items[found[0].removesuffix("/B.JPG")]["errors"][0]["message"]
    found = [path for path, item in items.items() if path.startswith(f"{chained}!/") and path.endswith("B.JPG")]
    assert len(found) == 1 and items[found[0]]["sha256"] == _sha(pictures[1])
    assert "stops an extended partition's chain" in items[found[0].removesuffix("/B.JPG")]["errors"][0]["message"]
    assert read_item_bytes(str(chained), found[0].removeprefix(str(chained)), Settings(), 10**7) == pictures[1]


def test_a_4kn_disks_mbr_counting_in_4096_byte_sectors_is_read_there(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy")
    picture = _picture(46)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "A.JPG").write_bytes(picture)
    volume = tmp_path / "large.fat"
    subprocess.run(["mkfs.vfat", "-S", "4096", "-C", str(volume), "8192"], check=True, capture_output=True)
    subprocess.run(["mcopy", "-i", str(volume), str(scratch / "A.JPG"), "::"], check=True, capture_output=True)
    data = volume.read_bytes()
    disk = bytearray(256 * 4096 + len(data) + (1 << 20))
    _table(disk, 0, [_entry(0x0C, 256, len(data) // 4096)])  # in sectors of 4,096 bytes, as the disk counts
    disk[256 * 4096:256 * 4096 + len(data)] = data
    image = tmp_path / "usb.raw"
    image.write_bytes(bytes(disk))
    items = _scan(tmp_path / "case", image)
    assert items[f"{image}!/p1/A.JPG"]["sha256"] == _sha(picture)
    assert "4,096-byte sectors" in items[f"{image}!/p1"]["errors"][0]["message"]
    assert read_item_bytes(str(image), "!/p1/A.JPG", Settings(), 10**7) == picture


def test_a_deleted_exfat_files_chain_elsewhere_in_the_fat_is_told_from_a_contiguous_one() -> None:
    """The Sleuth Kit reads a deleted exFAT file as contiguous clusters; the FAT, which deleting leaves as it was,
    tells a fragmented one (whose bytes read so are partly another file's) from a contiguous one."""
    from vigie.sources.disk.exfat import ExfatVolume

    boot = bytearray(512)
    boot[3:11] = b"EXFAT   "
    struct.pack_into("<IIII", boot, 80, 24, 8, 128, 100)  # FAT at sector 24, heap at 128, 100 clusters
    boot[108], boot[109] = 9, 3  # 512-byte sectors, 8 sectors a cluster
    fat = bytearray(4 * 102)
    for cluster, following in ((10, 11), (11, 40), (40, 0xFFFFFFFF), (30, 31), (31, 0xFFFFFFFF)):
        struct.pack_into("<I", fat, 4 * cluster, following)
    disk = bytes(boot) + bytes(23 * 512) + bytes(fat)

    def read_at(offset: int, length: int) -> bytes:
        return disk[offset:offset + length]

    chains = ExfatVolume.of(read_at, 0)
    assert chains is not None
    sector = lambda cluster: 128 + (cluster - 2) * 8  # noqa: E731 - TSK's address of a cluster's first sector
    assert chains.chained_elsewhere(sector(10), 3 * 4096)  # 10 -> 11 -> 40: fragmented
    assert not chains.chained_elsewhere(sector(30), 2 * 4096)  # 30 -> 31, the end: contiguous
    assert not chains.chained_elsewhere(sector(20), 3 * 4096)  # no chain: NoFatChain, contiguous
    assert not chains.chained_elsewhere(sector(10), 4096)  # one cluster: nothing to chain
