"""`vigie hash` and `vigie provenance`: what one file says, outside any case, one JSON line each."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from vigie.config import Settings
from vigie.signals.registry import DIGESTS


def _analyse_file(path: str, settings: Settings) -> Any:
    """The record of one file outside any case; prints a JSON error line and returns None if unreadable."""
    from vigie.signals.analysis import analyse_entry
    from vigie.sources.directory import FileSource

    try:
        source = FileSource(path)
        return analyse_entry(next(source.entries()), lambda: source.open(""), settings)[0]
    except OSError as exc:
        print(json.dumps({"path": path, "errors": [f"cannot read: {exc.strerror or exc}"]}))
        return None


@click.command("hash")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
def hash_files(files: tuple[str, ...]) -> None:
    """Print fingerprints of FILES, one JSON line each: md5, sha1, sha256, pdq and quality; for a video
    also its vPDQ frame hashes ("vpdq": frame_number,quality,pdq_hex,timestamp lines).

    The picture itself never leaves the machine: share these lines instead, so a platform or the
    police can find copies without anyone seeing the image. Exit status 1 when a file could not be read.
    """
    settings = Settings()
    unread = 0
    for path in files:
        record = _analyse_file(path, settings)
        unread += record is None or not record.digests.get("sha256")  # not read: nothing was found in it
        if record is None:
            continue
        line: dict[str, Any] = {
            "path": path, "size": record.size, "media_type": record.media_type,
            **{s.name: record.digests.get(s.name) for s in DIGESTS}, "pdq": record.pdq,
            "quality": record.pdq_quality,
        }
        if record.codec is not None:
            line |= {"duration": record.duration, "codec": record.codec, "frame_rate": record.frame_rate,
                     "vpdq": [frame.vpdq_line() for frame in record.frames]}
        line["errors"] = [f"{stage}: {message}" for stage, message in record.errors]
        print(json.dumps(line))
    sys.exit(1 if unread else 0)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--trust", type=click.Path(exists=True, dir_okay=False), help="PEM file of C2PA signers to trust.")
@click.option("--no-watermarks", is_flag=True, help="Skip decoding invisible watermarks.")
@click.option("--no-detector", is_flag=True, help="Skip the statistical detector.")
def provenance(files: tuple[str, ...], trust: str | None, no_watermarks: bool, no_detector: bool) -> None:
    """Print the AI-generation finding of FILES outside any case, one JSON line each.

    {"path", "media_type", "ai": {"verdict", "signals": [{kind, detail, value, strength}], "detector": {score,
    threshold, model}}}. The verdict is "ai-provenance" when a deterministic mark of generation is found,
    "ai-indicated" when only the statistical detector is above its threshold, else "undetermined"; never
    "real". An image's detector score is shown whether it is above the threshold or not (higher: more likely
    generated); null when the detector is off. Exit status 1 when a file could not be read.
    """
    from vigie.signals.provenance.verdict import ai_verdict

    settings = Settings(c2pa_trust_anchors=trust or "", watermarks=not no_watermarks, detector=not no_detector)
    unread = 0
    for path in files:
        record = _analyse_file(path, settings)
        unread += record is None or not record.digests.get("sha256")  # not read: nothing was found in it
        if record is None:
            continue
        print(json.dumps({
            "path": path, "media_type": record.media_type, "ai": ai_verdict(record.findings, record.media_type),
            "errors": [f"{stage}: {message}" for stage, message in record.errors],
        }, ensure_ascii=False))
    sys.exit(1 if unread else 0)


COMMANDS = [hash_files, provenance]
