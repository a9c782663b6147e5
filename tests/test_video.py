from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from click.testing import CliRunner
from conftest import shared_data
from PIL import Image

from vigie.cli import main
from vigie.config import Settings
from vigie.demo.seizure import draw_picture, write_video
from vigie.exports.report import render
from vigie.scan.pipeline import run_scan
from vigie.signals.pdq import pdq_from_image
from vigie.signals.registry import hamming
from vigie.signals.video import VideoLimits, analyse_video
from vigie.store.sqlite import open_case


@pytest.fixture(scope="module")
def pictures() -> list[Image.Image]:
    return [draw_picture(seed, (640, 480)) for seed in (21, 22, 23)]


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory, pictures: list[Image.Image]) -> Path:
    path = tmp_path_factory.mktemp("video") / "original.mp4"
    write_video(path, pictures, seconds_each=2.0, fps=25, codec="mpeg4", container="mp4")
    return path


def _reencode(source: Path, target: Path, codec: str, container: str, size: tuple[int, int]) -> None:
    with av.open(str(source)) as video:
        frames = [frame.to_image() for frame in video.decode(video.streams.video[0])]
    write_video(target, frames, seconds_each=1 / 25, fps=25, codec=codec, container=container, size=size)


def test_frame_hashes_are_sampled_like_vpdq(original: Path) -> None:
    facts = analyse_video(str(original), VideoLimits())
    assert (facts.codec, facts.width, facts.height, facts.frame_rate) == ("mpeg4", 640, 480, 25.0)
    assert facts.duration == pytest.approx(6.0, abs=0.1)
    assert [f.frame_number for f in facts.frames][:1] == [0]
    assert all(f.frame_number % 25 == 0 and f.timestamp == f.frame_number / 25 for f in facts.frames)
    line = facts.frames[0].vpdq_line().split(",")
    assert line[0] == "0" and len(line[2]) == 64 and line[3] == "0.000"
    assert 1 <= len(facts.stills) <= 6


def test_frame_hashes_equal_the_reference_vpdq(original: Path) -> None:
    vpdq = pytest.importorskip("vpdq", reason="Meta's vpdq is not installed (it builds against FFmpeg's headers)")
    reference = {f.frame_number: (f.hex, f.quality) for f in vpdq.computeHash(str(original))}
    ours = analyse_video(str(original), VideoLimits()).frames
    assert ours
    for frame in ours:
        assert reference[frame.frame_number] == (frame.pdq, frame.quality)


@pytest.mark.slow
def test_reencoded_video_stills_and_corrupt_files(
    tmp_path: Path, original: Path, pictures: list[Image.Image]
) -> None:
    _check_video_flow(tmp_path, original, pictures)


@pytest.mark.slow
def test_video_of_camera_photos(tmp_path: Path) -> None:
    photos = [Image.open(p).convert("RGB").resize((640, 480))
              for p in sorted(shared_data("photos", "kodak24").glob("*"))[:3]]
    original = tmp_path / "photos.mp4"
    write_video(original, photos, seconds_each=2.0, fps=25, codec="mpeg4", container="mp4")
    _check_video_flow(tmp_path, original, photos)


def _check_video_flow(tmp_path: Path, original: Path, pictures: list[Image.Image]) -> None:
    """Done means of the video issue: re-encoded copy, grabbed still, corrupt files."""
    runner = CliRunner()
    hashed = json.loads(runner.invoke(main, ["hash", str(original)]).output)
    assert hashed["codec"] == "mpeg4" and hashed["vpdq"]
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "original.vpdq").write_text("\n".join(hashed["vpdq"]) + "\n")
    photo_list = tmp_path / "photos.csv"
    photo_list.write_text(f"pdq,label\n{pdq_from_image(pictures[1]).hash},the second photo\n")

    evidence = tmp_path / "seizure"
    evidence.mkdir()
    reencoded = evidence / "shared.webm"
    _reencode(original, reencoded, "libvpx-vp9", "webm", (480, 360))
    with av.open(str(reencoded)) as video:
        grabbed = next(f for i, f in enumerate(video.decode(video.streams.video[0])) if i == 75).to_image()
    grabbed.save(evidence / "grab.png")
    data = original.read_bytes()
    (evidence / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (evidence / "broken.mov").write_bytes(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  " + b"\x13" * 4000)

    case = tmp_path / "case"
    result = runner.invoke(main, ["scan", str(evidence), "--case", str(case),
                                  "--hashlist", str(lists / "original.vpdq"), "--hashlist", str(photo_list)])
    assert result.exit_code == 0, result.output
    report = json.loads(runner.invoke(main, ["report", "--case", str(case), "--format", "json"]).output)
    items = {Path(i["path"]).name: i for i in report["items"]}

    video = items["shared.webm"]
    assert video["video"]["codec"] == "vp9" and video["width"] == 480
    by_signal = {m["signal"]: m for m in video["matches"]}
    assert by_signal["vpdq"]["label"] == "original.vpdq"
    assert by_signal["vpdq"]["detail"]["query_match_percent"] >= 80
    assert by_signal["vpdq"]["detail"]["compared_match_percent"] >= 80
    assert by_signal["pdq-frame"]["label"] == "the second photo"
    assert 2.0 <= by_signal["pdq-frame"]["timestamp"] < 4.0, "the photo is shown from second 2 to 4"

    still = {m["signal"]: m for m in items["grab.png"]["matches"]}
    assert still["pdq"]["label"] == "the second photo"
    assert still["pdq-frame"]["label"] == "original.vpdq" and 2.0 <= still["pdq-frame"]["timestamp"] < 4.0

    assert items["truncated.mp4"]["errors"]
    assert items["broken.mov"]["errors"] and items["broken.mov"]["media_type"] == "video/quicktime"
    html = runner.invoke(main, ["report", "--case", str(case)]).output
    assert "shared.webm" in html and "0:00:0" in html


def test_video_inside_a_zip_and_frame_caps(tmp_path: Path, original: Path) -> None:
    import zipfile

    evidence = tmp_path / "ev"
    evidence.mkdir()
    with zipfile.ZipFile(evidence / "phone.zip", "w") as archive:
        archive.write(original, "DCIM/clip.mp4")
    store = open_case(tmp_path / "case", create=True)
    run_scan(store, [str(evidence)], Settings(workers=1, max_video_frames=60))
    items = {i["relpath"]: i for i in store.iter_report_items()}
    clip = items["phone.zip!/DCIM/clip.mp4"]
    assert clip["video"]["frames_hashed"] >= 2
    assert any("stopped after 60 frames" in e["message"] for e in clip["errors"])
    assert "stopped" in render(store, "html")


def test_distinct_pictures_give_distinct_frames(original: Path, pictures: list[Image.Image]) -> None:
    frames = analyse_video(str(original), VideoLimits()).frames
    for second, picture in ((0, pictures[0]), (2, pictures[1]), (4, pictures[2])):
        frame = min(frames, key=lambda f: abs(f.timestamp - second))
        assert hamming(frame.pdq, pdq_from_image(picture).hash) <= 20


def test_a_second_video_track_is_said_never_passed_over(tmp_path: Path) -> None:
    """Only the first video track is hashed: a second camera angle or an attached picture may be a known one."""
    path = tmp_path / "two.mkv"
    with av.open(str(path), "w", format="matroska") as out:
        streams = []
        for _ in range(2):
            stream = out.add_stream("mpeg4", rate=5)
            stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
            streams.append(stream)
        for index in range(10):
            for stream, seed in zip(streams, (24, 25), strict=True):
                frame = av.VideoFrame.from_image(draw_picture(seed, (160, 120)))
                frame.pts = index
                for packet in stream.encode(frame):
                    out.mux(packet)
        for stream in streams:
            for packet in stream.encode():
                out.mux(packet)
    facts = analyse_video(str(path), VideoLimits())
    assert facts.frames and "1 other video track(s)" in " ".join(facts.problems)
