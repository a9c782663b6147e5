"""A HEIF's own thumbnail images (items an `iref` of type `thmb` ties to its primary image), each read as a file a
decoder reads: an HEVC or AV1 item wrapped as a HEIC or AVIF of its own. Every picture is drawn here; a HEIF
whose thumbnail shows another picture is put together by hand from two that Pillow and pillow-heif encoded."""

from __future__ import annotations

import io
import random
import struct
from pathlib import Path

import numpy as np
from PIL import Image
from pillow_heif import register_heif_opener
from test_hidden_pictures import _scan

from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.sources.bmff import child_boxes
from vigie.sources.heif_exif import heif_item_data, heif_item_types, heif_locations
from vigie.sources.hidden_pictures import hidden_pictures, names_before_a_zip_behind
from vigie.sources.reopen import read_item_bytes

register_heif_opener()

PICTURE, OTHER = draw_picture(121, (320, 240)), draw_picture(122, (96, 64))


def _saved(image: Image.Image, kind: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def _box(kind: bytes, body: bytes, version: int | None = None) -> bytes:
    body = body if version is None else bytes((version, 0, 0, 0)) + body
    return struct.pack(">I", 8 + len(body)) + kind + body


def _only_item(heif: bytes) -> tuple[bytes, bytes, list[bytes]]:
    """The type, coded bytes and property boxes of the one picture of a HEIF an encoder wrote."""
    [meta] = [(start, end) for kind, start, end in child_boxes(heif, 0, len(heif), "")[0] if kind == b"meta"]
    boxes = {kind: (start, end) for kind, start, end in child_boxes(heif, meta[0] + 4, meta[1], "")[0]}
    [(item, kind, _)] = [entry for entry in heif_item_types(heif, *boxes[b"iinf"]) if entry[1] != b"Exif"]
    coded = heif_item_data(heif, heif_locations(heif, *boxes[b"iloc"], {item})[item], None, 1 << 24)
    assert isinstance(coded, bytes)
    iprp = {kind: (start, end) for kind, start, end in child_boxes(heif, *boxes[b"iprp"], "")[0]}
    properties = [_box(kind, heif[start:end]) for kind, start, end in child_boxes(heif, *iprp[b"ipco"], "")[0]]
    return kind, coded, properties  # an encoder of one picture gives it every property


def _with_thumbnail(picture: bytes, thumbnail: bytes, brand: bytes) -> bytes:
    """A HEIF of the picture of `picture`, and the picture of `thumbnail` as its thumbnail image (item 2, whose
    `thmb` reference is to item 1): each coded as its encoder coded it."""
    (kind, coded, owned), (small_kind, small, small_owned) = _only_item(picture), _only_item(thumbnail)
    entries = b"".join(_box(b"infe", struct.pack(">HH4s", item, 0, kind) + b"\x00", 2)
                       for item, kind in ((1, kind), (2, small_kind)))
    association = struct.pack(">IHB", 2, 1, len(owned)) + bytes(range(1, len(owned) + 1)) + struct.pack(
        ">HB", 2, len(small_owned)) + bytes(range(len(owned) + 1, len(owned) + len(small_owned) + 1))
    iprp = _box(b"iprp", _box(b"ipco", b"".join(owned + small_owned)) + _box(b"ipma", association, 0))

    def meta(at: int) -> bytes:
        iloc = b"\x44\x00" + struct.pack(">HHHHII", 2, 1, 0, 1, at, len(coded)) + struct.pack(
            ">HHHII", 2, 0, 1, at + len(coded), len(small))
        return _box(b"meta", _box(b"hdlr", bytes(4) + b"pict" + bytes(13), 0) + _box(b"pitm", b"\x00\x01", 0)
                    + _box(b"iloc", iloc, 0) + _box(b"iinf", b"\x00\x02" + entries, 0)
                    + _box(b"iref", _box(b"thmb", struct.pack(">HHH", 2, 1, 1)), 0) + iprp, 0)

    ftyp = _box(b"ftyp", brand + bytes(4) + b"mif1" + brand + b"miaf")
    return ftyp + meta(len(ftyp) + len(meta(0)) + 8) + _box(b"mdat", coded + small)


def _near(data: bytes, image: Image.Image) -> bool:
    decoded = Image.open(io.BytesIO(data))
    assert decoded.size == image.size
    difference = np.asarray(decoded.convert("L"), dtype=float) - np.asarray(image.convert("L"), dtype=float)
    return float(np.abs(difference).mean()) < 12


def test_the_thumbnail_images_of_a_heic_and_an_avif_are_read_as_files_a_decoder_reads() -> None:
    heic = _saved(PICTURE, "HEIF", thumbnails=[96])  # pillow-heif's thumbnail of the picture
    [found] = hidden_pictures(heic, "image/heic")
    assert (found.name, found.what, found.problem) == (b"heif-thumbnail.heic", "HEIF thumbnail image (item 2)", None)
    assert found.data is not None and _near(found.data, PICTURE.resize((96, 72)))
    avif = _with_thumbnail(_saved(PICTURE, "AVIF"), _saved(OTHER, "AVIF"), b"avif")
    assert Image.open(io.BytesIO(avif)).size == PICTURE.size  # the file a decoder reads, its thumbnail unseen
    [found] = hidden_pictures(avif, "image/avif")
    assert (found.name, found.problem) == (b"heif-thumbnail.avif", None)
    assert found.data is not None and _near(found.data, OTHER)
    [found] = hidden_pictures(_with_thumbnail(_saved(PICTURE, "HEIF"), _saved(OTHER, "HEIF"), b"heic"), "image/heic")
    assert found.name == b"heif-thumbnail.heic" and found.data is not None and _near(found.data, OTHER)
    assert b"heif-thumbnail-2.avif" in names_before_a_zip_behind("image/avif")


def test_a_thumbnail_image_that_cannot_be_read_is_said_and_hostile_boxes_never_crash() -> None:
    avif = _with_thumbnail(_saved(PICTURE, "AVIF"), _saved(OTHER, "AVIF"), b"avif")
    grid = avif.replace(b"\x00\x02\x00\x00av01", b"\x00\x02\x00\x00grid")
    assert [hidden.problem for hidden in hidden_pictures(grid, "image/avif")] == [
        "HEIF thumbnail image (item 2) not read: coded as 'grid', not HEVC, AV1 or JPEG (a grid of tiles, say)"]
    at = avif.index(b"iloc") + 4 + 4 + 2 + 2 + (2 + 2 + 2 + 4 + 4) + (2 + 2 + 2)  # item 2's extent's offset
    beyond = avif[:at] + struct.pack(">I", 10**8) + avif[at + 4:]
    length = len(_only_item(_saved(OTHER, "AVIF"))[1])
    assert [hidden.problem for hidden in hidden_pictures(beyond, "image/avif")] == [
        f"HEIF thumbnail image (item 2) not read: it is said to lie at 100,000,000+{length:,}, beyond the "
        f"{len(avif):,} bytes that hold it"]
    rng = random.Random(7)
    for whole, media_type in ((avif, "image/avif"), (_saved(PICTURE, "HEIF", thumbnails=[64]), "image/heic")):
        for _ in range(400):
            data = bytearray(whole)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(min(len(data), 1200))] = rng.randrange(256)  # the boxes before the coded bytes
            hidden_pictures(bytes(data[:rng.randint(0, len(data))] if rng.random() < 0.3 else data), media_type)


def test_a_scan_reads_a_heif_s_thumbnail_image_of_another_picture_as_an_item(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    avif = _with_thumbnail(_saved(PICTURE, "AVIF"), _saved(OTHER, "AVIF"), b"avif")
    (evidence / "photo.avif").write_bytes(avif)
    (evidence / "own.heic").write_bytes(_saved(PICTURE, "HEIF", thumbnails=[160]))  # its thumbnail shows it
    [found] = hidden_pictures(avif, "image/avif")
    assert found.data is not None
    items = _scan(tmp_path, evidence, {"thumbnail": found.data})
    assert [match["label"] for match in items["photo.avif!/heif-thumbnail.avif"]["matches"]] == ["thumbnail"]
    assert read_item_bytes(str(evidence), "photo.avif!/heif-thumbnail.avif", Settings(), 10**7) == found.data
    said = [error["message"] for error in items["photo.avif"]["errors"] if error["stage"] == "hidden-picture"]
    assert any("its HEIF thumbnail image (item 2) shows another picture" in message for message in said)
    assert not [path for path in items if path.startswith("own.heic!/")]
