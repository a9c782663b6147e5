"""Scan throughput and PDQ compatibility on camera JPEGs, side by side with python-threatexchange.

    python benchmarks/bench_scan.py [--photos DIR] [--workers 2]

Both sides get the same files and the same number of processes. Vigie does what the core scan does per
file (MD5, SHA-1, SHA-256, media type, EXIF, PDQ with its 24 query variants, C2PA marker check, storing,
stacking); the AI stage (watermarks, detector) is off here and measured by bench_ai.py. threatexchange's
`pdq_from_file` computes the PDQ hash alone. Needs the `bench` extra for the comparison. The photos are
copied into a temporary evidence folder: a scan does not follow links out of its evidence, and copies of one
file would be analysed once (same SHA-256), so each file is scanned once on both sides.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image

from vigie.config import Settings
from vigie.scan.pipeline import run_scan
from vigie.signals.registry import hamming
from vigie.store.sqlite import open_case

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"


def camera_jpegs(root: Path, min_mp: float, max_mp: float) -> list[Path]:
    chosen = []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in (".jpg", ".jpeg"):
            continue
        with Image.open(path) as image:
            megapixels = image.size[0] * image.size[1] / 1e6
        if min_mp <= megapixels <= max_mp:
            chosen.append(path)
    return chosen


def reference_hash(path: str) -> tuple[str, int]:
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file

    return pdq_from_file(Path(path))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--min-mp", type=float, default=1.0)
    parser.add_argument("--max-mp", type=float, default=12.0)
    args = parser.parse_args()
    if not args.photos.exists():
        print(f"skipped: {args.photos} not present")
        return 0
    files = camera_jpegs(args.photos, args.min_mp, args.max_mp)
    if not files:
        print("skipped: no camera JPEGs in the size range")
        return 0
    megapixels = [Image.open(f).size[0] * Image.open(f).size[1] / 1e6 for f in files]
    print(f"{len(files)} camera JPEGs, {min(megapixels):.1f}-{max(megapixels):.1f} MP "
          f"(median {statistics.median(megapixels):.1f}), {args.workers} workers")

    with tempfile.TemporaryDirectory() as tmp:
        evidence = Path(tmp) / "evidence"
        evidence.mkdir()
        for path in files:
            shutil.copyfile(path, evidence / path.name)
        store = open_case(Path(tmp) / "case", create=True)
        started = time.perf_counter()
        run_scan(store, [str(evidence)], Settings(workers=args.workers, watermarks=False, detector=False))
        vigie_seconds = time.perf_counter() - started
        ours = {Path(i["path"]).name: i for i in store.iter_report_items()}
        store.close()
    total = len(files)
    vigie_rate = total / vigie_seconds
    print(f"vigie scan (hashes + EXIF + PDQ, store, stacks): {vigie_rate:7.1f} images/s  ({vigie_seconds:.1f} s)")
    print("  (the AI stage is off here: see bench_ai.py for its cost)")

    try:
        import threatexchange  # noqa: F401
    except ImportError:
        print("threatexchange not installed (pip install -e '.[bench]'): no side-by-side figures")
        return 0
    jobs = [str(f) for f in files]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        reference = list(pool.map(reference_hash, jobs, chunksize=4))
    ref_seconds = time.perf_counter() - started
    ref_rate = total / ref_seconds
    print(f"threatexchange pdq_from_file (PDQ only):        {ref_rate:7.1f} images/s  ({ref_seconds:.1f} s)")
    print(f"speed ratio vigie / threatexchange: {vigie_rate / ref_rate:.1f}x")

    distances = []
    for path, (ref_hash, quality) in zip(files, reference, strict=True):
        if quality >= 80:
            distances.append(hamming(ref_hash, ours[path.name]["pdq"]))
    print(f"PDQ compatibility on {len(distances)} photos of quality >= 80: max {max(distances)} bits, "
          f"median {statistics.median(distances)} bits, mean {statistics.mean(distances):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
