"""Pictures carried in text that is not a web page: `data:` URIs in CSS, JSON, scripts and other UTF-8 text (read
by `data_uris.py`), a file that is base64 (a `.b64` file, a picture in a PEM-style armour, a block of base64
after a few lines of text), and files uuencoded in a mail's text body (`begin 644 NAME`, as old mail programs
sent attachments).

A scan types a file by its first SNIFF_BYTES, and a text's first `data:` URI is often far in (a style sheet's
rules, a JSON export's fields). So a file whose head is text (UTF-8, no control bytes but layout) is searched for
the marker `data:image`, `data:video`, `data:application/octet-stream` or `data:;base64` in any case as it is
hashed (`TextClues`): a substring search on bytes read anyway (made lower case: together a third of what hashing
them costs), never a second read; only a text that holds the marker is read again, for its URIs. A
base64 file is told by its head alone (`base64_head`): a run of base64 that starts in the head, what the head
holds of it decoded (at most 384 bytes: microseconds) and typed as any file is; ordinary text, which
breaks runs with spaces and punctuation, is not decoded, and a run that decodes to nothing typed is left alone.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from vigie.config import Settings
from vigie.sources.members import ArchiveLimitError, Expansion, Member, decoded_member

TEXT_TYPE = "text/plain"  # text found to hold data: URIs (other text stays application/octet-stream)
BASE64_TYPE = "application/base64"  # a file of base64 that decodes to a typed file
# a URI's start, in a chunk made lower case (a browser reads its scheme and type in any case): one pass over it,
# its literal start found by a fast search (a case-blind regex is four times slower than the copy)
_MARKER = re.compile(rb"data:(?:image|video|application\\?/octet-stream|;base64)")
_MARKER_BYTES = 32
# a member is read once, as it is hashed: its text held in memory in case it holds the marker, up to this
MOST_TEXT_KEPT = 64 << 20
# the control bytes text holds: ESC (a terminal's colours in a log), vertical tab (a word processor's line break
# in text it exports), backspace (a manual page's overstrike) and SUB (DOS's end of a text); a binary file is
# almost never UTF-8 with no other control byte, and a text taken for binary is never searched
_LAYOUT = b"\t\n\r\x0c\x1b\x0b\x08\x1a"
_CONTROLS = bytes(c for c in range(32) if c not in _LAYOUT) + b"\x7f"
_ARMOUR = re.compile(rb"-----BEGIN [ -~]{1,80}-----\r?\n(?:[!-9;-~]{1,76}:[ -~]*\r?\n)*(?:\r?\n)?")
# base64, or base64url (`-_` for `+/`, as web tokens and some exporters write it); not a line of dashes or
# underscores (text's rule, which base64url starts with once in a million)
_BASE64_START = re.compile(rb"\s*(?![-_]{4})[A-Za-z0-9+/_-]{16,}(?:={0,2}\s|\Z)")
_BASE64_LINE = re.compile(rb"\n((?![-_]{4})[A-Za-z0-9+/_-]{40,}(?:={0,2}\r?\n|\Z))")  # a whole line, after text
# base64 wrapped in lines shorter than 16 characters: eight lines at least, of one length, a multiple of four
_SHORT_LINES = re.compile(rb"\s*((?:[A-Za-z0-9+/_-]{4,15}\r?\n){8,})")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=\s]")
_NOT_BASE64URL = re.compile(rb"[^A-Za-z0-9_=\s-]")
_URL_ALPHABET = bytes.maketrans(b"-_", b"+/")
_SPACES = b" \t\n\r\x0b\x0c"  # what `\s` matches in bytes
_UU_BEGIN = re.compile(rb"^begin [0-7]{3,4} ([^\r\n]{1,255}?)\r?$", re.MULTILINE)
_WHOLE_HEAD = 88  # a run that other text ends in the head holds this much at least (66 bytes, past any magic)


def looks_like_text(head: bytes) -> bool:
    """UTF-8 (ASCII too) with no control bytes but layout; a character cut by the head's end is allowed."""
    if not head or head.translate(None, _CONTROLS) != head:
        return False
    for cut in range(4):
        try:
            head[:len(head) - cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


class TextClues:
    """Whether a text holds a data: URI's marker, looked for in each chunk as the file is hashed (a marker cut by
    a chunk's end is found with the bytes before it)."""

    def __init__(self) -> None:
        self.found = False
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        if self.found:
            return
        lower = chunk.lower()
        seam = self._tail + lower[:_MARKER_BYTES]
        self.found = _MARKER.search(lower) is not None or _MARKER.search(seam) is not None
        self._tail = lower[-_MARKER_BYTES:]


class _Run(NamedTuple):
    start: int
    end: int
    url: bool  # base64url: its `-_` read as `+/`


def _run(text: bytes, head_bytes: int) -> _Run | None:
    """Where the base64 of a text starts, told by its head as the file was typed: at its start (after a
    byte-order mark, an armour line and its headers; also in lines shorter than 16 characters, see `_wrapped`),
    else on the head's first whole line of base64 after some text; whether it is base64url (the head's run has
    `-` or `_` and neither `+` nor `/`); and where it ends, at the first byte its alphabet does not have."""
    head = text[:head_bytes]
    start = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    if (armour := _ARMOUR.match(head, start)) is not None:
        start = armour.end()
    if (short := _SHORT_LINES.match(head, start)) is not None and _wrapped(short[1]):
        start = short.start(1)
    elif not _BASE64_START.match(head, start):
        if (line := _BASE64_LINE.search(head, start)) is None:
            return None
        start = line.start(1)
    shown = head[start:]
    url = armour is None and re.search(rb"[-_]", shown) is not None and re.search(rb"[+/]", shown) is None
    stop = (_NOT_BASE64URL if url else _NOT_BASE64).search(text, start)
    return _Run(start, len(text) if stop is None else stop.start(), url)


def _wrapped(lines: bytes) -> bool:
    """Whether short lines are base64 as an encoder wraps it: each but the last of one length, a multiple of 4."""
    lengths = {len(line.rstrip(b"\r")) for line in lines.split(b"\n")[:-2]}
    return len(lengths) == 1 and lengths.pop() % 4 == 0


def base64_head(head: bytes) -> bytes | None:
    """The first bytes that the base64 a text holds decodes to, where its head is base64 (see `_run`), for
    its type; None where it is not."""
    if not looks_like_text(head):
        return None
    if (run := _run(head, len(head))) is None:
        return None
    chars = head[run.start:run.end].translate(_URL_ALPHABET if run.url else None, _SPACES)
    cut = re.match(rb"[A-Za-z0-9+/]*", chars)
    usable = cut[0] if cut else b""
    whole = run.end == len(head) or len(usable) >= _WHOLE_HEAD
    if len(usable) < 16 or not whole:
        return None
    return base64.b64decode(usable[:len(usable) // 4 * 4])


def base64_members(fileobj: BinaryIO, settings: Settings, expansion: Expansion, outer_name: bytes,
                   head_bytes: int) -> Iterator[Member]:
    """The file a base64 file holds, named after the base64 file less its suffix (`picture.b64!/picture`)."""
    text = fileobj.read(settings.max_nested_archive_bytes + 1)
    if len(text) > settings.max_nested_archive_bytes:
        raise ArchiveLimitError(f"base64 of more than {settings.max_nested_archive_bytes:,} bytes (the cap of what "
                                "is held in memory, setting max_nested_archive_bytes): not decoded")
    if (run := _run(text, head_bytes)) is None:  # typed by a head that is not this one's
        raise ArchiveLimitError("its head, read again, holds no base64: not decoded")
    start, end = run.start, run.end
    chars = text[start:end].translate(_URL_ALPHABET if run.url else None, _SPACES)
    problems = []
    if (rest := text[end:].lstrip()) and not rest.startswith(b"-----END "):
        problems.append(f"the base64 ends at byte {end:,}, before other text: only the base64 before it is read")
    try:
        data = base64.b64decode(chars, validate=True)
    except (binascii.Error, ValueError) as exc:
        data = lenient_base64(chars)
        problems.append(f"its base64 is damaged ({exc}): decoded as far as it goes, its bytes may not be those "
                        "written")
    stem = posixpath.basename(outer_name)
    for suffix in (b".b64", b".base64", b".txt", b".pem", b".asc"):
        if stem.lower().endswith(suffix):
            stem = stem[:-len(suffix)]
            break
    yield decoded_member(stem or b"decoded", data, settings, expansion, "; ".join(problems) or None)


def lenient_base64(chars: bytes) -> bytes:
    """What base64 cut short or padded wrongly gives: its whole groups of four, and the bytes a last partial
    group holds."""
    chars = chars.replace(b"=", b"")
    chars = chars[:len(chars) - (len(chars) % 4 == 1)]  # a lone character holds no byte
    return base64.b64decode(chars + b"=" * (-len(chars) % 4))


def uuencoded_members(text: bytes, prefix: bytes, settings: Settings, expansion: Expansion) -> Iterator[Member]:
    """The files uuencoded in a text, from a `begin MODE NAME` line to an `end` line: each a member named after
    `prefix` by NAME's last segment; uuencoding cut short or damaged is decoded up to there, and said."""
    for found in _UU_BEGIN.finditer(text):
        name = posixpath.basename(found[1].strip().replace(b"\\", b"/")) or b"uuencoded"
        data, problem = _uudecoded(text, found.end() + 1)
        yield decoded_member(prefix + name, data, settings, expansion, problem)


def _uudecoded(text: bytes, position: int) -> tuple[bytes, str | None]:
    """The bytes of the uuencoded lines from `position` to an `end` line, and what was wrong with them."""
    data = bytearray()
    while position < len(text):
        end = text.find(b"\n", position)
        end = len(text) if end < 0 else end
        line = text[position:end].rstrip(b"\r")
        position = end + 1
        if line == b"end":
            return bytes(data), None
        if not line:  # a line of no bytes (its length character a space, which transport may strip)
            continue
        try:
            data += binascii.a2b_uu(line)
        except binascii.Error:  # characters past those its length gives (some encoders pad so): left out
            try:
                data += binascii.a2b_uu(line[:(((line[0] - 32) & 63) * 4 + 5) // 3])
            except binascii.Error as exc:
                return bytes(data), (f"its uuencoding is damaged ({exc}) after {len(data):,} bytes: decoded up "
                                     "to there, its bytes may not be those sent")
    return bytes(data), (f"its uuencoding ends after {len(data):,} bytes with no `end` line: decoded as far as "
                         "it goes, its bytes may not be those sent")
