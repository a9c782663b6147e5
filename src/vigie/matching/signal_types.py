"""Signal types: how each hash is written, validated at the edge, and compared by brute force.

Shaped after python-threatexchange's `SignalType`: exact digests compare by equality, PDQ by Hamming
distance (an integer, never a string), with the scaled index in `pdq_index` as an optional capability.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEX = re.compile(r"^[0-9a-f]+$")


class InvalidHash(ValueError):
    pass


@dataclass(frozen=True)
class SignalType:
    name: str
    hex_length: int
    description: str
    max_distance: int = 0  # 0: exact only

    def validate(self, value: str) -> str:
        normalised = value.strip().lower()
        if len(normalised) != self.hex_length or not _HEX.match(normalised):
            shown = value if len(value) <= 80 else value[:77] + "..."
            raise InvalidHash(f"{self.name} {shown!r} is not {self.hex_length} hexadecimal digits")
        return normalised

    def distance(self, a: str, b: str) -> int:
        if self.max_distance == 0:
            return 0 if a == b else self.hex_length * 4
        return (int(a, 16) ^ int(b, 16)).bit_count()

    def matches(self, a: str, b: str, threshold: int | None = None) -> bool:
        limit = self.max_distance if threshold is None else threshold
        return self.distance(a, b) <= limit


MD5 = SignalType("md5", 32, "MD5 digest of the file's bytes")
SHA1 = SignalType("sha1", 40, "SHA-1 digest of the file's bytes")
SHA256 = SignalType("sha256", 64, "SHA-256 digest of the file's bytes")
PDQ = SignalType("pdq", 64, "PDQ perceptual hash of the image", max_distance=31)

SIGNALS = {s.name: s for s in (MD5, SHA1, SHA256, PDQ)}
EXACT_SIGNALS = (MD5, SHA1, SHA256)


# python-threatexchange's signal type names (`tx hash`, its file exchange: `<signal_type> <value>` lines)
TX_FILE_SIGNALS = {"pdq": PDQ, "video_md5": MD5, "video_sha256": SHA256, **{s.name: s for s in EXACT_SIGNALS}}
TX_OTHER_SIGNALS = ("url", "url_md5", "raw_text", "trend_query")  # about URLs and text: never a file's hash
