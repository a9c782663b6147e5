"""AI-generation evidence cost: provenance parsing, watermark decoding and detector time per image, and
scan throughput with and without the AI stage, in one run.

    python benchmarks/bench_ai.py [--photos ../shared/data/photos] [--workers 2]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from vigie.config import Settings
from vigie.detector.runtime import load_detector
from vigie.scan.pipeline import run_scan
from vigie.signals.provenance.c2pa import may_hold_manifest
from vigie.signals.provenance.metadata import metadata_findings
from vigie.signals.provenance.watermarks import watermark_findings
from vigie.store.sqlite import open_case

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"


def per_image_ms(files: list[Path], work: object) -> float:
    started = time.perf_counter()
    for path in files:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            work(image, data)  # type: ignore[operator]
    return (time.perf_counter() - started) / len(files) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not args.photos.exists():
        print(f"skipped: {args.photos} not present")
        return 0
    files = sorted(p for p in args.photos.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".tif"))
    megapixels = sum(Image.open(p).size[0] * Image.open(p).size[1] for p in files) / len(files) / 1e6
    print(f"{len(files)} camera photos, {megapixels:.1f} MP on average")
    detector = load_detector()
    print(f"provenance metadata (PNG text, EXIF, XMP, C2PA marker check): "
          f"{per_image_ms(files, lambda im, d: (metadata_findings(im, d), may_hold_manifest(d))):.1f} ms/image")
    print(f"invisible watermarks: {per_image_ms(files, lambda im, d: watermark_findings(im)):.1f} ms/image")
    if detector is not None:
        print(f"statistical detector (decode + 9 crops): {per_image_ms(files, lambda im, d: detector.score(im)):.1f} "
              "ms/image")
    with tempfile.TemporaryDirectory() as tmp:
        for label, ai_on in (("without the AI stage", False), ("with the AI stage", True)):
            store = open_case(Path(tmp) / label.replace(" ", "-"), create=True)
            settings = Settings(workers=args.workers, watermarks=ai_on, detector=ai_on)
            started = time.perf_counter()
            run_scan(store, [str(args.photos)], settings)
            wall = time.perf_counter() - started
            store.close()
            print(f"scan {label}: {len(files) / wall:.1f} images/s ({wall:.1f} s, {args.workers} workers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
