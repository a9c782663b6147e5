"""Pictures kept in a JPEG's segments or a PNG's chunks that no reader reads (an APP15, a comment, a private
chunk): each read as the picture's member `in-a-box`, matched and read back; the segments Vigie's readers read
(EXIF, XMP, ICC, C2PA, Photoshop) are left to them, so an EXIF thumbnail is no second member."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from conftest import jpeg_bytes
from PIL import Image

from tests.test_audio_pictures import _png, _scan
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.sources import unread_segments
from vigie.sources.reopen import read_item_bytes
from vigie.sources.unread_segments import in_unread_segments


def _segment(marker: int, body: bytes) -> bytes:
    return b"\xff" + bytes((marker,)) + struct.pack(">H", len(body) + 2) + body


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_pictures_in_segments_and_chunks_no_reader_reads_are_matched_and_read_back(tmp_path: Path) -> None:
    carrier, hidden_jpeg, hidden_png = jpeg_bytes(draw_picture(220, (80, 60))), \
        jpeg_bytes(draw_picture(221, (90, 70))), _png(222, (90, 70))
    png_carrier = _png(223, (80, 60))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    files = {"app15.jpg": (carrier[:2] + _segment(0xEF, hidden_png) + carrier[2:], hidden_png),
             "com.jpg": (carrier[:2] + _segment(0xFE, b"made by" + hidden_jpeg) + carrier[2:], hidden_jpeg),
             "odd-app1.jpg": (carrier[:2] + _segment(0xE1, b"Other\x00" + hidden_png) + carrier[2:], hidden_png),
             "private.png": (png_carrier[:33] + _chunk(b"prVt", hidden_jpeg) + png_carrier[33:], hidden_jpeg)}
    for name, (data, _) in files.items():
        (evidence / name).write_bytes(data)
    items = _scan(tmp_path, evidence, [hidden_jpeg, hidden_png])
    for name, (_, hidden) in files.items():
        member = items[f"{name}!/in-a-box"]
        assert member["sha256"] == hashlib.sha256(hidden).hexdigest(), name
        assert [match["signal"] for match in member["matches"]] == ["md5"], name
        assert read_item_bytes(str(evidence), f"{name}!/in-a-box", Settings(), 10**7) == hidden, name
        assert any("which no reader reads" in error["message"] for error in items[name]["errors"]), name


def test_segments_readers_read_and_segments_holding_no_picture_say_nothing() -> None:
    image = draw_picture(224, (320, 240))
    exif = Image.Exif()
    exif[0x010F] = "Camera"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"a comment")
    camera = out.getvalue()
    thumbnail = jpeg_bytes(draw_picture(225, (64, 48)))  # a JPEG in EXIF's APP1 is the EXIF thumbnail's reader's
    with_exif_jpeg = camera[:2] + _segment(0xE1, b"Exif\x00\x00" + thumbnail) + camera[2:]
    adobe = camera[:2] + _segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x01") + camera[2:]
    for data in (camera, with_exif_jpeg, adobe, _png(226)):
        assert in_unread_segments(data, Image.open(io.BytesIO(data)).get_format_mimetype() or "") == ((), ())


def test_countless_segments_cost_bounded_work_and_are_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unread_segments, "_MOST_LOOKED", 3)
    carrier, hidden = jpeg_bytes(draw_picture(227, (40, 30))), _png(228, (30, 20))
    data = carrier[:2] + _segment(0xEF, hidden) * 5 + carrier[2:]
    found, notes = in_unread_segments(data, "image/jpeg")
    assert [member for one in found for member in one.members] == [hidden] * 3
    assert len(notes) == 1 and "more than 3 segments or chunks no reader reads" in notes[0]
