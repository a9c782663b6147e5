"""Pictures a picture's metadata hides, read as members of it: its EXIF thumbnail (`exif_thumbnail.py`);
Photoshop's thumbnail (image resources 0x040C, and Photoshop 4's 0x0409) in a JPEG's APP13 segments, a
PSD's resources or a TIFF's Photoshop tag; in a JPEG, a PNG, a WebP, a TIFF or a HEIF, the pictures in its XMP
(`xmp_packets.py`; base64: Google's `GImage:Data`, the picture before a portrait effect, `GDepth:Data`, its
depth map, and `GDepth:Confidence`; Adobe's thumbnail `xmpGImg:image`; under whatever prefix a packet binds
their namespaces to, also in a JPEG's extended XMP split across segments; and base64 of a JPEG, PNG, GIF or WebP
as any other property's value, `xmp-picture-1.jpg`); in a JPEG, the screen nail of its FlashPix streams (APP2
`FPXR`); in a TIFF (a
camera raw: DNG, NEF) the JPEG previews of its SubIFDs; in a JPEG, a PNG, a WebP, a HEIF or a TIFF, the thumbnails of
its C2PA manifests (`c2pa_thumbnails.py`); a HEIF's own thumbnail images (`heif_thumbnails.py`).

Each has a name of its own on the item's path (`IMG.jpg!/photoshop-thumbnail.jpg`), its first occurrence:
the scan and reopen count a zip behind the picture's members of those names from the second."""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterable
from itertools import chain
from typing import NamedTuple

from vigie.sources.c2pa_thumbnails import C2PA_NAMES, c2pa_thumbnails
from vigie.sources.exif_thumbnail import EXIF_THUMBNAIL_NAME, EXIF_THUMBNAIL_NAMES, exif_thumbnails, ifd_numbers
from vigie.sources.heif_exif import HEIF_TYPES
from vigie.sources.heif_thumbnails import HEIF_THUMBNAIL_NAMES, heif_thumbnails
from vigie.sources.jpeg_segments import APP1, APP2, APP13, HEADER_MARKERS, Segments, jpeg_segments
from vigie.sources.trailing import content_end
from vigie.sources.xmp_packets import Packet, jpeg_xmp_packets, xmp_packets


class Hidden(NamedTuple):
    """A picture a picture's metadata holds: its bytes, or why they could not be read."""

    name: bytes  # its member name
    what: str  # what notes call it
    data: bytes | None
    problem: str | None


_PHOTOSHOP = b"Photoshop 3.0\x00"
_THUMBNAILS = {0x040C: (b"photoshop-thumbnail.jpg", "Photoshop thumbnail"),
               0x0409: (b"photoshop-thumbnail-old.jpg", "Photoshop 4 thumbnail (red and blue swapped)")}
_THUMBNAIL_HEADER = 28  # format, width, height, row bytes, sizes, bits per pixel, planes: then a JFIF JPEG
_MAX_RESOURCES = 10_000  # Photoshop writes some dozens

# The namespaces whose properties may hold a picture, by the prefix their writers use (Google's, and Adobe's
# XMP thumbnails: `xmp:Thumbnails`), then those properties
_NAMESPACES = {b"http://ns.google.com/photos/1.0/image/": b"GImage",
               b"http://ns.google.com/photos/1.0/depthmap/": b"GDepth",
               b"http://ns.adobe.com/xap/1.0/g/img/": b"xmpGImg"}
_USUAL_PREFIXES = {**{prefix: prefix for prefix in _NAMESPACES.values()}, b"xapGImg": b"xmpGImg"}  # undeclared
_XMP_FIELDS = {b"GImage:Data": ("GImage", "picture in its XMP (GImage:Data)"),
               b"GDepth:Data": ("GDepth", "depth map in its XMP (GDepth:Data)"),
               b"GDepth:Confidence": ("GDepth-Confidence", "depth confidence map in its XMP (GDepth:Confidence)"),
               b"xmpGImg:image": ("thumbnail", "thumbnail in its XMP (xmpGImg:image)")}
_BINDING = re.compile(rb"xmlns:([A-Za-z_][\w.-]*)\s*=\s*[\"'](" + b"|".join(map(re.escape, _NAMESPACES)) + rb")[\"']")
_PROPERTIES = (b":Data", b":Confidence", b":image")
_NAME_CHARACTER = re.compile(rb"[\w.-]")
_ENTITY = re.compile(rb"&#(?:x[0-9A-Fa-f]+|[0-9]+);")  # a line break Adobe writes in a thumbnail's base64
_MAX_BINDINGS = 16  # an XMP packet binds each namespace once
_EXTENSIONS = {b"\xff\xd8": "jpg", b"\x89PNG": "png", b"GIF8": "gif", b"RIFF": "webp"}
_WHAT_PICTURES = "JPEG, PNG, GIF or WebP"
# base64 of a picture as the whole of any other property's value (an attribute's, an element's, in CDATA or not):
# its opening delimiter, then the base64 (its first bytes a JPEG's, a PNG's, a GIF's or a RIFF's), then its closing
# one. Linear: the run is taken whole (possessive: no backtracking into it), and holds no delimiter, so no match
# starts inside another's
_BASE64_PICTURE = re.compile(rb"([\"'>])\s*+(?:<!\[CDATA\[)?+\s*+((?:/9j/|iVBORw0KGgo|R0lGOD|UklGR)"
                             rb"(?:[A-Za-z0-9+/=\s]++|&#(?:x[0-9A-Fa-f]+|[0-9]+);)*+)(?:\]\]>)?([\"'<])")
_CLOSING = {b'"': b'"', b"'": b"'", b">": b"<"}
MOST_XMP_PICTURES = 16  # in other properties than those above, in one file: a writer keeps one or two
_XMP_PICTURE_NAMES = tuple(f"xmp-picture-{number}.{extension}".encode() for number in range(1, MOST_XMP_PICTURES + 1)
                           for extension in _EXTENSIONS.values())

_FLASHPIX = b"FPXR\x00"
_FLASHPIX_NAME, _FLASHPIX_WHAT = b"flashpix-screennail.jpg", "FlashPix screen nail"
_STREAM_DATA = 2  # an FPXR segment's type: a part of a stream (others: the contents list)

_SUBIFDS, _NEW_SUBFILE_TYPE, _COMPRESSION, _PHOTOSHOP_TAG, _XMP_TAG = 0x014A, 0x00FE, 0x0103, 0x8649, 0x02BC
_STRIP_OFFSETS, _STRIP_BYTE_COUNTS, _JPEG_OFFSET, _JPEG_LENGTH = 0x0111, 0x0117, 0x0201, 0x0202
_MAX_SUBIFDS = 8  # a camera writes up to three: a preview, a thumbnail, the raw
_SUBIFD_NAMES = tuple(f"subifd-{index}.jpg".encode() for index in range(1, _MAX_SUBIFDS + 1))

_PHOTOSHOP_NAMES = tuple(name for name, _ in _THUMBNAILS.values())
_XMP_NAMES = (*(f"xmp-{stem}.{extension}".encode() for stem, _ in _XMP_FIELDS.values()
                 for extension in _EXTENSIONS.values()), *_XMP_PICTURE_NAMES)
_NAMES = {"image/jpeg": (*EXIF_THUMBNAIL_NAMES, *_PHOTOSHOP_NAMES, *_XMP_NAMES, _FLASHPIX_NAME, *C2PA_NAMES),
          **dict.fromkeys(("image/png", "image/webp"), (*EXIF_THUMBNAIL_NAMES, *C2PA_NAMES, *_XMP_NAMES)),
          **dict.fromkeys(HEIF_TYPES, (*EXIF_THUMBNAIL_NAMES, *C2PA_NAMES, *_XMP_NAMES, *HEIF_THUMBNAIL_NAMES)),
          "image/tiff": (EXIF_THUMBNAIL_NAME, *_SUBIFD_NAMES, *_PHOTOSHOP_NAMES, *C2PA_NAMES, *_XMP_NAMES),
          "image/vnd.adobe.photoshop": _PHOTOSHOP_NAMES}
HIDDEN_NAMES = frozenset(name for names in _NAMES.values() for name in names)


def names_before_a_zip_behind(media_type: str) -> tuple[bytes, ...]:
    """Names whose first occurrence on a picture's path is not a member of a zip behind its content: the
    pictures its metadata may hide come first, so such a member of that name is the second (the scan and reopen
    count so)."""
    return _NAMES.get(media_type, ())


def hidden_pictures(data: bytes, media_type: str, segments: Segments | None = None) -> list[Hidden]:
    """Every picture the metadata of `data` hides, and each one that could not be read, with why. `segments`: a
    JPEG's header segments (HEADER_MARKERS), where walked already."""
    walked = None
    if media_type == "image/jpeg":
        walked = segments if segments is not None else jpeg_segments(data, HEADER_MARKERS)
    found = _exif_thumbnails(data, media_type, walked)
    found += [Hidden(*thumbnail) for thumbnail in c2pa_thumbnails(data, media_type, walked)]
    if walked is not None:  # the headers walked once, for the EXIF and for what follows
        found += _photoshop_thumbnails(b"".join(body[len(_PHOTOSHOP):] for marker, body in walked.found
                                                if marker == APP13 and body.startswith(_PHOTOSHOP)))
        found += xmp_pictures(jpeg_xmp_packets([body for marker, body in walked.found if marker == APP1]))
        found += _flashpix_screennail([body for marker, body in walked.found
                                       if marker == APP2 and body.startswith(_FLASHPIX)])
    elif media_type == "image/vnd.adobe.photoshop":
        found += _photoshop_thumbnails(_psd_resources(data))
    elif media_type == "image/tiff":
        found += _tiff_pictures(data)
    else:
        found += xmp_pictures(xmp_packets(data, media_type))
    if media_type in HEIF_TYPES:
        found += [Hidden(*thumbnail) for thumbnail in heif_thumbnails(data)]
    return found


def _exif_thumbnails(data: bytes, media_type: str, segments: Segments | None) -> list[Hidden]:
    """The thumbnail of each EXIF that holds one (the first named as ever, later ones numbered), then what could
    not be read."""
    thumbnails = exif_thumbnails(data, media_type, segments)
    pictures = [thumbnail.data for thumbnail in thumbnails if thumbnail.data is not None]
    found = [Hidden(name, "EXIF thumbnail" if number == 1 else f"EXIF thumbnail {number} (of another EXIF segment)",
                    picture, None)
             for number, (name, picture) in enumerate(zip(EXIF_THUMBNAIL_NAMES, pictures, strict=False), 1)]
    if len(pictures) > len(EXIF_THUMBNAIL_NAMES):
        found[-1] = _also(found[-1], f"{len(pictures):,} EXIF segments hold a thumbnail each: only the first "
                                     f"{len(EXIF_THUMBNAIL_NAMES)} are read")
    return found + [Hidden(EXIF_THUMBNAIL_NAME, "EXIF thumbnail", None, thumbnail.problem)
                    for thumbnail in thumbnails if thumbnail.data is None]


def _psd_resources(psd: bytes) -> bytes:
    """A PSD's image resources: after its 26-byte header and its colour mode data, each section led by its
    length."""
    colour_mode = int.from_bytes(psd[26:30], "big")
    start = 30 + colour_mode + 4
    return psd[start:start + int.from_bytes(psd[start - 4:start], "big")]


def hidden_picture(data: bytes, media_type: str, name: bytes) -> bytes | None:
    """The bytes of the hidden picture named `name`, as the scan read it."""
    return next((found.data for found in hidden_pictures(data, media_type)
                 if found.name == name and found.data is not None), None)


def _photoshop_thumbnails(resources: bytes) -> list[Hidden]:
    """The thumbnails among Photoshop's image resources (joined across its APP13 segments): "8BIM", an id, a
    name padded to even, a length, the data padded to even."""
    found: list[Hidden] = []
    at = 0
    for _ in range(_MAX_RESOURCES):
        if at + 12 > len(resources) or resources[at:at + 4] != b"8BIM":
            return found
        resource = int.from_bytes(resources[at + 4:at + 6], "big")
        at += 6 + (resources[at + 6] + 2) // 2 * 2
        size = int.from_bytes(resources[at:at + 4], "big")
        body = resources[at + 4:at + 4 + size]
        at += 4 + size + (size & 1)
        if resource not in _THUMBNAILS:
            continue
        name, what = _THUMBNAILS[resource]
        if (first := next((index for index, hidden in enumerate(found) if hidden.name == name), None)) is not None:
            found[first] = _also(found[first], f"more than one {what}: only the first is read")
            continue
        jpeg = body[_THUMBNAIL_HEADER:]
        if len(body) < size:
            found.append(Hidden(name, what, None, f"{what} not read: its resource is cut short"))
        elif not jpeg.startswith(b"\xff\xd8"):
            found.append(Hidden(name, what, None, f"{what} not read: its resource holds no JPEG"))
        else:
            found.append(Hidden(name, what, jpeg, None))
    found.append(Hidden(_THUMBNAILS[0x040C][0], "Photoshop thumbnail", None,
                        f"Photoshop thumbnail not looked for past {_MAX_RESOURCES:,} image resources"))
    return found


def xmp_pictures(packets: list[Packet]) -> list[Hidden]:
    """The first `GImage:Data`, `GDepth:Data`, `GDepth:Confidence` and `xmpGImg:image` of the XMP packets,
    whatever prefix a packet binds their namespaces to; then the pictures in their other properties."""
    found: dict[bytes, Hidden] = {}
    problems = []
    others = _Others()
    for packet, problem in packets:
        if problem is not None:
            problems.append(Hidden(b"xmp-GImage.jpg", "XMP", None, problem))
        prefixes = dict(_USUAL_PREFIXES)
        for binding in _BINDING.finditer(packet):
            if len(prefixes) == len(_USUAL_PREFIXES) + _MAX_BINDINGS:
                problems.append(Hidden(b"xmp-GImage.jpg", "XMP", None, f"more than {_MAX_BINDINGS} prefixes bound "
                                                                       "to Google's or Adobe's picture namespaces: "
                                                                       "later ones not read"))
                break
            prefixes[binding[1]] = _NAMESPACES[binding[2]]
        read: set[int] = set()  # where the values of those properties end: not read again as other properties
        if any(name in packet for name in _PROPERTIES):  # most XMP: the search below is skipped
            attribute, element = _values(prefixes)
            for match in chain(attribute.finditer(packet), element.finditer(packet)):
                quoted = match.re is attribute
                if quoted and _NAME_CHARACTER.fullmatch(packet[match.start() - 1:match.start()]):
                    continue  # the end of another prefix (checked here: a look-behind would slow the search tenfold)
                field = prefixes[match[1]] + b":" + match[2]
                if field not in _XMP_FIELDS:
                    continue
                read.add(match.end(3) if match[3] is not None else match.end(4))
                stem, what = _XMP_FIELDS[field]
                if field in found:
                    found[field] = _also(found[field], f"more than one {what}: only the first is read")
                    continue
                found[field] = _decoded(stem, what, match[3] or match[4] or b"")
        others.search(packet, read)
    return [*found.values(), *others.pictures(found.values()), *problems]


class _Others:
    """The pictures in the other properties of a file's XMP packets: base64 of a picture as the whole of a
    value, each named in turn (`xmp-picture-1.jpg`), the same bytes once, the first `MOST_XMP_PICTURES`."""

    def __init__(self) -> None:
        self.found: list[Hidden] = []
        self.met = 0

    def search(self, packet: bytes, read: set[int]) -> None:
        for match in _BASE64_PICTURE.finditer(packet):
            if _CLOSING[match[1]] != match[3] or match.end(2) in read:
                continue
            self.met += 1
            if self.met <= MOST_XMP_PICTURES:
                what = f"picture in its XMP ({_property(packet, match)})"
                self.found.append(_decoded("picture", what, match[2]))

    def pictures(self, known: Iterable[Hidden]) -> list[Hidden]:
        """Those read, numbered (not the bytes of one read already), then those that could not be."""
        seen = {hidden.data for hidden in known}
        pictures: list[Hidden] = []
        for hidden in self.found:
            if hidden.data is not None and hidden.data not in seen:
                number = b"xmp-picture-%d." % (len(pictures) + 1)
                pictures.append(hidden._replace(name=hidden.name.replace(b"xmp-picture.", number)))
                seen.add(hidden.data)
        said = [hidden for hidden in self.found if hidden.data is None]
        if self.met > MOST_XMP_PICTURES:
            note = f"{self.met:,} other XMP properties hold a picture: only the first {MOST_XMP_PICTURES} are read"
            if pictures:
                pictures[-1] = _also(pictures[-1], note)
            else:
                said.append(Hidden(b"xmp-picture.jpg", "XMP", None, note))
        return pictures + said


def _property(packet: bytes, match: re.Match[bytes]) -> str:
    """The name of the property whose value `match` is (an attribute's, or the element's whose start tag ends
    there), as far as the 200 bytes before it say."""
    before = packet[max(0, match.start() - 200):match.start() + 1]
    if match[1] == b">":
        before = before[before.rfind(b"<"):]
    names = re.findall(rb"[\w.-]+:[\w.-]+", before)
    return names[-1 if match[1] != b">" else 0].decode("ascii", "replace") if names else "a property"


def _values(prefixes: dict[bytes, bytes]) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """A property of one of `prefixes` that may hold a picture, as an attribute (its value in either quotes)
    and as an element (its start tag with attributes, `rdf:parseType="Literal"`; its value in CDATA or not): the
    prefix, the property, the value (in group 3 or 4)."""
    property_ = rb"(" + b"|".join(re.escape(prefix) for prefix in prefixes) + rb"):(Data|Confidence|image)"
    return (re.compile(property_ + rb"\s*=\s*(?:\"([^\"]*)\"|'([^']*)')"),
            re.compile(rb"<" + property_ + rb"(?:\s[^>]*)?(?<!/)>\s*(?:<!\[CDATA\[([^\]]*)\]\]>|([^<]*))<"))


def _also(hidden: Hidden, problem: str) -> Hidden:
    """`hidden` with `problem` said too."""
    return hidden._replace(problem=problem if hidden.problem is None else f"{hidden.problem}; {problem}")


def _decoded(stem: str, what: str, text: bytes) -> Hidden:
    compact = b"".join(_ENTITY.sub(b"", text).split())
    try:
        data = base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True)
    except binascii.Error:
        return Hidden(f"xmp-{stem}.jpg".encode(), what, None, f"{what} not read: it is not base64")
    extension = _EXTENSIONS.get(data[:4]) or _EXTENSIONS.get(data[:2])
    if extension == "webp" and data[8:12] != b"WEBP":
        extension = None
    name = f"xmp-{stem}.{extension or 'jpg'}".encode()
    if extension is None:
        return Hidden(name, what, None, f"{what} not read: it holds no {_WHAT_PICTURES}")
    return Hidden(name, what, data, None)


def _flashpix_screennail(fpxr: list[bytes]) -> list[Hidden]:
    """The first JPEG in a FlashPix stream (the screen nail a property holds: from its start to its end
    marker), each stream put together from its parts: an index, an offset in it, bytes."""
    streams: dict[int, dict[int, bytes]] = {}
    for body in fpxr:
        if len(body) >= 13 and body[6] == _STREAM_DATA:
            index, offset = struct.unpack_from(">HI", body, 7)
            streams.setdefault(index, {}).setdefault(offset, body[13:])
    found: list[Hidden] = []
    gaps: list[Hidden] = []
    for index, parts in streams.items():
        whole, at = [], 0
        while parts.get(at):
            whole.append(parts[at])
            at += len(parts[at])
        if len(whole) < len(parts):
            gaps.append(Hidden(_FLASHPIX_NAME, _FLASHPIX_WHAT, None, f"FlashPix stream {index} not read past byte "
                                                                     f"{at:,}: a part is missing"))
        stream = b"".join(whole)
        if (start := stream.find(b"\xff\xd8\xff")) < 0:
            continue
        if found:
            found[0] = found[0]._replace(problem=f"more than one {_FLASHPIX_WHAT}: only the first is read")
            break
        end = content_end(stream[start:], "image/jpeg")
        found.append(Hidden(_FLASHPIX_NAME, _FLASHPIX_WHAT, stream[start:start + end] if end else None,
                            None if end else f"{_FLASHPIX_WHAT} not read: its JPEG is cut short"))
    return found + gaps


def _tiff_pictures(tiff: bytes) -> list[Hidden]:
    """The JPEG previews a camera raw keeps in the SubIFDs of its IFD0, Photoshop's thumbnail in the image
    resources of its Photoshop tag, the pictures in the XMP of its tag 700."""
    try:
        order = {b"II": "<", b"MM": ">"}[tiff[:2]]
        entries = _ifd_entries(tiff, struct.unpack_from(order + "I", tiff, 4)[0], order)
    except (KeyError, struct.error):
        return []
    found = [] if _SUBIFDS not in entries else _subifd_previews(tiff, order, *entries[_SUBIFDS])
    if _PHOTOSHOP_TAG in entries:
        _, count, field = entries[_PHOTOSHOP_TAG]
        found += _photoshop_thumbnails(tiff[field:field + count] if count > 4 else b"")
    if _XMP_TAG in entries:
        _, count, field = entries[_XMP_TAG]
        found += xmp_pictures([(tiff[field:field + count] if count > 4 else b"", None)])
    return found


def _ifd_entries(tiff: bytes, ifd: int, order: str) -> dict[int, tuple[int, int, int]]:
    """An IFD's entries by tag: type, count, and the value field (the values' offset where they do not fit)."""
    count = struct.unpack_from(order + "H", tiff, ifd)[0]
    entries = (struct.unpack_from(order + "HHII", tiff, ifd + 2 + 12 * index) for index in range(count))
    return {tag: (kind, values, field) for tag, kind, values, field in entries}


def _subifd_previews(tiff: bytes, order: str, kind: int, count: int, field: int) -> list[Hidden]:
    """The previews of the first SubIFDs (not a raw's data, NewSubfileType 0)."""
    if kind not in (4, 13):  # LONG or IFD
        return []
    try:
        read = min(count, _MAX_SUBIFDS)
        offsets = [field] if count == 1 else list(struct.unpack_from(f"{order}{read}I", tiff, field))
    except struct.error:
        return [Hidden(_SUBIFD_NAMES[0], "SubIFD previews", None, "SubIFD previews not read: their offsets lie "
                                                                   "beyond the file")]
    found = []
    for index, offset in enumerate(offsets):
        name, what = _SUBIFD_NAMES[index], f"SubIFD {index + 1} preview"
        try:
            tags = ifd_numbers(tiff, offset, order)
        except struct.error:
            found.append(Hidden(name, what, None, f"{what} not read: its IFD lies beyond the file"))
            continue
        if (preview := _subifd_preview(tiff, tags, name, what)) is not None:
            found.append(preview)
    if count > _MAX_SUBIFDS:
        found.append(Hidden(_SUBIFD_NAMES[-1], "SubIFD previews", None,
                            f"{count:,} SubIFDs: only the first {_MAX_SUBIFDS} were read"))
    return found


def _subifd_preview(tiff: bytes, tags: dict[int, int | None], name: bytes, what: str) -> Hidden | None:
    if _JPEG_OFFSET in tags or _JPEG_LENGTH in tags:
        offset, length = tags.get(_JPEG_OFFSET), tags.get(_JPEG_LENGTH)
    elif tags.get(_NEW_SUBFILE_TYPE) == 1 and tags.get(_COMPRESSION) in (6, 7) and \
            tags.get(_STRIP_OFFSETS) is not None:  # a preview in one JPEG strip
        offset, length = tags.get(_STRIP_OFFSETS), tags.get(_STRIP_BYTE_COUNTS)
    elif tags.get(_NEW_SUBFILE_TYPE) == 1:
        return Hidden(name, what, None, f"{what} not read: it is stored uncompressed, or in several strips or "
                                        "tiles")
    else:
        return None
    if offset is None or length is None or offset < 0 or length <= 0 or offset + length > len(tiff):
        return Hidden(name, what, None, f"{what} not read: its JPEG is said to lie at {offset}+{length}, "
                                        f"outside the file's {len(tiff):,} bytes")
    data = tiff[offset:offset + length]
    if not data.startswith(b"\xff\xd8"):
        return Hidden(name, what, None, f"{what} not read: the bytes it points to are not a JPEG")
    return Hidden(name, what, data, None)
