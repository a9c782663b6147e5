"""Cryptographic digests computed in one streaming pass: every digest the signal registry names."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vigie.signals.registry import DIGESTS


class StreamingDigests:
    def __init__(self) -> None:
        # MD5 and SHA-1 identify files here; they protect nothing
        self._hashers = {s.name: hashlib.new(s.algorithm or s.name, usedforsecurity=False) for s in DIGESTS}

    def update(self, chunk: bytes) -> None:
        for hasher in self._hashers.values():
            hasher.update(chunk)

    def result(self) -> dict[str, str]:
        """Signal name -> lowercase hex digest."""
        return {name: hasher.hexdigest() for name, hasher in self._hashers.items()}


@dataclass(frozen=True)
class StoredCheck:
    """A digest a disk image holds of its own media (an E01's acquisition MD5/SHA-1) against the one computed."""

    name: str
    stored: str
    computed: str | None  # None: the media could not be read to its end

    @property
    def outcome(self) -> str:
        if self.computed is None:
            return "not checked (media unreadable)"
        return "match" if self.computed == self.stored else "mismatch"


def check_stored(stored: Iterable[tuple[str, str]], computed: Mapping[str, str]) -> list[StoredCheck]:
    """Each stored (name, digest) against the computed digest of that name (signal name -> hex)."""
    return [StoredCheck(name, value, computed.get(name)) for name, value in stored]
