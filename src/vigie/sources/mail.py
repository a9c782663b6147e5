"""E-mail: an exported message (.eml; Apple Mail's .emlx) and a mailbox (mbox, as Thunderbird and Google Takeout
keep mail), their attachments and inline pictures read as members, decoded from base64 or quoted-printable; a web
page saved as MHTML (.mht, a message too) gives its pictures so.

A mailbox is read message by message (each at most `max_nested_archive_bytes`, the cap of what is held in
memory), its members named `message-N/NAME`; a message's own parts are named by their file names (or the last
segment of their Content-Location), or `part-N.SUBTYPE` where they have none. Text bodies are not members, but
the pictures a body holds as `data:` URIs are (`part-N.html/data-uri-M.SUBTYPE`), the files uuencoded in a
body (`part-N.plain/NAME`) and the blocks of base64 after its text (`part-N.plain/base64-M.SUBTYPE`). An
attachment whose encoding is damaged is read as the mail reader decodes it, with a note: its bytes may not be those
sent. A forwarded message is walked into, its attachments named as the message's own, also where it is itself encoded
(base64, quoted-printable); a part nested deeper than MOST_NESTED_PARTS is read whole, as a member of its own, and
said. Each encoded forward's text is let go once decoded (a forward nested 95 deep held a copy of the message a
level), and what they decode to, all levels of one message together, is at most twice the cap of a message: the
forward past it is read whole, as a member of its own (a message read in its turn), and said.

A message signed opaquely keeps its content inside its signature (`smime.p7m`, a CMS SignedData): that part is
a member (sniffed as SIGNED_TYPE), and what it signed is its members, a message's parts named as the message's
own (`smime.p7m!/photo.jpg`), or the one file it signed (`photo.jpg.p7m!/photo.jpg`); a message compressed with
S/MIME (`smime.p7z`, CMS CompressedData) so too, its content inflated within the caps on what an archive expands
to. A part declared S/MIME whose bytes are not a signature, a compression or an encryption Vigie tells is said.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from email import policy
from email.feedparser import BytesFeedParser
from email.message import Message
from typing import BinaryIO, NamedTuple

from vigie.config import Settings
from vigie.sources.cms import COMPRESSED_TYPE, CmsError, cms_type, compressed_content, signed_content
from vigie.sources.data_uris import uri_members
from vigie.sources.members import (
    ArchiveLimitError,
    CappedReader,
    Expansion,
    Member,
    ZlibReader,
    decoded_member,
    read_held,
)
from vigie.sources.textborne import base64_head, capped_members, later_base64_members, uuencoded_members

# Python's mail parser holds a message as lines, at 9 to 90 times its bytes (short lines cost most): a message is
# parsed only under both caps, else said; the lesser of these and max_nested_archive_bytes holds
_MOST_MESSAGE_BYTES = 128 << 20
_MOST_LINES = 2_000_000
# parts inside parts (a message forwarded in a message, and so on): the mail parser recurses once a level, and
# Python's stack ends near 1,000; a part deeper than this is read whole, as a member of its own
MOST_NESTED_PARTS = 100
MAIL_TYPE = "message/rfc822"
MBOX_TYPE = "application/mbox"
_HEADER_LINE = re.compile(rb"[!-9;-~]{1,76}:")  # a header's name: printable, no space nor colon
_HEADER_NAMES = (b"received:", b"return-path:", b"from:", b"to:", b"subject:", b"date:", b"message-id:",
                 b"mime-version:", b"content-type:", b"delivered-to:", b"reply-to:", b"x-")
_TRACE_HEADERS = (b"received:", b"return-path:", b"delivered-to:", b"dkim-signature:", b"arc-seal:",
                  b"arc-message-signature:", b"arc-authentication-results:", b"authentication-results:",
                  b"x-gmail-labels:", b"x-gm-thrid:", b"x-mozilla-status:")
_DATA_SCHEME = re.compile(rb"data:", re.IGNORECASE)  # a body's data: URIs, in any case as a browser reads them
_SMIME_TYPES = ("application/pkcs7-mime", "application/x-pkcs7-mime")
# a signed entity's header block is looked through this far for its Content-Type
_MOST_ENTITY_HEADER_BYTES = 64 << 10
_MOST_ENTITY_HEADER_LINES = 1_000
_IDENTIFYING = (b"from:", b"received:", b"return-path:", b"message-id:", b"mime-version:", b"delivered-to:")


def is_mail(head: bytes) -> bool:
    """A message's header block: its first line a header, and at least three lines that are headers a
    message carries, one of them naming where it comes from or what it is."""
    lines = [line.lower() for line in head.split(b"\n")[:40]]
    if not lines or b":" not in lines[0][:80] or lines[0][:1] in (b" ", b"\t"):
        return False
    if lines[0].startswith(_TRACE_HEADERS):  # a header only mail carries, however long (a DKIM signature)
        return True
    named = [line for line in lines if line.startswith(_HEADER_NAMES)]
    return len(named) >= 3 and any(line.startswith(_IDENTIFYING) for line in named)


def is_emlx(head: bytes) -> bool:
    """Apple Mail's message file: the message's length in bytes on the first line, then the message."""
    first, _, rest = head.partition(b"\n")
    return first.strip().isdigit() and is_mail(rest)


def is_mbox(head: bytes) -> bool:
    """A mailbox: its first line a "From " separator, then a message."""
    first, _, rest = head.partition(b"\n")
    return first.startswith(b"From ") and is_mail(rest)


def entity_head(content: bytes) -> bool | None:
    """A MIME entity, as a signature holds it: a block of header lines (or their folded continuations) ending in a
    blank line, a Content-Type anywhere in it: True; content that starts with header lines but is not taken for an
    entity (no Content-Type, no blank line, or a header block past _MOST_ENTITY_HEADER_LINES lines or
    _MOST_ENTITY_HEADER_BYTES bytes): None; else False."""
    typed = False
    lines = content[:_MOST_ENTITY_HEADER_BYTES].split(b"\n")
    for number, line in enumerate(lines[:_MOST_ENTITY_HEADER_LINES + 1]):
        line = line.rstrip(b"\r")
        if not line:
            return False if number == 0 else typed or None
        if number == len(lines) - 1 and len(content) > _MOST_ENTITY_HEADER_BYTES:
            break  # a line the cap cut: the block goes on past it
        if line[:1] in (b" ", b"\t") and number > 0:
            continue  # a header folded over lines
        if not _HEADER_LINE.match(line):
            return None if number > 0 else False
        typed = typed or line.lower().startswith(b"content-type:")
    return None


def mail_members(fileobj: BinaryIO, mbox: bool, settings: Settings, expansion: Expansion) -> Iterator[Member]:
    """The attachments and inline pictures of one message, or of every message of a mailbox; a cap that stopped
    the reading of a body's base64 is said once every part is read."""
    stopped: list[str] = []
    if not mbox:
        raw = fileobj.read(_most_bytes(settings) + 1)
        first, _, rest = raw.partition(b"\n")
        if first.strip().isdigit():  # Apple Mail's .emlx: the message's length, the message, then a plist
            raw = rest[:int(first.strip())]
        yield from _parts(_message(raw, settings), b"", settings, expansion, stopped)
    else:
        for number, raw in enumerate(_mbox_messages(fileobj, settings), 1):
            yield from _parts(_message(raw, settings), b"message-%d/" % number, settings, expansion, stopped)
    if stopped:
        raise ArchiveLimitError("; ".join(stopped))


def signed_members(fileobj: BinaryIO, settings: Settings, expansion: Expansion, outer_name: bytes
                   ) -> Iterator[Member]:
    """What an S/MIME signature or compression holds inside it: a MIME entity's parts, named as a message's own,
    or the one file it signed (or compressed), named as the signature less `.p7m` (`.p7z`; `content` where it has
    no such name). A signature cut short or damaged gives what it holds up to there, and is said; a compression
    so is said, its content not read."""
    data = read_held(fileobj, settings, "an S/MIME signature", "what it holds not read")
    compressed = cms_type(data[:512]) == COMPRESSED_TYPE
    signed = compressed_content(data) if compressed else signed_content(data)
    del data
    stopped: list[str] = []
    content = signed.content
    if compressed and content is not None:
        if signed.problem is not None:
            raise CmsError(f"{signed.problem}: its compressed content not read")
        content = _inflated(content, settings, expansion)
    entity = entity_head(content) if content else False
    if entity and content:
        yield from _parts(_message(content, settings), b"", settings, expansion, stopped)
    elif content:
        stem = outer_name.rsplit(b"/", 1)[-1]
        stem = stem[:-4] if stem.lower().endswith(b".p7z" if compressed else b".p7m") else b""
        said = None if entity is False else (
            "it starts with header lines, but not a MIME entity's header block (a blank line ending it, a "
            f"Content-Type in it, within {_MOST_ENTITY_HEADER_LINES:,} lines and {_MOST_ENTITY_HEADER_BYTES:,} "
            "bytes): read as one file, the parts it may hold not separated")
        # inflated through the caps already: counted once
        yield Member(stem or b"content", io.BytesIO(content), len(content), None, name_problem=said) if compressed \
            else decoded_member(stem or b"content", content, settings, expansion, said)
    if signed.problem is not None:
        raise CmsError(signed.problem)
    if stopped:
        raise ArchiveLimitError("; ".join(stopped))


def _inflated(compressed: bytes, settings: Settings, expansion: Expansion) -> bytes:
    """A CompressedData's content inflated, within the caps on what an archive expands to (a member's size, the
    top-level file's expansion, the ratio) and the cap of what is held in memory; damaged or cut short: said, not
    read."""
    most = settings.max_nested_archive_bytes
    inflating = ZlibReader(compressed)
    try:
        capped = CappedReader(io.BufferedReader(inflating), settings, expansion, len(compressed))
        content = io.BufferedReader(capped).read(most + 1)
    except zlib.error as exc:
        raise CmsError(f"its compressed content is damaged ({exc}): not read") from None
    if len(content) > most:
        raise ArchiveLimitError(f"compressed content that inflates past {most:,} bytes (the cap of what is held in "
                                "memory): not read")
    if not inflating.ended:
        raise CmsError("its compressed content is cut short: not read")
    return content


def _most_bytes(settings: Settings) -> int:
    return min(settings.max_nested_archive_bytes, _MOST_MESSAGE_BYTES)


def _message(raw: bytes, settings: Settings, most_nested: int = MOST_NESTED_PARTS) -> _Parsed:
    if len(raw) > _most_bytes(settings) or raw.count(b"\n") > _MOST_LINES:
        raise ArchiveLimitError(f"a message of more than {_most_bytes(settings):,} bytes or {_MOST_LINES:,} lines "
                                "(what the mail parser holds in memory grows with both): its parts not read")
    parser = _Parser(most_nested)
    parser.feed(raw)
    return _Parsed(parser.close(), parser.held_whole)


class _Parsed(NamedTuple):
    message: Message
    held_whole: dict[int, tuple[Message, str]]  # each part whose body was kept unparsed (held: its id not reused), why


class _Parser(BytesFeedParser):
    """Python's mail parser, which keeps unparsed, as a leaf, the body of a forwarded message that is itself
    encoded (base64, quoted-printable: the parser would read its encoded text as a message) and of a part nested
    deeper than `most_nested` (the parser's recursion would overflow the stack)."""

    def __init__(self, most_nested: int) -> None:
        super().__init__(policy=policy.default)  # file names decoded as mail readers show them
        self._most_nested = most_nested
        self.held_whole: dict[int, tuple[Message, str]] = {}
        self._holding: Message | None = None

    def _parse_headers(self, lines: list[str]) -> None:
        super()._parse_headers(lines)  # type: ignore[misc]
        part: Message = self._cur  # type: ignore[attr-defined]
        if len(self._msgstack) > self._most_nested:  # type: ignore[attr-defined]
            self.held_whole[id(part)] = (part, DEEP)
        elif part.get_content_maintype() == "message" and _encoding(part) in _ENCODINGS:
            self.held_whole[id(part)] = (part, ENCODED)
        else:
            return
        self._holding = part
        self._headersonly = True  # this part's body, up to its end, is kept as it is

    def _pop_message(self) -> Message:
        popped: Message = super()._pop_message()  # type: ignore[misc]
        if popped is self._holding:
            self._holding = None
            self._headersonly = False
        return popped


DEEP, ENCODED, CONTAINER, SPENT = "deep", "encoded", "container", "spent"
_ENCODINGS = ("base64", "quoted-printable")


def _encoding(part: Message) -> str:
    return str(part.get("Content-Transfer-Encoding", "")).strip().lower()


def _mbox_messages(fileobj: BinaryIO, settings: Settings) -> Iterator[bytes]:
    """Each message of a mailbox, without its "From " line: a message ends where a "From " line follows an empty
    line and is followed by a header (mbox's rule; a "From " line in a body that a mail program did not escape
    as ">From ", followed by text, stays in the body)."""
    most = _most_bytes(settings)
    message = bytearray()
    separator: bytes | None = None  # a "From " line after an empty one, until the next line says what it is
    previous_blank = True
    # a line is read at most as far as the cap: a mailbox of one endless line costs no more than one message
    for line in iter(lambda: fileobj.readline(most + 1), b""):
        if separator is not None:
            if _HEADER_LINE.match(line):  # a new message: the one before ends at the separator
                if message:
                    yield bytes(message)
                message = bytearray()
            else:
                message += separator
            separator = None
        if line.startswith(b"From ") and previous_blank:
            separator = line
        else:
            message += line
            if len(message) > most:
                raise ArchiveLimitError(f"a message of more than {most:,} bytes (what the mail parser holds in "
                                        "memory grows with it): it and the messages after it not read")
        previous_blank = not line.strip()
    if separator is not None:
        message += separator
    if message:
        yield bytes(message)


def _located(part: Message) -> str | None:
    """The last segment of a part's Content-Location (a web page saved as MHTML names its pictures so)."""
    location = str(part.get("Content-Location", "")).split("?", 1)[0].rstrip("/")
    segment = location.rsplit("/", 1)[-1][:100]
    return segment or None


def _walk(parsed: _Parsed, settings: Settings) -> Iterator[tuple[Message, str | None]]:
    """Every part, in the order a mail reader lists them (as `Message.walk`, without its recursion), each with
    CONTAINER where its parts follow it, DEEP where it is kept whole; a forwarded message that is encoded is
    decoded and walked into as a plain one is (its text let go), SPENT where the forwards decoded before it
    already reach twice the cap of a message (it is kept whole)."""
    held = dict(parsed.held_whole)
    stack: list[tuple[Message, int]] = [(parsed.message, 1)]
    decoded = 0  # what encoded forwards decoded to, all levels together
    while stack:
        part, depth = stack.pop()
        why = held[id(part)][1] if id(part) in held else None
        if why == ENCODED and depth < MOST_NESTED_PARTS:
            body = part.get_payload(decode=True)
            body = body if isinstance(body, bytes) else b""
            decoded += len(body)
            if decoded > 2 * _most_bytes(settings):
                yield part, SPENT
                continue
            part.set_payload("")  # its text let go: only its headers are needed (as a container's)
            inner = _message(body, settings, MOST_NESTED_PARTS - depth)
            del body
            held.update(inner.held_whole)
            yield part, CONTAINER
            stack.append((inner.message, depth + 1))
        elif why is not None:
            yield part, DEEP
        elif isinstance(children := part.get_payload(), list):  # a multipart, or a plain forwarded message
            yield part, CONTAINER
            stack.extend((child, depth + 1) for child in reversed(children) if isinstance(child, Message))
        else:
            yield part, None


def _body_members(body: bytes, within: bytes, settings: Settings, expansion: Expansion) -> Iterator[Member]:
    """What a text body holds: its data: URIs, its uuencoded files, and the blocks of base64 after its text (a
    picture pasted so)."""
    taken: list[tuple[int, int]] = []
    if _DATA_SCHEME.search(body):
        yield from uri_members(body, within, settings, expansion, taken)
    if b"begin " in body:
        yield from uuencoded_members(body, within, settings, expansion)
    yield from later_base64_members(body, taken, settings, expansion, within)


def _parts(parsed: _Parsed, prefix: bytes, settings: Settings, expansion: Expansion,
           stopped: list[str]) -> Iterator[Member]:
    """Every part that is not a container or a text body, in the order a mail reader lists them, and what the text
    bodies hold; a cap that stopped the reading of a body's base64 added to `stopped`."""
    for number, (part, held) in enumerate(_walk(parsed, settings)):
        if held == CONTAINER:
            continue
        if held is None and part.get_content_maintype() == "text" and not part.get_filename():  # a body: not a
            body = part.get_payload(decode=True)  # member itself, but the pictures its data: URIs hold are, and
            if not isinstance(body, bytes):  # the files uuencoded in it (old mail programs' attachments)
                continue
            within = prefix + b"part-%d.%s/" % (number, part.get_content_subtype().encode("ascii", "replace"))
            try:  # at most MOST_TEXT_MEMBERS, as in other text
                yield from capped_members(_body_members(body, within, settings, expansion))
            except ArchiveLimitError as exc:
                stopped.append(f"in {within.decode('ascii', 'replace').rstrip('/')}: {exc}")
            continue
        unnamed = b"part-%d.%s" % (number, part.get_content_subtype().encode("ascii", "replace"))
        named: str | None = None
        try:
            filename = part.get_filename() or _located(part)
        except Exception as exc:  # the mail library's own errors on a hostile name (RFC 2231)
            filename = None
            named = f"its file name cannot be decoded ({type(exc).__name__}: {exc}); named {unnamed.decode()}"
        name = filename.encode("utf-8", "surrogateescape") if filename else unnamed
        if held is not None:  # its headers and its body, as sent: a message of its own, read as one
            data = part.as_bytes(policy=policy.default.clone(linesep="\n"))
            problem: str | None = (
                f"nested deeper than {MOST_NESTED_PARTS} parts (a message forwarded in a message, and so on): its "
                "parts were not separated here; it is read whole, as a message of its own") if held == DEEP else (
                f"the encoded forwards of this message decode to more than {2 * _most_bytes(settings):,} bytes "
                "(twice the cap of a message) in all: this one's parts were not separated here; it is read whole, "
                "as a message of its own")
            yield decoded_member(prefix + name, data, settings, expansion,
                                 "; ".join(said for said in (named, problem) if said))
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        damage = [type(defect).__name__ for defect in part.defects]
        problem = (f"its encoding is damaged ({', '.join(damage)}): read as a mail reader decodes it, its bytes "
                   "may not be those sent") if damage else None
        unknown = ("declared S/MIME (application/pkcs7-mime), but its bytes are not a signature, a compression nor "
                   "an encryption Vigie tells (CMS signed, compressed or enveloped data): what it may hold is not read"
                   ) if _declared_smime(part, filename) and not _cms(data) else None
        if part.get_content_maintype() == "multipart":  # its boundaries not found: its parts cannot be told apart
            problem = (f"a multipart body whose parts cannot be told apart ({', '.join(damage) or 'no boundary'}): "
                       "read whole, as it is; the attachments in it were not separated")
        yield decoded_member(prefix + name, data, settings, expansion,
                             "; ".join(said for said in (named, problem, unknown) if said) or None)


def _declared_smime(part: Message, filename: str | None) -> bool:
    """A part that says it is an S/MIME signature, compression or encryption holding its content (`smime.p7m`,
    `smime.p7z`)."""
    return part.get_content_type() in _SMIME_TYPES or (filename or "").lower().endswith((".p7m", ".p7z"))


def _cms(data: bytes) -> bool:
    """A CMS structure Vigie tells, as it is or as base64 (PEM: a file of base64 is decoded, then read)."""
    decoded = base64_head(data[:512])
    return cms_type(data[:64]) is not None or (decoded is not None and cms_type(decoded) is not None)
