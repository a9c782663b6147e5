r"""Pictures and videos written into a web page, an SVG drawing or other text (CSS, JSON, a script: see
`textborne.py`) as `data:` URIs, which a browser shows and no file holds on its own: a saved page, a browser's
cache, a drawing that embeds a photo, a style sheet's icons, an app's JSON export. Each is a member
`data-uri-N.SUBTYPE`, N counting them from 1 in the file's order. As a browser reads them: the scheme, the type
and `;base64` in any case; the data percent-encoded (`%2B`, or a picture's raw bytes without base64); a URI
escaped as JSON writes it (`\/`, `\u002b`, `\n`) read as the text it stands for. A URI typed
`application/octet-stream` or not typed (`data:;base64,`, what a browser's FileReader gives an untyped file) is
read when its bytes start like a picture, a video or an archive, named by the type they show. An SVG drawing
written as text (not base64) is not a member: its own URIs are found in the text that holds it. The file is read
at most `max_nested_archive_bytes` (the cap of what is held in memory); a larger one is said.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import unquote_to_bytes

from vigie.config import Settings
from vigie.sources.members import ArchiveLimitError, Expansion, Member, decoded_member
from vigie.sources.textborne import lenient_base64

HTML_TYPE = "text/html"
SVG_TYPE = "image/svg+xml"
# its type (a picture's or a video's, octet-stream, or none); its parameters (`;charset=utf-8`) skipped; its data,
# base64 or percent-encoded, with the escapes JSON writes (`\/`, `\u002b`)
_DATA_URI = re.compile(rb"data:(?:(?:image|video)\\?/(?P<subtype>[a-z0-9.+-]{1,40})|application\\?/octet-stream)?"
                       rb"(?:;(?!base64,)[^;,\s\"'\\]{1,60}){0,3}(?P<base64>;base64)?,(?P<data>(?(base64)"
                       rb"(?:[A-Za-z0-9+/=\s]+|%[0-9A-Fa-f]{2}|\\/|\\u00(?:2[bBfF]|3[dD])|\\[nr])+"
                       rb"|(?:[A-Za-z0-9!$&*+,./:;=?@_~-]+|%[0-9A-Fa-f]{2}|\\/)+))", re.IGNORECASE)
# a URI's start followed by data (64 characters at least) that no member was read from; a bare start, as code
# writes it before joining the data on (`"data:image/png;base64," + encoded`), is not
_UNREAD = re.compile(rb"data:(?:image|video|application\\?/octet-stream|;base64)[^,\s\"'<>]{0,200},"
                     rb"[^\s\"'<>()]{64}", re.IGNORECASE)
_ESCAPE = re.compile(rb"\\(?:u00(2[bBfF]|3[dD])|/|[nr])")
_ESCAPED = {b"2b": b"+", b"2f": b"/", b"3d": b"="}
_HTML_START = re.compile(rb"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE | re.DOTALL)
_SVG_START = re.compile(rb"\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*|<!doctype[^>]*>\s*)*<svg[\s>]",
                        re.IGNORECASE | re.DOTALL)


def markup_type(head: bytes) -> str | None:
    """An HTML page's or an SVG drawing's type, told by how it starts (after a byte-order mark)."""
    head = head.removeprefix(b"\xef\xbb\xbf")
    if _SVG_START.match(head):
        return SVG_TYPE
    return HTML_TYPE if _HTML_START.match(head) else None


def data_uri_members(fileobj: BinaryIO, settings: Settings, expansion: Expansion, prefix: bytes = b"",
                     marked: bool = False) -> Iterator[Member]:
    """The pictures and videos of the page's data: URIs, named after `prefix` (an e-mail's HTML body); a text
    `marked` (typed by a URI's marker as it was hashed) that gives none, though a URI there holds data, says so."""
    text = fileobj.read(settings.max_nested_archive_bytes + 1)
    if len(text) > settings.max_nested_archive_bytes:
        raise ArchiveLimitError(f"a file of more than {settings.max_nested_archive_bytes:,} bytes (the cap of what "
                                "is held in memory, setting max_nested_archive_bytes): its data: URIs not read")
    number = 0
    position = 0
    drawings = 0  # SVG drawings written as text (a style sheet's icons): no members, nothing to say
    while (found := _DATA_URI.search(text, position)) is not None:
        position = found.end()
        drawing = found["base64"] is None and (found["subtype"] or b"").lower() == b"svg+xml"
        drawings += drawing
        if drawing or (read := _read(found)) is None:  # the text it spans searched on for the URIs it may hold
            position = found.start() + 5
            continue
        subtype, data, problem = read
        number += 1
        yield decoded_member(prefix + b"data-uri-%d.%s" % (number, subtype), data, settings, expansion, problem)
    if marked and not number and not drawings and (unread := _UNREAD.search(text)) is not None:
        raise ArchiveLimitError(f"it holds a data: URI at byte {unread.start():,} (`data:image`, `data:video`, an "
                                "untyped or octet-stream one) but no picture, video or archive was read from any: "
                                "written in a way not read")


def _read(found: re.Match[bytes]) -> tuple[bytes, bytes, str | None] | None:
    """A URI's data and its member's subtype (the one its bytes show where it is not base64 or typed
    octet-stream or not at all), and what was wrong with its base64; None where those bytes are not a picture's,
    a video's or an archive's."""
    typed = found["subtype"].lower() if found["subtype"] is not None else None
    chars = _ESCAPE.sub(_unescaped, found["data"])
    problem = None
    if found["base64"] is None:
        data = unquote_to_bytes(chars)
    else:
        chars = b"".join(unquote_to_bytes(chars).split())
        try:
            data = base64.b64decode(chars, validate=True)
        except (binascii.Error, ValueError) as exc:  # damaged: decoded as far as it goes, and said
            data = lenient_base64(chars)
            problem = f"its base64 is damaged ({exc}): decoded as far as it goes, its bytes may not be those written"
    if typed is None or found["base64"] is None:  # percent-encoded text under a picture's type is none
        from vigie.sources import mediatype  # imported here: it types markup with this module
        shown = mediatype.sniff(data[:mediatype.SNIFF_BYTES])
        if not (mediatype.is_image(shown) or mediatype.is_video(shown) or mediatype.is_archive(shown)):
            return None
        typed = shown.rsplit("/", 1)[-1].encode()
    return typed, data, problem


def _unescaped(escape: re.Match[bytes]) -> bytes:
    """What a JSON escape in base64 stands for: `/`, `+` or `=`; an escaped line break, nothing."""
    if escape[1] is not None:
        return _ESCAPED[escape[1].lower()]
    return b"/" if escape[0] == b"\\/" else b""
