"""Where a TIFF or a BMP hidden among other bytes (what follows a picture's end, a video's box no player reads:
`trailing.py`) ends, so that the member read is exactly its bytes: a TIFF's, the furthest byte its IFDs, their
values and its strips or tiles reach (and the zeros a writer pads it with, up to 16 bytes); a BMP's, its size
field. Each is taken for one only where its header is plausible (`plausible_tiff`, `plausible_bmp`): a TIFF's first
IFD holds a picture's width, height and strips or tiles (an EXIF block, a camera's metadata in TIFF form, holds
none), a BMP's size and reserved fields are a bitmap's."""

from __future__ import annotations

import struct

_ORDERS = {b"II*\x00": "<", b"MM\x00*": ">"}
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_WIDTH, _LENGTH = 256, 257
# where a TIFF's pixels lie, and how many bytes each piece: strips, tiles, an old-style JPEG's
_PIECES = ((273, 279), (324, 325), (513, 514))
_MOST_IFDS = 64  # pages, a chain that loops or goes on (hostile) is no TIFF found
_MOST_ENTRIES = 1024  # entries of one IFD (a few dozen in a writer's)
_MOST_PIECES = 1 << 20  # strips or tiles walked in all
_PADDED = 16  # zeros up to a multiple of it are the TIFF's: Pillow pads its pages so
_BMP_HEADERS = frozenset({12, 40, 52, 56, 64, 108, 124})  # the bitmap headers Windows and OS/2 define


def plausible_tiff(data: bytes, start: int) -> bool:
    """Whether a TIFF (not a BigTIFF) whose first IFD holds a picture starts at `start`."""
    order = _ORDERS.get(data[start:start + 4])
    if order is None or start + 8 > len(data):
        return False
    ifd = start + struct.unpack_from(order + "I", data, start + 4)[0]
    if ifd < start + 8 or ifd + 2 > len(data):
        return False
    count = struct.unpack_from(order + "H", data, ifd)[0]
    if not 0 < count <= _MOST_ENTRIES or ifd + 2 + 12 * count > len(data):
        return False
    tags = {struct.unpack_from(order + "H", data, ifd + 2 + 12 * index)[0] for index in range(count)}
    return _WIDTH in tags and _LENGTH in tags and any(pieces in tags for pieces, _ in _PIECES)


def tiff_end(data: bytes, start: int) -> int | None:
    """Where the TIFF that starts at `start` ends: the furthest byte its IFDs, their values and its pieces of
    pixels reach; None where it is no plausible TIFF, or its structure runs past `data` or goes on too long."""
    if not plausible_tiff(data, start):
        return None
    try:
        furthest = _furthest(data, start, _ORDERS[data[start:start + 4]])
    except (struct.error, ValueError):
        return None
    if furthest is None or start + furthest > len(data):
        return None
    end, padded = start + furthest, start + -(-furthest // _PADDED) * _PADDED
    return padded if padded <= len(data) and not data[end:padded].strip(b"\0") else end


def _furthest(data: bytes, start: int, order: str) -> int | None:
    """How far from `start` the TIFF's IFDs, their values and its pixels reach; None where its IFDs loop or go on."""
    furthest = 8
    ifd = struct.unpack_from(order + "I", data, start + 4)[0]
    seen: set[int] = set()
    pieces = 0
    while ifd:
        if ifd in seen or len(seen) == _MOST_IFDS:
            return None
        seen.add(ifd)
        at = start + ifd
        count = struct.unpack_from(order + "H", data, at)[0]
        if count > _MOST_ENTRIES:
            return None
        furthest = max(furthest, ifd + 2 + 12 * count + 4)
        entries: dict[int, tuple[int, int, int]] = {}  # tag: type, count, where its values lie (from `start`)
        for index in range(count):
            tag, kind, values, field = struct.unpack_from(order + "HHII", data, at + 2 + 12 * index)
            size = _TYPE_SIZES.get(kind, 1) * values
            where = field if size > 4 else ifd + 2 + 12 * index + 8
            furthest = max(furthest, where + size)
            entries[tag] = (kind, values, where)
        for offsets_tag, counts_tag in _PIECES:
            if offsets_tag in entries and counts_tag in entries:
                offsets, counts = _numbers(data, start, order, entries[offsets_tag]), \
                    _numbers(data, start, order, entries[counts_tag])
                pieces += len(offsets)
                if pieces > _MOST_PIECES:
                    return None
                furthest = max(furthest, max((offset + size for offset, size in zip(offsets, counts, strict=False)),
                                             default=0))
        ifd = struct.unpack_from(order + "I", data, at + 2 + 12 * count)[0]
    return furthest


def _numbers(data: bytes, start: int, order: str, entry: tuple[int, int, int]) -> tuple[int, ...]:
    kind, values, where = entry
    form = {3: "H", 4: "I"}.get(kind)
    if form is None or values > _MOST_PIECES:
        raise ValueError("strips or tiles of another type than SHORT or LONG")
    return struct.unpack_from(f"{order}{values}{form}", data, start + where)


def plausible_bmp(data: bytes, start: int) -> bool:
    """Whether a BMP whose size field says where it ends, within `data`, starts at `start`."""
    if not data.startswith(b"BM", start) or start + 26 > len(data):
        return False
    size, reserved, pixels, header = struct.unpack_from("<IIII", data, start + 2)
    return reserved == 0 and header in _BMP_HEADERS and 14 + header <= pixels < size <= len(data) - start


def bmp_end(data: bytes, start: int) -> int | None:
    """Where the BMP that starts at `start` ends, as its size field says; None where it is no plausible BMP."""
    return start + int.from_bytes(data[start + 2:start + 6], "little") if plausible_bmp(data, start) else None
