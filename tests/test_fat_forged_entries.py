"""Forged FAT directory entries: a picture's entry marked as a folder or as a long-name piece, a long name whose
checksum is not its 8.3 name's, and cluster chains that cross. Each picture is still read (or said), the item
says what was found, and the read-back returns the bytes the scan hashed. Volumes are made with mkfs.vfat and
mtools, then their entries patched."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_disk_images import _need, _picture, _scan
from tests.test_fat_dropped_entries import _fat_next, _layout, _rename, _set_fat, _volume
from vigie.cli import main
from vigie.config import Settings
from vigie.sources.reopen import read_item_bytes

_NOT_FOLDER = "its directory entry is marked as a folder, but its content is not a folder"
_FOREIGN_LONG_NAME = "but those long-name entries do not belong to it"
_LOST = "allocated in the FAT but no file or folder listed claims them"


def _entry_at(volume: bytes, short_name: bytes) -> int:
    at = volume.find(short_name)
    assert at > 0 and at % 32 == 0 and volume.find(short_name, at + 1) < 0, short_name
    return at


def _first_cluster(volume: bytes, short_name: bytes) -> int:
    at = _entry_at(volume, short_name)
    high = struct.unpack_from("<H", volume, at + 20)[0] if _layout(volume)[0] == 32 else 0
    return int(struct.unpack_from("<H", volume, at + 26)[0] | high << 16)


def _chain(volume: bytes, first: int) -> list[int]:
    clusters = [first]
    while 2 <= (following := _fat_next(volume, clusters[-1])) <= _layout(volume)[4] + 1:
        clusters.append(following)
    return clusters


def _messages(item: dict[str, object]) -> str:
    return " ".join(error["message"] for error in item["errors"])  # type: ignore[attr-defined,index]


def _read_back_and_verify(image: Path, items: dict[str, dict[str, object]], case: Path) -> None:
    """Every file item of the volume reads back to the bytes the scan hashed, and `verify` finds them unchanged."""
    for path, item in items.items():
        if "!/p0/" in path and item["sha256"]:
            data = read_item_bytes(str(image), path[len(str(image)):], Settings(workers=1), 1 << 20)
            assert hashlib.sha256(data).hexdigest() == item["sha256"], path
    verified = CliRunner().invoke(main, ["verify", "--case", str(case)])
    files = [path for path in items if path.count("!/") < 2]  # verify re-hashes files, not what they hold
    assert verified.exit_code == 0 and f"{len(files)} files checked, 0 changed" in verified.output, verified.output


@pytest.mark.parametrize("bits", [12, 16, 32])
def test_a_picture_entry_marked_as_a_folder_is_read_as_a_file_with_a_note(bits: int, tmp_path: Path) -> None:
    """A picture's entry given the folder attribute (one The Sleuth Kit lists as a folder, one it drops for a
    \\x01 in its name) is read as the file it is, since its content does not start with "." and ".."; a real
    folder beside them is still entered, and no cluster is left unclaimed."""
    _need("mkfs.vfat", "mcopy")
    pictures = {"A.JPG": _picture(40), "DROP.JPG": _picture(41), "DIR/C.JPG": _picture(42), "B.JPG": _picture(43)}
    volume_path = _volume(tmp_path, bits, pictures)
    volume = bytearray(volume_path.read_bytes())
    _rename(volume, b"DROP    JPG", b"DR\x01P    JPG")
    for name in (b"A       JPG", b"DR\x01P    JPG"):
        volume[_entry_at(volume, name) + 11] = 0x10
    volume_path.write_bytes(bytes(volume))
    items = _scan(tmp_path / "case", volume_path)
    inside = {path.split("!/p0/", 1)[1]: item for path, item in items.items() if "!/p0/" in path}
    assert set(inside) == {"A.JPG", "DR\\x01P.JPG", "DIR/C.JPG", "B.JPG"}
    for original, path in (("A.JPG", "A.JPG"), ("DROP.JPG", "DR\\x01P.JPG"), ("DIR/C.JPG", "DIR/C.JPG"),
                           ("B.JPG", "B.JPG")):
        item = inside[path]
        assert item["sha256"] == hashlib.sha256(pictures[original]).hexdigest(), path
        assert (_NOT_FOLDER in _messages(item)) is (original in ("A.JPG", "DROP.JPG")), (path, _messages(item))
        assert ("The Sleuth Kit skipped" in _messages(item)) is (original == "DROP.JPG"), path
    assert f"{volume_path}!/p0" not in items  # its clusters claimed as the file's
    _read_back_and_verify(volume_path, items, tmp_path / "case")


@pytest.mark.parametrize("bits", [12, 32])
def test_a_deleted_picture_entry_marked_as_a_folder_is_read_as_a_deleted_file(bits: int, tmp_path: Path) -> None:
    """A deleted picture's entry given the folder attribute: The Sleuth Kit reads it as a deleted folder (its
    first cluster as entries). It records a size, as no folder does, and its first cluster does not start with
    "." and "..": it is read as the deleted file it is, with a note. A folder deleted with what it held is still
    read as one (no item of its own), and one that starts as a folder but records a size is read as both."""
    _need("mkfs.vfat", "mcopy")
    pictures = {"GONE.JPG": _picture(53), "ALBUM/IN.JPG": _picture(54), "SIZED/X.JPG": _picture(55),
                "KEEP.JPG": _picture(56)}
    volume_path = _volume(tmp_path, bits, pictures, deleted=("GONE.JPG", "ALBUM/", "SIZED/"))
    volume = bytearray(volume_path.read_bytes())
    volume[_entry_at(volume, b"\xe5ONE    JPG") + 11] = 0x10
    struct.pack_into("<I", volume, _entry_at(volume, b"\xe5IZED      ") + 28, 4096)
    volume_path.write_bytes(bytes(volume))
    items = _scan(tmp_path / "case", volume_path)
    inside = {path.split("!/p0/", 1)[1]: item for path, item in items.items() if "!/p0/" in path}
    assert {"_ONE.JPG", "_LBUM/_N.JPG", "_IZED/_.JPG", "_IZED", "KEEP.JPG"} <= set(inside), sorted(inside)
    gone = inside["_ONE.JPG"]
    assert gone["deleted"] and gone["sha256"] == hashlib.sha256(pictures["GONE.JPG"]).hexdigest()
    assert _NOT_FOLDER in _messages(gone), _messages(gone)
    assert "records a size, as no folder's does" in _messages(inside["_IZED"])
    assert "_LBUM" not in inside and not [path for path in inside if path.startswith("_ONE.JPG/")]
    _read_back_and_verify(volume_path, items, tmp_path / "case")


@pytest.mark.parametrize("bits", [16, 32])
def test_a_long_name_whose_checksum_is_not_the_short_names_is_not_shown(bits: int, tmp_path: Path) -> None:
    """Long-name entries before an 8.3 entry whose checksum is not its name's (fsck.vfat: "Wrong checksum for long
    file name") do not name it: The Sleuth Kit shows such a long name, Vigie the 8.3 name, with a note. A picture
    renamed so by a forged piece, one whose own pieces were given a wrong checksum, and a folder's (the files
    below it at its 8.3 name's path, said on the partition); a long name whose checksum holds is still shown."""
    _need("mkfs.vfat", "mcopy")
    pictures = {"D.TXT": b"", "B.JPG": _picture(44), "Holiday one.jpg": _picture(45),
                "Trip album/INNER.JPG": _picture(46), "Kept long name.jpg": _picture(47)}
    volume_path = _volume(tmp_path, bits, pictures)
    volume = bytearray(volume_path.read_bytes())
    at = _entry_at(volume, b"D       TXT")  # the entry before B.JPG's becomes a piece spelling "notes.txt"
    text = "notes.txt".encode("utf-16-le") + b"\0\0" + b"\xff" * 6
    volume[at: at + 32] = b"\x41" + text[:10] + b"\x0f\0\0" + text[10:22] + b"\0\0" + text[22:26]
    for short in (b"HOLIDA~1JPG", b"TRIPAL~1   "):
        piece = _entry_at(volume, short) - 32
        while volume[piece + 11] == 0x0F:  # every piece: the checksum of another name
            volume[piece + 13] ^= 0xFF
            piece -= 32
    volume_path.write_bytes(bytes(volume))
    items = _scan(tmp_path / "case", volume_path)
    inside = {path.split("!/p0/", 1)[1]: item for path, item in items.items() if "!/p0/" in path}
    assert set(inside) == {"B.JPG", "HOLIDA~1.JPG", "TRIPAL~1/INNER.JPG", "Kept long name.jpg"}
    for original, path, long_name in (("B.JPG", "B.JPG", "notes.txt"),
                                      ("Holiday one.jpg", "HOLIDA~1.JPG", "Holiday one.jpg")):
        item = inside[path]
        assert item["sha256"] == hashlib.sha256(pictures[original]).hexdigest(), path
        assert f"long name {long_name}, {_FOREIGN_LONG_NAME}" in _messages(item), _messages(item)
        assert f"its short name {path}" in _messages(item)
    for original, path in (("Trip album/INNER.JPG", "TRIPAL~1/INNER.JPG"),
                           ("Kept long name.jpg", "Kept long name.jpg")):
        assert inside[path]["sha256"] == hashlib.sha256(pictures[original]).hexdigest() and not inside[path]["errors"]
    said = _messages(items[f"{volume_path}!/p0"])  # the folder has no item: said on the partition
    assert f"showed a folder by the long name Trip album, {_FOREIGN_LONG_NAME}" in said, said
    assert "its short name TRIPAL~1" in said and said.endswith("by its short name, the path of the files below it")
    _read_back_and_verify(volume_path, items, tmp_path / "case")


def test_a_picture_entry_marked_as_a_long_name_piece_is_read_as_a_file(tmp_path: Path) -> None:
    """A picture's entry given the long-name attributes (0x0F) is read by The Sleuth Kit as a long-name piece:
    the file is left out and the next file named by it. A long-name piece holds no first cluster: Vigie reads
    the entry as a file, with a note, and the next file by its 8.3 name."""
    _need("mkfs.vfat", "mcopy")
    pictures = {"A.JPG": _picture(48), "B.JPG": _picture(49)}
    volume_path = _volume(tmp_path, 16, pictures)
    volume = bytearray(volume_path.read_bytes())
    volume[_entry_at(volume, b"A       JPG") + 11] = 0x0F
    volume_path.write_bytes(bytes(volume))
    items = _scan(tmp_path / "case", volume_path)
    inside = {path.split("!/p0/", 1)[1]: item for path, item in items.items() if "!/p0/" in path}
    assert set(inside) == {"A.JPG", "B.JPG"}
    for name, data in pictures.items():
        assert inside[name]["sha256"] == hashlib.sha256(data).hexdigest(), name
    assert "marked as a long-name piece (attributes 0x0F)" in _messages(inside["A.JPG"])
    assert _FOREIGN_LONG_NAME in _messages(inside["B.JPG"])
    assert f"{volume_path}!/p0" not in items
    _read_back_and_verify(volume_path, items, tmp_path / "case")


@pytest.mark.parametrize("crossing", ["midway", "same first cluster"])
@pytest.mark.parametrize("bits", [12, 16, 32])
def test_files_whose_cluster_chains_cross_each_say_so_naming_the_other(bits: int, crossing: str,
                                                                       tmp_path: Path) -> None:
    """Two files whose chains cross (one's chain joins the other's midway, or both start at one cluster) are
    read as the FAT chains them, each with a note naming the other: their content may not be their own. A file
    in a folder is named by its path; a file beside them is left alone."""
    _need("mkfs.vfat", "mcopy")
    pictures = {"A.JPG": _picture(50) * 3, "DIR/B.JPG": _picture(51) * 3, "C.JPG": _picture(52)}
    volume_path = _volume(tmp_path, bits, pictures)
    volume = bytearray(volume_path.read_bytes())
    ours, theirs = (_chain(volume, _first_cluster(volume, name)) for name in (b"A       JPG", b"B       JPG"))
    if crossing == "midway":
        _set_fat(volume, ours[1], theirs[2])
    else:
        at = _entry_at(volume, b"B       JPG")
        struct.pack_into("<H", volume, at + 26, ours[0] & 0xFFFF)
        if bits == 32:
            struct.pack_into("<H", volume, at + 20, ours[0] >> 16)
    volume_path.write_bytes(bytes(volume))
    items = _scan(tmp_path / "case", volume_path)
    for path, other in (("A.JPG", "DIR/B.JPG"), ("DIR/B.JPG", "A.JPG")):
        item = items[f"{volume_path}!/p0/{path}"]
        assert f"its clusters are also claimed by {other} (cross-linked cluster chains" in _messages(item), path
    assert not items[f"{volume_path}!/p0/C.JPG"]["errors"]
    assert items[f"{volume_path}!/p0/C.JPG"]["sha256"] == hashlib.sha256(pictures["C.JPG"]).hexdigest()
    assert _LOST in _messages(items[f"{volume_path}!/p0"])  # the chain cut off is said as before
    _read_back_and_verify(volume_path, items, tmp_path / "case")


def test_a_file_that_starts_like_a_folder_and_is_marked_as_one_is_read_as_both(tmp_path: Path) -> None:
    """A zip whose first bytes are "." and ".." folder entries, its entry marked as a folder: a reader finds an
    empty folder; the size the entry records (no folder's does) gives the zip, read as a file with a note."""
    import io
    import zipfile

    _need("mkfs.vfat", "mcopy")
    hidden = _picture(48)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("K.JPG", hidden)
    dots = b".          \x10" + bytes(20) + b"..         \x10" + bytes(20)
    blob = dots + bytes(32 * 14) + zipped.getvalue()  # a zero entry ends the folder for a folder's reader
    volume_path = _volume(tmp_path, 16, {"Z.ZIP": blob, "B.JPG": _picture(49)})
    volume = bytearray(volume_path.read_bytes())
    volume[_entry_at(volume, b"Z       ZIP") + 11] = 0x10
    volume_path.write_bytes(bytes(volume))
    items = _scan(tmp_path / "case", volume_path)
    folder = items[f"{volume_path}!/p0/Z.ZIP"]
    assert folder["sha256"] == hashlib.sha256(blob).hexdigest() and "records a size" in _messages(folder)
    assert items[f"{volume_path}!/p0/Z.ZIP!/K.JPG"]["sha256"] == hashlib.sha256(hidden).hexdigest()
    _read_back_and_verify(volume_path, items, tmp_path / "case")
