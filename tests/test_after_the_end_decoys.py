"""What follows a picture's own end, made hostile again: a decoy whose end is not found before a picture cut short,
a decoy whose first bytes wrap the picture (its walked end at the picture's or inside it), a camera's picture
appended with its padding or its short trailer: the exact picture is always among the members, and said."""

from __future__ import annotations

import hashlib
import io
import struct

from vigie.demo.seizure import draw_picture
from vigie.sources.trailing import trailing, trailing_after

_GIF_DECOY = b"GIF89a\x10\x00\x10\x00\x00\x00\x00"  # a signature and a screen descriptor: no GIF
_PNG_DECOY = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"  # a signature and a chunk's header: no PNG


def _picture(kind: str, seed: int) -> bytes:
    out = io.BytesIO()
    draw_picture(seed, (120, 90)).save(out, kind)
    return out.getvalue()


def _hashes(data: bytes) -> list[str]:
    after = trailing(data, "image/png")
    assert after is not None
    return [hashlib.sha256(member).hexdigest() for member in after.members]


def test_a_decoy_whose_end_is_not_found_hides_no_picture_cut_short_after_it() -> None:
    """A decoy whose end is not found, then a picture cut short (a JPEG without its end marker, a PNG without its
    IEND): the picture is read as it is, to the file's end, and said."""
    cover = _picture("PNG", 1)
    cut_short = b"\xff\xd8\xff\x00" * 9 + _picture("JPEG", 70)[:-2]  # past the 8 starts read each to the end: named
    after = trailing(cover + cut_short, "image/png")
    assert after is not None and len(after.members) == 8 and "2 more starts whose own end is not found" in after.note
    jpeg, png = _picture("JPEG", 71)[:-2], _picture("PNG", 72)[:-12]
    for decoy, cut in ((_GIF_DECOY, jpeg), (_PNG_DECOY, png)):
        assert hashlib.sha256(cut).hexdigest() in _hashes(cover + decoy + cut)
        after = trailing(cover + decoy + cut, "image/png")
        assert after is not None and f"at byte {len(cover) + len(decoy):,} whose own end is not found" in after.note


def test_a_decoy_that_wraps_the_picture_does_not_change_its_hash() -> None:
    """A decoy whose first bytes hold the picture (a JPEG's comment segment, a PNG's chunk, a RIFF's size that
    ends inside it): the picture, exactly its bytes, is a member too, and said."""
    cover = _picture("PNG", 2)
    jpeg, png = _picture("JPEG", 73), _picture("PNG", 74)
    riff = b"RIFF" + struct.pack("<I", 4 + 300) + b"WEBPVP8 " + struct.pack("<I", 288)
    for decoy, hidden in ((b"\xff\xd8\xff\xfe\x00\x04", jpeg), (b"\x89PNG\r\n\x1a\n\0\0\0\x04prVt", png),
                          (riff, jpeg)):
        assert hashlib.sha256(hidden).hexdigest() in _hashes(cover + decoy + hidden)
        after = trailing(cover + decoy + hidden, "image/png")
        assert after is not None and f"at byte {len(cover) + len(decoy):,}, inside the one before" in after.note
        for what in ("video", "audio"):  # the same after a video's end, a sound's
            after = trailing_after(decoy + hidden, 1000, what)
            assert after is not None and hidden in after.members


def test_a_picture_appended_with_its_padding_or_its_trailer_is_read_with_them_too() -> None:
    """A camera's picture padded after its end (zeros) or followed by a phone's short trailer, appended after
    another picture: read as its own bytes, and with what follows them (its file's bytes, which a list holds)."""
    cover, camera = _picture("PNG", 3), _picture("JPEG", 75)
    for tail in (bytes(2000), b"SEFH" + bytes(8) + b"SEFT"):
        hashes = _hashes(cover + camera + tail)
        assert hashes[0] == hashlib.sha256(camera).hexdigest()
        assert hashlib.sha256(camera + tail).hexdigest() in hashes
        after = trailing(cover + camera + tail, "image/png")
        assert after is not None and f"with the {len(tail):,} bytes that follow it" in after.note


def test_decoys_too_small_to_be_pictures_use_up_no_cap() -> None:
    """More decoys whose end is found than the members read (a GIF of a screen descriptor and its trailer, an MP4
    of an `ftyp` and a `free` box), but too small to be a picture or a video: not read, said, and the picture
    after them is read, exactly its bytes."""
    cover, hidden = _picture("PNG", 4), _picture("JPEG", 76)
    gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00\x3b"
    mp4 = struct.pack(">I", 24) + b"ftypisom" + bytes(4) + b"isommp41" + struct.pack(">I", 8) + b"free"
    for decoy in (gif, mp4):
        after = trailing(cover + decoy * 8 + hidden, "image/png")
        assert after is not None and after.members == (hidden,)
        assert "too few for a picture or a video" in after.note
