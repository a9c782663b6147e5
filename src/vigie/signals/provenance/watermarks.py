"""Invisible watermarks of Stable Diffusion's reference code, decoded with numpy alone.

The `invisible-watermark` package's dwtDct method (which Stability's scripts and diffusers use): the image
in OpenCV's YUV, a one-level Haar DWT of the U channel, 4x4 blocks of the approximation band, and in each
block the largest value after the first carries one bit, quantised with step 36 (despite its name, the
reference's "dwtDct" applies no DCT: `EmbedMaxDct.diffuse_dct_matrix` works on the block itself). Bits
repeat over the blocks and are decoded by averaging their votes. Importing that package pulls in PyTorch,
so it is reimplemented here. `embed` writes the same marks to make test fixtures; it is not byte-identical
to the reference encoder (which round-trips through 8-bit YUV and swaps two detail bands).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, JpegImagePlugin

from vigie.records import DETERMINISTIC, INDICATIVE, Finding
from vigie.signals.image import ycbcr_plane
from vigie.signals.jpeg_planes import JpegPlanes

_BLOCK = 4
_SCALE = 36.0


@dataclass(frozen=True)
class Mark:
    name: str
    bits: np.ndarray
    likely: int  # matching bits for "likely"
    very_likely: int  # and for "very likely"


def _bits_of_bytes(text: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(text, dtype=np.uint8))


# SDXL, SVD and diffusers: a fixed 48-bit message; thresholds as in Stability's own detector.
SDXL = Mark("SDXL / SVD / diffusers", np.array([int(b) for b in format(0xB3EC907BB19E, "048b")], np.uint8), 34, 36)
SD1 = Mark("Stable Diffusion 1 ('StableDiffusionV1')", _bits_of_bytes(b"StableDiffusionV1"), 108, 118)
SD2 = Mark("Stable Diffusion 2 ('SDV2')", _bits_of_bytes(b"SDV2"), 27, 29)
MARKS = (SDXL, SD1, SD2)

_U_FROM_CB = 0.492 / 0.564  # OpenCV's U and JPEG's Cb are both scaled B - Y
_U_OF_CB = np.clip(np.round(128 + (np.arange(256, dtype=np.float32) - 128) * _U_FROM_CB), 0, 255)  # a table


def approximation_band(image: Image.Image) -> np.ndarray:
    """The Haar approximation of OpenCV's YUV U channel, where the reference reads its bits."""
    ycbcr = image.convert("RGB").convert("YCbCr")
    return _haar_approximation(_U_OF_CB[np.asarray(ycbcr.getchannel("Cb"))])


def _votes(picture: Image.Image | JpegPlanes) -> np.ndarray:
    """One bit vote per 4x4 block of the approximation band, in the order the encoder writes them.

    A JPEG's planes, or a picture decoded to YCbCr (a JPEG: see vigie.signals.image.decode_picture), are read
    from the stored chroma: stored at half size, its values are the Haar approximation's (halved). There the
    band is 2 U(Cb), and U rises with Cb: a block's largest value is at its largest Cb and its vote depends
    on that Cb alone, so a table gives it and the band is never built.
    """
    width, height = picture.size
    if isinstance(picture, JpegPlanes):  # in integers: one table rounds each block's largest sum and votes
        exact = _half_size_sums(picture.cb, picture.v, picture.h, np.uint16)[: height // 4 * 2, : width // 4 * 2]
        by_sum: np.ndarray = _VOTE_OF_CB_TIMES_4[_largest_but_first(exact)]
        return by_sum
    if picture.mode != "YCbCr":
        return _block_bits(approximation_band(picture))
    chroma = _stored_chroma_times_4(picture)[: height // 4 * 2, : width // 4 * 2]
    # Rounding and clipping keep the order of values, so only each block's largest is rounded.
    strongest = np.clip(np.round(_largest_but_first(chroma) / 4), 0, 255).astype(np.uint8)
    votes: np.ndarray = _VOTE_OF_CB[strongest]
    return votes


def _largest_but_first(plane: np.ndarray) -> np.ndarray:
    """Of each 4x4 block of a float or unsigned `plane`, row by row, the largest value after the first: maxima
    of strided rows, then columns (a copy into blocks cost eight times more)."""
    rows, cols = plane.shape[0] // _BLOCK * _BLOCK, plane.shape[1] // _BLOCK * _BLOCK
    cut = plane[:rows, :cols]
    first_rows = cut[0::_BLOCK].copy()
    first_rows[:, 0::_BLOCK] = -np.inf if plane.dtype.kind == "f" else 0  # a block's first value carries no bit
    across = first_rows
    for row in range(1, _BLOCK):
        np.maximum(across, cut[row::_BLOCK], out=across)
    largest = across[:, 0::_BLOCK].copy()
    for col in range(1, _BLOCK):
        np.maximum(largest, across[:, col::_BLOCK], out=largest)
    flat: np.ndarray = largest.reshape(-1)
    return flat


# Inverse of the [1, 6, 1] / 8 spread below, to within 1/192 of a second difference.
_UNSPREAD = np.array([1, -6, 34, -6, 1], dtype=np.float32) / 24
_SUBSAMPLED_AXES = {2: (0, 1), 1: (1,)}  # JpegImagePlugin.get_sampling: 4:2:0, 4:2:2


def stored_chroma(picture: Image.Image) -> np.ndarray:
    """A JPEG's Cb plane at half size, as stored, from its full-size decode to YCbCr.

    libjpeg's "fancy" upsampling spreads each stored chroma value over its neighbours: along a subsampled
    axis, the mean of two decoded pixels is [1, 6, 1] / 8 of the stored values. That blur moves which value
    of a 4x4 block is largest, where the mark's bits are read (a mark read whole at quality 95 lost half its
    bits), so a short inverse filter takes it back, to within a level.
    """
    stored: np.ndarray = np.clip(np.round(_stored_chroma_times_4(picture) / 4), 0, 255).astype(np.uint8)
    return stored


def _stored_chroma_times_4(picture: Image.Image) -> np.ndarray:
    """stored_chroma four times over, neither rounded nor clipped: sums of four decoded pixels are exact in
    float32, and scaling by a power of two commutes with every rounding of the filter, so dividing after
    changes no value and saves a pass."""
    sums = _half_size_sums(ycbcr_plane(picture, "Cb"), 1, 1, np.float32)
    for axis in _SUBSAMPLED_AXES.get(JpegImagePlugin.get_sampling(picture), ()):
        sums = _unspread(sums, axis)
    return sums


def _half_size_sums(plane: np.ndarray, down: int, across: int, dtype: type[np.generic]) -> np.ndarray:
    """Sums of each 2x2 cell of a full-size uint8 `plane`, exact in `dtype`; along an axis subsampled by 2
    (`down`, `across`: a JPEG's chroma as stored), the plane is at half size already and its values count
    twice (4:2:0: four times the plane itself), with no upsampling to undo."""
    if down == 1:
        rows = plane.shape[0] // 2 * 2
        plane = np.add(plane[0:rows:2], plane[1:rows:2], dtype=np.uint16)
    if across == 1:
        cols = plane.shape[1] // 2 * 2
        summed: np.ndarray = np.add(plane[:, 0:cols:2], plane[:, 1:cols:2], dtype=dtype)
        return summed
    sums: np.ndarray = plane.astype(dtype, copy=False)  # a copy, unless of the pairs just summed
    sums *= 2 * down  # subsampled both ways: 4 times a stored value; across only: 2 times a pair's sum
    return sums


def _unspread(plane: np.ndarray, axis: int) -> np.ndarray:
    """_UNSPREAD along `axis`, written out: it is symmetric, and temporaries cost more than the arithmetic."""
    length = plane.shape[axis]
    padded = np.pad(plane, [(2, 2) if index == axis else (0, 0) for index in range(2)], mode="edge")
    tap = [padded[k : k + length] if axis == 0 else padded[:, k : k + length] for k in range(5)]
    result: np.ndarray = tap[1] + tap[3]
    result *= _UNSPREAD[1]
    term = np.add(tap[0], tap[4])
    term *= _UNSPREAD[0]
    result += term
    np.multiply(tap[2], _UNSPREAD[2], out=term)
    result += term
    return result


def _haar_approximation(channel: np.ndarray) -> np.ndarray:
    rows, cols = channel.shape[0] // 4 * 4, channel.shape[1] // 4 * 4
    x = channel[:rows, :cols]
    approximation: np.ndarray = (x[0::2, 0::2] + x[0::2, 1::2] + x[1::2, 0::2] + x[1::2, 1::2]) / 2
    return approximation


def _blocks(band: np.ndarray) -> np.ndarray:
    rows, cols = band.shape[0] // _BLOCK, band.shape[1] // _BLOCK
    cut = band[: rows * _BLOCK, : cols * _BLOCK]
    return cut.reshape(rows, _BLOCK, cols, _BLOCK).transpose(0, 2, 1, 3).reshape(-1, _BLOCK, _BLOCK)


def _block_bits(band: np.ndarray) -> np.ndarray:
    """One bit vote per 4x4 block of a band, in the order the encoder writes them (row by row)."""
    blocks = _blocks(band)
    flat = np.abs(blocks.reshape(len(blocks), -1))
    strongest = flat[:, 1:].argmax(axis=1) + 1
    values = flat[np.arange(len(flat)), strongest]
    bits: np.ndarray = (np.mod(values, _SCALE) > 0.5 * _SCALE).astype(np.float64)
    return bits


_VOTE_OF_CB = (np.mod(2 * _U_OF_CB, _SCALE) > 0.5 * _SCALE).astype(np.float64)  # a JPEG block's vote, by its Cb
# the vote by four times a Cb (a cell's exact sum), rounded as _votes rounds the float sums
_VOTE_OF_CB_TIMES_4 = _VOTE_OF_CB[np.clip(np.round(np.arange(4 * 255 + 1) / 4), 0, 255).astype(np.uint8)]


def decode_bits(votes: np.ndarray, length: int) -> np.ndarray:
    """A message of `length` bits from the blocks' votes (_block_bits), which repeat it."""
    if len(votes) < length:
        return np.zeros(0, dtype=np.uint8)
    whole = len(votes) // length * length
    sums = votes[:whole].reshape(-1, length).sum(axis=0)
    sums[: len(votes) - whole] += votes[whole:]
    counts = np.full(length, whole // length)
    counts[: len(votes) - whole] += 1
    bits: np.ndarray = (sums / counts * 255 > 127).astype(np.uint8)
    return bits


def watermark_findings(picture: Image.Image | JpegPlanes, data: bytes | None = None) -> list[Finding]:
    """The marks found in a decoded picture, or a JPEG's planes as stored. With the file's `data`, a 4:2:0 JPEG
    decoded to YCbCr whose read falls short of a mark's threshold but is past halfway from chance to it is read
    again from its chroma exactly as stored (stored_chroma is within a level of it, and a level can move a
    block's vote); the better read counts."""
    votes = _votes(picture)  # the same votes, read as each mark's message
    counts = {mark.name: _matching(votes, mark) for mark in MARKS}
    exact = {}
    if data is not None and any(_near(counts[mark.name], mark) for mark in MARKS):
        exact_votes = _exact_votes(picture, data)
        if exact_votes is not None:
            exact = {mark.name: _matching(exact_votes, mark) for mark in MARKS}
    findings = []
    for mark in MARKS:
        matching = max(counts[mark.name], exact.get(mark.name, -1))
        if matching >= mark.likely:
            sure = matching >= mark.very_likely
            again = " (read again from the JPEG's chroma as stored)" if matching > counts[mark.name] else ""
            findings.append(Finding(
                "invisible-watermark",
                f"dwtDct watermark of {mark.name}: {matching} of {len(mark.bits)} bits match "
                f"({'very likely' if sure else 'likely'}; thresholds {mark.likely}/{mark.very_likely}){again}",
                matching,
                DETERMINISTIC if sure else INDICATIVE,
            ))
    return findings


def _matching(votes: np.ndarray, mark: Mark) -> int:
    """Bits of `mark` the votes give right; -1 when there are too few blocks for its message."""
    bits = decode_bits(votes, len(mark.bits))
    return int((bits == mark.bits).sum()) if bits.size else -1


def _near(matching: int, mark: Mark) -> bool:
    """Short of the mark's threshold, but past halfway from chance (half the bits) to it."""
    return (len(mark.bits) / 2 + mark.likely) / 2 <= matching < mark.likely


def _exact_votes(picture: Image.Image | JpegPlanes, data: bytes) -> np.ndarray | None:
    """Votes from a 4:2:0 JPEG's chroma as stored: decoded at half size, libjpeg gives it unscaled and not
    upsampled (its chroma's 8x8 inverse DCT at its own size). None for other pictures, or where the second
    decode fails (the first read stands)."""
    if isinstance(picture, JpegPlanes) or picture.mode != "YCbCr" or JpegImagePlugin.get_sampling(picture) != 2:
        return None  # the planes are read as stored already
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.size != picture.size:  # the shared decode was itself reduced: no stored size to compare
                return None
            image.draft("YCbCr", (image.width // 2, image.height // 2))
            if image.size != ((picture.width + 1) // 2, (picture.height + 1) // 2):
                return None
            image.load()
            chroma = ycbcr_plane(image, "Cb")[: picture.height // 4 * 2, : picture.width // 4 * 2]
    except (OSError, ValueError, SyntaxError, EOFError):
        return None
    votes: np.ndarray = _VOTE_OF_CB[_largest_but_first(chroma.astype(np.float32)).astype(np.uint8)]
    return votes


def embed(rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """Write `bits` as the reference encoder does (for test fixtures); returns 8-bit RGB."""
    rows, cols = rgb.shape[0] // 4 * 4, rgb.shape[1] // 4 * 4
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = np.clip(np.round((b - y) * 0.492 + 128), 0, 255)
    v = np.clip(np.round((r - y) * 0.877 + 128), 0, 255)
    y = np.clip(np.round(y), 0, 255)
    band = _haar_approximation(u)
    flat = _blocks(band).reshape(-1, _BLOCK * _BLOCK).copy()
    strongest = np.abs(flat[:, 1:]).argmax(axis=1) + 1
    wanted = bits[np.arange(len(flat)) % len(bits)]
    values = flat[np.arange(len(flat)), strongest]
    magnitude = (np.abs(values) // _SCALE + 0.25 + 0.5 * wanted) * _SCALE
    flat[np.arange(len(flat)), strongest] = np.where(values >= 0, magnitude, -magnitude)
    restored = flat.reshape(-1, _BLOCK, _BLOCK)
    brows, bcols = band.shape[0] // _BLOCK, band.shape[1] // _BLOCK
    new_band = band.copy()
    new_band[: brows * _BLOCK, : bcols * _BLOCK] = (
        restored.reshape(brows, bcols, _BLOCK, _BLOCK).transpose(0, 2, 1, 3).reshape(brows * _BLOCK, bcols * _BLOCK)
    )
    # Inverse Haar: only the approximation band changed, so each 2x2 cell moves by half the change.
    delta = np.repeat(np.repeat((new_band - band) / 2, 2, axis=0), 2, axis=1)
    u_new = u.copy()
    u_new[:rows, :cols] += delta
    # back to RGB with OpenCV's YUV2BGR coefficients
    out = np.stack([
        y + 1.140 * (v - 128),
        y - 0.395 * (u_new - 128) - 0.581 * (v - 128),
        y + 2.032 * (u_new - 128),
    ], axis=-1)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)
