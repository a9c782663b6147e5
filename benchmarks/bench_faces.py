"""Face speed: faces and images per second for each detector on 2 cores, and a search over 100k faces.

    python benchmarks/bench_faces.py [--faces-dir ../shared/data/faces] [--stored 100000]

Detection + embedding run through the real scan (`--faces`, 2 workers) on the face photos; the search
runs `faces find` logic against a case holding `--stored` faces (random unit embeddings plus the real ones).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vigie.config import Settings
from vigie.persons import embed_references, find_person
from vigie.scan import run_scan
from vigie.store.sqlite import open_case

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces-dir", type=Path, default=SHARED / "faces")
    parser.add_argument("--yunet", type=Path, default=SHARED / "models" / "yunet_s_640_640.onnx")
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
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
