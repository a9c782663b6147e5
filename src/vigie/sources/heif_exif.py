"""The items of a HEIF (HEIC, AVIF) that the `meta` box's `iinf` lists and its `iloc` locates (extents in the
file, or in the `meta` box's `idat`): its EXIF, an item of type `Exif` whose data starts with the offset, after
its first 4 bytes, of the TIFF header; its XMP, a `mime` item (`xmp_packets.py`). Only the boxes are read: the
main picture need not be decodable."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import NamedTuple

from vigie.sources.bmff import child_boxes

HEIF_TYPES = frozenset({"image/heic", "image/heif", "image/avif"})
_MOST_ITEMS = 16  # of one kind: a camera writes one EXIF, one XMP
_MOST_EXIF_BYTES = 4 << 20  # an item's extents put together: twice an EXIF of 2 MiB


class HeifExif(NamedTuple):
    """Each Exif item's TIFF structure, and why one (or all) could not be read."""

    found: list[bytes]
    problems: list[str]


def heif_exif(data: bytes) -> HeifExif:
    """The TIFF structure of each `Exif` item of the HEIF `data`."""
    items = heif_items(data, lambda kind, _content: kind == b"Exif", "EXIF", "EXIF thumbnail", _MOST_EXIF_BYTES)
    found, problems = [], items.problems
    for item, _, exif in items.found:
        offset = int.from_bytes(exif[:4], "big")
        if len(exif) < 4 or 4 + offset > len(exif):
            problems.append(f"EXIF thumbnail not read: the EXIF item {item} gives its TIFF header the offset "
                            f"{offset:,}, past its {len(exif):,} bytes")
            continue
        found.append(exif[4 + offset:])
    return HeifExif(found, problems)


class HeifItems(NamedTuple):
    """The data of each wanted item, with its id and content type, and why one (or all) could not be read."""

    found: list[tuple[int, bytes, bytes]]
    problems: list[str]


def heif_items(data: bytes, wanted: Callable[[bytes, bytes], bool], label: str, looked: str, most_bytes: int
               ) -> HeifItems:
    """The data of each item of the HEIF `data` whose type and content type (a `mime` item's) `wanted` takes,
    the first `_MOST_ITEMS`, each of `most_bytes` at most. `label`: what notes call such an item; `looked`: what
    is looked for in them."""
    top, notes = child_boxes(data, 0, len(data), f"the {label} item")
    meta = next(((start, end) for kind, start, end in top if kind == b"meta"), None)
    if meta is None:
        return HeifItems([], [f"{looked} not looked for: {note}" for note in notes])
    boxes, notes = child_boxes(data, meta[0] + 4, meta[1], f"the {label} item")  # a full box: version and flags
    problems = [f"{looked} not looked for: {note}" for note in notes]
    payloads = {kind: (start, end) for kind, start, end in reversed(boxes)}  # the first of each type
    if b"iinf" not in payloads or b"iloc" not in payloads:
        return HeifItems([], problems)
    try:
        items = [(item, content) for item, kind, content in heif_item_types(data, *payloads[b"iinf"])
                 if wanted(kind, content)]
        locations = heif_locations(data, *payloads[b"iloc"], {item for item, _ in items[:_MOST_ITEMS]})
    except (struct.error, IndexError):
        return HeifItems([], [*problems, f"{looked} not read: the HEIF's iinf or iloc box is cut short"])
    if len(items) > _MOST_ITEMS:
        problems.append(f"{looked} looked for in the first {_MOST_ITEMS} of the HEIF's {len(items):,} {label} "
                        "items only")
    idat = payloads.get(b"idat")
    found = []
    for item, content in items[:_MOST_ITEMS]:
        held = heif_item_data(data, locations.get(item), idat, most_bytes)
        if isinstance(held, str):
            problems.append(f"{looked} not read: the {label} item {item} {held}")
        else:
            found.append((item, content, held))
    return HeifItems(found, problems)


def heif_item_types(data: bytes, start: int, end: int) -> list[tuple[int, bytes, bytes]]:
    """The id, type and content type (a `mime` item's, then a zero byte and its content encoding where it gives
    one; else empty) of each item `iinf` lists (its `infe` boxes of version 2 or 3, which give a type): an id, a
    protection index, the type, a name, then a `mime` item's content type and content encoding."""
    version = data[start]
    first = start + 4 + (2 if version == 0 else 4)  # version and flags, then the count of entries
    entries, _ = child_boxes(data, first, end, "the HEIF's items")
    items = []
    for kind, at, entry_end in entries:
        if kind != b"infe" or data[at:at + 1] not in (b"\x02", b"\x03"):
            continue
        wide = data[at] == 3
        item, item_type = struct.unpack_from(">I2x4s" if wide else ">H2x4s", data, at + 4)
        content = b""
        if item_type == b"mime":
            strings = data[at + (14 if wide else 12):entry_end].split(b"\x00", 3)  # ended by zero bytes
            content = b"\x00".join(strings[1:3]).rstrip(b"\x00")
        items.append((item, item_type, content))
    return items


class HeifLocation(NamedTuple):
    method: int  # 0: extents are offsets in the file; 1: in the `idat` box; 2: in another item
    base: int
    extents: list[tuple[int, int]]  # offset, length (0: to the end)


def heif_locations(data: bytes, start: int, end: int, wanted: set[int]) -> dict[int, HeifLocation]:
    """Where `iloc` says each of the `wanted` items lies."""
    version = data[start]
    sizes, more = data[start + 4], data[start + 5]
    offset_size, length_size, base_size = sizes >> 4, sizes & 15, more >> 4
    index_size = more & 15 if version in (1, 2) else 0
    at = start + 6
    count = _number(data, at, 4 if version == 2 else 2)
    at += 4 if version == 2 else 2
    found = {}
    for _ in range(count):
        if at >= end:
            raise struct.error("iloc cut short")
        item = _number(data, at, 4 if version == 2 else 2)
        at += 4 if version == 2 else 2
        method = _number(data, at, 2) & 15 if version in (1, 2) else 0
        at += 4 if version in (1, 2) else 2  # the construction method, then the data reference index
        base = _number(data, at, base_size)
        extent_count = _number(data, at + base_size, 2)
        at += base_size + 2
        step = index_size + offset_size + length_size
        if item in wanted and item not in found:  # other items' extents skipped, not read
            found[item] = HeifLocation(method, base, [(0, 0)] * extent_count if step == 0 else [
                (_number(data, first + index_size, offset_size),
                 _number(data, first + index_size + offset_size, length_size))
                for first in range(at, at + step * extent_count, step)])
        at += step * extent_count
    return found


def _number(data: bytes, at: int, size: int) -> int:
    """An unsigned big-endian number of `size` bytes (0, 4 or 8 in iloc; 0 bytes: 0)."""
    if at + size > len(data):
        raise struct.error("cut short")
    return int.from_bytes(data[at:at + size], "big")


def heif_item_data(data: bytes, location: HeifLocation | None, idat: tuple[int, int] | None, most_bytes: int
                   ) -> bytes | str:
    """An item's extents put together; else why they could not be."""
    if location is None:
        return "has no location in the iloc box"
    if location.method == 0:
        origin, limit = 0, len(data)
    elif location.method != 1:
        return "is built from another item (iloc construction method 2): not read"
    elif idat is None:
        return "lies in an idat box the meta box lacks"
    else:
        origin, limit = idat
    parts, held = [], 0
    for offset, length in location.extents:
        first = origin + location.base + offset
        last = limit if length == 0 else first + length
        if last > limit:
            return f"is said to lie at {first:,}+{last - first:,}, beyond the {limit:,} bytes that hold it"
        held += last - first
        if held > most_bytes:
            return f"is larger than {most_bytes:,} bytes: not read"
        parts.append(data[first:last])
    return b"".join(parts)
