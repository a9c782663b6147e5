"""Settings: defaults here, overridden by the case's `vigie.toml`, overridden by the command line."""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from vigie.errors import VigieError

CASE_CONFIG_NAME = "vigie.toml"

MiB = 1024 * 1024
GiB = 1024 * MiB


class SettingsError(VigieError, ValueError):
    """A setting that does not exist or has the wrong type (the message names it and the file)."""
    exit_code = 2


@dataclass(frozen=True)
class Settings:
    # Matching
    pdq_threshold: int = 31  # PDQ's "confident match" distance
    pdq_min_quality: int = 50  # hashes below this are too flat to match on
    stack_threshold: int = 31
    # Decoding
    max_image_pixels: int = 200_000_000
    max_image_bytes: int = 512 * MiB
    pdq_full_decode_pixels: int = 40_000_000  # larger images are decoded at reduced scale for PDQ
    max_image_frames: int = 64  # pages/frames of one image hashed and matched; the rest are noted on the item
    # Video
    seconds_per_hash: float = 1.0  # vPDQ's sampling interval
    vpdq_match_percent: float = 80.0  # share of unique frames matched, both ways
    max_video_seconds: float = 6 * 3600.0
    max_video_frames: int = 1_000_000
    max_video_decode_seconds: float = 900.0
    max_member_video_bytes: int = 2 * GiB  # videos inside archives are decoded from memory
    # Faces (the `faces` extra)
    faces: bool = False
    face_detector: str = "hog"  # or "yunet", with face_model
    face_model: str = ""  # path to YuNet's ONNX file
    face_max_side: int = 1600  # images are scaled to this for detection and embedding
    # Provenance
    c2pa_trust_anchors: str = ""  # PEM file of signers to trust; others validate as "untrusted"
    watermarks: bool = True  # decode Stable Diffusion's invisible watermarks (a full RGB decode per image)
    detector: bool = True  # run the statistical AI-image detector
    detector_model: str = ""  # an ONNX model of `vigie ai train`; empty: the one shipped with Vigie
    # Archives
    max_archive_depth: int = 4
    max_member_bytes: int = 64 * GiB
    max_compression_ratio: int = 200  # checked once an archive has expanded past ratio_floor_bytes
    ratio_floor_bytes: int = 64 * MiB
    max_archive_expanded_bytes: int = 1024 * GiB
    max_nested_archive_bytes: int = 1 * GiB  # nested archives are opened in memory, never on disk
    # Review console
    claim_minutes: int = 60  # a reviewer's claimed stacks go back to everyone's queue after this long
    # Store
    store: str = ""  # a PostgreSQL case (postgresql://user@host/db?case=NAME); empty: case.sqlite in the case folder
    # Work
    workers: int = os.cpu_count() or 1
    file_seconds: float = 120.0  # wall-clock budget per file for decoding and analysis, after hashing

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def with_overrides(self, overrides: dict[str, Any]) -> Settings:
        unknown = set(overrides) - set(self.keys())
        if unknown:
            raise SettingsError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        typed = {}
        for key, value in overrides.items():
            expected = type(getattr(self, key))
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
                raise SettingsError(f"setting {key} must be {expected.__name__}, got {value!r}")
            typed[key] = value
        return replace(self, **typed)

    def as_dict(self) -> dict[str, Any]:
        """The settings a scan records and analysis reads: not `store`, where the case is (its URL may hold a
        password)."""
        settings = asdict(self)
        del settings["store"]
        return settings


def load_settings(case_dir: Path | None, overrides: dict[str, Any] | None = None) -> Settings:
    settings = Settings()
    if case_dir is not None:
        config_file = case_dir / CASE_CONFIG_NAME
        if config_file.is_file():
            with config_file.open("rb") as handle:
                try:
                    settings = settings.with_overrides(tomllib.load(handle))
                except (tomllib.TOMLDecodeError, ValueError) as exc:
                    raise SettingsError(f"{config_file}: {exc}") from exc
    return settings.with_overrides({k: v for k, v in (overrides or {}).items() if v is not None})
