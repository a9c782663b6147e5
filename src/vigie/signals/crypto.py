"""Cryptographic digests computed in one streaming pass: every digest the signal registry names."""

from __future__ import annotations

import hashlib

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
