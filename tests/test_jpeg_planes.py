"""A JPEG decoded once to its planes as stored (Y, and the chroma at its own sampling) gives every stage of a
scan what Pillow's decodes gave: PDQ the same Y, the detector the same RGB crops, the watermark readers the
chroma as stored. JPEGs it cannot give planes for are decoded by Pillow, as before."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import jpeg_bytes
from PIL import Image

import vigie.signals.image
import vigie.signals.jpeg_planes
from vigie.cli import main
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.detector.runtime import image_crops, load_detector
from vigie.scan.pipeline import run_scan
from vigie.signals.image import ImageError, analyse_image
from vigie.signals.jpeg_planes import JpegPlanes, decode_planes, planes_available
from vigie.signals.provenance.watermarks import _VOTE_OF_CB, SD1, _blocks, _votes, embed, watermark_findings
from vigie.store.sqlite import open_case

pytestmark = pytest.mark.skipif(not planes_available(), reason="libturbojpeg not installed "
                                                               "(scripts/install-debian-packages.sh)")
SAMPLINGS = [0, 1, 2]  # 4:4:4, 4:2:2, 4:2:0
SIZES = [(333, 250), (131, 97), (64, 64)]  # odd sides: the chroma's last sample covers one pixel


def _jpeg(size: tuple[int, int], subsampling: int, quality: int = 85, seed: int = 4) -> bytes:
    out = io.BytesIO()
    draw_picture(seed, size).convert("RGB").save(out, "JPEG", quality=quality, subsampling=subsampling)
    return out.getvalue()


def _planes(data: bytes) -> JpegPlanes:
    planes = decode_planes(data)
    assert planes is not None
    return planes


def _decoded(data: bytes, mode: str, scale: int = 1) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.draft(mode, (image.width // scale, image.height // scale))
    image.load()
    return image


@pytest.mark.parametrize("subsampling", SAMPLINGS)
@pytest.mark.parametrize("size", SIZES)
def test_the_planes_are_those_libjpeg_decodes(size: tuple[int, int], subsampling: int) -> None:
    data = _jpeg(size, subsampling)
    planes = _planes(data)
    assert planes.size == size and (planes.h, planes.v) == {0: (1, 1), 1: (2, 1), 2: (2, 2)}[subsampling]
    assert np.array_equal(planes.y, np.asarray(_decoded(data, "L")))  # what PDQ hashes without the AI stage
    if subsampling == 0:
        assert np.array_equal(planes.cb, np.asarray(_decoded(data, "YCbCr").getchannel("Cb")))
    if subsampling == 2:  # at half size, libjpeg gives a 4:2:0 JPEG's chroma as stored
        assert np.array_equal(planes.cr, np.asarray(_decoded(data, "YCbCr", 2).getchannel("Cr")))


@pytest.mark.parametrize("subsampling", SAMPLINGS)
@pytest.mark.parametrize("size", SIZES)
def test_crops_from_the_planes_are_those_of_the_rgb_decode(size: tuple[int, int], subsampling: int) -> None:
    """The detector was calibrated on libjpeg's RGB: its chroma upsampling is redone crop by crop, edges too."""
    data = _jpeg(size, subsampling)
    crops, reference = image_crops(_planes(data)), image_crops(Image.open(io.BytesIO(data)).convert("RGB"))
    assert crops is not None and reference is not None
    assert np.array_equal(crops, reference)


def test_jpegs_without_such_planes_are_left_to_pillow() -> None:
    grey, cmyk, truncated = io.BytesIO(), io.BytesIO(), jpeg_bytes(draw_picture(5, (200, 150)))[:3000]
    draw_picture(5, (200, 150)).convert("L").save(grey, "JPEG")
    draw_picture(5, (200, 150)).convert("CMYK").save(cmyk, "JPEG")
    png = io.BytesIO()
    draw_picture(5, (200, 150)).save(png, "PNG")
    for data in (grey.getvalue(), cmyk.getvalue(), truncated, png.getvalue(), b""):
        assert decode_planes(data) is None


def test_a_scan_decodes_a_jpeg_once_to_its_planes() -> None:
    """With the AI stage on (and faces off), the picture is the Y plane PDQ hashes; its hash is unchanged."""
    data = jpeg_bytes(draw_picture(6, (401, 301)), 85)  # odd sides: libjpeg-turbo pads the 4:2:0 planes
    grey = analyse_image(data, 10**9, 40_000_000, colour=False)
    facts = analyse_image(data, 10**9, 40_000_000, colour=True, planes=True)
    assert facts.planes is not None and facts.picture is not None and facts.picture.mode == "L"
    assert facts.opened is not None and facts.opened.format == "JPEG"  # its header, read once
    assert facts.pdq == grey.pdq
    assert np.array_equal(np.asarray(facts.picture), np.asarray(grey.picture))
    # over the full-decode size, Pillow decodes at reduced scale as before
    reduced = analyse_image(data, 10**9, 40_000, colour=True, planes=True)
    assert reduced.planes is None and reduced.picture is not None and reduced.picture.mode == "YCbCr"


def test_a_damaged_jpeg_says_what_pillow_says() -> None:
    """libjpeg-turbo fills a cut stream with grey and warns; the planes are refused and Pillow's error stands."""
    truncated = jpeg_bytes(draw_picture(6, (400, 300)), 85)[:4000]
    with pytest.raises(ImageError) as grey:
        analyse_image(truncated, 10**9, 40_000_000, colour=True)
    with pytest.raises(ImageError) as planes:
        analyse_image(truncated, 10**9, 40_000_000, colour=True, planes=True)
    assert str(planes.value) == str(grey.value) and "truncated" in str(planes.value)


def _marked(size: tuple[int, int], subsampling: int) -> bytes:
    out = io.BytesIO()
    marked = embed(np.asarray(draw_picture(9, size).convert("RGB")), SD1.bits)
    Image.fromarray(marked).save(out, "JPEG", quality=95, subsampling=subsampling)
    return out.getvalue()


@pytest.mark.parametrize("subsampling", SAMPLINGS)
def test_a_watermark_survives_jpeg_at_quality_95_in_the_planes(subsampling: int) -> None:
    data = _marked((768, 512), subsampling)
    [finding] = watermark_findings(_planes(data), data)
    assert SD1.name in finding.detail and finding.value >= SD1.very_likely
    if subsampling == 0:  # no chroma subsampled: the very votes of the full-size decode
        assert np.array_equal(_votes(_planes(data)), _votes(_decoded(data, "YCbCr")))


def test_a_4_2_0_watermark_is_read_whole_from_the_chroma_as_stored() -> None:
    """The mark that the full-size decode reads short (94 of 136 bits, then decodes again at half size) is read
    whole from the planes at once."""
    data = _marked((1024, 1024), 2)
    assert watermark_findings(_decoded(data, "YCbCr")) == []
    [finding] = watermark_findings(_planes(data), data)
    assert finding.value >= SD1.very_likely and "again" not in finding.detail


@pytest.mark.parametrize("subsampling", SAMPLINGS)
def test_votes_from_the_planes_are_those_of_the_rounded_chroma_as_stored(subsampling: int) -> None:
    """Read in integers, each block's largest sum rounded by a table: the votes of rounding the chroma at half
    size (a 4:2:2 JPEG's stored pairs averaged, a 4:4:4 JPEG's cells of four), then cutting it into blocks."""
    planes = _planes(_marked((768, 512), subsampling))
    cb = planes.cb.astype(np.float64)
    if planes.v == 1:
        cb = (cb[0::2] + cb[1::2]) / 2
    if planes.h == 1:
        cb = (cb[:, 0::2] + cb[:, 1::2]) / 2
    chroma = np.round(cb).astype(np.uint8)[: 512 // 4 * 2, : 768 // 4 * 2]
    assert np.array_equal(_votes(planes), _VOTE_OF_CB[_blocks(chroma).reshape(-1, 16)[:, 1:].max(axis=1)])


def test_camera_like_jpegs_carry_no_watermark_from_their_planes() -> None:
    for seed in range(6):
        for subsampling in SAMPLINGS:
            assert watermark_findings(_planes(_jpeg((640, 480), subsampling, 90, seed))) == []


def test_provenance_scores_a_jpeg_as_its_rgb_decode_would(tmp_path: Path) -> None:
    detector = load_detector()
    if detector is None:
        pytest.skip("no detector model shipped")
    data = _jpeg((500, 375), 1, 88)
    (tmp_path / "photo.jpg").write_bytes(data)
    output = CliRunner().invoke(main, ["provenance", str(tmp_path / "photo.jpg")]).output
    shown = json.loads(output)["ai"]["detector"]["score"]
    score = detector.score(Image.open(io.BytesIO(data)).convert("RGB"))
    assert score is not None and shown == round(score, 4)


def _scanned(tmp_path: Path, name: str, evidence: Path) -> list[tuple[object, ...]]:
    store = open_case(tmp_path / name, create=True)
    run_scan(store, [str(evidence)], Settings(workers=1, watermarks=True, detector=True))
    rows: list[tuple[object, ...]] = store.db.execute(
        "SELECT i.relpath, i.pdq, i.pdq_quality, f.kind, f.detail, f.value FROM items i "
        "LEFT JOIN item_findings f ON f.item_id = i.id ORDER BY i.relpath, f.kind, f.detail").fetchall()
    store.close()
    return rows


def test_a_scan_reads_its_jpegs_from_their_planes_with_the_same_findings(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for seed, subsampling in enumerate(SAMPLINGS):
        (evidence / f"{seed}.jpg").write_bytes(_jpeg((257, 193), subsampling, 90, seed))
    (evidence / "marked.jpg").write_bytes(_marked((768, 512), 1))
    decodes: list[object] = []
    pillow_decode = vigie.signals.image.decode_picture
    monkeypatch.setattr(vigie.signals.image, "decode_picture",
                        lambda *args: decodes.append(args) or pillow_decode(*args))
    with_planes = _scanned(tmp_path, "planes", evidence)
    assert decodes == []  # no JPEG decoded by Pillow: each once, to its planes
    monkeypatch.setattr(vigie.signals.jpeg_planes, "_turbojpeg", lambda: None)
    without = _scanned(tmp_path, "pillow", evidence)
    assert len(decodes) == 4 and with_planes == without
    assert any(row[3] == "invisible-watermark" and "marked.jpg" in str(row[0]) for row in with_planes)
