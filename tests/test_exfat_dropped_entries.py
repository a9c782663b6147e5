"""exFAT entry sets The Sleuth Kit drops (a name length of 0, a secondary count out of its bounds, a size past the
volume's, time stamps all zero, in-use bits that differ) or takes at their word (a file marked as a folder, whose
picture it lists as a folder of garbage entries): Vigie's own exFAT reader reads each file, which is an item with
its notes, matched and read back; one whose clusters cannot be found is an item with an error, never a silent
miss. Real exFAT volumes from `mkfs.exfat`, filled by tests/exfat.py, then patched. Drawn pictures only."""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.exfat import (
    ExfatFile,
    add_files,
    cluster_at,
    entry_set,
    in_use,
    link,
    reseal,
    root_entries,
    set_bytes,
)
from tests.test_disk_images import _need, _picture, _run
from vigie.demo.seizure import draw_picture
from vigie.sources.base import Entry
from vigie.sources.diskimage import DiskImageSource

_STREAM = 32  # the Stream Extension's offset in a set


def _zero_name_length(image: bytearray, at: int) -> None:
    image[at + _STREAM + 3] = 0


def _count(count: int) -> Callable[[bytearray, int], None]:
    def patch(image: bytearray, at: int) -> None:
        image[at + 1] = count
    return patch


def _huge_size(image: bytearray, at: int) -> None:
    struct.pack_into("<Q", image, at + _STREAM + 24, 1 << 40)


def _huge_sizes(image: bytearray, at: int) -> None:
    struct.pack_into("<Q", image, at + _STREAM + 8, 1 << 40)
    struct.pack_into("<Q", image, at + _STREAM + 24, 1 << 40)


def _no_times(image: bytearray, at: int) -> None:
    image[at + 8: at + 22] = bytes(14)


def _stream_not_in_use(image: bytearray, at: int) -> None:
    image[at + _STREAM] &= 0x7F


def _marked_folder(image: bytearray, at: int) -> None:
    struct.pack_into("<H", image, at + 4, 0x10)


def _no_name(image: bytearray, at: int) -> None:
    image[at + 1], image[at + _STREAM + 3] = 1, 0
    image[at + 2 * _STREAM] = 0x01  # its name entry an unused slot


_PATCHES: dict[str, tuple[Callable[[bytearray, int], None], str, str]] = {
    "name length 0": (_zero_name_length, "IMG_0002.JPG", "name length (0)"),
    "secondary count 1": (_count(1), "IMG_0002.JPG", "secondary count (1)"),
    "secondary count 19": (_count(19), "IMG_0002.JPG", "secondary count (19)"),
    "size past the volume's": (_huge_size, "IMG_0002.JPG", "read as far as its valid data length ("),
    "sizes past the volume's": (_huge_sizes, "IMG_0002.JPG", "read as far as its clusters run ("),
    "time stamps all zero": (_no_times, "IMG_0002.JPG", "time stamps are all zero"),
    "in-use bits differ": (_stream_not_in_use, "IMG_0002.JPG", "in-use bits of its entries differ"),
    "marked as a folder": (_marked_folder, "IMG_0002.JPG", "marked as a folder, but its content is not a folder"),
    "no name at all": (_no_name, "NoName-393", "holds no name: shown as NoName-393"),
}


def _volume(tmp_path: Path, patch: Callable[[bytearray, int], None], deleted: bool = False) -> Path:
    _need("mkfs.exfat")
    volume = tmp_path / "stick.exfat"
    with volume.open("wb") as blank:
        blank.truncate(8 << 20)
    _run("mkfs.exfat", "-L", "SEIZED", volume)
    add_files(volume, [ExfatFile("KEEP.JPG", _picture(90)), ExfatFile("IMG_0002.JPG", _picture(91), deleted),
                       ExfatFile("AFTER.JPG", _picture(92))])
    image = bytearray(volume.read_bytes())
    at = entry_set(image, "IMG_0002.JPG")
    patch(image, at)
    reseal(image, at)
    volume.write_bytes(image)
    return volume


def _items(volume: Path) -> dict[str, Entry]:
    return {entry.relpath: entry for entry in DiskImageSource(str(volume)).entries()}


@pytest.mark.parametrize("case", list(_PATCHES))
def test_a_file_whose_exfat_entry_set_the_sleuth_kit_drops_is_read(case: str, tmp_path: Path) -> None:
    patch, name, said = _PATCHES[case]
    volume = _volume(tmp_path, patch)
    items = _items(volume)
    item = items[f"!/p0/{name}"]
    assert item.error is None and not item.deleted and item.inode == 393, item
    assert any(said in note for note in item.notes), item.notes
    assert {f"!/p0/{other}" for other in ("KEEP.JPG", "AFTER.JPG")} <= set(items)
    source = DiskImageSource(str(volume))
    with source.open(item.relpath) as stream:
        read = stream.read()
    picture = _picture(91)
    assert read[:len(picture)] == picture and len(read) == item.size  # where sizes lie: its clusters, all read
    assert not [path for path, entry in items.items() if "IMG_0002.JPG/" in path], "no garbage entries inside it"
    assert "!/p0" not in items, items["!/p0"]  # every cluster in use claimed: nothing said on the partition


def test_a_deleted_file_whose_entry_set_lies_is_recovered(tmp_path: Path) -> None:
    volume = _volume(tmp_path, _count(1), deleted=True)
    item = _items(volume)["!/p0/IMG_0002.JPG"]
    assert item.deleted and item.error is None and item.size == len(_picture(91))
    with DiskImageSource(str(volume)).open(item.relpath) as stream:
        assert hashlib.sha256(stream.read()).digest() == hashlib.sha256(_picture(91)).digest()


def test_a_set_pointing_outside_the_volume_is_said_on_its_item(tmp_path: Path) -> None:
    def outside(image: bytearray, at: int) -> None:
        struct.pack_into("<I", image, at + _STREAM + 20, 0)

    item = _items(_volume(tmp_path, outside))["!/p0/IMG_0002.JPG"]
    assert "outside the volume: content not read" in str(item.error)
    assert any("did not list this file's exFAT entry set" in note for note in item.notes)


def test_a_dropped_set_in_a_folder_is_read_under_its_folder_and_a_dropped_folders_files_too(tmp_path: Path) -> None:
    """Vigie's exFAT reader enters the live folders (those The Sleuth Kit drops too): a file it drops in a folder
    is an item at that folder's path; a file in a folder it drops is an item at the folder's own path."""
    _need("mkfs.exfat", "fsck.exfat")
    volume = tmp_path / "stick.exfat"
    with volume.open("wb") as blank:
        blank.truncate(8 << 20)
    _run("mkfs.exfat", "-L", "SEIZED", volume)
    add_files(volume, [ExfatFile("KEEP.JPG", _picture(93)), ExfatFile("HIDDEN.JPG", _picture(94))], into="DCIM")
    add_files(volume, [ExfatFile("INNER.JPG", _picture(95))], into="Secret")
    _run("fsck.exfat", "-n", volume)
    image = bytearray(volume.read_bytes())
    for name in ("HIDDEN.JPG", "Secret"):
        _zero_name_length(image, entry_set(image, name))
        reseal(image, entry_set(image, name))
    volume.write_bytes(image)
    items = _items(volume)
    assert {"!/p0/DCIM/KEEP.JPG", "!/p0/DCIM/HIDDEN.JPG", "!/p0/Secret/INNER.JPG"} <= set(items), sorted(items)
    source = DiskImageSource(str(volume))
    for relpath, seed in (("!/p0/DCIM/HIDDEN.JPG", 94), ("!/p0/Secret/INNER.JPG", 95)):
        assert any("did not list" in note for note in items[relpath].notes)
        with source.open(relpath) as stream:
            assert stream.read() == _picture(seed), relpath


def test_a_folder_looping_back_on_the_root_is_said_not_followed(tmp_path: Path) -> None:
    """A folder whose first cluster is the root folder's: neither the walk nor Vigie's exFAT reader enters it
    again, and the partition says so, with the clusters in use that no file claims now (the folder's own, and
    its picture's)."""
    _need("mkfs.exfat")
    volume = tmp_path / "stick.exfat"
    with volume.open("wb") as blank:
        blank.truncate(8 << 20)
    _run("mkfs.exfat", "-L", "SEIZED", volume)
    add_files(volume, [ExfatFile("KEEP.JPG", _picture(96))], into="LOOP")
    image = bytearray(volume.read_bytes())
    at = entry_set(image, "LOOP")
    struct.pack_into("<I", image, at + _STREAM + 20, struct.unpack_from("<I", image, 96)[0])  # the root's cluster
    reseal(image, at)
    volume.write_bytes(image)
    items = _items(volume)
    assert not [path for path in items if path.startswith("!/p0/LOOP")], sorted(items)
    said = (*items["!/p0"].notes, str(items["!/p0"].error))
    assert any("folders whose clusters a folder entered before them or above them lists too" in note
               for note in said), said
    # the folder's own cluster and its picture's, which no entry set read now points to, are counted
    assert any(note.startswith("the file system filling the image: 6 clusters (24,576 bytes) are marked in use in "
                               "the allocation bitmap but no file or folder listed claims them") for note in said), said


def test_a_file_marked_as_a_folder_whose_first_bytes_read_as_an_empty_folder_is_read_too(tmp_path: Path) -> None:
    """A file whose first byte is 00 (as an MP4's is) reads as an empty folder's first cluster: The Sleuth Kit
    lists an empty folder. Its size is not whole clusters, as no folder's is: it is read as a file too."""
    _need("mkfs.exfat")
    video = b"\0\0\0\x18ftypisom" + _picture(97)
    volume = tmp_path / "stick.exfat"
    with volume.open("wb") as blank:
        blank.truncate(8 << 20)
    _run("mkfs.exfat", "-L", "SEIZED", volume)
    add_files(volume, [ExfatFile("CLIP.MP4", video)])
    image = bytearray(volume.read_bytes())
    at = entry_set(image, "CLIP.MP4")
    _marked_folder(image, at)
    reseal(image, at)
    volume.write_bytes(image)
    items = _items(volume)
    item = items["!/p0/CLIP.MP4"]
    assert item.error is None and any("not whole clusters" in note for note in item.notes), item
    with DiskImageSource(str(volume)).open(item.relpath) as stream:
        assert stream.read() == video


def _blank(tmp_path: Path) -> tuple[Path, int]:
    """An empty exFAT volume, and its cluster size."""
    _need("mkfs.exfat")
    volume = tmp_path / "stick.exfat"
    with volume.open("wb") as blank:
        blank.truncate(8 << 20)
    _run("mkfs.exfat", "-L", "SEIZED", volume)
    boot = volume.read_bytes()[:512]
    return volume, 1 << (boot[108] + boot[109])


def _read(volume: Path, relpath: str) -> bytes:
    with DiskImageSource(str(volume)).open(relpath) as stream:
        return stream.read()


def _bmp(seed: int, size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    draw_picture(seed, size).save(buffer, "BMP")
    return buffer.getvalue()


def _said(items: dict[str, Entry]) -> tuple[str, ...]:
    partition = items.get("!/p0")
    return () if partition is None else (*partition.notes, str(partition.error))


def test_a_folder_whose_first_set_is_a_deleted_one_with_mixed_in_use_bits_is_entered(tmp_path: Path) -> None:
    """A folder whose first entry set is a deleted file's whose stream extension kept its in-use bit: its entry
    sets, sealed by their checksums, make it a folder, whose pictures are read (not one file of garbage)."""
    volume, _ = _blank(tmp_path)
    add_files(volume, [ExfatFile("OLD.JPG", _picture(80), deleted=True), ExfatFile("IMG_0001.JPG", _picture(81))],
              into="DCIM")
    image = bytearray(volume.read_bytes())
    image[entry_set(image, "OLD.JPG") + _STREAM] |= 0x80
    volume.write_bytes(image)
    items = _items(volume)
    assert "!/p0/DCIM" not in items and items["!/p0/DCIM/IMG_0001.JPG"].error is None, sorted(items)
    assert _read(volume, "!/p0/DCIM/IMG_0001.JPG") == _picture(81)
    assert items["!/p0/DCIM/OLD.JPG"].deleted and _read(volume, "!/p0/DCIM/OLD.JPG") == _picture(80)


def test_a_deleted_file_of_whole_clusters_marked_as_a_folder_is_read(tmp_path: Path) -> None:
    """A deleted picture whose size is whole clusters, its entry marked as a folder: its content is judged as a
    live one's is, and read as a file."""
    volume, cluster = _blank(tmp_path)
    picture = _picture(82)
    picture += bytes(-len(picture) % cluster)  # trailing bytes after its end: still the picture
    add_files(volume, [ExfatFile("KEEP.JPG", _picture(83)), ExfatFile("GONE.JPG", picture, deleted=True)])
    image = bytearray(volume.read_bytes())
    at = entry_set(image, "GONE.JPG")
    _marked_folder(image, at)
    reseal(image, at)
    volume.write_bytes(image)
    item = _items(volume)["!/p0/GONE.JPG"]
    assert item.deleted and item.error is None and any("marked as a folder" in note for note in item.notes), item
    assert _read(volume, item.relpath) == picture


def test_a_file_marked_as_a_folder_holding_no_entry_set_and_not_zeros_is_read_too(tmp_path: Path) -> None:
    """A BMP of whole clusters marked as a folder: its first byte is no entry in use and its second entry's
    type is 00 (the end of a folder), so it reads as an empty folder; but it holds no entry set and is not all
    zeros, as an empty folder is: read as a file too, with a note."""
    volume, cluster = _blank(tmp_path)
    picture = _bmp(84, (40, 30))
    picture += bytes(-len(picture) % cluster)
    assert picture[0] < 0x80 and picture[32] == 0
    add_files(volume, [ExfatFile("KEEP.JPG", _picture(85)), ExfatFile("HIDDEN.BMP", picture)])
    image = bytearray(volume.read_bytes())
    at = entry_set(image, "HIDDEN.BMP")
    _marked_folder(image, at)
    reseal(image, at)
    volume.write_bytes(image)
    item = _items(volume)["!/p0/HIDDEN.BMP"]
    assert item.error is None and any("holds no exFAT entry set" in note for note in item.notes), item
    assert _read(volume, item.relpath) == picture


def test_a_live_file_whose_cluster_chain_loops_has_an_error_not_a_wrong_hash(tmp_path: Path) -> None:
    """A FAT-chained picture whose chain loops back (300 -> 301 -> 300) before its size is covered: The Sleuth
    Kit reads its first cluster again as its third; Vigie's reader gives its item, with an error, and counts its
    clusters as claimed."""
    volume, cluster = _blank(tmp_path)
    add_files(volume, [ExfatFile("KEEP.JPG", _picture(86))])
    picture = _bmp(87, (60, 60))
    assert 2 * cluster < len(picture) <= 3 * cluster
    image = bytearray(volume.read_bytes())
    root_entries(image, set_bytes(ExfatFile("LOOP.BMP", picture), 300, chained=True))
    in_use(image, 300, picture[:cluster])
    in_use(image, 301, picture[cluster: 2 * cluster])
    link(image, 300, 301)
    link(image, 301, 300)
    volume.write_bytes(image)
    items = _items(volume)
    assert "a broken or looping cluster chain" in str(items["!/p0/LOOP.BMP"].error), items["!/p0/LOOP.BMP"]
    assert not _said(items), _said(items)
    with pytest.raises(OSError, match="looping cluster chain"):
        _read(volume, "!/p0/LOOP.BMP")


def test_a_deleted_file_entry_whose_slots_a_new_set_took_is_not_said(tmp_path: Path) -> None:
    """A new entry set written one slot into a deleted one's (a driver reuses free slots), leaving the deleted
    file entry with no stream extension after it: a clean volume, nothing said on the partition."""
    volume, cluster = _blank(tmp_path)
    add_files(volume, [ExfatFile("KEEP.JPG", _picture(88))])
    picture = _picture(89)
    image = bytearray(volume.read_bytes())
    root_entries(image, set_bytes(ExfatFile("DCIM", b""), 310, cluster))
    old = set_bytes(ExfatFile("OLD00001.JPG", b"x" * 100, deleted=True), 320)
    in_use(image, 310, old[:32] + set_bytes(ExfatFile("NEW.JPG", picture), 330))
    in_use(image, 330, picture)
    volume.write_bytes(image)
    items = _items(volume)
    assert _read(volume, "!/p0/DCIM/NEW.JPG") == picture
    assert not _said(items), _said(items)


def test_structure_entries_past_the_volumes_own_are_read_as_files(tmp_path: Path) -> None:
    """A second allocation bitmap entry (on a volume of one FAT) and a second up-case table entry in the root
    folder, each pointing at a picture: no structure of the volume's, so each is an item, read back."""
    volume, _ = _blank(tmp_path)
    add_files(volume, [ExfatFile("KEEP.JPG", _picture(98))])
    image = bytearray(volume.read_bytes())
    pictures = {"$ALLOC_BITMAP": _picture(99), "$UPCASE_TABLE": _picture(100)}
    for kind, cluster, picture in ((0x81, 400, pictures["$ALLOC_BITMAP"]), (0x82, 410, pictures["$UPCASE_TABLE"])):
        entry = bytearray(32)
        entry[0], entry[1] = kind, 1
        struct.pack_into("<IQ", entry, 20, cluster, len(picture))
        root_entries(image, bytes(entry))
        in_use(image, cluster, picture)
    volume.write_bytes(image)
    items = _items(volume)
    for name, picture in pictures.items():
        assert items[f"!/p0/{name}"].error is None and _read(volume, f"!/p0/{name}") == picture, name
    assert not _said(items), _said(items)


@pytest.mark.parametrize(("levels", "deleted"), [(10, False), (10, True), (17, False)])
def test_folders_sharing_their_clusters_are_entered_once(levels: int, deleted: bool, tmp_path: Path) -> None:
    """Folders A and B of each level pointing at the same cluster, a picture at the bottom: each folder's
    clusters are entered once (not 2^levels times), live or deleted, the picture listed once, the rest said on
    the partition; where The Sleuth Kit's search for orphan files would enter more than 65,536 folders (it
    enters each once for each path to it), its `$OrphanFiles` is not listed, and that is said."""
    volume, cluster = _blank(tmp_path)
    image = bytearray(volume.read_bytes())
    picture = _picture(101)
    root_entries(image, set_bytes(ExfatFile("D", b""), 300, cluster))
    in_use(image, 300)
    for level in range(levels):
        entries = b"".join(set_bytes(ExfatFile(name, b"", deleted), 301 + level, cluster) for name in "AB")
        image[cluster_at(image, 300 + level): cluster_at(image, 300 + level) + len(entries)] = entries
        if not deleted:
            in_use(image, 301 + level)
    last = 300 + levels
    entries = set_bytes(ExfatFile("P.JPG", picture, deleted), last + 1)
    image[cluster_at(image, last): cluster_at(image, last) + len(entries)] = entries
    image[cluster_at(image, last + 1): cluster_at(image, last + 1) + len(picture)] = picture
    if not deleted:
        in_use(image, last + 1)
    volume.write_bytes(image)
    items = _items(volume)
    found = [path for path in items if path.endswith("/P.JPG")]
    assert found == ["!/p0/D" + "/A" * levels + "/P.JPG"], found[:4]
    assert items[found[0]].deleted is deleted and _read(volume, found[0]) == picture
    said = _said(items)
    said_of = "deleted folders whose clusters another folder lists now" if deleted \
        else "folders whose clusters a folder entered before them or above them lists too"
    assert any(said_of in note for note in said), said
    assert any("orphan files ($OrphanFiles) not listed" in note for note in said) is (levels > 16), said


def test_a_deleted_folder_whose_cluster_a_new_folder_took_is_said_as_a_reuse(tmp_path: Path) -> None:
    """A deleted folder whose cluster a new folder took since (as exFAT reuses free clusters): the new folder's
    picture is listed once, at its path; the reuse is said on the partition, not as a corrupt file system."""
    volume, cluster = _blank(tmp_path)
    image = bytearray(volume.read_bytes())
    live = _picture(105)
    root_entries(image, set_bytes(ExfatFile("OLD", b"", deleted=True), 500, cluster))
    root_entries(image, set_bytes(ExfatFile("NEW", b""), 500, cluster))
    in_use(image, 500, set_bytes(ExfatFile("IMG_0001.JPG", live), 510))
    in_use(image, 510, live)
    volume.write_bytes(image)
    items = _items(volume)
    assert [path for path in items if path.endswith("IMG_0001.JPG")] == ["!/p0/NEW/IMG_0001.JPG"], sorted(items)
    assert _read(volume, "!/p0/NEW/IMG_0001.JPG") == live
    said = _said(items)
    assert any("deleted folders whose clusters another folder lists now" in note and "(1)" in note
               for note in said), said
    assert not any("corrupt" in note for note in said), said


def test_folders_sharing_a_cluster_past_their_first_are_listed_once(tmp_path: Path) -> None:
    """Each level's A chained from a cluster of unused entries to the cluster its B starts at, which holds the next
    level's A and B: the shared cluster is listed by the folder entered first only, so each level is read once
    (not 2^levels times), its picture listed once."""
    volume, cluster = _blank(tmp_path)
    image = bytearray(volume.read_bytes())
    picture = _picture(102)
    levels = 10

    def chained(name: str, first: int) -> bytes:
        return set_bytes(ExfatFile(name, b""), first, 2 * cluster, chained=True)

    root_entries(image, chained("D", 300))
    for level in range(levels + 1):
        unused, shared = 300 + 2 * level, 301 + 2 * level
        in_use(image, unused, bytes([0x01] + [0x55] * 31) * (cluster // 32))  # no end marker: read on
        link(image, unused, shared)
        link(image, shared)
        entries = (chained("A", shared + 1) + set_bytes(ExfatFile("B", b""), shared + 2, cluster) if level < levels
                   else set_bytes(ExfatFile("P.JPG", picture), 900))
        in_use(image, shared, entries)
    in_use(image, 900, picture)
    volume.write_bytes(image)
    items = _items(volume)
    found = [path for path in items if path.endswith("/P.JPG")]
    assert found == ["!/p0/D" + "/A" * levels + "/P.JPG"], found[:4]
    assert _read(volume, found[0]) == picture


def test_a_folder_whose_chain_loops_back_lists_each_entry_once(tmp_path: Path) -> None:
    """A folder of three clusters whose FAT chain loops back (340 -> 341 -> 340): The Sleuth Kit reads its first
    cluster again as its third, listing its picture twice; it is listed once."""
    volume, cluster = _blank(tmp_path)
    image = bytearray(volume.read_bytes())
    pictures = [_picture(103), _picture(104)]
    root_entries(image, set_bytes(ExfatFile("FLOOP", b""), 340, 3 * cluster, chained=True))
    link(image, 340, 341)
    link(image, 341, 340)
    first = set_bytes(ExfatFile("A.JPG", pictures[0]), 350)
    in_use(image, 340, first + bytes(cluster - 32 - len(first)) + bytes([0x85]) + bytes(31))  # no end: read on
    in_use(image, 341, set_bytes(ExfatFile("B.JPG", pictures[1]), 360))
    in_use(image, 350, pictures[0])
    in_use(image, 360, pictures[1])
    volume.write_bytes(image)
    items = _items(volume)
    assert [path for path in items if path.startswith("!/p0/FLOOP/")] == ["!/p0/FLOOP/A.JPG", "!/p0/FLOOP/B.JPG"]
    for path, picture in zip(("!/p0/FLOOP/A.JPG", "!/p0/FLOOP/B.JPG"), pictures, strict=True):
        assert _read(volume, path) == picture
