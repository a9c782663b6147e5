"""Post-scan stages at volume: synthetic cases built through the store's public interface, every stage timed.

    python benchmarks/bench_volume.py [--sizes 20000 100000] [--workers 1] [--index-last]
    python benchmarks/bench_volume.py --sizes 100000 1000000 --sample 4000

Each size runs in its own process (so its peak memory is its own). A case of N image items is written with
add_source / begin_scan / add_items: realistic PDQ hashes (exactly 128 of 256 bits set, as PDQ's median
threshold gives), 24 query variants per item (fixed bit permutations of the hash, as a flip or rotation
permutes PDQ's DCT bits), a quarter of the items near copies of an earlier one (3 set bits swapped with 3
unset: distance 6) and one in fifty a byte-for-byte copy. A list of N PDQ hashes (one in twenty near an
item) and N/100 SHA-256 values is imported through the store. Then it times: matching, stacking (the whole
case, then a further scan of 1% more items, incrementally), the review queue's refresh (whole, then
incremental), a search-box query, and the JSON report. Between the two largest sizes it prints each stage's
growth exponent (log of the time ratio over log of the size ratio) and the peak resident memory
(resource.getrusage). With --sample K it only times, per size, the index query stacking makes for each item
(24 variants against an index of N item hashes; matching makes the same against N list hashes) on K items,
and scales it to N.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vigie.config import Settings
from vigie.exports.report import write_json
from vigie.matching.engine import build_list_segment, match_pending
from vigie.matching.pdq_index import PdqSegment
from vigie.matching.stacks import build_stacks
from vigie.records import ItemRecord, ListEntry
from vigie.store.review import QueueFilter, ReviewTables
from vigie.store.sqlite import SqliteCaseStore

_BATCH = 5_000
_PERMUTATIONS = np.random.default_rng(0).permuted(np.tile(np.arange(256), (23, 1)), axis=1)


def balanced_hashes(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 32) uint8 hashes with exactly 128 bits set."""
    out = np.empty((n, 32), dtype=np.uint8)
    for start in range(0, n, 20_000):
        keys = rng.random((min(20_000, n - start), 256), dtype=np.float32)
        bits = np.zeros(keys.shape, dtype=np.uint8)
        np.put_along_axis(bits, np.argpartition(keys, 128, axis=1)[:, :128], 1, axis=1)
        out[start : start + len(keys)] = np.packbits(bits, axis=1)
    return out


def near_copies(rng: np.random.Generator, hashes: np.ndarray, swaps: int = 3) -> np.ndarray:
    """Each hash with `swaps` set bits cleared and as many clear bits set (still 128 set)."""
    bits = np.unpackbits(hashes, axis=1)
    for row in bits:
        on, off = np.flatnonzero(row), np.flatnonzero(row == 0)
        row[rng.choice(on, swaps, replace=False)] = 0
        row[rng.choice(off, swaps, replace=False)] = 1
    return np.packbits(bits, axis=1)


def variants(hashes: np.ndarray) -> np.ndarray:
    """(n, 24, 32): the hash, then 23 fixed permutations of its bits."""
    bits = np.unpackbits(hashes, axis=1)
    permuted = bits[:, _PERMUTATIONS]  # (n, 23, 256)
    return np.concatenate([hashes[:, np.newaxis, :], np.packbits(permuted, axis=2)], axis=1)


def case_hashes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Item hashes (a quarter near copies of earlier ones) and, per item, the earlier item it copies bytes
    of (-1: none)."""
    hashes = balanced_hashes(rng, n)
    near = rng.random(n) < 0.25
    near[0] = False
    rows = np.flatnonzero(near)
    sources = (rng.random(len(rows)) * rows).astype(np.int64)
    hashes[rows] = near_copies(rng, hashes[sources])
    copies = np.full(n, -1, dtype=np.int64)
    byte_rows = np.flatnonzero((rng.random(n) < 0.02) & ~near)
    byte_rows = byte_rows[byte_rows > 0]
    copies[byte_rows] = (rng.random(len(byte_rows)) * byte_rows).astype(np.int64)
    hashes[byte_rows] = hashes[copies[byte_rows]]
    return hashes, copies


def add_scan(store: SqliteCaseStore, source: int, first: int, hashes: np.ndarray, copies: np.ndarray) -> None:
    scan_id = store.begin_scan({"paths": ["seizure"]})
    for records in item_batches(first, hashes, copies):
        store.add_items(source, scan_id, records)
    store.finish_scan(scan_id, "complete", {})


def item_batches(first: int, hashes: np.ndarray, copies: np.ndarray) -> Iterator[list[ItemRecord]]:
    """The records of items `first`... as a scan stores them, a batch at a time."""
    rng = np.random.default_rng(first)
    for start in range(0, len(hashes), _BATCH):
        block = hashes[start : start + _BATCH]
        block_variants = variants(block)
        records = []
        for offset, (hashed, queries) in enumerate(zip(block, block_variants, strict=True)):
            number = first + start + offset
            original = copies[start + offset]
            digest_of = number if original < 0 else int(original) + 1  # item numbers are rows + 1
            records.append(ItemRecord(
                relpath=f"DCIM/{number // 1000:04d}/IMG_{number:07d}.JPG", size=100_000 + digest_of,
                digests={"sha256": hashlib.sha256(str(digest_of).encode()).hexdigest()}, media_type="image/jpeg",
                width=int(rng.integers(1, 5)) * 1000, height=3000, exif={"Model": f"camera {number % 97}"},
                pdq=hashed.tobytes().hex(), pdq_quality=100, pdq_variants=tuple(v.tobytes().hex() for v in queries),
            ))
        yield records


def import_list(store: SqliteCaseStore, rng: np.random.Generator, item_hashes: np.ndarray, settings: Settings) -> None:
    n = len(item_hashes)
    hashes = balanced_hashes(rng, n)
    planted = rng.random(n) < 0.05
    hashes[planted] = near_copies(rng, item_hashes[rng.integers(0, n, int(planted.sum()))], swaps=5)
    entries = [ListEntry(pdq=h.tobytes().hex(), pdq_quality=100, category="1") for h in hashes]
    entries += [ListEntry(digests={"sha256": hashlib.sha256(str(int(i)).encode()).hexdigest()}, category="2")
                for i in rng.integers(0, n, n // 100)]
    list_id = store.add_hash_list("known", "csv", "known.csv", "0" * 64, entries, [])
    build_list_segment(store, list_id)


def peak_mb() -> float:
    """The largest resident size of this process or of any of its finished workers."""
    return max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024


def cpu_seconds() -> float:
    """CPU time of this process and of its finished workers (the machine is shared: wall time is noisy)."""
    return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def run_one(n: int, workers: int, index_last: bool = False, skip: frozenset[str] = frozenset()) -> dict[str, float]:
    figures: dict[str, float] = {}

    def timed(stage: str, action: object) -> None:
        if stage in skip:
            print(f"  n={n:>9,}  {stage:<26} skipped", flush=True)
            return
        started, cpu = time.perf_counter(), cpu_seconds()
        action()  # type: ignore[operator]
        figures[stage] = time.perf_counter() - started
        figures[f"{stage} CPU s"] = cpu_seconds() - cpu
        figures[f"{stage} peak MB"] = peak_mb()
        print(f"  n={n:>9,}  {stage:<26} {figures[stage]:8.2f} s  CPU {figures[f'{stage} CPU s']:8.2f} s   "
              f"peak {peak_mb():7.0f} MB", flush=True)

    settings = Settings(workers=workers)
    rng = np.random.default_rng(n)
    extra = max(1, n // 100)
    hashes, copies = case_hashes(rng, n + extra)
    with tempfile.TemporaryDirectory(prefix="vigie-volume-") as tmp:
        store = SqliteCaseStore(Path(tmp) / "case")
        source = store.add_source("seizure", str(Path(tmp) / "seizure"), "directory")
        timed("build case (add_items)", lambda: add_scan(store, source, 1, hashes[:n], copies[:n]))
        timed("import list", lambda: import_list(store, rng, hashes[:n], settings))
        if not index_last:
            timed("matching", lambda: match_pending(store, settings))
            timed("stacks", lambda: build_stacks(store, settings))
        timed("queue refresh", lambda: ReviewTables(store).refresh())
        queue = ReviewTables(store)
        timed("search query", lambda: queue.queue(QueueFilter(status="all", text="camera 42"), limit=50))
        report = Path(tmp) / "report.json"

        def write_report() -> None:
            with report.open("w", encoding="utf-8") as out:
                write_json(store, out)

        timed("JSON report", write_report)
        figures["report MB"] = report.stat().st_size / 2**20 if report.exists() else 0.0
        if index_last:  # the stages that may not finish, after those that will
            timed("matching", lambda: match_pending(store, settings))
            timed("stacks", lambda: build_stacks(store, settings))
        timed("+1% scan (add_items)", lambda: add_scan(store, source, n + 1, hashes[n:], copies[n:]))
        timed("+1% matching", lambda: match_pending(store, settings))
        timed("+1% stacks", lambda: build_stacks(store, settings))
        timed("+1% queue refresh", lambda: ReviewTables(store).refresh())
        figures["stacks count"] = store.stack_count()
        store.close()
    figures["peak MB"] = peak_mb()
    return figures


def sampled_probe(n: int, sample: int) -> None:
    """Where a whole run would take too long: the index query that stacking and matching make for each item
    (its 24 variants against an index of n hashes), timed on `sample` items and scaled to n items."""
    rng = np.random.default_rng(n)
    hashes, _ = case_hashes(rng, n)
    started = time.perf_counter()
    segment = PdqSegment.build(np.arange(1, n + 1), hashes, multi_index=True)
    built = time.perf_counter() - started
    queries = variants(hashes[rng.integers(0, n, sample)]).reshape(-1, 32)
    started, cpu = time.perf_counter(), time.process_time()
    segment.pairs(queries, Settings().stack_threshold)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"  n={n:>9,}  index of {n:,} hashes ({len(segment.widths)} chunks) built in {built:.1f} s; "
          f"{sample:,} items' 24 variants probed it in {wall:.1f} s ({cpu:.1f} s CPU): "
          f"{wall / sample * n:,.0f} s ({cpu / sample * n:,.0f} s CPU) for all {n:,}; peak {peak_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--index-last", action="store_true",
                        help="run matching and stacking after the report (queue and report then cover no matches)")
    parser.add_argument("--skip", nargs="+", default=[], metavar="STAGE",
                        help='stages not to time, by their printed names (e.g. matching "JSON report")')
    parser.add_argument("--sample", type=int, help="only time the index query of this many items per size, scaled")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        figures = run_one(args.one, args.workers, args.index_last, frozenset(args.skip))
        print("RESULT " + json.dumps(figures), flush=True)
        return
    if args.sample:
        for n in args.sizes:
            sampled_probe(n, args.sample)
        return
    results: dict[int, dict[str, float]] = {}
    for n in args.sizes:
        child = subprocess.run([sys.executable, __file__, "--one", str(n), "--workers", str(args.workers),
                                *(["--index-last"] if args.index_last else []),
                                *(["--skip", *args.skip] if args.skip else [])],
                               stdout=subprocess.PIPE, text=True, check=True)
        for line in child.stdout.splitlines():
            if line.startswith("RESULT "):
                results[n] = json.loads(line[len("RESULT "):])
            else:
                print(line)
        print(f"  n={n:>9,}  peak memory {results[n]['peak MB']:.0f} MB, report {results[n]['report MB']:.0f} MB, "
              f"{results[n]['stacks count']:.0f} stacks")
    sizes = sorted(results)
    if len(sizes) >= 2:
        small, large = sizes[-2], sizes[-1]
        print(f"growth exponents between {small:,} and {large:,} items (1.0 = linear):")
        for stage, seconds in results[large].items():
            if stage.endswith(("MB", "CPU s")) or stage == "stacks count":
                continue
            before = results[small].get(stage, 0.0)
            exponent = math.log(seconds / before) / math.log(large / small) if before > 0 and seconds > 0 else 0.0
            print(f"  {stage:<26} {exponent:5.2f}")


if __name__ == "__main__":
    main()
