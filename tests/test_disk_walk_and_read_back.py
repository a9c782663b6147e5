"""The scan's walk of a disk image and its read-back (`open`, as `verify`, the console and exports read items)
take each listed name by one rule per file system: every item the walk lists with content is found again by
the read-back at the same metadata address and reads back whole, on each kind of image the other tests build
(FAT with deleted, dropped and "Android" entries, ext4, NTFS with deleted and orphan files, HFS+ with a resource
fork, exFAT, with entry sets The Sleuth Kit drops); a deleted name's record is judged once for both. Drawn
pictures only."""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.exfat import ExfatFile, add_files, entry_set, reseal
from tests.ntfs import ROOT, delete
from tests.test_disk_images import _disk, _need, _picture, _run
from tests.test_disk_images import seizure as seizure  # the fixture, for request.getfixturevalue
from tests.test_fat_dropped_entries import _rename, _volume
from tests.test_hfsplus_image import _give_resource_fork
from tests.test_system_and_orphan_files import _ntfs
from vigie.sources.base import Entry, parse_relpath
from vigie.sources.disk import items as item_rules
from vigie.sources.disk.readback import open_image
from vigie.sources.diskimage import DiskImageSource


def _ntfs_deleted(tmp_path: Path) -> Path:
    """An NTFS partition: a live file, one deleted from the root and one deleted as an orphan."""
    _need("mkntfs", "ntfscp", "sfdisk")
    volume = tmp_path / "p1.ntfs"
    _ntfs(volume, {"kept.jpg": _picture(60), "gone.jpg": _picture(61), "orphan.jpg": _picture(62)})
    delete(volume, "gone.jpg", ROOT)
    delete(volume, "orphan.jpg", 40 | 1 << 48)
    disk = tmp_path / "disk.raw"
    _disk(disk, "dos", [volume])
    return disk


def _fat_android(tmp_path: Path) -> Path:
    """A FAT16 volume The Sleuth Kit reads in its "Android" mode: deleted files it lists as live."""
    _need("mkfs.vfat", "mcopy")
    files = {"LIVE.JPG": _picture(63), "GONE.JPG": _picture(64), "DIR/KEEP.JPG": _picture(65),
             "DIR/OLD.JPG": _picture(66)}
    return _renamed(_volume(tmp_path, 16, files, deleted=("GONE.JPG", "DIR/OLD.JPG")),
                    [(b"LIVE    JPG", b"LI\x01E    JPG"), (b"\xe5ONE    JPG", b"\xe5O\x01E    JPG"),
                     (b"DIR        ", b"D\x01R        ")])


def _fat_dropped(tmp_path: Path) -> Path:
    """A FAT32 volume whose entries The Sleuth Kit drops (a file, a folder, a deleted file), beside a deleted
    file and a live one that share a shown name."""
    _need("mkfs.vfat", "mcopy")
    files = {"B.JPG": _picture(67), "HIDE/C.JPG": _picture(68), "GONE.JPG": _picture(69), "XIMG.JPG": _picture(70),
             "_IMG.JPG": _picture(71)}
    return _renamed(_volume(tmp_path, 32, files, deleted=("GONE.JPG", "XIMG.JPG")),
                    [(b"B       JPG", b"B\x01      JPG"), (b"HIDE       ", b"HI/E       "),
                     (b"\xe5ONE    JPG", b"\xe5O\x01E    JPG")])


def _renamed(path: Path, renames: list[tuple[bytes, bytes]]) -> Path:
    """The volume at `path` with these 8.3 directory entries renamed in place, each to a name TSK mishandles."""
    volume = bytearray(path.read_bytes())
    for old, new in renames:
        _rename(volume, old, new)
    path.write_bytes(bytes(volume))
    return path


def _fat_loop(tmp_path: Path) -> Path:
    """A FAT12 volume whose folder D holds a folder E pointing back at D's own cluster (a corrupt or hostile file
    system), then a file also named E: the walk lists the looping folder as an item D/E (D itself, by its first
    cluster: not entered), then the file as D/E!2."""
    _need("mkfs.vfat", "mcopy")
    path = tmp_path / "loop.img"
    _run("mkfs.vfat", "-C", path, "4096")
    _run("mmd", "-i", path, "::D")
    _run("mmd", "-i", path, "::D/E")
    (tmp_path / "picture").write_bytes(_picture(72))
    _run("mcopy", "-i", path, tmp_path / "picture", "::D/F.JPG")
    volume = bytearray(path.read_bytes())
    parent = _rename(volume, b"D          ", b"D          ")
    folder = volume.find(b"E          ")
    assert folder > 0 and volume.find(b"E          ", folder + 1) < 0
    struct.pack_into("<H", volume, folder + 26, parent)  # E's first cluster: D's (FAT12 has no high word)
    _rename(volume, b"F       JPG", b"E          ")
    path.write_bytes(bytes(volume))
    return path


def _hfsplus_fork(tmp_path: Path) -> Path:
    """A hybrid CD image whose HFS+ file has a resource fork, beside folders named as a fork's path."""
    _need("xorriso")
    tree = tmp_path / "tree"
    tree.mkdir()
    hidden = _picture(73)
    (tree / "letter.txt").write_bytes(b"Dear all,\n")
    (tree / "source.jpg").write_bytes(hidden)
    (tree / "album" / "..namedfork").mkdir(parents=True)
    (tree / "album" / "..namedfork" / "rsrc").write_bytes(_picture(74))
    image = tmp_path / "seized.iso"
    _run("xorriso", "-as", "mkisofs", "-quiet", "-R", "-J", "-hfsplus", "-hide-hfsplus", "source.jpg",
         "-o", image, tree)
    _give_resource_fork(image, "letter.txt", hidden)
    return image


def _exfat(tmp_path: Path) -> Path:
    """An exFAT partition: a live file, a deleted one, one named like the file system's own structures."""
    _need("mkfs.exfat", "sfdisk")
    volume = tmp_path / "p1.exfat"
    with volume.open("wb") as blank:
        blank.truncate(8 << 20)
    _run("mkfs.exfat", "-L", "SEIZED", volume)
    add_files(volume, [ExfatFile("IMG_0001.JPG", _picture(75)), ExfatFile("$UPCASE_TABLE", _picture(76)),
                       ExfatFile("GONE.JPG", _picture(77), deleted=True)])
    disk = tmp_path / "disk.raw"
    _disk(disk, "dos", [volume])
    return disk


def _exfat_dropped(tmp_path: Path) -> Path:
    """An exFAT partition whose entry sets The Sleuth Kit drops (a name length of 0, a deleted file's secondary
    count of 1) or reads as a folder (a file marked as one)."""
    disk = _exfat(tmp_path)
    image = bytearray(disk.read_bytes())
    start = 2048 * 512
    volume = image[start:]
    for name, at in (("IMG_0001.JPG", 32 + 3), ("GONE.JPG", 1), ("$UPCASE_TABLE", 4)):
        entry = entry_set(volume, name)
        volume[entry + at] = 0x10 if name == "$UPCASE_TABLE" else 0
        reseal(volume, entry)
    image[start:] = volume
    disk.write_bytes(image)
    return disk


_BUILDERS: dict[str, Callable[[Path], Path]] = {
    "ntfs": _ntfs_deleted, "fat-android": _fat_android, "fat-dropped": _fat_dropped, "fat-loop": _fat_loop,
    "hfsplus-fork": _hfsplus_fork, "exfat": _exfat, "exfat-dropped": _exfat_dropped}


def _items(source: DiskImageSource) -> list[Entry]:
    """The files the walk lists inside the image with content to read (not the media, partitions, errors)."""
    return [entry for entry in source.entries() if not entry.error and parse_relpath(entry.relpath).members
            and b"/" in parse_relpath(entry.relpath).members[0].name]


@pytest.mark.parametrize("build", ["fat-and-ext4", *_BUILDERS])
def test_every_item_the_walk_lists_is_read_back_from_the_same_record(build: str, tmp_path: Path,
                                                                    request: pytest.FixtureRequest) -> None:
    _need()
    image = request.getfixturevalue("seizure")["raw"] if build == "fat-and-ext4" else _BUILDERS[build](tmp_path)
    source = DiskImageSource(str(image))
    items = _items(source)
    opened = open_image(source.root)
    for entry in items:
        member = parse_relpath(entry.relpath).members[0]
        with opened.lock:
            found: Any = opened.locate(member.name, member.occurrence)
        address = None if found is None else found.address
        assert address == entry.inode, entry.relpath
        with source.open(entry.relpath) as stream:
            assert len(stream.read()) == entry.size, entry.relpath
    assert len(items) >= (1 if build == "fat-loop" else 2)
    assert build in ("hfsplus-fork", "fat-loop") or any(entry.deleted for entry in items)


def test_a_file_beside_a_folder_looping_to_its_parent_is_read_back(tmp_path: Path) -> None:
    """The walk numbers the looping folder's own item (said, not entered: its first cluster is its parent's)
    before the file of the same path; the read-back counts it too, so D/E!2 is that file, not "not found"."""
    _need()
    source = DiskImageSource(str(_fat_loop(tmp_path)))
    listed = {entry.relpath: entry for entry in source.entries()}
    assert "loops back on itself" in str(listed["!/p0/D/E"].error)
    assert listed["!/p0/D/E!2"].error is None and not [relpath for relpath in listed if "/D/E/" in relpath]
    with source.open("!/p0/D/E!2") as stream:
        assert stream.read() == _picture(72)


def test_a_deleted_name_s_record_is_judged_once_for_the_walk_and_the_read_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NTFS lists its deleted files without metadata (their records' sequence numbers were raised): each
    record is opened and judged by the walk; reading the files back in the same process (a one-worker scan,
    workers forked from it, `verify` after `own_file`'s walk) judges none again."""
    _need()
    judged: Counter[tuple[int, int]] = Counter()
    judge = item_rules._deleted_record

    def counted(fs: Any, folder: int, tsk_file: Any) -> Any:
        judged[folder, int(tsk_file.info.name.meta_addr)] += 1
        return judge(fs, folder, tsk_file)

    monkeypatch.setattr(item_rules, "_deleted_record", counted)
    source = DiskImageSource(str(_ntfs_deleted(tmp_path)))
    deleted = [entry for entry in _items(source) if entry.deleted]
    assert len(deleted) == 2 and len(judged) >= 2
    for entry in deleted:
        with source.open(entry.relpath) as stream:
            assert len(stream.read()) == entry.size
    assert set(judged.values()) == {1}, judged
