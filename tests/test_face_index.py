"""Face grouping through the approximate-neighbour index gives the all-pairs result on synthetic embeddings."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from face_vectors import synthetic_embeddings
from PIL import Image

from vigie.cli import main
from vigie.config import Settings
from vigie.matching.faces.grouping import group_faces
from vigie.matching.faces.index import pairs_within
from vigie.matching.faces.persons import MATCH_DISTANCE, chinese_whispers
from vigie.scan.pipeline import run_scan
from vigie.store.sqlite import SqliteCaseStore, open_case

pytest.importorskip("usearch", reason="the `faces` extra is not installed")


def exact_pairs(vectors: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """The reference: every pair compared, on a set small enough for one distance matrix."""
    v = vectors.astype(np.float64)
    distances = np.sqrt(np.maximum(((v[:, None, :] - v[None, :, :]) ** 2).sum(axis=2), 0))
    rows, cols = np.nonzero(np.triu(distances <= threshold, k=1))
    return sorted(zip(rows.tolist(), cols.tolist(), strict=True))


def partition(labels: list[int]) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for node, label in enumerate(labels):
        groups.setdefault(label, set()).add(node)
    return {frozenset(g) for g in groups.values()}


def clusters_and_outliers(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return synthetic_embeddings(rng.integers(1, 25, size=40).tolist(), outliers=100, seed=seed)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_index_pairs_equal_all_pairs_when_k_covers_the_clusters(seed: int) -> None:
    vectors = clusters_and_outliers(seed)
    expected = exact_pairs(vectors, MATCH_DISTANCE)
    assert expected, "the synthetic clusters have close pairs"
    assert pairs_within(vectors, MATCH_DISTANCE) == expected
    grouped = partition(chinese_whispers(len(vectors), pairs_within(vectors, MATCH_DISTANCE)))
    assert grouped == partition(chinese_whispers(len(vectors), expected))
    assert sum(len(g) == 1 for g in grouped) >= 100, "outliers stay alone"


def test_a_small_first_k_asks_again_until_the_cluster_is_covered() -> None:
    vectors = synthetic_embeddings([150, 3, 1], outliers=20)
    assert pairs_within(vectors, MATCH_DISTANCE, first_k=4) == exact_pairs(vectors, MATCH_DISTANCE)


def test_identical_copies_of_a_face_are_all_paired() -> None:
    """Backup copies of one photo give identical embeddings; every copy must join the others."""
    vectors = np.repeat(synthetic_embeddings([1], outliers=0), 80, axis=0)
    assert len(pairs_within(vectors, MATCH_DISTANCE)) == 80 * 79 // 2


def test_recall_limit_when_a_cluster_is_larger_than_max_k() -> None:
    """Past `max_k` a face keeps only its nearest neighbours: fewer edges, and never a false join."""
    vectors = synthetic_embeddings([60, 60, 5], outliers=10)
    expected = exact_pairs(vectors, MATCH_DISTANCE)
    found = pairs_within(vectors, MATCH_DISTANCE, first_k=8, max_k=8)
    assert set(found) < set(expected)
    exact_groups = partition(chinese_whispers(len(vectors), expected))
    assert all(any(group <= exact for exact in exact_groups)
               for group in partition(chinese_whispers(len(vectors), found)))


def test_tiny_sets() -> None:
    assert pairs_within(np.zeros((0, 128), np.float32), MATCH_DISTANCE) == []
    assert pairs_within(synthetic_embeddings([1], outliers=0), MATCH_DISTANCE) == []
    assert pairs_within(synthetic_embeddings([2], outliers=0), MATCH_DISTANCE) == [(0, 1)]


def case_with_faces(tmp_path: Path) -> SqliteCaseStore:
    """A case of one scanned picture holding 14 synthetic faces: persons of 5, 4 and 3, and 2 strangers.

    Face n (from 1) is n pixels wide, so the largest face of a person is its last."""
    source = tmp_path / "seizure"
    source.mkdir()
    Image.new("RGB", (64, 64), "white").save(source / "a.png")
    store = open_case(tmp_path / "case", create=True)
    run_scan(store, [str(source)], Settings(workers=1))
    vectors = synthetic_embeddings([5, 4, 3], outliers=2)
    with store.db:
        store.db.executemany(
            "INSERT INTO faces(item_id, x, y, width, height, landmarks, embedding, score, detector) "
            "VALUES (?, 0, 0, ?, 1, '[]', ?, 0, 'synthetic')",
            ((store.item_ids()[0], size, v.tobytes()) for size, v in enumerate(vectors, start=1)),
        )
    return store


def test_group_faces_keeps_names_and_merges(tmp_path: Path) -> None:
    store = case_with_faces(tmp_path)
    grouping = group_faces(store, "tester")
    assert (grouping.faces, grouping.persons) == (14, 5)
    face_ids = store.face_vectors()[0].tolist()
    person_of = dict(store.db.execute("SELECT id, person_id FROM faces").fetchall())
    first, second = person_of[face_ids[0]], person_of[face_ids[5]]
    assert store.name_person(first, "Person A")
    store.merge_persons(first, second)  # a reviewer says clusters one and two are the same person
    grouping = group_faces(store, "tester")
    assert (grouping.faces, grouping.persons) == (14, 4)
    person_of = dict(store.db.execute("SELECT id, person_id FROM faces").fetchall())
    assert {person_of[f] for f in face_ids[:9]} == {first}
    assert store.named_persons() == {first: "Person A"}
    representative = store.db.execute("SELECT representative_face_id FROM persons WHERE id = ?", (first,))
    assert tuple(representative.fetchone()) == (face_ids[8],), "the largest face of the joined clusters"
    store.close()


def test_faces_group_without_usearch_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case_with_faces(tmp_path).close()
    monkeypatch.setitem(sys.modules, "usearch.index", None)  # makes `import usearch.index` fail
    result = CliRunner().invoke(main, ["faces", "group", "--case", str(tmp_path / "case")])
    assert result.exit_code == 2
    assert "needs usearch" in result.output


def test_the_synthetic_faces_live_with_the_tests() -> None:
    import vigie.matching.faces.index as index

    assert not hasattr(index, "synthetic_embeddings")  # a test helper, not production code
