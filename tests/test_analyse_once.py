"""Files with the same SHA-256 are analysed once: a copy is not decoded, takes the first copy's findings, and
says so (`analysed_as`)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import jpeg_bytes

import vigie.scan.pipeline
import vigie.signals.analysis
from vigie.cli import main
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.exports.report import render
from vigie.scan.pipeline import run_scan
from vigie.signals.faces import FaceModelError, check_models
from vigie.store.sqlite import open_case

# What a copy takes from its first copy; the copy keeps its own path, times and digests.
COPIED = ("media_type", "width", "height", "exif", "pdq", "pdq_quality", "ai", "faces", "image_frames")


def _items(case: Path) -> dict[str, dict[str, Any]]:
    store = open_case(case)
    try:
        report = json.loads(render(store, "json"))
    finally:
        store.close()
    return {item["path"].removeprefix(item["source"] + "/"): item for item in report["items"]}


def _first(item: dict[str, Any]) -> str | None:
    return None if item["analysed_as"] is None else str(item["analysed_as"]["path"])


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The image decoder, counting its calls (scans run with one worker: in this process)."""
    calls: list[int] = []
    decode = vigie.signals.analysis.analyse_image

    def counted(data: bytes, *args: Any) -> Any:
        calls.append(len(data))
        return decode(data, *args)

    monkeypatch.setattr(vigie.signals.analysis, "analyse_image", counted)
    return calls


@pytest.fixture
def whatsapp(tmp_path: Path) -> Path:
    """A phone dump: a camera photo, its WhatsApp copies (sent and received), one inside a backup zip."""
    root = tmp_path / "phone"
    (root / "DCIM").mkdir(parents=True)
    (root / "WhatsApp" / "Media" / "Sent").mkdir(parents=True)
    photo = jpeg_bytes(draw_picture(11, (480, 360)))
    (root / "DCIM" / "IMG_0001.jpg").write_bytes(photo)
    (root / "WhatsApp" / "Media" / "IMG-20240101-WA0001.jpg").write_bytes(photo)
    (root / "WhatsApp" / "Media" / "Sent" / "IMG-20240101-WA0002.jpg").write_bytes(photo)
    with zipfile.ZipFile(root / "backup.zip", "w") as archive:
        archive.writestr("DCIM/IMG_0001.jpg", photo)
    (root / "DCIM" / "IMG_0002.jpg").write_bytes(jpeg_bytes(draw_picture(12, (480, 360))))
    return root


FIRST = "DCIM/IMG_0001.jpg"
COPIES = ("DCIM/IMG_0001.jpg", "WhatsApp/Media/IMG-20240101-WA0001.jpg",
          "WhatsApp/Media/Sent/IMG-20240101-WA0002.jpg", "backup.zip!/DCIM/IMG_0001.jpg")


def test_copies_are_decoded_once_and_carry_the_first_copys_findings(
    tmp_path: Path, whatsapp: Path, decodes: list[int]
) -> None:
    case = tmp_path / "case"
    run_scan(open_case(case, create=True), [str(whatsapp)], Settings(workers=1))
    assert len(decodes) == 2, decodes  # two distinct pictures, five image files
    items = _items(case)
    [first] = [items[r] for r in COPIES if items[r]["analysed_as"] is None]  # the first met in the scan
    assert first["pdq"] and first["ai"]["detector"]["score"] is not None
    for relpath in COPIES:
        copy = items[relpath]
        assert _first(copy) in (None, first["path"]), relpath
        assert {k: copy[k] for k in COPIED} == {k: first[k] for k in COPIED}, relpath
        assert copy["sha256"] == first["sha256"]
    assert items["DCIM/IMG_0002.jpg"]["analysed_as"] is None

    # A list holding the first copy's PDQ matches every copy as it matches the first.
    listing = tmp_path / "list.txt"
    listing.write_text(f"pdq {first['pdq']}\n")
    result = CliRunner().invoke(main, ["hashlist", "import", str(listing), "--case", str(case)])
    assert result.exit_code == 0, result.output
    items = _items(case)
    for relpath in COPIES:
        assert [m["signal"] for m in items[relpath]["matches"]] == ["pdq"], relpath
    assert not items["DCIM/IMG_0002.jpg"]["matches"]


def test_a_later_scan_takes_findings_from_the_case(tmp_path: Path, whatsapp: Path, decodes: list[int]) -> None:
    case = tmp_path / "case"
    run_scan(open_case(case, create=True), [str(whatsapp / "DCIM")], Settings(workers=1))
    assert len(decodes) == 2
    run_scan(open_case(case), [str(whatsapp / "WhatsApp")], Settings(workers=1))
    assert len(decodes) == 2, "copies found by a later scan are not decoded"
    items = _items(case)
    first = items["IMG_0001.jpg"]
    for relpath in ("Media/IMG-20240101-WA0001.jpg", "Media/Sent/IMG-20240101-WA0002.jpg"):
        assert _first(items[relpath]) == first["path"]
        assert items[relpath]["pdq"] == first["pdq"] and items[relpath]["ai"] == first["ai"]


def test_a_case_made_again_at_the_same_path_is_not_read_through_the_deleted_ones_connection(
    tmp_path: Path, whatsapp: Path, decodes: list[int]
) -> None:
    """A long-lived worker (Ray's, or this process) keeps a read connection per case: a case deleted and made
    again at its path must not find "first copies" in the deleted file, or its pictures go unhashed in silence."""
    case = tmp_path / "case"
    for _ in range(2):
        run_scan(open_case(case, create=True), [str(whatsapp / "DCIM")], Settings(workers=1))
        items = _items(case)
        assert items["IMG_0001.jpg"]["pdq"] and _first(items["IMG_0001.jpg"]) is None
        shutil.rmtree(case)
    assert len(decodes) == 4


def test_other_analysis_settings_analyse_again(tmp_path: Path, whatsapp: Path, decodes: list[int]) -> None:
    case = tmp_path / "case"
    run_scan(open_case(case, create=True), [str(whatsapp / "DCIM")], Settings(workers=1, detector=False))
    run_scan(open_case(case), [str(whatsapp / "WhatsApp")], Settings(workers=1))
    assert len(decodes) == 3, "findings made without the detector are not copied to a scan with it"
    items = _items(case)
    assert items["Media/IMG-20240101-WA0001.jpg"]["analysed_as"] is None
    assert _first(items["Media/Sent/IMG-20240101-WA0002.jpg"]) == items["Media/IMG-20240101-WA0001.jpg"]["path"]
    assert items["Media/IMG-20240101-WA0001.jpg"]["ai"]["detector"]["score"] is not None
    assert items["IMG_0001.jpg"]["ai"]["detector"] is None


def test_unfinished_analysis_is_not_copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first copy whose analysis ran out of time is analysed again in its copy, never copied."""
    evidence = tmp_path / "ev"
    evidence.mkdir()
    photo = jpeg_bytes(draw_picture(13, (320, 240)))
    (evidence / "a.jpg").write_bytes(photo)
    (evidence / "b.jpg").write_bytes(photo)
    calls: list[int] = []
    decode = vigie.signals.analysis.analyse_image

    def slow_first(data: bytes, *args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise vigie.signals.analysis.FileTimeout("a.jpg: analysis took longer than its budget")
        return decode(data, *args)

    monkeypatch.setattr(vigie.signals.analysis, "analyse_image", slow_first)
    case = tmp_path / "case"
    run_scan(open_case(case, create=True), [str(evidence)], Settings(workers=1))
    items = _items(case)
    assert len(calls) == 2
    assert items["b.jpg"]["analysed_as"] is None and items["b.jpg"]["pdq"]
    assert [e["stage"] for e in items["a.jpg"]["errors"]] == ["timeout"]


def test_copies_across_worker_processes(tmp_path: Path, whatsapp: Path) -> None:
    more = whatsapp / "more"
    more.mkdir()
    for number in range(40):  # past one batch, so later batches look their copies up in the case
        shutil.copy(whatsapp / FIRST, more / f"IMG-2024-WA{number:04}.jpg")
    case = tmp_path / "case"
    run_scan(open_case(case, create=True), [str(whatsapp)], Settings(workers=2))
    items = _items(case)
    analysed = [r for r, i in items.items() if i["sha256"] == items[FIRST]["sha256"] and i["analysed_as"] is None]
    # Batches analysed at the same time may each analyse the content once; never more than once per batch.
    assert 1 <= len(analysed) <= 2, analysed  # 45 files: two batches
    firsts = {_first(i) for i in items.values() if i["analysed_as"] is not None}
    assert firsts <= {items[r]["path"] for r in analysed}
    assert all(i["pdq"] == items[FIRST]["pdq"] for i in items.values() if i["sha256"] == items[FIRST]["sha256"])


def test_findings_from_scans_before_scores_were_kept_are_not_copied(
    tmp_path: Path, whatsapp: Path, decodes: list[int]
) -> None:
    case = tmp_path / "case"
    store = open_case(case, create=True)
    run_scan(store, [str(whatsapp / "DCIM")], Settings(workers=1))
    store.db.execute("UPDATE scans SET arguments = json_remove(arguments, '$.analysis')")  # an older Vigie's scan
    run_scan(store, [str(whatsapp / "WhatsApp")], Settings(workers=1))
    assert len(decodes) == 3
    items = _items(case)
    assert items["Media/IMG-20240101-WA0001.jpg"]["analysed_as"] is None


def _faces_extra() -> bool:
    try:
        check_models("hog", "")
    except FaceModelError:
        return False
    return True


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_an_image_is_decoded_once_per_scan_with_every_stage_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, image_format: str
) -> None:
    """PDQ, metadata, watermarks, the detector and faces (where the `faces` extra is installed) share one
    decode: a JPEG was decoded by each of them."""
    from PIL import ImageFile

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    name = f"photo.{image_format.lower()}"
    draw_picture(14, (320, 240)).convert("RGBA" if image_format == "PNG" else "RGB").save(evidence / name,
                                                                                          image_format)
    decoded: list[str] = []
    load = ImageFile.ImageFile.load

    def counted(self: ImageFile.ImageFile) -> Any:
        if self.tile:  # pixels still to decode
            decoded.append(str(self.format))
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counted)
    faces = _faces_extra()
    store = open_case(tmp_path / "case", create=True)
    try:
        run_scan(store, [str(evidence)], Settings(workers=1, watermarks=True, detector=True, faces=faces))
    finally:
        store.close()
    assert decoded == [image_format]
    item = _items(tmp_path / "case")[name]
    assert item["pdq"] and item["ai"]["detector"]["score"] is not None and not item["errors"]
    assert item["faces"] == [] if faces else True


def test_a_file_whose_analysis_failed_is_no_first_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    photo = jpeg_bytes(draw_picture(15, (320, 240)))
    (evidence / "a.jpg").write_bytes(photo)
    (evidence / "b.jpg").write_bytes(photo)
    analyse = vigie.scan.pipeline.analyse_entry

    def fails_after_a(entry: Any, *args: Any) -> Any:
        records = analyse(entry, *args)
        if entry.relpath == "a.jpg":
            raise RuntimeError("a defect after the analysis")
        return records

    monkeypatch.setattr(vigie.scan.pipeline, "analyse_entry", fails_after_a)
    case = tmp_path / "case"
    run_scan(open_case(case, create=True), [str(evidence)], Settings(workers=1))
    items = _items(case)
    assert [e["stage"] for e in items["a.jpg"]["errors"]] == ["internal"]
    assert items["b.jpg"]["analysed_as"] is None and items["b.jpg"]["pdq"] and not items["b.jpg"]["errors"]
