"""Grouping a case's faces into persons, kept up incrementally.

A grouping takes only the faces in no person yet (those added since the last one), adds them to the neighbour
index saved in the case folder (`index_file.py`, which holds exactly the faces already in persons, and the
close pairs found among them) and asks it about them alone. The faces linked to them, and through the saved
pairs the faces linked to those, form the region the new faces touched: whole connected components of the
graph of pairs closer than the threshold. Chinese whispers runs on each touched component on its own, in
face-id order, so a component comes out the same whether its faces arrived in one grouping or in several; the
persons of untouched components stay as they are. A person a reviewer named keeps its id, name and faces. Faces
a reviewer placed (`vigie faces split`, `vigie faces merge`) are never moved, and the new faces clustered with
them join their person. A change of threshold or of the index's parameters starts over from every face.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from vigie.matching.faces.index import PARAMETERS, FaceIndex
from vigie.matching.faces.index_file import load_index, save_index
from vigie.matching.faces.persons import MATCH_DISTANCE, PERSONS_LOCK, chinese_whispers
from vigie.matching.faces.roles import FaceStore
from vigie.store.sqlite import CaseReadOnlyError

STATE_KEY = "faces_group_state"
# dlib's ResNet: the only embedding the faces table holds (both detectors feed it).
EMBEDDING = "dlib_face_recognition_resnet_model_v1"


@dataclass(frozen=True)
class Grouping:
    faces: int  # faces grouped in all
    persons: int
    new_faces: int  # faces this run added
    index: str  # "built", "reused", or "rebuilt: why"
    asked: int  # faces the index was asked about: the new ones (and, when it was rebuilt, the others)


def group_faces(store: FaceStore, actor: str, threshold: float = MATCH_DISTANCE) -> Grouping:
    """Bring the persons up to date with the faces added since the last grouping, audited."""
    if store.read_only:  # refused before the lock file or the index is written beside the case
        raise CaseReadOnlyError("grouping faces writes persons and their index to the case")
    with store.exclusive(PERSONS_LOCK):  # two groupings at once would both write the index file
        return _group(store, actor, threshold)


def _group(store: FaceStore, actor: str, threshold: float) -> Grouping:
    settings = {"threshold": threshold, "embedding": EMBEDDING, "index": PARAMETERS}
    through, how = _grouped_through(store, settings)
    saved = load_index(store.case_dir, settings, through, store.grouped_face_ids) if through else "none saved"
    asked = 0
    if not isinstance(saved, str):
        index, old_edges = saved
        how = "reused"
    else:
        index, old_edges = FaceIndex(), _pairs(set())
        if through:
            held, _, vectors = store.face_vectors(grouped=True)
            index.add(held, vectors)
            if len(held):  # after `faces purge` there is nothing to rebuild, and nothing to say
                old_edges, asked, how = _pairs(index.close_pairs(held, threshold)), len(held), f"rebuilt: {saved}"
    # The faces in no person yet: every face added since, and any a writer committed after a face with a
    # higher id (parallel scan workers on PostgreSQL); on starting over, every face.
    fresh, _, vectors = store.face_vectors(grouped=False if through else None)
    index.add(fresh, vectors)
    new_edges = _pairs(index.close_pairs(fresh, threshold) if len(fresh) else set())
    upto = max(through, int(fresh[-1]) if len(fresh) else 0)
    region, edges = _touched(fresh, old_edges, new_edges) if len(fresh) else ([], set())
    groups = _persons(store, region, edges) if region else []
    if len(fresh) or how != "reused":
        save_index(store.case_dir, index, np.concatenate([old_edges, new_edges]), settings, upto)
    with store.transaction():
        store.update_person_groups(groups)
        store.set_meta(STATE_KEY, json.dumps({"settings": settings, "through": upto}))
        result = Grouping(len(index), len(store.persons()), len(fresh), how, asked + len(fresh))
        store.append_audit(actor, "faces-group", {"faces": result.faces, "persons": result.persons,
                                                  "new_faces": result.new_faces, "index": how, "threshold": threshold})
    return result


def _grouped_through(store: FaceStore, settings: dict[str, object]) -> tuple[int, str]:
    """(the highest face id the stored persons cover, "built"); under other settings, or before any grouping
    under these, (0, why every face is grouped again)."""
    text = store.get_meta(STATE_KEY)
    if not text:
        return 0, "built"
    state = json.loads(text)
    if state.get("settings") != settings:
        return 0, "rebuilt: the threshold or the index's settings changed, every face is grouped again"
    return int(state["through"]), "built"


def _pairs(pairs: set[tuple[int, int]]) -> np.ndarray:
    return np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)


def _touched(fresh: np.ndarray, old_edges: np.ndarray, new_edges: np.ndarray
             ) -> tuple[list[int], set[tuple[int, int]]]:
    """(the faces of every component holding a new face, the close pairs among them): the earlier faces are
    reached through the pairs saved when they were new, not asked about again."""
    ends = np.concatenate([old_edges[:, 0], old_edges[:, 1]])
    others = np.concatenate([old_edges[:, 1], old_edges[:, 0]])
    order = np.argsort(ends, kind="stable")
    ends, others = ends[order], others[order]
    region = set(fresh.tolist())
    frontier = set(new_edges.ravel().tolist()) - region
    while frontier:
        region |= frontier
        faces = np.fromiter(frontier, dtype=np.int64)
        starts, stops = np.searchsorted(ends, faces), np.searchsorted(ends, faces, side="right")
        reached = np.concatenate([others[a:b] for a, b in zip(starts.tolist(), stops.tolist(), strict=True)])
        frontier = set(reached.tolist()) - region
    # a component is closed under the pairs: an earlier pair with one face in the region has both there
    inside = old_edges[np.isin(old_edges[:, 0], np.fromiter(region, dtype=np.int64))]
    return sorted(region), {(a, b) for a, b in [*inside.tolist(), *new_edges.tolist()]}


def _clusters(region: list[int], edges: set[tuple[int, int]], placed: dict[int, int]
              ) -> list[tuple[list[int], int | None]]:
    """Chinese whispers on each connected component alone, its faces numbered in id order: (faces, the person
    whose placed faces hold them together, or None). `placed` (face -> person) keep their person's label and
    never take another, so the faces around them follow them and those of two persons never mix."""
    neighbours: dict[int, list[int]] = defaultdict(list)
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    seen: set[int] = set()
    clusters: list[tuple[list[int], int | None]] = []
    for start in region:
        if start in seen:
            continue
        component, stack = [], [start]
        seen.add(start)
        while stack:
            face = stack.pop()
            component.append(face)
            for other in neighbours[face]:
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        if len(component) == 1:
            clusters.append((component, placed.get(start)))
            continue
        component.sort()
        local = {face: n for n, face in enumerate(component)}
        links = sorted((local[a], local[b]) for a in component for b in neighbours[a] if a < b)
        persons = sorted({placed[f] for f in component if f in placed})
        person_label = {person: len(component) + n for n, person in enumerate(persons)}  # no face's own label
        fixed = {local[f]: person_label[placed[f]] for f in component if f in placed}
        labels: dict[int, list[int]] = defaultdict(list)
        for face, label in zip(component, chinese_whispers(len(component), links, fixed=fixed), strict=True):
            labels[label].append(face)
        label_person = {label: person for person, label in person_label.items()}
        clusters.extend((faces, label_person.get(label)) for label, faces in labels.items())
    return clusters


def _persons(store: FaceStore, region: list[int], edges: set[tuple[int, int]]
             ) -> list[tuple[int | None, list[int], int]]:
    """(person id kept or None for a new one, its faces from the region, its representative) for each cluster,
    and for each person that only lost faces (its representative is picked again)."""
    info = store.face_sizes()
    named = store.named_persons()
    placed = {face: person for face in store.placed_faces() if (person := info[face][1]) is not None}
    clusters = sorted(_clusters(region, edges, placed), key=lambda cluster: (-len(cluster[0]), cluster[0][0]))
    # A reviewer outranks the clustering. Faces placed by a split or a merge stay where they are, and the faces
    # clustered with them join their person. Failing that, clusters holding faces of one named person are
    # joined. Any other cluster keeps the unnamed person most of its faces were in, unless a larger one took it.
    chosen: dict[int, list[int]] = defaultdict(list)
    fresh: list[list[int]] = []
    for faces, holder in clusters:
        movable = [f for f in faces if f not in placed]
        if holder is not None:
            chosen[holder].extend(movable)
            continue
        before = Counter(person for f in faces if (person := info[f][1]) is not None)
        names = [person for person, _ in before.most_common() if person in named]
        free = [person for person, _ in before.most_common() if person not in named and person not in chosen]
        if names or free:
            chosen[(names or free)[0]].extend(faces)
        else:
            fresh.append(faces)
    in_region = set(region) - set(placed)
    touched = {person for f in region if (person := info[f][1]) is not None}
    rest: dict[int, list[int]] = defaultdict(list)  # faces outside the region of every person it touched
    for face, (_, person) in info.items():
        if (person in touched or person in chosen) and face not in in_region:
            rest[person].append(face)

    def representative(faces: list[int]) -> int:
        return max(faces, key=lambda f: (info[f][0], -f))

    groups: list[tuple[int | None, list[int], int]] = []
    for person in sorted(touched | set(chosen)):
        faces = chosen.get(person, [])
        if faces or rest[person]:
            groups.append((person, sorted(faces), representative([*faces, *rest[person]])))
    groups.extend((None, sorted(faces), representative(faces)) for faces in fresh)
    return groups
