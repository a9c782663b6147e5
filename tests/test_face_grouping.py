"""Face grouping kept up incrementally: a later grouping adds only the new faces to the saved neighbour index and
asks about them alone, and gives the persons a full regroup gives; a damaged or foreign index file is rebuilt."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from face_vectors import synthetic_embeddings
from PIL import Image
from schema_rewind import rewind_schema

from vigie.cli import main
from vigie.config import Settings
from vigie.matching.faces import grouping
from vigie.matching.faces.grouping import group_faces
from vigie.matching.faces.index import FaceIndex
from vigie.matching.faces.index_file import INDEX_DIR
from vigie.matching.faces.persons import PersonError, merge_persons, name_person, purge_faces, split_person
from vigie.records import Face
from vigie.scan.pipeline import run_scan
from vigie.store.sqlite import SqliteCaseStore, open_case

pytest.importorskip("usearch", reason="the `faces` extra is not installed")

INDEX_FILE = INDEX_DIR / "faces.usearch"


def scanned_case(tmp_path: Path, case: str | None = None) -> SqliteCaseStore:
    """A case (SQLite in tmp_path, or the PostgreSQL case URL given) of one scanned picture, faces to be added."""
    source = tmp_path / "seizure"
    source.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 64), "white").save(source / "a.png")
    store = open_case(case or tmp_path / "case", create=True)
    run_scan(store, [str(source)], Settings(workers=1))
    return store


def add_faces(store: SqliteCaseStore, vectors: np.ndarray, first_width: int = 1) -> None:
    """Faces with these embeddings, each 1 pixel wider than the one before (the largest is a person's
    representative)."""
    store.add_faces(store.item_ids()[0], [Face((0, 0, width, 1), (), vector, 0.9, "synthetic", b"")
                                          for width, vector in enumerate(vectors, start=first_width)])


def persons_of(store: SqliteCaseStore) -> set[frozenset[int]]:
    members: dict[int, set[int]] = {}
    for face, person in store.db.execute("SELECT id, person_id FROM faces ORDER BY id").fetchall():
        assert person is not None, f"face {face} is in no person"
        members.setdefault(person, set()).add(face)
    return {frozenset(m) for m in members.values()}


def two_batches() -> tuple[np.ndarray, np.ndarray]:
    """Persons and strangers; the second batch brings more faces of some persons, new persons, new strangers,
    and a face halfway between two persons of the first batch (it joins their components into one)."""
    vectors = synthetic_embeddings([6, 5, 5, 4, 3, 3, 2], outliers=12, seed=3)
    starts = np.cumsum([0, 6, 5, 5, 4, 3, 3, 2])
    person = [vectors[a:b] for a, b in pairwise(starts)]
    strangers = vectors[starts[-1]:]
    bridge = (person[1].mean(axis=0) + person[2].mean(axis=0)) / 2
    first = np.concatenate([person[0][:4], person[1], person[2], person[3][:2], person[4], strangers[:8]])
    second = np.concatenate([person[0][4:], person[3][2:], person[5], person[6], strangers[8:], bridge[None, :]])
    return first, second


def full_regroup(tmp_path: Path, first: np.ndarray, second: np.ndarray, case: str | None = None
                 ) -> set[frozenset[int]]:
    store = scanned_case(tmp_path / "full", case)
    add_faces(store, first)
    add_faces(store, second)
    assert group_faces(store, "tester").new_faces == len(first) + len(second)
    persons = persons_of(store)
    store.close()
    return persons


def test_a_second_batch_grouped_incrementally_gives_the_full_regroups_persons(tmp_path: Path) -> None:
    first, second = two_batches()
    store = scanned_case(tmp_path)
    add_faces(store, first)
    assert group_faces(store, "tester").index == "built"
    add_faces(store, second)
    later = group_faces(store, "tester")
    assert (later.new_faces, later.faces, later.index) == (len(second), len(first) + len(second), "reused")
    assert persons_of(store) == full_regroup(tmp_path, first, second)
    assert later.persons == len(persons_of(store))
    store.close()


def test_incremental_grouping_on_postgresql_gives_the_full_regroups_persons(postgres_case: str,
                                                                          tmp_path: Path) -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[cluster]')")
    first, second = two_batches()
    store = scanned_case(tmp_path, postgres_case)
    add_faces(store, first)
    group_faces(store, "tester")
    add_faces(store, second)
    assert group_faces(store, "tester").index == "reused"
    assert (store.case_dir / INDEX_FILE).exists()
    assert persons_of(store) == full_regroup(tmp_path, first, second)
    store.close()


def test_the_saved_index_is_reused_and_only_the_new_faces_are_added(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = two_batches()
    store = scanned_case(tmp_path)
    add_faces(store, first)
    group_faces(store, "tester")
    assert len(FaceIndex.load(tmp_path / "case" / INDEX_FILE)) == len(first)

    def no_rebuild() -> FaceIndex:
        raise AssertionError("the index was built again")

    monkeypatch.setattr(grouping, "FaceIndex", no_rebuild)
    asked: list[int] = []
    close_pairs = FaceIndex.close_pairs
    monkeypatch.setattr(FaceIndex, "close_pairs", lambda self, ids, *args: asked.extend(ids.tolist()) or
                        close_pairs(self, ids, *args))
    add_faces(store, second)
    later = group_faces(store, "tester")
    assert later.index == "reused"
    new_ids = store.grouped_face_ids()[len(first):].tolist()
    assert sorted(asked) == new_ids and later.asked == len(new_ids), "only the new faces are asked about"
    assert len(FaceIndex.load(tmp_path / "case" / INDEX_FILE)) == len(first) + len(second)
    assert group_faces(store, "tester").new_faces == 0  # nothing new: nothing asked, the persons stay
    store.close()


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _describe_as_written(path: Path) -> None:
    """The description made to match the file in place, as a careless copy of another case's index would."""
    about_path = path.with_name("faces.json")
    about = json.loads(about_path.read_text())
    about["sha256"][path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    about_path.write_text(json.dumps(about))


def _edges_of_other_faces(path: Path) -> None:
    edges = path.with_name("edges.npy")
    np.save(edges, np.load(edges) + 1000, allow_pickle=False)
    _describe_as_written(edges)


def _pickled_edges(path: Path) -> None:
    edges = path.with_name("edges.npy")
    np.save(edges, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    _describe_as_written(edges)


def _other_ids(path: Path) -> None:
    index = FaceIndex()
    index.add(np.arange(1000, 1003), synthetic_embeddings([3], outliers=0))
    index.save(path)
    _describe_as_written(path)


def _foreign(path: Path) -> None:
    from usearch.index import Index

    index = Index(ndim=64, metric="cos", dtype="f32")
    index.add(np.arange(3, dtype=np.uint64), np.ones((3, 64), np.float32))
    index.save(str(path))
    _describe_as_written(path)


@pytest.mark.parametrize(("damage", "why"), [
    (_truncate, "SHA-256 differs"),
    (lambda path: path.unlink(), "no saved index"),
    (lambda path: path.with_name("faces.json").write_text("{"), "description is unreadable"),
    (_other_ids, "the case's persons hold"),
    (_foreign, "not a face index"),
    (lambda path: path.with_name("edges.npy").unlink(), "a file is unreadable"),
    (_edges_of_other_faces, "not pairs of the faces it holds"),
    (_pickled_edges, "allow_pickle=False"),
])
def test_a_damaged_or_foreign_index_file_is_rebuilt_with_a_note(tmp_path: Path, damage: Callable[[Path], None],
                                                                why: str) -> None:
    first, second = two_batches()
    store = scanned_case(tmp_path)
    add_faces(store, first)
    group_faces(store, "tester")
    store.close()
    damage(tmp_path / "case" / INDEX_FILE)
    store = open_case(tmp_path / "case")
    add_faces(store, second)
    store.close()
    result = CliRunner().invoke(main, ["faces", "group", "--case", str(tmp_path / "case")])
    assert result.exit_code == 0, result.output
    assert "Note: the face index was rebuilt" in result.output and why in " ".join(result.output.split())
    store = open_case(tmp_path / "case")
    assert persons_of(store) == full_regroup(tmp_path, first, second)
    assert list(store.audit_entries())[-1].details["index"].startswith("rebuilt")
    store.close()
    assert len(FaceIndex.load(tmp_path / "case" / INDEX_FILE)) == len(first) + len(second)


def test_a_named_person_keeps_its_name_and_gains_the_new_faces(tmp_path: Path) -> None:
    vectors = synthetic_embeddings([6, 4], outliers=3, seed=5)
    store = scanned_case(tmp_path)
    add_faces(store, np.concatenate([vectors[:4], vectors[6:]]))
    group_faces(store, "tester")
    person = store.db.execute("SELECT person_id FROM faces ORDER BY id LIMIT 1").fetchone()[0]
    assert name_person(store, person, "Person A", "tester")
    add_faces(store, vectors[4:6], first_width=20)  # two more photos of Person A, larger faces
    group_faces(store, "tester")
    assert store.named_persons() == {person: "Person A"}
    members = [r[0] for r in store.db.execute("SELECT id FROM faces WHERE person_id = ? ORDER BY id", (person,))]
    assert len(members) == 6
    assert store.persons()[0]["representative_face"] == members[-1]  # the largest face, one of the new ones
    store.close()


def test_a_merge_survives_a_later_grouping_and_its_representative_is_the_largest_face(tmp_path: Path) -> None:
    vectors = synthetic_embeddings([3, 3], outliers=0, seed=7)
    store = scanned_case(tmp_path)
    add_faces(store, vectors)
    group_faces(store, "tester")
    keep, absorb = (r[0] for r in store.db.execute("SELECT DISTINCT person_id FROM faces ORDER BY id"))
    merge_persons(store, keep, absorb, "tester")
    assert store.persons()[0]["representative_face"] == store.grouped_face_ids()[-1]
    add_faces(store, synthetic_embeddings([], outliers=2, seed=8))
    grouping_after = group_faces(store, "tester")
    assert (grouping_after.new_faces, grouping_after.persons) == (2, 3)
    assert store.persons()[0]["faces"] == 6
    store.close()


def test_another_threshold_groups_every_face_again(tmp_path: Path) -> None:
    first, _ = two_batches()
    store = scanned_case(tmp_path)
    add_faces(store, first)
    group_faces(store, "tester")
    again = group_faces(store, "tester", threshold=0.5)
    assert again.new_faces == len(first) and again.index.startswith("rebuilt: the threshold")
    assert group_faces(store, "tester", threshold=0.5).index == "reused"
    store.close()


def test_purging_the_faces_removes_the_saved_index(tmp_path: Path) -> None:
    first, second = two_batches()
    store = scanned_case(tmp_path)
    add_faces(store, first)
    group_faces(store, "tester")
    assert (tmp_path / "case" / INDEX_FILE).exists()
    purge_faces(store, "tester")
    assert not (tmp_path / "case" / INDEX_DIR).exists(), "the index holds embeddings too"
    add_faces(store, second)
    after = group_faces(store, "tester")
    assert (after.faces, after.new_faces, after.index) == (len(second), len(second), "built")
    store.close()


def test_a_face_committed_after_a_later_one_is_still_grouped(tmp_path: Path) -> None:
    """Parallel scan workers on PostgreSQL can commit a face after one with a higher id was grouped: it is in no
    person yet, so the next grouping takes it, and the saved index is still reused."""
    first, _ = two_batches()
    store = scanned_case(tmp_path)
    add_faces(store, first)
    late = int(store.face_vectors()[0][5])
    row = store.db.execute("SELECT item_id, embedding FROM faces WHERE id = ?", (late,)).fetchone()
    with store.db:
        store.db.execute("DELETE FROM faces WHERE id = ?", (late,))  # not committed yet, as it were
    group_faces(store, "tester")
    assert late < int(store.grouped_face_ids()[-1])
    with store.db:
        store.db.execute("INSERT INTO faces(id, item_id, x, y, width, height, landmarks, embedding, score, detector)"
                         " VALUES (?, ?, 0, 0, 1, 1, '[]', ?, 0.9, 'synthetic')", (late, row[0], row[1]))
    later = group_faces(store, "tester")
    assert (later.new_faces, later.index) == (1, "reused")
    assert store.db.execute("SELECT person_id FROM faces WHERE id = ?", (late,)).fetchone()[0] is not None
    assert len(FaceIndex.load(tmp_path / "case" / INDEX_FILE)) == len(first)
    store.close()


def test_a_new_face_joining_two_chains_regroups_their_whole_component(tmp_path: Path) -> None:
    """Faces in a line 0.5 apart link only to their neighbours: the new middle face touches two faces, but
    Chinese whispers must see every face of the chain it closes, as a full regroup does."""
    rng = np.random.default_rng(11)
    centre, step = rng.normal(size=128), rng.normal(size=128)
    centre *= 0.6 / np.linalg.norm(centre)
    step *= 0.5 / np.linalg.norm(step)
    chain = np.array([centre + i * step for i in range(9)], dtype=np.float32)
    first, second = np.delete(chain, 4, axis=0), chain[4:5]
    store = scanned_case(tmp_path)
    add_faces(store, first)
    group_faces(store, "tester")
    add_faces(store, second)
    group_faces(store, "tester")
    assert persons_of(store) == full_regroup(tmp_path, first, second)
    store.close()


def _two_persons(store: SqliteCaseStore) -> tuple[list[int], list[int]]:
    """Faces of two people, 4 each, and their later faces (returned): one more of each."""
    vectors = synthetic_embeddings([5, 5], outliers=0, seed=21)
    add_faces(store, np.concatenate([vectors[:4], vectors[5:9]]))
    group_faces(store, "tester")
    return [1, 2, 3, 4], [5, 6, 7, 8]


def _person_of(store: SqliteCaseStore) -> dict[int, int]:
    return dict(store.db.execute("SELECT id, person_id FROM faces").fetchall())


def _case_of(kind: str, request: pytest.FixtureRequest) -> str | None:
    """None for a SQLite case (in tmp_path), else a new PostgreSQL case's URL."""
    if kind == "sqlite":
        return None
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[cluster]')")
    url: str = request.getfixturevalue("postgres_case")
    return url


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_split_stays_through_later_groupings_and_new_faces_join_the_person_they_are_like(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    store = scanned_case(tmp_path, _case_of(kind, request))
    ana, bea = _two_persons(store)
    one, other = _person_of(store)[ana[0]], _person_of(store)[bea[0]]
    merge_persons(store, one, other, "tester")  # a reviewer's mistake, or a grouping that joined two people
    new = split_person(store, one, bea, "rita")
    assert store.db.execute("SELECT actor, action, details FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()[:2] \
        == ("rita", "person-split")
    assert {f: _person_of(store)[f] for f in ana + bea} == {**dict.fromkeys(ana, one), **dict.fromkeys(bea, new)}
    vectors = synthetic_embeddings([5, 5], outliers=0, seed=21)
    add_faces(store, vectors[[4, 9]], first_width=20)  # one more face of each, in one grouping
    group_faces(store, "tester")
    person_of = _person_of(store)
    assert [person_of[f] for f in [*ana, 9]] == [one] * 5 and [person_of[f] for f in [*bea, 10]] == [new] * 5
    assert {p["id"]: p["representative_face"] for p in store.persons()} == {one: 9, new: 10}
    store.close()


def test_a_merge_holds_when_one_grouping_brings_faces_to_both_halves(tmp_path: Path) -> None:
    store = scanned_case(tmp_path)
    ana, bea = _two_persons(store)
    keep, absorb = _person_of(store)[ana[0]], _person_of(store)[bea[0]]
    merge_persons(store, keep, absorb, "tester")
    add_faces(store, synthetic_embeddings([5, 5], outliers=0, seed=21)[[4, 9]], first_width=20)
    assert group_faces(store, "tester").persons == 1
    assert set(_person_of(store).values()) == {keep}
    store.close()


def test_merges_and_splits_that_cannot_be_are_refused_and_change_nothing(tmp_path: Path) -> None:
    store = scanned_case(tmp_path)
    ana, bea = _two_persons(store)
    one = _person_of(store)[ana[0]]
    before, log = _person_of(store), store.db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    for change, message in [
        (lambda: merge_persons(store, one, one, "t"), f"person {one} cannot be merged into itself"),
        (lambda: merge_persons(store, one, 99, "t"), "no person 99 in this case"),
        (lambda: merge_persons(store, 99, one, "t"), "no person 99 in this case"),
        (lambda: split_person(store, 99, [1], "t"), "no person 99 in this case"),
        (lambda: split_person(store, one, [ana[0], bea[0]], "t"), f"face {bea[0]} not in person {one}"),
        (lambda: split_person(store, one, ana, "t"), "a split leaves faces on both sides"),
    ]:
        with pytest.raises(PersonError, match=message):
            change()
    assert _person_of(store) == before and not store.placed_faces()
    assert store.db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == log
    store.close()


def test_faces_show_and_split_on_the_command_line(tmp_path: Path) -> None:
    store = scanned_case(tmp_path)
    ana, bea = _two_persons(store)
    one = _person_of(store)[ana[0]]
    store.close()
    case = str(tmp_path / "case")
    shown = CliRunner().invoke(main, ["faces", "show", str(one), "--case", case, "--json"])
    assert shown.exit_code == 0, shown.output
    rows = [json.loads(line) for line in shown.output.splitlines()]
    assert [(r["face"], r["path"], r["placed"]) for r in rows] == [(f, str(tmp_path / "seizure" / "a.png"), False)
                                                                   for f in ana]
    split = CliRunner().invoke(main, ["faces", "split", str(one), "3", "4", "--case", case])
    assert split.exit_code == 0 and "Moved 2 faces from person" in split.output, split.output
    table = CliRunner().invoke(main, ["faces", "show", str(one), "--case", case])
    assert "2 faces in person" in table.output and "yes" in table.output
    refused = CliRunner().invoke(main, ["faces", "split", str(one), str(bea[0]), "--case", case])
    assert refused.exit_code == 2 and f"face {bea[0]} not in person {one}" in refused.output
    itself = CliRunner().invoke(main, ["faces", "merge", str(one), str(one), "--case", case])
    assert itself.exit_code == 2 and "cannot be merged into itself" in itself.output, itself.output
    assert "Traceback" not in itself.output + refused.output
    for args in (["show", str(2**64)], ["name", "999", "Ana"], ["merge", "1", str(2**64)]):
        answer = CliRunner().invoke(main, ["faces", *args, "--case", case])
        assert answer.exit_code == 2 and "Traceback" not in answer.output, (args, answer.output)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_case_merged_before_faces_were_placed_keeps_its_merges(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    case = _case_of(kind, request)
    store = scanned_case(tmp_path, case)
    ana, bea = _two_persons(store)
    keep, absorb = _person_of(store)[ana[0]], _person_of(store)[bea[0]]
    merge_persons(store, keep, absorb, "tester")
    # as the case was before migration 15: no placed column
    store.db.execute("ALTER TABLE faces DROP COLUMN placed")
    store.db.execute("ALTER TABLE hash_lists DROP COLUMN skipped")  # a later migration's
    rewind_schema(store, kind, "ADD COLUMN placed")
    store.close()
    store = open_case(case or tmp_path / "case")
    assert store.placed_faces() == set(ana + bea)
    store.close()



def test_a_person_id_is_never_given_twice_and_a_merge_keeps_the_absorbed_name(tmp_path: Path) -> None:
    store = scanned_case(tmp_path)
    ana, _ = _two_persons(store)
    one = _person_of(store)[ana[0]]
    first_new = split_person(store, one, ana[2:], "rita")
    assert name_person(store, first_new, "  Bea ", "rita")
    merge_persons(store, one, first_new, "rob")  # the highest id is gone
    details = store.db.execute("SELECT details FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()[0]
    assert json.loads(details)["absorb_name"] == "Bea" and store.named_persons() == {one: "Bea"}
    second_new = split_person(store, one, ana[2:], "rita")
    assert second_new > first_new, "a screen still naming the merged person must not reach this one"
    with pytest.raises(PersonError, match="no person"):
        merge_persons(store, one, first_new, "rob")
    for name in ["", "   ", "\x1b]0;pwned\x07Ana", "Ana\u202e", "\u200b", "x" * 201]:
        with pytest.raises(PersonError, match="printable characters"):
            name_person(store, one, name, "rita")
    store.close()


def test_after_a_purge_find_refuses_instead_of_answering_none_and_faces_scan_searches_again(tmp_path: Path) -> None:
    store = scanned_case(tmp_path)
    _two_persons(store)
    purge_faces(store, "tester")
    assert store.images_without_faces() and store.purged_faces() == 8
    store.close()
    reference = tmp_path / "ref.png"
    Image.new("RGB", (64, 64), "white").save(reference)
    found = CliRunner().invoke(main, ["faces", "find", "--case", str(tmp_path / "case"), "--reference", str(reference)])
    assert found.exit_code == 2 and "was removed" in found.output and "faces scan" in found.output, found.output
    store = open_case(tmp_path / "case")
    add_faces(store, synthetic_embeddings([2], outliers=0, seed=3))  # what a new faces scan of the image finds
    assert store.purged_faces() == 0 and not store.images_without_faces()
    store.close()
