"""The thumbnails a C2PA manifest store holds, read from its JUMBF boxes without the C2PA reader (the store need
not validate): each manifest's claim thumbnail (`c2pa.thumbnail.claim.jpeg`, the picture as that manifest
signed it) and its ingredient thumbnails (`c2pa.thumbnail.ingredient...`, the pictures an edit was made from),
each an embedded-file box (`bfdb`, its media type, then `bidb`, its bytes) in the store's assertions.

The store lies in a JPEG's APP11 segments (JUMBF split in packets), a PNG's `caBX` chunk, a WebP's `C2PA`
chunk, a HEIF's (HEIC, AVIF) or an MP4's (a video's, an M4A's: `video_members.py`) top-level `uuid` box of C2PA's
UUID, or a TIFF's (a DNG's) tag 0xCD41."""

from __future__ import annotations

import struct
from typing import NamedTuple

from vigie.sources.bmff import C2PA_UUID, child_boxes
from vigie.sources.exif_thumbnail import MAX_CHUNKS, png_chunks, riff_chunks
from vigie.sources.heif_exif import HEIF_TYPES
from vigie.sources.jpeg_segments import APP11, Segments

_KINDS = {b"c2pa.thumbnail.claim": "claim", b"c2pa.thumbnail.ingredient": "ingredient"}
_MOST_THUMBNAILS = 16  # of each kind: an edit of an edit of ... keeps one claim and some ingredients each
_EXTENSIONS = ("jpg", "png", "webp", "gif", "heic", "avif", "bin")
_BY_TYPE = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif", "image/heic": "heic",
            "image/avif": "avif"}
C2PA_NAMES = tuple(f"c2pa-{kind}-thumbnail{'' if number == 1 else f'-{number}'}.{extension}".encode()
                   for kind in _KINDS.values() for number in range(1, _MOST_THUMBNAILS + 1)
                   for extension in _EXTENSIONS)
_WHAT = "the C2PA thumbnails"
_TIFF_TAG = 0xCD41
_EXTERNAL = 0x02  # a `bfdb` toggle: the file lies elsewhere, at a URL, not in a `bidb`


class Thumbnail(NamedTuple):
    """A thumbnail a C2PA store holds, or why one could not be read (the fields of a hidden picture)."""

    name: bytes
    what: str
    data: bytes | None
    problem: str | None


class _Found(NamedTuple):
    kind: str
    where: str  # its assertion's label, and its manifest's
    data: bytes | None
    about: str  # the media type its `bfdb` gives; or why its bytes could not be read


def c2pa_thumbnails(data: bytes, media_type: str, segments: Segments | None) -> list[Thumbnail]:
    """Every thumbnail in the C2PA stores of `data` (the same bytes once), then what could not be read.
    `segments`: a JPEG's header segments, APP11 among them."""
    return store_thumbnails(*_stores(data, media_type, segments))


def store_thumbnails(stores: list[bytes], problems: list[str]) -> list[Thumbnail]:
    """Every thumbnail in the C2PA `stores` (the same bytes once), then what could not be read (`problems`, what
    stopped the stores' search short, among it)."""
    found: list[_Found] = []
    for store in stores:
        problems += _store_thumbnails(store, found)
    thumbnails: list[Thumbnail] = []
    met, numbers = dict.fromkeys(_KINDS.values(), 0), dict.fromkeys(_KINDS.values(), 0)  # all, and those read
    seen: set[bytes] = set()
    for one in found:
        if one.data in seen:
            continue
        met[one.kind] += 1
        if met[one.kind] > _MOST_THUMBNAILS:  # those that cannot be read count too: each would be said
            problems.append(f"more than {_MOST_THUMBNAILS} C2PA {one.kind} thumbnails: only the first "
                            f"{_MOST_THUMBNAILS} read")
            continue
        what = f"C2PA {one.kind} thumbnail ({one.where})"
        if one.data is None:
            thumbnails.append(Thumbnail(f"c2pa-{one.kind}-thumbnail.jpg".encode(), what, None,
                                        f"{what} not read: {one.about}"))
            continue
        seen.add(one.data)
        numbers[one.kind] += 1
        suffix = "" if numbers[one.kind] == 1 else f"-{numbers[one.kind]}"
        name = f"c2pa-{one.kind}-thumbnail{suffix}.{_extension(one.data, one.about)}".encode()
        thumbnails.append(Thumbnail(name, what, one.data, None))
    said = [Thumbnail(b"c2pa-claim-thumbnail.jpg", "C2PA thumbnail", None, problem)
            for problem in dict.fromkeys(problems)]
    return thumbnails + said


def _extension(data: bytes, media_type: str) -> str:
    """By its first bytes, else by the media type its `bfdb` gives."""
    if data.startswith(b"\xff\xd8"):
        return "jpg"
    if data.startswith(b"\x89PNG"):
        return "png"
    return _BY_TYPE.get(media_type, "bin")


def _stores(data: bytes, media_type: str, segments: Segments | None) -> tuple[list[bytes], list[str]]:
    """The JUMBF of each C2PA store `data` holds, and why some may not have been looked for."""
    if segments is not None:
        return _jpeg_stores([body for marker, body in segments.found if marker == APP11])
    if media_type in ("image/png", "image/webp"):
        chunks, walked = (png_chunks if media_type == "image/png" else riff_chunks)(data)
        kind = b"caBX" if media_type == "image/png" else b"C2PA"
        return [body for found, body in chunks if found == kind], \
            [] if walked else [f"C2PA thumbnails not looked for past {MAX_CHUNKS:,} chunks"]
    if media_type in HEIF_TYPES:
        return _heif_stores(data)
    if media_type == "image/tiff":
        return _tiff_stores(data), []
    return [], []


def _jpeg_stores(app11: list[bytes]) -> tuple[list[bytes], list[str]]:
    """Each JUMBF box the APP11 segments carry, put together from its packets: "JP", the box's instance, the
    packet's sequence number from 1, then the box (a later packet repeats its header, which is left out)."""
    packets: dict[bytes, dict[int, bytes]] = {}
    for body in app11:
        if body.startswith(b"JP") and len(body) >= 16:
            header = 16 if body[8:12] == b"\x00\x00\x00\x01" else 8  # a 64-bit size follows the type
            number = int.from_bytes(body[4:8], "big")
            packets.setdefault(body[2:4], {}).setdefault(number, body[8:] if number == 1 else body[8 + header:])
    stores, problems = [], []
    for parts in packets.values():
        whole, number = [], 1
        while number in parts:
            whole.append(parts[number])
            number += 1
        if len(whole) < len(parts):
            problems.append(f"a C2PA store (JUMBF in APP11 segments) not read past its packet {number - 1:,}: "
                            "a packet is missing")
        stores.append(b"".join(whole))
    return stores, problems


def _heif_stores(data: bytes) -> tuple[list[bytes], list[str]]:
    """The store in each top-level `uuid` box of C2PA's UUID whose purpose is "manifest" (`uuid_store`): the UUID,
    a version and flags, the purpose, an 8-byte offset, then the store."""
    top, _ = child_boxes(data, 0, len(data), _WHAT)  # a HEIF cut short is said by its decoder
    stores = [uuid_store(data[start:end]) for kind, start, end in top if kind == b"uuid"]
    return [store for store in stores if store is not None], []


def uuid_store(payload: bytes) -> bytes | None:
    """The store a `uuid` box's `payload` holds where its UUID is C2PA's and its purpose "manifest"."""
    if not payload.startswith(C2PA_UUID):
        return None
    purpose, _, rest = payload[20:].partition(b"\x00")
    return rest[8:] if purpose == b"manifest" else None


def _tiff_stores(tiff: bytes) -> list[bytes]:
    """The store a TIFF (a DNG) keeps in its IFD0's tag 0xCD41 (bytes, at the offset the entry gives)."""
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:  # a BigTIFF too: Vigie does not walk its IFDs
        return []
    try:
        ifd = struct.unpack_from(order + "I", tiff, 4)[0]
        for index in range(struct.unpack_from(order + "H", tiff, ifd)[0]):
            tag, _, length, offset = struct.unpack_from(order + "HHII", tiff, ifd + 2 + 12 * index)
            if tag == _TIFF_TAG:
                return [tiff[offset:offset + length]] if length > 4 else []
    except struct.error:  # an IFD cut short: the page's decoder says so
        return []
    return []


def _store_thumbnails(store: bytes, found: list[_Found]) -> list[str]:
    """Add to `found` the thumbnails of each manifest of `store`, in its order (the active one last); return
    what stopped the walk short."""
    problems: list[str] = []
    for label, start, end in _superboxes(store, 0, len(store), problems):
        if label != b"c2pa":
            continue
        for manifest, manifest_start, manifest_end in _superboxes(store, start, end, problems):
            for group, group_start, group_end in _superboxes(store, manifest_start, manifest_end, problems):
                if group != b"c2pa.assertions":
                    continue
                for assertion, assertion_start, assertion_end in _superboxes(store, group_start, group_end,
                                                                             problems):
                    kind = next((kind for prefix, kind in _KINDS.items() if assertion.startswith(prefix)), None)
                    if kind is not None:
                        where = f"{_text(assertion)}, manifest {_text(manifest)}"
                        found.append(_embedded_file(store, assertion_start, assertion_end, kind, where, problems))
    return problems


def _superboxes(store: bytes, start: int, end: int, problems: list[str]) -> list[tuple[bytes, int, int]]:
    """The JUMBF superboxes (`jumb`) among the boxes in `store[start:end]`, each as its label (from its
    description box, `jumd`: a UUID, toggles, then the label where toggle 2 says so) and the span of its content
    boxes."""
    boxes, notes = child_boxes(store, start, end, _WHAT)
    problems += [f"C2PA thumbnails not looked for: {note}" for note in notes]
    found = []
    for kind, payload, box_end in boxes:
        if kind != b"jumb" or store[payload + 4:payload + 8] != b"jumd":
            continue
        description_end = min(max(payload + 8, payload + int.from_bytes(store[payload:payload + 4], "big")), box_end)
        toggles = store[payload + 24:payload + 25]
        label = b""
        if toggles and toggles[0] & 0x02:
            label = store[payload + 25:description_end].partition(b"\x00")[0]
        found.append((label, description_end, box_end))
    return found


def _embedded_file(store: bytes, start: int, end: int, kind: str, where: str, problems: list[str]) -> _Found:
    """The bytes an embedded-file superbox's `bidb` holds, and the media type its `bfdb` gives."""
    boxes, notes = child_boxes(store, start, end, _WHAT)
    problems += [f"C2PA thumbnails not looked for: {note}" for note in notes]
    contents = {box: (payload, box_end) for box, payload, box_end in reversed(boxes)}  # the first of each type
    description = store[slice(*contents[b"bfdb"])] if b"bfdb" in contents else b""
    if description[:1] and description[0] & _EXTERNAL:
        return _Found(kind, where, None, "it is a reference to a file elsewhere, not its bytes")
    if b"bidb" not in contents:
        return _Found(kind, where, None, "its box holds no embedded file's bytes (no bidb box)")
    media_type = description[1:].partition(b"\x00")[0].decode("ascii", "replace")
    return _Found(kind, where, store[slice(*contents[b"bidb"])], media_type)


def _text(label: bytes) -> str:
    """A label as notes say it, however long or odd its bytes."""
    text = label.decode("utf-8", "replace")
    return text if len(text) <= 100 else text[:100] + "..."
