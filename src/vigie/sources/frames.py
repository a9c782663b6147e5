"""A sound's frames walked by the length each frame's header gives (MPEG audio, AAC in ADTS), to where the sound
ends: read a window at a time, every frame checked to belong to the stream its first starts."""

from __future__ import annotations

from collections.abc import Callable

from vigie.sources.members import ArchiveLimitError

_WINDOW = 1 << 16  # read this much at a time while walking the frames


def frames_end(read_at: Callable[[int, int], bytes], start: int, end: int, most: int, header_size: int,
               length_of: Callable[[bytes], int | None], same_stream: Callable[[bytes, bytes], bool], kind: str
               ) -> int:
    """Where the frames from `start` end: the first byte before `end` where no frame of the first's stream starts
    (`start` where none does; `end` where the last runs to it or past it, cut short at most); at most `most`
    frames, said past them."""
    at, window_at, window = start, start, b""
    first = b""
    for _ in range(most):
        if at + header_size > end:
            return end
        if at + header_size > window_at + len(window):
            window_at, window = at, read_at(at, min(_WINDOW, end - at))
        header = window[at - window_at:at - window_at + header_size]
        first = first or header
        length = length_of(header)
        if length is None or not same_stream(header, first):
            return at
        at += length
    raise ArchiveLimitError(f"more than {most:,} {kind} frames: what follows them not looked for")
