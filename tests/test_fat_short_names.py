r"""8.3 names holding bytes past ASCII (written in a code page FAT does not record): The Sleuth Kit shows each such
byte as "^"; Vigie's own FAT reader shows the entries The Sleuth Kit drops the same way, so that a path reads the
same whichever reader listed the file, and says the bytes as stored in a note. A byte past ASCII is not guessed
into a letter: the code page (437, 850, 866, ...) depends on the system that wrote the name."""

from __future__ import annotations

import hashlib
from pathlib import Path

from click.testing import CliRunner

from tests.test_disk_images import _need, _picture, _scan
from tests.test_fat_dropped_entries import _rename, _volume
from vigie.cli import main
from vigie.config import Settings
from vigie.sources.reopen import read_item_bytes


def test_bytes_past_ascii_in_dropped_short_names_show_as_the_sleuth_kit_shows_them(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy")
    originals = {"CAFE.JPG": _picture(60), "DROP.JPG": _picture(61), "TWIN1.JPG": _picture(62),
                 "TWIN2.JPG": _picture(63)}
    volume_path = _volume(tmp_path, 16, originals)
    volume = bytearray(volume_path.read_bytes())
    _rename(volume, b"CAFE    JPG", b"CAF\x82    JPG")  # a valid 8.3 name: The Sleuth Kit lists it
    _rename(volume, b"DROP    JPG", b"DR\x82\x01    JPG")  # a \x01 too: it drops these three
    _rename(volume, b"TWIN1   JPG", b"T\x82\x01     JPG")
    _rename(volume, b"TWIN2   JPG", b"T\x83\x01     JPG")  # shown as the one before: numbered
    volume_path.write_bytes(bytes(volume))
    items = _scan(tmp_path / "case", volume_path)
    shown = {"CAFE.JPG": ("CAF^.JPG", None), "DROP.JPG": ("DR^\\x01.JPG", "DR\\x82\\x01    JPG"),
             "TWIN1.JPG": ("T^\\x01.JPG", "T\\x82\\x01     JPG"), "TWIN2.JPG": ("T^\\x01.JPG!2", "T\\x83\\x01     JPG")}
    assert {path.split("!/p0/", 1)[1] for path in items if "!/p0/" in path} == {path for path, _ in shown.values()}
    for name, (path, stored) in shown.items():
        item = items[f"{volume_path}!/p0/{path}"]
        assert item["sha256"] == hashlib.sha256(originals[name]).hexdigest(), path
        notes = [error["message"] for error in item["errors"]]
        said = [note for note in notes if "shown as ^ as The Sleuth Kit shows them" in note]
        assert said == ([f"its 8.3 name holds bytes past ASCII, shown as ^ as The Sleuth Kit shows them (FAT does "
                         f"not record the code page they were written in); as stored: {stored}"] if stored else []), \
            (path, notes)
    assert read_item_bytes(str(volume_path), "!/p0/T^\\x01.JPG!2", Settings(workers=1), 1 << 20) \
        == originals["TWIN2.JPG"]
    verified = CliRunner().invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert verified.exit_code == 0 and f"{len(items)} files checked, 0 changed" in verified.output, verified.output
