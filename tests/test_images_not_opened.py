"""Files named or made like disk images that Vigie does not open as one still say so: a raw image whose first
sector is wiped, a JPEG named `.E01`, an E01 cut short after its file header, and a raw image in a folder whose
content was first seen under another name, a later piece or segment scanned alone; and `vigie hash` of a sound
image says nothing of the kind. Found by following the README as a new user."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

from tests.test_disk_images import _need, _picture, _scan
from tests.test_hostile_disk_images import _stick
from vigie.cli import main
from vigie.sources.ewf import SIGNATURE

_NESTED = "disk image inside a scanned folder, archive or image is not opened"


def _messages(item: dict[str, object]) -> list[str]:
    return [error["message"] for error in item["errors"]]  # type: ignore[attr-defined, index]


def test_a_raw_image_with_its_first_sector_wiped_says_it_was_not_read_as_an_image(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, _ = _stick(tmp_path, name="disk.raw")
    with raw.open("r+b") as disk:  # no partition table left; the FAT partition further in is intact
        disk.write(b"\xa5" * 512)
    items = _scan(tmp_path / "case", raw)
    assert list(items) == [str(raw)]
    (message,) = _messages(items[str(raw)])
    assert "named like a disk image, but no EWF signature, partition table or file system" in message
    assert items[str(raw)]["sha256"]


def test_a_jpeg_named_e01_is_examined_as_a_picture_with_a_note(tmp_path: Path) -> None:
    _need()
    picture = _picture(21)
    fake = tmp_path / "image.E01"
    fake.write_bytes(picture)
    listing = tmp_path / "known.txt"
    listing.write_text(hashlib.md5(picture).hexdigest() + "\n")
    item = _scan(tmp_path / "case", fake, hashlist=listing)[str(fake)]
    assert item["media_type"] == "image/jpeg" and [m["signal"] for m in item["matches"]] == ["md5"]  # type: ignore[attr-defined]
    assert any("named like a disk image" in m for m in _messages(item))


def test_an_e01_cut_short_after_its_file_header_is_an_error_not_an_empty_disk(tmp_path: Path) -> None:
    _need()
    stub = tmp_path / "cut.E01"
    stub.write_bytes(SIGNATURE + b"\x01\x01\x00\x00\x00" + b"header2\x00" * 4)  # libewf opens it: no media
    item = _scan(tmp_path / "case", stub)[str(stub)]
    assert item["md5"] is None and item["media_type"] is None
    (message,) = _messages(item)
    assert "cannot open the EWF image: libewf found no media in it" in message


def test_a_raw_image_in_a_folder_says_so_when_its_content_was_seen_under_another_name(tmp_path: Path) -> None:
    _need(extra=False)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    content = bytes(range(256)) * 256
    (evidence / "a.bin").write_bytes(content)  # read first: not named like an image, so no note
    (evidence / "b.raw").write_bytes(content)  # a copy: takes a.bin's findings, but its name says "image"
    items = _scan(tmp_path / "case", evidence)
    assert not any(_NESTED in m for m in _messages(items[f"{evidence}/a.bin"]))
    copy = items[f"{evidence}/b.raw"]
    assert copy["analysed_as"] is not None
    assert [m for m in _messages(copy) if _NESTED in m] == [
        "named like a disk image: a disk image inside a scanned folder, archive or image is not opened and the "
        "files inside it were not read; scan the image itself (vigie scan IMAGE)"]


def test_a_later_piece_of_a_split_raw_image_scanned_alone_says_it_was_not_read_as_an_image(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, _ = _stick(tmp_path)
    piece = tmp_path / "disk.002"  # disk.001 was not handed over
    piece.write_bytes(raw.read_bytes()[len(raw.read_bytes()) // 2:])
    (message,) = _messages(_scan(tmp_path / "case", piece)[str(piece)])
    assert "not the first piece of a split image" in message


def test_a_later_segment_of_an_e01_set_without_its_e01_is_an_error_not_a_crash(tmp_path: Path) -> None:
    _need()
    segment = tmp_path / "stick.E02"  # stick.E01 was not handed over; pyewf's glob raised MemoryError
    segment.write_bytes(SIGNATURE + b"\x01\x02\x00\x00\x00" + b"\0" * 100)
    (message,) = _messages(_scan(tmp_path / "case", segment)[str(segment)])
    assert "no first segment (.E01) of this EWF set lies beside it" in message


def test_vigie_hash_of_a_disk_image_says_nothing_about_reading_it(tmp_path: Path) -> None:
    _need("mkfs.vfat", "mcopy", "sfdisk")
    raw, _ = _stick(tmp_path, name="stick.img")  # a sound image: `vigie hash` fingerprints the file itself
    result = CliRunner().invoke(main, ["hash", str(raw)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["errors"] == []
