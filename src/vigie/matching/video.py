"""Video matching: vPDQ's rule for whole videos, and single frames against image hashes (both ways).
The later pages or frames of an image are stored as its frames too: matched one by one, never by vPDQ.

vPDQ's rule (python-threatexchange, vpdq_brute_matcher): keep each video's unique frame hashes of
quality >= 50; the query share is the part of the item's frames within distance 31 of some frame of the
listed video, the compared share the reverse; a match needs both at or above 80%.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from vigie.config import Settings
from vigie.matching.pdq_index import PdqSegment, as_words, hex_to_array, variant_rows
from vigie.matching.roles import MatchStore
from vigie.records import MatchRow
from vigie.signals.pdq import QUERY_NAMES


def _share_matched(distances: np.ndarray, axis: int, threshold: int) -> float:
    return float((distances.min(axis=axis) <= threshold).mean() * 100)


def frames_against_images(
    item_frames: dict[int, list[tuple[int, float, str, bytes]]],
    image_segments: dict[int, PdqSegment],
    threshold: int,
) -> list[MatchRow]:
    """A known image shown inside a video: the best frame per list entry, with its time."""
    rows: list[MatchRow] = []
    for item_id, frames in item_frames.items():
        queries = np.concatenate([variant_rows(blob) for *_, blob in frames])
        per_frame = len(queries) // len(frames)
        best: dict[int, MatchRow] = {}
        for segment in image_segments.values():
            for hit in segment.query(queries, threshold):
                frame_number, timestamp, _, _ = frames[hit.variant // per_frame]
                if hit.id not in best or hit.distance < best[hit.id].distance:
                    best[hit.id] = MatchRow(item_id, hit.id, "pdq-frame", hit.distance,
                                            QUERY_NAMES[hit.variant % per_frame], frame_number, timestamp)
        rows.extend(best.values())
    return rows


def match_video_lists(
    store: MatchStore,
    settings: Settings,
    item_frames: dict[int, list[tuple[int, float, str, bytes]]],
    item_ids: Sequence[int] | None,
    list_ids: Sequence[int] | None,
) -> list[MatchRow]:
    """Videos against listed videos (vPDQ rule), and images against the listed videos' frames."""
    list_frames = store.list_video_frames(list_ids, settings.pdq_min_quality)
    if not list_frames:
        return []
    threshold = settings.pdq_threshold
    segment = PdqSegment.build(np.arange(len(list_frames)), hex_to_array([f[3] for f in list_frames]))
    entry_hashes: dict[int, list[str]] = defaultdict(list)
    for entry_id, _, _, pdq in list_frames:
        entry_hashes[entry_id].append(pdq)
    # an image's frames are its later pages or frames: each is matched on its own below, never as a video
    images = store.image_item_ids(list(item_frames))
    rows: list[MatchRow] = []
    for item_id, frames in item_frames.items():
        if item_id in images:
            continue
        unique = sorted({pdq for _, _, pdq, _ in frames})
        candidates = {list_frames[hit.row][0] for hit in segment.query(hex_to_array(unique), threshold)}
        item_words = as_words(hex_to_array(unique))
        for entry_id in sorted(candidates):
            listed = sorted(set(entry_hashes[entry_id]))
            distances = np.bitwise_count(
                item_words[:, np.newaxis, :] ^ as_words(hex_to_array(listed))[np.newaxis, :, :]
            ).sum(axis=2)
            query_share = _share_matched(distances, 1, threshold)
            compared_share = _share_matched(distances, 0, threshold)
            if query_share >= settings.vpdq_match_percent and compared_share >= settings.vpdq_match_percent:
                first = next(f for f in frames if f[2] == unique[int(np.argmin(distances.min(axis=1)))])
                rows.append(MatchRow(
                    item_id, entry_id, "vpdq", int(distances.min()), None, first[0], first[1],
                    {"query_match_percent": round(query_share, 1), "compared_match_percent": round(compared_share, 1),
                     "item_unique_frames": len(unique), "list_unique_frames": len(listed)},
                ))
    pages = {item_id: [(number, blob) for number, _, _, blob in frames]
             for item_id, frames in item_frames.items() if item_id in images}
    for item_id, blob in store.item_pdq_variants(item_ids, settings.pdq_min_quality):
        pictures = [(0, blob), *pages.pop(item_id, [])]
        rows.extend(_pictures_against_video_frames(item_id, pictures, item_id in images, segment, list_frames,
                                                   threshold))
    for item_id, later in pages.items():  # images whose first picture is too flat to match
        rows.extend(_pictures_against_video_frames(item_id, later, True, segment, list_frames, threshold))
    return rows


def _pictures_against_video_frames(
    item_id: int,
    pictures: list[tuple[int, bytes]],
    name_frames: bool,
    segment: PdqSegment,
    list_frames: list[tuple[int, int | None, float | None, str]],
    threshold: int,
) -> list[MatchRow]:
    """An image's pictures (index, variants) against the listed videos' frames: the best hit per video. The
    row's frame and time are the video's; `item_frame` in its detail names the image's page or frame."""
    best: dict[int, MatchRow] = {}
    for number, blob in pictures:
        for hit in segment.query(variant_rows(blob), threshold):
            entry_id, frame_number, timestamp, _ = list_frames[hit.row]
            if entry_id not in best or hit.distance < best[entry_id].distance:
                best[entry_id] = MatchRow(item_id, entry_id, "pdq-frame", hit.distance, QUERY_NAMES[hit.variant],
                                          frame_number, timestamp, {"item_frame": number} if name_frames else None)
    return list(best.values())
