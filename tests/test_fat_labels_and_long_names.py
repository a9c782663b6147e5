"""FAT volume label entries and deleted files' long names, on FAT12/16/32. A deleted file only Vigie's own FAT
reader finds is shown by its long name, as The Sleuth Kit shows an ordinary deleted file's, where its long-name
pieces survive with the checksum of its 8.3 name."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_disk_images import _need, _picture, _run, _scan
from tests.test_fat_dropped_entries import _rename, _volume
from vigie.cli import main
from vigie.config import Settings
from vigie.sources.fatdir import FatVolume
from vigie.sources.reopen import read_item_bytes

_LONG_NAMES = ("A long name here.txt", "Exactly13.jpg", "a name of twenty-six chars", "+plus.jpg", ".dot name.jpg",
               "Ωmega.jpg", "=eq;y.jpeg", "  spaced lead.jpg", "short.jpg", "Kept long.jpg",
               "Longest " + "n" * 242 + ".jpeg")  # 255 characters: 20 pieces


def _tsk_names(volume: Path) -> dict[int, bytes]:
    """Every name The Sleuth Kit lists in a FAT volume (deleted folders entered), by metadata address."""
    import pytsk3

    names: dict[int, bytes] = {}

    def walk(directory: object, depth: int) -> None:
        for tsk_file in directory:  # type: ignore[attr-defined]
            name, meta = bytes(tsk_file.info.name.name), tsk_file.info.meta
            if name in (b".", b"..") or meta is None or meta.type in (pytsk3.TSK_FS_META_TYPE_VIRT,
                                                                          pytsk3.TSK_FS_META_TYPE_VIRT_DIR):
                continue
            names[int(meta.addr)] = name
            if meta.type == pytsk3.TSK_FS_META_TYPE_DIR and depth < 4:
                walk(tsk_file.as_directory(), depth + 1)

    walk(pytsk3.FS_Info(pytsk3.Img_Info(str(volume))).open_dir("/"), 0)
    return names


@pytest.mark.parametrize("bits", [12, 16, 32])
def test_deleted_long_names_read_as_the_sleuth_kit_reads_them(bits: int, tmp_path: Path) -> None:
    """Ordinary deleted files and a deleted folder with long names made by mtools (one piece, two, twenty, a
    name of exactly 13 and 26 characters, names whose 8.3 form starts with "_" or skips spaces and dots):
    Vigie's reader names each entry as The Sleuth Kit does."""
    _need("mkfs.vfat", "mcopy")
    files = {name: b"x" * 100 for name in _LONG_NAMES} | {"Deleted folder long/inner long name.jpg": b"y"}
    deleted = tuple(name for name in files if name != "Kept long.jpg" and "/" not in name)
    volume = _volume(tmp_path, bits, files, deleted=(*deleted, "Deleted folder long/"))
    data = volume.read_bytes()
    ours = {entry.address: entry.name for entry in
            FatVolume(lambda offset, length: data[offset: offset + length], 0, bits).entries()}
    theirs = _tsk_names(volume)
    assert {*_LONG_NAMES, "Deleted folder long", "inner long name.jpg"} - {"short.jpg"} \
        <= {name.decode() for name in theirs.values()}
    assert {address: ours.get(address) for address in theirs} == theirs


@pytest.mark.parametrize("bits", [12, 16, 32])
def test_a_dropped_deleted_file_is_shown_by_its_long_name_where_its_checksum_holds(bits: int, tmp_path: Path) -> None:
    """The Sleuth Kit drops both deleted entries (a \\x01 in their 8.3 names). One's long-name pieces carry the
    checksum of its 8.3 name with the first byte its long name gives ("G"): it is shown by its long name; the
    other's pieces carry the checksum of another name: it keeps its 8.3 name, "_" first."""
    _need("mkfs.vfat", "mcopy")
    pictures = {"Gone holiday.jpg": _picture(30), "Other trip.jpg": _picture(31)}
    # a live file beside them: a root folder of dropped entries alone has The Sleuth Kit read the volume as
    # an Android one (no 8.3 names), where it lists them
    volume_path = _volume(tmp_path, bits, pictures | {"KEPT.JPG": _picture(32)}, deleted=tuple(pictures))
    volume = bytearray(volume_path.read_bytes())
    _rename(volume, b"\xe5ONEHO~1JPG", b"\xe5ONE\x01O~1JPG", long_name=True, lost_first=b"G")
    _rename(volume, b"\xe5THERT~1JPG", b"\xe5THE\x01T~1JPG")
    volume_path.write_bytes(bytes(volume))
    items = _scan(tmp_path / "case", volume_path)
    for shown, original in (("Gone holiday.jpg", "Gone holiday.jpg"), ("_THE\\x01T~1.JPG", "Other trip.jpg")):
        item = items[f"{volume_path}!/p0/{shown}"]
        assert item["deleted"] and item["sha256"] == hashlib.sha256(pictures[original]).hexdigest(), shown
        assert any("The Sleuth Kit skipped" in error["message"] for error in item["errors"]), shown


@pytest.mark.parametrize("tool", ["mkfs.vfat", "mlabel"])
@pytest.mark.parametrize("bits", [12, 16, 32])
def test_a_volume_label_is_no_item_and_no_note(bits: int, tool: str, tmp_path: Path) -> None:
    """The Sleuth Kit lists a volume label as a regular file "STICK       (Volume Label Entry)": it is left out,
    told by its attributes on disk; a user's file of that very name is still read, and read back."""
    _need("mkfs.vfat", "mcopy", "mlabel")
    named_like_it = "STICK" + " " * 6 + " (Volume Label Entry)"  # its 11 bytes, then The Sleuth Kit's words
    pictures = {"DCIM/IMG_0001.JPG": _picture(33), named_like_it: _picture(34)}
    volume = _volume(tmp_path, bits, pictures, label="STICK" if tool == "mkfs.vfat" else "")
    if tool == "mlabel":
        _run("mlabel", "-i", volume, "::STICK")
    items = _scan(tmp_path / "case", volume)
    inside = {path.split("!/p0/", 1)[1]: item for path, item in items.items() if "!/p0/" in path}
    assert set(inside) == set(pictures)
    assert all(not item["errors"] for item in items.values()), [i["errors"] for i in items.values() if i["errors"]]
    assert inside[named_like_it]["sha256"] == hashlib.sha256(pictures[named_like_it]).hexdigest()
    assert read_item_bytes(str(volume), f"!/p0/{named_like_it}", Settings(workers=1), 1 << 20) \
        == pictures[named_like_it]
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert verified.exit_code == 0 and f"{len(items)} files checked, 0 changed" in verified.output, verified.output


@pytest.mark.parametrize("bits", [12, 16, 32])
def test_a_volume_label_entry_pointing_at_content_is_read_as_a_file_with_a_note(bits: int, tmp_path: Path) -> None:
    """Files whose entries were given the label bit (one in a folder, one The Sleuth Kit drops for a \\x01 in
    its name, which Vigie's own reader finds) are items, hashed, matched and read back, each with a note; the
    real label beside them is not."""
    _need("mkfs.vfat", "mcopy")
    pictures = {"HIDDEN.JPG": _picture(35), "SUB/INNER.JPG": _picture(36), "DROP.JPG": _picture(37),
                "KEEP.JPG": _picture(38)}
    volume_path = _volume(tmp_path, bits, pictures, label="STICK")
    volume = bytearray(volume_path.read_bytes())
    for name in (b"HIDDEN  JPG", b"INNER   JPG", b"DR\x01P    JPG"):
        if name.startswith(b"DR"):
            _rename(volume, b"DROP    JPG", name)
        volume[volume.find(name) + 11] = 0x08
    volume_path.write_bytes(bytes(volume))
    hashlist = tmp_path / "known.txt"
    hashlist.write_text("".join(f"{hashlib.md5(data).hexdigest()}\n" for data in pictures.values()))
    items = _scan(tmp_path / "case", volume_path, hashlist=hashlist)
    inside = {path.split("!/p0/", 1)[1]: item for path, item in items.items() if "!/p0/" in path}
    shown = {"HIDDEN.JPG": "HIDDEN  JPG (Volume Label Entry)", "SUB/INNER.JPG": "SUB/INNER   JPG (Volume Label Entry)",
             "DROP.JPG": "DR\\x01P    JPG (Volume Label Entry)", "KEEP.JPG": "KEEP.JPG"}
    assert set(inside) == set(shown.values())
    for original, path in shown.items():
        item = inside[path]
        assert item["sha256"] == hashlib.sha256(pictures[original]).hexdigest(), path
        assert [match["signal"] for match in item["matches"]] == ["md5"], path
        notes = " ".join(error["message"] for error in item["errors"])
        assert ("a FAT volume label entry pointing at content" in notes) is (original != "KEEP.JPG"), (path, notes)
        assert ("The Sleuth Kit skipped" in notes) is (original == "DROP.JPG"), (path, notes)
    assert f"{volume_path}!/p0" not in items  # no cluster left unclaimed
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert verified.exit_code == 0 and f"{len(items)} files checked, 0 changed" in verified.output, verified.output
