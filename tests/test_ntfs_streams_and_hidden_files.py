"""Files put where a file system's usual reading does not look, read and said.

An NTFS file's alternate data streams (named $DATA attributes) are items of their own, at the file's path
followed by `/..namedfork/NAME`, as an HFS+ resource fork is; a user's file in NTFS's `$Extend` folder is read,
with a note, while NTFS's own files there are not items; an ISO 9660 file hidden from the Joliet tree (the one
The Sleuth Kit reads) is read from its record, not taken for a deleted file. Images are built with Debian's
tools (mkntfs, ntfscp, ntfs-3g, xorriso) and hold drawn pictures only.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from click.testing import CliRunner
from ntfs import ROOT, delete
from test_disk_images import _need, _picture, _run, _scan
from test_system_and_orphan_files import _inside, _mounted, _ntfs

from vigie.cli import main
from vigie.config import Settings
from vigie.sources.reopen import read_item_bytes

_STREAM = "/..namedfork/"


def _verified(case: Path) -> None:
    result = CliRunner().invoke(main, ["verify", "--case", str(case)])
    assert result.exit_code == 0, result.output
    assert "0 changed, missing or unreadable" in result.output


def _errors(item: dict[str, object]) -> list[str]:
    return [error["message"] for error in item["errors"]]  # type: ignore[attr-defined,index]


def _known(tmp_path: Path, *pictures: bytes) -> Path:
    known = tmp_path / "known.txt"
    known.write_text("".join(hashlib.md5(picture).hexdigest() + "\n" for picture in pictures))
    return known


def test_ntfs_alternate_data_streams_are_items_hashed_matched_and_read_back(tmp_path: Path) -> None:
    """A picture hidden in a text file's stream, and a Zone.Identifier stream as browsers write one: each an item
    of its own, after the file's; the file's own content stays the file's item."""
    _need("mkntfs", "ntfscp")
    hidden, shown = _picture(60), _picture(61)
    zone = b"[ZoneTransfer]\r\nZoneId=3\r\n"
    image = tmp_path / "ntfs.img"
    _ntfs(image, {"note.txt": b"meet at noon\n", "IMG_0001.JPG": shown})
    for stream, data in (("hidden.jpg", hidden), ("Zone.Identifier", zone)):
        (tmp_path / "stream").write_bytes(data)
        _run("ntfscp", "-N", stream, image, tmp_path / "stream", "note.txt")
    items = _inside(_scan(tmp_path / "case", image, hashlist=_known(tmp_path, hidden)), image)
    streams = {"note.txt" + _STREAM + "hidden.jpg": hidden, "note.txt" + _STREAM + "Zone.Identifier": zone}
    assert set(items) == {"note.txt", "IMG_0001.JPG", *streams}
    assert items["note.txt"]["sha256"] == hashlib.sha256(b"meet at noon\n").hexdigest()
    assert not items["note.txt"]["errors"]
    root = str(image.resolve())
    for path, data in streams.items():
        item = items[path]
        assert item["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert item["inode"] == items["note.txt"]["inode"] and not item["deleted"]
        assert ["alternate data stream" in message for message in _errors(item)] == [True], path
        assert read_item_bytes(root, f"!/p0/{path}", Settings(workers=1), 1 << 20) == data
    assert [match["signal"] for match in items["note.txt" + _STREAM + "hidden.jpg"]["matches"]] == ["md5"]
    _verified(tmp_path / "case")


def test_ntfs_deleted_file_with_a_stream_has_the_stream_read_flagged_deleted(tmp_path: Path) -> None:
    """A deleted file's record still holds its streams: read as the file's content is, flagged deleted."""
    _need("mkntfs", "ntfscp")
    hidden = _picture(62)
    image = tmp_path / "ntfs.img"
    _ntfs(image, {"note.txt": b"meet at noon\n"})
    (tmp_path / "stream").write_bytes(hidden)
    _run("ntfscp", "-N", "hidden.jpg", image, tmp_path / "stream", "note.txt")
    delete(image, "note.txt", ROOT)
    items = _inside(_scan(tmp_path / "case", image), image)
    stream = items["note.txt" + _STREAM + "hidden.jpg"]
    assert stream["deleted"] and stream["sha256"] == hashlib.sha256(hidden).hexdigest()
    assert items["note.txt"]["deleted"]
    assert read_item_bytes(str(image.resolve()), f"!/p0/note.txt{_STREAM}hidden.jpg", Settings(workers=1),
                           1 << 20) == hidden
    _verified(tmp_path / "case")


def test_ntfs_folder_stream_written_by_ntfs3g_is_an_item(tmp_path: Path) -> None:
    """ntfs-3g writes a stream through an extended attribute ("user.NAME"), on a folder as on a file: a folder's
    stream is an item after what the folder holds."""
    _need("mkntfs")
    hidden, inside = _picture(63), _picture(64)
    image = tmp_path / "ntfs.img"
    with image.open("wb") as blank:
        blank.truncate(8 << 20)
    _run("mkntfs", "-F", "-Q", "-q", image)
    with _mounted(image, tmp_path / "mnt") as root:
        (root / "DCIM").mkdir()
        (root / "DCIM/IMG_0001.JPG").write_bytes(inside)
        os.setxattr(root / "DCIM", "user.cover.jpg", hidden)
    items = _inside(_scan(tmp_path / "case", image), image)
    assert set(items) == {"DCIM/IMG_0001.JPG", "DCIM" + _STREAM + "cover.jpg"}
    assert items["DCIM" + _STREAM + "cover.jpg"]["sha256"] == hashlib.sha256(hidden).hexdigest()
    assert read_item_bytes(str(image.resolve()), f"!/p0/DCIM{_STREAM}cover.jpg", Settings(workers=1),
                           1 << 20) == hidden
    _verified(tmp_path / "case")


def test_ntfs_user_file_in_extend_is_read_with_a_note_and_metafiles_are_not_items(tmp_path: Path) -> None:
    """`$Extend` holds NTFS's own files ($ObjId, $Quota, $Reparse: MFT entries above 23), named with a "$": a
    user's file another tool put there is an ordinary record, read and said."""
    _need("mkntfs", "ntfscp")
    placed, kept = _picture(65), _picture(66)
    image = tmp_path / "ntfs.img"
    _ntfs(image, {"IMG_0001.JPG": kept})
    (tmp_path / "placed").write_bytes(placed)
    _run("ntfscp", image, tmp_path / "placed", "$Extend/holiday.jpg")
    items = _inside(_scan(tmp_path / "case", image, hashlist=_known(tmp_path, placed)), image)
    assert set(items) == {"IMG_0001.JPG", "$Extend/holiday.jpg"}  # not $ObjId, $Quota, $Reparse
    found = items["$Extend/holiday.jpg"]
    assert found["sha256"] == hashlib.sha256(placed).hexdigest() and not found["deleted"]
    assert [match["signal"] for match in found["matches"]] == ["md5"]
    assert ["$Extend folder" in message for message in _errors(found)] == [True]
    assert not items["IMG_0001.JPG"]["errors"]
    assert read_item_bytes(str(image.resolve()), "!/p0/$Extend/holiday.jpg", Settings(workers=1), 1 << 20) == placed
    _verified(tmp_path / "case")


def test_ntfs_files_in_extend_named_with_a_dollar_are_read_unless_ntfs_own(tmp_path: Path) -> None:
    """NTFS's own files in `$Extend` are a fixed set ($ObjId, $Quota, $Reparse, $UsnJrnl; $Repair, $Tops and the
    transaction logs below): a user's file there whose name starts with "$" is read; so is content given to one
    of NTFS's own that holds none ($Reparse), and a stream added to one ($ObjId:pic.jpg)."""
    from vigie.sources.diskimage import DiskImageSource

    _need("mkntfs", "ntfscp")
    pictures = {"$Extend/$Photo.jpg": _picture(67), "$Extend/$Reparse": _picture(68),
                f"$Extend/$ObjId{_STREAM}pic.jpg": _picture(69)}
    image = tmp_path / "ntfs.img"
    _ntfs(image, {"IMG_0001.JPG": _picture(70)})
    for index, (path, data) in enumerate(pictures.items()):
        (tmp_path / f"placed{index}").write_bytes(data)
        file, _, stream = path.partition(_STREAM)
        _run("ntfscp", *(("-N", stream) if stream else ()), image, tmp_path / f"placed{index}", file)
    items = {entry.relpath.removeprefix("!/p0/"): entry for entry in DiskImageSource(str(image)).entries()
             if entry.relpath}
    assert set(items) == {"IMG_0001.JPG", *pictures}  # not $ObjId, $Quota, nor $Reparse's own index
    assert any("named as one of NTFS's own files" in note for note in items["$Extend/$Reparse"].notes)
    assert any("added to one of NTFS's own files" in note for note in items[f"$Extend/$ObjId{_STREAM}pic.jpg"].notes)
    for path, data in pictures.items():
        assert read_item_bytes(str(image.resolve()), f"!/p0/{path}", Settings(workers=1), 1 << 20) == data, path


def test_iso9660_file_hidden_from_joliet_is_read_from_its_record_not_deleted(tmp_path: Path) -> None:
    """The Sleuth Kit reads the Joliet tree where a disc has one; a file only in the primary tree is listed as an
    orphan without metadata, while its record is there to read and ISO 9660 deletes nothing."""
    _need("xorriso")
    hidden, both = _picture(67), _picture(68)
    tree = tmp_path / "cd"
    tree.mkdir()
    (tree / "primary-only.jpg").write_bytes(hidden)
    (tree / "both.jpg").write_bytes(both)
    (tree / "empty.txt").write_bytes(b"")
    image = tmp_path / "cd.iso"
    _run("xorriso", "-as", "mkisofs", "-quiet", "-J", "-hide-joliet", "primary-only.jpg", "-hide-joliet",
         "empty.txt", "-o", image, tree)
    items = _inside(_scan(tmp_path / "case", image, hashlist=_known(tmp_path, hidden)), image)
    orphans = [path for path in items if path.startswith("$OrphanFiles/")]
    assert set(items) == {"both.jpg", *orphans} and len(orphans) == 1  # an empty record is no file
    found = items[orphans[0]]
    assert found["sha256"] == hashlib.sha256(hidden).hexdigest() and not found["deleted"]
    assert [match["signal"] for match in found["matches"]] == ["md5"]
    assert ["Joliet" in message for message in _errors(found)] == [True]
    assert read_item_bytes(str(image.resolve()), f"!/p0/{orphans[0]}", Settings(workers=1), 1 << 20) == hidden
    _verified(tmp_path / "case")


def test_streams_on_the_root_folder_and_on_ntfs_own_files_are_items_too(tmp_path: Path) -> None:
    """No folder lists the root (`C:\\:name`), and NTFS's own files are no items: a stream added to either is
    read, while NTFS's own streams ($Secure's $SDS, ...) are not."""
    _need("mkntfs", "ntfscp")
    pictures = {name: _picture(seed) for name, seed in (("rootpic", 62), ("volpic", 63))}
    image = tmp_path / "ntfs.img"
    _ntfs(image, {"a.txt": b"a\n"})
    for (stream, data), inode in zip(pictures.items(), ("5", "3"), strict=True):  # the root; $Volume
        (tmp_path / "stream").write_bytes(data)
        _run("ntfscp", "-i", "-N", stream, image, tmp_path / "stream", inode)
    items = _inside(_scan(tmp_path / "case", image), image)
    for path, data in (("..namedfork/rootpic", pictures["rootpic"]),
                       ("$Volume/..namedfork/volpic", pictures["volpic"])):
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(image.resolve()), f"!/p0/{path}", Settings(workers=1), 1 << 20) == data
    assert not [path for path in items if path.startswith("$Secure") or path.endswith("$SDS")]
    _verified(tmp_path / "case")


def test_dollar_named_streams_added_to_ntfs_own_files_are_items(tmp_path: Path) -> None:
    """The streams NTFS itself writes on its own files are a fixed set ($Secure:$SDS, $UsnJrnl:$J, ...): a stream
    someone added to one of its files is read, "$" first in its name or not ($ObjId:$pic, $Volume:$pic)."""
    from vigie.sources.diskimage import DiskImageSource

    _need("mkntfs", "ntfscp")
    pictures = {f"$Extend/$ObjId{_STREAM}$pic": _picture(72), f"$Volume{_STREAM}$pic": _picture(73)}
    image = tmp_path / "ntfs.img"
    _ntfs(image, {"IMG_0001.JPG": _picture(71)})
    for index, (path, data) in enumerate(pictures.items()):
        (tmp_path / f"placed{index}").write_bytes(data)
        file, _, stream = path.partition(_STREAM)
        _run("ntfscp", "-N", stream, image, tmp_path / f"placed{index}", file)
    items = {entry.relpath.removeprefix("!/p0/"): entry for entry in DiskImageSource(str(image)).entries()
             if entry.relpath}
    assert set(items) == {"IMG_0001.JPG", *pictures}, sorted(items)  # not $Secure:$SDS, $BadClus:$Bad, ...
    for path, data in pictures.items():
        assert any("added to one of NTFS's own files" in note for note in items[path].notes), path
        assert read_item_bytes(str(image.resolve()), f"!/p0/{path}", Settings(workers=1), 1 << 20) == data, path
