"""What follows a picture's own content (a JPEG's end marker, a PNG's IEND, a GIF's trailer), which no viewer
shows: a motion photo's video, a picture appended to hide it. Read as the picture's member `after-the-end` from
where a picture or a video starts in it, and said; padding is not; anything else is said, not read."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
from pathlib import Path

from conftest import jpeg_bytes
from PIL import Image

from vigie.config import Settings
from vigie.demo.seizure import draw_picture, write_video
from vigie.exports.report import render
from vigie.scan.pipeline import run_scan
from vigie.sources.reopen import read_item_bytes
from vigie.sources.trailing import content_end, pictures_in
from vigie.store.sqlite import open_case


def _encoded(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def _scanned(evidence: Path, files: dict[str, bytes]) -> dict[str, dict]:  # type: ignore[type-arg]
    """`files` written into `evidence`, scanned into a new case beside it; its report's items by path."""
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    store = open_case(evidence.parent / "case", create=True)
    run_scan(store, [str(evidence)], Settings(workers=1))
    items = {item["path"].split("/evidence/", 1)[1]: item for item in json.loads(render(store, "json"))["items"]}
    store.close()
    return items


def test_what_follows_a_picture_is_read_as_its_member_or_said(tmp_path: Path) -> None:
    hidden = jpeg_bytes(draw_picture(90, (96, 72)))
    cover = draw_picture(91, (96, 72))
    video_path = tmp_path / "clip.mp4"
    write_video(video_path, [draw_picture(92, (160, 120))], seconds_each=1.0, fps=5, codec="mpeg4",
                container="mp4")
    video = video_path.read_bytes()
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    files = {
        "appended.jpg": jpeg_bytes(cover) + hidden,
        "appended.png": _encoded(cover, "PNG") + hidden,
        "appended.gif": _encoded(cover, "GIF") + hidden,
        "MVIMG_0001.jpg": jpeg_bytes(cover) + video,  # a motion photo: the video right after the picture
        "copy.jpg": jpeg_bytes(cover) + hidden,  # the same bytes again: analysed once
        "padded.jpg": jpeg_bytes(cover) + bytes(4096),
        "other.jpg": jpeg_bytes(cover) + b"camera maker's notes " * 20,
    }
    items = _scanned(evidence, files)
    for name in ("appended.jpg", "appended.png", "appended.gif", "copy.jpg"):
        assert items[f"{name}!/after-the-end"]["sha256"] == hashlib.sha256(hidden).hexdigest(), name
        said = [e["message"] for e in items[name]["errors"] if "after the picture's own end" in e["message"]]
        assert len(said) == 1 and "read as this item's member after-the-end" in said[0], (name, said)
        assert read_item_bytes(str(evidence), f"{name}!/after-the-end", Settings(), 10**7) == hidden
    motion = items["MVIMG_0001.jpg!/after-the-end"]
    assert motion["media_type"] == "video/mp4" and motion["sha256"] == hashlib.sha256(video).hexdigest()
    assert not items["padded.jpg"]["errors"] and "padded.jpg!/after-the-end" not in items
    assert "not read: nothing in them starts like a picture" in str(items["other.jpg"]["errors"])
    assert "other.jpg!/after-the-end" not in items


def test_a_picture_appended_is_read_to_its_own_end_whatever_follows_it(tmp_path: Path) -> None:
    """A member is the appended picture's own bytes, so that a list of exact hashes (MD5, SHA-256) matches it:
    what follows it (padding, junk, a zip, a second picture) was once part of it, and no list held that."""
    hidden = jpeg_bytes(draw_picture(94, (96, 72)))
    second = _encoded(draw_picture(95, (96, 72)), "PNG")
    zipped = jpeg_bytes(draw_picture(96, (96, 72)))
    behind = io.BytesIO()
    with zipfile.ZipFile(behind, "w") as archive:
        archive.writestr("kept.jpg", zipped)
    cover = jpeg_bytes(draw_picture(97, (96, 72)))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    files = {"padded.jpg": cover + hidden + bytes(10), "junk.jpg": cover + hidden + b"not a picture " * 20,
             "zipped.jpg": cover + hidden + behind.getvalue(), "two.jpg": cover + hidden + bytes(100) + second}
    items = _scanned(evidence, files)
    expected = {"padded.jpg!/after-the-end": hidden, "junk.jpg!/after-the-end": hidden,
                "zipped.jpg!/after-the-end": hidden, "zipped.jpg!/kept.jpg": zipped,
                "two.jpg!/after-the-end": hidden, "two.jpg!/after-the-end!2": second}
    for path, data in expected.items():
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    assert not [path for path in items if "after-the-end!/" in path]  # nothing read twice,
    assert "zipped.jpg!/after-the-end!2" not in items  # nor the pictures a zip stores, past its start
    assert "280 bytes after the last one's own end" in str(items["junk.jpg"]["errors"])
    assert "after the last one's own end" not in str([items[name]["errors"] for name in ("padded.jpg", "two.jpg")])


def test_a_pictures_end_is_found_past_stuffing_restarts_and_progressive_scans() -> None:
    picture = draw_picture(93, (120, 90))
    for options in ({}, {"progressive": True}, {"restart_marker_blocks": 1}):
        out = io.BytesIO()
        picture.save(out, "JPEG", **options)
        assert content_end(out.getvalue() + b"tail", "image/jpeg") == len(out.getvalue()), options
    assert content_end(b"\xff\xd8\xff\xe0\x00\x10cut", "image/jpeg") is None  # its structure breaks off


def test_a_decoy_signature_an_index_or_a_zip_marker_hides_no_picture_after_the_end(tmp_path: Path) -> None:
    """A signature alone ("GIF8", "PK\\3\\4") is no picture; an MPO's index does not stop the look behind; a picture
    before a zip is read as well as the zip."""
    import zipfile

    hidden = jpeg_bytes(draw_picture(94, (96, 72)))
    cover = jpeg_bytes(draw_picture(95, (96, 72)))
    marked = cover[:2] + b"\xff\xfe\x00\x06MPF\x00" + cover[2:]  # "MPF" in a comment, no index
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("readme.txt", b"hello")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    files = {"decoy.jpg": cover + b"GIF8" + bytes(40) + hidden, "marker.jpg": cover + b"PK\x03\x04xx" + hidden,
             "mpf.jpg": marked + hidden, "then-zip.jpg": cover + hidden + zipped.getvalue()}
    items = _scanned(evidence, files)
    for name in files:
        member = items[f"{name}!/after-the-end"]
        assert member["media_type"] == "image/jpeg" and member["pdq"], name
        assert read_item_bytes(str(evidence), f"{name}!/after-the-end", Settings(), 10**7) is not None
    assert items["then-zip.jpg!/readme.txt"]["size"] == 5


def test_a_cut_zip_behind_a_text_looking_ppm_is_read_back_as_scanned(tmp_path: Path) -> None:
    """A PPM in its text form (P3) is sniffed as a picture, so the scan finds a zip behind it by its first local
    header, its central directory cut off; read-back looks for it so too, not by an end record as behind text."""
    pixels = b"\n".join(b"%d %d %d" % (10 * n % 256, 200, 30) for n in range(64))
    hidden = _encoded(draw_picture(211, (40, 30)), "PNG")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as written:
        written.writestr("hidden.png", hidden)
    cut = archive.getvalue()[:archive.getvalue().find(b"PK\x01\x02")]  # its local header and data only
    (tmp_path / "evidence").mkdir()
    items = _scanned(tmp_path / "evidence", {"pic.ppm": b"P3\n8 8\n255\n" + pixels + b"\n" + cut})
    assert items["pic.ppm!/hidden.png"]["sha256"] == hashlib.sha256(hidden).hexdigest()
    assert read_item_bytes(str(tmp_path / "evidence"), "pic.ppm!/hidden.png", Settings(), 10**7) == hidden


def test_a_picture_in_a_webps_chunk_no_viewer_reads_or_under_its_raised_size_is_read_as_in_a_box(
        tmp_path: Path) -> None:
    webp = _encoded(draw_picture(160, (96, 72)), "WEBP")
    hidden = {kind: _encoded(draw_picture(161 + index, (96, 72)), kind) for index, kind in enumerate(("JPEG", "PNG"))}
    riff = struct.unpack_from("<I", webp, 4)[0]

    def with_chunks(*chunks: bytes) -> bytes:
        added = b"".join(chunks)
        return webp[:4] + struct.pack("<I", riff + len(added)) + webp[8:] + added

    def chunk(kind: bytes, data: bytes) -> bytes:
        return kind + struct.pack("<I", len(data)) + data + bytes(len(data) & 1)

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    files = {"chunk.webp": with_chunks(chunk(b"ZZZZ", hidden["JPEG"])),
             "two.webp": with_chunks(chunk(b"hide", hidden["PNG"]), chunk(b"more", bytes(8) + hidden["JPEG"])),
             "raised.webp": with_chunks(hidden["PNG"] + bytes(len(hidden["PNG"]) & 1))}
    with zipfile.ZipFile(evidence / "pictures.zip", "w") as archive:
        archive.writestr("chunk.webp", files["chunk.webp"])
    items = _scanned(evidence, files)
    expected = {"chunk.webp!/in-a-box": hidden["JPEG"], "two.webp!/in-a-box": hidden["PNG"],
                "two.webp!/in-a-box!2": hidden["JPEG"], "raised.webp!/in-a-box": hidden["PNG"],
                "pictures.zip!/chunk.webp!/in-a-box": hidden["JPEG"]}
    for path, data in expected.items():
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    assert "a 'ZZZZ' chunk holds from byte" in str(items["chunk.webp"]["errors"])
    assert "where its RIFF size says it runs on" in str(items["raised.webp"]["errors"])
    from vigie.sources.webp_chunks import in_chunks

    assert in_chunks(webp) == ((), ())  # a WebP as written: nothing to say
    countless = webp[:4] + struct.pack("<I", 4 + 8 * 100_001) + b"WEBP" + b"ZZZZ\0\0\0\0" * 100_001
    assert "more than 100,000 chunks" in in_chunks(countless)[1][0]
    chunks, notes = in_chunks(with_chunks(*[chunk(b"ZZZZ", b"not a picture " * 5)] * 1_001))  # each said, to a cap
    assert len(chunks) == 1_000 and "more than 1,000 chunks of a type no viewer reads" in notes[0]
    chunks, notes = in_chunks(with_chunks(*[chunk(b"ZZZZ", hidden["PNG"])] * 70))  # 64 read, the others said
    assert sum(len(chunk.members) for chunk in chunks) == 64 and "not looked at" in notes[0]


def test_pictures_far_apart_in_bytes_after_the_end_are_each_found_and_a_tiff_read_to_its_own_end() -> None:
    pictures = []
    for seed, kind in ((210, "PNG"), (211, "TIFF"), (212, "BMP")):
        out = io.BytesIO()
        draw_picture(seed, (64, 48)).save(out, kind)
        pictures.append(out.getvalue())
    # the search looks through a window that grows: starts past its first bytes, and between members, are found
    filler = bytes(range(1, 251)) * 1200
    rest = filler + pictures[0] + filler * 3 + pictures[1] + b"\x01" * 70_000 + pictures[2] + filler
    found = pictures_in(rest, 0, "said", "guess", b"after-the-end")
    assert found is not None and list(found.members) == pictures
    assert "a PNG at byte 300,000, a TIFF at byte" in found.note and "a BMP at byte" in found.note
