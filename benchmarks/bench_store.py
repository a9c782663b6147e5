"""Store write rate: items written through the scan's own call (`add_items`, a committed batch at a time), then
exact matching and stacking, into SQLite and into PostgreSQL, on the same synthetic records.

    python benchmarks/bench_store.py [--items 100000] [--batch 500] [--postgres URL]

URL names a database (without ?case=); without it a private server is started as the tests start theirs
(tests/pg.py: initdb in a temp dir, a Unix socket). Needs the `cluster` extra for PostgreSQL.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vigie.records import ItemRecord, ListEntry
from vigie.store.sqlite import SqliteCaseStore, open_case


def records(count: int) -> Iterator[ItemRecord]:
    for n in range(count):
        data = n.to_bytes(8, "big")
        yield ItemRecord(
            relpath=f"DCIM/{n // 1000:04d}/IMG_{n:07d}.jpg", size=100_000 + n, mtime=1.7e9 + n,
            digests={"md5": hashlib.md5(data).hexdigest(), "sha1": hashlib.sha1(data).hexdigest(),
                     "sha256": hashlib.sha256(data).hexdigest()},
            media_type="image/jpeg", width=4000, height=3000, exif={"Make": "Camera", "n": n},
            pdq=hashlib.sha256(b"pdq" + data).hexdigest(), pdq_quality=100,
            pdq_variants=tuple(hashlib.sha256(bytes([v]) + data).hexdigest() for v in range(8)),
        )


def measure(store: SqliteCaseStore, count: int, batch: int) -> dict[str, float]:
    source = store.add_source("evidence", "/evidence", "directory")
    scan = store.begin_scan({"bench": True})
    pending: list[ItemRecord] = []
    start = time.perf_counter()
    for record in records(count):
        pending.append(record)
        if len(pending) == batch:
            store.add_items(source, scan, pending)
            pending = []
    store.add_items(source, scan, pending)
    written = time.perf_counter() - start
    listed = [ListEntry(line=n, digests={"md5": hashlib.md5(n.to_bytes(8, "big")).hexdigest()})
              for n in range(0, count, 100)]
    store.add_hash_list("bench", "text", "bench.txt", "0" * 64, listed, [])
    start = time.perf_counter()
    matched = store.match_exact()
    matching = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(200):
        store.append_audit("bench", "bench", {"items": [1]})
    audit = time.perf_counter() - start
    return {"items_per_s": count / written, "match_s": matching, "matches": matched, "audit_per_s": 200 / audit}


@contextmanager
def postgres(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' private server
    from pg import private_server, why_no_server

    reason = why_no_server()
    if reason:
        raise SystemExit(f"no PostgreSQL: {reason}")
    with private_server() as started:
        yield started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--postgres", help="a database URL (no ?case=); default: a private server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        results = {"SQLite": measure(SqliteCaseStore(Path(folder) / "case"), args.items, args.batch)}
        with postgres(args.postgres) as url:
            separator = "&" if "?" in url else "?"
            store = open_case(f"{url}{separator}case=bench_{uuid.uuid4().hex[:8]}", create=True)
            results["PostgreSQL"] = measure(store, args.items, args.batch)
            store.close()
    print(f"{args.items:,} items in batches of {args.batch}")
    print(f"{'store':12} {'items/s':>10} {'exact match':>12} {'audit appends/s':>16}")
    for name, r in results.items():
        print(f"{name:12} {r['items_per_s']:>10,.0f} {r['match_s']:>10.2f} s {r['audit_per_s']:>16,.0f}")


if __name__ == "__main__":
    main()
