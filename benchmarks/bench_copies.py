"""The cost of many copies of one picture (WhatsApp and backup copies, or a disk image listing one volume many
times): a folder of N copies scanned into a new case with `--workers 1`, its wall time and the scan's peak
memory (the stacking of near copies had looked up every copy against every other: N² pairs).

    python benchmarks/bench_copies.py [--copies 1000 3000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vigie.demo.seizure import draw_picture


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, nargs="+", default=[1000, 3000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        picture = Path(scratch) / "picture.jpg"
        draw_picture(5, (320, 240)).save(picture, "JPEG", quality=90)
        for copies in args.copies:
            evidence = Path(scratch) / f"copies-{copies}"
            evidence.mkdir()
            for number in range(copies):
                (evidence / f"c{number:06d}.jpg").write_bytes(picture.read_bytes())
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "vigie.cli", "scan", str(evidence), "--case",
                            str(Path(scratch) / f"case-{copies}"), "--workers", "1"], check=True,
                           capture_output=True)
            seconds = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far
            print(f"{copies:7,} copies  scan {seconds:6.1f} s  {copies / seconds:7.1f} files/s  "
                  f"peak memory of the scans so far {peak:7.0f} MiB")


if __name__ == "__main__":
    main()
