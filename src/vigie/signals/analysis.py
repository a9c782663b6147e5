"""Everything learnt about one evidence file in one read: digests, type, image facts, archive members.

Runs inside scan workers; returns plain records and never raises for bad input: every problem becomes
an error recorded against the item it belongs to.
"""

from __future__ import annotations

import contextlib
import io
import lzma
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from PIL import Image

from vigie.config import Settings
from vigie.detector.runtime import DetectorError, detector_findings, load_detector
from vigie.records import Face, FrameHash, ItemRecord
from vigie.signals.analysed import TOO_LARGE_NOTE, Analysed
from vigie.signals.budget import FileTimeout, file_budget
from vigie.signals.crypto import StreamingDigests, check_stored
from vigie.signals.embedded import HeldPicture, copy_pictures_to_read, hidden_stage, pictures_to_read
from vigie.signals.faces import FaceModelError, check_models, find_faces
from vigie.signals.image import ImageError, analyse_image, decode_picture
from vigie.signals.jpeg_planes import JpegPlanes
from vigie.signals.provenance.c2pa import may_hold_manifest, not_examined_note, read_c2pa
from vigie.signals.provenance.metadata import metadata_findings
from vigie.signals.provenance.verdict import conclude
from vigie.signals.provenance.watermarks import watermark_findings
from vigie.signals.thumbnails import blur_image
from vigie.signals.video import VideoError, VideoLimits, analyse_video
from vigie.sources.archives import iter_members
from vigie.sources.base import Entry, escape_name, member_relpath, parse_relpath
from vigie.sources.bmff import Found
from vigie.sources.cms import CMS_TYPES
from vigie.sources.diskimage import DISK_HEAD_BYTES, nested_image_note
from vigie.sources.hidden_pictures import names_before_a_zip_behind
from vigie.sources.jpeg_segments import HEADER_MARKERS, Segments, jpeg_segments
from vigie.sources.mediatype import (
    SNIFF_BYTES,
    SQLITE_TYPE,
    is_archive,
    is_image,
    is_video,
    may_hide_a_zip_behind,
    sniff,
    unread_archive_note,
)
from vigie.sources.members import ArchiveLimitError, Expansion, Member, decoded_member, unsafe_name_reason
from vigie.sources.signature_end import past_signature
from vigie.sources.sqlite_end import past_the_database
from vigie.sources.textborne import MOST_BASE64_TRIES, MOST_TEXT_KEPT, TEXT_TYPE, TextClues, looks_like_text
from vigie.sources.trailing import AFTER_END_NAME, Following, trailing
from vigie.sources.unread_segments import UNREAD_TYPES, in_unread_segments
from vigie.sources.video_members import IN_BOX_NAME, VideoHeld, video_held
from vigie.sources.zipbehind import ZipClues, search_stopped_note, zip_behind

CHUNK = 1 << 20

_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    OSError,
    ValueError,
    NotImplementedError,
)


@dataclass
class _Read:
    buffer: bytes | None
    zip_clues: ZipClues  # of a zip behind its content, to look at
    head: bytes  # its first bytes, where a disk's structure is looked for (DISK_HEAD_BYTES)

    @cached_property
    def segments(self) -> Segments | None:
        """A JPEG's header segments, walked once for all that reads them (its hidden pictures, its segments no
        reader reads); None for other bytes."""
        jpeg = self.buffer is not None and self.buffer.startswith(b"\xff\xd8")
        return jpeg_segments(self.buffer, HEADER_MARKERS) if self.buffer is not None and jpeg else None


class _Held(NamedTuple):
    """What an item holds that is read as items of its own."""

    archive: bytes | None = None  # a nested archive's bytes, to expand
    pictures: tuple[HeldPicture, ...] = ()  # hidden in its metadata, each may show another picture than its own
    after_end: tuple[bytes, ...] = ()  # what follows a picture's own content, from where each picture or video starts
    zip_start: int | None = None  # the archive is a zip behind the item's own content, its members from there
    zip_clues: ZipClues | None = None  # of a zip behind a file's content, to look at by reopening the file
    embedded: tuple[Found, ...] = ()  # a video's cover art and attachments, read before a zip behind it
    zip_after_own: int | None = None  # a file read by its own structure: a zip behind it, read after its members

    def taken(self, media_type: str) -> tuple[bytes, ...]:
        """Names whose first occurrences on the item's path are not a zip's behind its content (reopen.py counts
        them so): an EXIF thumbnail, a video's cover art and attachments, what follows the content's end."""
        return names_before_a_zip_behind(media_type) + tuple(found.name for found in self.embedded) \
            + (AFTER_END_NAME,) * len(self.after_end)


def _read_item(stream: BinaryIO, record: ItemRecord, settings: Settings, nested: bool) -> _Read:
    """Hash the stream in chunks; keep the bytes only when an image (or nested archive) needs decoding."""
    digests = StreamingDigests()
    size = 0
    kept: list[bytes] | None = None
    cap = 0
    first = stream.read(CHUNK)
    head = first
    while 0 < len(head) < SNIFF_BYTES:
        more = stream.read(SNIFF_BYTES - len(head))
        if not more:
            break
        head += more
    media_type = sniff(head[:SNIFF_BYTES])
    record.media_type = media_type
    # text, searched for data: URIs, base64 and uuencoding as it is hashed (vigie.sources.textborne); a member's
    # kept in case it has some
    text = TextClues() if media_type == "application/octet-stream" and looks_like_text(head[:SNIFF_BYTES]) else None
    if is_image(media_type):
        kept, cap = [], settings.max_image_bytes
    elif (nested or media_type == SQLITE_TYPE) and is_archive(media_type):  # a database, wherever it is: read
        kept, cap = [], settings.max_nested_archive_bytes  # in memory, what follows its pages too (sqlite_end.py)
    elif nested and text is not None:
        kept, cap = [], min(settings.max_nested_archive_bytes, MOST_TEXT_KEPT)
    elif nested and is_video(media_type):  # a member cannot be reopened: decode it from memory
        kept, cap = [], settings.max_member_video_bytes
    elif nested and media_type in CMS_TYPES:  # what follows its own end is looked at in memory (signature_end.py)
        kept, cap = [], settings.max_nested_archive_bytes
    # a member cannot be reopened either: its chunks are kept in case a zip follows its content (a self-extractor)
    behind_only = kept is None and text is None and nested and may_hide_a_zip_behind(media_type)
    if behind_only:
        kept, cap = [], settings.max_nested_archive_bytes
    chunk = head
    # gathered as the file is hashed: a zip behind the content is looked for without reading it again
    zip_clues = ZipClues(headers=is_image(media_type) or is_video(media_type))
    disk_head = b""
    while chunk:
        if len(disk_head) < DISK_HEAD_BYTES:
            disk_head += chunk[:DISK_HEAD_BYTES - len(disk_head)]
        digests.update(chunk)
        size += len(chunk)
        zip_clues.feed(chunk)
        if text is not None:
            text.feed(chunk)
        if kept is not None:
            if size <= cap:
                kept.append(chunk)
            else:
                kept = None
                # text says so below, a database given as its BLOBs are read (sqlite_blobs.py), a zip behind below
                if text is None and not behind_only and (nested or media_type != SQLITE_TYPE):
                    record.add_error("decode", f"{media_type} of more than {cap:,} bytes is {TOO_LARGE_NOTE}")
        chunk = stream.read(CHUNK)
    record.size = size
    if text is not None:
        text.finish()
        if text.stopped_at is not None and not text.found:  # else text_members, which has the same cap, says it
            record.add_error("archive", f"{MOST_BASE64_TRIES:,} lines that start blocks of base64 decode to nothing "
                                        f"typed, the last at byte {text.stopped_at:,}: base64 and uuencoded "
                                        "files after it were not looked for")
    if text is not None and text.found:
        record.media_type = TEXT_TYPE  # an archive of its data: URIs, uuencoded files and base64
        if nested and kept is None:
            record.add_error("archive", f"text holding data: URIs, base64 or uuencoded files, of more than {cap:,} "
                                        "bytes (the most of a member's text held in memory): they were not read")
    elif text is not None:
        kept = None
    record.digests = digests.result()
    if (stopped := search_stopped_note(zip_clues)) is not None:
        record.add_error("archive", stopped)
    if behind_only and zip_clues.worth_a_look and kept is None:
        record.add_error("archive", f"a zip's end record ends this member, of more than {cap:,} bytes (the cap of "
                                    "what is held in memory, setting max_nested_archive_bytes): a zip that may follow "
                                    "its content (a self-extractor) not read")
    elif behind_only and not zip_clues.worth_a_look:
        kept = None  # nothing to look for: the bytes are not joined
    return _Read(b"".join(kept) if kept is not None else None, zip_clues, disk_head)


class Decoded(NamedTuple):
    """An image decoded once per scan: every stage after the image facts reads these."""
    data: bytes  # the bytes decoded: the file, or a PNG without the ancillary chunks Pillow refuses
    picture: Image.Image  # the first picture's pixels (vigie.signals.image.decode_picture), in the opened file
    planes: JpegPlanes | None  # a JPEG's planes as stored, where it was decoded so; then picture is their Y
    opened: Image.Image | None  # and the opened file, for its header

    def colour(self) -> Image.Image | JpegPlanes:
        """What the stages that read colour read: the planes, else the picture."""
        return self.picture if self.planes is None else self.planes


def _reads_colour(settings: Settings) -> bool:
    return settings.watermarks or settings.detector or settings.faces


def _reads_planes(settings: Settings) -> bool:
    """Whether every stage that reads colour can read a JPEG's planes as stored: faces want the whole picture."""
    return not settings.faces


def _add_image_facts(record: ItemRecord, data: bytes, settings: Settings) -> Decoded | None:
    """Size, EXIF and PDQ (the image stage of the signal registry); the decoded image, None when the bytes
    cannot be decoded."""
    try:
        facts = analyse_image(data, settings.max_image_pixels, settings.pdq_full_decode_pixels,
                              settings.max_image_frames, record.media_type, _reads_colour(settings),
                              _reads_planes(settings))
    except ImageError as exc:
        record.add_error("decode", str(exc))
        return None
    record.width, record.height, record.exif = facts.width, facts.height, facts.exif
    if facts.pdq is not None:
        record.pdq, record.pdq_quality, record.pdq_variants = facts.pdq.hash, facts.pdq.quality, facts.pdq.variants
    # later pages/frames are stored as the item's frames (timestamp 0: an image has no time) and matched
    # frame by frame, as a video's are
    record.frames = [FrameHash(index, 0.0, pdq.quality, pdq.hash, pdq.variants) for index, pdq in facts.frames]
    for stage, note in facts.notes:
        record.add_error(stage, note)
    return None if facts.picture is None else Decoded(facts.data, facts.picture, facts.planes, facts.opened)


_MIN_WATERMARK_SIDE = 64  # smaller images hold too few blocks for the 136-bit mark


def _add_image_provenance(record: ItemRecord, decoded: Decoded, settings: Settings) -> None:
    """Metadata marks (PNG text, EXIF, XMP, alpha-channel data), invisible watermarks and the detector's
    score, all on the one decode of the picture (a JPEG's to its planes as stored, or to YCbCr, which each
    converts only where it must)."""
    try:
        detector = load_detector(settings.detector_model) if settings.detector else None
    except DetectorError as exc:  # the file's other findings are still read
        detector = None
        record.add_error("provenance", f"detector not run: {exc}")
    try:
        record.findings.extend(metadata_findings(_opened(decoded), decoded.data, decoded.picture))
        if settings.watermarks and min(decoded.picture.size) >= _MIN_WATERMARK_SIDE:
            record.findings.extend(watermark_findings(decoded.colour(), decoded.data))
        if detector is not None:
            record.findings.extend(detector_findings(decoded.colour(), detector))
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        record.add_error("provenance", f"provenance not read: {exc}")


def _opened(decoded: Decoded) -> Image.Image:
    """The opened file, for its header: the picture itself, unless that is a copy (the file holds more
    pictures; reopening reads the header, and a PNG's pixels too, where its EXIF may follow them) or the Y of
    a JPEG's planes (the file was kept)."""
    if decoded.opened is not None:
        return decoded.opened
    return decoded.picture if decoded.picture.format else Image.open(io.BytesIO(decoded.data))


def read_faces(data: bytes, settings: Settings) -> list[Face]:
    """Every face in an image's bytes (FaceModelError, OSError or ValueError when they cannot be searched),
    its first picture decoded as a scan decodes it."""
    with Image.open(io.BytesIO(data)) as image:
        return _faces(decode_picture(image, settings.pdq_full_decode_pixels), settings)


def _faces(picture: Image.Image, settings: Settings) -> list[Face]:
    return find_faces(picture, settings.face_detector, settings.face_model, settings.face_max_side)


def _add_faces(record: ItemRecord, decoded: Decoded, settings: Settings) -> None:
    if not settings.faces:
        return
    try:
        record.faces = _faces(decoded.picture, settings)
    except FaceModelError as exc:
        record.add_error("faces", str(exc))
    except (OSError, ValueError) as exc:
        record.add_error("faces", f"faces not searched: {exc}")


# What is learnt from a decoded image, in order; each stage records its own problems against the item.
_IMAGE_STAGES: tuple[Callable[[ItemRecord, Decoded, Settings], None], ...] = (_add_image_provenance, _add_faces)


def load_models(settings: Settings) -> None:
    """Load the models the analysis uses, outside any file's budget: a fresh worker's first file must not pay
    for them (under load that took over a second, and an innocent file ran out of its budget). A model that
    fails to load is left to each file, which records why."""
    with contextlib.suppress(DetectorError):
        if settings.detector:
            load_detector(settings.detector_model)
    with contextlib.suppress(FaceModelError):
        if settings.faces:
            check_models(settings.face_detector, settings.face_model)


def _analyse_image(record: ItemRecord, data: bytes, settings: Settings,
                   segments: Segments | None) -> tuple[HeldPicture, ...]:
    """The image's facts and findings; returns the pictures its metadata hides that may show another picture."""
    decoded = _add_image_facts(record, data, settings)
    if decoded is not None:
        for stage in _IMAGE_STAGES:
            stage(record, decoded, settings)
    picture = None if decoded is None else decoded.picture
    return pictures_to_read(record, data, picture, record.pdq_variants, settings, segments)


@lru_cache(maxsize=4)
def _trust_anchors(path: str) -> str | None:
    return Path(path).read_text() if path else None


def _add_provenance(record: ItemRecord, stream: BinaryIO, settings: Settings) -> None:
    try:
        anchors = _trust_anchors(settings.c2pa_trust_anchors)
    except OSError as exc:
        record.add_error("provenance", f"trust list {settings.c2pa_trust_anchors} unreadable: {exc.strerror}")
        anchors = None
    record.findings.extend(read_c2pa(stream, record.media_type or "", anchors))


def video_limits(settings: Settings) -> VideoLimits:
    return VideoLimits(settings.seconds_per_hash, settings.max_video_seconds, settings.max_video_frames,
                       settings.max_video_decode_seconds)


def _add_video_facts(record: ItemRecord, source: BinaryIO, settings: Settings, pictures_read: int) -> None:
    try:
        facts = analyse_video(source, video_limits(settings), pictures_read)
    except VideoError as exc:
        record.add_error("decode", str(exc))
        return
    record.duration, record.codec, record.frame_rate = facts.duration, facts.codec, facts.frame_rate
    record.width, record.height = facts.width, facts.height
    record.frames = facts.frames
    record.stills = [(number, timestamp, blur_image(image)) for number, timestamp, image in facts.stills]
    for problem in facts.problems:
        record.add_error("decode", problem)


def _analyse_stream(
    stream: BinaryIO, record: ItemRecord, settings: Settings, nested: bool, reopen: Any = None,
    analysed: Analysed | None = None,
) -> _Held:
    """Fill `record`; returns what it holds that is read as items of its own."""
    read = _read_item(stream, record, settings, nested)
    media_type = record.media_type or ""
    video = _video_held(record, read, reopen, settings) if is_video(media_type) else None
    if analysed is not None and analysed.mark_copy(record):
        if (note := nested_image_note(record.relpath, media_type, read.head)) is not None:  # by its name too:
            record.add_error("not-examined", note)  # the first copy, named otherwise, may not have it
        # an archive's members are still listed, and a hidden picture that shows another picture
        return _held(record, read, nested, copy_pictures_to_read(record, read.buffer, settings, read.segments),
                     video, settings)
    # Hashing is never cut short (a known file must match); what follows has the file's budget.
    budget = settings.file_seconds + (settings.max_video_decode_seconds if is_video(media_type) else 0)
    pictures: tuple[HeldPicture, ...] = ()
    try:
        with file_budget(budget, record.relpath):
            pictures = _analyse_content(read, record, settings, reopen, _pictures_read(video))
    except FileTimeout as exc:
        record.add_error("timeout", str(exc))
    except Exception as exc:  # a defect of ours in one stage: the digests, and what the item holds, are kept
        record.add_error("internal", internal_failure(exc))
    if analysed is not None:
        analysed.remember(record)
    return _held(record, read, nested, pictures, video, settings)


def internal_failure(exc: Exception) -> str:
    """What a defect of ours says on the item it struck."""
    return f"analysis failed ({type(exc).__name__}: {exc}); please report this"


def _held(record: ItemRecord, read: _Read, nested: bool, pictures: tuple[HeldPicture, ...],
          video: VideoHeld | None, settings: Settings) -> _Held:
    """What an item holds: its archive read in memory, or a zip behind the content it read in memory (a file's
    own is looked for by _analyse_entry, which can reopen it), the pictures its metadata hides, what follows a
    picture's or a video's own content (said on the item), and a video's cover art and attachments."""
    media_type = record.media_type or ""
    if read.buffer is not None and media_type == SQLITE_TYPE:
        return _past_own_end(record, _Held(read.buffer, pictures), past_the_database(read.buffer))
    if read.buffer is not None and media_type in CMS_TYPES:
        own = read.buffer if is_archive(media_type) else None  # a detached signature, an encryption: no content read
        held = _past_own_end(record, _Held(own, pictures),
                             past_signature(io.BytesIO(read.buffer), settings.max_nested_archive_bytes))
        if own is None and held.zip_after_own is not None:  # a zip past its end is all it holds
            held = held._replace(archive=read.buffer, zip_start=held.zip_after_own, zip_after_own=None)
        return held
    if read.buffer is not None and is_archive(media_type):
        behind = zip_behind(io.BytesIO(read.buffer), read.zip_clues) if may_hide_a_zip_behind(media_type) else None
        if behind is not None:
            record.add_error("archive", APPENDED_ZIP_NOTE)
        return _Held(read.buffer, pictures, zip_after_own=behind)
    held = _Held(None, pictures)
    if media_type in UNREAD_TYPES and read.buffer is not None:
        held = held._replace(embedded=_in_unread_units(record, read.buffer, media_type, read.segments))
    after = trailing(read.buffer, media_type) if video is None and read.buffer is not None else None
    if video is not None:
        for note in video.notes:
            record.add_error("archive", note)
        for box in video.in_boxes:
            record.add_error("archive" if box.members else "not-examined", box.note)
        after = video.after
        held = held._replace(embedded=video.members + video.boxed)
    if after is not None:
        record.add_error("archive" if after.members else "not-examined", after.note)
        held = held._replace(after_end=after.members)
    if not nested or read.buffer is None:
        return held._replace(zip_clues=read.zip_clues)
    zip_start = zip_behind(io.BytesIO(read.buffer), read.zip_clues)
    if zip_start is None:
        return held
    record.add_error("archive", APPENDED_ZIP_NOTE)
    return held._replace(archive=read.buffer, zip_start=zip_start)


def _in_unread_units(record: ItemRecord, data: bytes, media_type: str, segments: Segments | None
                      ) -> tuple[Found, ...]:
    """The pictures in a WebP's chunks, a JPEG's segments or a PNG's chunks no viewer reads, each said on it."""
    chunks, notes = in_unread_segments(data, media_type, segments)
    for note in notes:
        record.add_error("not-examined", note)
    for chunk in chunks:
        record.add_error("archive" if chunk.members else "not-examined", chunk.note)
    return tuple(Found(IN_BOX_NAME, found) for chunk in chunks for found in chunk.members)


def _past_own_end(record: ItemRecord, held: _Held, past: Following) -> _Held:
    """What follows a database's pages or a signature's structure, said on it: a zip, read after its own members,
    and the pictures and videos in it."""
    for note in past.notes:
        record.add_error("archive", note)
    held = held._replace(zip_after_own=past.zip_start)
    if past.after is not None:
        record.add_error("archive" if past.after.members else "not-examined", past.after.note)
        held = held._replace(after_end=past.after.members)
    if past.zip_start is not None:
        record.add_error("archive", APPENDED_ZIP_NOTE)
    return held


def _video_held(record: ItemRecord, read: _Read, reopen: Any, settings: Settings) -> VideoHeld | None:
    """A video's cover art and attachments, and what follows its own end, read from memory or by reopening the
    file (before it is decoded: the decoder then knows which attached pictures were read)."""
    if read.buffer is not None:
        return video_held(io.BytesIO(read.buffer), record.media_type or "", settings)
    if reopen is None:
        return None
    try:
        with reopen() as stream:
            return video_held(stream, record.media_type or "", settings)
    except OSError as exc:  # read once already: said, its frames and digests are kept
        record.add_error("archive", f"cannot reopen the video to read what it holds: {exc.strerror or exc}")
        return None


def _pictures_read(video: VideoHeld | None) -> int:
    """How many pictures were read from a video's own structure: the decoder says the attached pictures past
    them (FFmpeg shows each as a video stream)."""
    found = () if video is None else video.members
    return sum(1 for one in found if one.data is not None and is_image(sniff(one.data[:SNIFF_BYTES])))


def _analyse_content(read: _Read, record: ItemRecord, settings: Settings, reopen: Any, pictures_read: int
                     ) -> tuple[HeldPicture, ...]:
    """The item's content analysed; returns the pictures its metadata hides to read as items of their own."""
    media_type = record.media_type or ""
    pictures: tuple[HeldPicture, ...] = ()
    if is_image(media_type) and read.buffer is not None:
        pictures = _analyse_image(record, read.buffer, settings, read.segments)
        if may_hold_manifest(read.buffer):
            _add_provenance(record, io.BytesIO(read.buffer), settings)
    elif is_video(media_type):
        if read.buffer is not None:
            _add_video_facts(record, io.BytesIO(read.buffer), settings, pictures_read)
            _add_provenance(record, io.BytesIO(read.buffer), settings)
        elif reopen is not None:
            with reopen() as seekable:
                _add_video_facts(record, seekable, settings, pictures_read)
            with reopen() as seekable:
                _add_provenance(record, seekable, settings)
    elif (note := not_examined_note(media_type) or unread_archive_note(media_type)) is not None:
        record.add_error("not-examined", note)
    # a disk's structure behind a picture's or a video's header too
    if (note := nested_image_note(record.relpath, media_type, read.head)) is not None:
        record.add_error("not-examined", note)
    return pictures


def _expand(
    archive: BinaryIO,
    container: ItemRecord,
    depth: int,
    settings: Settings,
    expansion: Expansion,
    analysed: Analysed | None = None,
    as_type: str | None = None,
    seen: Counter[bytes] | None = None,
    zip_start: int = 0,
) -> list[ItemRecord]:
    """The container's members (`as_type`: the kind of archive it holds, when its own type says otherwise;
    `seen`: how often each name was met on the container's path before, counted on as members are met;
    `zip_start`: where a zip's local headers start)."""
    if depth > settings.max_archive_depth:
        container.add_error("archive", f"nested deeper than {settings.max_archive_depth} archives; members not read")
        return []
    records: list[ItemRecord] = []
    outer_name = parse_relpath(container.relpath).leaf_name
    members = iter_members(archive, as_type or container.media_type or "", settings, expansion, outer_name,
                           zip_start)
    seen = Counter() if seen is None else seen  # members that share a name are numbered: each keeps its own path
    try:
        for member in members:
            seen[member.name] = occurrence = seen[member.name] + 1
            relpath = member_relpath(container.relpath, member.name, occurrence)
            records.extend(_analyse_member(member, relpath, depth, settings, expansion, container, analysed))
            if container.errors and container.errors[-1][0] == "archive-stopped":
                break
    except ArchiveLimitError as exc:
        container.add_error("archive-stopped", f"archive reading stopped: {exc}")
    except _ARCHIVE_ERRORS as exc:
        container.add_error("archive", f"corrupt or unreadable archive: {exc or type(exc).__name__}")
    return records


def _analyse_member(
    member: Member, relpath: str, depth: int, settings: Settings, expansion: Expansion, container: ItemRecord,
    analysed: Analysed | None,
) -> list[ItemRecord]:
    record = ItemRecord(relpath=relpath, mtime=member.mtime, size=member.size)
    for problem in (unsafe_name_reason(member.name), member.name_problem):
        if problem:
            record.add_error("archive-name", problem)
    if member.error or member.stream is None:
        record.add_error("read", member.error or "member has no content")
        return [record]
    try:
        held = _analyse_stream(member.stream, record, settings, nested=True, analysed=analysed)
    except ArchiveLimitError as exc:
        record.digests = {}
        record.add_error("archive-limit", f"not fully read: {exc}")
        if container.media_type != "application/zip" or "archive expands" in str(exc):
            # A streamed archive cannot skip past a bomb member; stop reading it.
            container.add_error("archive-stopped", f"archive reading stopped at '{escape_name(member.name)}': {exc}")
        return [record]
    except _ARCHIVE_ERRORS as exc:
        record.digests = {}
        record.add_error("read", f"member could not be read: {exc or type(exc).__name__}")
        return [record]
    return [record, *_held_items(record, held, depth, settings, expansion, analysed)]


def _held_items(
    record: ItemRecord, held: _Held, depth: int, settings: Settings, expansion: Expansion, analysed: Analysed | None
) -> list[ItemRecord]:
    """The items inside an item: the pictures its metadata hides that show another picture, what follows its
    own content, its archive's members."""
    records: list[ItemRecord] = []
    for picture in held.pictures:
        if depth + 1 > settings.max_archive_depth:  # a thumbnail inside a thumbnail's EXIF, and so on
            record.add_error(hidden_stage(picture.name), f"nested deeper than {settings.max_archive_depth} items; "
                                                         f"its {picture.what} is not read")
            continue
        member = Member(picture.name, io.BytesIO(picture.data), len(picture.data), record.mtime)
        relpath = member_relpath(record.relpath, picture.name, 1)
        # never a copy: a file with its bytes has no thumbnail's hashes to lend it
        inside = _analyse_member(member, relpath, depth + 1, settings, expansion, record, None)
        if inside[0].pdq is not None:  # matched as it is and, where it has black bars, inside them too
            inside[0].pdq_variants += picture.inside_variants
        records.extend(inside)
    if held.embedded and depth + 1 > settings.max_archive_depth:
        record.add_error("archive", f"nested deeper than {settings.max_archive_depth} items; the files its own "
                                    "structure holds are not read")
    elif held.embedded:
        seen: Counter[bytes] = Counter()
        for found in held.embedded:
            seen[found.name] += 1
            member = Member(found.name, None, None, None, error=found.problem) if found.data is None else \
                decoded_member(found.name, found.data, settings, expansion, found.problem)
            records.extend(_analyse_member(member, member_relpath(record.relpath, found.name, seen[found.name]),
                                           depth + 1, settings, expansion, record, analysed))
    if held.after_end and depth + 1 > settings.max_archive_depth:  # a picture behind a picture behind ...
        record.add_error("archive", f"nested deeper than {settings.max_archive_depth} items; what follows its own "
                                    "content is not read")
    elif held.after_end:
        before = sum(found.name == AFTER_END_NAME for found in held.embedded)  # an attachment named so comes first
        for occurrence, data in enumerate(held.after_end, before + 1):
            after = Member(AFTER_END_NAME, io.BytesIO(data), len(data), record.mtime)
            records.extend(_analyse_member(after, member_relpath(record.relpath, AFTER_END_NAME, occurrence),
                                           depth + 1, settings, expansion, record, analysed))
    if held.archive is not None:
        appended = held.zip_start is not None
        as_type = "application/zip" if appended else None
        seen = Counter(held.taken(record.media_type or ""))  # what follows a database's pages, read before it
        records.extend(_expand(io.BytesIO(held.archive), record, depth + 1, settings, expansion, analysed, as_type,
                               seen, held.zip_start or 0))
        if held.zip_after_own is not None:  # numbered after the members its own structure gave
            records.extend(_expand(io.BytesIO(held.archive), record, depth + 1, settings, expansion, analysed,
                                   "application/zip", seen, held.zip_after_own))
    return records


def _check_stored_digests(record: ItemRecord, stored: tuple[tuple[str, str], ...]) -> None:
    """Compare what an image says its media hash to (an E01's acquisition digests) with what was read."""
    for check in check_stored(stored, record.digests):
        record.stored_hashes[check.name] = {"stored": check.stored, "computed": check.computed or "",
                                            "check": check.outcome}
        if check.outcome == "mismatch":
            record.add_error("image-hash", f"the image's stored {check.name.upper()} {check.stored} differs from "
                                           f"the media read ({check.computed}): the image is altered or damaged")


APPENDED_ZIP_NOTE = ("a zip archive follows this file's own content (a self-extracting archive, or a zip hidden "
                     "behind a picture): its members are read as this item's")
def analyse_entry(
    entry: Entry, open_entry: Any, settings: Settings, analysed: Analysed | None = None
) -> list[ItemRecord]:
    """Records for one source entry: the file itself, then its archive members (depth first), each with its
    AI verdict. With `analysed`, content analysed before is not decoded again (see vigie.signals.analysed)."""
    records = _analyse_entry(entry, open_entry, settings, analysed)
    for record in records:
        conclude(record)
    return records


def _analyse_entry(
    entry: Entry, open_entry: Any, settings: Settings, analysed: Analysed | None
) -> list[ItemRecord]:
    record = ItemRecord(
        relpath=entry.relpath, size=entry.size, mtime=entry.mtime, ctime=entry.ctime, atime=entry.atime,
        inode=entry.inode, deleted=entry.deleted,
    )
    for note in entry.notes:
        record.add_error("source", note)
    if entry.link_target is not None:  # recorded with its target, never followed
        record.media_type = "inode/symlink"
        record.add_error("link", entry.error or f"symbolic link to {entry.link_target}; not followed")
        return [record]
    if entry.error:
        record.add_error("read", entry.error)
        return [record]
    try:
        with open_entry() as stream:
            held = _analyse_stream(stream, record, settings, nested=False, reopen=open_entry, analysed=analysed)
    except OSError as exc:
        record.digests = {}
        record.add_error("read", f"cannot read: {exc.strerror or exc}")
        _check_stored_digests(record, entry.stored_digests)
        return [record]
    if record.size == 0:
        record.add_error("read", "empty file (zero bytes)")
    _check_stored_digests(record, entry.stored_digests)
    expansion = Expansion()
    media_type = record.media_type or ""
    if media_type in CMS_TYPES and held.archive is None:  # what follows the structure's own end, read as one
        held = _past_signature(open_entry, record, held, settings)._replace(zip_clues=None)  # held in memory is
    records = [record, *_held_items(record, held, 0, settings, expansion, analysed)]
    seen = Counter(held.taken(media_type))
    if is_archive(media_type) and held.archive is None:  # not read in memory (a database is)
        records.extend(_reopened(open_entry, record, settings, expansion, analysed, media_type, seen, 0))
    if held.zip_after_own is not None and held.archive is None:  # a zip past the signature's own end
        return records + _reopened(open_entry, record, settings, expansion, analysed, "application/zip", seen,
                                   held.zip_after_own)
    if not may_hide_a_zip_behind(media_type) or held.zip_clues is None or not held.zip_clues.worth_a_look:
        return records
    try:
        with open_entry() as stream:
            behind = zip_behind(stream, held.zip_clues)
    except OSError:  # read once already: a failure now is no zip to read
        behind = None
    if behind is None:
        return records
    record.add_error("archive", APPENDED_ZIP_NOTE)
    return records + _reopened(open_entry, record, settings, expansion, analysed, "application/zip", seen, behind)


def _past_signature(open_entry: Any, record: ItemRecord, held: _Held, settings: Settings) -> _Held:
    """What follows an S/MIME signature given or found on a file system, said on it (a larger one than the cap of
    what is held in memory is found by its written length)."""
    try:
        with open_entry() as stream:
            past = past_signature(stream, settings.max_nested_archive_bytes)
    except OSError as exc:  # read once already
        record.add_error("archive", f"cannot reopen the signature to read what follows its end: {exc.strerror or exc}")
        return held
    return _past_own_end(record, held, past)


def _reopened(open_entry: Any, record: ItemRecord, settings: Settings, expansion: Expansion,
              analysed: Analysed | None, as_type: str, seen: Counter[bytes], zip_start: int) -> list[ItemRecord]:
    """The members of a file given or found on a file system, read by opening it again."""
    try:
        with open_entry() as archive:
            return _expand(archive, record, 1, settings, expansion, analysed, as_type, seen, zip_start)
    except OSError as exc:
        record.add_error("archive", f"cannot reopen archive: {exc.strerror or exc}")
        return []
