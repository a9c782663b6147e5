"""Cryptographic digests computed in one streaming pass."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Digests:
    md5: str
    sha1: str
    sha256: str


class StreamingDigests:
    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha1 = hashlib.sha1(usedforsecurity=False)
        self._sha256 = hashlib.sha256()

    def update(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        self._sha1.update(chunk)
        self._sha256.update(chunk)

    def result(self) -> Digests:
        return Digests(self._md5.hexdigest(), self._sha1.hexdigest(), self._sha256.hexdigest())


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


def check_stored(stored: Iterable[tuple[str, str]], computed: object) -> list[StoredCheck]:
    """Each stored (name, digest) against `computed`'s digest of that name (a record's, or a Digests)."""
    return [StoredCheck(name, value, getattr(computed, name)) for name, value in stored]
