"""PDQ index at scale: memory, per-query time and recall at the threshold, beside threatexchange's PDQIndex.

    python benchmarks/bench_index.py [--sizes 1000000 10000000] [--queries 300] [--te-max 1000000]

List hashes are uniformly random (the index's easy case: real PDQ hashes cluster more, so buckets are
fuller); every query is a list hash with 0-31 bits flipped (so recall must be 100%), plus far queries.
Recall is checked against brute force. Needs the `bench` extra (psutil, threatexchange).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from vigie.matching.pdq_index import PdqSegment, brute_force

THRESHOLD = 31


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def planted_queries(rng: np.random.Generator, hashes: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    rows = rng.integers(0, len(hashes), size=count)
    bits = np.unpackbits(hashes[rows], axis=1)
    for i in range(count):
        flips = rng.choice(256, size=int(rng.integers(0, THRESHOLD + 1)), replace=False)
        bits[i, flips] ^= 1
    return rows, np.packbits(bits, axis=1)


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir()) / 2**20


def bench_vigie(n: int, hashes: np.ndarray, rows: np.ndarray, queries: np.ndarray) -> None:
    ids = np.arange(n, dtype=np.int64)
    before = rss_mb()
    started = time.perf_counter()
    built = PdqSegment.build(ids, hashes)
    build_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "segment"
        built.save(folder, {})
        del built
        gc.collect()
        base = rss_mb()
        segment, _ = PdqSegment.load(folder)
        for q in queries[:20]:  # warm the page cache as a long-running matcher would be
            segment.query(q[np.newaxis, :], THRESHOLD)
        times, found = [], 0
        for row, q in zip(rows, queries, strict=True):
            t = time.perf_counter()
            hits = segment.query(q[np.newaxis, :], THRESHOLD)
            times.append(time.perf_counter() - t)
            found += any(h.row == row for h in hits)
        variant_times = []
        for q in queries[:100]:
            batch = np.repeat(q[np.newaxis, :], 24, axis=0)
            t = time.perf_counter()
            segment.query(batch, THRESHOLD)
            variant_times.append(time.perf_counter() - t)
        exact = all(
            {h.row for h in segment.query(q[np.newaxis, :], THRESHOLD)}
            == {h.row for h in brute_force(ids, hashes, q[np.newaxis, :], THRESHOLD)}
            for q in queries[:10]
        )
        print(f"  vigie     n={n:>10,}  build {build_s:6.1f} s  on disk {folder_mb(folder):7.0f} MB  "
              f"resident {rss_mb() - base:7.0f} MB (build peak +{max(0.0, base - before):.0f} MB held)  "
              f"query median {statistics.median(times) * 1e3:6.3f} ms  p99 {np.percentile(times, 99) * 1e3:6.3f} ms  "
              f"24-variant query {statistics.median(variant_times) * 1e3:6.2f} ms  "
              f"recall {found}/{len(rows)}  same as brute force: {exact}")


def bench_threatexchange(n: int, hashes: np.ndarray, rows: np.ndarray, queries: np.ndarray) -> None:
    try:
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex
    except ImportError:
        print("  threatexchange not installed (pip install -e '.[bench]')")
        return
    hex_hashes = [h.tobytes().hex() for h in hashes]
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    index = PDQIndex(entries=((h, i) for i, h in enumerate(hex_hashes)))
    build_s = time.perf_counter() - started
    del hex_hashes
    gc.collect()
    resident = rss_mb() - before
    times, found = [], 0
    for row, q in zip(rows, queries, strict=True):
        t = time.perf_counter()
        hits = index.query(q.tobytes().hex())
        times.append(time.perf_counter() - t)
        found += any(m.metadata == row for m in hits)
    print(f"  threatex  n={n:>10,}  build {build_s:6.1f} s  in memory (pickled to save) {resident:7.0f} MB  "
          f"query median {statistics.median(times) * 1e3:6.3f} ms  p99 {np.percentile(times, 99) * 1e3:6.3f} ms  "
          f"recall {found}/{len(rows)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--te-max", type=int, default=1_000_000, help="largest size run through threatexchange")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    for n in args.sizes:
        hashes = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
        rows, queries = planted_queries(rng, hashes, args.queries)
        print(f"{n:,} list hashes, {args.queries} queries within distance {THRESHOLD}:")
        bench_vigie(n, hashes, rows, queries)
        if n <= args.te_max:
            bench_threatexchange(n, hashes, rows, queries)
        del hashes
        gc.collect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
