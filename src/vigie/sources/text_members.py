"""What a text typed `text/plain` by its clues as it was hashed (`textborne.TextClues`) holds: its `data:` URIs
(`data_uris.py`), the files uuencoded in it, and the blocks of base64 further in than its head (see
`textborne.py`), in that order; and what a file of base64 holds, and its data: URIs too, and the pictures appended
past its armour's end line (`-----END PKCS7-----`, which PEM readers stop at) read as its member `after-the-end`
(`trailing.py`). It is read at most `max_nested_archive_bytes` (the cap of what is held in memory); a larger one
is said."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from vigie.config import Settings
from vigie.sources.data_uris import unread_uri_note, uri_members
from vigie.sources.members import ArchiveLimitError, Expansion, Member, decoded_member, read_held
from vigie.sources.textborne import (
    as_read,
    base64_members,
    capped_members,
    holds_uri,
    later_base64_members,
    uuencoded_members,
)
from vigie.sources.trailing import AFTER_END_NAME, trailing_after

_ARMOUR_END = b"\n-----END "


def text_members(fileobj: BinaryIO, settings: Settings, expansion: Expansion) -> Iterator[Member]:
    """The members of a text's data: URIs, uuencoded files and blocks of base64 (at most MOST_TEXT_MEMBERS); a
    text none of whose data: URIs gave one, though one there holds data, says so."""
    return capped_members(_text_members(fileobj, settings, expansion))


def _text_members(fileobj: BinaryIO, settings: Settings, expansion: Expansion) -> Iterator[Member]:
    text = as_read(read_held(fileobj, settings, "a file", "its data: URIs, base64 and uuencoded files not read"))
    taken: list[tuple[int, int]] = []
    uris = 0
    for member in uri_members(text, b"", settings, expansion, taken):
        uris += 1
        yield member
    yield from uuencoded_members(text, b"", settings, expansion)
    yield from later_base64_members(text, taken, settings, expansion)
    if not uris and (note := unread_uri_note(text)):
        raise ArchiveLimitError(note)


def base64_file_members(fileobj: BinaryIO, settings: Settings, expansion: Expansion, outer_name: bytes,
                        head_bytes: int) -> Iterator[Member]:
    """The file a file of base64 holds, then the members of its data: URIs (a text typed by its head's base64 may
    hold one further in: a URI on its first line, a block of base64 after it), then of the blocks of base64 after
    its first (`base64-N.SUBTYPE`); at most MOST_TEXT_MEMBERS."""
    return capped_members(_base64_file_members(fileobj, settings, expansion, outer_name, head_bytes))


def _base64_file_members(fileobj: BinaryIO, settings: Settings, expansion: Expansion, outer_name: bytes,
                         head_bytes: int) -> Iterator[Member]:
    held = read_held(fileobj, settings, "base64", "not decoded")
    text = as_read(held)
    taken: list[tuple[int, int]] = []
    yield from base64_members(text, settings, expansion, outer_name, head_bytes, taken)
    yield from _past_the_armour(held, settings, expansion)  # its bytes as held: what follows is no text
    if holds_uri(text):
        yield from uri_members(text, b"", settings, expansion, taken)
    yield from later_base64_members(text, taken, settings, expansion, after=taken[0][1])


def _past_the_armour(text: bytes, settings: Settings, expansion: Expansion) -> Iterator[Member]:
    """The pictures and videos that start after the line that ends a PEM armour (a signature's, a certificate's),
    which its readers never read: each the member `after-the-end`, the note on the first. Text there (the next
    block of a chain) holds none, and is not said."""
    line = text.find(_ARMOUR_END)
    end = -1 if line < 0 else text.find(b"\n", line + len(_ARMOUR_END))
    after = None if end < 0 else trailing_after(text[end + 1:], end + 1, "armour")
    if after is None:
        return
    for number, data in enumerate(after.members):
        yield decoded_member(AFTER_END_NAME, data, settings, expansion, None if number else after.note)
