"""A zip behind a file's own content: a self-extractor's, or one appended to a picture or a video to hide it.

zipfile finds a zip by the end record in its last 64 KB, so a zip cut short (its end lost), one whose comment
holds a false end record, and the first of two zips behind one picture would be missed without a word. Behind
pictures and videos, the first local header is looked for too, as the file is hashed: a zip is read from there
when zipfile cannot read one, and a zip in front of the one zipfile reads is read from its local headers.
"""

from __future__ import annotations

import contextlib
import zipfile
from typing import BinaryIO

from vigie.sources.zipsalvage import (
    END_SIGNATURE,
    LOCAL_HEADER,
    LOCAL_SIGNATURE,
    ZIP_END_SEARCH,
    plausible_header_at,
)

# Signatures that start no header the format allows, after which the search stops (and says so): bytes made
# of signatures would otherwise cost a check each.
MOST_FALSE_SIGNATURES = 1_000


class ZipClues:
    """What a file's bytes, fed as they are hashed, tell of a zip behind its content: whether its tail holds a
    zip's end record and, where `headers` (pictures and videos), where the first plausible local header after its
    start is."""

    def __init__(self, headers: bool, start: int = 0) -> None:
        self._headers = headers
        self._seen = start
        self._carry = b""  # the previous chunk's end: a header split between two chunks is checked with the next
        self._false = 0
        self.tail = b""
        self.local_header: int | None = None
        self.stopped_at: int | None = None  # where the search stopped, after MOST_FALSE_SIGNATURES

    def feed(self, chunk: bytes) -> None:
        if self._headers and self.local_header is None and self.stopped_at is None:
            self._look_for_a_header(chunk)
        self._seen += len(chunk)
        self.tail = chunk[-ZIP_END_SEARCH:] if len(chunk) >= ZIP_END_SEARCH else (self.tail + chunk)[-ZIP_END_SEARCH:]

    def _look_for_a_header(self, chunk: bytes) -> None:
        reach = LOCAL_HEADER.size - 1  # the bytes of a header that may lie in the chunk before
        begun = self._carry + chunk[:reach]  # headers begun in the previous chunk, left unchecked there
        self._look_in(begun, self._seen - len(self._carry), len(self._carry) - reach, len(self._carry))
        if self.local_header is None and self.stopped_at is None:
            self._look_in(chunk, self._seen, 0, len(chunk))
        self._carry = chunk[-reach:] if len(chunk) >= reach else (self._carry + chunk)[-reach:]

    def _look_in(self, window: bytes, base: int, first: int, last: int) -> None:
        """Check the signatures that start in window[first:last] and whose fixed part the window holds whole."""
        found = window.find(LOCAL_SIGNATURE, max(first, 1 if base == 0 else 0), last + 3)  # not the file's start
        while 0 <= found < last and found + LOCAL_HEADER.size <= len(window):
            if plausible_header_at(window, found):
                self.local_header = base + found
                return
            self._false += 1
            if self._false >= MOST_FALSE_SIGNATURES:
                self.stopped_at = base + found
                return
            found = window.find(LOCAL_SIGNATURE, found + 1, last + 3)

    @property
    def worth_a_look(self) -> bool:
        return self.local_header is not None or END_SIGNATURE in self.tail


def search_stopped_note(clues: ZipClues) -> str | None:
    """What to say on the item where the search for a zip's local header stopped, after MOST_FALSE_SIGNATURES."""
    if clues.stopped_at is None:
        return None
    return (f"{MOST_FALSE_SIGNATURES:,} zip header signatures that start no header, the last at byte "
            f"{clues.stopped_at:,}: a zip behind this content was not looked for after it")


def clues_of(stream: BinaryIO, headers: bool, until: int | None = None, chunk: int = 1 << 20,
             start: int = 0) -> ZipClues:
    """The clues of a stream read from `start` (its start: an item read again, as the scan read it), to its end
    or for `until` bytes."""
    clues = ZipClues(headers, start)
    stream.seek(start)
    left = until
    while piece := stream.read(chunk if left is None else min(chunk, left)):
        clues.feed(piece)
        if left is not None and (left := left - len(piece)) <= 0:
            break
    return clues


def zip_behind(stream: BinaryIO, clues: ZipClues) -> int | None:
    """Where the members of a zip behind the stream's content are read from, or None when there is none: the
    first plausible local header, else 0 for a zip that zipfile reads by its end record (the offsets of its
    members are its directory's)."""
    if clues.local_header is not None:
        return clues.local_header
    if END_SIGNATURE not in clues.tail:
        return None
    try:
        zipfile.ZipFile(stream).close()
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, NotImplementedError):
        return None
    finally:
        with contextlib.suppress(OSError, ValueError):
            stream.seek(0)
    return 0
