"""AI-generation evidence cost: provenance parsing, watermark decoding and detector time per image, and
scan throughput with and without the AI stage, in one run; then, on the camera JPEGs alone, the AI stage's
share of scan time and the scan with every stage on against python-threatexchange's `pdq_from_file` path
(threatexchange's own function when the `bench` extra is installed, else the same steps on `pdqhash` from the
`reference-pdq` extra: PIL decode, array, `pdqhash.compute`, hex).

    python benchmarks/bench_ai.py [--photos ../shared/data/photos] [--workers 2] [--passes 3]
"""

from __future__ import annotations

# First: vigie keeps BLAS to one thread per process, which holds only if set before numpy loads (imported
# after numpy, the scans here took five times their CPU time, their workers' BLAS threads fighting).
import vigie  # noqa: F401

# isort: split
import argparse
import io
import resource
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
from vigie.signals.faces import FaceModelError, check_models
from vigie.signals.image import decode_picture, jpeg_planes
from vigie.signals.jpeg_planes import JpegPlanes, planes_available
from vigie.signals.provenance.c2pa import may_hold_manifest
from vigie.signals.provenance.metadata import metadata_findings
from vigie.signals.provenance.watermarks import watermark_findings
from vigie.store.sqlite import open_case

DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"


def per_image_ms(files: list[Path], work: object, decoded: bool = False) -> float:
    """CPU time of `work(image, bytes)` per image; with `decoded`, of `work(pixels, bytes)` on the pixels a
    scan's AI stage reads (shared_decode, not counted)."""
    spent = 0.0
    for path in files:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            pixels = shared_decode(image, data) if decoded else image
            started = time.process_time()
            work(pixels, data)  # type: ignore[operator]
            spent += time.process_time() - started
    return spent / len(files) * 1000


def shared_decode(image: Image.Image, data: bytes) -> Image.Image | JpegPlanes:
    """What a scan's AI stage reads: a JPEG's planes as stored where it has them, else the picture decoded
    in colour (a JPEG to YCbCr)."""
    full = Settings().pdq_full_decode_pixels
    planes = jpeg_planes(image, data, full)
    return planes if planes is not None else decode_picture(image, full)


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
    return pdq_from_file(Path(path))


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


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (a scan's pool workers, once it has ended)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def scan_seconds(evidence: Path, case: Path, settings: Settings) -> tuple[float, float]:
    """Wall and CPU seconds of a scan into a new case."""
    store = open_case(case, create=True)
    cpu, started = cpu_seconds(), time.perf_counter()
    run_scan(store, [str(evidence)], settings)
    seconds = time.perf_counter() - started, cpu_seconds() - cpu
    store.close()
    return seconds


def reference_seconds(files: list[Path], workers: int) -> tuple[float, float]:
    """Wall and CPU seconds of the reference PDQ path over `files`, on as many processes as the scan."""
    cpu, started = cpu_seconds(), time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(reference_pdq, map(str, files), chunksize=4))
    return time.perf_counter() - started, cpu_seconds() - cpu


def faces_available() -> bool:
    try:
        check_models(Settings().face_detector, "")
    except FaceModelError:
        return False
    return True


def camera_jpeg_figures(files: list[Path], workers: int, passes: int) -> None:
    """The AI stage's share of scan time on camera JPEGs, and the full scan against the reference PDQ path,
    in wall and CPU seconds (CPU time is less disturbed by a shared machine's load). The scans and the
    reference alternate, best of `passes` each; "every stage on" is the scan's default stages (AI on, faces
    off), and the same with `--faces` (hog) is printed apart."""
    jpegs = [p for p in files if p.suffix.lower() in (".jpg", ".jpeg")]
    variants = {"off": Settings(workers=workers, watermarks=False, detector=False),
                "on": Settings(workers=workers, watermarks=True, detector=True)}
    if faces_available():
        variants["faces"] = Settings(workers=workers, watermarks=True, detector=True, faces=True)
    best = {name: (float("inf"), float("inf")) for name in variants}
    with tempfile.TemporaryDirectory() as tmp:
        evidence = Path(tmp) / "evidence"  # copies: links out of the evidence are not followed
        evidence.mkdir()
        for index, path in enumerate(jpegs):  # names may repeat across the photos' folders
            shutil.copyfile(path, evidence / f"{index}-{path.name}")
        name = reference_name()
        for run in range(passes):
            for variant, settings in variants.items():
                wall, cpu = scan_seconds(evidence, Path(tmp) / f"case-{run}-{variant}", settings)
                best[variant] = (min(best[variant][0], wall), min(best[variant][1], cpu))
            if name is not None:  # in the same alternation, so the load falls on both alike
                wall, cpu = reference_seconds(jpegs, workers)
                before = best.get("reference", (wall, cpu))
                best["reference"] = (min(before[0], wall), min(before[1], cpu))
    (off, off_cpu), (on, on_cpu) = best["off"], best["on"]

    def rate(seconds: tuple[float, float]) -> str:
        return f"{len(jpegs) / seconds[0]:.1f} images/s ({seconds[0]:.1f} s, {seconds[1]:.1f} CPU s)"

    def verdict(met: bool) -> str:
        return "met" if met else "NOT met"

    print(f"{len(jpegs)} camera JPEGs, {workers} workers, best of {passes}: scan without the AI stage "
          f"{rate(best['off'])}, with it {rate(best['on'])}")
    share, share_cpu = (on - off) / on, (on_cpu - off_cpu) / on_cpu
    print(f"AI stage: {100 * share:.0f}% of scan time, {100 * share_cpu:.0f}% of its CPU time (target <= 30%: "
          f"{verdict(share <= 0.3)}; by CPU: {verdict(share_cpu <= 0.3)})")
    if name is None:
        print("no reference PDQ (pip install -e '.[bench]' or '.[reference-pdq]'): no ratio")
        return
    reference = best["reference"]
    print(f"{name}: {rate(reference)}")
    print(f"scan with every stage on / reference: {reference[0] / on:.1f}x, by CPU {reference[1] / on_cpu:.1f}x "
          f"(target >= 3x: {verdict(reference[0] / on >= 3)}; by CPU: {verdict(reference[1] / on_cpu >= 3)}); "
          f"without the AI stage: {reference[0] / off:.1f}x, by CPU {reference[1] / off_cpu:.1f}x")
    if "faces" in best:
        faces = best["faces"]
        print(f"with --faces too (hog): {rate(faces)}; / reference: {reference[0] / faces[0]:.1f}x, by CPU "
              f"{reference[1] / faces[1]:.1f}x")
    else:
        print("faces not measured (pip install -e '.[faces]')")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--passes", type=int, default=3, help="scans of the camera JPEGs per variant (best kept)")
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
    if not planes_available():
        print("libturbojpeg not installed (scripts/install-debian-packages.sh): JPEGs are decoded to YCbCr")
    print(f"the one decode every stage shares (a JPEG to its planes as stored, other formats in colour): "
          f"{per_image_ms(files, shared_decode):.1f} ms/image; without the AI stage "
          f"(a JPEG's Y plane alone): {per_image_ms(files, lambda im, d: decode_picture(im, full, False)):.1f}")
    print(f"invisible watermarks, on that decode: "
          f"{per_image_ms(files, watermark_findings, decoded=True):.1f} ms/image")
    if detector is not None:
        print(f"statistical detector (9 crops), on that decode: "
              f"{per_image_ms(files, lambda pixels, d: detector.score(pixels), decoded=True):.1f} ms/image")
    with tempfile.TemporaryDirectory() as tmp:
        for label, ai_on in (("without the AI stage", False), ("with the AI stage", True)):
            settings = Settings(workers=args.workers, watermarks=ai_on, detector=ai_on)
            wall, cpu = scan_seconds(args.photos, Path(tmp) / label.replace(" ", "-"), settings)
            print(f"scan {label}: {len(files) / wall:.1f} images/s ({wall:.1f} s, {cpu:.1f} CPU s, "
                  f"{args.workers} workers)")
    camera_jpeg_figures(files, args.workers, args.passes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
