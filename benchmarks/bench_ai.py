"""AI-generation evidence cost: provenance parsing, watermark decoding and detector time per image, and
scan throughput with and without the AI stage, in one run; then, on the camera JPEGs alone, the AI stage's
share of scan time and the scan with every stage on against python-threatexchange's `pdq_from_file` path
(threatexchange's own function when the `bench` extra is installed, else the same steps on `pdqhash` from the
`reference-pdq` extra: PIL decode, array, `pdqhash.compute`, hex).

    python benchmarks/bench_ai.py [--photos ../shared/data/photos] [--workers 2]
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from vigie.config import Settings
from vigie.detector.runtime import load_detector
from vigie.scan.pipeline import run_scan
from vigie.signals.image import decode_picture
from vigie.signals.provenance.c2pa import may_hold_manifest
from vigie.signals.provenance.metadata import metadata_findings
from vigie.signals.provenance.watermarks import watermark_findings
from vigie.store.sqlite import open_case

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"


def per_image_ms(files: list[Path], work: object, decoded: bool = False) -> float:
    """Time of `work(image, bytes)` per image; with `decoded`, on the image decoded as scans share it (its
    decode not counted)."""
    spent = 0.0
    for path in files:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            if decoded:
                decode_picture(image, Settings().pdq_full_decode_pixels)
            started = time.perf_counter()
            work(image, data)  # type: ignore[operator]
            spent += time.perf_counter() - started
    return spent / len(files) * 1000


def reference_pdq(path: str) -> tuple[str, int]:
    """threatexchange's `pdq_from_file`, or its steps on pdqhash when threatexchange is not installed."""
    try:
        from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file
    except ImportError:
        import pdqhash

        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB") if image.mode == "LA" else image)
        if pixels.ndim == 2:
            pixels = np.repeat(pixels[..., None], 3, axis=2)
        bits, quality = pdqhash.compute(pixels)
        return f"{int(''.join(map(str, bits)), 2):064x}", int(quality)
    return pdq_from_file(Path(path))  # type: ignore[no-any-return]


def reference_name() -> str | None:
    try:
        import threatexchange  # noqa: F401
    except ImportError:
        try:
            import pdqhash  # noqa: F401
        except ImportError:
            return None
        return "pdq_from_file's steps on pdqhash (threatexchange not installed)"
    return "threatexchange pdq_from_file"


def scan_seconds(evidence: Path, case: Path, workers: int, ai_on: bool) -> float:
    store = open_case(case, create=True)
    started = time.perf_counter()
    run_scan(store, [str(evidence)], Settings(workers=workers, watermarks=ai_on, detector=ai_on))
    seconds = time.perf_counter() - started
    store.close()
    return seconds


def camera_jpeg_figures(files: list[Path], workers: int, passes: int = 2) -> None:
    """The AI stage's share of scan time on camera JPEGs, and the full scan against the reference PDQ path.
    Scans with and without the AI stage alternate, best of `passes` each (the machine may be shared)."""
    jpegs = [p for p in files if p.suffix.lower() in (".jpg", ".jpeg")]

    def rate(seconds: float) -> str:
        return f"{len(jpegs) / seconds:.1f} images/s ({seconds:.1f} s)"

    best = {False: float("inf"), True: float("inf")}
    with tempfile.TemporaryDirectory() as tmp:
        evidence = Path(tmp) / "evidence"  # copies: links out of the evidence are not followed
        evidence.mkdir()
        for index, path in enumerate(jpegs):  # names may repeat across the photos' folders
            shutil.copyfile(path, evidence / f"{index}-{path.name}")
        for run in range(passes):
            for ai_on in (False, True):
                seconds = scan_seconds(evidence, Path(tmp) / f"case-{run}-{ai_on}", workers, ai_on)
                best[ai_on] = min(best[ai_on], seconds)
    without, with_ai = best[False], best[True]
    print(f"{len(jpegs)} camera JPEGs, best of {passes}: scan without the AI stage {rate(without)}, with it "
          f"{rate(with_ai)}; AI stage {100 * (with_ai - without) / with_ai:.0f}% of scan time (target <= 30%)")
    name = reference_name()
    if name is None:
        print("no reference PDQ (pip install -e '.[bench]' or '.[reference-pdq]'): no ratio")
        return
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(reference_pdq, map(str, jpegs), chunksize=4))
    reference = time.perf_counter() - started
    print(f"{name}: {rate(reference)}; scan with every stage on / reference: {reference / with_ai:.1f}x "
          f"(target >= 3x); without the AI stage: {reference / without:.1f}x")


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
    full = Settings().pdq_full_decode_pixels
    print(f"the one decode every stage shares (a JPEG to YCbCr): "
          f"{per_image_ms(files, lambda im, d: decode_picture(im, full)):.1f} ms/image")
    print(f"invisible watermarks, on that decode: "
          f"{per_image_ms(files, lambda im, d: watermark_findings(im), decoded=True):.1f} ms/image")
    if detector is not None:
        print(f"statistical detector (9 crops), on that decode: "
              f"{per_image_ms(files, lambda im, d: detector.score(im), decoded=True):.1f} ms/image")
    with tempfile.TemporaryDirectory() as tmp:
        for label, ai_on in (("without the AI stage", False), ("with the AI stage", True)):
            store = open_case(Path(tmp) / label.replace(" ", "-"), create=True)
            settings = Settings(workers=args.workers, watermarks=ai_on, detector=ai_on)
            started = time.perf_counter()
            run_scan(store, [str(args.photos)], settings)
            wall = time.perf_counter() - started
            store.close()
            print(f"scan {label}: {len(files) / wall:.1f} images/s ({wall:.1f} s, {args.workers} workers)")
    camera_jpeg_figures(files, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
