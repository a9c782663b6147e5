"""Video scanning speed: frames decoded and hashed per second, seconds of video per second of wall time.

    python benchmarks/bench_video.py [--videos 4] [--seconds 20] [--size 1280x720] [--workers 2]

The videos are drawn here (slideshows with a slow pan, H.264), scanned by the real pipeline (SHA-256,
MD5, SHA-1, decoding every frame, PDQ with its query variants on one frame a second, scene stills, C2PA).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import av
from PIL import Image

from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.scan.pipeline import run_scan
from vigie.store.sqlite import open_case


def panning_video(path: Path, seed: int, seconds: int, size: tuple[int, int], fps: int = 25) -> None:
    width, height = size
    scenes = [draw_picture(seed * 10 + k, (width + 200, height)) for k in range(max(1, seconds // 5))]
    with av.open(str(path), "w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(seconds * fps):
            scene: Image.Image = scenes[min(len(scenes) - 1, index // (5 * fps))]
            offset = (index % (5 * fps)) * 200 // (5 * fps)
            frame = av.VideoFrame.from_image(scene.crop((offset, 0, offset + width, height)))
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds-per-hash", type=float, default=1.0, help="0.04 hashes every frame at 25 fps")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        evidence = Path(tmp) / "videos"
        evidence.mkdir()
        for seed in range(args.videos):
            panning_video(evidence / f"clip{seed}.mp4", seed, args.seconds, size)  # type: ignore[arg-type]
        store = open_case(Path(tmp) / "case", create=True)
        started = time.perf_counter()
        run_scan(store, [str(evidence)], Settings(workers=args.workers, seconds_per_hash=args.seconds_per_hash))
        wall = time.perf_counter() - started
        items = [i for i in store.iter_report_items() if i["video"]]
        store.close()
    seconds = sum(i["video"]["duration"] for i in items)
    decoded = sum(round(i["video"]["duration"] * i["video"]["frame_rate"]) for i in items)
    hashed = sum(i["video"]["frames_hashed"] for i in items)
    print(f"{len(items)} H.264 videos, {args.size}, {seconds:.0f} s of video, {decoded} frames, {args.workers} workers")
    print(f"wall time {wall:.1f} s: {decoded / wall:,.0f} frames decoded/s, {hashed / wall:,.1f} frames hashed/s "
          f"(every {args.seconds_per_hash:g} s of video), {seconds / wall:,.1f} s of video per second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
