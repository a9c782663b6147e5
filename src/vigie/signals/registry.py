"""The signal registry: the one description of each signal Vigie computes, reads from lists, matches and writes.

Shaped after python-threatexchange's `SignalType`: exact digests compare by equality, PDQ by Hamming
distance (an integer, never a string), with the scaled index in `matching/pdq_index` as an optional
capability. Hash-list readers, the store's columns, the exporters, the CLI and the console iterate
`SIGNALS`; a new exact digest is an entry here (with its `hashlib` algorithm) and a migration adding its
columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex hashes (PDQ's distance)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


_HEX = re.compile(r"^[0-9a-f]+$")


class InvalidHash(ValueError):
    pass


@dataclass(frozen=True)
class SignalType:
    name: str  # its column in the case, its key in records and reports, its CSV header and type prefix
    label: str  # as people write it: SHA-256
    hex_length: int
    description: str
    example: str  # a valid value (contract tests, documentation)
    # "hasher": `algorithm` over the file's bytes, in the one streaming pass; "image": the image stage (PDQ)
    computed_by: Literal["hasher", "image"]
    algorithm: str | None = None  # its hashlib name, for digests the hasher computes
    max_distance: int = 0  # 0: exact only
    csv_aliases: tuple[str, ...] = ()  # other names for it in CSV headers and VICS HashNames (see lists.field_key)
    tx_names: tuple[str, ...] = ()  # other python-threatexchange signal type names for it
    vics_name: str = ""  # VICS 1.3 Media property; in 2.0 its property or its AlternativeHashes HashName
    vics_property: bool = False  # the VICS 2.0 data model declares a Media property for it
    cybertip_hash_type: str | None = None  # CyberTipline originalFileHash hashType; None: not reported there
    # its columns in reports and exported lists: its own, then what qualifies it
    report_columns: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        return self.max_distance == 0

    @property
    def columns(self) -> tuple[str, ...]:
        return self.report_columns or (self.name,)

    def validate(self, value: str) -> str:
        normalised = value.strip().lower()
        if len(normalised) != self.hex_length or not _HEX.match(normalised):
            shown = value if len(value) <= 80 else value[:77] + "..."
            raise InvalidHash(f"{self.name} {shown!r} is not {self.hex_length} hexadecimal digits")
        return normalised

    def distance(self, a: str, b: str) -> int:
        if self.exact:
            return 0 if a == b else self.hex_length * 4
        return hamming(a, b)

    def matches(self, a: str, b: str, threshold: int | None = None) -> bool:
        limit = self.max_distance if threshold is None else threshold
        return self.distance(a, b) <= limit


MD5 = SignalType(
    "md5", "MD5", 32, "MD5 digest of the file's bytes", "d41d8cd98f00b204e9800998ecf8427e", "hasher", "md5",
    tx_names=("video_md5",), vics_name="MD5", vics_property=True,
    cybertip_hash_type="MD5")
SHA1 = SignalType(
    "sha1", "SHA-1", 40, "SHA-1 digest of the file's bytes", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "hasher",
    "sha1", vics_name="SHA1", vics_property=True, cybertip_hash_type="SHA1")
SHA256 = SignalType(
    "sha256", "SHA-256", 64, "SHA-256 digest of the file's bytes",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "hasher", "sha256",
    tx_names=("video_sha256",), vics_name="SHA256",
    cybertip_hash_type="SHA256")
PDQ = SignalType(
    "pdq", "PDQ", 64, "PDQ perceptual hash of the image",
    "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", "image", max_distance=31,
    csv_aliases=("pdq_hex", "perceptual_hash"), vics_name="PDQ", report_columns=("pdq", "pdq_quality"))

SIGNALS = {s.name: s for s in (MD5, SHA1, SHA256, PDQ)}
# Digests of the file's bytes, computed in one streaming pass; SHA-256 is an item's identity
DIGESTS = tuple(s for s in SIGNALS.values() if s.computed_by == "hasher")
IDENTITY = SHA256


def signals_of_length(hex_length: int) -> tuple[SignalType, ...]:
    """The signals a bare value of this many hex digits may be (several: it does not say which)."""
    return tuple(s for s in SIGNALS.values() if s.hex_length == hex_length)


def spoken_list(words: list[str]) -> str:
    """"a, b or c": how messages list the signals."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
