"""Images built to stall or blind a scan: XMP bait, PNG text-chunk bombs, pictures on later pages or frames.
Every fixture is drawn here (vigie.demo.seizure.draw_picture) and kept small; the bombs are built in memory."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from conftest import jpeg_bytes
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.exports.report import render
from vigie.matching.list_import import import_hash_list
from vigie.records import PROBLEM
from vigie.scan.pipeline import run_scan
from vigie.signals.pdq import pdq_from_image
from vigie.signals.png_chunks import Readable, readable_png
from vigie.signals.provenance.metadata import xmp_findings
from vigie.signals.thumbnails import blurred_thumbnail
from vigie.store.sqlite import open_case

SRC = Path(__file__).resolve().parents[1] / "src"
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
       b'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/>'
       b'</rdf:RDF></x:xmpmeta>')
BAIT = b"<x:xmpmeta" * ((8 << 20) // 10)  # 8 MiB of openings that never close


def _provenance_within(path: Path, seconds: int = 60) -> dict[str, object]:
    """`vigie provenance` on one file in a child process. The old XMP regex needed hours on 8 MiB of bait;
    a linear scan needs well under a second, so the generous limit only catches the quadratic case."""
    command = [sys.executable, "-m", "vigie.cli", "provenance", "--no-watermarks", "--no-detector", str(path)]
    env = os.environ | {"PYTHONPATH": str(SRC)}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds, env=env, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"reading {path.name} took more than {seconds} s: the XMP scan is not linear")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _jpeg(seed: int, xmp: bytes | None = None) -> bytes:
    out = io.BytesIO()
    draw_picture(seed, (320, 240)).save(out, "JPEG", quality=90, **({"xmp": xmp} if xmp else {}))
    return out.getvalue()


def test_xmp_bait_after_a_photo_is_read_in_linear_time(tmp_path: Path) -> None:
    bait = tmp_path / "bait.jpg"
    bait.write_bytes(_jpeg(1, XMP) + BAIT)  # viewers ignore what follows the JPEG's end
    result = _provenance_within(bait)
    assert [error.split(":")[0] for error in result["errors"]] == ["not-examined"]  # type: ignore[attr-defined]
    assert "after the picture's own end" in result["errors"][0]  # type: ignore[index]
    assert result["ai"]["verdict"] == "ai-provenance"  # type: ignore[index]


def test_a_packet_behind_the_bait_is_still_found(tmp_path: Path) -> None:
    bait = tmp_path / "hidden.jpg"
    bait.write_bytes(_jpeg(2) + BAIT + XMP)
    result = _provenance_within(bait)
    kinds = [s["kind"] for s in result["ai"]["signals"]]  # type: ignore[index]
    assert "iptc-digital-source-type" in kinds


def test_xmp_examined_is_capped_and_the_cap_is_said() -> None:
    padding = b"<rdf:Description/>" * ((5 << 20) // 18)
    findings = xmp_findings(XMP[:-len(b"</x:xmpmeta>")] + padding + b"</x:xmpmeta>")
    assert [f.kind for f in findings] == ["xmp-not-read", "iptc-digital-source-type"]
    assert findings[0].strength == PROBLEM


def test_xmp_descriptions_and_element_values() -> None:
    job = "Job ID: 0123abcd-0123-4567-89ab-0123456789ab"
    packet = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
              + job.encode() + b"</rdf:li></rdf:Alt></dc:description><Iptc4xmpExt:DigitalSourceType>\n"
              b"  http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture </Iptc4xmpExt:DigitalSourceType>"
              b"</x:xmpmeta>")
    found = {(f.kind, f.value if f.kind != "generator-metadata" else None) for f in xmp_findings(packet)}
    assert found == {("generator-metadata", None), ("iptc-digital-source-type", "digitalCapture")}


def test_field_bait_inside_a_packet_is_linear(tmp_path: Path) -> None:
    # many openings of a field with no end, then the real field: read once, never restarted at each opening
    opening = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    bait = tmp_path / "fields.jpg"
    bait.write_bytes(_jpeg(3) + opening + b"<dc:description>" * 100_000 + b"DigitalSourceType>" * 100_000
                     + XMP[len(opening):])
    kinds = [s["kind"] for s in _provenance_within(bait)["ai"]["signals"]]  # type: ignore[index]
    assert kinds == ["iptc-digital-source-type"]


# --- PNG ancillary chunks --------------------------------------------------------------------------------

def _chunk(kind: bytes, body: bytes, crc: int | None = None) -> bytes:
    checksum = zlib.crc32(kind + body) if crc is None else crc
    return len(body).to_bytes(4, "big") + kind + body + checksum.to_bytes(4, "big")


def _png_with(picture: Image.Image, chunk: bytes, after_pixels: bool = False) -> bytes:
    """A PNG of `picture` with `chunk` inserted before its first IDAT, or after its last one."""
    out = io.BytesIO()
    picture.save(out, "PNG")
    data = out.getvalue()
    at = data.rindex(b"IEND") - 4 if after_pixels else data.index(b"IDAT") - 4
    return data[:at] + chunk + data[at:]


INFLATES = zlib.compress(b"A" * (PngImagePlugin.MAX_TEXT_CHUNK + 1), 9)  # ~1 KB that inflates past the limit
BOMBS = {
    "ztxt-before.png": (_chunk(b"zTXt", b"Comment\0\0" + INFLATES), False, "zTXt chunk 'Comment'"),
    "ztxt-after.png": (_chunk(b"zTXt", b"Comment\0\0" + INFLATES), True, "zTXt chunk 'Comment'"),
    "iccp.png": (_chunk(b"iCCP", b"ICC Profile\0\0" + INFLATES), False, "iCCP chunk 'ICC Profile'"),
    "itxt.png": (_chunk(b"iTXt", b"XML:com.adobe.xmp\0\1\0\0\0" + INFLATES), False, "iTXt chunk"),
    "bad-crc.png": (_chunk(b"tEXt", b"Title\0hello", crc=1), False, "bad checksum"),
}


def test_png_chunk_bombs_are_refused_by_pillow_itself() -> None:
    # the premise: Pillow alone calls each of these corrupt, which hid the picture from PDQ
    for chunk, after, _ in BOMBS.values():
        with pytest.raises((ValueError, SyntaxError, UnidentifiedImageError)):
            Image.open(io.BytesIO(_png_with(draw_picture(1, (64, 48)), chunk, after))).load()


def test_readable_png_leaves_out_only_the_offending_chunk() -> None:
    picture = draw_picture(2, (64, 48))
    clean = _png_with(picture, _chunk(b"tEXt", b"Title\0kept"))
    bomb = _png_with(picture, _chunk(b"tEXt", b"Title\0kept") + BOMBS["iccp.png"][0])
    readable = readable_png(bomb)
    assert readable.data == clean, "every other chunk is copied byte for byte, CRCs intact"
    assert len(readable.notes) == 1 and "iCCP chunk 'ICC Profile'" in readable.notes[0]
    assert readable_png(clean) == Readable(clean)
    with Image.open(io.BytesIO(readable.data)) as image:
        assert image.info["Title"] == "kept"


def test_png_chunk_bombs_are_hashed_matched_noted_and_thumbnailed(tmp_path: Path) -> None:
    picture = draw_picture(3, (320, 240))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name, (chunk, after, _) in BOMBS.items():
        (evidence / name).write_bytes(_png_with(picture, chunk, after))
    listed = tmp_path / "list.csv"
    listed.write_text(f"pdq,label\n{pdq_from_image(picture).hash},the drawn picture\n")
    items = _scan(tmp_path, evidence, [listed])
    for name, (_, _, named) in BOMBS.items():
        item = items[name]
        assert item["pdq"] and [m["label"] for m in item["matches"]] == ["the drawn picture"], name
        notes = [e for e in item["errors"] if e["stage"] == "png-chunk"]
        assert len(notes) == 1 and named in notes[0]["message"], (name, item["errors"])
        assert [e for e in item["errors"] if e["stage"] != "png-chunk"] == []
        thumbnail = blurred_thumbnail((evidence / name).read_bytes())
        assert Image.open(io.BytesIO(thumbnail)).format == "JPEG"


# --- multi-page and multi-frame images -------------------------------------------------------------------

def _scan(tmp_path: Path, evidence: Path, lists: list[Path], **overrides: object) -> dict[str, dict[str, Any]]:
    """Scan `evidence` into a fresh case with `lists`; the report's items by file name."""
    settings = Settings(workers=1, detector=False, watermarks=False).with_overrides(dict(overrides))
    store = open_case(tmp_path / f"case-{len(list(tmp_path.glob('case-*')))}", create=True)
    try:
        for path in lists:
            import_hash_list(store, path, settings)
        run_scan(store, [str(evidence)], settings)
        report = json.loads(render(store, "json"))
        html = render(store, "html")
    finally:
        store.close()
    items = {Path(i["path"]).name: i for i in report["items"]}
    items["report.html"] = {"html": html}
    return items


PAGES = [draw_picture(seed, (320, 240)) for seed in (21, 22, 23)]


def _pdq_list(path: Path, pictures: dict[str, Image.Image]) -> Path:
    path.write_text("pdq,label\n" + "".join(f"{pdq_from_image(p).hash},{label}\n" for label, p in pictures.items()))
    return path


@pytest.fixture(scope="module")
def multi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Evidence whose listed picture is only on page or frame 2 (3 of a GIF)."""
    evidence = tmp_path_factory.mktemp("multi")
    first, *rest = PAGES
    first.save(evidence / "three-pages.tif", "TIFF", save_all=True, append_images=rest, compression="tiff_lzw")
    first.save(evidence / "animated.webp", "WEBP", save_all=True, append_images=rest, lossless=True, duration=100)
    gif = [page.quantize(256) for page in (PAGES[0], PAGES[2], PAGES[1])]
    gif[0].save(evidence / "animated.gif", "GIF", save_all=True, append_images=gif[1:], duration=100)
    return evidence


def test_a_listed_picture_on_a_later_page_or_frame_is_matched_and_named(tmp_path: Path, multi: Path) -> None:
    only_page_two = _pdq_list(tmp_path / "page-two.csv", {"page two": PAGES[1]})
    items = _scan(tmp_path, multi, [only_page_two])
    expected = {"three-pages.tif": "page 2", "animated.webp": "frame 2", "animated.gif": "frame 3"}
    for name, place in expected.items():
        item = items[name]
        assert item["image_frames"] == {"hashed": 3}, name
        [match] = item["matches"]
        assert (match["label"], match["signal"], match["image_frame"]) == ("page two", "pdq-frame", place), name
        assert "timestamp" not in match and item["video"] is None
    assert "on page 2" in items["report.html"]["html"]


def test_first_and_later_pages_are_each_named(tmp_path: Path, multi: Path) -> None:
    both = _pdq_list(tmp_path / "both.csv", {"page one": PAGES[0], "page two": PAGES[1]})
    matches = _scan(tmp_path, multi, [both])["three-pages.tif"]["matches"]
    assert sorted((m["label"], m["signal"], m["image_frame"]) for m in matches) == [
        ("page one", "pdq", "page 1"), ("page two", "pdq-frame", "page 2")]


def test_a_page_matches_a_listed_video_frame_and_is_not_a_video(tmp_path: Path, multi: Path) -> None:
    frames = [draw_picture(90 + k, (320, 240)) for k in range(4)] + [PAGES[1]]
    video_list = tmp_path / "clip.vpdq"
    video_list.write_text("".join(f"{k * 25},{pdq_from_image(f).quality},{pdq_from_image(f).hash},{k:.3f}\n"
                                  for k, f in enumerate(frames)))
    matches = _scan(tmp_path, multi, [video_list])["three-pages.tif"]["matches"]
    assert [(m["signal"], m["image_frame"], m["frame_number"], m["timestamp"]) for m in matches] == [
        ("pdq-frame", "page 2", 100, 4.0)], "the listed video's frame, and the page of the image"


def test_frames_past_the_cap_and_over_the_pixel_cap_are_noted(tmp_path: Path) -> None:
    evidence = tmp_path / "capped"
    evidence.mkdir()
    big = draw_picture(24, (640, 480))
    PAGES[0].save(evidence / "capped.tif", "TIFF", save_all=True, append_images=[big, PAGES[1], PAGES[2]])
    listed = _pdq_list(tmp_path / "page-three.csv", {"page three": PAGES[1]})
    item = _scan(tmp_path, evidence, [listed], max_image_frames=3, max_image_pixels=100_000)["capped.tif"]
    assert [m["image_frame"] for m in item["matches"]] == ["page 3"]
    notes = [e["message"] for e in item["errors"] if e["stage"] == "image-frames"]
    assert len(notes) == 2
    assert "page 2 declares 640x480 pixels" in notes[0]
    assert "more than 3 pages or frames: only the first 3 were hashed" in notes[1]


def test_heic_collection_and_mpo_pages_are_matched(tmp_path: Path) -> None:
    evidence = tmp_path / "containers"
    evidence.mkdir()
    try:
        PAGES[0].save(evidence / "pair.mpo", "MPO", save_all=True, append_images=[PAGES[1]], quality=95)
    except (OSError, KeyError, ValueError) as exc:  # pragma: no cover - depends on Pillow's build
        pytest.skip(f"Pillow cannot write MPO here: {exc}")
    try:
        PAGES[0].save(evidence / "collection.heic", "HEIF", save_all=True, append_images=[PAGES[1]], quality=95)
    except (OSError, KeyError, ValueError) as exc:  # pragma: no cover - depends on libheif's encoders
        (evidence / "collection.heic").unlink(missing_ok=True)
        heic = False
        reason = str(exc)
    else:
        heic = True
    items = _scan(tmp_path, evidence, [_pdq_list(tmp_path / "two.csv", {"page two": PAGES[1]})])
    assert [m["image_frame"] for m in items["pair.mpo"]["matches"]] == ["image 2"]
    if not heic:  # pragma: no cover
        pytest.skip(f"pillow-heif cannot write HEIC here: {reason}")
    assert [m["image_frame"] for m in items["collection.heic"]["matches"]] == ["image 2"]


def test_console_names_the_page_and_thumbnails_a_chunk_bomb(tmp_path: Path, multi: Path) -> None:
    import re

    from vigie.store.accounts import Accounts
    from vigie.web.app import create_app

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "three-pages.tif").write_bytes((multi / "three-pages.tif").read_bytes())
    (evidence / "bomb.png").write_bytes(_png_with(PAGES[1], BOMBS["ztxt-before.png"][0]))
    items = _scan(tmp_path, evidence, [_pdq_list(tmp_path / "two.csv", {"page two": PAGES[1]})])
    case = tmp_path / "case-0"
    store = open_case(case)
    Accounts(store).create_user("rita", "correct horse battery", "reviewer", actor="test")
    ids = {Path(i["path"]).name: i["id"] for i in store.iter_report_items()}
    store.close()
    client = create_app(case, Settings(workers=1)).test_client()
    token = re.search(r'name="login_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))[1]  # type: ignore[index]
    client.post("/login", data={"username": "rita", "password": "correct horse battery", "login_token": token})
    detail = client.get(f"/api/items/{ids['three-pages.tif']}").get_json()
    assert [m["image_frame"] for m in detail["matches"]] == ["page 2"]
    thumbnail = client.get(f"/media/{ids['bomb.png']}/thumb")
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    assert [m["label"] for m in items["bomb.png"]["matches"]] == ["page two"]


def _tiff_with_a_page_of_no_size(page: Image.Image, thumbnail: bytes) -> bytes:
    """A TIFF whose second page is a JPEG thumbnail named by offset and length alone, no width nor height, as
    EXIF's IFD1 and Canon's CR2 keep one: Pillow's seek to it raises TypeError."""
    import struct

    out = io.BytesIO()
    page.save(out, "TIFF")
    data = bytearray(out.getvalue())
    first = struct.unpack_from("<I", data, 4)[0]
    next_at = first + 2 + 12 * struct.unpack_from("<H", data, first)[0]
    at = len(data)
    data += thumbnail + bytes(len(thumbnail) % 2)
    entries = [(259, 3, 1, 6), (513, 4, 1, at), (514, 4, 1, len(thumbnail))]
    struct.pack_into("<I", data, next_at, len(data))
    data += struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + bytes(4)
    return bytes(data)


def test_a_page_pillow_cannot_seek_and_a_frame_that_grows_the_canvas_cost_that_page_alone(tmp_path: Path) -> None:
    """A defect or a refusal in a later page never loses the file's digests nor what an archive holds: a TIFF
    page with no size (Pillow: TypeError), and a GIF frame placed at (65000, 65000), which had Pillow grow a
    canvas of 4 billion pixels (23 GB for a file of 19 KB)."""
    import struct
    import zipfile

    picture = draw_picture(80, (160, 120))
    thumbnail = io.BytesIO()
    picture.resize((80, 60)).save(thumbnail, "JPEG")
    tiff = _tiff_with_a_page_of_no_size(picture, thumbnail.getvalue())
    frames = [draw_picture(seed, (160, 120)) for seed in (81, 82, 83)]
    gif_out = io.BytesIO()
    frames[0].save(gif_out, "GIF", save_all=True, append_images=frames[1:], duration=100, disposal=1)
    gif = bytearray(gif_out.getvalue())
    descriptors = [i + 8 for i in range(len(gif) - 9) if gif[i:i + 3] == b"\x21\xf9\x04" and gif[i + 8] == 0x2C]
    struct.pack_into("<HH", gif, descriptors[2] + 1, 65000, 65000)
    known = jpeg_bytes(draw_picture(84, (96, 72)))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "scan.tif").write_bytes(tiff)
    (evidence / "far.gif").write_bytes(bytes(gif))
    with zipfile.ZipFile(evidence / "photos.zip", "w") as archive:
        archive.writestr("scan.tif", tiff)
        archive.writestr("K.jpg", known)
    store = open_case(tmp_path / "case", create=True)
    run_scan(store, [str(evidence)], Settings(workers=1, max_image_frames=8))
    items = {item["path"].split("/evidence/", 1)[1]: item for item in json.loads(render(store, "json"))["items"]}
    store.close()
    for path in ("scan.tif", "photos.zip!/scan.tif"):
        assert items[path]["pdq"] and "page 2 cannot be read: Missing dimensions" in str(items[path]["errors"])
    assert items["photos.zip!/K.jpg"]["sha256"] == hashlib.sha256(known).hexdigest()
    assert items["far.gif"]["pdq"] and "frame 3 cannot be read" in str(items["far.gif"]["errors"])
    assert not [item for item in items.values() if "internal" in str(item["errors"])]
