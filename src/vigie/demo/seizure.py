"""A benign demo seizure: procedurally drawn pictures, altered copies, duplicates, broken files, a zip,
and a short slideshow video showing one of the known pictures.

Nothing here is a photograph of anyone: every image is geometry and noise drawn from a fixed seed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from vigie.signals.pdq import pdq_from_image


@dataclass(frozen=True)
class DemoLayout:
    root: Path
    evidence: Path
    hashlist: Path
    case: Path
    report: Path


def draw_picture(seed: int, size: tuple[int, int] = (960, 720)) -> Image.Image:
    """A textured scene of shapes; different seeds give unrelated pictures (far apart in PDQ)."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.zeros((height, width, 3), dtype=np.float32)
    for channel in range(3):
        fx, fy = (float(v) for v in rng.uniform(0.002, 0.02, 2))
        phase = float(rng.uniform(0, 6.28))
        base[..., channel] = 128 + 80 * np.sin(x * fx + y * fy + phase)
    base += rng.normal(0, 12, base.shape)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(8, 16))):
        x0, y0 = int(rng.integers(0, width * 9 // 10)), int(rng.integers(0, height * 9 // 10))
        w, h = int(rng.integers(width // 16, width // 2)), int(rng.integers(height // 16, height // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x0 + w, y0 + h), fill=colour)
        else:
            draw.rectangle((x0, y0, x0 + w, y0 + h), fill=colour)
    return image


def write_video(
    path: Path, pictures: list[Image.Image], seconds_each: float = 2.0, fps: int = 25,
    codec: str = "mpeg4", container: str = "mp4", size: tuple[int, int] | None = None,
) -> None:
    """A slideshow video of `pictures` (PyAV); size defaults to the first picture's."""
    import av

    width, height = size or pictures[0].size
    with av.open(str(path), "w", format=container) as output:
        stream = output.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        per_picture = round(seconds_each * fps)
        for picture in pictures:
            frame = av.VideoFrame.from_image(  # type: ignore[no-untyped-call]
                picture.convert("RGB").resize((width, height)))
            for _ in range(per_picture):
                for packet in stream.encode(frame):
                    output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def altered_copies(image: Image.Image) -> dict[str, Image.Image]:
    width, height = image.size
    captioned = image.copy()
    ImageDraw.Draw(captioned).text((20, 20), "shared on a group chat", fill=(255, 255, 255))
    return {
        "resized": image.resize((width // 2, height // 2)),
        "mirrored": ImageOps.mirror(image),
        "rotated": image.rotate(90, expand=True),
        "captioned": captioned,
        "cropped": image.crop((width // 25, height // 25, width - width // 25, height - height // 25)),
    }


def build_demo(directory: Path) -> DemoLayout:
    root = directory.resolve()
    evidence = root / "evidence" / "phone1"
    if (root / "evidence").exists():
        shutil.rmtree(root / "evidence")
    for folder in ("DCIM/Camera", "Pictures/Shared", "Download", "WhatsApp/Media"):
        (evidence / folder).mkdir(parents=True, exist_ok=True)
    known = {seed: draw_picture(seed) for seed in range(1, 7)}
    fresh = {seed: draw_picture(seed) for seed in range(100, 106)}

    # Project VIC US categories of benign meaning, the scheme a new case reviews in, so that the demo list's
    # hits can be accepted as they are: 4 "comparison images" and 0 "non-pertinent".
    rows = []
    for seed, picture in known.items():
        data = _jpeg(picture)
        (evidence / "DCIM/Camera" / f"IMG_{seed:04d}.jpg").write_bytes(data)
        rows.append({
            "md5": hashlib.md5(data, usedforsecurity=False).hexdigest() if seed % 2 else "",
            "pdq": pdq_from_image(picture).hash,
            "category": "4" if seed <= 3 else "0",
            "label": f"demo series {seed}",
            "series": "demo",
        })
    for seed, picture in fresh.items():
        (evidence / "DCIM/Camera" / f"IMG_{seed:04d}.jpg").write_bytes(_jpeg(picture))
    for name, copy in altered_copies(known[2]).items():
        (evidence / "Pictures/Shared" / f"{name}.jpg").write_bytes(_jpeg(copy, 75))
    png = io.BytesIO()
    altered_copies(known[4])["mirrored"].save(png, "PNG")
    (evidence / "Download" / "mirrored-4.png").write_bytes(png.getvalue())
    write_video(evidence / "DCIM/Camera/VID_0001.mp4", [fresh[103], known[5]], seconds_each=2.0, fps=25,
                size=(480, 360))
    shutil.copy(evidence / "DCIM/Camera/IMG_0001.jpg", evidence / "WhatsApp/Media/IMG-20240101-WA0001.jpg")
    shutil.copy(evidence / "DCIM/Camera/IMG_0100.jpg", evidence / "Download/copy_of_IMG_0100.jpg")
    full = (evidence / "DCIM/Camera/IMG_0101.jpg").read_bytes()
    (evidence / "Download/truncated.jpg").write_bytes(full[: len(full) // 3])
    (evidence / "Download/not-really-a.png").write_bytes(b"this file only pretends to be an image\n")
    (evidence / "Download/empty.jpg").write_bytes(b"")
    with zipfile.ZipFile(evidence / "Download/backup.zip", "w") as archive:
        archive.writestr("DCIM/IMG_0003.jpg", _jpeg(known[3]))
        archive.writestr("DCIM/IMG_0003_small.jpg", _jpeg(known[3].resize((480, 360)), 70))
        archive.writestr("DCIM/IMG_0104.jpg", _jpeg(fresh[104]))
        archive.writestr("../../escape.jpg", _jpeg(fresh[105]))

    hashlist = root / "demo-hashlist.csv"
    with hashlist.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["md5", "pdq", "category", "label", "series"])
        writer.writeheader()
        writer.writerows(rows)
        handle.write("not-a-hash,,4,broken line kept out,demo\n")
    return DemoLayout(root, evidence, hashlist, root / "case", root / "report.html")
