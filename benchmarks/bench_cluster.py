"""Past one machine: scan throughput with the process pool and with Ray, and the case store's write rate.

    python benchmarks/bench_cluster.py [--files 192] [--items 100000] [--postgres URL | --no-postgres]

Scan: the same drawn pictures (640x480 JPEG) scanned into a fresh case with the pool and with the Ray engine
(a local Ray of 1, then 2 CPUs; its start is timed apart), files per second, and each Ray worker's share;
into SQLite, then into PostgreSQL (there the Ray workers write their units themselves).
Store: 100k synthetic image items (bench_volume.py's: PDQ with 24 query variants, EXIF, digests) written
with add_items as a scan writes them (one transaction per unit of 32 files); items per second.
PostgreSQL: the database at URL (no ?case=), else a private server started as the tests start theirs
(tests/pg.py, through bench_store.py). Figures are printed, never asserted; the Ray and PostgreSQL rows need
the `cluster` extra.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from bench_store import postgres
from bench_volume import case_hashes, item_batches

from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.scan.engines import open_engine
from vigie.scan.pipeline import run_scan
from vigie.store.sqlite import open_case

_UNIT = 32  # files per add_items call, as the scan's units


def draw_files(root: Path, count: int) -> None:
    root.mkdir()
    for seed in range(count):
        draw_picture(seed, (640, 480)).save(root / f"IMG_{seed:05d}.jpg", quality=90)


def scan_once(evidence: Path, case: str, engine: str, workers: int) -> tuple[float, float, dict[str, int]]:
    """(seconds to start the engine, seconds of the scan, files per Ray worker)."""
    settings = Settings(workers=workers)
    store = open_case(case, create=True)
    try:
        started = time.perf_counter()
        with open_engine(engine, settings) as runner:
            ready = time.perf_counter()
            run_scan(store, [str(evidence)], settings, engine=runner)
            done = time.perf_counter()
            shares = dict(getattr(runner, "files", {}))
        return ready - started, done - ready, shares
    finally:
        store.close()


def postgres_case(url: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}case=bench_{uuid.uuid4().hex[:8]}"


def bench_scans(files: int, url: str | None) -> None:
    """Each run in a process of its own: a pool forked from a process that has already scanned inherits its
    decoders' and ONNX Runtime's state, and ran several times slower in this benchmark."""
    with tempfile.TemporaryDirectory(prefix="vigie-bench-cluster-") as temp:
        evidence = Path(temp) / "evidence"
        draw_files(evidence, files)
        print(f"scan of {files} drawn 640x480 JPEGs ({os.cpu_count()} CPUs on this machine)")
        print(f"  {'engine':<8}{'store':<12}{'workers':>8}{'start s':>10}{'scan s':>10}{'files/s':>10}  per worker")
        runs = [("pool", 1, None), ("pool", 2, None), ("ray", 1, None), ("ray", 2, None)]
        if url:
            runs += [("pool", 2, url), ("ray", 1, url), ("ray", 2, url)]
        env = {**os.environ, "VIGIE_CACHE_DIR": str(Path(temp) / "cache"), "RAY_ADDRESS": ""}
        for number, (engine, workers, server) in enumerate(runs):
            case = postgres_case(server) if server else str(Path(temp) / f"case-{number}")
            store = "postgresql" if server else "sqlite"
            command = [sys.executable, __file__, "--one", engine, str(workers), str(evidence), case]
            run = subprocess.run(command, capture_output=True, text=True, env=env)
            if run.returncode != 0:  # Ray not installed: the pool's rows still print
                print(f"  {engine:<8}{store:<12}{workers:>8}  skipped: {run.stderr.strip().splitlines()[-1:]}")
                continue
            start, seconds, shares = json.loads(run.stdout.strip().splitlines()[-1])
            share = ", ".join(f"{n} files ({n / seconds:.1f}/s)" for n in shares.values())
            rate = files / seconds
            print(f"  {engine:<8}{store:<12}{workers:>8}{start:>10.2f}{seconds:>10.2f}{rate:>10.1f}  {share}")


def unit_batches(items: int) -> Iterator[list[Any]]:
    hashes, copies = case_hashes(np.random.default_rng(7), items)
    for records in item_batches(1, hashes, copies):
        for start in range(0, len(records), _UNIT):
            yield records[start : start + _UNIT]


def write_rate(name: str, opener: Callable[[], Any], items: int, files: Path | None = None) -> None:
    """Items per second through add_items; with `files`, the bytes per item they take on disk."""
    store = opener()
    try:
        source = store.add_source("/bench/seizure", "/bench/seizure", "directory")
        scan_id = store.begin_scan({"paths": ["/bench/seizure"]})
        seconds = 0.0
        for records in unit_batches(items):
            started = time.perf_counter()
            store.add_items(source, scan_id, records)
            seconds += time.perf_counter() - started
        store.finish_scan(scan_id, "complete", {})
    finally:
        store.close()
    size = sum(p.stat().st_size for p in files.rglob("*") if p.is_file()) if files else 0
    on_disk = f"{size / items:>12,.0f}" if files else f"{'–':>12}"
    print(f"  {name:<12}{items:>10,}{seconds:>10.1f}{items / seconds:>12,.0f}{on_disk}")


def bench_stores(items: int, url: str | None, why_not: str) -> None:
    print(f"store writes: {items:,} image items, one transaction per {_UNIT}")
    print(f"  {'store':<12}{'items':>10}{'seconds':>10}{'items/s':>12}{'bytes/item':>12}")
    with tempfile.TemporaryDirectory(prefix="vigie-bench-store-") as temp:
        write_rate("sqlite", lambda: open_case(Path(temp) / "case", create=True), items, Path(temp) / "case")
        if not url:
            print(f"  postgresql  skipped: {why_not}")
            return
        store = importlib.import_module("vigie.store.postgres")
        write_rate("postgresql", lambda: store.open_postgres_case(postgres_case(url), Path(temp) / "pg-case",
                                                                  create=True), items)


@contextmanager
def server(url: str | None, wanted: bool) -> Iterator[tuple[str | None, str]]:
    """(a database URL without ?case=, or None; why there is none)."""
    if not wanted:
        yield None, "--no-postgres"
        return
    try:
        importlib.import_module("vigie.store.postgres")
    except ImportError as exc:
        yield None, f"{exc} (pip install -e '.[cluster]')"
        return
    try:
        with postgres(url) as started:
            yield started, ""
    except SystemExit as exc:  # bench_store's word for "no server can run here"
        yield None, str(exc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=192, help="pictures to scan (0: no scan figures)")
    parser.add_argument("--items", type=int, default=100_000, help="items to write (0: no store figures)")
    parser.add_argument("--postgres", help="a database URL (no ?case=); default: a private server, as the tests'")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--one", nargs=4, metavar=("ENGINE", "WORKERS", "EVIDENCE", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # one scan, in this process of its own; its figures as a JSON line
        engine, workers, evidence, case = args.one
        print(json.dumps(scan_once(Path(evidence), case, engine, int(workers))))
        return
    with server(args.postgres, not args.no_postgres) as (url, why_not):
        if args.files:
            bench_scans(args.files, url)
        if args.items:
            bench_stores(args.items, url, why_not)


if __name__ == "__main__":
    main()
