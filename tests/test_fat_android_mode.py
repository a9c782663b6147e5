r"""The Sleuth Kit's FAT "Android" mode: where no entry of a FAT volume's root folder holds a valid 8.3 name, it
reads the volume as an Android one, where only 00 00 marks an entry deleted, so it lists deleted files (first
byte 0xE5) as live and would read their freed clusters as a broken chain. Vigie's own FAT reader, which reads the
entries on disk, tells them deleted: each is an item flagged deleted, recovered, hashed, matched and verified,
with a note. Volumes are made with mkfs.vfat and mtools, then their entries patched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_disk_images import _need, _picture, _scan
from tests.test_fat_dropped_entries import _rename, _volume
from vigie.cli import main
from vigie.config import Settings
from vigie.sources.reopen import read_item_bytes

_ANDROID = "The Sleuth Kit listed this file as live, but its directory entry on disk is a deleted one"


@pytest.mark.parametrize("bits", [12, 16, 32])
def test_deleted_files_the_sleuth_kit_lists_as_live_are_deleted_recovered_and_matched(bits: int,
                                                                                     tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy")
    originals = {"LIVE.JPG": _picture(50), "GONE.JPG": _picture(51), "DIR/KEEP.JPG": _picture(52),
                 "DIR/OLD.JPG": _picture(53)}
    volume_path = _volume(tmp_path, bits, originals, deleted=("GONE.JPG", "DIR/OLD.JPG"))
    volume = bytearray(volume_path.read_bytes())
    # every entry of the root folder fails The Sleuth Kit's 8.3 check: it takes the volume for an Android one
    _rename(volume, b"LIVE    JPG", b"LI\x01E    JPG")
    _rename(volume, b"\xe5ONE    JPG", b"\xe5O\x01E    JPG")
    _rename(volume, b"DIR        ", b"D\x01R        ")
    volume_path.write_bytes(bytes(volume))
    hashlist = tmp_path / "known.txt"
    hashlist.write_text("".join(f"{hashlib.md5(data).hexdigest()}\n" for data in originals.values()))

    items = _scan(tmp_path / "case", volume_path, hashlist=hashlist)
    shown = {"LIVE.JPG": "LI\\x01E.JPG", "GONE.JPG": "_O\\x01E.JPG", "DIR/KEEP.JPG": "D\\x01R/KEEP.JPG",
             "DIR/OLD.JPG": "D\\x01R/_LD.JPG"}
    assert {path.split("!/p0/", 1)[1] for path in items if "!/p0/" in path} == set(shown.values())
    for name, path in shown.items():
        item = items[f"{volume_path}!/p0/{path}"]
        gone = name in ("GONE.JPG", "DIR/OLD.JPG")
        assert item["deleted"] is gone, path
        assert item["sha256"] == hashlib.sha256(originals[name]).hexdigest(), (path, item["errors"])
        assert [match["signal"] for match in item["matches"]] == ["md5"], path
        notes = " ".join(error["message"] for error in item["errors"])
        assert (_ANDROID in notes) is gone and "cluster chain" not in notes, (path, notes)
    assert f"{volume_path}!/p0" not in items  # no cluster left unclaimed, no note on the volume

    assert read_item_bytes(str(volume_path), "!/p0/_O\\x01E.JPG", Settings(workers=1), 1 << 20) \
        == originals["GONE.JPG"]
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert verified.exit_code == 0 and f"{len(items)} files checked, 0 changed" in verified.output, verified.output


def test_a_deleted_file_listed_past_an_entry_starting_00_is_read_alone_and_recovered(tmp_path: Path) -> None:
    """An entry starting 00 00 (Android's mark of a deleted entry) ends the folder for Vigie's own FAT reader, as
    the FAT specification has it; The Sleuth Kit lists the entries after it. A deleted file it lists there as
    live is read alone from its entry, recovered, verified."""
    _need("mkfs.vfat", "mcopy")
    originals = {"LIVE.JPG": _picture(54), "MID.JPG": _picture(55), "GONE.JPG": _picture(56), "NEW.JPG": _picture(57)}
    volume_path = _volume(tmp_path, 16, originals, deleted=("MID.JPG", "GONE.JPG"))
    volume = bytearray(volume_path.read_bytes())
    _rename(volume, b"LIVE    JPG", b"LI\x01E    JPG")
    _rename(volume, b"\xe5ID     JPG", b"\x00\x00D     JPG")
    _rename(volume, b"\xe5ONE    JPG", b"\xe5O\x01E    JPG")
    _rename(volume, b"NEW     JPG", b"N\x01W     JPG")
    volume_path.write_bytes(bytes(volume))
    items = _scan(tmp_path / "case", volume_path)
    gone = items[f"{volume_path}!/p0/_O\\x01E.JPG"]
    assert gone["deleted"] and gone["sha256"] == hashlib.sha256(originals["GONE.JPG"]).hexdigest(), gone["errors"]
    assert _ANDROID in gone["errors"][0]["message"]
    assert items[f"{volume_path}!/p0/N\\x01W.JPG"]["sha256"] == hashlib.sha256(originals["NEW.JPG"]).hexdigest()
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert verified.exit_code == 0 and f"{len(items)} files checked, 0 changed" in verified.output, verified.output
