from __future__ import annotations

import io
import statistics
from typing import Any

import numpy as np
import pytest
from conftest import jpeg_bytes, shared_data
from PIL import Image, ImageOps

from vigie.demo.seizure import draw_picture
from vigie.signals.image import ImageError, analyse_image
from vigie.signals.pdq import DIHEDRAL_NAMES, VARIANT_NAMES, pdq_from_image
from vigie.signals.registry import hamming


def reference_pdq(image: Image.Image) -> tuple[str, int]:
    pdqhash = pytest.importorskip("pdqhash", reason="Meta's reference PDQ (extra 'reference') is not installed")
    bits, quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    return f"{int(''.join(str(b) for b in bits), 2):064x}", int(quality)


def test_hash_is_bit_identical_to_the_reference_on_drawn_pictures() -> None:
    for seed in range(5):
        image = draw_picture(seed, (500, 375))
        reference, quality = reference_pdq(image)
        ours = pdq_from_image(image)
        assert ours.hash == reference
        assert ours.quality == quality


@pytest.mark.slow
def test_scan_decoding_stays_within_reference_bounds_on_camera_photos() -> None:
    folder = shared_data("photos")
    distances = []
    for path in sorted(folder.glob("*/*"))[::2]:
        image = Image.open(path)
        reference, quality = reference_pdq(image)
        if quality < 80:
            continue
        ours = analyse_image(path.read_bytes(), 200_000_000, 40_000_000).pdq
        assert ours is not None
        distances.append(hamming(reference, ours.hash))
    assert distances
    assert max(distances) <= 10
    assert statistics.median(distances) <= 2


def test_dihedral_variants_match_transformed_copies(picture: Image.Image) -> None:
    result = pdq_from_image(picture)
    transforms = {
        "mirror-left-right": Image.Transpose.FLIP_LEFT_RIGHT,
        "mirror-top-bottom": Image.Transpose.FLIP_TOP_BOTTOM,
        "rotate-180": Image.Transpose.ROTATE_180,
        "transpose": Image.Transpose.TRANSPOSE,
        "rotate-90-clockwise": Image.Transpose.ROTATE_270,
        "rotate-90-counterclockwise": Image.Transpose.ROTATE_90,
        "transverse": Image.Transpose.TRANSVERSE,
    }
    for name, transform in transforms.items():
        copy = pdq_from_image(picture.transpose(transform)).hash
        distances = [hamming(copy, v) for v in result.variants[: len(DIHEDRAL_NAMES)]]
        assert distances.index(min(distances)) == DIHEDRAL_NAMES.index(name)
        assert min(distances) <= 31


def test_uncrop_variants_bring_a_cropped_copy_within_threshold(picture: Image.Image) -> None:
    original = pdq_from_image(picture)
    width, height = picture.size
    cropped = pdq_from_image(picture.crop((16, 12, width - 16, height - 12)))  # 2.5% off every side
    best = min(range(len(VARIANT_NAMES)), key=lambda i: hamming(original.hash, cropped.variants[i]))
    assert hamming(original.hash, cropped.variants[best]) <= 31
    assert VARIANT_NAMES[best].startswith("uncropped")


def test_flat_image_has_low_quality() -> None:
    flat = Image.new("RGB", (300, 200), (120, 120, 120))
    assert pdq_from_image(flat).quality < 50
    assert pdq_from_image(draw_picture(3, (300, 200))).quality >= 80


def test_reencoded_and_resized_copies_stay_close(picture: Image.Image) -> None:
    original = pdq_from_image(picture).hash
    reencoded = analyse_image(jpeg_bytes(picture, 40), 10**9, 40_000_000).pdq
    resized = pdq_from_image(picture.resize((200, 150)))
    grey = pdq_from_image(ImageOps.grayscale(picture))
    assert reencoded is not None
    assert hamming(original, reencoded.hash) <= 16
    assert hamming(original, resized.hash) <= 16
    assert hamming(original, grey.hash) <= 16


def test_pdq_is_the_same_whatever_stages_read_colour() -> None:
    """A JPEG is decoded to YCbCr when a later stage reads colour, else to its Y plane alone: same hash."""
    data = jpeg_bytes(draw_picture(6, (400, 300)), 85)
    grey, colour = (analyse_image(data, 10**9, 40_000_000, colour=reads) for reads in (False, True))
    assert grey.picture is not None and colour.picture is not None
    assert (grey.picture.mode, colour.picture.mode) == ("L", "YCbCr")
    assert grey.pdq == colour.pdq


def test_a_jpeg_over_the_full_decode_size_is_decoded_once_at_reduced_scale() -> None:
    """Memory stays bounded: the one decode every stage shares is the reduced one PDQ hashes."""
    data = jpeg_bytes(draw_picture(7, (400, 300)), 85)
    facts = analyse_image(data, 10**9, 40_000, colour=True)
    assert facts.picture is not None and facts.picture.size == (200, 150) and facts.picture.mode == "YCbCr"
    assert (facts.width, facts.height) == (400, 300)
    assert facts.pdq == analyse_image(data, 10**9, 40_000, colour=False).pdq


@pytest.mark.parametrize(("fmt", "to_wide"), [
    ("PNG", lambda grey: Image.fromarray(grey.astype(np.uint16) * 257)),  # 16-bit grey
    ("TIFF", lambda grey: Image.fromarray(grey.astype(np.int32) * 257, "I")),
    ("TIFF", lambda grey: Image.fromarray(grey.astype(np.float32) / 255, "F")),  # 0..1 floating point
    ("TIFF", lambda grey: Image.fromarray(grey.astype(np.int32) * 1000 - 50_000, "I")),  # its own range
])
def test_wide_grey_pictures_hash_like_their_eight_bit_copy(fmt: str, to_wide: Any) -> None:
    """Pillow's conversion to 8-bit grey clips these modes: a 16-bit copy of a known picture hashed as a blank."""
    grey = np.asarray(draw_picture(6, (256, 192)).convert("L"))
    eight = io.BytesIO()
    Image.fromarray(grey).save(eight, "PNG")
    wide = io.BytesIO()
    to_wide(grey).save(wide, fmt)
    reference, copy = (analyse_image(b.getvalue(), 10**9, 40_000_000).pdq for b in (eight, wide))
    assert reference is not None and copy is not None and copy.quality > 50
    assert hamming(reference.hash, copy.hash) <= 8


def test_a_first_page_over_the_cap_says_its_later_pages_went_unread_too() -> None:
    first, second = Image.new("RGB", (64, 64), "red"), draw_picture(2, (64, 64))
    pages = io.BytesIO()
    first.save(pages, "TIFF", save_all=True, append_images=[second])
    with pytest.raises(ImageError, match="nor its later pages or frames"):
        analyse_image(pages.getvalue(), 1000, 40_000_000, max_frames=4)
