"""`vigie hash` and `vigie provenance`: what one file says, outside any case, one JSON line each."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from vigie.config import Settings
from vigie.signals.pdq import VARIANT_NAMES
from vigie.signals.registry import DIGESTS

# Errors that say a fingerprint is missing or not of the whole file (a cut file, a picture that does not decode,
# a stored checksum that differs); notes such as "its EXIF thumbnail shows another picture" are not.
_NOT_READ_STAGES = frozenset({"read", "decode", "image-hash", "timeout", "internal"})


def _analyse_file(path: str, settings: Settings) -> list[Any] | None:
    """The records of one file outside any case (the file's, then what it holds); prints a JSON error line and
    returns None if unreadable."""
    from vigie.signals.analysis import analyse_entry
    from vigie.sources.directory import FileSource

    try:
        source = FileSource(path)
        return analyse_entry(next(source.entries()), lambda: source.open(""), settings)
    except OSError as exc:
        print(json.dumps({"path": path, "errors": [f"cannot read: {exc.strerror or exc}"]}))
        return None


def _not_read_in_full(records: list[Any] | None, shown: list[Any]) -> bool:
    """Whether a file was not read (nothing was found in it), or a line shown says what could not be read or
    decoded: the exit status of `hash` and `provenance` says so."""
    return records is None or not records[0].digests.get("sha256") or any(
        stage in _NOT_READ_STAGES for record in shown for stage, _ in record.errors)


def _in_thumbnails(record: Any) -> bool:
    """Whether a record is a picture the file's metadata hides, its EXIF thumbnail or another (or one a hidden
    picture hides), not an archive member (a zip behind the file may hold members of those names: they come
    second)."""
    from vigie.sources.base import parse_relpath
    from vigie.sources.hidden_pictures import HIDDEN_NAMES

    members = parse_relpath(record.relpath).members
    return bool(members) and all(member.name in HIDDEN_NAMES and member.occurrence == 1 for member in members)


@click.command("hash")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
def hash_files(files: tuple[str, ...]) -> None:
    """Print fingerprints of FILES, one JSON line each: md5, sha1, sha256, pdq and quality; for a video
    also its vPDQ frame hashes ("vpdq": frame_number,quality,pdq_hex,timestamp lines). A picture with an
    EXIF thumbnail gets a line for the thumbnail too (FILE!/exif-thumbnail.jpg), with "pdq_without_bars"
    where the thumbnail shows another picture that black bars frame; so does each other picture its
    metadata hides that shows another (FILE!/photoshop-thumbnail.jpg, ...).

    The picture itself never leaves the machine: share these lines instead, so a platform or the
    police can find copies without anyone seeing the image. Exit status 1 when a file could not be read in
    full or decoded (its "errors" say why: a picture that does not decode has no pdq); every line is printed.
    """
    settings = Settings()
    incomplete = 0
    for path in files:
        records = _analyse_file(path, settings)
        shown = [] if records is None else [records[0], *filter(_in_thumbnails, records[1:])]
        incomplete += _not_read_in_full(records, shown)
        for record in shown:
            _print_fingerprints(path + record.relpath, record)
    sys.exit(1 if incomplete else 0)


def _print_fingerprints(path: str, record: Any) -> None:
    line: dict[str, Any] = {
        "path": path, "size": record.size, "media_type": record.media_type,
        **{s.name: record.digests.get(s.name) for s in DIGESTS}, "pdq": record.pdq,
        "quality": record.pdq_quality,
    }
    if _in_thumbnails(record) and len(record.pdq_variants) > len(VARIANT_NAMES):  # its picture inside black bars
        line["pdq_without_bars"] = record.pdq_variants[len(VARIANT_NAMES)]
    if record.codec is not None:
        line |= {"duration": record.duration, "codec": record.codec, "frame_rate": record.frame_rate,
                 "vpdq": [frame.vpdq_line() for frame in record.frames]}
    line["errors"] = [f"{stage}: {message}" for stage, message in record.errors]
    print(json.dumps(line))


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
    generated); null when the detector is off. Exit status 1 when a file could not be read in full or
    decoded (its "errors" say why: the watermarks and the detector look at the picture's pixels); every line
    is printed.
    """
    from vigie.signals.provenance.verdict import ai_verdict

    settings = Settings(c2pa_trust_anchors=trust or "", watermarks=not no_watermarks, detector=not no_detector)
    incomplete = 0
    for path in files:
        records = _analyse_file(path, settings)
        incomplete += _not_read_in_full(records, records[:1] if records else [])
        if records is None:
            continue
        record = records[0]
        print(json.dumps({
            "path": path, "media_type": record.media_type, "ai": ai_verdict(record.findings, record.media_type),
            "errors": [f"{stage}: {message}" for stage, message in record.errors],
        }, ensure_ascii=False))
    sys.exit(1 if incomplete else 0)


COMMANDS = [hash_files, provenance]
