"""The review console's queue and search at volume, through its HTTP API: a synthetic case of N image items
(bench_volume.py's: built through the store's public interface, a list imported and matched, stacks built,
one stack in ten decided), served by waitress on the loopback address, asked what the console asks.

    python benchmarks/bench_console.py [--items 100000] [--case DIR] [--repeat 7]

`--case DIR` keeps the built case there and reuses it on the next run (building 100k items, matching and
stacking take some minutes). Each request is timed from the client (a logged-in session, as the browser's):
the median and the slowest of `--repeat` runs, after one untimed warm-up, and the answer's size.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import re
import statistics
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
from bench_volume import add_scan, case_hashes, import_list

from vigie.config import Settings
from vigie.matching.engine import match_pending
from vigie.matching.stacks import build_stacks
from vigie.store.accounts import Accounts
from vigie.store.review import Decision, QueueFilter, ReviewTables
from vigie.store.sqlite import SqliteCaseStore, open_case
from vigie.web.app import create_app

PASSWORD = "benchmark password 1"
TARGET_MS = 300


def build_case(case: Path, n: int) -> None:
    """N items, a list matched against them, stacks, and one queue entry in ten decided (as a shift leaves it)."""
    settings = Settings(workers=1)
    rng = np.random.default_rng(n)
    hashes, copies = case_hashes(rng, n)
    store = SqliteCaseStore(case)
    try:
        started = time.perf_counter()
        source = store.add_source("seizure", str(case.parent / "seizure"), "directory")
        add_scan(store, source, 1, hashes, copies)
        import_list(store, rng, hashes, settings)
        match_pending(store, settings)
        build_stacks(store, settings)
        review = ReviewTables(store)
        _, entries = review.queue(QueueFilter(status="all"), limit=n)
        for entry in entries[::10]:
            review.decide("bench", review.members(entry["id"]), Decision("projectvic-us", "1"), "stack")
        Accounts(store).create_user("rita", PASSWORD, "reviewer", actor="bench")
        print(f"built {n:,} items, {len(entries):,} queue entries, {store.stack_count():,} stacks, "
              f"{len(entries[::10]):,} decided in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        store.close()


class Session:
    """A logged-in console session over HTTP: cookies as the browser keeps them, the CSRF token it sends."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(f"{base}/login").read().decode()
        token = re.search(r'name="login_token" value="([^"]+)"', page)
        assert token, "no login form"
        form = urllib.parse.urlencode({"username": "rita", "password": PASSWORD, "login_token": token[1]}).encode()
        self.opener.open(f"{base}/login", data=form).read()
        self.csrf = self.get("/api/me")["csrf_token"]

    def get(self, path: str) -> Any:
        with self.opener.open(self.base + path) as answer:
            return json.loads(answer.read())

    def timed(self, path: str, repeat: int) -> tuple[float, float, Any]:
        """(median ms, slowest ms, the answer) over `repeat` requests after a warm-up."""
        self.get(path)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            answer = self.get(path)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times), max(times), answer


def measure(case: Path, repeat: int) -> None:
    from waitress.server import create_server

    server: Any = create_server(create_app(case, Settings(workers=1)), host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()  # stops with the process
    session = Session(f"http://127.0.0.1:{server.effective_port}")
    store = open_case(case)
    ReviewTables(store).refresh()  # the queue is brought up to date once after a scan: not timed here
    stacked = store.db.execute("SELECT representative_id FROM stacks ORDER BY id LIMIT 1").fetchone()[0]
    store.close()
    since = session.get("/api/changes")["next"]
    requests = [
        ("queue, first page (200)", "/api/queue?limit=200&offset=0"),
        ("queue, next page (200)", "/api/queue?limit=200&offset=200"),
        ("queue, \"More\": the first 400", "/api/queue?limit=400&offset=0"),  # the console reloads from 0
        ("queue, deep page (offset 50,000)", "/api/queue?limit=200&offset=50000"),
        ("filtered: list hits", "/api/queue?limit=200&list=known"),
        ("filtered: category 1, decided", "/api/queue?limit=200&status=decided&category=1"),
        ("filtered: category 1, any status", "/api/queue?limit=200&status=all&category=1"),
        ("filtered: folder", "/api/queue?limit=200&folder=seizure/DCIM/0042"),
        ("search box: camera 42", "/api/queue?limit=200&q=camera%2042"),
        ("search box: IMG_00123", "/api/queue?limit=200&q=IMG_00123"),
        ("item panel (a stack)", f"/api/items/{stacked}"),
        ("live poll (/api/changes)", f"/api/changes?since={since}"),
    ]
    print(f"{'request':<34} {'median':>9} {'slowest':>9}  answer", flush=True)
    for name, path in requests:
        median, slowest, answer = session.timed(path, repeat)
        shown = f"{answer['total']:,} entries, {len(answer['entries'])} sent" if "total" in answer else (
            f"{answer['stack_size']} copies" if "stack_size" in answer else "")
        flag = "" if slowest < TARGET_MS else f"  over {TARGET_MS} ms"
        print(f"{name:<34} {median:7.0f} ms {slowest:7.0f} ms  {shown}{flag}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--case", type=Path, help="keep the built case here, and reuse it when it exists")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigie-console-") as tmp:
        case = args.case or Path(tmp) / "case"
        if not (case / "case.sqlite").exists():
            build_case(case, args.items)
        measure(case, args.repeat)


if __name__ == "__main__":
    main()
