"""Persons: grouping a case's faces, finding where a given person's face was used, and measuring accuracy.

Distances are Euclidean between dlib embeddings. The thresholds were chosen on `../shared/data/faces`
(77 single-face photos of 11 adults: 330 same-person pairs, 2596 different-person pairs): the largest
same-person distance was 0.549 and the smallest different-person distance 0.622, so 0.55 separates them
(accuracy 100% there, 99.8% at dlib's customary 0.5); "possible" reaches to 0.65, past the closest
stranger seen. `vigie faces eval` measures any other set of pairs.

Grouping (`vigie.matching.faces.grouping`) finds the close pairs through an approximate-neighbour index, so
its cost grows with N log N rather than N²; searching for a person stays an exact linear scan, since a
few reference faces against N stored ones is already linear and every face must be ranked.
"""

from __future__ import annotations

import csv
import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from vigie.config import Settings
from vigie.errors import VigieError
from vigie.i18n import N_, Phrase
from vigie.matching.faces.index_file import remove_index
from vigie.matching.faces.roles import FaceStore
from vigie.records import Face
from vigie.signals.faces import find_faces
from vigie.store.sqlite import CaseReadOnlyError

MATCH_DISTANCE = 0.55
MAX_NAME = 200
PERSONS_LOCK = "faces-group"  # held by a grouping, a merge and a split: each works on the persons the last left
POSSIBLE_DISTANCE = 0.65


def verdict(distance: float) -> str:
    if distance <= MATCH_DISTANCE:
        return "match"
    return "possible" if distance <= POSSIBLE_DISTANCE else "no"


def chinese_whispers(count: int, edges: list[tuple[int, int]], iterations: int = 30, seed: int = 0,
                     fixed: dict[int, int] | None = None) -> list[int]:
    """Graph clustering without a preset number of clusters: each node takes its neighbours' commonest label.
    `fixed`: nodes whose label is given (none of the nodes' own numbers) and never changes."""
    neighbours: dict[int, list[int]] = defaultdict(list)
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    labels = list(range(count))
    for node, label in (fixed or {}).items():
        labels[node] = label
    order = [node for node in range(count) if node not in (fixed or {})]
    rng = random.Random(seed)
    for _ in range(iterations):
        rng.shuffle(order)
        changed = False
        for node in order:
            if not neighbours[node]:
                continue
            votes = Counter(labels[n] for n in neighbours[node])
            # on a tie a fixed label (a reviewer's person) wins, then the lowest
            best = max(votes.items(), key=lambda kv: (kv[1], kv[0] >= count, -kv[0]))[0]
            if best != labels[node]:
                labels[node], changed = best, True
        if not changed:
            break
    return labels


class PersonError(VigieError, ValueError):
    """A name, merge or split the case's persons refuse: no such person, a face not theirs, a bad name."""

    exit_code = 2


def name_person(store: FaceStore, person_id: int, name: str, actor: str) -> bool:
    """Give a person a name (its spaces around taken off), audited; False when the case has no such person. A
    name of control or invisible characters is refused: names are printed on examiners' terminals."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise PersonError(Phrase(N_("a name is 1 to %(most)s printable characters"), most=MAX_NAME))
    with store.transaction():
        if not store.name_person(person_id, name):
            return False
        store.append_audit(actor, "person-name", {"person": person_id, "name": name})
    return True


def _faces_of(store: FaceStore, person_id: int) -> list[int]:
    faces = store.person_faces(person_id)
    if faces is None:
        raise PersonError(Phrase(N_("no person %(person)s in this case"), person=person_id,
                                 plain=f"no person {person_id} in this case (`vigie faces group` lists them)"))
    return faces


def person_faces(store: FaceStore, person_id: int) -> tuple[list[int], set[int]]:
    """(a person's face ids, ascending; those of them a reviewer placed)."""
    faces = _faces_of(store, person_id)
    return faces, store.placed_faces() & set(faces)


@contextmanager
def _reshaping(store: FaceStore, what: str) -> Iterator[None]:
    """A reviewer's change to the persons, in one transaction; refused on a read-only case (before the lock file
    is written beside it), and never while a grouping runs, which would write back persons read before it."""
    if store.read_only:
        raise CaseReadOnlyError(f"{what} writes to the case")
    with store.exclusive(PERSONS_LOCK), store.transaction():
        yield


def merge_persons(store: FaceStore, keep: int, absorb: int, actor: str) -> int:
    """Move every face of `absorb` into `keep`, audited; returns how many faces moved. The kept person's faces
    are then placed: later groupings add to it and never take them apart again."""
    if keep == absorb:
        raise PersonError(Phrase(N_("person %(person)s cannot be merged into itself"), person=keep))
    with _reshaping(store, "merging persons"):
        for person in (keep, absorb):
            _faces_of(store, person)  # refuses a person the case lacks
        absorbed_name = store.named_persons().get(absorb)
        moved = store.merge_persons(keep, absorb)
        details: dict[str, object] = {"keep": keep, "absorb": absorb, "faces_moved": moved}
        if absorbed_name is not None:  # the kept person takes it if it had none; either way the log keeps it
            details["absorb_name"] = absorbed_name
        store.append_audit(actor, "person-merge", details)
    return moved


def split_person(store: FaceStore, person_id: int, face_ids: list[int], actor: str) -> int:
    """Move some of a person's faces into a new person, audited; returns the new person's id. The faces of both
    are then placed: later groupings add new faces to either, by likeness, and never move these."""
    with _reshaping(store, "splitting a person"):  # checked inside: another reviewer may be moving these faces
        faces = _faces_of(store, person_id)
        strangers = sorted(set(face_ids) - set(faces))
        if strangers:
            named = ", ".join(map(str, strangers))
            raise PersonError(Phrase(N_("face %(faces)s not in person %(person)s"), faces=named, person=person_id,
                                     plain=f"face {named} not in person {person_id} (its faces: {_listed(faces)})"))
        moving = sorted(set(face_ids))
        if not moving or len(moving) == len(faces):
            raise PersonError(Phrase(N_("a split leaves faces on both sides: name some but not all of the faces "
                                        "of person %(person)s (%(count)s)"), person=person_id, count=len(faces)))
        new = store.split_person(person_id, moving)
        store.append_audit(actor, "person-split", {"person": person_id, "new_person": new, "faces": moving})
    return new


def _listed(faces: list[int], shown: int = 20) -> str:
    more = f" and {len(faces) - shown} more" if len(faces) > shown else ""
    return ", ".join(map(str, faces[:shown])) + more


def purge_faces(store: FaceStore, actor: str) -> int:
    """Remove every face embedding and crop and the persons built from them, audited; then reclaim the space."""
    with store.transaction():
        removed = store.purge_faces()
        store.append_audit(actor, "faces-purge", {"faces": removed})
    remove_index(store.case_dir)  # the saved neighbour index holds the embeddings too
    store.reclaim_space()  # freed pages would otherwise still hold the embeddings
    return removed


@dataclass(frozen=True)
class Hit:
    face_id: int
    item_id: int
    path: str
    box: list[int]
    distance: float
    verdict: str


def embed_references(paths: list[Path], settings: Settings) -> list[Face]:
    """The largest face of each reference photo. The photos are read, never copied into the case."""
    faces = []
    for path in paths:
        try:
            with Image.open(path) as image:
                found = find_faces(image, settings.face_detector, settings.face_model, settings.face_max_side)
        except OSError as exc:  # not a picture, or one cut short: PIL's words do not name the file
            raise ValueError(f"the reference photo {path} cannot be read: {exc}") from exc
        if not found:
            raise ValueError(f"no face found in the reference photo {path}")
        faces.append(max(found, key=lambda f: f.box[2] * f.box[3]))
    return faces


def find_person(store: FaceStore, references: list[Face], include_no: bool = False) -> list[Hit]:
    """Every stored face ranked by its distance to the nearest reference face."""
    face_ids, item_ids, vectors = store.face_vectors()
    if len(face_ids) == 0:
        return []
    reference = np.stack([f.embedding for f in references])
    distances = np.linalg.norm(vectors[:, None, :] - reference[None, :, :], axis=2).min(axis=1)
    order = np.argsort(distances, kind="stable")
    keep = [int(i) for i in order if include_no or distances[i] <= POSSIBLE_DISTANCE]
    locations = store.face_locations([int(face_ids[i]) for i in keep])
    return [
        Hit(int(face_ids[i]), int(item_ids[i]), locations[int(face_ids[i])]["path"],
            locations[int(face_ids[i])]["box"], round(float(distances[i]), 4), verdict(float(distances[i])))
        for i in keep
    ]


def search_person(store: FaceStore, reference_photos: list[Path], settings: Settings, include_no: bool,
                  actor: str) -> list[Hit]:
    """`find_person` for the largest face of each photo; the search is audited (the photos by their SHA-256)."""
    hits = find_person(store, embed_references(reference_photos, settings), include_no)
    store.append_audit(actor, "faces-find", {
        "references_sha256": [hashlib.sha256(p.read_bytes()).hexdigest() for p in reference_photos],
        "hits": sum(h.verdict != "no" for h in hits),
    })
    return hits


@dataclass(frozen=True)
class Evaluation:
    pairs: int
    accuracy: float
    threshold: float
    undetected: int


def evaluate_pairs(pairs_csv: Path, settings: Settings, threshold: float = MATCH_DISTANCE) -> Evaluation:
    """Verification accuracy over `file_x,file_y,same` pairs; a pair with an undetected face counts as wrong."""
    folder = pairs_csv.parent
    cache: dict[str, np.ndarray | None] = {}

    def embedding(name: str) -> np.ndarray | None:
        if name not in cache:
            with Image.open(folder / name) as image:
                found = find_faces(image, settings.face_detector, settings.face_model, settings.face_max_side)
            cache[name] = max(found, key=lambda f: f.box[2] * f.box[3]).embedding if found else None
        return cache[name]

    total = correct = undetected = 0
    with pairs_csv.open(newline="") as handle:
        for row in csv.DictReader(handle):
            total += 1
            a, b = embedding(row["file_x"]), embedding(row["file_y"])
            if a is None or b is None:
                undetected += 1
                continue
            same = str(row["same"]).strip() in ("1", "true", "True")
            correct += (float(np.linalg.norm(a - b)) <= threshold) == same
    return Evaluation(total, round(correct / total, 4) if total else 0.0, threshold, undetected)
