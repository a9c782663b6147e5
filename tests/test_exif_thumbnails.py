"""A JPEG's EXIF thumbnail keeps the picture as the camera wrote it: after a crop or an edit, a known picture may
be there alone. Every picture is drawn here (vigie.demo.seizure.draw_picture); the EXIF is built byte by byte."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

from conftest import exif_thumbnail, jpeg_bytes, scanned_report
from PIL import Image

from vigie.config import Settings
from vigie.demo.hostile import with_exif_thumbnail
from vigie.demo.seizure import draw_picture
from vigie.exports.report import render
from vigie.matching.list_import import import_hash_list
from vigie.scan.pipeline import run_scan
from vigie.signals.image import read_thumbnail, thumbnail_shows
from vigie.signals.pdq import pdq_from_image
from vigie.signals.registry import hamming
from vigie.sources.reopen import read_item_bytes
from vigie.store.sqlite import open_case

KNOWN = draw_picture(31, (480, 270))  # 16:9: its 4:3 thumbnail has black bars


# with_exif_thumbnail's layout: the thumbnail's offset field, from the start of the JPEG
_OFFSET_FIELD = 2 + 4 + 6 + 24


def _photo(picture: Image.Image, thumbnail: bytes, big_endian: bool = False, offset: int | None = None) -> bytes:
    """A JPEG of `picture` keeping `thumbnail` in its EXIF; `offset`: where IFD1 says the thumbnail lies."""
    data = bytearray(with_exif_thumbnail(jpeg_bytes(picture), thumbnail, big_endian))
    if offset is not None:
        struct.pack_into(">I" if big_endian else "<I", data, _OFFSET_FIELD, offset)
    return bytes(data)


def _thumbnail_of(picture: Image.Image, size: tuple[int, int] = (160, 120)) -> bytes:
    """A camera's thumbnail: the picture fitted into `size`, black bars around it."""
    fitted = picture.copy()
    fitted.thumbnail(size)
    framed = Image.new("RGB", size)
    framed.paste(fitted, ((size[0] - fitted.width) // 2, (size[1] - fitted.height) // 2))
    return jpeg_bytes(framed)


def test_the_thumbnail_is_read_from_either_byte_order_and_a_bad_pointer_is_said() -> None:
    thumbnail = _thumbnail_of(KNOWN)
    for big_endian in (False, True):
        assert exif_thumbnail(_photo(KNOWN, thumbnail, big_endian)) == (thumbnail, None)
    assert exif_thumbnail(jpeg_bytes(KNOWN)) == (None, None)
    beyond = exif_thumbnail(_photo(KNOWN, thumbnail, offset=10**6))
    assert beyond.data is None and "beyond the EXIF segment" in (beyond.problem or "")
    not_jpeg = exif_thumbnail(_photo(KNOWN, thumbnail, offset=8))  # the TIFF header, not a JPEG
    assert not_jpeg.data is None and "not a JPEG" in (not_jpeg.problem or "")
    cut = _photo(KNOWN, thumbnail)
    cut = cut[:4] + struct.pack(">H", 2 + 6 + 12) + cut[6:]  # the segment ends inside IFD0
    assert "cut short" in (exif_thumbnail(cut).problem or "")
    signed = bytearray(_photo(KNOWN, thumbnail))
    struct.pack_into("<H", signed, _OFFSET_FIELD - 6, 9)  # the offset as an SLONG
    assert exif_thumbnail(bytes(signed)).data == thumbnail
    struct.pack_into("<H", signed, _OFFSET_FIELD - 6, 2)  # as ASCII: no number
    assert "offset None" in (exif_thumbnail(bytes(signed)).problem or "")


def test_stray_bytes_and_a_second_exif_segment_do_not_hide_the_thumbnail() -> None:
    """libjpeg skips bytes between segments and a length that cannot be; so does the thumbnail's reader."""
    thumbnail = _thumbnail_of(KNOWN)
    photo = _photo(KNOWN, thumbnail)
    assert exif_thumbnail(photo[:2] + b"\x00junk" + photo[2:]).data == thumbnail
    assert exif_thumbnail(photo[:2] + b"\xff\xe1\x00\x00" + photo[2:]).data == thumbnail
    empty_exif = b"\xff\xe1\x00\x10Exif\x00\x00II*\x00\x08\x00\x00\x00"
    assert exif_thumbnail(photo[:2] + empty_exif + photo[2:]).data == thumbnail
    countless = exif_thumbnail(photo[:2] + b"\xff\xe2\x00\x02" * 20_000 + photo[2:])  # a walk that would stall
    assert countless.data is None and "not looked for past 10,000 header segments" in (countless.problem or "")


def _shows(picture: Image.Image, thumbnail: bytes) -> bool:
    read = read_thumbnail(thumbnail)
    assert read is not None
    return thumbnail_shows(read, picture, pdq_from_image(picture).variants, 31)


def test_a_thumbnail_of_the_picture_itself_shows_it_and_another_picture_does_not() -> None:
    wide = draw_picture(32, (480, 320))  # 3:2, so its 4:3 thumbnail has black bars
    assert _shows(wide, _thumbnail_of(wide))
    assert _shows(wide.convert("L"), _thumbnail_of(wide))  # the Y plane a scan decodes
    assert not _shows(wide, _thumbnail_of(KNOWN))
    assert not _shows(KNOWN.crop((120, 70, 360, 200)), _thumbnail_of(KNOWN))  # before a crop
    framed = Image.new("RGB", (480, 360))
    framed.paste(wide, (0, 20))  # a picture with bars of its own, and its thumbnail
    assert _shows(framed, jpeg_bytes(framed.resize((160, 120))))
    assert read_thumbnail(b"\xff\xd8 garbage") is None


def test_a_pasted_patch_that_keeps_the_tones_is_still_told_apart() -> None:
    """A face pasted over keeps most of the luma; PDQ sees the difference."""
    original = draw_picture(37, (640, 480))
    pasted = original.copy()
    pasted.paste(draw_picture(99, (166, 124)), (192, 96))
    assert not _shows(pasted, jpeg_bytes(original.resize((160, 120))))


def _scan(tmp_path: Path, evidence: Path, **overrides: object) -> dict[str, dict[str, Any]]:
    """Scan `evidence` against a list holding KNOWN's PDQ; the report's items by path under the evidence."""
    tmp_path.mkdir(exist_ok=True)
    listed = tmp_path / "known.csv"
    listed.write_text(f"pdq,label\n{pdq_from_image(KNOWN).hash},the known picture\n")
    settings = Settings(workers=1, detector=False, watermarks=False).with_overrides(dict(overrides))
    return {item["path"].removeprefix(str(evidence) + "/"): item
            for item in scanned_report(evidence, tmp_path / "case", settings, listed)}


def _labels(item: dict[str, Any]) -> list[str]:
    return [match["label"] for match in item["matches"]]


def _notes(item: dict[str, Any]) -> str:
    return " ".join(error["message"] for error in item["errors"] if error["stage"] == "exif-thumbnail")


def test_a_known_picture_left_in_the_thumbnail_of_a_cropped_copy_is_found(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    thumbnail = _thumbnail_of(KNOWN)
    cropped = KNOWN.crop((120, 70, 360, 200)).resize((480, 260))  # far beyond PDQ's reach of the original
    (evidence / "cropped.jpg").write_bytes(_photo(cropped, thumbnail))
    own = draw_picture(33, (480, 320))
    (evidence / "own.jpg").write_bytes(_photo(own, _thumbnail_of(own)))
    whole = _photo(cropped, thumbnail)
    cut = len(whole) - len(jpeg_bytes(cropped)) // 2  # its picture cannot be decoded; its EXIF can be read
    (evidence / "cut.jpg").write_bytes(whole[:cut])
    (evidence / "pointer.jpg").write_bytes(_photo(own, _thumbnail_of(own), offset=10**6))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("in/cropped.jpg", _photo(cropped, thumbnail))
    (evidence / "sent.zip").write_bytes(zipped.getvalue())

    items = _scan(tmp_path, evidence)
    assert _labels(items["cropped.jpg"]) == []
    assert _labels(items["cropped.jpg!/exif-thumbnail.jpg"]) == ["the known picture"]
    assert items["cropped.jpg!/exif-thumbnail.jpg"]["sha256"] == hashlib.sha256(thumbnail).hexdigest()
    # its own hash is the thumbnail's as it is; the listed picture matched inside the thumbnail's bars
    assert pdq_from_image(Image.open(io.BytesIO(thumbnail))).hash == items["cropped.jpg!/exif-thumbnail.jpg"]["pdq"]
    assert items["cropped.jpg!/exif-thumbnail.jpg"]["matches"][0]["variant"].startswith("exif-thumbnail+")
    assert "shows another picture" in _notes(items["cropped.jpg"]) and "!/exif-thumbnail.jpg" in \
        _notes(items["cropped.jpg"])
    assert _labels(items["cut.jpg!/exif-thumbnail.jpg"]) == ["the known picture"]
    assert [e["stage"] for e in items["cut.jpg"]["errors"]] == ["decode", "exif-thumbnail"]
    assert items["sent.zip!/in/cropped.jpg"]["analysed_as"]  # a copy is not decoded again; its thumbnail is read
    assert _labels(items["sent.zip!/in/cropped.jpg!/exif-thumbnail.jpg"]) == ["the known picture"]
    assert "shows another picture" in _notes(items["sent.zip!/in/cropped.jpg"])
    # the camera's own thumbnail is an item with no note on the file; a pointer out of the segment is said, and
    # the scan goes on
    inside = [path for path in items if path.startswith(("own.jpg!/", "pointer.jpg!/"))]
    assert inside == ["own.jpg!/exif-thumbnail.jpg"]
    assert not items["own.jpg"]["errors"]
    assert "beyond the EXIF segment" in _notes(items["pointer.jpg"]) and items["pointer.jpg"]["pdq"]
    for relpath in ("cropped.jpg!/exif-thumbnail.jpg", "sent.zip!/in/cropped.jpg!/exif-thumbnail.jpg"):
        assert read_item_bytes(str(evidence), relpath, Settings(), 10**7) == thumbnail  # as the console reads it


def test_a_zip_behind_a_jpeg_never_takes_its_thumbnails_path(tmp_path: Path) -> None:
    """A member named like the thumbnail is the second of that name, in the scan and when read again."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    decoy = jpeg_bytes(draw_picture(34, (64, 64)))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("exif-thumbnail.jpg", decoy)
    thumbnail = _thumbnail_of(KNOWN)
    (evidence / "cover.jpg").write_bytes(_photo(draw_picture(35, (480, 360)), thumbnail) + zipped.getvalue())
    items = _scan(tmp_path, evidence)
    assert items["cover.jpg!/exif-thumbnail.jpg"]["sha256"] == hashlib.sha256(thumbnail).hexdigest()
    assert items["cover.jpg!/exif-thumbnail.jpg!2"]["sha256"] == hashlib.sha256(decoy).hexdigest()
    root = str(evidence)
    assert read_item_bytes(root, "cover.jpg!/exif-thumbnail.jpg", Settings(), 10**7) == thumbnail
    assert read_item_bytes(root, "cover.jpg!/exif-thumbnail.jpg!2", Settings(), 10**7) == decoy


def test_a_thumbnail_inside_a_thumbnail_is_read_up_to_the_depth_cap(tmp_path: Path) -> None:
    inner = _photo(draw_picture(36, (160, 120)), _thumbnail_of(KNOWN))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "nested.jpg").write_bytes(_photo(KNOWN.crop((0, 0, 200, 150)), inner))
    both = _scan(tmp_path, evidence)
    assert _labels(both["nested.jpg!/exif-thumbnail.jpg!/exif-thumbnail.jpg"]) == ["the known picture"]
    capped = _scan(tmp_path / "capped", evidence, max_archive_depth=1)
    assert "nested.jpg!/exif-thumbnail.jpg!/exif-thumbnail.jpg" not in capped
    assert "not read" in _notes(capped["nested.jpg!/exif-thumbnail.jpg"])


def test_copies_tiny_pictures_and_a_listed_picture_with_bars_of_its_own(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    tiny = _photo(draw_picture(38, (7, 7)), _thumbnail_of(KNOWN))  # a copy's glimpse of 7 pixels
    (evidence / "tiny-a.jpg").write_bytes(tiny)
    (evidence / "tiny-b.jpg").write_bytes(tiny)
    thumbnail = _thumbnail_of(KNOWN)
    (evidence / "a-standalone.jpg").write_bytes(thumbnail)  # the thumbnail's bytes as a file, scanned first
    items = _scan(tmp_path, evidence)
    for name in ("tiny-a.jpg", "tiny-b.jpg"):  # never taken for a copy of the file: its bars are left out
        assert items[name]["sha256"] and _labels(items[f"{name}!/exif-thumbnail.jpg"]) == ["the known picture"]
        assert not items[f"{name}!/exif-thumbnail.jpg"]["analysed_as"]
    # listed with its bars: the thumbnail is matched as it is too
    framed = tmp_path / "framed"
    framed.mkdir()
    listed = tmp_path / "framed.csv"
    listed.write_text(f"pdq,label\n{pdq_from_image(Image.open(io.BytesIO(thumbnail))).hash},with bars\n")
    store = open_case(tmp_path / "framed-case", create=True)
    (framed / "a.jpg").write_bytes(tiny)
    import_hash_list(store, listed, Settings())
    run_scan(store, [str(framed)], Settings(workers=1, detector=False, watermarks=False))
    report = json.loads(render(store, "json"))
    store.close()
    [inner] = [item for item in report["items"] if item["path"].endswith("!/exif-thumbnail.jpg")]
    assert [(m["label"], m["distance"], m["variant"]) for m in inner["matches"]] == [("with bars", 0, "original")]


def test_vigie_hash_gives_the_thumbnail_fingerprints_to_share(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from vigie.cli import main

    thumbnail = _thumbnail_of(KNOWN)
    photo = tmp_path / "IMG_0412.jpg"
    photo.write_bytes(_photo(KNOWN.crop((120, 70, 360, 200)), thumbnail))
    result = CliRunner().invoke(main, ["hash", str(photo)])
    assert result.exit_code == 0, result.output
    file_line, thumbnail_line = (json.loads(line) for line in result.output.splitlines())
    assert thumbnail_line["path"] == f"{photo}!/exif-thumbnail.jpg"
    assert thumbnail_line["sha256"] == hashlib.sha256(thumbnail).hexdigest()
    inside = pdq_from_image(KNOWN.resize((160, 90)))
    assert hamming(thumbnail_line["pdq_without_bars"], inside.hash) <= 16 and file_line["pdq"] != inside.hash
    own = tmp_path / "own.jpg"  # a thumbnail that shows its picture: a line of its own, its bars not left out
    own.write_bytes(_photo(KNOWN, thumbnail))
    own_lines = [json.loads(line) for line in CliRunner().invoke(main, ["hash", str(own)]).output.splitlines()]
    assert [line["path"] for line in own_lines] == [str(own), f"{own}!/exif-thumbnail.jpg"]
    assert not [line for line in own_lines if "pdq_without_bars" in line]
    zipped = io.BytesIO()  # a zip behind a JPEG, with a member named like a thumbnail: not printed as one
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("exif-thumbnail.jpg", thumbnail)
    decoy = tmp_path / "decoy.jpg"
    decoy.write_bytes(jpeg_bytes(KNOWN) + zipped.getvalue())
    assert len(CliRunner().invoke(main, ["hash", str(decoy)]).output.splitlines()) == 1


def test_a_listed_picture_nearer_the_thumbnail_than_the_picture_matches_the_file(tmp_path: Path) -> None:
    """A thumbnail that shows the picture is no item, but its hashes are the file's too: the picture edited
    just past PDQ's reach of the listed one, its thumbnail between them, still matches."""
    original = draw_picture(1, (640, 480))
    edited = original.copy()
    edited.paste(draw_picture(94, (240, 180)), (100, 80))
    thumbnail = jpeg_bytes(Image.blend(original, edited, 0.5).resize((160, 120)))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "edited.jpg").write_bytes(with_exif_thumbnail(jpeg_bytes(edited), thumbnail))
    listed = tmp_path / "list.csv"
    listed.write_text(f"pdq,label\n{pdq_from_image(original).hash},the original\n")
    store = open_case(tmp_path / "case", create=True)
    import_hash_list(store, listed, Settings())
    run_scan(store, [str(evidence)], Settings(workers=1, detector=False, watermarks=False))
    item, thumbnail_item = json.loads(render(store, "json"))["items"]
    store.close()
    assert thumbnail_item["path"].endswith("edited.jpg!/exif-thumbnail.jpg")  # an item too: see the next test
    assert hamming(item["pdq"], pdq_from_image(original).hash) > 31  # the picture alone would not match
    [match] = item["matches"]
    assert match["label"] == "the original" and match["variant"].startswith("exif-thumbnail+")


def test_a_thumbnail_that_shows_the_picture_is_an_item_an_exact_list_may_hold(tmp_path: Path) -> None:
    """A listed file (a small picture) left as the thumbnail of its own copy enlarged: matched by its SHA-256."""
    listed_file = _thumbnail_of(KNOWN)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "enlarged.jpg").write_bytes(_photo(KNOWN, listed_file))
    listed = tmp_path / "exact.csv"
    listed.write_text(f"sha256,label\n{hashlib.sha256(listed_file).hexdigest()},the listed file\n")
    store = open_case(tmp_path / "case", create=True)
    import_hash_list(store, listed, Settings())
    run_scan(store, [str(evidence)], Settings(workers=1, detector=False, watermarks=False))
    report = json.loads(render(store, "json"))
    store.close()
    items = {item["path"].removeprefix(str(evidence) + "/"): item for item in report["items"]}
    assert _labels(items["enlarged.jpg!/exif-thumbnail.jpg"]) == ["the listed file"]
    assert not items["enlarged.jpg"]["errors"]
    assert read_item_bytes(str(evidence), "enlarged.jpg!/exif-thumbnail.jpg", Settings(), 10**7) == listed_file


def test_an_uncompressed_thumbnail_is_said_not_read() -> None:
    photo = bytearray(_photo(KNOWN, _thumbnail_of(KNOWN)))
    struct.pack_into("<H", photo, _OFFSET_FIELD - 8, 0x0111)  # StripOffsets in place of JPEGInterchangeFormat
    struct.pack_into("<H", photo, _OFFSET_FIELD + 4, 0x0117)  # StripByteCounts
    assert exif_thumbnail(bytes(photo)).problem == "EXIF thumbnail not read: it is stored uncompressed, in TIFF strips"


def test_a_jpeg_with_stray_bytes_after_its_start_is_typed_and_its_thumbnail_read(tmp_path: Path) -> None:
    """libjpeg skips the stray bytes; Pillow refuses the file, which is said, and its thumbnail is still read."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    photo = _photo(draw_picture(39, (320, 240)), _thumbnail_of(KNOWN))
    (evidence / "stray.jpg").write_bytes(photo[:2] + b"\x00" + photo[2:])
    items = _scan(tmp_path, evidence)
    assert items["stray.jpg"]["media_type"] == "image/jpeg"
    assert [e["stage"] for e in items["stray.jpg"]["errors"]] == ["decode", "exif-thumbnail"]
    assert _labels(items["stray.jpg!/exif-thumbnail.jpg"]) == ["the known picture"]


def test_the_console_reads_a_member_s_thumbnail_as_the_scan_did_whatever_the_nested_archive_cap(
    tmp_path: Path
) -> None:
    """The scan keeps a picture member up to max_image_bytes; reading it again must not stop at the smaller
    cap of nested archives."""
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    thumbnail = _thumbnail_of(KNOWN)
    member = _photo(KNOWN.crop((120, 70, 360, 200)).resize((480, 270)), thumbnail)
    with zipfile.ZipFile(evidence / "sent.zip", "w") as archive:
        archive.writestr("b.jpg", member)
    settings = Settings(max_nested_archive_bytes=len(member) // 2)
    items = _scan(tmp_path, evidence, max_nested_archive_bytes=len(member) // 2)
    assert _labels(items["sent.zip!/b.jpg!/exif-thumbnail.jpg"]) == ["the known picture"]
    assert read_item_bytes(str(evidence), "sent.zip!/b.jpg!/exif-thumbnail.jpg", settings, 10**7) == thumbnail
