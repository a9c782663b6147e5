"""Video facts and vPDQ-compatible frame hashes, decoded with PyAV (FFmpeg), streamed and capped.

Frame sampling follows Meta's vPDQ (vpdq/cpp/hashing/filehasher.cpp): frame rate from the stream's
average rate (else its real base rate), every int(seconds_per_hash * fps)-th decoded frame, converted to
RGB24 with swscale's area filter and hashed with PDQ at full size; timestamp = frame number / fps.
Consecutive frames with identical hashes are kept once (the first of the run).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
from PIL import Image

from vigie.records import FrameHash
from vigie.signals.pdq import pdq_from_pixels

MIN_HASHABLE_SIDE = 5  # vPDQ's MIN_HASHABLE_DIM
_STILL_SIDE = 48  # frames are compared at this size to find scene changes
_SCENE_CHANGE = 18.0  # mean absolute grey-level difference that counts as a new scene


class VideoError(Exception):
    """The video cannot be read at all; the message says why."""


@dataclass
class VideoFacts:
    duration: float | None
    codec: str | None
    width: int | None
    height: int | None
    frame_rate: float | None
    frames_decoded: int = 0
    frames: list[FrameHash] = field(default_factory=list)
    stills: list[tuple[int, float, Image.Image]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class VideoLimits:
    seconds_per_hash: float = 1.0
    max_seconds: float = 6 * 3600.0  # of video; longer streams are cut with a note
    max_frames: int = 1_000_000  # decoded frames
    max_wall_seconds: float = 900.0  # decoding time for one video
    max_stills: int = 6


def _frame_rate(stream: Any) -> float | None:
    for rate in (stream.average_rate, stream.base_rate, stream.guessed_rate):
        if rate and float(rate) > 0:
            return float(rate)
    return None


def _still_signature(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L").resize((_STILL_SIDE, _STILL_SIDE)), dtype=np.float32)


def analyse_video(source: str | BinaryIO, limits: VideoLimits, pictures_read: int = 0) -> VideoFacts:
    """The video's facts and frame hashes, from its first video track. FFmpeg shows the pictures attached to it
    (cover art) as video streams: `pictures_read` of them were read as the file's members (an MP4's `covr`, a
    Matroska's attachments), and are neither said nor hashed here; those past them are said."""
    import av  # imported here: only scans that meet a video pay for loading FFmpeg

    try:
        container = av.open(source, mode="r", metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as exc:
        # FFmpeg's own words, without the descriptor number it names the input by (it differs by run)
        why = exc.strerror if isinstance(exc, av.FFmpegError) and exc.strerror else exc
        raise VideoError(f"not a readable video: {why}") from exc
    with container:
        attached = [one for one in container.streams.video if one.disposition & av.stream.Disposition.attached_pic]
        tracks = [one for one in container.streams.video if one not in attached]
        if not tracks and attached and pictures_read >= len(attached):
            raise VideoError("no video track in this container (sound only?): its attached pictures (cover art) "
                             "are read as its members")
        if not tracks + attached:
            raise VideoError("no video stream in this container")
        stream = (tracks + attached)[0]  # a video track, where there is one, before a picture attached to it
        context = stream.codec_context
        fps = _frame_rate(stream)
        duration = None
        if container.duration:
            duration = container.duration / 1_000_000
        elif stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        facts = VideoFacts(duration, context.name, context.width or None, context.height or None, fps)
        others = len(tracks) - 1 + max(0, len(attached) - pictures_read) if tracks else len(attached) - 1
        if others > 0:  # a second camera angle, a cover picture: a known picture may be one
            facts.problems.append(f"{others} other video track(s), or picture(s) attached (cover art), not read: "
                                  "only the first video track is hashed")
        if fps is None:
            facts.problems.append("the stream declares no frame rate; frames not hashed")
            return facts
        _hash_frames(container, stream, fps, facts, limits)
    return facts


def _hash_frames(container: Any, stream: Any, fps: float, facts: VideoFacts, limits: VideoLimits) -> None:
    import av

    frame_mod = max(1, int(limits.seconds_per_hash * fps))
    started = time.monotonic()
    previous_hash = None
    previous_still: np.ndarray | None = None
    frame_number = -1
    try:
        for frame in container.decode(stream):
            frame_number += 1
            facts.frames_decoded = frame_number + 1
            if frame_number >= limits.max_frames or frame_number / fps > limits.max_seconds:
                facts.problems.append(
                    f"stopped after {frame_number:,} frames ({frame_number / fps:,.0f} s): over the cap of "
                    f"{limits.max_frames:,} frames or {limits.max_seconds:,.0f} s"
                )
                break
            if time.monotonic() - started > limits.max_wall_seconds:
                facts.problems.append(f"stopped after {limits.max_wall_seconds:.0f} s of decoding at frame "
                                      f"{frame_number:,}")
                break
            if frame_number % frame_mod:
                continue
            if frame.width < MIN_HASHABLE_SIDE or frame.height < MIN_HASHABLE_SIDE:
                continue
            rgb = frame.reformat(format="rgb24", interpolation="AREA").to_ndarray()
            result = pdq_from_pixels(rgb)
            timestamp = frame_number / fps
            if result.hash != previous_hash:
                facts.frames.append(FrameHash(frame_number, timestamp, result.quality, result.hash, result.variants))
                previous_hash = result.hash
            image = Image.fromarray(rgb)
            signature = _still_signature(image)
            is_new_scene = previous_still is None or float(np.mean(np.abs(signature - previous_still))) > _SCENE_CHANGE
            if is_new_scene and len(facts.stills) < limits.max_stills:
                facts.stills.append((frame_number, timestamp, image))
            previous_still = signature
    except (av.FFmpegError, EOFError, ValueError) as exc:
        facts.problems.append(f"decoding stopped at frame {max(frame_number, 0):,}: {exc} (corrupt or truncated)")
    if facts.frames_decoded == 0:
        raise VideoError(facts.problems[-1] if facts.problems else "no frame could be decoded")
    if facts.duration and facts.frames_decoded / fps < facts.duration * 0.9 - 1 and not facts.problems:
        facts.problems.append(
            f"only {facts.frames_decoded / fps:,.1f} s of a declared {facts.duration:,.1f} s could be decoded "
            "(truncated?)"
        )

