"""Pictures in an audio file's tags (an MP3's ID3 `APIC`, a FLAC's `PICTURE` block, an Ogg file's
`METADATA_BLOCK_PICTURE` comment): members of the audio file, matched against hash lists and read back; damaged
or hostile tags are said, and cost bounded work."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import jpeg_bytes

from tests.media_files import (
    ID3V1,
    MPEG_FRAMES,
    aiff,
    ape_tag,
    apic,
    appended_id3,
    asf,
    comments,
    flac,
    id3_tag,
    monkey,
    ogg,
    picture_block,
    picture_comment,
    riff_wave,
    syncsafe,
    wm_picture,
)
from vigie.cli import main
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.sources import audio_pictures
from vigie.sources.audio_pictures import audio_members
from vigie.sources.mediatype import sniff
from vigie.sources.members import ArchiveLimitError, Expansion
from vigie.sources.reopen import read_item_bytes


def _png(seed: int, size: tuple[int, int] = (96, 72)) -> bytes:
    out = io.BytesIO()
    draw_picture(seed, size).save(out, "PNG")
    return out.getvalue()


def _scan(tmp_path: Path, evidence: Path, known: list[bytes]) -> dict[str, dict]:  # type: ignore[type-arg]
    """A scan of `evidence` with a hash list of `known`'s MD5s; its report's items by path under `evidence`."""
    listing = tmp_path / "known.txt"
    listing.write_text("".join(hashlib.md5(data).hexdigest() + "\n" for data in known))
    case = tmp_path / "case"
    listed = ["--hashlist", str(listing)] if known else []  # a list of nothing is refused (exit 1)
    result = CliRunner().invoke(main, ["scan", str(evidence), "--case", str(case), "--workers", "1", *listed])
    assert result.exit_code == 0, result.output
    report = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["report", "--case", str(case), "--format", "json", "-o", str(report)])
    assert result.exit_code == 0, result.output
    return {item["path"].split("/evidence/", 1)[1]: item for item in json.loads(report.read_text())["items"]}


def _pictures(data: bytes, settings: Settings | None = None) -> list[tuple[bytes, bytes | None, str | None]]:
    members = audio_members(io.BytesIO(data), sniff(data[:512]), settings or Settings(), Expansion())
    return [(m.name, m.stream.read() if m.stream else None, m.error or m.name_problem) for m in members]


def test_cover_art_in_mp3_flac_and_ogg_tags_is_matched_and_read_back(tmp_path: Path) -> None:
    jpeg = jpeg_bytes(draw_picture(130, (96, 72)))
    png = _png(131)
    big = _png(132, (320, 240))  # larger than one Ogg page: its comment spans pages
    assert len(big) * 4 // 3 > 255 * 255  # as base64
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    files = {
        "v23.mp3": id3_tag(3, [(b"TIT2", b"\0a song"), (b"APIC", apic(jpeg))]) + MPEG_FRAMES,
        "v24-unsync.mp3": id3_tag(4, [(b"APIC", apic(jpeg, description="cœur".encode("utf-16"), encoding=1))],
                                  unsync=True) + MPEG_FRAMES,
        "v23-unsync.mp3": id3_tag(3, [(b"APIC", apic(jpeg))], unsync=True) + MPEG_FRAMES,
        "v22.mp3": id3_tag(2, [(b"PIC", b"\0JPG\x03cover\0" + jpeg)]) + MPEG_FRAMES,
        "song.flac": flac([(4, comments(b"TITLE=a song")), (6, picture_block(png))]),
        "id3-then.flac": id3_tag(3, [(b"TALB", b"\0an album")]) + flac([(6, picture_block(png))]),
        "song.ogg": ogg([b"\x01vorbis" + bytes(23), b"\x03vorbis" + comments(b"ARTIST=x", picture_comment(big))
                         + b"\x01", b"\x05vorbis" + bytes(30), bytes(4000)]),
        "song.opus": ogg([b"OpusHead\x01\x02" + bytes(9), b"OpusTags" + comments(picture_comment(png)),
                          bytes(500)]),
        "sound.wav": riff_wave(id3_tag(3, [(b"APIC", apic(jpeg))])),
        "sound.aiff": aiff(id3_tag(4, [(b"APIC", apic(png, mime=b"image/png"))])),
    }
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    with zipfile.ZipFile(evidence / "songs.zip", "w") as archive:  # read from memory, as any nested member
        archive.writestr("v24-unsync.mp3", files["v24-unsync.mp3"])
        archive.writestr("song.ogg", files["song.ogg"])
    items = _scan(tmp_path, evidence, [jpeg, png, big])
    expected = {"v23.mp3": ("picture-1.jpeg", jpeg), "v24-unsync.mp3": ("picture-1.jpeg", jpeg),
                "v23-unsync.mp3": ("picture-1.jpeg", jpeg), "v22.mp3": ("picture-1.jpg", jpeg),
                "song.flac": ("picture-1.png", png), "id3-then.flac": ("picture-1.png", png),
                "song.ogg": ("picture-1.png", big), "song.opus": ("picture-1.png", png),
                "sound.wav": ("picture-1.jpeg", jpeg), "sound.aiff": ("picture-1.png", png),
                "songs.zip!/v24-unsync.mp3": ("picture-1.jpeg", jpeg), "songs.zip!/song.ogg": ("picture-1.png", big)}
    for name, (member, picture) in expected.items():
        item = items[f"{name}!/{member}"]
        assert item["sha256"] == hashlib.sha256(picture).hexdigest(), name
        assert [match["signal"] for match in item["matches"]] == ["md5"], name
        assert item["pdq"], name
        assert read_item_bytes(str(evidence), f"{name}!/{member}", Settings(), 10**7) == picture, name
        assert items[name]["media_type"].startswith("audio/") and not items[name]["errors"], name
    assert [sniff(files[name][:512]) for name in ("song.ogg", "v23.mp3", "sound.wav", "sound.aiff")] == [
        "audio/ogg", "audio/mpeg", "audio/wav", "audio/aiff"]


def test_damaged_and_hostile_tags_are_said_and_cost_bounded_work() -> None:
    jpeg = jpeg_bytes(draw_picture(133, (64, 48)))
    link = _pictures(id3_tag(3, [(b"APIC", apic(b"http://example.invalid/a.jpg", mime=b"-->"))]))
    assert link[0][1] is None and "links to a picture elsewhere" in str(link[0][2])
    encrypted = id3_tag(3, [(b"APIC", apic(jpeg))])
    encrypted = encrypted[:10 + 8] + b"\x00\x40" + encrypted[10 + 10:]  # the frame's encryption flag
    assert "encrypted" in str(_pictures(encrypted)[0][2])
    cut = id3_tag(3, [(b"APIC", apic(jpeg))])
    cut = cut[:10 + 4] + struct.pack(">I", 10**6) + cut[10 + 8:]  # a frame larger than its tag
    assert "cut short" in str(_pictures(cut)[0][2])
    # an ID3 tag that claims 256 MiB in a small file: said, not a crash nor a hang
    lying = b"ID3\x03\x00\x00" + syncsafe((1 << 28) - 1) + b"APIC" + bytes(100)
    try:
        _pictures(lying)
        raise AssertionError("a tag past the file's end is said")
    except ValueError as exc:
        assert "cut short" in str(exc)
    # countless empty frames, or metadata blocks: stopped at a cap, said
    frames = b"TXXX" + bytes(6)
    many = b"ID3\x03\x00\x00" + syncsafe(len(frames) * 70_000) + frames * 70_000
    try:
        _pictures(many)
        raise AssertionError("the frame cap is said")
    except ArchiveLimitError as exc:
        assert "65,536 frames" in str(exc)
    blocks = flac([(1, b"")] * 5000)
    try:
        _pictures(blocks)
        raise AssertionError("the block cap is said")
    except ArchiveLimitError as exc:
        assert "4,096 FLAC metadata blocks" in str(exc)
    chunks = b"RIFF" + struct.pack("<I", 4 + 8 * 5000) + b"WAVE" + (b"junk" + bytes(4)) * 5000
    try:
        _pictures(chunks)
        raise AssertionError("the chunk cap is said")
    except ArchiveLimitError as exc:
        assert "4,096 chunks" in str(exc)
    small = Settings(max_nested_archive_bytes=100_000)
    try:
        _pictures(flac([(6, picture_block(bytes(200_000)))]), small)
        raise AssertionError("the memory cap is said")
    except ArchiveLimitError as exc:
        assert "max_nested_archive_bytes" in str(exc)
    # a comment count that lies ends with the block; damaged base64 is decoded as far as it goes, and said
    lies = comments(picture_comment(jpeg, b"image/jpeg"))
    lies = lies[:10] + struct.pack("<I", 10**9) + lies[14:]
    damaged = picture_comment(jpeg, b"image/jpeg")[:-3] + b"!"
    found = _pictures(flac([(4, lies), (4, comments(damaged))]))
    assert found[0][:2] == (b"picture-1.jpeg", jpeg) and found[1][0] == b"picture-2.jpeg"
    assert "base64 is damaged" in str(found[1][2])
    # an Ogg FLAC's metadata blocks are its header packets
    ogg_flac = ogg([b"\x7fFLAC\x01\x00\x00\x01fLaC" + b"\x00" + (34).to_bytes(3, "big") + bytes(34),
                    b"\x86" + len(picture_block(jpeg, b"image/jpeg")).to_bytes(3, "big")
                    + picture_block(jpeg, b"image/jpeg")])
    assert _pictures(ogg_flac) == [(b"picture-1.jpeg", jpeg, None)]
    # a Skeleton stream first: the tags are the next stream's, whose pages are interleaved with it
    pages = [ogg([b"fishead\0" + bytes(56)], serial=1), ogg([b"OpusHead\x01\x02" + bytes(9)], serial=2),
             ogg([bytes(10)], serial=1), ogg([b"OpusTags" + comments(picture_comment(jpeg, b"image/jpeg"))], serial=2)]
    assert _pictures(b"".join(pages)) == [(b"picture-1.jpeg", jpeg, None)]
    # a Theora video in Ogg is a video, decoded as one
    assert sniff(ogg([b"\x80theora" + bytes(40)])[:512]) == "video/ogg"


def test_compressed_frames_plain_v24_sizes_and_tags_one_after_another_are_read() -> None:
    jpeg = jpeg_bytes(draw_picture(134, (64, 48)))
    frame = apic(jpeg)
    packed = struct.pack(">I", len(frame)) + zlib.compress(frame)  # v2.3: the size inflated, then zlib
    compressed = b"APIC" + struct.pack(">IH", len(packed), 0x0080) + packed
    v23 = b"ID3\x03\x00\x00" + syncsafe(len(compressed)) + compressed
    itunes = b"APIC" + struct.pack(">IH", len(frame), 0) + frame + b"TIT2" + struct.pack(">IH", 3, 0) + b"\0ab"
    v24 = b"ID3\x04\x00\x00" + syncsafe(len(itunes)) + itunes  # a plain size where v2.4's is syncsafe
    assert len(frame) >= 0x80 and syncsafe(len(frame)) != struct.pack(">I", len(frame))
    found = _pictures(v23 + v24 + MPEG_FRAMES)
    assert found == [(b"picture-1.jpeg", jpeg, None), (b"picture-2.jpeg", jpeg, None)]


def test_a_zip_behind_a_file_read_by_its_own_structure_is_read_after_its_members(tmp_path: Path) -> None:
    """Audio, mail, pages, text and base64 are read by their own structure, and a zip may still be appended to
    them as to any file: its members follow the file's own, numbered after them (here a member of the same name
    as the cover art), in the scan, inside a zip too, and on reading back."""
    cover, hidden = _png(160), _png(161)
    behind = io.BytesIO()
    with zipfile.ZipFile(behind, "w") as archive:
        archive.writestr("picture-1.png", hidden)
    mp3 = id3_tag(3, [(b"APIC", apic(cover, b"image/png"))]) + MPEG_FRAMES + behind.getvalue()
    page = b"<!DOCTYPE html><html><body>nothing inline</body></html>\n" + behind.getvalue()
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "song.mp3").write_bytes(mp3)
    (evidence / "page.html").write_bytes(page)
    with zipfile.ZipFile(evidence / "music.zip", "w") as archive:
        archive.writestr("song.mp3", mp3)
    items = _scan(tmp_path, evidence, [hidden])
    for path in ("song.mp3!/picture-1.png!2", "page.html!/picture-1.png", "music.zip!/song.mp3!/picture-1.png!2"):
        assert items[path]["md5"] == hashlib.md5(hidden).hexdigest() and items[path]["matches"], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == hidden, path
    assert items["song.mp3!/picture-1.png"]["md5"] == hashlib.md5(cover).hexdigest()
    assert "a zip archive follows this file's own content" in str(items["song.mp3"]["errors"])


def test_an_id3v24_tag_with_a_footer_gives_its_last_picture() -> None:
    cover = _png(171)
    tag = id3_tag(4, [(b"TIT2", b"\0a song"), (b"APIC", apic(cover, b"image/png"))])
    body = tag[10:].rstrip(b"\0")  # no padding: a footer follows the last frame
    footer = b"3DI\x04\x00\x10" + syncsafe(len(body))
    mp3 = b"ID3\x04\x00\x10" + syncsafe(len(body)) + body + footer + MPEG_FRAMES
    assert _pictures(mp3) == [(b"picture-1.png", cover, None)]


def test_tags_after_the_sound_are_read(tmp_path: Path) -> None:
    """ID3v2.4 tags appended after the sound (found by their footer) and APE tags (at either end, their binary
    items a file name then the picture), past an ID3v1 and a Lyrics3 tag, in an MP3 with no tag in front too (typed
    by its frames), and in Monkey's Audio, WavPack and Musepack files; numbered after the tags in front."""
    front, back, ape = jpeg_bytes(draw_picture(180, (64, 48))), _png(181), _png(182)
    lyrics = b"LYRICSBEGIN" + b"IND00002" + b"00" + b"000021" + b"LYRICS200"
    files = {
        "appended.mp3": MPEG_FRAMES + appended_id3([(b"APIC", apic(back, b"image/png"))]) + ID3V1,
        "both-ends.mp3": id3_tag(3, [(b"APIC", apic(front))]) + MPEG_FRAMES
        + appended_id3([(b"APIC", apic(back, b"image/png"))]),
        "ape.mp3": MPEG_FRAMES + ape_tag([(b"Title", 0, b"x"), (b"Cover Art (Front)", 1, b"cover.png\0" + ape)])
        + lyrics + ID3V1,
        "monkey.ape": monkey(200) + ape_tag([(b"Cover Art (Back)", 1, b"b.png\0" + ape)], False),
        "pack.wv": b"wvpk" + struct.pack("<I", 300) + b"\x10\x04" + bytes(300)
        + ape_tag([(b"Cover Art (Front)", 1, b"c.png\0" + ape)]),
        "front-ape.mp3": ape_tag([(b"Cover Art (Front)", 1, b"c.png\0" + ape)]) + MPEG_FRAMES,
    }
    assert [sniff(data[:512]) for data in files.values()] == ["audio/mpeg"] * 3 + [
        "audio/x-ape", "audio/x-wavpack", "audio/mpeg"]
    assert _pictures(files["appended.mp3"]) == [(b"picture-1.png", back, None)]
    assert _pictures(files["both-ends.mp3"]) == [(b"picture-1.jpeg", front, None), (b"picture-2.png", back, None)]
    for name in ("ape.mp3", "monkey.ape", "pack.wv", "front-ape.mp3"):
        assert _pictures(files[name]) == [(b"picture-1.png", ape, None)], name
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    with zipfile.ZipFile(evidence / "music.zip", "w") as archive:
        archive.writestr("both-ends.mp3", files["both-ends.mp3"])
    items = _scan(tmp_path, evidence, [back, ape])
    for path, picture in (("appended.mp3!/picture-1.png", back), ("both-ends.mp3!/picture-2.png", back),
                          ("music.zip!/both-ends.mp3!/picture-2.png", back), ("ape.mp3!/picture-1.png", ape),
                          ("monkey.ape!/picture-1.png", ape)):
        assert items[path]["md5"] == hashlib.md5(picture).hexdigest() and items[path]["matches"], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == picture, path
    # a footer that lies is said; neither a frame sync alone nor one whose next frame is not there types a file
    lying = MPEG_FRAMES + ape_tag([(b"Cover Art (Front)", 1, b"c.png\0" + ape)])
    lying = lying[:-32 + 12] + struct.pack("<I", 10**6) + lying[-32 + 16:]
    try:
        _pictures(lying)
        raise AssertionError("an APE footer past the sound is said")
    except ValueError as exc:
        assert "more than lie after the sound" in str(exc)
    footer = MPEG_FRAMES + appended_id3([(b"APIC", apic(back, b"image/png"))])
    footer = footer[:-4] + syncsafe(len(footer) // 2)
    try:
        _pictures(footer)
        raise AssertionError("an ID3 footer whose header is not there is said")
    except ValueError as exc:
        assert "whose header is not where it says" in str(exc)
    with pytest.raises(ArchiveLimitError, match="more than 8 tags after the sound"):
        _pictures(MPEG_FRAMES + ape_tag([]) * 20)
    assert sniff(b"\xff\xfb\x90\x00" + bytes(600)) == "application/octet-stream"
    assert sniff((b"\xff\xfb\x90\x00" + bytes(413)) + b"\xff\xfb\x94\x00")[:4] != "audio"  # another sample rate


def test_a_flac_behind_padding_its_id3_tag_does_not_count_is_read() -> None:
    png = _png(183)
    tag = id3_tag(3, [(b"TALB", b"\0an album")])
    found = _pictures(tag + bytes(3000) + flac([(6, picture_block(png))]))
    assert found == [(b"picture-1.png", png, None)]
    # a FLAC's signature in an MP3's sound, with no STREAMINFO after it, is no FLAC
    assert _pictures(tag + bytes(100) + b"fLaC" + bytes(100) + MPEG_FRAMES) == []


def test_the_streams_of_an_ogg_after_its_first_are_read() -> None:
    """A chained Ogg (a stream after the first ends) and a multiplexed one (pages of streams interleaved)."""
    first, second = jpeg_bytes(draw_picture(184, (64, 48))), _png(185)
    vorbis = [b"\x01vorbis" + bytes(23), b"\x03vorbis" + comments(b"ARTIST=x") + b"\x01", b"\x05vorbis" + bytes(30),
              bytes(3000)]
    opus = [b"OpusHead\x01\x02" + bytes(9), b"OpusTags" + comments(picture_comment(second)), bytes(500)]
    chained = ogg(vorbis, serial=1) + ogg(opus, serial=2)
    assert _pictures(chained) == [(b"picture-1.png", second, None)]
    tagged = [b"\x01vorbis" + bytes(23), b"\x03vorbis" + comments(picture_comment(first, b"image/jpeg")) + b"\x01"]
    pages = [ogg(tagged[:1], serial=1), ogg(opus[:1], serial=2), ogg(tagged[1:], serial=1), ogg(opus[1:], serial=2)]
    assert _pictures(b"".join(pages)) == [(b"picture-1.jpeg", first, None), (b"picture-2.png", second, None)]
    # the pages walked are capped
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(audio_pictures, "_MOST_PAGES", 1)
        with pytest.raises(ArchiveLimitError, match="more than 1 Ogg pages"):
            _pictures(chained)
    # bytes that are no page before a stream chained: the stream is read
    assert _pictures(ogg(vorbis, serial=1) + b"junk" + ogg(opus, serial=2)) == [(b"picture-1.png", second, None)]


def test_a_wma_cover_art_is_read_in_both_places_asf_keeps_it(tmp_path: Path) -> None:
    small, large = jpeg_bytes(draw_picture(186, (64, 48))), _png(187, (320, 240))
    assert len(large) >= 1 << 16  # too large for the Extended Content Description's 16-bit lengths
    wma = asf(wm_picture(small, "image/jpeg"), wm_picture(large))
    assert sniff(wma[:512]) == "application/vnd.ms-asf"
    assert _pictures(wma) == [(b"picture-1.jpeg", small, None), (b"picture-2.png", large, None)]
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "song.wma").write_bytes(wma)
    items = _scan(tmp_path, evidence, [large])
    assert items["song.wma!/picture-2.png"]["matches"] and not items["song.wma"]["errors"]
    assert read_item_bytes(str(evidence), "song.wma!/picture-2.png", Settings(), 10**7) == large
    cut = asf(wm_picture(small, "image/jpeg")[:-100], wm_picture(large))
    assert "cut short" in str(_pictures(cut)[0][2])


def test_what_follows_a_wav_body_is_read_as_its_tags_and_pictures(tmp_path: Path) -> None:
    """Tags and pictures appended after a WAV's or an AIFF's body (past the size its header declares), which no
    player reads: an ID3v2.3 or APE tag read as an MP3's (numbered after the chunks' pictures), raw picture bytes
    read as the member after-the-end (and read back), stray bytes said; the chunks walked no further."""
    inner, tagged, raw, ape = _png(190), _png(191), _png(192), _png(193)
    base = riff_wave(id3_tag(3, [(b"APIC", apic(inner, b"image/png"))]))
    files = {
        "id3.wav": base + id3_tag(3, [(b"APIC", apic(tagged, b"image/png"))]),
        "ape.wav": base + ape_tag([(b"Cover Art (Front)", 1, b"c.png\0" + ape)]),
        "raw.wav": base + raw,
        "raw.aiff": aiff(id3_tag(3, [(b"TIT2", b"\0t")])) + raw,
    }
    assert _pictures(files["id3.wav"]) == [(b"picture-1.png", inner, None), (b"picture-2.png", tagged, None)]
    assert _pictures(files["ape.wav"]) == [(b"picture-1.png", inner, None), (b"picture-2.png", ape, None)]
    found = _pictures(files["raw.wav"])
    assert [(name, data) for name, data, _ in found] == [(b"picture-1.png", inner), (b"after-the-end", raw)]
    assert "after the audio's own end" in str(found[1][2])
    assert [(name, data) for name, data, _ in _pictures(files["raw.aiff"])] == [(b"after-the-end", raw)]
    with pytest.raises(ValueError, match="nothing in them starts like a picture"):
        _pictures(base + b"\x01" * 100)
    assert _pictures(base + bytes(300)) == [(b"picture-1.png", inner, None)]  # padding: nothing to say
    unknown = base[:4] + bytes(4) + base[8:]  # a streaming writer's RIFF size: its chunks walked to the file's end
    assert _pictures(unknown) == [(b"picture-1.png", inner, None)]
    short = base[:4] + struct.pack("<I", len(base) - 20) + base[8:]  # its last chunk runs over the body's end
    assert _pictures(short + raw)[:1] == [(b"picture-1.png", inner, None)] and len(_pictures(short + raw)) == 2
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    items = _scan(tmp_path, evidence, [tagged, raw, ape])
    for path, picture in (("id3.wav!/picture-2.png", tagged), ("ape.wav!/picture-2.png", ape),
                          ("raw.wav!/after-the-end", raw), ("raw.aiff!/after-the-end", raw)):
        assert items[path]["md5"] == hashlib.md5(picture).hexdigest() and items[path]["matches"], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == picture, path


def test_what_follows_an_mp3s_last_frame_is_read_or_said(tmp_path: Path) -> None:
    """An MP3's frames are walked by their headers to the sound's end: an ID3v2.3 tag there (it has no footer to
    find it by) is read as a tag, a picture appended after the last frame (before the tags after the sound) as the
    member after-the-end, and read back; other bytes there are said; an MP3 that ends with its frames says
    nothing."""
    raw, tagged = _png(195), _png(196)
    files = {
        "raw.mp3": id3_tag(3, [(b"TIT2", b"\0t")]) + MPEG_FRAMES + raw + ID3V1,
        "v23.mp3": MPEG_FRAMES + id3_tag(3, [(b"APIC", apic(tagged, b"image/png"))]),
    }
    assert [(name, data) for name, data, _ in _pictures(files["raw.mp3"])] == [(b"after-the-end", raw)]
    assert _pictures(files["v23.mp3"]) == [(b"picture-1.png", tagged, None)]
    assert _pictures(MPEG_FRAMES + ID3V1) == [] and _pictures(MPEG_FRAMES[:-100]) == []
    with pytest.raises(ValueError, match=r"after the audio.s own end .* nothing in them starts like a picture"):
        _pictures(MPEG_FRAMES + b"\x01" * 100)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    items = _scan(tmp_path, evidence, [raw, tagged])
    for path, picture in (("raw.mp3!/after-the-end", raw), ("v23.mp3!/picture-1.png", tagged)):
        assert items[path]["md5"] == hashlib.md5(picture).hexdigest() and items[path]["matches"], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == picture, path


def test_a_picture_appended_after_a_flacs_sound_is_read(tmp_path: Path) -> None:
    """A picture after a FLAC's last frame (padding between) is read as the member after-the-end, and read back,
    one cut short too; a FLAC that ends with its sound says nothing. Where its last frame is damaged, its end is
    not found: a picture that ends where the sound does and starts in its last MiB is read all the same, a PNG's
    end whose start is further back is said, and nothing found there says the sound's end was not found."""
    raw, jpeg = _png(197), jpeg_bytes(draw_picture(198, (64, 48)))
    sound = flac([(4, comments(b"A=b"))]) + bytes(500)
    files = {"raw.flac": sound + raw, "tagged.flac": sound + jpeg + ape_tag([(b"Title", 0, b"x")]) + ID3V1}
    assert [(name, data) for name, data, _ in _pictures(files["raw.flac"])] == [(b"after-the-end", raw)]
    assert [(name, data) for name, data, _ in _pictures(files["tagged.flac"])] == [(b"after-the-end", jpeg)]
    assert _pictures(sound) == []
    assert [(name, data) for name, data, _ in _pictures(sound + raw[:-1])] == [(b"after-the-end", raw[:-1])]
    behind_id3 = id3_tag(3, [(b"TIT2", b"\0t")]) + sound + raw  # typed audio/mpeg, no MPEG frame in it
    assert [(name, data) for name, data, _ in _pictures(behind_id3)] == [(b"after-the-end", raw)]
    damaged = sound[:-501] + b"\x00" + bytes(500)  # the last frame's CRC-16 no longer holds
    found = _pictures(damaged + raw)
    assert [(name, data) for name, data, _ in found] == [(b"after-the-end", raw)]
    assert "the sound's end not found" in str(found[0][2])
    with pytest.raises(ValueError, match="ends like a PNG"):
        _pictures(damaged + raw[:33] + bytes(1 << 20) + raw[-12:])  # a PNG's end, its start more than 1 MiB before
    with pytest.raises(ValueError, match="the sound's end not found; a picture appended after the sound is looked for"):
        _pictures(damaged)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    items = _scan(tmp_path, evidence, [raw, jpeg])
    for path, picture in (("raw.flac!/after-the-end", raw), ("tagged.flac!/after-the-end", jpeg)):
        assert items[path]["md5"] == hashlib.md5(picture).hexdigest() and items[path]["matches"], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == picture, path
