"""A HEIF's (HEIC's, AVIF's) own thumbnail images: the items an `iref` box of type `thmb` ties to its primary
image (`pitm`), coded as pictures are (HEVC, AV1), or a JPEG. An HEVC or AV1 item is no file a decoder reads
alone: each is wrapped as a HEIF of its own holding that item alone, with the properties `ipma` gives it in
`ipco` (its decoder configuration, `hvcC` or `av1C`, its size, `ispe`, its colour, its rotation), its coded
bytes in an `mdat`. Only the boxes are read: the file's picture need not be decodable."""

from __future__ import annotations

import struct
from typing import NamedTuple

from vigie.sources.bmff import child_boxes
from vigie.sources.heif_exif import heif_item_data, heif_item_types, heif_locations

_MOST_THUMBNAILS = 8  # a writer makes one or two, of different sizes
_MOST_BYTES = 8 << 20  # a thumbnail's coded bytes: a thumbnail of 1024 pixels a side takes some hundred KB
_MOST_PROPERTIES = 127  # of one item (`ipma`'s short form): a picture has some ten
_CODED = {b"hvc1": ("heic", b"heic"), b"av01": ("avif", b"avif"), b"jpeg": ("jpg", b"")}  # extension, brand
HEIF_THUMBNAIL_NAMES = tuple(f"heif-thumbnail{'' if number == 1 else f'-{number}'}.{extension}".encode()
                             for number in range(1, _MOST_THUMBNAILS + 1) for extension, _ in _CODED.values())
_WHAT = "the HEIF's thumbnail images"


class HeifThumbnail(NamedTuple):
    """A thumbnail image of a HEIF, or why one could not be read (the fields of a hidden picture)."""

    name: bytes
    what: str
    data: bytes | None
    problem: str | None


def heif_thumbnails(data: bytes) -> list[HeifThumbnail]:
    """Each thumbnail image of the HEIF `data` as a file a decoder reads, then what could not be read."""
    top, _ = child_boxes(data, 0, len(data), _WHAT)  # a HEIF cut short is said by its decoder
    meta = next(((start, end) for kind, start, end in top if kind == b"meta"), None)
    if meta is None:
        return []
    boxes, notes = child_boxes(data, meta[0] + 4, meta[1], _WHAT)  # a full box: version and flags first
    problems = [f"HEIF thumbnail images not looked for: {note}" for note in notes]
    payloads = {kind: (start, end) for kind, start, end in reversed(boxes)}  # the first of each type
    if not {b"pitm", b"iref", b"iinf", b"iloc"} <= payloads.keys():
        return _said(problems)
    try:
        primary = _number(data, payloads[b"pitm"][0] + 4, 2 if data[payloads[b"pitm"][0]] == 0 else 4)
        thumbnails = _thumbnails_of(data, *payloads[b"iref"], primary)
        types = {item: kind for item, kind, _ in heif_item_types(data, *payloads[b"iinf"])}
        locations = heif_locations(data, *payloads[b"iloc"], set(thumbnails[:_MOST_THUMBNAILS]))
        properties, associations = _properties(data, payloads.get(b"iprp"), set(thumbnails[:_MOST_THUMBNAILS]))
    except (struct.error, IndexError):
        return _said([*problems, "HEIF thumbnail images not read: its pitm, iref, iinf, iloc or iprp box is cut "
                                 "short"])
    if len(thumbnails) > _MOST_THUMBNAILS:
        problems.append(f"{len(thumbnails):,} HEIF thumbnail images: only the first {_MOST_THUMBNAILS} are read")
    found: list[HeifThumbnail] = []
    for item in thumbnails[:_MOST_THUMBNAILS]:
        kind = types.get(item, b"")
        what = f"HEIF thumbnail image (item {item})"
        if kind not in _CODED:
            problems.append(f"{what} not read: coded as {kind.decode('latin-1')!r}, not HEVC, AV1 or JPEG (a grid "
                            "of tiles, say)")
            continue
        coded = heif_item_data(data, locations.get(item), payloads.get(b"idat"), _MOST_BYTES)
        if isinstance(coded, str):
            problems.append(f"{what} not read: it {coded}")
            continue
        owned = [(index, essential) for index, essential in associations.get(item, []) if index]  # 0: none
        if any(index < 1 or index > len(properties) for index, _ in owned):
            problems.append(f"{what} not read: ipma gives it a property ipco lacks")
            continue
        if len(owned) > _MOST_PROPERTIES:
            problems.append(f"{what} not read: it has more than {_MOST_PROPERTIES} properties")
            continue
        extension, brand = _CODED[kind]
        name = f"heif-thumbnail{'' if not found else f'-{len(found) + 1}'}.{extension}".encode()
        picture = coded if kind == b"jpeg" else _alone(coded, kind, brand, [(properties[index - 1], essential)
                                                                            for index, essential in owned])
        found.append(HeifThumbnail(name, what, picture, None))
    return found + _said(problems)


def _said(problems: list[str]) -> list[HeifThumbnail]:
    return [HeifThumbnail(b"heif-thumbnail.heic", "HEIF thumbnail image", None, problem) for problem in problems]


def _thumbnails_of(data: bytes, start: int, end: int, primary: int) -> list[int]:
    """The items a `thmb` reference of `iref` ties to `primary`: each reference a box of its type, holding the
    item it is from, a count, the items it is to (ids of 16 bits, 32 in version 1)."""
    size = 2 if data[start] == 0 else 4
    references, _ = child_boxes(data, start + 4, end, _WHAT)
    found: list[int] = []
    for kind, at, reference_end in references:
        if kind != b"thmb":
            continue
        source, count = _number(data, at, size), _number(data, at + size, 2)
        targets = data[at + size + 2:min(reference_end, at + size + 2 + size * count)]  # no further than its box
        if any(int.from_bytes(targets[first:first + size], "big") == primary
               for first in range(0, len(targets) - size + 1, size)) and source not in found:
            found.append(source)
    return found


def _properties(data: bytes, iprp: tuple[int, int] | None, wanted: set[int]
                ) -> tuple[list[bytes], dict[int, list[tuple[int, bool]]]]:
    """The boxes of `ipco` (whole, each with a header of 8 bytes), and the property indices (from 1) `ipma`
    gives each of the `wanted` items, each with whether it is essential."""
    if iprp is None:
        return [], {}
    boxes, _ = child_boxes(data, *iprp, _WHAT)
    payloads = {kind: (start, end) for kind, start, end in reversed(boxes)}
    properties = []
    if b"ipco" in payloads:
        contents, _ = child_boxes(data, *payloads[b"ipco"], _WHAT)
        properties = [_box(kind, data[start:end]) for kind, start, end in contents]
    associations: dict[int, list[tuple[int, bool]]] = {}
    if b"ipma" not in payloads:
        return properties, associations
    start, end = payloads[b"ipma"]
    version, wide = data[start], data[start + 3] & 1
    at = start + 8
    for _ in range(_number(data, start + 4, 4)):
        if at >= end:
            raise struct.error("ipma cut short")
        item = _number(data, at, 2 if version == 0 else 4)
        at += 2 if version == 0 else 4
        count = _number(data, at, 1)
        at += 1
        size = 2 if wide else 1
        if item in wanted and item not in associations:
            values = [_number(data, at + size * index, size) for index in range(count)]
            high = 0x8000 if wide else 0x80
            associations[item] = [(value & (high - 1), bool(value & high)) for value in values]
        at += size * count
    return properties, associations


def _alone(coded: bytes, kind: bytes, brand: bytes, properties: list[tuple[bytes, bool]]) -> bytes:
    """A HEIF of one picture, item 1 of type `kind`: its handler, primary item, location (in the `mdat` that
    follows), its entry, its properties and their association; then its coded bytes."""
    ftyp = _box(b"ftyp", brand + bytes(4) + b"mif1" + brand + b"miaf")
    entry = _full_box(b"infe", 2, struct.pack(">HH4s", 1, 0, kind) + b"\x00")
    association = bytes(index | (0x80 if essential else 0) for index, (_, essential) in enumerate(properties, 1))
    iprp = _box(b"iprp", _box(b"ipco", b"".join(box for box, _ in properties))
                + _full_box(b"ipma", 0, struct.pack(">IHB", 1, 1, len(properties)) + association))

    def meta(offset: int) -> bytes:
        return _full_box(b"meta", 0, _full_box(b"hdlr", 0, bytes(4) + b"pict" + bytes(13))
                         + _full_box(b"pitm", 0, struct.pack(">H", 1))
                         + _full_box(b"iloc", 0, b"\x44\x00" + struct.pack(">HHHHII", 1, 1, 0, 1, offset, len(coded)))
                         + _full_box(b"iinf", 0, struct.pack(">H", 1) + entry) + iprp)

    return ftyp + meta(len(ftyp) + len(meta(0)) + 8) + _box(b"mdat", coded)


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full_box(kind: bytes, version: int, body: bytes) -> bytes:
    return _box(kind, bytes((version, 0, 0, 0)) + body)


def _number(data: bytes, at: int, size: int) -> int:
    """An unsigned big-endian number of `size` bytes."""
    if at + size > len(data):
        raise struct.error("cut short")
    return int.from_bytes(data[at:at + size], "big")
