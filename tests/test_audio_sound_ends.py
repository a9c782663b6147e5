"""What follows an audio file's sound, found where its frames say the sound ends: a FLAC's last frame (its
header's CRC-8, its samples reaching the STREAMINFO's total, its CRC-16), an Ogg's last page, an AAC's ADTS
frames; pictures, tags and zips there are read, whatever their size, and hostile frames cost bounded work."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from tests.media_files import (
    ID3V1,
    MPEG_FRAMES,
    adts,
    ape_tag,
    apic,
    appended_id3,
    comments,
    flac_sound,
    id3_tag,
    monkey,
    musepack,
    ogg,
    picture_block,
    picture_comment,
    wavpack,
)
from vigie.cli import main
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.sources.audio_pictures import audio_members
from vigie.sources.mediatype import sniff
from vigie.sources.members import ArchiveLimitError, Expansion
from vigie.sources.reopen import read_item_bytes

MiB = 1 << 20


def _noise(kind: str, size: tuple[int, int], seed: int) -> bytes:
    """A picture of coloured noise (it compresses to little, so it is large), in `kind`."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    out = io.BytesIO()
    options = {"JPEG": {"quality": 97}, "WEBP": {"lossless": True}}.get(kind, {})
    (image.convert("P") if kind == "GIF" else image).save(out, kind, **options)
    return out.getvalue()


def _png(seed: int) -> bytes:
    out = io.BytesIO()
    draw_picture(seed, (96, 72)).save(out, "PNG")
    return out.getvalue()


def _found(data: bytes, media_type: str | None = None) -> list[tuple[bytes, str | None]]:
    """Each member the audio file gives: its name and its bytes' SHA-256."""
    members = audio_members(io.BytesIO(data), media_type or sniff(data[:512]), Settings(), Expansion())
    return [(m.name, hashlib.sha256(m.stream.read()).hexdigest() if m.stream else m.error) for m in members]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _scan(tmp_path: Path, files: dict[str, bytes], known: list[bytes]) -> dict[str, dict]:  # type: ignore[type-arg]
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name, data in files.items():
        (evidence / name).write_bytes(data)
    listing = tmp_path / "known.txt"
    listing.write_text("".join(hashlib.md5(data).hexdigest() + "\n" for data in known))
    case, report = tmp_path / "case", tmp_path / "report.json"
    result = CliRunner().invoke(main, ["scan", str(evidence), "--case", str(case), "--workers", "1",
                                       "--hashlist", str(listing)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["report", "--case", str(case), "--format", "json", "-o", str(report)])
    assert result.exit_code == 0, result.output
    return {item["path"].split("/evidence/", 1)[1]: item for item in json.loads(report.read_text())["items"]}


def test_a_large_picture_appended_after_a_flacs_sound_is_read(tmp_path: Path) -> None:
    """A JPEG, PNG, GIF or WebP appended after a FLAC's last frame, starting more than 1 MiB before the file's
    end: the last frame is found by its header and CRC-16, and what follows read as the member after-the-end,
    exactly the picture's bytes (before tags after it, behind an ID3 tag in front too), and read back."""
    pictures = {"JPEG": _noise("JPEG", (1200, 1000), 1), "PNG": _noise("PNG", (720, 560), 2),
                "GIF": _noise("GIF", (1300, 1000), 3), "WEBP": _noise("WEBP", (720, 560), 4)}
    assert all(len(picture) > MiB for picture in pictures.values())
    sound = flac_sound(60, blocks=((4, comments(b"TITLE=a song")),))
    for kind, picture in pictures.items():
        assert _found(sound + picture) == [(b"after-the-end", _sha(picture))], kind
    tagged = sound + pictures["JPEG"] + ape_tag([(b"Title", 0, b"x")]) + ID3V1
    assert _found(tagged) == [(b"after-the-end", _sha(pictures["JPEG"]))]
    behind_id3 = id3_tag(3, [(b"TIT2", b"\0t")]) + sound + pictures["GIF"]  # typed audio/mpeg
    assert sniff(behind_id3[:512]) == "audio/mpeg"
    assert _found(behind_id3) == [(b"after-the-end", _sha(pictures["GIF"]))]
    assert _found(sound) == [] and _found(sound + ID3V1) == []  # a FLAC that ends with its sound says nothing
    items = _scan(tmp_path, {"song.flac": sound + pictures["PNG"]}, [pictures["PNG"]])
    member = items["song.flac!/after-the-end"]
    assert member["sha256"] == _sha(pictures["PNG"]) and member["matches"]
    assert read_item_bytes(str(tmp_path / "evidence"), "song.flac!/after-the-end", Settings(), 10**8) == \
        pictures["PNG"]


def test_an_id3v23_tag_after_a_flacs_sound_is_read(tmp_path: Path) -> None:
    """An ID3v2.3 tag appended after a FLAC's last frame (it has no footer to find it by from the file's end):
    its APIC pictures are members, numbered after the FLAC's own; a picture after it is read too."""
    cover, hidden, raw = _png(301), _png(302), _noise("JPEG", (1200, 1000), 5)
    sound = flac_sound(30, blocks=((6, picture_block(cover)),))
    tag = id3_tag(3, [(b"TIT2", b"\0t"), (b"APIC", apic(hidden, b"image/png"))])
    assert _found(sound + tag) == [(b"picture-1.png", _sha(cover)), (b"picture-2.png", _sha(hidden))]
    assert _found(sound + tag + raw + ID3V1) == [(b"picture-1.png", _sha(cover)), (b"picture-2.png", _sha(hidden)),
                                                 (b"after-the-end", _sha(raw))]
    items = _scan(tmp_path, {"song.flac": sound + tag}, [hidden])
    assert items["song.flac!/picture-2.png"]["sha256"] == _sha(hidden) and items["song.flac!/picture-2.png"]["matches"]
    assert read_item_bytes(str(tmp_path / "evidence"), "song.flac!/picture-2.png", Settings(), 10**7) == hidden


def test_what_follows_a_monkeys_audio_wavpack_or_musepack_sound_is_read() -> None:
    """Monkey's Audio's descriptor says its sound's length, WavPack's blocks and Musepack SV8's packets are walked
    by theirs: a large picture after the sound is the member after-the-end, an ID3v2.3 tag's pictures are members;
    where the structure cannot be checked (Musepack SV7, lengths past the file's end), that is said."""
    raw, cover = _noise("GIF", (1300, 1000), 8), _png(308)
    tag = id3_tag(3, [(b"APIC", apic(cover, b"image/png"))])
    for sound in (monkey(5000), wavpack(30), musepack(20)):
        kind = sniff(sound[:512])
        assert kind in ("audio/x-ape", "audio/x-wavpack", "audio/x-musepack")
        assert _found(sound + raw + ape_tag([(b"Title", 0, b"x")])) == [(b"after-the-end", _sha(raw))], kind
        assert _found(sound + tag + raw) == [(b"picture-1.png", _sha(cover)), (b"after-the-end", _sha(raw))], kind
        assert _found(sound) == [] and _found(sound + bytes(100)) == [], kind
    sv7 = b"MP+\x17" + bytes(2000)
    with pytest.raises(ValueError, match="Musepack SV7 file, whose bit-packed frames are not walked"):
        _found(sv7 + raw)
    with pytest.raises(ValueError, match=r"past where it ends .* the sound.s end not found"):
        _found(monkey(5000)[:3000])


def test_what_follows_an_oggs_last_page_is_read(tmp_path: Path) -> None:
    """Once every stream of an Ogg has ended (its last page flagged so), what follows is no page missing: a
    picture there is the member after-the-end, an ID3 tag's pictures are members, a zip's members are read."""
    cover, tagged = _png(303), _png(304)
    raw = _noise("PNG", (720, 560), 6)
    song = ogg([b"OpusHead\x01\x02" + bytes(9), b"OpusTags" + comments(picture_comment(cover)), bytes(500)],
               ended=True)
    assert _found(song + raw) == [(b"picture-1.png", _sha(cover)), (b"after-the-end", _sha(raw))]
    assert _found(song + id3_tag(3, [(b"APIC", apic(tagged, b"image/png"))]) + raw + ID3V1) == [
        (b"picture-1.png", _sha(cover)), (b"picture-2.png", _sha(tagged)), (b"after-the-end", _sha(raw))]
    assert _found(song + bytes(100)) == [(b"picture-1.png", _sha(cover))]  # padding says nothing
    with pytest.raises(ValueError, match=r"after the audio.s own end .* nothing in them starts like a picture"):
        _found(song + b"\x01" * 100)
    chained = ogg([b"OpusHead\x01\x02" + bytes(9), b"OpusTags" + comments(picture_comment(tagged))], serial=2)
    assert _found(song + b"junk" + chained) == [(b"picture-1.png", _sha(cover)), (b"picture-2.png", _sha(tagged))]
    behind = io.BytesIO()
    with zipfile.ZipFile(behind, "w") as archive:
        archive.writestr("hidden.png", tagged)
    items = _scan(tmp_path, {"raw.ogg": song + raw, "zip.ogg": song + behind.getvalue()}, [raw, tagged])
    for path, picture in (("raw.ogg!/after-the-end", raw), ("zip.ogg!/hidden.png", tagged)):
        assert items[path]["sha256"] == _sha(picture) and items[path]["matches"], path
        assert read_item_bytes(str(tmp_path / "evidence"), path, Settings(), 10**7) == picture, path


def test_aac_in_adts_frames_is_typed_and_what_follows_its_frames_read(tmp_path: Path) -> None:
    """AAC in ADTS frames with no tag in front is typed by its frames, walked to its sound's end: a picture
    appended after them is the member after-the-end; tags after the sound are read as an MP3's."""
    raw, back, ape = _noise("JPEG", (1200, 1000), 7), _png(305), _png(306)
    sound = adts(40)
    files = {
        "raw.aac": sound + raw + ID3V1,
        "v24.aac": sound + appended_id3([(b"APIC", apic(back, b"image/png"))]),
        "ape.aac": sound + ape_tag([(b"Cover Art (Front)", 1, b"c.png\0" + ape)]) + ID3V1,
        "v23.aac": sound + id3_tag(3, [(b"APIC", apic(back, b"image/png"))]),
    }
    assert {sniff(data[:512]) for data in files.values()} == {"audio/aac"}
    assert _found(files["raw.aac"]) == [(b"after-the-end", _sha(raw))]
    assert _found(files["v24.aac"]) == [(b"picture-1.png", _sha(back))]
    assert _found(files["ape.aac"]) == [(b"picture-1.png", _sha(ape))]
    assert _found(files["v23.aac"]) == [(b"picture-1.png", _sha(back))]  # no footer finds it: read forward
    assert _found(sound) == [] and _found(sound[:-50]) == []  # its last frame cut short: nothing to say
    # a frame sync alone, or a frame whose next is of another stream, types nothing
    assert sniff(sound[:7] + bytes(600))[:5] != "audio"
    assert sniff(sound[:207] + sound[:2] + b"\x60" + sound[3:207])[:5] != "audio"  # another sample rate
    items = _scan(tmp_path, {"raw.aac": files["raw.aac"]}, [raw])
    assert items["raw.aac"]["media_type"] == "audio/aac"
    assert items["raw.aac!/after-the-end"]["sha256"] == _sha(raw) and items["raw.aac!/after-the-end"]["matches"]
    assert read_item_bytes(str(tmp_path / "evidence"), "raw.aac!/after-the-end", Settings(), 10**8) == raw


def test_an_unsynchronised_id3v23_tag_after_an_mp3s_frames_is_read_as_a_tag() -> None:
    """An ID3v2.3 tag after an MP3's last frame, unsynchronised (a zero byte after each 0xFF that could pass for
    a frame sync): read as a tag, its picture's bytes restored, not looked for by its signature."""
    cover = _noise("JPEG", (300, 200), 9)
    tag = id3_tag(3, [(b"APIC", apic(cover))], unsync=True)
    assert cover not in tag
    assert _found(MPEG_FRAMES + tag + ID3V1) == [(b"picture-1.jpeg", _sha(cover))]


def test_hostile_frames_cost_bounded_work() -> None:
    """Bytes of 0xFF, countless frame syncs, a last frame's header repeated whose CRC-16 holds nowhere, frames
    claiming the largest length, a million tiny frames: each ends in bounded work, what could not be checked
    said."""
    sound = flac_sound(3)
    last = sound.rindex(b"\xff\xf8")
    with pytest.raises(ValueError, match=r"no last frame of the FLAC.s sound .* the sound.s end not found"):
        _found(sound[:last] + b"\xff" * (3 * MiB))
    with pytest.raises(ValueError, match="more than 65,536 FLAC frame syncs"):
        _found(sound + b"\xff\xf8" * MiB)
    header = sound[last:last + 9]  # the last frame's header, CRC-8 and all, and no frame after it
    with pytest.raises(ValueError, match="4 headers of the FLAC's last frame"):
        _found(sound[:last] + (header + b"\x01" * 40) * 50_000)
    assert _found(b"\xff" * (2 * MiB), "audio/aac") == []
    assert _found(b"\xff" * (2 * MiB), "audio/mpeg") == []
    longest = bytes([0xFF, 0xF1, 0x50, 0x83, 0xFF, 0xFF, 0xFC])  # 8,191 bytes claimed, the most 13 bits say
    assert _found(longest * 100, "audio/aac") == []  # runs past the file's end: cut short, nothing after it
    tiny = bytes([0xFF, 0xF1, 0x50, 0x80, 0x00, 0xFF, 0xFC])  # 7 bytes: a header alone
    assert sniff(tiny * 100) == "audio/aac"
    assert _found(tiny * 1_000_000 + _png(307)) == [(b"after-the-end", _sha(_png(307)))]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("vigie.sources.audio_pictures._MOST_FRAMES", 1000)
        with pytest.raises(ArchiveLimitError, match="more than 1,000 ADTS frames"):
            _found(tiny * 2000)
