r"""Pictures and videos written into a web page, an SVG drawing or other text (CSS, JSON, a script: see
`textborne.py`) as `data:` URIs (base64), which a browser shows and no file holds on its own: a saved page, a
browser's cache, a drawing that embeds a photo, a style sheet's icons, an app's JSON export. Each is a member
`data-uri-N.SUBTYPE`, N counting them from 1 in the file's order; a URI escaped as JSON writes it (`\/`,
`\u002b`, `\n`) is read as the text it stands for. The file is read at most `max_nested_archive_bytes` (the cap of
what is held in memory); a larger one is said.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import BinaryIO

from vigie.config import Settings
from vigie.sources.members import ArchiveLimitError, Expansion, Member, decoded_member
from vigie.sources.textborne import lenient_base64

HTML_TYPE = "text/html"
SVG_TYPE = "image/svg+xml"
# its media type's parameters (`;charset=utf-8`) skipped; in its base64, the escapes JSON writes (`\/`, `\u002b`)
_DATA_URI = re.compile(rb"data:(?:image|video)\\?/([A-Za-z0-9.+-]{1,40})(?:;(?!base64,)[^;,\s\"'\\]{1,60}){0,3};"
                       rb"base64,((?:[A-Za-z0-9+/=\s]+|\\/|\\u00(?:2[bBfF]|3[dD])|\\[nr])+)")
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
    """The pictures and videos of the page's data: URIs, named after `prefix` (an e-mail's HTML body)."""
    text = fileobj.read(settings.max_nested_archive_bytes + 1)
    if len(text) > settings.max_nested_archive_bytes:
        raise ArchiveLimitError(f"a file of more than {settings.max_nested_archive_bytes:,} bytes (the cap of what "
                                "is held in memory, setting max_nested_archive_bytes): its data: URIs not read")
    for number, found in enumerate(_DATA_URI.finditer(text), 1):
        name = prefix + b"data-uri-%d.%s" % (number, found[1].lower())
        chars = b"".join(_ESCAPE.sub(_unescaped, found[2]).split())
        try:
            data = base64.b64decode(chars, validate=True)
            problem = None
        except (binascii.Error, ValueError) as exc:  # damaged: decoded as far as it goes, and said
            data = lenient_base64(chars)
            problem = f"its base64 is damaged ({exc}): decoded as far as it goes, its bytes may not be those written"
        yield decoded_member(name, data, settings, expansion, problem)


def _unescaped(escape: re.Match[bytes]) -> bytes:
    """What a JSON escape in base64 stands for: `/`, `+` or `=`; an escaped line break, nothing."""
    if escape[1] is not None:
        return _ESCAPED[escape[1].lower()]
    return b"/" if escape[0] == b"\\/" else b""
