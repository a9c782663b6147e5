from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from conftest import jpeg_bytes
from PIL import Image, ImageFilter

from vigie.cli import main
from vigie.demo.seizure import draw_picture
from vigie.signals.pdq import pdq_from_image
from vigie.signals.registry import hamming
from vigie.signals.thumbnails import blurred_thumbnail


def _seizure(tmp_path: Path) -> tuple[Path, Path]:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    known = draw_picture(11, (640, 480))
    (evidence / "known.jpg").write_bytes(jpeg_bytes(known))
    (evidence / "altered.jpg").write_bytes(jpeg_bytes(known.resize((400, 300)), 60))
    (evidence / "new.jpg").write_bytes(jpeg_bytes(draw_picture(12, (640, 480))))
    (evidence / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0broken")
    listing = tmp_path / "partner.csv"
    listing.write_text(f"pdq,category,series\n{pdq_from_image(known).hash},1,S-11\n")
    return evidence, listing


def test_json_report_has_the_documented_shape(tmp_path: Path) -> None:
    evidence, listing = _seizure(tmp_path)
    case = tmp_path / "case"
    runner = CliRunner()
    assert runner.invoke(main, ["scan", str(evidence), "--case", str(case), "--hashlist", str(listing)]).exit_code == 0
    report = json.loads(runner.invoke(main, ["report", "--case", str(case), "--format", "json"]).output)
    assert set(report) == {"case", "items", "summary"}
    by_name = {Path(i["path"]).name: i for i in report["items"]}
    for item in report["items"]:
        assert {"path", "source", "size", "md5", "sha1", "sha256", "media_type", "width", "height", "pdq",
                "pdq_quality", "stack", "matches", "errors"} <= set(item)
        assert item["path"].startswith(str(evidence) + "/")
    altered = by_name["altered.jpg"]["matches"][0]
    assert (altered["list"], altered["signal"], altered["category"]) == ("partner", "pdq", "1")
    assert isinstance(altered["distance"], int) and altered["distance"] <= 31
    assert by_name["new.jpg"]["matches"] == []
    assert by_name["broken.jpg"]["errors"]
    assert report["summary"]["matched_by_list"] == {"partner": 2}


def test_list_imported_after_the_scan_matches_the_case(tmp_path: Path) -> None:
    evidence, listing = _seizure(tmp_path)
    case = tmp_path / "case"
    runner = CliRunner()
    runner.invoke(main, ["scan", str(evidence), "--case", str(case)])
    imported = runner.invoke(main, ["hashlist", "import", str(listing), "--case", str(case), "--name", "late"])
    assert imported.exit_code == 0, imported.output
    assert "'pdq': 2" in imported.output
    rows = list(csv.DictReader(io.StringIO(runner.invoke(main, ["report", "--case", str(case), "--format",
                                                                 "csv"]).output)))
    assert sorted(r["match_lists"] for r in rows) == ["", "", "late", "late"]


def test_html_report_shows_no_image_unless_asked(tmp_path: Path) -> None:
    evidence, listing = _seizure(tmp_path)
    case = tmp_path / "case"
    runner = CliRunner()
    runner.invoke(main, ["scan", str(evidence), "--case", str(case), "--hashlist", str(listing)])
    plain = runner.invoke(main, ["report", "--case", str(case)]).output
    assert "<img" not in plain and "altered.jpg" in plain and "<b>1</b>item with errors" in plain
    with_thumbs = runner.invoke(main, ["report", "--case", str(case), "--thumbnails"]).output
    assert with_thumbs.count("<img") == 2


def _high_frequency_energy(image: Image.Image) -> float:
    """Mean energy of what a light blur removes: the detail a viewer would recognise."""
    grey = image.convert("L").resize((128, 96))
    pixels = np.asarray(grey, dtype=np.float64)
    smooth = np.asarray(grey.filter(ImageFilter.GaussianBlur(1.5)), dtype=np.float64)
    return float(np.mean((pixels - smooth) ** 2))


def test_thumbnails_are_blurred_and_grey() -> None:
    original = draw_picture(3, (640, 480))
    thumb = Image.open(io.BytesIO(blurred_thumbnail(jpeg_bytes(original))))
    assert thumb.mode == "L"
    assert _high_frequency_energy(thumb) < _high_frequency_energy(original) / 20


def test_hash_prints_one_json_line_per_file(tmp_path: Path) -> None:
    picture = draw_picture(8, (300, 200))
    image = tmp_path / "me.jpg"
    image.write_bytes(jpeg_bytes(picture))
    output = CliRunner().invoke(main, ["hash", str(image), str(tmp_path / "missing.jpg")]).output
    first, second = (json.loads(line) for line in output.splitlines())
    assert {"md5", "sha1", "sha256", "pdq", "quality"} <= set(first)
    assert hamming(first["pdq"], pdq_from_image(picture).hash) <= 8
    assert second["errors"]


def test_hash_exits_1_when_a_picture_does_not_decode_and_prints_every_line(tmp_path: Path) -> None:
    whole = jpeg_bytes(draw_picture(9, (300, 200)))
    (tmp_path / "whole.jpg").write_bytes(whole)
    (tmp_path / "cut.jpg").write_bytes(whole[: len(whole) // 3])
    assert CliRunner().invoke(main, ["hash", str(tmp_path / "whole.jpg")]).exit_code == 0
    result = CliRunner().invoke(main, ["hash", str(tmp_path / "cut.jpg"), str(tmp_path / "whole.jpg")])
    assert result.exit_code == 1
    cut, sound = (json.loads(line) for line in result.output.splitlines())
    assert cut["md5"] and cut["pdq"] is None and [e.split(":")[0] for e in cut["errors"]] == ["decode"]
    assert sound["pdq"] and sound["errors"] == []


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for command in (["scan"], ["report"], ["hash"], ["verify"], ["demo"], ["hashlist", "import"],
                    ["hashlist", "list"], ["hashlist", "show"], ["audit", "verify"], ["audit", "show"]):
        result = runner.invoke(main, [*command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, command


def test_demo_builds_scans_and_reports(demo_build: Path) -> None:
    html = (demo_build / "report.html").read_text()
    assert "Vigie case report" in html and "truncated.jpg" in html and "backup.zip!/" in html


def test_names_are_printed_as_they_are(tmp_path: Path) -> None:
    """Terminal output is evidence too: ":cd:" and "[red]" in a name stay text (not an emoji, not a style)."""
    evidence = tmp_path / "ev"
    evidence.mkdir()
    for name in ("x:cd:y.jpg", "[red]z.jpg"):
        (evidence / name).write_bytes(jpeg_bytes(draw_picture(3, (64, 48))))
    runner = CliRunner()
    scanned = runner.invoke(main, ["scan", str(evidence), "--case", str(tmp_path / "case"), "--workers", "1"])
    assert scanned.exit_code == 0
    for name in ("x:cd:y.jpg", "[red]z.jpg"):
        (evidence / name).write_bytes(b"changed")
    result = runner.invoke(main, ["verify", "--case", str(tmp_path / "case")])
    assert result.exit_code == 3 and "x:cd:y.jpg" in result.output and "[red]z.jpg" in result.output


def test_hash_and_provenance_exit_1_when_a_file_could_not_be_read(tmp_path: Path) -> None:
    picture = tmp_path / "a.png"
    draw_picture(1, (80, 60)).save(picture)
    for command in ("hash", "provenance"):
        both = CliRunner().invoke(main, [command, str(picture), str(tmp_path / "gone.jpg")])
        assert both.exit_code == 1 and len(both.output.splitlines()) == 2, both.output  # the readable one still printed
        assert CliRunner().invoke(main, [command, str(picture)]).exit_code == 0


def test_provenance_exits_1_as_hash_does_on_a_picture_cut_short(tmp_path: Path) -> None:
    """A JPEG cut short hashes, but its pixels cannot be read: the watermarks and the detector never saw it, so its
    "undetermined" is no finding; the exit status says so, after every file's line."""
    picture, cut = tmp_path / "a.png", tmp_path / "cut.jpg"
    draw_picture(1, (80, 60)).save(picture)
    cut.write_bytes(jpeg_bytes(draw_picture(2, (80, 60)))[:300])
    for command in ("hash", "provenance"):
        both = CliRunner().invoke(main, [command, str(cut), str(picture)])
        assert both.exit_code == 1, (command, both.output)
        lines = [json.loads(line) for line in both.output.splitlines()]
        assert [Path(line["path"]).name for line in lines] == ["cut.jpg", "a.png"]
        assert lines[0]["errors"] and lines[0]["errors"][0].startswith("decode: ")
