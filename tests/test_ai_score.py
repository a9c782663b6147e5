"""The detector's score is always reported (report JSON, `vigie provenance`, console), above its threshold or
not; the verdict rule stays: above gives ai-indicated, never ai-provenance; below says nothing, never "real"."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from conftest import jpeg_bytes
from test_console_api import app, login, queue  # noqa: F401  (the console's fixture and helpers)

from vigie.cli import main
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.detector.runtime import Detector, detector_findings, load_detector
from vigie.exports.report import render
from vigie.records import CONTEXT, INDICATIVE, Finding
from vigie.scan.pipeline import run_scan
from vigie.signals.provenance.verdict import ai_verdict
from vigie.store.sqlite import open_case


def _detector(threshold: float) -> Detector:
    shipped = load_detector()
    assert shipped is not None
    return Detector(shipped.session, threshold, shipped.info, shipped.model)


def test_a_score_below_the_threshold_is_reported_and_says_nothing() -> None:
    image = draw_picture(3, (320, 240))
    [finding] = detector_findings(image, _detector(1e9))
    assert finding.strength == CONTEXT
    ai = ai_verdict([finding], "image/png")
    assert ai["verdict"] == "undetermined" and ai["signals"] == []
    detector = ai["detector"]
    assert set(detector) == {"score", "threshold", "model"} and math.isfinite(detector["score"])
    shipped = load_detector()
    assert shipped is not None and detector["model"] == shipped.model  # the name and version from its JSON
    named = f"{shipped.info['name']} {shipped.info['version']} (onnx sha256 "
    assert detector["threshold"] == 1e9 and detector["model"].startswith(named)
    assert "real" not in finding.detail and "says nothing" in finding.detail


def test_a_score_above_the_threshold_is_ai_indicated_never_provenance() -> None:
    [finding] = detector_findings(draw_picture(3, (320, 240)), _detector(-1e9))
    assert finding.strength == INDICATIVE
    ai = ai_verdict([finding], "image/jpeg")
    assert ai["verdict"] == "ai-indicated" and [s["kind"] for s in ai["signals"]] == ["statistical-detector"]
    assert ai["detector"]["score"] == finding.value["score"] > -1e9


def test_an_image_too_small_to_score_says_so() -> None:
    [finding] = detector_findings(draw_picture(3, (40, 30)), _detector(0.0))
    ai = ai_verdict([finding], "image/png")
    assert ai["verdict"] == "undetermined" and ai["detector"]["score"] is None and "not scored" in finding.detail


def test_findings_stored_before_scores_were_kept_still_read() -> None:
    old = Finding("statistical-detector", "scores 2.10, above its threshold", 2.1, INDICATIVE)
    ai = ai_verdict([old], "image/png")
    assert ai["verdict"] == "ai-indicated" and ai["detector"] is None
    assert "detector" not in ai_verdict([], "video/mp4")  # only images are scored


def test_provenance_prints_the_score_of_every_image(tmp_path: Path) -> None:
    for seed in (1, 2):
        (tmp_path / f"p{seed}.jpg").write_bytes(jpeg_bytes(draw_picture(seed, (320, 240))))
    output = CliRunner().invoke(main, ["provenance", *sorted(map(str, tmp_path.iterdir()))]).output
    lines = [json.loads(line) for line in output.splitlines()]
    assert len(lines) == 2
    for line in lines:
        detector = line["ai"]["detector"]
        assert isinstance(detector["score"], float) and isinstance(detector["threshold"], float)
        assert (line["ai"]["verdict"] == "ai-indicated") == (detector["score"] >= detector["threshold"])
    off = CliRunner().invoke(main, ["provenance", "--no-detector", str(tmp_path / "p1.jpg")]).output
    assert json.loads(off)["ai"]["detector"] is None


def test_report_and_store_keep_the_score(tmp_path: Path) -> None:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    for seed in (4, 5, 6):
        (evidence / f"p{seed}.jpg").write_bytes(jpeg_bytes(draw_picture(seed, (320, 240))))
    (evidence / "notes.txt").write_text("not an image")
    store = open_case(tmp_path / "case", create=True)
    run_scan(store, [str(evidence)], Settings(workers=1))
    report = json.loads(render(store, "json"))
    stored = dict(store.db.execute("SELECT relpath, ai_score FROM items"))
    for item in report["items"]:
        name = Path(item["path"]).name
        if name == "notes.txt":
            assert item["ai"] is None and stored[name] is None
            continue
        assert item["ai"]["detector"]["score"] == stored[name] and isinstance(stored[name], float)
    store.close()


def _scores(entries: list[dict[str, Any]]) -> list[float | None]:
    return [e["ai_score"] for e in entries]


def test_console_sorts_and_filters_by_score(app: Any) -> None:  # noqa: F811
    client, _ = login(app, "rita")
    everything = queue(client, status="all")
    assert all("ai_score" in e for e in everything["entries"])
    by_score = queue(client, status="all", sort="ai-score")
    scores = _scores(by_score["entries"])
    known = [s for s in scores if s is not None]
    assert len(known) >= 3 and known == sorted(known, reverse=True)
    assert scores == known + [None] * (len(scores) - len(known))  # unscored entries last
    middle = sorted(known)[len(known) // 2]
    filtered = queue(client, status="all", min_score=str(middle))
    assert 0 < filtered["total"] < everything["total"]
    assert all(s is not None and s >= middle for s in _scores(filtered["entries"]))
    for bad in ({"min_score": "nan"}, {"min_score": "high"}, {"sort": "random"}):
        response = client.get("/api/queue", query_string=bad)
        assert response.status_code == 400, bad
    detail = client.get(f"/api/items/{by_score['entries'][0]['id']}").get_json()
    assert detail["ai"]["detector"]["score"] == known[0] and "analysed_as" in detail


def test_search_finds_no_image_by_a_score_below_the_threshold(app: Any) -> None:  # noqa: F811
    """Every image has a score; one below the threshold says nothing, so a search for the detector finds none."""
    client, _ = login(app, "rita")
    everything = queue(client, status="all")
    below = [e for e in everything["entries"] if e["ai_score"] is not None and e["ai_verdict"] != "ai-indicated"]
    assert below
    found = queue(client, status="all", q="statistical-detector")
    assert not {e["id"] for e in found["entries"]} & {e["id"] for e in below}
