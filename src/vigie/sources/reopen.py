"""Reading one stored item's bytes again, through any archives it sits in (for thumbnails)."""

from __future__ import annotations

import io

from vigie.config import Settings
from vigie.mediatype import SNIFF_BYTES, sniff
from vigie.sources.archives import Expansion, iter_members
from vigie.sources.base import split_archive_path
from vigie.sources.directory import open_source


def read_item_bytes(root: str, relpath: str, settings: Settings, limit: int) -> bytes | None:
    """The item's bytes, or None when it is gone or larger than `limit`."""
    outer, inner = split_archive_path(relpath)
    try:
        stream = open_source(root).open(outer)
    except OSError:
        return None
    with stream:
        if not inner:
            data = stream.read(limit + 1)
            return data if len(data) <= limit else None
        current: io.BufferedIOBase | None = stream  # type: ignore[assignment]
        name = outer
        for depth, wanted in enumerate(inner):
            if current is None:
                return None
            head = current.peek(SNIFF_BYTES) if hasattr(current, "peek") else b""
            if not head and hasattr(current, "seek"):
                head = current.read(SNIFF_BYTES)
                current.seek(0)
            media_type = sniff(head[:SNIFF_BYTES])
            found: bytes | None = None
            for member in iter_members(current, media_type, settings, Expansion(), name):  # type: ignore[arg-type]
                if member.name == wanted and member.stream is not None:
                    cap = limit if depth == len(inner) - 1 else settings.max_nested_archive_bytes
                    found = member.stream.read(cap + 1)
                    if len(found) > cap:
                        return None
                    break
            if found is None:
                return None
            if depth == len(inner) - 1:
                return found
            current, name = io.BufferedReader(io.BytesIO(found)), wanted  # type: ignore[arg-type]
    return None
