"""The cost of looking for a zip behind a picture or a video as it is hashed (`vigie.sources.zipbehind`):
milliseconds per MiB fed to `ZipClues`, beside the three digests every file gets, on random bytes (a JPEG's
scan data looks so), on bytes made of false local-header signatures (bait: the search stops after 1,000), and
on zeros.

    python benchmarks/bench_zip_clues.py [--mib 64] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from vigie.signals.crypto import StreamingDigests
from vigie.sources.zipbehind import ZipClues

CHUNK = 1 << 20


def _ms_per_mib(feed: Callable[[bytes], object], chunks: list[bytes]) -> float:
    start = time.perf_counter()
    for chunk in chunks:
        feed(chunk)
    return (time.perf_counter() - start) * 1e3 / len(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    inputs = {
        "random bytes": [os.urandom(CHUNK) for _ in range(args.mib)],
        "false signatures": [b"PK\x03\x04" * (CHUNK // 4)] * args.mib,
        "zeros": [bytes(CHUNK)] * args.mib,
    }
    for name, chunks in inputs.items():
        for _ in range(args.repeats):
            clues = _ms_per_mib(ZipClues(headers=True).feed, chunks)
            digests = _ms_per_mib(StreamingDigests().update, chunks)
            print(f"{name:17} {args.mib} MiB  zip clues {clues:5.2f} ms/MiB  digests {digests:5.2f} ms/MiB  "
                  f"clues/digests {clues / digests:4.2f}")


if __name__ == "__main__":
    main()
