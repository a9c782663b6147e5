r"""Pictures and videos written into a web page, an SVG drawing or other text (CSS, JSON, a script: see
`textborne.py`) as `data:` URIs, which a browser shows and no file holds on its own: a saved page, a browser's
cache, a drawing that embeds a photo, a style sheet's icons, an app's JSON export. Each is a member
`data-uri-N.SUBTYPE`, N counting them from 1 in the file's order. As a browser reads them: the scheme, the type
and `;base64` in any case; the data percent-encoded (`%2B`, or a picture's raw bytes without base64); a URI
escaped as JSON writes it (`\/`, `\u002b`, `\n`) read as the text it stands for. A URI of another type than a
picture's or a video's in base64 (`application/octet-stream`, `application/zip`, `text/plain`, none: what a
browser's FileReader gives an untyped file) is read when its bytes start like a picture, a video or a file read
for what it holds (an archive, a page, a drawing), named by the type they show, or are text that holds what
`text_members.py` reads (a URI, base64, uuencoding), named by the subtype it declares. An SVG drawing written as
text (not base64: percent-encoded or raw, up to the quote that opened its URI or its closing tag) is a member too,
whose own URIs are its members. A short last line after a URI's base64 (`Best`, `20260101`) is read as a block's
is (see `textborne.py`). A page's or a drawing's uuencoded files and blocks of base64 (see `textborne.py`)
are its members too, after its URIs. The file is read at most `max_nested_archive_bytes` (the cap of what is held in
memory); a larger one is said.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import unquote_to_bytes

from vigie.config import Settings
from vigie.sources.members import ArchiveLimitError, Expansion, Member, decoded_member, read_held
from vigie.sources.textborne import (
    CLUES_CHUNK,
    as_read,
    capped_members,
    clues_in,
    ends_at_its_own_end,
    later_base64_members,
    lenient_base64,
    looks_like_text,
    may_be_text_after,
    uuencoded_members,
    word_after_notes,
)

HTML_TYPE = "text/html"
SVG_TYPE = "image/svg+xml"
# its type (any, or none); its parameters (`;charset=utf-8`) skipped; its data, base64 or percent-encoded, with the
# escapes JSON writes (`\/`, `\u002b`)
_DATA_URI = re.compile(rb"data:(?:(?P<type>[a-z-]{1,40})\\?/(?P<subtype>[a-z0-9.+-]{1,60}))?"
                       rb"(?:;(?!base64,)[^;,\s\"'\\]{1,60}){0,3}(?P<base64>;base64)?,(?P<data>(?(base64)"
                       rb"(?:[A-Za-z0-9+/=]+|%[0-9A-Fa-f]{2}|\\/|\\u00(?:2[bBfF]|3[dD])|\\[nr])+"
                       rb"|(?:[A-Za-z0-9!$&*+,./:;=?@_~-]+|%[0-9A-Fa-f]{2}|\\/)*))", re.IGNORECASE)
# base64 wrapped in lines inside a URI (see `_wrapped_end`): a line break, raw (after CSS's `\`: the string goes
# on) or as an XML character reference (`&#10;`, `&#xD;&#xA;`), with spaces about it; then a line of base64 alone,
# up to the next break or the URI's end
_BREAK = rb"(?:\\?\n|&#0*10;|&#x0*[aA];)"
_SPACE = rb"(?:[ \t\r]|&#0*(?:9|13|32);|&#x0*(?:9|[dD]|20);)"
_NEXT_LINE = re.compile(rb"%s*%s%s*([A-Za-z0-9+/]+={0,2})(?=%s*(?:%s|\Z)|[\"'()<>;&\\])"
                        % (_SPACE, _BREAK, _SPACE, _SPACE, _BREAK))
_URI_END = re.compile(rb"\s|[\"'()<>;,&\\]")  # what may follow a URI's data (`,` in a CSS or JSON list)
# the line after a URI's base64 starting as base64 would, then other than a space, a quote, a bracket or markup
# (`AAAA!!`: its last line damaged, or a word after it)
_STRAY_LINE = re.compile(rb"[ \t\r]*\n[ \t]*([A-Za-z0-9+/=]+)[^\sA-Za-z0-9+/=\"'()<>;,&\\]")
_WIDEST_LINE = 1000  # base64 wrapped in lines (76 characters in mail, 64 in PEM, 998 at most in SMTP)
_XML_REFERENCE = re.compile(rb"&#(?:x[0-9a-fA-F]+|[0-9]+);")
# a URI's start followed by data (64 characters at least) that no member was read from; a bare start, as code
# writes it before joining the data on (`"data:image/png;base64," + encoded`), is not
_UNREAD = re.compile(rb"data:(?:image|video|application\\?/octet-stream|;base64)[^,\s\"'<>]{0,200},"
                     rb"[^\s\"'<>()]{64}", re.IGNORECASE)
# the end of an SVG drawing written as text, raw, percent-encoded or escaped as JSON writes it
_DRAWING_END = re.compile(rb"</svg\s*>|%3C(?:/|%2F)svg%3E|\\u003c\\?/svg\\u003e", re.IGNORECASE)
_SCHEME = re.compile(rb"data:", re.IGNORECASE)
# the data of the URIs that gave no member, each searched again for the URIs in it: at most so many times the text
# (a text of URIs each holding the rest would be searched its length squared)
_MOST_SEARCHED_AGAIN = 4
_SEARCHED_SLACK = 1 << 20
_QUOTES = {b'"': re.compile(rb'(?<!\\)"'), b"'": re.compile(rb"(?<!\\)'")}
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


def data_uri_members(fileobj: BinaryIO, settings: Settings, expansion: Expansion, prefix: bytes = b""
                     ) -> Iterator[Member]:
    """The members of a page's or a drawing's data: URIs, then of the files uuencoded and the blocks of base64 in
    it (in a `<pre>`, as other text's), named after `prefix`; at most MOST_TEXT_MEMBERS."""
    text = as_read(read_held(fileobj, settings, "a file", "its data: URIs not read"))
    yield from capped_members(_page_members(text, prefix, settings, expansion))


def _page_members(text: bytes, prefix: bytes, settings: Settings, expansion: Expansion) -> Iterator[Member]:
    taken: list[tuple[int, int]] = []
    yield from uri_members(text, prefix, settings, expansion, taken)
    yield from uuencoded_members(text, prefix, settings, expansion)
    yield from later_base64_members(text, taken, settings, expansion, prefix)


def uri_members(text: bytes, prefix: bytes, settings: Settings, expansion: Expansion,
                taken: list[tuple[int, int]]) -> Iterator[Member]:
    """The members of a text's data: URIs, each URI's span added to `taken` (read or not)."""
    number = 0
    position = 0
    ends = _Ends()
    searched = 0  # the bytes of URIs that gave no member, searched again for URIs
    while (found := _DATA_URI.search(text, position)) is not None:
        end = found.end()
        read = word = None
        if found["base64"] is None and (found["subtype"] or b"").lower() == b"svg+xml":
            end, drawing = _drawing(text, found, ends)
            read = _typed(found, drawing, None)
        elif found["data"]:
            end, full, word = _wrapped_end(text, found)
            read = _read(found, text[found.start("data"):end], _odd_end(text, found, end, full))
        taken.append((found.start(), end))
        if read is None:  # the text it spans searched on for the URIs it may hold
            searched += end - found.start()
            if searched > _MOST_SEARCHED_AGAIN * len(text) + _SEARCHED_SLACK:  # URIs in URIs, each read to the end
                raise ArchiveLimitError(f"data: URIs that gave nothing to read hold others, searched again past "
                                        f"{_MOST_SEARCHED_AGAIN} times the text's bytes: the URIs after byte "
                                        f"{found.start():,} not read")
            position = found.start() + 5
            continue
        position = end
        number += 1
        for suffix, (subtype, data, problem) in _readings(found, text, word, read):
            yield decoded_member(prefix + b"data-uri-%d%s.%s" % (number, suffix, subtype), data, settings, expansion,
                                 problem)


def _readings(found: re.Match[bytes], text: bytes, word: int | None, read: tuple[bytes, bytes, str | None]
              ) -> list[tuple[bytes, tuple[bytes, bytes, str | None]]]:
    """A URI's member, its name's suffix first; where its last line may be text after it (`Best`, starting its
    line at `word`), the reading that ends at the picture's own end, else both (see `textborne.later_base64_members`,
    which reads a block so)."""
    if word is None or ends_at_its_own_end(read[1]):
        return [(b"", read)]
    said = _NEXT_LINE.match(text, word)[1].decode()  # type: ignore[index]  # the line `_wrapped_end` read
    taken, either = word_after_notes(said, "data-uri-N")
    shorter = _read(found, text[found.start("data"):word], None)
    text_like, ends_shorter = may_be_text_after(said.encode()), shorter is not None and ends_at_its_own_end(shorter[1])
    if shorter is not None and text_like and ends_shorter:
        return [(b"", (shorter[0], shorter[1], taken))]
    if not text_like and not ends_shorter:
        return [(b"", read)]
    readings: list[tuple[bytes, tuple[bytes, bytes, str | None]]] = [
        (b"", (read[0], read[1], "; ".join(filter(None, (read[2], either)))))]
    if shorter is not None:
        readings.append((b"-without-last-line", (shorter[0], shorter[1], either)))
    return readings


def unread_uri_note(text: bytes) -> str:
    """What a text typed by a URI's marker says where no URI gave a member, though one there holds data."""
    if (unread := _UNREAD.search(text)) is None:
        return ""
    return (f"it holds a data: URI at byte {unread.start():,} (`data:image`, `data:video`, an untyped or "
            "octet-stream one) but no picture, video or archive was read from any: written in a way not read")


def _wrapped_end(text: bytes, found: re.Match[bytes]) -> tuple[int, bool, int | None]:
    """Where a URI's data ends: base64 in lines (its first, which the URI's start may share, at most _WIDEST_LINE
    characters; the others of one width but a last shorter one, or one shorter than the first) is read to its last
    line; words after the URI, on its line or the next, are not its data. And whether it may go on (its last line
    full, not padded: the line after it may be its own, damaged); and where a last shorter line, unpadded, starts
    (with the break before it), which may be text after the URI (`Best`, `20260101`)."""
    end = found.end("data")
    first = end - found.start("data")
    if found["base64"] is None or text[end - 1:end] == b"=":
        return end, False, None
    if first > _WIDEST_LINE:
        return end, True, None
    width = None
    while (line := _NEXT_LINE.match(text, end)) is not None and len(line[1]) <= (width or _WIDEST_LINE):
        start, end = end, line.end(1)
        if len(line[1]) < (width or first) or line[1].endswith(b"="):
            return end, False, None if line[1].endswith(b"=") else start
        width = width or len(line[1])
    return end, True, None


def _odd_end(text: bytes, found: re.Match[bytes], end: int, full: bool) -> str | None:
    """What a URI's base64 data followed by other than a space, a quote, a bracket or markup says; or, where its
    last line is full, by a line that starts as base64 would and ends in other text."""
    if found["base64"] is None or end == len(text):
        return None
    if _URI_END.match(text, end):
        if not full or (stray := _STRAY_LINE.match(text, end)) is None:
            return None
        end = stray.start(1)
    return (f"its base64 is followed at byte {end:,} by {text[end:end + 8]!r}: what follows the base64 is taken as "
            "not part of it, its bytes may not be those written")


def _read(found: re.Match[bytes], raw: bytes, problem: str | None) -> tuple[bytes, bytes, str | None] | None:
    """A URI's data (`raw`) decoded, and what `_typed` makes of it (`problem`: what was wrong with its end)."""
    chars = _ESCAPE.sub(_unescaped, raw)
    if found["base64"] is None:
        data = unquote_to_bytes(chars)
    else:
        chars = b"".join(unquote_to_bytes(_XML_REFERENCE.sub(b"", chars)).replace(b"\\", b"").split())
        try:
            data = base64.b64decode(chars, validate=True)
        except (binascii.Error, ValueError) as exc:  # damaged: decoded as far as it goes, and said
            data = lenient_base64(chars)
            problem = "; ".join(filter(None, (f"its base64 is damaged ({exc}): decoded as far as it goes, its bytes "
                                              "may not be those written", problem)))
    return _typed(found, data, problem)


def _typed(found: re.Match[bytes], data: bytes, problem: str | None) -> tuple[bytes, bytes, str | None] | None:
    """A URI's member's subtype, its data and what was wrong with them: base64 typed a picture's or a video's is
    one whatever its bytes; other data is one where its bytes start like a picture, a video or a file read for
    what it holds (an archive, a page, a drawing; named by the type they show), or are text that holds what
    `text_members` reads (named by the subtype declared, else `txt`); None where it is none of those."""
    kind = (found["type"] or b"").lower()
    if found["base64"] is not None and kind in (b"image", b"video"):
        return found["subtype"].lower(), data, problem
    from vigie.sources import mediatype  # imported here: it types markup with this module
    shown = mediatype.sniff(data[:mediatype.SNIFF_BYTES])
    if mediatype.is_image(shown) or mediatype.is_video(shown) or mediatype.is_archive(shown):
        return shown.rsplit("/", 1)[-1].encode(), data, problem
    # text that may hold a URI, a line of base64 or a `begin` line (tens of microseconds saved a URI of a word)
    if (looks_like_text(data[:mediatype.SNIFF_BYTES]) and (b"\n" in data or _SCHEME.search(data) is not None)
            and clues_in(data[at:at + CLUES_CHUNK] for at in range(0, len(data), CLUES_CHUNK)).found):
        return (found["subtype"] or b"txt").lower(), data, problem
    return None


class _Ends:
    """Where the searches for the ends of drawings last found one: a text of many drawings whose quote never
    closes is searched to its end once, not once a drawing."""

    def __init__(self) -> None:
        self._last: dict[bytes, tuple[int, int | None]] = {}  # by the end sought: where searched from, what found

    def search(self, key: bytes, pattern: re.Pattern[bytes], text: bytes, position: int) -> re.Match[bytes] | None:
        last = self._last.get(key)
        if last is not None and last[0] <= position:
            if last[1] is None:  # none after an earlier position: none after this one
                return None
            if last[1] >= position:  # the first after an earlier position: the first after this one
                return pattern.match(text, last[1])
        found = pattern.search(text, position)
        self._last[key] = (position, None if found is None else found.start())
        return found


def _drawing(text: bytes, found: re.Match[bytes], ends: _Ends) -> tuple[int, bytes]:
    """Where an SVG drawing written as text (not base64) in a URI ends, and its text: up to the quote that opened
    the URI (a quote escaped as JSON writes it passed over), else to the end of its closing tag; JSON's escapes,
    where it is in double quotes, and percent-encoding read through."""
    comma = found.start("data")
    quote = text[found.start() - 1:found.start()]
    if quote in _QUOTES:
        close = ends.search(quote, _QUOTES[quote], text, comma)
        end = len(text) if close is None else close.start()
    else:
        close = ends.search(b"</svg>", _DRAWING_END, text, comma)
        end = found.end() if close is None else close.end()
    raw = text[comma:end]
    if quote == b'"' and b"\\" in raw:
        with contextlib.suppress(ValueError):
            raw = json.loads(b'"' + raw + b'"').encode("utf-8", "surrogatepass")
    return end, unquote_to_bytes(raw)


def _unescaped(escape: re.Match[bytes]) -> bytes:
    """What a JSON escape in base64 stands for: `/`, `+` or `=`; an escaped line break, nothing."""
    if escape[1] is not None:
        return _ESCAPED[escape[1].lower()]
    return b"/" if escape[0] == b"\\/" else b""
