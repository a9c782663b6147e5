"""A deleted FAT folder past its first cluster. The Sleuth Kit reads one from its first cluster only, and lists
the entries of its later clusters as orphans (`$OrphanFiles/_EA.JPG`), found by a search of free clusters that
skips a whole sector whose first entry fails its checks (a byte FAT forbids in its 8.3 name). Vigie's own FAT reader
reads on through the free clusters after the first that hold directory entries (the folder's clusters assumed
contiguous, as a deleted file's are): the files The Sleuth Kit missed there are items, recovered, matched and
verified, with a note. Hostile folders (one past FAT's size limit, one that loops, garbage after entries) end with
a note. Volumes are made with mkfs.vfat and mtools, then their entries patched."""

from __future__ import annotations

import hashlib
import random
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_disk_images import _need, _picture, _run, _scan
from tests.test_fat_dropped_entries import _layout, _rename, _volume
from vigie.cli import main
from vigie.config import Settings
from vigie.sources import fatdir
from vigie.sources.fatdir import DirectoryEntries, FatVolume
from vigie.sources.reopen import read_item_bytes

_LATER = "found in a later cluster of a deleted folder"
# The folder's entries, in order: its "." and "..", then empty files (no clusters of their own, so that the
# folder's clusters are contiguous, as mtools allocates a folder's next cluster after the content written before it)
# filling its first cluster and more: 12 long names of 6 entries each and 6 short names; so that the 81st entry,
# GAP.TXT, is the first of a sector in a later cluster (of 2 KiB, or of one 512-byte sector on FAT32), followed by
# BEACH0.JPG, BEACH1.JPG and the folder TRIP
_PADS = {**{f"ALBUM/Holiday note number {number:02d} written before the pictures.txt": b"" for number in range(12)},
         **{f"ALBUM/PAD{number}.TXT": b"" for number in range(6)}, "ALBUM/GAP.TXT": b""}


@pytest.mark.parametrize("bits", [12, 32])
def test_files_the_sleuth_kit_misses_in_a_deleted_folders_later_clusters_are_items_matched_and_verified(
        bits: int, tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "mdeltree")
    missed = {"_LBUM/_EACH0.JPG": _picture(71), "_LBUM/_EACH1.JPG": _picture(72)}  # as shown, deleted
    sea = _picture(73)
    files = {**_PADS, "ALBUM/BEACH0.JPG": missed["_LBUM/_EACH0.JPG"], "ALBUM/BEACH1.JPG": missed["_LBUM/_EACH1.JPG"],
             "ALBUM/TRIP/SEA.JPG": sea}
    volume_path = _volume(tmp_path, bits, files, deleted=("ALBUM/",))
    volume = bytearray(volume_path.read_bytes())
    at = volume.find(b"\xe5AP     TXT")
    assert at % 512 == 0 and volume[at - 32 * 80: at - 32 * 80 + 11] == b".          "  # as above
    _rename(volume, b"\xe5AP     TXT", b"\xe5A\x01     TXT")  # The Sleuth Kit's orphan search skips its sector
    volume_path.write_bytes(bytes(volume))
    hashlist = tmp_path / "known.txt"
    hashlist.write_text("".join(f"{hashlib.md5(data).hexdigest()}\n" for data in (*missed.values(), sea)))

    items = _scan(tmp_path / "case", volume_path, hashlist=hashlist)
    for path, data in missed.items():
        item = items[f"{volume_path}!/p0/{path}"]
        assert item["deleted"] is True and item["inode"] and item["mtime"], path
        assert item["sha256"] == hashlib.sha256(data).hexdigest(), (path, item["errors"])
        assert [match["signal"] for match in item["matches"]] == ["md5"], path
        (note,) = [error["message"] for error in item["errors"]]
        assert note.startswith(_LATER) and "assumed contiguous" in note, (path, note)
    # TRIP's own cluster starts with ".": The Sleuth Kit's orphan search reads it, and lists SEA.JPG as an orphan;
    # Vigie's reader found TRIP in ALBUM's later cluster, and places SEA.JPG under it, once
    assert [path for path, item in items.items() if item["sha256"] == hashlib.sha256(sea).hexdigest()] \
        == [f"{volume_path}!/p0/_LBUM/_RIP/_EA.JPG"]
    (note,) = [error["message"] for error in items[f"{volume_path}!/p0/_LBUM/_RIP/_EA.JPG"]["errors"]]
    assert "as an orphan" in note and "at $OrphanFiles/_EA.JPG " in note, note
    inodes = [item["inode"] for item in items.values() if item["inode"]]
    assert len(inodes) == len(set(inodes))  # no entry listed twice
    assert f"{volume_path}!/p0" not in items, items.get(f"{volume_path}!/p0")  # nothing said on the volume

    root = str(volume_path.resolve())
    assert read_item_bytes(root, "!/p0/_LBUM/_EACH1.JPG", Settings(workers=1), 1 << 20) == missed["_LBUM/_EACH1.JPG"]
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert verified.exit_code == 0 and f"{len(items)} files checked, 0 changed" in verified.output, verified.output


@pytest.mark.parametrize("bits", [12, 32])
def test_files_the_sleuth_kit_lists_as_orphans_from_a_deleted_folders_later_clusters_are_placed_in_it_once(
        bits: int, tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "mdeltree")
    photo, other, lake = _picture(74), _picture(75), _picture(76)
    files = {**_PADS, "ALBUM/holiday photo.jpg": photo, "ALBUM/OTHER.JPG": other, "ALBUM/TRIP/LAKE.JPG": lake}
    volume_path = _volume(tmp_path, bits, files, deleted=("ALBUM/",))  # no entry patched: orphans all listed
    hashlist = tmp_path / "known.txt"
    hashlist.write_text(f"{hashlib.md5(photo).hexdigest()}\n")

    items = _scan(tmp_path / "case", volume_path, hashlist=hashlist)
    inside = f"{volume_path}!/p0/"
    for path, orphan, data in (("_LBUM/holiday photo.jpg", "$OrphanFiles/_OLIDA~1.JPG", photo),
                               ("_LBUM/_THER.JPG", "$OrphanFiles/_THER.JPG", other),
                               ("_LBUM/_RIP/_AKE.JPG", "$OrphanFiles/_RIP/_AKE.JPG", lake)):  # in a folder found so
        assert [name for name, item in items.items() if item["sha256"] == hashlib.sha256(data).hexdigest()] \
            == [inside + path]  # under its folder, with its long name, and not under $OrphanFiles too
        item = items[inside + path]
        assert item["deleted"] is True and item["inode"] and item["mtime"], path
        (note,) = [error["message"] for error in item["errors"]]
        assert note.startswith(_LATER) and "lists this file only as an orphan" in note and f"at {orphan} " in note, note
    assert [match["signal"] for match in items[inside + "_LBUM/holiday photo.jpg"]["matches"]] == ["md5"]
    assert inside + "_LBUM/_AP.TXT" in items  # GAP.TXT, an empty file of the later cluster, placed too
    assert not [path for path in items if path.startswith(inside + "$OrphanFiles/")]
    inodes = [item["inode"] for item in items.values() if item["inode"]]
    assert len(inodes) == len(set(inodes))  # no entry listed twice
    assert f"{volume_path}!/p0" not in items, items.get(f"{volume_path}!/p0")  # nothing said on the volume

    root = str(volume_path.resolve())
    assert read_item_bytes(root, "!/p0/_LBUM/holiday photo.jpg", Settings(workers=1), 1 << 20) == photo
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert verified.exit_code == 0 and f"{len(items)} files checked, 0 changed" in verified.output, verified.output


def _entry(name: bytes, attributes: int, cluster: int = 0, size: int = 0) -> bytes:
    """A deleted 8.3 entry as FAT writes one (1 December 2026, 10:00)."""
    date, clock = (2026 - 1980) << 9 | 12 << 5 | 1, 10 << 11
    return struct.pack("<11sBBBHHHHHHHI", b"\xe5" + name[1:], attributes, 0, 0, clock, date, date, 0, clock, date,
                       cluster, size)


_PIECE = b"\xe5" + b"x\0" * 5 + b"\x0f\0\0" + b"y\0" * 6 + b"\0\0" + b"z\0" * 2  # a deleted long-name piece


def _deleted_folder(tmp_path: Path) -> tuple[bytearray, int, int, int]:
    """A FAT12 volume holding one deleted folder whose first cluster is full (no end marker): its bytes, that
    cluster's number and position, and the cluster size."""
    volume_path = tmp_path / "fat12.img"
    _run("mkfs.vfat", "-F", "12", "-C", volume_path, "4096")
    _run("mmd", "-i", volume_path, "::DIR")
    _run("mdeltree", "-i", volume_path, "::DIR")
    volume = bytearray(volume_path.read_bytes())
    first = struct.unpack_from("<H", volume, volume.find(b"\xe5IR        ") + 26)[0]
    sector, per_cluster, reserved, fats, root_entries = struct.unpack_from("<HBHBH", volume, 11)
    data = (reserved + fats * struct.unpack_from("<H", volume, 22)[0]) * sector + root_entries * 32
    cluster_bytes = sector * per_cluster
    position = data + (first - 2) * cluster_bytes
    volume[position + 64: position + cluster_bytes] = _PIECE * (cluster_bytes // 32 - 2)  # no end marker (00)
    return volume, first, position, cluster_bytes


def _read(volume: bytearray) -> tuple[list[bytes], list[str]]:
    def read_at(offset: int, length: int) -> bytes:
        return bytes(volume[offset: offset + length])

    fat = FatVolume(read_at, 0, 12)
    names, said = [entry.name for entry in fat.entries()], fat.said()
    ahead = FatVolume(read_at, 0, 12)  # with the pass made ahead of the walk's where The Sleuth Kit lists orphans
    later = ahead.later_entries()
    assert [entry.name for entry in ahead.entries()] == names and ahead.said() == said  # nothing said twice
    assert later == {entry.address for entry in FatVolume(read_at, 0, 12).entries() if entry.later_cluster}
    return names, said


def test_hostile_deleted_folders_end_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _need("mkfs.vfat", "mmd", "mdeltree", extra=False)
    base, first, position, cluster_bytes = _deleted_folder(tmp_path)
    later = position + cluster_bytes

    ordinary = bytearray(base)
    ordinary[later: later + 64] = _entry(b"XONE    JPG", 0x20, 3, 100) + _entry(b"XIR        ", 0x10, 4)
    names, said = _read(ordinary)
    assert names == [b"_IR", b"_ONE.JPG", b"_IR"] and not said, (names, said)

    looping = bytearray(base)  # a folder in its later cluster whose first cluster is the folder's own
    looping[later: later + 64] = _entry(b"XOOP       ", 0x10, first) + _entry(b"XONE    JPG", 0x20, 3, 100)
    names, said = _read(looping)
    assert names == [b"_IR", b"_OOP", b"_ONE.JPG"]
    assert [note for note in said if "already read as another deleted folder's" in note], said

    garbage = bytearray(base)  # a cluster that starts with an entry, then holds other bytes
    garbage[later: later + cluster_bytes] = _entry(b"XONE    JPG", 0x20, 3, 100) + random.Random(7).randbytes(
        cluster_bytes - 32)
    names, said = _read(garbage)
    assert names == [b"_IR"] and [note for note in said if "then holds other bytes" in note], (names, said)

    huge = bytearray(base)  # long-name pieces in every free cluster after it: past the 65,536 entries FAT allows
    clusters = _layout(huge)[4]
    huge[later: later + (clusters - 10) * cluster_bytes] = _PIECE * ((clusters - 10) * cluster_bytes // 32)
    names, said = _read(huge)
    assert names == [b"_IR"] and [note for note in said if "past FAT's limit of 65,536 entries" in note], said
    monkeypatch.setattr(fatdir, "_MAX_LATER_BYTES", 4 * cluster_bytes)  # what a volume reads of such clusters
    names, said = _read(huge)
    assert names == [b"_IR"] and [note for note in said if "of such clusters were read in this volume" in note], said


def test_the_boot_sector_is_read_once_a_volume_for_every_entry_asked(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mmd", "mdeltree", extra=False)
    volume = _deleted_folder(tmp_path)[0]
    boot_reads = []

    def read_at(offset: int, length: int) -> bytes:
        boot_reads.extend([offset] if length == 512 else [])
        return bytes(volume[offset: offset + length])

    entries = DirectoryEntries(read_at, 0)
    assert [entries.erased(address) for address in range(3, 40)].count(True) == 1  # DIR, deleted
    assert boot_reads == [0]
