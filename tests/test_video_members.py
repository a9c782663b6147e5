"""What a video holds beside its frames: an MP4's cover art (`moov/udta/meta/ilst/covr`), a Matroska's
attachments, and what follows the video's own end. Each is a member of the video, matched against hash lists and
read back, in a file given and inside a zip; the video is still decoded; hostile structure is said and costs
bounded work."""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import zipfile
from pathlib import Path

import pytest
from conftest import jpeg_bytes, shared_data
from PIL import Image

from tests.media_files import attachment, box, covr, ebml_size, element, with_cover
from tests.test_audio_pictures import _png, _scan
from tests.test_heif_and_c2pa_thumbnails import _C2PA_UUID, _edit, _manifest, _store, _superbox
from tests.test_heif_and_c2pa_thumbnails import _box as _hbox
from vigie.config import Settings
from vigie.demo.seizure import draw_picture, write_video
from vigie.signals.video import VideoLimits, analyse_video
from vigie.sources import bmff
from vigie.sources.bmff import walk_boxes
from vigie.sources.matroska import walk_matroska
from vigie.sources.reopen import read_item_bytes
from vigie.sources.tiff_end import bmp_end, plausible_bmp, plausible_tiff, tiff_end
from vigie.sources.video_members import video_held


def _video(tmp_path: Path, container: str, attachments: tuple[tuple[str, str, bytes], ...] = ()) -> bytes:
    """A one-second video (PyAV), with `attachments` (name, MIME type, bytes) where Matroska."""
    import av

    path = tmp_path / f"video.{container}"
    write_video(path, [draw_picture(140, (160, 120))], seconds_each=1.0, fps=5, container=container)
    if not attachments:
        return path.read_bytes()
    with av.open(str(path)) as source, av.open(str(tmp_path / "attached.mkv"), "w", format="matroska") as output:
        stream = output.add_stream_from_template(source.streams.video[0])
        for name, mime, data in attachments:
            output.add_attachment(name, mime, data)
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                output.mux(packet)
    return (tmp_path / "attached.mkv").read_bytes()


def _m4a(tmp_path: Path) -> bytes:
    """A tenth of a second of silence in AAC, in an M4A (PyAV)."""
    import av
    import numpy as np

    path = tmp_path / "sound.m4a"
    with av.open(str(path), "w", format="ipod") as output:
        stream = output.add_stream("aac", rate=44100)
        assert isinstance(stream, av.AudioStream)
        stream.layout = "mono"
        for index in range(4):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), dtype=np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, index * 1024
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return path.read_bytes()


def test_cover_art_attachments_and_what_follows_a_video_are_matched_and_read_back(tmp_path: Path) -> None:
    cover = jpeg_bytes(draw_picture(141, (96, 72)))
    back = _png(142)
    attached = jpeg_bytes(draw_picture(143, (96, 72)))
    hidden = jpeg_bytes(draw_picture(144, (96, 72)))
    mp4 = with_cover(_video(tmp_path, "mp4"), covr((13, cover), (14, back)))
    mkv = _video(tmp_path, "matroska", (("cover.jpg", "image/jpeg", attached), ("notes.txt", "text/plain", b"hi")))
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("clip.mp4", mp4 + hidden)
        archive.writestr("clip.mkv", mkv + hidden)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    files = {"song.m4a": with_cover(_m4a(tmp_path), covr((14, back))),
             "clip.mp4": mp4, "appended.mp4": mp4 + hidden, "padded.mp4": mp4 + bytes(4096), "clip.mkv": mkv,
             "appended.mkv": mkv + hidden, "videos.zip": inner.getvalue()}
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    items = _scan(tmp_path, evidence, [cover, back, attached, hidden])
    expected = {"song.m4a!/picture-1.png": back, "clip.mp4!/picture-1.jpg": cover, "clip.mp4!/picture-2.png": back,
                "appended.mp4!/picture-1.jpg": cover, "appended.mp4!/after-the-end": hidden,
                "clip.mkv!/cover.jpg": attached, "appended.mkv!/cover.jpg": attached,
                "appended.mkv!/after-the-end": hidden, "videos.zip!/clip.mp4!/picture-2.png": back,
                "videos.zip!/clip.mp4!/after-the-end": hidden, "videos.zip!/clip.mkv!/cover.jpg": attached,
                "videos.zip!/clip.mkv!/after-the-end": hidden}
    for path, data in expected.items():
        item = items[path]
        assert item["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert [match["signal"] for match in item["matches"]] == ["md5"], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    assert items["clip.mkv!/notes.txt"]["size"] == 2
    for name in ("clip.mp4", "clip.mkv", "appended.mp4", "videos.zip!/clip.mp4"):  # still decoded as videos
        assert items[name]["media_type"].startswith("video/") and items[name]["video"]["frames_hashed"], name
    for name in ("clip.mp4", "clip.mkv", "padded.mp4"):
        assert not items[name]["errors"], (name, items[name]["errors"])
    assert "no video track in this container (sound only?)" in str(items["song.m4a"]["errors"])
    said = " ".join(error["message"] for error in items["appended.mp4"]["errors"])
    assert "after the video's own end" in said and "no player shows" in said and "after-the-end" in said


def test_hostile_video_structure_is_said_and_costs_bounded_work(monkeypatch: pytest.MonkeyPatch) -> None:
    header = element(0x1A45DFA3, element(0x4282, b"matroska"))
    picture = jpeg_bytes(draw_picture(145, (64, 48)))
    # a FileData whose size runs past its attachment's end; a Segment's past the file's end
    lying = header + element(0x18538067, element(0x1941A469, element(0x61A7, element(0x466E, b"a.jpg")
                                                                   + b"\x46\x5c" + ebml_size(10**9) + picture)))
    walk = walk_matroska(io.BytesIO(lying), len(lying), 10**8)
    assert walk.members[0].data is None and "without its data" in str(walk.members[0].problem)
    past = header + b"\x18\x53\x80\x67" + ebml_size(10**12) + element(0x1941A469, attachment(b"a.jpg", b"i", picture))
    walk = walk_matroska(io.BytesIO(past), len(past), 10**8)
    assert "past the file's end" in walk.notes[0] and walk.members[0].data == picture and walk.end == len(past)
    cut = header + element(0x18538067, b"\x19\x41\xa4\x69" + ebml_size(10**6)
                           + attachment(b"a.jpg", b"image/jpeg", picture))
    walk = walk_matroska(io.BytesIO(cut), len(cut), 10**8)
    assert walk.members[0].data == picture and "read up to that end" in walk.notes[0] and walk.end is None
    broken = header + element(0x18538067, b"\x00" * 20 + element(0x1941A469, attachment(b"a.jpg", b"i", picture)))
    walk = walk_matroska(io.BytesIO(broken), len(broken), 10**8)
    assert "break off at byte" in walk.notes[0] and walk.end is None
    # countless attachments, and a cap on what is held from one video
    many = header + element(0x18538067, element(0x1941A469, attachment(b"x", b"i", b"y") * 5000))
    walk = walk_matroska(io.BytesIO(many), len(many), 10**8)
    assert len(walk.members) == 4096 and "more than 4,096 attachments" in walk.notes[0]
    walk = walk_matroska(io.BytesIO(many), len(many), 100)
    assert [m.data for m in walk.members[:100]] == [b"y"] * 100 and "past the cap" in str(walk.members[100].problem)
    # an unsized Segment and Cluster: the blocks are passed over, the attachments after them read
    unsized = header + b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff" + b"\x1f\x43\xb6\x75\xff" \
        + element(0xA3, bytes(40)) * 3 + element(0x1941A469, attachment(b"late.jpg", b"image/jpeg", picture))
    walk = walk_matroska(io.BytesIO(unsized), len(unsized), 10**8)
    assert walk.members[0].name == b"late.jpg" and walk.members[0].data == picture and walk.end == len(unsized)
    # an MP4: a box past the file's end (cut short: no end), countless boxes, a covr box that lies
    mp4 = box(b"ftyp", b"isom" + bytes(4)) + struct.pack(">I4s", 10**6, b"mdat") + bytes(100)
    assert walk_boxes(io.BytesIO(mp4), len(mp4), 10**8).end is None
    monkeypatch.setattr(bmff, "_MOST_TOP_BOXES", 1000)  # a million in a scan
    many_boxes = box(b"ftyp", b"isom" + bytes(4)) + box(b"free", b"") * 1001
    walk = walk_boxes(io.BytesIO(many_boxes), len(many_boxes), 10**8)
    assert walk.end is None and "1,000 top-level boxes" in walk.notes[0]
    udta = covr((13, picture))
    udta = udta[:-len(picture) - 16] + struct.pack(">I", 10**6) + udta[-len(picture) - 12:]  # its data box
    moov = box(b"ftyp", b"isom" + bytes(4)) + box(b"moov", udta)
    walk = walk_boxes(io.BytesIO(moov), len(moov), 10**8)
    assert not walk.members and "runs past the box that holds it" in walk.notes[0]
    # another MP4 behind an MP4 starts where the first ends
    two = box(b"ftyp", b"isom" + bytes(4)) + box(b"mdat", bytes(10))
    assert walk_boxes(io.BytesIO(two + two), len(two) * 2, 10**8).end == len(two)


def test_a_zip_behind_a_video_with_cover_art_numbers_a_member_of_the_same_name_after_it(tmp_path: Path) -> None:
    cover = jpeg_bytes(draw_picture(146, (96, 72)))
    zipped = jpeg_bytes(draw_picture(147, (96, 72)))
    behind = io.BytesIO()
    with zipfile.ZipFile(behind, "w") as archive:
        archive.writestr("picture-1.jpg", zipped)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "clip.mp4").write_bytes(with_cover(_video(tmp_path, "mp4"), covr((13, cover))) + behind.getvalue())
    items = _scan(tmp_path, evidence, [cover, zipped])
    for path, data in (("clip.mp4!/picture-1.jpg", cover), ("clip.mp4!/picture-1.jpg!2", zipped)):
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    assert "a zip archive follows this file's own content" in str(items["clip.mp4"]["errors"])


def test_too_much_after_a_videos_end_is_said_not_read() -> None:
    mp4 = box(b"ftyp", b"isom" + bytes(4)) + box(b"mdat", bytes(10))
    held = video_held(io.BytesIO(mp4 + b"\xff\xd8\xff" + bytes(5000)), "video/mp4",
                      Settings(max_nested_archive_bytes=1000))
    assert held.after is None and "5,003 bytes after the video's own end (byte 34)" in held.notes[0]
    assert "max_nested_archive_bytes" in held.notes[0]


def test_an_attachment_and_a_zip_member_named_after_the_end_each_keep_their_own_path(tmp_path: Path) -> None:
    attached = jpeg_bytes(draw_picture(148, (96, 72)))
    hidden = jpeg_bytes(draw_picture(149, (96, 72)))
    zipped = jpeg_bytes(draw_picture(150, (96, 72)))
    behind = io.BytesIO()
    with zipfile.ZipFile(behind, "w") as archive:
        archive.writestr("after-the-end", zipped)
    mkv = _video(tmp_path, "matroska", (("after-the-end", "image/jpeg", attached),))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "clip.mkv").write_bytes(mkv + hidden + behind.getvalue())
    (evidence / "picture.jpg").write_bytes(attached + hidden + behind.getvalue())
    items = _scan(tmp_path, evidence, [])
    expected = {"clip.mkv!/after-the-end": attached, "clip.mkv!/after-the-end!2": hidden,
                "clip.mkv!/after-the-end!3": zipped, "picture.jpg!/after-the-end": hidden,
                "picture.jpg!/after-the-end!2": zipped}
    for path, data in expected.items():
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    # the zip behind the appended picture is read once, as the file's members, not again inside that picture
    assert not [path for path in items if "after-the-end!/" in path]


def test_the_decoder_says_only_the_attached_pictures_that_were_not_read(tmp_path: Path) -> None:
    cover = jpeg_bytes(draw_picture(151, (96, 72)))
    path = tmp_path / "covered.mp4"
    path.write_bytes(with_cover(_video(tmp_path, "mp4"), covr((13, cover), (13, cover))))
    said = {read: analyse_video(str(path), VideoLimits(), read).problems for read in (0, 1, 2)}
    assert said[2] == [] and "1 other video track(s), or picture(s) attached" in said[1][0]
    assert "2 other video track(s)" in said[0][0]
    assert analyse_video(str(path), VideoLimits(), 2).frames  # the video track, not a cover, is hashed


def test_cover_art_after_itunes_items_is_read_and_countless_covers_cost_bounded_work() -> None:
    """iTunes' items (`©nam`, `©ART`) have a type that starts with 0xA9: the walk to `covr` goes past them."""
    cover = _png(170)
    movie = box(b"ftyp", b"M4A " + bytes(4)) + box(b"moov", covr((14, cover), title=b"a song"))
    walk = walk_boxes(io.BytesIO(movie), len(movie), 10**6)
    assert [(found.name, found.data) for found in walk.members] == [(b"picture-1.png", cover)] and not walk.notes
    many = box(b"ftyp", b"M4A " + bytes(4)) + box(b"moov", covr(*[(14, b"x")] * 5000))
    walk = walk_boxes(io.BytesIO(many), len(many), 10**6)
    assert len(walk.members) == 4096 and "more than 4,096 pictures of cover art" in walk.notes[0]


def _drawn(seed: int, kind: str) -> bytes:
    out = io.BytesIO()
    draw_picture(seed, (96, 72)).save(out, kind)
    return out.getvalue()


def test_pictures_in_boxes_no_player_reads_and_after_an_avis_end_are_read(tmp_path: Path) -> None:
    hidden = {kind: _drawn(180 + index, kind) for index, kind in enumerate(("JPEG", "PNG", "GIF", "WEBP"))}
    mp4 = _video(tmp_path, "mp4")  # its moov last: boxes after it move no sample
    moov_at = mp4.rindex(b"moov") - 4
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    files = {"free.mp4": mp4 + box(b"free", bytes(100) + hidden["JPEG"] + bytes(50)),
             "skip.mp4": mp4 + box(b"skip", hidden["PNG"]), "wide.mp4": mp4 + box(b"wide", hidden["GIF"]),
             "unknown.mp4": mp4 + box(b"hide", hidden["WEBP"]),
             "claims.mp4": mp4 + struct.pack(">I4s", 10**6, b"mdat") + hidden["PNG"],  # past the file's end
             "moov.mp4": mp4[:moov_at] + struct.pack(">I", len(mp4) - moov_at + 10**5)
             + mp4[moov_at + 4:] + hidden["JPEG"],  # moov's size raised past a picture appended
             "gap.mp4": mp4[:moov_at] + struct.pack(">I", len(mp4) - moov_at + len(hidden["GIF"]))
             + mp4[moov_at + 4:] + hidden["GIF"],  # raised over it: in moov, after its last box
             "clip.avi": _video(tmp_path, "avi") + hidden["GIF"],
             "picture.webp": hidden["WEBP"] + hidden["JPEG"]}  # a WebP ends where its RIFF chunk does too
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    with zipfile.ZipFile(evidence / "videos.zip", "w") as archive:
        archive.writestr("free.mp4", files["free.mp4"])
        archive.writestr("clip.avi", files["clip.avi"])
    items = _scan(tmp_path, evidence, list(hidden.values()))
    expected = {"free.mp4!/in-a-box": hidden["JPEG"], "skip.mp4!/in-a-box": hidden["PNG"],
                "wide.mp4!/in-a-box": hidden["GIF"], "unknown.mp4!/in-a-box": hidden["WEBP"],
                "claims.mp4!/in-a-box": hidden["PNG"], "moov.mp4!/in-a-box": hidden["JPEG"],
                "gap.mp4!/in-a-box": hidden["GIF"],
                "clip.avi!/after-the-end": hidden["GIF"], "videos.zip!/free.mp4!/in-a-box": hidden["JPEG"],
                "videos.zip!/clip.avi!/after-the-end": hidden["GIF"], "picture.webp!/after-the-end": hidden["JPEG"]}
    for path, data in expected.items():
        item = items[path]
        assert item["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert [match["signal"] for match in item["matches"]] == ["md5"], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    for name in ("free.mp4", "clip.avi", "videos.zip!/free.mp4"):  # still decoded as videos
        assert items[name]["video"]["frames_hashed"], name
    said = str(items["free.mp4"]["errors"])
    assert "bytes a free box holds from byte" in said and "which no player reads" in said and "in-a-box" in said
    said = str(items["claims.mp4"]["errors"])
    assert "past the file's end" in said and "the box's size lies" in said
    assert "after the video's own end" in str(items["clip.avi"]["errors"])


def test_boxes_no_player_reads_cost_bounded_work_and_what_is_not_read_is_said() -> None:
    ftyp = box(b"ftyp", b"isom" + bytes(4))
    picture = jpeg_bytes(draw_picture(185, (64, 48)))
    # a million tiny boxes: the walk stops, said; of those no player reads, a thousand are looked at
    tiny = ftyp + box(b"free", b"\xff\xd8\xff\xe0" + b"\x01" * 16) * 1_000_001  # more than reserved space
    held = video_held(io.BytesIO(tiny), "video/mp4", Settings())
    assert "more than 1,000,000 top-level boxes" in str(held.notes)
    assert len(held.boxed) == 64 and "more than 64 pictures or videos in boxes" in str(held.notes)
    # a box that says it is huge: what the file holds of it is looked at, within the cap
    huge = ftyp + struct.pack(">I4sQ", 1, b"free", 2**62) + picture
    held = video_held(io.BytesIO(huge), "video/mp4", Settings())
    assert [found.data for found in held.boxed] == [picture] and "past the file's end" in held.in_boxes[0].note
    held = video_held(io.BytesIO(huge), "video/mp4", Settings(max_nested_archive_bytes=100))
    assert not held.boxed and "past the file's end" in held.notes[0] and "not looked at" in held.notes[0]
    # a box past the file's end holding nothing: the cut is said
    held = video_held(io.BytesIO(ftyp + struct.pack(">I4s", 10**6, b"mdat") + bytes(10)), "video/mp4", Settings())
    assert not held.boxed and "the video is cut short" in held.notes[0]


def test_an_avi_whose_riff_size_ends_inside_its_own_chunks_is_said_not_read_past(tmp_path: Path) -> None:
    avi = _video(tmp_path, "avi")
    stale = avi[:4] + struct.pack("<I", 4) + avi[8:]  # an interrupted writer's size: its chunks go on after it
    held = video_held(io.BytesIO(stale + jpeg_bytes(draw_picture(186, (64, 48)))), "video/x-msvideo", Settings())
    assert held.after is None and "its RIFF size ends at byte 12, where its own chunks go on" in held.notes[0]


def _in_hdrl(avi: bytes, chunk: bytes) -> bytes:
    """`avi` with `chunk` at the end of its `LIST hdrl`, the sizes that hold it raised."""
    at = avi.index(b"hdrl") - 8
    size = struct.unpack_from("<I", avi, at + 4)[0]
    inside = avi[:at + 4] + struct.pack("<I", size + len(chunk)) + avi[at + 8:at + 8 + size] + chunk \
        + avi[at + 8 + size:]
    return inside[:4] + struct.pack("<I", struct.unpack_from("<I", avi, 4)[0] + len(chunk)) + inside[8:]


def test_pictures_in_top_level_boxes_players_skip_and_in_an_avis_chunks_no_player_reads_are_read(
        tmp_path: Path) -> None:
    hidden = {kind: _drawn(190 + index, kind) for index, kind in enumerate(("JPEG", "PNG", "GIF", "WEBP"))}
    mp4 = _video(tmp_path, "mp4")
    avi = _video(tmp_path, "avi")
    riff = struct.unpack_from("<I", avi, 4)[0]
    junk = b"JUNK" + struct.pack("<I", len(hidden["PNG"])) + hidden["PNG"] + bytes(len(hidden["PNG"]) & 1)
    xmp = box(b"uuid", bytes.fromhex("be7acfcb97a942e89c71999491e3afac") + b"<x:xmpmeta>" + b"x" * 500)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    files = {"uuid.mp4": mp4 + box(b"uuid", b"\x11" * 16 + hidden["JPEG"]),
             "udta.mp4": mp4 + box(b"udta", hidden["PNG"]), "meta.mp4": mp4 + box(b"meta", bytes(4) + hidden["GIF"]),
             "skip.mp4": mp4 + box(b"skip", b"") + box(b"uuid", b"\x22" * 16 + hidden["WEBP"]),
             "xmp.mp4": mp4 + xmp,  # a known box of its own bytes: nothing said
             "raised.avi": avi[:4] + struct.pack("<I", riff + len(hidden["JPEG"])) + avi[8:] + hidden["JPEG"],
             "junk.avi": avi[:4] + struct.pack("<I", riff + len(junk)) + avi[8:] + junk,
             "hdrl.avi": _in_hdrl(avi, junk)}
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    with zipfile.ZipFile(evidence / "videos.zip", "w") as archive:
        archive.writestr("udta.mp4", files["udta.mp4"])
        archive.writestr("junk.avi", files["junk.avi"])
    items = _scan(tmp_path, evidence, list(hidden.values()))
    expected = {"uuid.mp4!/in-a-box": hidden["JPEG"], "udta.mp4!/in-a-box": hidden["PNG"],
                "meta.mp4!/in-a-box": hidden["GIF"], "skip.mp4!/in-a-box": hidden["WEBP"],
                "raised.avi!/in-a-box": hidden["JPEG"], "junk.avi!/in-a-box": hidden["PNG"],
                "hdrl.avi!/in-a-box": hidden["PNG"],
                "videos.zip!/udta.mp4!/in-a-box": hidden["PNG"], "videos.zip!/junk.avi!/in-a-box": hidden["PNG"]}
    for path, data in expected.items():
        item = items[path]
        assert item["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    for name in ("uuid.mp4", "raised.avi", "junk.avi"):  # still decoded as videos
        assert items[name]["video"]["frames_hashed"], name
    assert "bytes a JUNK chunk holds from byte" in str(items["junk.avi"]["errors"])
    assert "bytes a RIFF chunk holds from byte" in str(items["raised.avi"]["errors"])
    assert not items["xmp.mp4"]["errors"] and not [path for path in items if path.startswith("xmp.mp4!")]
    # a RIFF chunk of countless chunks: walked up to a cap, said
    countless = b"RIFF" + struct.pack("<I", 4 + 8 * 20_000) + b"AVI " + b"JUNK\0\0\0\0" * 20_000
    held = video_held(io.BytesIO(countless), "video/x-msvideo", Settings())
    assert "more than 10,000 chunks in a RIFF chunk" in str(held.notes)


def test_a_picture_right_after_an_avi_whose_odd_riff_size_a_writer_left_unpadded_is_read(tmp_path: Path) -> None:
    avi = _video(tmp_path, "avi")
    hidden = _drawn(195, "JPEG")
    riff = struct.unpack_from("<I", avi, 4)[0]
    odd = b"JUNK" + struct.pack("<I", 5) + b"abcde"  # no pad byte after it: the picture starts at once
    unpadded = avi[:4] + struct.pack("<I", riff + len(odd)) + avi[8:] + odd
    held = video_held(io.BytesIO(unpadded + hidden), "video/x-msvideo", Settings())
    assert held.after is not None and held.after.members == (hidden,)
    padded = video_held(io.BytesIO(unpadded + b"\0" + hidden), "video/x-msvideo", Settings())
    assert padded.after is not None and padded.after.members == (hidden,) and f"byte {len(unpadded) + 1:,}" in \
        padded.after.note


def _c2pa_uuid(store: bytes) -> bytes:
    """C2PA's `uuid` box as c2patool writes it in an MP4: the UUID, version and flags, the purpose, an 8-byte
    offset, the store."""
    return box(b"uuid", _C2PA_UUID + bytes(4) + b"manifest\x00" + bytes(8) + store)


def test_an_mp4s_c2pa_and_xmp_boxes_are_read_by_their_readers_not_carved(tmp_path: Path) -> None:
    claim, ingredient, in_xmp = (jpeg_bytes(draw_picture(seed, (80, 60))) for seed in (200, 201, 202))
    store = _edit(claim, ingredient)
    assert b"ftyp" not in store
    store = store.replace(b"urn:uuid:edit", b"/ftyp/uuid:ed")  # a manifest's text names boxes (its exclusions)
    xmp = box(b"uuid", bytes.fromhex("be7acfcb97a942e89c71999491e3afac")  # XMP's UUID, then its packet
              + b'<x:xmpmeta><rdf:Description xmpNote:Preview="' + base64.b64encode(in_xmp) + b'"/></x:xmpmeta>')
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "signed.mp4").write_bytes(_video(tmp_path, "mp4") + _c2pa_uuid(store) + xmp)
    items = _scan(tmp_path, evidence, [claim, ingredient, in_xmp])
    expected = {"signed.mp4!/c2pa-claim-thumbnail.jpg": claim, "signed.mp4!/c2pa-ingredient-thumbnail.jpg": ingredient,
                "signed.mp4!/xmp-picture-1.jpg": in_xmp}
    assert sorted(path for path in items if path.startswith("signed.mp4!")) == sorted(expected)
    for path, data in expected.items():
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert [match["signal"] for match in items[path]["matches"]] == ["md5"], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    assert not items["signed.mp4"]["errors"] and items["signed.mp4"]["video"]["frames_hashed"]
    # a C2PA box of another purpose holds no store: looked into as a box no player reads
    other = _video(tmp_path, "mp4") + box(b"uuid", _C2PA_UUID + bytes(4) + b"merkle\x00" + in_xmp)
    assert [found.data for found in video_held(io.BytesIO(other), "video/mp4", Settings()).boxed] == [in_xmp]


def _faststart(tmp_path: Path) -> bytes:
    """A one-second MP4 (PyAV) whose `moov` comes first (`movflags=faststart`: FFmpeg moves it, leaving a `free`
    box)."""
    import av

    path = tmp_path / "fast.mp4"
    with av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as output:
        stream = output.add_stream("mpeg4", rate=5)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        frame = av.VideoFrame.from_image(draw_picture(141, (160, 120)))  # type: ignore[no-untyped-call]
        for _ in range(5):
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return path.read_bytes()


def test_ordinary_videos_and_reserved_space_in_a_box_say_nothing(tmp_path: Path) -> None:
    mp4, mov = _video(tmp_path, "mp4"), _video(tmp_path, "mov")
    reserved = bytearray(54_180)
    reserved[43_934:43_940] = b"(\x08skip"  # c2patool's reserved space: zeros, but for a box header in it
    ordinary = {"mp4": mp4, "faststart": _faststart(tmp_path), "mov": mov, "reserved": mp4 + box(b"free", reserved),
                "free-first": box(b"ftyp", b"isom" + bytes(4)) + box(b"free", bytes(1000))
                + mp4[mp4.index(b"mdat") - 4:]}
    for name, data in ordinary.items():
        held = video_held(io.BytesIO(data), "video/quicktime" if name == "mov" else "video/mp4", Settings())
        assert held == type(held)(), name


def test_ftyp_in_text_in_a_box_is_no_videos_start_and_a_video_hidden_there_is_one(tmp_path: Path) -> None:
    mp4, mov = _video(tmp_path, "mp4"), _video(tmp_path, "mov")
    # "ftyp" in text (a C2PA manifest's hash exclusions name the box) is no video's start
    text = b'{"exclusions": [{"xpath": "/ftyp"}, {"xpath": "/uuid"}]}' * 40
    held = video_held(io.BytesIO(mp4 + box(b"free", text)), "video/mp4", Settings())
    assert not held.boxed and "nothing in them starts like a picture or a video" in held.in_boxes[0].note
    held = video_held(io.BytesIO(mp4 + box(b"free", text + mov + bytes(100))), "video/mp4", Settings())
    assert [found.data for found in held.boxed] == [mov]


def test_c2patools_signed_video_gives_no_false_member_nor_note() -> None:
    video = shared_data("c2pa", "video1.mp4")
    with video.open("rb") as stream:
        held = video_held(stream, "video/mp4", Settings())
    assert held == type(held)()


def test_a_tiff_or_a_bmp_in_a_box_no_player_reads_is_read_up_to_its_own_end(tmp_path: Path) -> None:
    pages = [draw_picture(seed, (96, 72)) for seed in (200, 201)]
    tiffs = []
    for options in ({}, {"compression": "tiff_deflate", "save_all": True, "append_images": pages[1:]}):
        out = io.BytesIO()
        pages[0].save(out, "TIFF", **options)
        tiffs.append(out.getvalue())
    hidden = {"TIFF": tiffs[0], "pages": tiffs[1], "BMP": _drawn(202, "BMP")}
    exif = Image.Exif()
    exif[0x010F] = "a camera's metadata in TIFF form: no picture"
    metadata = exif.tobytes()[6:]
    assert metadata.startswith((b"II*\0", b"MM\0*"))
    mp4 = _video(tmp_path, "mp4")
    avi = _video(tmp_path, "avi")
    riff = struct.unpack_from("<I", avi, 4)[0]
    junk = b"JUNK" + struct.pack("<I", len(hidden["BMP"])) + hidden["BMP"] + bytes(len(hidden["BMP"]) & 1)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    files = {"uuid.mp4": mp4 + box(b"uuid", bytes(16) + hidden["TIFF"] + b"\x33" * 100),
             "udta.mp4": mp4 + box(b"udta", metadata + hidden["pages"]),
             "meta.mp4": mp4 + box(b"meta", bytes(4) + hidden["BMP"]),
             "junk.avi": avi[:4] + struct.pack("<I", riff + len(junk)) + avi[8:] + junk,
             "exif.mp4": mp4 + box(b"udta", metadata * 4)}  # a known box of its own bytes: nothing said
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    items = _scan(tmp_path, evidence, list(hidden.values()))
    expected = {"uuid.mp4!/in-a-box": hidden["TIFF"], "udta.mp4!/in-a-box": hidden["pages"],
                "meta.mp4!/in-a-box": hidden["BMP"], "junk.avi!/in-a-box": hidden["BMP"]}
    for path, data in expected.items():
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    assert "a TIFF at byte" in str(items["uuid.mp4"]["errors"])
    assert not items["exif.mp4"]["errors"] and not [path for path in items if path.startswith("exif.mp4!")]


def test_a_hostile_tiff_or_bmp_header_gives_no_end_and_bounded_work() -> None:
    tiff = io.BytesIO()
    draw_picture(203, (96, 72)).save(tiff, "TIFF")
    data = tiff.getvalue()
    assert tiff_end(data + bytes(40), 0) == len(data) + (-len(data) % 16)  # a writer's padding
    ifd = struct.unpack_from("<I", data, 4)[0]
    count = struct.unpack_from("<H", data, ifd)[0]
    looping = data[:ifd + 2 + 12 * count] + struct.pack("<I", ifd)  # its next IFD is itself
    assert tiff_end(looping, 0) is None
    strips = next(at for at in range(ifd + 2, ifd + 2 + 12 * count, 12) if data[at:at + 2] == b"\x11\x01")
    countless = data[:strips + 4] + struct.pack("<I", 2**31) + data[strips + 8:]  # strips past any bytes
    assert plausible_tiff(countless, 0) and tiff_end(countless, 0) is None
    assert tiff_end(data[:-10], 0) is None and not plausible_bmp(b"BM" + bytes(40), 0)  # cut short; a BMP of 0 bytes
    bmp = _drawn(204, "BMP")
    assert bmp_end(b"x" + bmp + b"y", 1) == 1 + len(bmp)


def test_a_picture_beside_an_mp4s_xmp_packet_or_c2pa_store_is_read_but_not_what_their_readers_read(
        tmp_path: Path) -> None:
    """The readers of an XMP packet and of a C2PA store read only their own pictures: the rest of the box's bytes
    is searched as a box no player reads is, but for the thumbnails read already."""
    mp4 = _video(tmp_path, "mp4")
    claim, ingredient = (jpeg_bytes(draw_picture(seed, (80, 60))) for seed in (210, 211))
    hidden_jpeg, hidden_png = jpeg_bytes(draw_picture(212, (90, 70))), _png(213, (70, 50))
    xmp_uuid = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
    packet = b'<x:xmpmeta><rdf:Description dc:title="t"/></x:xmpmeta>'
    actions = _superbox("6a736f6e00110010800000aa00389b71", b"c2pa.actions", _hbox(b"bidb", hidden_png))
    cases = {
        "xmp then a jpeg": (box(b"uuid", xmp_uuid + packet + hidden_jpeg), [hidden_jpeg]),
        "xmp uuid holding a png": (box(b"uuid", xmp_uuid + hidden_png), [hidden_png]),
        "store that is a jpeg": (_c2pa_uuid(hidden_jpeg), [hidden_jpeg]),
        "store then a skip box": (_c2pa_uuid(_edit(claim, ingredient) + box(b"skip", hidden_png)),
                                  [claim, ingredient, hidden_png]),
        "png in an actions assertion": (_c2pa_uuid(_store(_manifest(b"urn:uuid:x", actions))), [hidden_png]),
        "jumb labelled other": (_c2pa_uuid(_edit(claim, ingredient) + _superbox(
            "6a736f6e00110010800000aa00389b71", b"other", _hbox(b"bidb", hidden_jpeg))),
                                [claim, ingredient, hidden_jpeg]),
    }
    for name, (uuid_box, expected) in cases.items():
        held = video_held(io.BytesIO(mp4 + uuid_box), "video/mp4", Settings())
        read = [found for found in held.boxed if found.data is not None]
        assert [hashlib.sha256(found.data or b"").hexdigest() for found in read] == \
            [hashlib.sha256(data).hexdigest() for data in expected], name
        carved = [found for found in read if found.name == b"in-a-box"]
        assert len(carved) == 1 and "beside what its reader reads" in held.in_boxes[0].note, name
