"""A CMS (PKCS #7) structure, the signature of an S/MIME message signed opaquely (`smime.p7m`) or its compression
(`smime.p7z`): its kind told from its first bytes (a detached signature, `smime.p7s`, which holds no content, told
apart), and the content it holds taken out by a small BER walker (a compressed one left to its reader to inflate).
DER and BER alike (a streaming signer writes indefinite lengths and cuts the content into chunks); each length is
checked against what holds it, and nesting is capped, so a structure cut short or hostile is read up to there and
said. The signature is not checked: nothing is said of its validity. Where the structure ends (`structure_end`,
`written_end`) is where what follows it is looked at (`signature_end.py`)."""

from __future__ import annotations

from typing import NamedTuple

SIGNED_TYPE = "application/pkcs7-mime; smime-type=signed-data"  # read: its content is members
DETACHED_TYPE = "application/pkcs7-signature"  # a signature that holds no content (it travels beside it)
COMPRESSED_TYPE = "application/pkcs7-mime; smime-type=compressed-data"  # read: its content, inflated, is members
ENCRYPTED_TYPE = "application/pkcs7-mime; smime-type=enveloped-data"  # said: only the recipient's key reads it
ENCRYPTED_NOTE = "encrypted S/MIME: its content cannot be read without the recipient's key"
# every kind told: what follows its own end is looked at (signature_end.py), whether its content is read or not
CMS_TYPES = frozenset({SIGNED_TYPE, DETACHED_TYPE, COMPRESSED_TYPE, ENCRYPTED_TYPE})
_KINDS = {
    bytes.fromhex("2a864886f70d010702"): SIGNED_TYPE,  # 1.2.840.113549.1.7.2, signedData
    bytes.fromhex("2a864886f70d010703"): ENCRYPTED_TYPE,  # 1.2.840.113549.1.7.3, envelopedData
    bytes.fromhex("2a864886f70d0109100117"): ENCRYPTED_TYPE,  # 1.2.840.113549.1.9.16.1.23, authEnvelopedData
    bytes.fromhex("2a864886f70d0109100109"): COMPRESSED_TYPE,  # 1.2.840.113549.1.9.16.1.9, compressedData
}
_ZLIB = bytes.fromhex("2a864886f70d0109100308")  # 1.2.840.113549.1.9.16.3.8: the one compression CMS defines
# elements nested in elements: a content cut into chunks of chunks goes a few deep; the walk keeps its own stack
MOST_NESTED = 64
# elements walked, a few microseconds each: a structure of 2-byte elements hostile to the walk stops within seconds;
# a signer's content cut into chunks of a line (OpenSSL's text mode) reaches it past 70 MB, said
MOST_ELEMENTS = 1_000_000
# and, past the first 10,000, at most one element per 32 bytes of the structure: content cut into chunks of a few
# bytes (3 bytes an element: 10 seconds for 3 MB, which a zip packs into a few KB) stops within a second, said,
# while a signer's chunks (OpenSSL's 4 KiB, or a line of text each in its text mode) are all walked
_FREE_ELEMENTS = 10_000
_BYTES_AN_ELEMENT = 32
_SEQUENCE, _SET, _OID, _INTEGER, _OCTETS, _CHUNKED_OCTETS, _EXPLICIT_0 = 0x30, 0x31, 0x06, 0x02, 0x04, 0x24, 0xA0
_CONSTRUCTED = 0x20
# the tags a CMS structure's elements carry: a byte that starts none (a picture's, a zip's) ends what holds them
_PLAUSIBLE_TAGS = frozenset({_INTEGER, _OCTETS, _OID, _SEQUENCE, _SET, 0x80, 0x81, _EXPLICIT_0, 0xA1, 0xA2, 0xA3})


class _Slot(NamedTuple):
    """A place among the elements a CMS element holds: the tags that may fill it, whether it may be left empty,
    and whether it holds any number of them (a SET OF)."""

    tags: frozenset[int]
    optional: bool = False
    repeated: bool = False


def _once(*tags: int) -> _Slot:
    return _Slot(frozenset(tags))


_ANY = (_Slot(_PLAUSIBLE_TAGS, repeated=True),)
_CONTENT_INFO = (_once(_OID), _once(_EXPLICIT_0))  # its content's type, then its content
# what each element holds, from a ContentInfo down its last element, where a length is raised over bytes that are
# no element of it (an element past those CMS defines, or of a tag it does not put there, ends what holds it): a
# ContentInfo, its [0], a SignedData, its SignerInfos, a SignerInfo, its unsigned attributes; another kind's
# content is known less, any elements of the tags CMS uses
_SIGNED_ORDER = (_CONTENT_INFO, (_once(_SEQUENCE),),
                 (_once(_INTEGER), _once(_SET), _once(_SEQUENCE), _Slot(frozenset({_EXPLICIT_0}), optional=True),
                  _Slot(frozenset({0xA1}), optional=True), _once(_SET)),  # version, digests, content, certs, CRLs
                 (_Slot(frozenset({_SEQUENCE}), repeated=True),),  # each SignerInfo
                 (_once(_INTEGER), _once(_SEQUENCE, 0x80), _once(_SEQUENCE),  # version, signer, digest algorithm,
                  _Slot(frozenset({_EXPLICIT_0}), optional=True), _once(_SEQUENCE),  # signed attributes, algorithm,
                  _once(_OCTETS, _CHUNKED_OCTETS), _Slot(frozenset({0xA1}), optional=True)),  # signature, unsigned
                 (_Slot(frozenset({_SEQUENCE}), repeated=True),))  # each attribute
_OTHER_ORDER = (_CONTENT_INFO, (_once(*_PLAUSIBLE_TAGS),), _ANY, _ANY, _ANY, _ANY)


def cms_type(head: bytes) -> str | None:
    """SIGNED_TYPE (DETACHED_TYPE where `head` shows it holds no content), ENCRYPTED_TYPE or COMPRESSED_TYPE where
    `head` starts a ContentInfo of that kind: a SEQUENCE (of any length form), then the OID of its content's
    type."""
    if len(head) < 2 or head[0] != _SEQUENCE:
        return None
    at = 2 if head[1] <= 0x80 else 2 + (head[1] & 0x7F)
    if head[1] > 0x84 or head[at:at + 1] != bytes([_OID]) or at + 2 > len(head):
        return None
    kind = _KINDS.get(head[at + 2:at + 2 + head[at + 1]])
    if kind == SIGNED_TYPE:
        try:
            return DETACHED_TYPE if _Walker(head).detached() else kind
        except CmsError:
            return kind  # its start damaged, or longer than `head`: read, and what it holds said
    return kind


class SignedContent(NamedTuple):
    content: bytes | None  # what was signed, as far as it could be read; None where the signature holds none
    problem: str | None  # why it is not all there (cut short, damaged, nested too deep), to say on the item


class CmsError(ValueError):
    """A structure that cannot be walked further."""


class _Element(NamedTuple):
    tag: int  # the identifier's first byte: class, constructed, number (0x1F for a number in the bytes after)
    at: int  # where it starts
    start: int  # where its content starts
    end: int | None  # where its content ends; None for an indefinite length, ended by two zero bytes
    bound: int  # where what holds it ends: its content, of whatever length, ends by there


def signed_content(data: bytes) -> SignedContent:
    """The content a SignedData holds (its encapsulated content's OCTET STRING, joined from its chunks), read
    as far as the structure allows."""
    return _content(data, SIGNED_TYPE)


def compressed_content(data: bytes) -> SignedContent:
    """The content a CompressedData holds, compressed with zlib (its encapsulated content's OCTET STRING, joined
    from its chunks), read as far as the structure allows."""
    return _content(data, COMPRESSED_TYPE)


def structure_end(data: bytes) -> int | None:
    """Where the CMS structure that starts `data` ends (its outer element's length, or its indefinite lengths
    walked); None where it is not told (cut short, hostile)."""
    walker = _Walker(data)
    try:
        end = walker._skip(walker._header(0, len(data)))
    except CmsError:
        return None
    return None if walker.cut is not None else end


def held_end(data: bytes) -> int | None:
    """Where what the CMS structure that starts `data` holds ends, its last element followed down: before the end
    its outer length says where a length was raised over bytes that are no element of it (DER leaves no slack: a
    picture appended, hidden so), or an element CMS does not put there (a picture wrapped as one more); None where
    it is not told (cut short, hostile, of indefinite length)."""
    walker = _Walker(data)
    order = _SIGNED_ORDER if cms_type(data[:512]) in (SIGNED_TYPE, DETACHED_TYPE) else _OTHER_ORDER
    try:
        info = walker._header(0, len(data))
        return None if info.end is None or walker.cut is not None else walker._held_end(info, order)
    except CmsError:
        return None


def _fitting(order: tuple[_Slot, ...], slot: int, tag: int) -> int | None:
    """The slot of `order` where the element after one of `tag` is looked for, that one filling a slot from `slot`
    on; None where none may hold it (the slots from `slot` on filled, or not to be left empty)."""
    for at in range(slot, len(order)):
        tags, optional, repeated = order[at]
        if tag in tags:
            return at if repeated else at + 1
        if not (optional or repeated):
            return None
    return None


def written_end(head: bytes) -> int | None:
    """Where the CMS structure that starts `head` ends, as its outer element's length says (DER's); None where that
    length is indefinite (BER's: only a walk of the whole structure tells its end) or `head` starts none."""
    if len(head) < 2 or head[0] != _SEQUENCE or head[1] == 0x80 or head[1] > 0x88:
        return None
    if head[1] < 0x80:
        return 2 + head[1]
    count = head[1] & 0x7F
    return None if len(head) < 2 + count else 2 + count + int.from_bytes(head[2:2 + count], "big")


def _content(data: bytes, kind: str) -> SignedContent:
    walker = _Walker(data)
    try:
        content = walker.content(kind)
    except CmsError as exc:
        pieces = b"".join(walker.pieces)
        said = (walker.cut, str(exc), "its content read up to there" if pieces else None)  # a cut is often why
        return SignedContent(pieces or None, "; ".join(one for one in said if one))
    return SignedContent(content, walker.cut)


class _Walker:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._view = memoryview(data)  # the content's chunks are joined once, not copied one by one
        self.pieces: list[memoryview] = []  # the content's chunks read so far
        self.cut: str | None = None  # the first length that ran past what holds it (the structure cut short)
        self._walked = 0  # elements read
        self._most = min(MOST_ELEMENTS, max(_FREE_ELEMENTS, len(data) // _BYTES_AN_ELEMENT))

    def _encapsulated(self, kind: str) -> tuple[_Element, int]:
        """The encapsulated content info of a SignedData or a CompressedData (`kind`), and where its content's
        type ends."""
        info = self._header(0, len(self._data))
        self._expect(info, _SEQUENCE, "a CMS ContentInfo")
        oid = self._first(info, _OID, "its content type")
        name = "SignedData" if kind == SIGNED_TYPE else "CompressedData"
        if _KINDS.get(self._data[oid.start:oid.end]) != kind:
            raise CmsError(f"a CMS structure that is not {name}: its content not read")
        held = self._first(self._next(info, oid, _EXPLICIT_0, "its content"), _SEQUENCE, name)
        version = self._first(held, _INTEGER, f"{name}'s version")
        if kind == SIGNED_TYPE:
            before = self._next(held, version, _SET, "SignedData's digest algorithms")
        else:
            before = self._next(held, version, _SEQUENCE, "CompressedData's compression algorithm")
            algorithm = self._first(before, _OID, "the compression algorithm")
            if self._data[algorithm.start:algorithm.end] != _ZLIB:
                raise CmsError("compressed with an algorithm other than zlib, which CMS does not define: its "
                               "content not read")
        encapsulated = self._next(held, before, _SEQUENCE, f"{name}'s encapsulated content")
        content_type = self._first(encapsulated, _OID, "the encapsulated content's type")
        return encapsulated, self._skip(content_type)

    def detached(self) -> bool:
        """Whether the SignedData (its start, at least) holds no content: where it tells, what follows the
        content's type ends its encapsulated content info."""
        encapsulated, after = self._encapsulated(SIGNED_TYPE)
        return after + 2 <= len(self._data) and self._ended(encapsulated, after)

    def content(self, kind: str) -> bytes | None:
        encapsulated, after = self._encapsulated(kind)
        if self._ended(encapsulated, after):
            return None  # a detached signature: the content travels beside it
        explicit = self._header(after, self._bound(encapsulated))
        self._expect(explicit, _EXPLICIT_0, "the encapsulated content")
        octets = self._header(explicit.start, self._bound(explicit))
        if octets.tag not in (_OCTETS, _CHUNKED_OCTETS):
            raise CmsError(f"the encapsulated content at byte {octets.at:,} is not an OCTET STRING")
        self._octets(octets)
        return b"".join(self.pieces)

    def _bound(self, element: _Element) -> int:
        return element.bound if element.end is None else element.end

    def _ended(self, holder: _Element, at: int) -> bool:
        """Whether `holder`'s content ends at `at` (its end, or the two zero bytes of an indefinite length)."""
        if holder.end is not None:
            return at >= holder.end
        if at + 2 > holder.bound:
            self.cut = self.cut or (f"an element of indefinite length at byte {holder.at:,} has no end: the "
                                    "structure is cut short")
            return True
        return self._data[at:at + 2] == b"\x00\x00"

    def _expect(self, element: _Element, tag: int, what: str) -> None:
        if element.tag != tag:
            raise CmsError(f"{what} expected at byte {element.at:,}, found tag 0x{element.tag:02x}")

    def _first(self, holder: _Element, tag: int, what: str) -> _Element:
        if self._ended(holder, holder.start):
            raise CmsError(f"{what} missing at byte {holder.start:,}")
        element = self._header(holder.start, self._bound(holder))
        self._expect(element, tag, what)
        return element

    def _next(self, holder: _Element, before: _Element, tag: int, what: str) -> _Element:
        at = self._skip(before)
        if self._ended(holder, at):
            raise CmsError(f"{what} missing at byte {at:,}")
        element = self._header(at, self._bound(holder))
        self._expect(element, tag, what)
        return element

    def _header(self, at: int, bound: int) -> _Element:
        """The element at `at`, whose content must end by `bound` (the end of what holds it): a length past it
        is cut there, and said."""
        data = self._data
        self._walked += 1
        if self._walked > self._most:
            raise self._too_many()
        if at + 2 > bound:
            raise CmsError(f"the structure ends at byte {bound:,}, inside an element's header (cut short)")
        tag, position = data[at], at + 1
        if tag & 0x1F == 0x1F:  # a tag number in base-128 bytes: none that CMS uses needs more than four
            for _ in range(4):
                if position >= bound:
                    raise CmsError(f"the structure ends at byte {bound:,}, inside a tag (cut short)")
                position += 1
                if not data[position - 1] & 0x80:
                    break
            else:
                raise CmsError(f"a tag number at byte {at:,} longer than four bytes")
        if position >= bound:
            raise CmsError(f"the structure ends at byte {bound:,}, inside an element's header (cut short)")
        first, position = data[position], position + 1
        if first == 0x80:
            if not tag & _CONSTRUCTED:
                raise CmsError(f"an indefinite length on a primitive element at byte {at:,}")
            return _Element(tag, at, position, None, bound)
        if first < 0x80:
            length = first
        else:
            count = first & 0x7F
            if count > 8 or position + count > bound:
                raise CmsError(f"a length of {count} bytes at byte {at:,}, past what holds it or more than 8")
            length = int.from_bytes(data[position:position + count], "big")
            position += count
        if position + length > bound:
            self.cut = self.cut or (f"an element at byte {at:,} claims {length:,} bytes, past the end of what holds "
                                    f"it ({bound - position:,} bytes left): the structure is cut short or damaged, "
                                    "read up to there")
            length = bound - position
        return _Element(tag, at, position, position + length, bound)

    def _held_end(self, holder: _Element, orders: tuple[tuple[_Slot, ...], ...]) -> int:
        """Where the elements `holder` (of a written length) holds end: the first bytes that are no element of
        it (one CMS does not put there (`orders`: what it holds, then what its last element holds, ...), a length
        past its end), else its last element's held end."""
        assert holder.end is not None
        at, last, slot = holder.start, None, 0
        while at < holder.end and (fitting := _fitting(orders[0], slot, self._data[at])) is not None:
            cut = self.cut
            try:
                element = self._header(at, holder.end)
                end = self._skip(element)
            except CmsError:
                if self._walked > self._most:
                    raise
                break
            if self.cut is not cut:  # it runs past what holds it: no element of it
                self.cut = cut
                break
            at, last, slot = end, element, fitting
        if at < holder.end or last is None or last.end is None or not last.tag & _CONSTRUCTED or len(orders) == 1:
            return at
        return self._held_end(last, orders[1:])

    def _too_many(self) -> CmsError:
        if self._most == MOST_ELEMENTS:
            return CmsError(f"more than {MOST_ELEMENTS:,} elements (a structure hostile to its reading, or a content "
                            "cut into chunks too small): not walked further")
        return CmsError(f"more than {self._most:,} elements in {len(self._data):,} bytes (past {_FREE_ELEMENTS:,}, "
                        f"more than one per {_BYTES_AN_ELEMENT} bytes: a content cut into chunks too small, hostile "
                        "to its reading): not walked further")

    def _skip(self, element: _Element) -> int:
        """Where `element` ends: an indefinite length is walked to its two zero bytes, keeping its own stack."""
        if element.end is not None:
            return element.end
        bound = element.bound
        open_ends = 1  # the elements of indefinite length entered and not yet ended
        at = element.start
        while open_ends:
            if at + 2 > bound:
                self.cut = self.cut or (f"an element of indefinite length at byte {element.at:,} has no end: the "
                                        "structure is cut short")
                return bound
            if self._data[at:at + 2] == b"\x00\x00":
                open_ends, at = open_ends - 1, at + 2
                continue
            inner = self._header(at, bound)
            if inner.end is None:
                open_ends += 1
                if open_ends > MOST_NESTED:
                    raise CmsError(f"elements nested more than {MOST_NESTED} deep at byte {at:,}: not walked further")
                at = inner.start
            else:
                at = inner.end
        return at

    def _octets(self, octets: _Element) -> None:
        """The chunks of an OCTET STRING, in order, gathered into `pieces` (a constructed one holds OCTET
        STRINGs, which may be constructed in their turn)."""
        if octets.end is not None and octets.tag == _OCTETS:
            self.pieces.append(self._view[octets.start:octets.end])
            return
        # each constructed string entered: whether its length is indefinite, and where its content must end
        stack = [(octets.end is None, self._bound(octets))]
        at = octets.start
        while stack:
            indefinite, end = stack[-1]
            if indefinite and at + 2 <= end and self._data[at:at + 2] == b"\x00\x00":
                stack.pop()
                at += 2
                continue
            if at >= end:
                if indefinite:
                    self.cut = self.cut or (f"the content's chunks run to byte {end:,} without their end: the "
                                            "structure is cut short")
                stack.pop()
                continue
            at = self._short_chunks(at, end)
            if at >= end or self._data[at:at + 2] == b"\x00\x00":
                continue
            chunk = self._header(at, end)
            if chunk.tag == _OCTETS and chunk.end is not None:  # a primitive's length is never indefinite
                self.pieces.append(self._view[chunk.start:chunk.end])
                at = chunk.end
            elif chunk.tag == _CHUNKED_OCTETS:
                if len(stack) >= MOST_NESTED:
                    raise CmsError(f"the content's chunks nested more than {MOST_NESTED} deep at byte {at:,}: "
                                   "not read further")
                stack.append((chunk.end is None, self._bound(chunk)))
                at = chunk.start
            else:
                raise CmsError(f"a chunk of the content at byte {at:,} is not an OCTET STRING (tag "
                               f"0x{chunk.tag:02x})")

    def _short_chunks(self, at: int, end: int) -> int:
        """The content's chunks from `at` that are OCTET STRINGs of a short length (under 128 bytes: OpenSSL's text
        mode writes a line a chunk), gathered without an element's walk each; where the first other one starts."""
        data, view, pieces = self._data, self._view, self.pieces
        walked, most = self._walked, self._most
        while at + 2 <= end and data[at] == _OCTETS and (size := data[at + 1]) < 0x80 and at + 2 + size <= end:
            walked += 1
            if walked > most:
                self._walked = walked
                raise self._too_many()
            pieces.append(view[at + 2:at + 2 + size])
            at += 2 + size
        self._walked = walked
        return at
