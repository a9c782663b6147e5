"""What the server knows reaches the item panel: the list's label and series, the category with its meaning,
the time in a video of a matched frame, file times and GPS coordinates as numbers."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from tests.test_console_api import app, login  # noqa: F401  (the fixture and the login helper)
from vigie.exports.report import clock
from vigie.signals.image import exif_summary
from vigie.store.sqlite import open_case


def _matched_items(demo_case: Path) -> dict[str, int]:
    """One matched video and one matched picture of the demo case, by kind; the list's entries are set to
    Project VIC category 1 here, the meaning the test reads."""
    store = open_case(demo_case)
    try:
        with store.db:
            store.db.execute("UPDATE list_entries SET category_scheme = 'projectvic-us', category = '1'")
        found: dict[str, int] = {}
        for item in store.iter_report_items():
            if item["matches"]:
                found.setdefault("video" if item["video"] else "image", item["id"])
        return found
    finally:
        store.close()


def test_item_panel_shows_label_series_category_meaning_frame_time_and_file_times(
        app: Any, demo_case: Path) -> None:  # noqa: F811
    client, _ = login(app, "rita")
    found = _matched_items(demo_case)
    assert {"video", "image"} <= found.keys()
    picture = client.get(f"/api/items/{found['image']}").get_json()
    match = picture["matches"][0]
    assert match["label"].startswith("demo series") and match["series"] == "demo"
    assert (match["category_scheme"], match["category"]) == ("projectvic-us", "1")
    assert match["category_label"] == "Child abuse material"
    assert match["video_time"] is None
    assert set(picture["times"]) == {"mtime", "ctime", "atime"} and picture["times"]["mtime"] is not None
    video = client.get(f"/api/items/{found['video']}").get_json()
    timed = [m for m in video["matches"] if m["timestamp"] is not None]
    assert timed, video["matches"]
    # The known picture is the second slide of two seconds each.
    assert timed[0]["timestamp"] >= 1.5 and timed[0]["video_time"] == clock(timed[0]["timestamp"])
    assert timed[0]["video_time"].startswith("0:00:0")


def test_video_clock_reads_hours_minutes_seconds_and_milliseconds() -> None:
    assert clock(3725.5) == "1:02:05.500"


def _with_gps(latitude: tuple[float, float, float], north: str, longitude: tuple[float, float, float],
              east: str) -> Image.Image:
    image = Image.new("RGB", (8, 8), "white")
    exif = Image.Exif()
    exif[0x0110] = "Test camera"  # Model, so the EXIF block is not empty
    exif.get_ifd(0x8825).update({1: north, 2: latitude, 3: east, 4: longitude})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return Image.open(io.BytesIO(buffer.getvalue()))


def test_gps_coordinates_are_kept_as_signed_degrees() -> None:
    summary = exif_summary(_with_gps((48.0, 51.0, 36.0), "N", (2.0, 21.0, 0.0), "W"))
    assert summary["gps_present"] is True
    assert abs(summary["gps_latitude"] - 48.86) < 1e-6 and abs(summary["gps_longitude"] + 2.35) < 1e-6
    impossible = exif_summary(_with_gps((200.0, 0.0, 0.0), "S", (0.0, 0.0, 0.0), "E"))
    assert "gps_latitude" not in impossible and impossible["gps_longitude"] == 0.0
