"""An image's analysis with every stage on (PDQ, metadata, watermarks, the detector) on one shared decode, as
scans run it, against each stage decoding its own copy the same way (PDQ the Y plane; the watermarks and the
detector a JPEG's full-size YCbCr, other formats in their own mode), on the same photos, interleaved file by file
so machine load hits both alike. The findings are the same; only the number of decodes differs.

    python benchmarks/bench_decode_once.py [--photos ../shared/data/photos] [--passes 3]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

from PIL import Image

from vigie.config import Settings
from vigie.detector.runtime import detector_findings, load_detector
from vigie.records import ItemRecord
from vigie.signals.analysis import _analyse_image
from vigie.signals.image import analyse_image, decode_picture
from vigie.signals.provenance.metadata import metadata_findings
from vigie.signals.provenance.watermarks import watermark_findings

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"
SETTINGS = Settings()


def _own_decode(data: bytes) -> Image.Image:
    return decode_picture(Image.open(io.BytesIO(data)), SETTINGS.pdq_full_decode_pixels)


def each_on_its_own(data: bytes) -> None:
    """Every stage decodes its own copy."""
    analyse_image(data, SETTINGS.max_image_pixels, SETTINGS.pdq_full_decode_pixels, SETTINGS.max_image_frames)
    detector = load_detector()
    with Image.open(io.BytesIO(data)) as image:
        metadata_findings(image, data)
    watermark_findings(_own_decode(data))
    if detector is not None:
        detector_findings(_own_decode(data), detector)


def shared(data: bytes) -> None:
    _analyse_image(ItemRecord(relpath="x"), data, SETTINGS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    if not args.photos.exists():
        print(f"skipped: {args.photos} not present")
        return 0
    files = sorted(p for p in args.photos.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".tif"))
    load_detector()  # the session is made once per worker; not part of the per-image figure
    groups: dict[str, list[bytes]] = {"JPEG": [], "PNG and TIFF": []}
    for path in files:
        groups["JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG and TIFF"].append(path.read_bytes())
    print(f"{len(files)} camera photos, one process, {args.passes} passes, ms per image (best pass)")
    for name, blobs in groups.items():
        best = {"each stage decodes": float("inf"), "one shared decode": float("inf")}
        for _ in range(args.passes):
            spent = dict.fromkeys(best, 0.0)
            for data in blobs:
                for label, work in (("each stage decodes", each_on_its_own), ("one shared decode", shared)):
                    started = time.perf_counter()
                    work(data)
                    spent[label] += time.perf_counter() - started
            best = {k: min(best[k], spent[k] / len(blobs) * 1000) for k in best}
        figures = ", ".join(f"{label} {ms:.1f}" for label, ms in best.items())
        saved = 1 - best["one shared decode"] / best["each stage decodes"]
        print(f"{name} ({len(blobs)}): {figures}; saved {saved:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
