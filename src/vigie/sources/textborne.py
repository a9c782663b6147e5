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

Further in a text (after a header longer than the head, say), a block of base64 is told by its first line: a line
of 40 base64 characters at least, not all hexadecimal digits (a hash list's), after a line that is not one (the
block's other lines); what its first 512 characters decode to is typed as any file is, and a block of nothing
typed is left alone. Those lines, and the `begin` lines of uuencoded files, are looked for as the text is hashed,
by one search of the chunk for a line break followed by either (never a second read): on ordinary text a third
to a half of what hashing it costs, nearly as much on JSON in short lines (the search stops at every line break).

Base64 laid out otherwise (after other text on its line: a Word 2003 `<w:binData>` tag's content, a JSON field, a
YAML key; indented; in lines shorter than 40 characters; right after another block) is read where it starts as a
picture's, a video's or an archive's base64 does (`SIGNATURES`), then typed as any: a run of 40 base64 characters
(line breaks among them) after other text is found by a fast search of the chunk translated to two letters (the
run's and others'), a line that starts so by the line search, one right after an escape in a string (`\\n`,
`\\t`, `\\u003e`: a caption then a picture, a mail stored in JSON) by a search of its backslash, and only the runs
that start so are decoded. Its lines are read as JSON writes them too (`\\n` escapes in a string, `\\/`), and
through a mark the same on each (`&#13;`, `> `, `# `, ` * `, a notebook's list of line strings, strings joined). A
block holding a JPEG, a PNG or a GIF that ends where a line starting another begins ends there; a last short line
after full ones that reads as text (`Best`, a date, a digest) is left out where the picture ends before it, and
where Vigie cannot tell (a TIFF, bytes after the picture; other base64 where the picture ends before it), both
readings are members, said. With it, the search costs some one and a half times what hashing
(SHA-256, MD5, SHA-1) costs on prose (under one without), about as much on JSON in short lines, two and a half
times on a log of long paths (each run of 40 looked at); the search of escapes adds a tenth of what hashing costs on
prose, a half on a chat's JSON export (a `\\n` every 80 bytes), one on JSON of base64 escaped as PHP writes it.
Lines that end in a lone CR (an old Mac's) are read as lines ending in LF, each at the same byte, and text in UTF-16
with its byte-order mark as its UTF-8 (`as_read`; as it is hashed, chunk by chunk).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import codecs
import heapq
import posixpath
import re
import sys
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from vigie.config import Settings
from vigie.sources.members import ArchiveLimitError, Expansion, Member, decoded_member

TEXT_TYPE = "text/plain"  # text found to hold data: URIs, base64 or uuencoding (other text: application/octet-stream)
BASE64_TYPE = "application/base64"  # a file of base64 that decodes to a typed file
# a URI's start, in a chunk made lower case (a browser reads its scheme and type in any case): one pass over it,
# its literal start found by a fast search (a case-blind regex is four times slower than the copy); any type, or
# none, as data_uris.py reads them all
_MARKER = re.compile(rb"data:(?:[a-z-]{1,40}\\?/[a-z0-9.+-]{1,60})?[;,]")
_MARKER_BYTES = 128
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
_URL_ALPHABET = bytes.maketrans(b"-_", b"+/")
_SPACES = b" \t\n\r\x0b\x0c"  # what `\s` matches in bytes
_UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_LONE_CR = re.compile(rb"\r(?!\n)")  # an old Mac's line break
_CR_BEFORE = re.compile(rb"\r(?=[^\n])")  # one, in a chunk, whose next byte is known
_UU_BEGIN = re.compile(rb"^begin [0-7]{3,4} ([^\r\n]{1,255}?)\r?$", re.MULTILINE)
_WHOLE_HEAD = 88  # a run that other text ends in the head holds this much at least (66 bytes, past any magic)
_SIGNATURE_MAGICS = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"RIFF", b"II*\x00", b"MM\x00*",
                     b"II+\x00", b"MM\x00+", b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51", b"qoif",
                     b"\x1a\x45\xdf\xa3", b"PK\x03\x04", b"\x1f\x8b\x08", b"BZh", b"\xfd7zXZ\x00", b"%PDF-",
                     b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"\x28\xb5\x2f\xfd", b"SQLite format 3\x00", b"8BPS",
                     b"\x00\x00\x01\x00", b"icns", b"DDS ", b"ID3", b"fLaC", b"OggS\x00", b"FORM", b"MAC ", b"wvpk",
                     b"MPCK")  # pictures, videos, archives; icons, editors' files, and sound whose tags hold pictures
# how a picture's, a video's or an archive's base64 starts (its magic's whole groups of three bytes; an ISO box's
# size then `ftyp`; a BMP's `BM`), in either alphabet, its `/` escaped as JSON may write it (`\/9j\/`, PHP's):
# base64 that starts elsewhere than a line of its own (after other text on its line, indented, in short lines, right
# after another block) is read only where it starts so
_PLAIN_SIGNATURES = {
    encoded.translate(alphabet)
    for magic in (*_SIGNATURE_MAGICS, *(b"\x00\x00\x00" + bytes([size]) + b"ftyp" for size in range(8, 68, 4)))
    for encoded in (base64.b64encode(magic)[:len(magic) // 3 * 4], b"Qk")
    for alphabet in (None, bytes.maketrans(b"+/", b"-_"))}
SIGNATURES = tuple(sorted(_PLAIN_SIGNATURES | {prefix.replace(b"/", b"\\/") for prefix in _PLAIN_SIGNATURES}))
_SIGNATURE_HEADS = frozenset(prefix[:2] for prefix in SIGNATURES)  # a signature's first two, looked at first (fast)
# the signatures as a pattern, grouped by their first character (each group tried by one comparison: the search
# stops at every line)
_BY_FIRST = {first: [p[1:] for p in SIGNATURES if p[:1] == first] for first in {p[:1] for p in SIGNATURES}}
_SIGNATURE = b"|".join(re.escape(first) + b"(?:%s)" % b"|".join(map(re.escape, rests))
                       for first, rests in sorted(_BY_FIRST.items()))
# after a line break, a line that may start a block of base64 (see _tried), its first 40 characters not all
# hexadecimal digits (a hash list's lines are passed over by the search itself), or a uuencoded file's `begin` line
# (which passes that first test too: one search for both, faster than two); or a line that starts as a picture's
# base64 does (lines shorter than 40 characters, or right after another block)
_LINE_CLUE = re.compile(rb"\n(?=[A-Za-z0-9+/_-])(?:(?=[0-9a-fA-F]{0,39}+[g-zG-Z+/_-])"
                        rb"(?=[A-Za-z0-9+/_-]{40}|begin [0-7])|(?=%s))" % _SIGNATURE)
# an escape in a JSON (or Go, JavaScript) string that base64 starts right after, as a picture's does: `\n`, `\r`, `\t`,
# `\/`, `\u003e` (a caption then a line break, a mail's headers, a tag escaped); `_RUNS` reads the escape's
# letter as the run's, so a run that starts so is looked for by its own search (its backslash first: a fast one)
_ESCAPE_CLUE = re.compile(rb"\\(?:[nrt/]|u00[0-9a-fA-F]{2})(?=%s)" % _SIGNATURE)
_LONGEST_ESCAPE = 6
# base64's characters, JSON's escapes' backslash (`\/`, `\n`) and line breaks as `a`, others as `.`: a run of 40
# after other text (on its line, or its lines: base64 in short lines) is found by a fast search; one at a line's
# start is `_LINE_CLUE`'s, its indentation other text
_RUNS = bytes(ord("a") if chr(c) in "+/_-\\\r\n" or (chr(c).isascii() and chr(c).isalnum()) else ord(".")
              for c in range(256))
_RUN = b"a" * 40
_RUN_START = b"." + _RUN
_BLOCK_LINE = re.compile(rb"((?![-_]{4})[A-Za-z0-9+/_-]{40,})={0,2}[ \t]*\r?(?:\n|\Z)")
_B64_LINE = re.compile(rb"(?![-_]{4})[A-Za-z0-9+/_-]{40,}={0,2}[ \t]*\r?")  # a block's line (see _tried)
# the line after a block starting as base64 would, then other than a space, markup or a quote (`AAAA!!`: its last
# line damaged, or a word after it)
_STRAY_LINE = re.compile(rb"[ \t]*\r?\n[ \t]*([A-Za-z0-9+/_-]+={0,2})[^\sA-Za-z0-9+/_=<\"'-]")
_NOT_SPACE = re.compile(rb"\S")
# what joins a block's lines: a line break, raw or escaped as JSON writes it, and indentation (`_PLAIN_JOINT`); or,
# the same on each of its lines, an XML character reference before the break (`&#13;`, `&#xD;`) or a shell's or
# CSS's `\` (the line goes on), a mail's quote or a comment's mark after it (`> `, `# `, ` * `, `// `), a notebook's
# figure as a list of line strings (`...\n",` then `"...`), a string joined to the next (`"..." +`, Python's `"..."`
# then `b"..."`); JSON in a JSON string's `\\n`
_LINE_OF_BASE64 = rb"[A-Za-z0-9+/]++={0,2}"
_JOINTS = (rb"\\n\"[ \t]*+,[ \t]*+\r?\n[ \t]*+\"(?=%s(?:\\n)?\"[ \t]*+[,\]\r\n])"
           rb"|[ \t]*+(?:&\#(?:13|x0*[dD]);|\\(?=\r?\n))?(?:\r?\n|(?:\\?\\r)?\\?\\n)[ \t]*+"
           rb"(?:(?:>[> ]*+|\#++|\*|//(?=[ \t]))[ \t]*+)?"
           rb"|(?P<quote>[\"'])[ \t]*+\+?[ \t]*+\r?\n[ \t]*+\+?[ \t]*+[bBuU]?(?P=quote)(?=%s(?P=quote))"
           % (_LINE_OF_BASE64, _LINE_OF_BASE64))
_PLAIN_JOINT = re.compile(rb"[ \t]*+(?:\r?\n|(?:\\?\\r)?\\?\\n)[ \t]*+")
# a line of a block as `gathered` reads it: its base64 (JSON's escapes of `/`, `+` and `=` in it), its padding, then
# spaces, a line break, raw or escaped, and the next line's indentation (`more`); or markup, a quote or the text's
# end; or other text (`other`)
_BLOCK_CONTENT = re.compile(rb"(?![-_]{4})((?:[A-Za-z0-9+/_-]++|\\/|\\u00(?:2[bBfF]|3[dD]))++)(={0,2})"
                            rb"(?:(?P<more>%s)|(?=[<\"']|\Z)|(?P<other>))" % _JOINTS)
# the marks on each line that `_goes_on` looks past (a comment's, a quote's), at most this long, and the base64
# it looks for on the next line
_MOST_MARK = 16
_OPEN_RUN = re.compile(rb"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40,}")
_ESCAPES = re.compile(rb"\\(?:/|u00(?:2[bBfF]|3[dD]))")
# how a picture whose end a block of base64 may hold before another block ends (see `gathered`), and how many
# times a block is decoded so far to tell
_PICTURE_ENDS = {"image/jpeg": b"\xff\xd9", "image/png": b"IEND\xaeB`\x82", "image/gif": b";"}
_MOST_ENDS_LOOKED_AT = 16
_MOST_INDENT = 256  # the spaces before a block looked back at, to tell it starts its line (its width the first's)
_UNESCAPED = {b"\\/": b"/", b"2b": b"+", b"2f": b"/", b"3d": b"="}
_HEX = b"0123456789abcdefABCDEF"
_STANDARD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_ALPHABETS = _STANDARD + b"-_"
_NOT_STANDARD = re.compile(rb"[^A-Za-z0-9+/=]")
_WINDOW = 1024  # the bytes of a block's start read to type it: its first 512 characters, past line breaks
# blocks of base64 decoded to nothing typed in one text (an encrypted message, a list of base64 hashes, a hostile
# file of short lines): past this, base64 further in is not looked for, and that is said
MOST_BASE64_TRIES = 10_000
# members of one text (data: URIs, uuencoded files, blocks of base64; a hostile text of tiny ones gives one a few
# bytes): past this, the rest are not read, and that is said
MOST_TEXT_MEMBERS = 10_000
CLUES_CHUNK = 1 << 20  # a text read again is searched in pieces of this size: searching one makes a copy of it


def looks_like_text(head: bytes) -> bool:
    """UTF-8 (ASCII too), or UTF-16 after its byte-order mark, with no control bytes but layout; a character cut by
    the head's end is allowed."""
    if head.startswith(_UTF16_MARKS):
        even = head[:len(head) // 2 * 2]
        try:
            head = even.decode("utf-16").encode()
        except UnicodeDecodeError:  # a pair of surrogates cut by the head's end
            try:
                head = even[:-2].decode("utf-16").encode()
            except UnicodeDecodeError:
                return False
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
    """Whether a text holds what `text_members` reads: a data: URI's marker, a block of base64 that decodes to a
    typed file, a uuencoded file's `begin` line; looked for in each chunk as the file is hashed (a clue cut by a
    chunk's end is found with the bytes before it), then `finish`ed. Every line `text_members` would try is tried
    here (a line at a chunk's start more, where the line before it is cut)."""

    def __init__(self) -> None:
        self.found = False
        self.stopped_at: int | None = None  # where the tries reached MOST_BASE64_TRIES, if they did
        self._tail = b""  # the end of the last chunk made lower case, for a marker cut by a chunk's end
        # the text before the chunk not yet looked at, from the start of the line before it (a line break before the
        # text's first line, which may be a `begin` line)
        self._lines = b"\n"
        self._at = -1  # where `_lines` starts in the text
        self._done_at = -1  # where the last line looked at starts in the text
        self._tries = 0
        self._utf16: codecs.BufferedIncrementalDecoder | None = None  # text in UTF-16, read as UTF-8
        self._fed = False

    def feed(self, chunk: bytes) -> None:
        if self.found:
            return
        if not self._fed and chunk.startswith(_UTF16_MARKS):
            self._utf16 = codecs.getincrementaldecoder("utf-16")("replace")
        self._fed = True
        if self._utf16 is not None:
            chunk = self._utf16.decode(chunk).encode()
        lower = chunk.lower()
        seam = self._tail + lower[:_MARKER_BYTES]
        self.found = _MARKER.search(seam) is not None
        at = lower.find(b"data:")  # a fast search, the pattern matched where it finds the scheme
        while not self.found and at >= 0:
            self.found = _MARKER.match(lower, at) is not None
            at = lower.find(b"data:", at + 1)
        self._tail = lower[-_MARKER_BYTES:]
        if not self.found:
            self._look_at_lines(chunk, final=False)

    def finish(self) -> None:
        """The lines the last chunk ended too soon after to look at."""
        if not self.found:
            self._look_at_lines(b"", final=True)

    def _look_at_lines(self, chunk: bytes, final: bool) -> None:
        if self.stopped_at is not None:
            return
        text, at = self._lines + chunk, self._at
        if b"\r" in text and _LONE_CR.search(text):  # a lone CR ends a line (one the chunk ends with, once what
            text = (_LONE_CR if final else _CR_BEFORE).sub(b"\n", text)  # follows it is known)
        last = len(text) if final else len(text) - _WINDOW  # a line after it is looked at with the next chunk
        resume = text.rfind(b"\n") + 1  # the last line, which the next chunk may make longer
        for start in _starts(text):
            if at + start <= self._done_at:
                continue
            if start > last:
                resume = min(resume, start)
                break
            self._done_at = at + start
            if text.startswith(b"begin ", start):
                self.found = _UU_BEGIN.match(text, start) is not None
                if self.found:
                    return
                continue
            tried, shown = _tried(text, start)
            self._tries += tried
            if shown is not None:
                self.found = True
                return
            if self._tries >= MOST_BASE64_TRIES:
                self.stopped_at = at + start
                return
        # kept: from the line before `resume` (its last 4 KiB at most, marked cut: taken for no block's line)
        keep = text.rfind(b"\n", 0, resume - 1) + 1 if resume else 0
        keep = max(keep, len(text) - 4 * _WINDOW)
        cut = b"\x00" if keep and text[keep - 1:keep] != b"\n" else b""
        self._lines, self._at = cut + text[keep:], at + keep - len(cut)


def clues_in(chunks: Iterable[bytes]) -> TextClues:
    """What a text read again holds, looked for as the scan looked for it as it hashed the text (read-back and a
    URI's data, which must take a text for what the scan took it for)."""
    clues = TextClues()
    for chunk in chunks:
        clues.feed(chunk)
    clues.finish()
    return clues


def _starts(text: bytes, after: int = 0) -> Iterator[int]:
    """Where base64 that may start a block starts in a text read after a line break: the lines `_LINE_CLUE` finds
    (where their base64 starts), and runs of 40 base64 characters at least after other text on their line (in
    markup, JSON, YAML) that start as a picture's base64 does; in order, once each; from `after` on."""
    last = after - 1
    for start in heapq.merge((found.end() for found in _LINE_CLUE.finditer(text, max(after - 1, 0))),
                             (found.end() for found in _ESCAPE_CLUE.finditer(text, max(after - _LONGEST_ESCAPE, 0))),
                             _run_starts(text, after)):
        if start > last:
            last = start
            yield start


def _run_starts(text: bytes, after: int) -> Iterator[int]:
    """Where runs of 40 base64 characters start after other text (a byte that is not base64's), from `after` on,
    that start as a picture's base64 does; looked for in pieces of CLUES_CHUNK (translating one makes a copy of
    it), each from the last 40 bytes of the one before (a run's start cut by its end)."""
    low = max(after - 1, 0)  # a run's start found with the byte before it
    while low < len(text):
        high = len(text) if len(text) - low < 2 * CLUES_CHUNK else low + CLUES_CHUNK  # a chunk and what it follows
        runs = (text if low == 0 and high == len(text) else text[low:high]).translate(_RUNS)  # whole, not copied
        at = runs.find(_RUN_START)
        while at >= 0:
            start = low + at + 1
            if text[start:start + 2] in _SIGNATURE_HEADS and text.startswith(SIGNATURES, start):
                yield start
            at = runs.find(_RUN_START, at + len(_RUN_START))
        if high == len(text):
            break
        low = high - len(_RUN)


def _tried(text: bytes, start: int) -> tuple[bool, str | None]:
    """Whether the base64 at `start` starts a block to decode (as a picture's base64 starts, see `gathered`; else a
    line of 40 base64 characters at least, the first 40 not all hexadecimal digits, after a line that is not one),
    and the type of what its first 512 characters decode to, where that is typed."""
    from vigie.sources import mediatype  # imported here: it types text with this module
    if text.startswith(SIGNATURES, start):
        chars = _base64_chars(gathered(text, start, start + _WINDOW).chars[:512])  # the bytes the scan looked at
        chars = _leading(chars, _STANDARD)
        data = base64.b64decode(chars[:len(chars) // 4 * 4])
        kind = mediatype.sniff(data)
        if kind == "image/bmp" and data[6:10] != bytes(4):  # `Qk`, two characters: its reserved bytes told too
            kind = "application/octet-stream"
        return True, None if kind in mediatype.NOT_FROM_BASE64 else kind
    line = _BLOCK_LINE.match(text, start)
    if line is None or not line[1][:40].translate(None, _HEX):
        return False, None
    previous = text[text.rfind(b"\n", 0, start - 1) + 1:start - 1] if start else b""
    if _B64_LINE.fullmatch(previous) and previous[:40].translate(None, _HEX):
        return False, None
    chars = text[start:start + _WINDOW].translate(None, _SPACES)
    shown = _base64_chars(_leading(chars, _ALPHABETS)[:512])
    shown = _leading(shown, _STANDARD)  # up to a character of the other alphabet
    kind = mediatype.sniff(base64.b64decode(shown[:len(shown) // 4 * 4]))
    return True, None if kind in mediatype.NOT_FROM_BASE64 else kind


class Gathered(NamedTuple):
    """A block of base64 as `gathered` reads it."""

    chars: bytes  # its characters, JSON's escapes read, line breaks and indentation left out
    end: int  # where it ends in the text
    last: int  # the characters of its last line where that may be text after it (see `gathered`), else 0
    open_line: int  # the characters of its last line where that is not padded (the base64 may go on), else 0


def gathered(text: bytes, start: int, until: int = sys.maxsize, kind: str | None = None) -> Gathered:
    """The block of base64 that starts at `start` (after other text on its line, or indented): its first line's
    base64 (JSON's escapes `\\/`, `\\u002b` read), then the lines after it, raw or escaped as JSON writes them
    (`\\n`), indented or not, or through the same mark on each (see _JOINTS), each its base64 alone (or ending at
    markup or a quote, `AAAA</data>`), of one width (the first's where the block starts its line, else the
    second's), but a last shorter one (or one that ends in `=`); up to byte `until`. Where `kind` is given, a line
    that starts as a picture's base64 does, after lines that decode to a `kind` ending at its own end, starts
    another block (two blocks with no line between).
    `last`: the characters of a last line shorter than the others and unpadded, which may be text after the block
    (`Best`, `20260101`) rather than its end."""
    chars = bytearray()
    position = end = start
    starts_its_line = _starts_its_line(text, start)
    width: int | None = None
    lines = 0
    final, final_padded = b"", False  # the last line's characters, its padding
    splits: list[int] = []  # the ends looked at (at most _MOST_ENDS_LOOKED_AT a block: each decodes it so far)
    splitting = kind in _PICTURE_ENDS
    match, limit = _BLOCK_CONTENT.match, min(len(text), until)
    joint: bytes | None = None  # what joins its first two lines (see _JOINTS)
    while (line := match(text, position, limit)):
        content, padding, more, other = line.group(1, 2, "more", "other")
        if b"\\" in content:
            content = _ESCAPES.sub(_unescaped, content)
        if lines and (other is not None or (width is not None and len(content) > width)
                      or (splitting and content[:2] in _SIGNATURE_HEADS and content.startswith(SIGNATURES)
                          and _ends_here(chars, kind, splits))):
            break
        if more is not None and more != joint:  # told at once where each line is joined alike (a line break)
            if joint is None:
                joint = more
            elif not (_PLAIN_JOINT.fullmatch(more) and _PLAIN_JOINT.fullmatch(joint)):  # a mark, on one of them
                more = None  # a quote's or a comment's lines end (or start): the block too
        chars += content
        chars += padding
        end, position = line.end(2), line.end()
        lines += 1
        final, final_padded = content, bool(padding)
        if width is None:
            if (lines == 1 and starts_its_line) or lines == 2:
                width = len(content)
        elif len(content) < width:
            break
        if padding or more is None:  # padded, or followed by other than a break
            break
    # a last line unpadded (at a break, a quote, markup or the text's end), shorter than the others (or the second of
    # a block that starts after other text): maybe text after it (a word, a date, a digest), where the base64 ended on
    # a full line
    full = width is not None and len(final) >= width and (lines > 2 or starts_its_line)
    word = lines > 1 and not final_padded and not full
    last = len(final) if word else 0
    return Gathered(bytes(chars), end, last, 0 if final_padded else len(final))


def _starts_its_line(text: bytes, start: int) -> bool:
    """Whether only spaces precede `start` on its line (looked for _MOST_INDENT bytes back at most: a long line's
    runs each looked at once)."""
    before = text[max(0, start - _MOST_INDENT):start]
    line = before.rfind(b"\n")
    return (line >= 0 or start <= _MOST_INDENT) and not before[line + 1:].strip(b" \t")


def _ends_here(chars: bytearray, kind: str | None, looked_at: list[int]) -> bool:
    """Whether a block's base64 so far decodes to a JPEG, a PNG or a GIF that ends at its own end: its last bytes
    that picture's end first (a fast test), then its structure (at most _MOST_ENDS_LOOKED_AT times a block)."""
    marker = _PICTURE_ENDS.get(kind or "")
    if marker is None or len(chars) % 4 or len(looked_at) >= _MOST_ENDS_LOOKED_AT:
        return False
    if not base64.b64decode(_base64_chars(bytes(chars[-12:]))).endswith(marker):
        return False
    looked_at.append(len(chars))
    return _ends_whole(bytes(chars), kind or "")


def _ends_whole(chars: bytes, kind: str) -> bool:
    """Whether base64 decodes to a `kind` that ends at its own end."""
    try:
        data = base64.b64decode(_base64_chars(chars), validate=True)
    except (binascii.Error, ValueError):
        return False
    return ends_at_its_own_end(data, kind)


def ends_at_its_own_end(data: bytes, kind: str | None = None) -> bool:
    """Whether `data` is a JPEG, a PNG, a GIF or an MP4 (see `trailing.content_end`), a RIFF file (WebP, AVI), a
    BMP or a zip (of `kind`, else the type it shows) whose own end is its last byte: its structure's, a RIFF's or a
    BMP's size, a zip's end record and comment; False for another format, or one followed by other bytes."""
    from vigie.sources import mediatype
    from vigie.sources.trailing import content_end  # imported here: they type files with this module
    kind = kind or mediatype.sniff(data[:mediatype.SNIFF_BYTES])
    if data[:4] == b"RIFF" and len(data) >= 8:
        size = 8 + int.from_bytes(data[4:8], "little")
        return len(data) in (size, size + size % 2)  # a pad byte after an odd size
    if kind == "image/bmp":
        return int.from_bytes(data[2:6], "little") == len(data)
    if kind == "application/zip":
        record = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
        return record >= 0 and record + 22 + int.from_bytes(data[record + 20:record + 22], "little") == len(data)
    return content_end(data, kind) == len(data)


def _unescaped(escape: re.Match[bytes]) -> bytes:
    return _UNESCAPED[escape[0][-2:].lower()]


class _Run(NamedTuple):
    start: int
    end: int
    url: bool  # base64url: its `-_` read as `+/`
    last: int  # see `Gathered`


def _run(text: bytes, head_bytes: int) -> _Run | None:
    """Where the base64 of a text starts, told by its head as the file was typed: at its start (after a
    byte-order mark, an armour line and its headers; also in lines shorter than 16 characters, see `_wrapped`),
    else on the head's first whole line of base64 after some text; whether it is base64url (the head's run has
    `-` or `_` and neither `+` nor `/`); and where it ends (see `gathered`)."""
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
    first = _NOT_SPACE.search(text, start)
    start = len(text) if first is None else first.start()
    block = gathered(text, start)
    return _Run(start, block.end, url, block.last)


def _wrapped(lines: bytes) -> bool:
    """Whether short lines are base64 as an encoder wraps it: each but the last of one length, a multiple of 4."""
    lengths = {len(line.rstrip(b"\r")) for line in lines.split(b"\n")[:-2]}
    return len(lengths) == 1 and lengths.pop() % 4 == 0


def as_read(text: bytes) -> bytes:
    """A text as its searches read it (the scan's, as it is hashed, and its members'): in UTF-16 (told by its
    byte-order mark) as UTF-8 (at most half as long again: the cap on what is held applies to what is read); lines
    that end in a lone CR (an old Mac's) as ending in LF, each at the same byte."""
    if text.startswith(_UTF16_MARKS):
        text = text.decode("utf-16", "replace").encode()
    if b"\r" in text and _LONE_CR.search(text):
        return _LONE_CR.sub(b"\n", text)
    return text


def capped_members(members: Iterator[Member]) -> Iterator[Member]:
    """A text's members, at most MOST_TEXT_MEMBERS of them (the scan and read-back count them alike); past them,
    said."""
    for number, member in enumerate(members, 1):
        if number > MOST_TEXT_MEMBERS:
            raise ArchiveLimitError(f"{MOST_TEXT_MEMBERS:,} members read from this text (data: URIs, uuencoded "
                                    "files, blocks of base64): those after them not read")
        yield member


def holds_uri(text: bytes) -> bool:
    """Whether a text holds a data: URI's start (`_MARKER`), searched in pieces made lower case."""
    return any(_MARKER.search(text[at:at + CLUES_CHUNK + _MARKER_BYTES].lower())
               for at in range(0, len(text), CLUES_CHUNK))


def base64_head(head: bytes) -> bytes | None:
    """The first bytes that the base64 a text holds decodes to, where its head is base64 (see `_run`), for
    its type; None where it is not."""
    if not looks_like_text(head):
        return None
    head = as_read(head)
    if (run := _run(head, len(head))) is None:
        return None
    chars = head[run.start:run.end].translate(_URL_ALPHABET if run.url else None, _SPACES)
    cut = re.match(rb"[A-Za-z0-9+/]*", chars)
    usable = cut[0] if cut else b""
    whole = run.end == len(head) or len(usable) >= _WHOLE_HEAD
    if len(usable) < 16 or not whole:
        return None
    return base64.b64decode(usable[:len(usable) // 4 * 4])


def base64_members(text: bytes, settings: Settings, expansion: Expansion, outer_name: bytes,
                   head_bytes: int, taken: list[tuple[int, int]]) -> Iterator[Member]:
    """The file a base64 file holds, named after the base64 file less its suffix (`picture.b64!/picture`); its
    span added to `taken`."""
    if (run := _run(text, head_bytes)) is None:  # typed by a head that is not this one's
        raise ArchiveLimitError("its head, read again, holds no base64: not decoded")
    start, end = run.start, run.end
    taken.append((start, end))
    chars = text[start:end].translate(_URL_ALPHABET if run.url else None, _SPACES)
    problems = []
    if (rest := text[end:].lstrip()) and not rest.startswith(b"-----END "):
        problems.append(f"the base64 ends at byte {end:,}, before other text: only the base64 before it is read "
                        "into this member")
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
    name = stem or b"decoded"
    for suffix, reading, problem in _word_readings(chars, run.last, data, "; ".join(problems) or None, None,
                                                    name.decode(errors="replace")):
        yield decoded_member(name + suffix, reading, settings, expansion, problem)


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


def later_base64_members(text: bytes, taken: list[tuple[int, int]], settings: Settings, expansion: Expansion,
                         prefix: bytes = b"", after: int = 0) -> Iterator[Member]:
    """The files the blocks of base64 in a text hold (see `_tried`; outside `taken`, the spans of its data: URIs;
    from `after` on), each a member `base64-N.SUBTYPE` named after `prefix` (N counting them from 1, SUBTYPE the one
    its bytes show); past MOST_BASE64_TRIES blocks of nothing typed, said."""
    spans = _merged(taken)
    tries = number = 0
    read_to = after
    for start in _text_starts(text, after):
        if start < read_to or _within(spans, start):  # in a block read (its lines start no other), or in a URI
            continue
        tried, shown = _tried(text, start)
        tries += tried
        if shown is None:
            if tries >= MOST_BASE64_TRIES:
                raise ArchiveLimitError(f"{MOST_BASE64_TRIES:,} lines that start blocks of base64 decode to nothing "
                                        f"typed, the last at byte {start:,}: base64 after it not looked for")
            continue
        block = gathered(text, start, kind=shown)
        read_to = block.end
        number += 1
        subtype = shown.rsplit("/", 1)[-1]
        for suffix, data, problem in _readings(text, start, block, shown):
            yield decoded_member(prefix + b"base64-%d%s.%s" % (number, suffix, subtype.encode()), data, settings,
                                 expansion, problem)


def _readings(text: bytes, start: int, block: Gathered, kind: str) -> list[tuple[bytes, bytes, str | None]]:
    """What a block of base64 decodes to (a name's suffix, its bytes, what was wrong): where its last line may be
    text after it (`Best`, a date), the reading that ends at the picture's own end, or both, the one without that
    line `-without-last-line`, each saying so (see `_word_readings`)."""
    chars = _base64_chars(block.chars)
    data, problem = _decoded(chars, block.end)
    if not problem and _starts_its_line(text, start):  # a block alone on its lines
        lines = text[start:block.end].split(b"\n")
        full = len(lines[-1].strip()) == len(lines[0].strip()) and not lines[-1].endswith(b"=")
        stray = _STRAY_LINE.match(text, block.end) if full else None  # a shorter last line: the block ended there
        problem = None if stray is None else (f"the base64 is followed at byte {stray.start(1):,} by a line that "
                                              "starts as base64 would: what follows the base64 is taken as not part "
                                              "of it, its bytes may not be those written")
    if not problem and (goes_on := _goes_on(text, block)) is not None and not ends_at_its_own_end(data, kind):
        problem = (f"the base64 may go on at byte {goes_on:,} on lines that hold other text before or after it (a "
                   "mark on each line not read): only its lines before it are read into this member, its bytes may "
                   "not be those written")
    return _word_readings(chars, block.last, data, problem, kind, "base64-N")


def _goes_on(text: bytes, block: Gathered) -> int | None:
    """Where base64 of its last line's width (40 characters at least, unpadded) starts on the line after a block,
    after or before other text on it (a mark on each line `gathered` does not read through: `; `, `-- `, `",`), where
    nothing but a few characters follows the block on its own line; else None."""
    width = block.open_line
    if width < 40 or (break_at := text.find(b"\n", block.end, block.end + _MOST_MARK + 2)) < 0:
        return None
    line = text[break_at + 1:break_at + 1 + width + 2 * _MOST_MARK].split(b"\n", 1)[0].rstrip(b"\r")
    run = _OPEN_RUN.search(line)
    if run is None or len(run[0]) != width or (not run.start() and run.end() == len(line)):  # its base64 alone
        return None
    return break_at + 1 + run.start()


def _word_readings(chars: bytes, last: int, data: bytes, problem: str | None, kind: str | None, member: str
                   ) -> list[tuple[bytes, bytes, str | None]]:
    """`data`, what base64 `chars` decode to (`problem`: what was wrong), as `member`'s bytes; where their last line
    (`last` characters) may be text after them, the reading that ends at the picture's own end (see `_readings`):
    alone where the line reads as text (`may_be_text_after`), else with the other (a picture's own bytes after its
    end, `AAAA` aside, are its last line as often)."""
    if not last or ends_at_its_own_end(data, kind):
        return [(b"", data, problem)]
    without, _ = _decoded(chars[:-last], 0)
    taken, either = word_after_notes(chars[-last:].decode(), member)
    text_like, ends_without = may_be_text_after(chars[-last:]), ends_at_its_own_end(without, kind)
    if text_like and ends_without:
        return [(b"", without, taken)]
    if not text_like and not ends_without:
        return [(b"", data, problem)]
    return [(b"", data, "; ".join(filter(None, (problem, either)))), (b"-without-last-line", without, either)]


def may_be_text_after(line: bytes) -> bool:
    """Whether a short last line of base64 may rather be text after it where the picture's end does not tell (a
    TIFF's, a picture followed by other bytes): a word (`Best`), a number or a date, a digest in hexadecimal. Base64's
    own last line is of letters alone now and then, of hexadecimal digits alone past a few characters almost never."""
    return line.isalpha() or not line.translate(None, _HEX)


def word_after_notes(word: str, member: str) -> tuple[str, str]:
    """What a member whose base64's last line may be text after it (`Best`, `20260101`) says: where it is taken
    for text (the picture ends before it), and where both readings are read (`member` and
    `member-without-last-line`)."""
    return (f"the line {word!r} after the base64 is taken as text after it, not its last line: what the base64 "
            "holds ends before it",
            f"the last line of the base64, {word!r}, may be text after it: its bytes are read with it (member "
            f"{member}) and without it ({member}-without-last-line), one of them those written")


def _decoded(chars: bytes, end: int) -> tuple[bytes, str | None]:
    """What base64 decodes to, and where it is damaged, that (decoded as far as it goes)."""
    try:
        return base64.b64decode(chars, validate=True), None
    except (binascii.Error, ValueError) as exc:
        return lenient_base64(_NOT_STANDARD.sub(b"", chars)), (
            f"its base64 is damaged ({exc}): decoded as far as it goes, its bytes may not be those written; what "
            f"follows the base64 at byte {end:,} is taken as not part of it")


def _text_starts(text: bytes, after: int = 0) -> Iterator[int]:
    """Where `_starts` finds base64 that may start a block from `after` on, the text's first line among them (as
    TextClues reads it, after a line break)."""
    if not after and (first := _LINE_CLUE.match(b"\n" + text[:_WINDOW])) is not None:
        yield first.end() - 1
    yield from _starts(text, after)


def _base64_chars(chars: bytes) -> bytes:
    """Base64url (`-` or `_`, and neither `+` nor `/`) as base64."""
    if re.search(rb"[-_]", chars) and not re.search(rb"[+/]", chars):
        return chars.translate(_URL_ALPHABET)
    return chars


def _leading(chars: bytes, alphabet: bytes) -> bytes:
    """The characters `chars` starts with that `alphabet` has."""
    return chars[:len(chars) - len(chars.lstrip(alphabet))]


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans that overlap (a URI inside one not read) joined, in order."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _within(spans: list[tuple[int, int]], position: int) -> bool:
    at = bisect.bisect_right(spans, (position, sys.maxsize)) - 1
    return at >= 0 and spans[at][0] <= position < spans[at][1]
