"""Face speed: faces and images per second for each detector on 2 cores, a search over 100k faces, and
grouping 10k and 100k synthetic faces with the approximate-neighbour index against all pairs.

    python benchmarks/bench_faces.py [--faces-dir ../shared/data/faces] [--stored 100000]
        [--grouping 10000,100000] [--all-pairs-blocks 8] [--incremental 100000]

Detection + embedding run through the real scan (`--faces`, 2 workers) on the face photos; the search
runs `faces find` logic against a case holding `--stored` faces (random unit embeddings plus the real ones).
Grouping runs on synthetic embeddings (half the faces in persons of 1 to 40 faces, half strangers): the
close pairs through the index, then through all pairs block by block (the method the index replaced;
past `--all-pairs-blocks` blocks its time is extrapolated from the blocks done), the share of the
all-pairs edges the index found, and Chinese whispers on the index's edges. `--incremental` groups that many
synthetic faces through a case (`faces group`), then 1% more, drawn from the same persons and strangers: the
second grouping reuses the saved index and its saved close pairs, and asks the index only about the new faces.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from vigie.config import Settings
from vigie.matching.faces.grouping import group_faces
from vigie.matching.faces.index import pairs_within
from vigie.matching.faces.persons import MATCH_DISTANCE, chinese_whispers, embed_references, find_person
from vigie.records import Face
from vigie.scan.pipeline import run_scan
from vigie.store.sqlite import SqliteCaseStore, open_case

sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' synthetic faces
from face_vectors import synthetic_embeddings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
ALL_PAIRS_BLOCK = 2048


def all_pairs_block(vectors: np.ndarray, squared: np.ndarray, start: int, threshold: float) -> set[tuple[int, int]]:
    """Pairs (i < j) closer than `threshold` for rows start.. start + ALL_PAIRS_BLOCK, against every row."""
    block = vectors[start : start + ALL_PAIRS_BLOCK].astype(np.float64)
    distances = squared[start : start + ALL_PAIRS_BLOCK, None] + squared[None, :] - 2 * block @ vectors.T
    rows, cols = np.nonzero(distances <= threshold**2)
    return {(start + int(r), int(c)) for r, c in zip(rows, cols, strict=True) if start + r < c}


def synthetic_persons(size: int) -> tuple[np.ndarray, int, int]:
    """(`size` embeddings: half in persons of 1 to 40 faces, then strangers; the persons made; the strangers)."""
    rng = np.random.default_rng(size)
    sizes: list[int] = []
    while sum(sizes) < size // 2:
        sizes.append(int(rng.integers(1, 41)))
    strangers = size - sum(sizes)
    return synthetic_embeddings(sizes, outliers=strangers, seed=size), len(sizes), strangers


def bench_grouping(size: int, max_blocks: int) -> None:
    vectors, made, strangers = synthetic_persons(size)
    started = time.perf_counter()
    found = pairs_within(vectors, MATCH_DISTANCE)
    index_s = time.perf_counter() - started
    blocks = -(-size // ALL_PAIRS_BLOCK)
    done = min(blocks, max_blocks)
    started = time.perf_counter()
    squared = (vectors.astype(np.float64) ** 2).sum(axis=1)
    exact: set[tuple[int, int]] = set()
    for block in range(done):
        exact |= all_pairs_block(vectors, squared, block * ALL_PAIRS_BLOCK, MATCH_DISTANCE)
    all_pairs_s = (time.perf_counter() - started) * blocks / done
    covered = done * ALL_PAIRS_BLOCK  # recall is measured on the rows all pairs covered
    recall = len(exact & {p for p in found if p[0] < covered}) / max(1, len(exact))
    started = time.perf_counter()
    persons = len(set(chinese_whispers(size, found)))
    whispers_s = time.perf_counter() - started
    estimated = "" if done == blocks else f" (estimated from {done} of {blocks} blocks)"
    print(f"group {size:,} faces: close pairs by index {index_s:.1f} s, by all pairs {all_pairs_s:.1f} s"
          f"{estimated}; index found {recall:.2%} of the all-pairs edges; Chinese whispers {whispers_s:.1f} s, "
          f"{persons:,} persons ({made:,} made, {strangers:,} strangers)")


def add_synthetic_faces(store: SqliteCaseStore, vectors: np.ndarray) -> None:
    store.add_faces(store.item_ids()[0], [Face((0, 0, 1, 1), (), v, 0.9, "synthetic", b"") for v in vectors])


def bench_incremental(size: int) -> None:
    """`faces group` on a case of `size` faces, then again after 1% more were added."""
    vectors = synthetic_persons(size + size // 100)[0]
    vectors = vectors[np.random.default_rng(size).permutation(len(vectors))]  # the 1% more: any persons'
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "seizure").mkdir()
        Image.new("RGB", (64, 64), "white").save(Path(tmp) / "seizure" / "a.png")
        store = open_case(Path(tmp) / "case", create=True)
        run_scan(store, [str(Path(tmp) / "seizure")], Settings(workers=1))
        add_synthetic_faces(store, vectors[:size])
        started, cpu = time.perf_counter(), time.process_time()
        first = group_faces(store, "bench")
        first_s, first_cpu = time.perf_counter() - started, time.process_time() - cpu
        add_synthetic_faces(store, vectors[size:])
        started, cpu = time.perf_counter(), time.process_time()
        later = group_faces(store, "bench")
        later_s, later_cpu = time.perf_counter() - started, time.process_time() - cpu
        store.close()
    print(f"faces group on {size:,} faces: {first_s:.1f} s ({first_cpu:.1f} CPU s), {first.persons:,} persons; "
          f"+1% ({later.new_faces:,} faces): {later_s:.1f} s ({later_cpu:.1f} CPU s; index {later.index}, "
          f"{later.asked:,} faces asked about), {later.persons:,} persons")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces-dir", type=Path, default=SHARED / "faces")
    parser.add_argument("--yunet", type=Path, default=SHARED / "models" / "yunet_s_640_640.onnx")
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--grouping", default="10000,100000", help="synthetic face counts to group ('' for none)")
    parser.add_argument("--all-pairs-blocks", type=int, default=8, help="all-pairs blocks timed before extrapolating")
    parser.add_argument("--incremental", default="100000", help="faces grouped, then 1%% more ('' for none)")
    args = parser.parse_args()
    for size in filter(None, args.grouping.split(",")):
        bench_grouping(int(size), args.all_pairs_blocks)
    for size in filter(None, args.incremental.split(",")):
        bench_incremental(int(size))
    if not args.faces_dir.exists():
        print(f"skipped: {args.faces_dir} not present")
        return 0
    images = [p for p in args.faces_dir.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    detectors = [("hog", "")] + ([("yunet", str(args.yunet))] if args.yunet.exists() else [])
    with tempfile.TemporaryDirectory() as tmp:
        for detector, model in detectors:
            store = open_case(Path(tmp) / f"case-{detector}", create=True)
            settings = Settings(workers=args.workers, faces=True, face_detector=detector, face_model=model)
            started = time.perf_counter()
            run_scan(store, [str(args.faces_dir)], settings)
            wall = time.perf_counter() - started
            faces = len(store.face_vectors()[0])
            print(f"{detector:5}: {len(images)} images, {faces} faces in {wall:.1f} s: "
                  f"{len(images) / wall:.1f} images/s, {faces / wall:.1f} faces/s ({args.workers} workers)")
        ids = store.face_vectors()[0]
        rng = np.random.default_rng(1)
        filler = rng.normal(size=(args.stored - len(ids), 128)).astype(np.float32)
        filler /= np.linalg.norm(filler, axis=1, keepdims=True) / 0.6  # dlib embeddings have norm ~0.6
        item = store.item_ids()[0]
        with store.db:
            store.db.executemany(
                "INSERT INTO faces(item_id, x, y, width, height, landmarks, embedding, score, detector) "
                "VALUES (?, 0, 0, 1, 1, '[]', ?, 0, 'synthetic')",
                ((item, v.tobytes()) for v in filler),
            )
        reference = embed_references([next(args.faces_dir.rglob("John_Simm_*.jpg"))], settings)
        started = time.perf_counter()
        hits = find_person(store, reference)
        search = time.perf_counter() - started
        print(f"find over {args.stored:,} stored faces: {search * 1000:.0f} ms, {len(hits)} hits")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
