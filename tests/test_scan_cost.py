"""Per-scan costs of the AI stage: what every worker would do again is done once, before the workers start."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import jpeg_bytes

import vigie.detector.runtime
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.scan.pipeline import run_scan
from vigie.store.sqlite import open_case


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="workers inherit the session by fork")
def test_the_detector_session_is_made_once_for_every_forked_worker(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for seed in range(6):
        (evidence / f"{seed}.jpg").write_bytes(jpeg_bytes(draw_picture(seed, (256, 192))))
    made = tmp_path / "sessions"
    made.mkdir()
    make = vigie.detector.runtime.onnx_session

    def counted(model: Path) -> Any:
        (made / str(os.getpid())).touch()  # the workers are forked: they inherit this patch
        return make(model)

    monkeypatch.setattr(vigie.detector.runtime, "onnx_session", counted)
    vigie.detector.runtime.load_detector.cache_clear()  # as a fresh `vigie scan` starts
    try:
        run_scan(open_case(tmp_path / "case", create=True), [str(evidence)],
                 Settings(workers=2, watermarks=True, detector=True))
    finally:
        vigie.detector.runtime.load_detector.cache_clear()  # drop the session made under the patch
    assert [p.name for p in made.iterdir()] == [str(os.getpid())]


def test_a_detector_model_that_fails_to_load_does_not_stop_the_scan(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for seed in range(2):
        (evidence / f"{seed}.jpg").write_bytes(jpeg_bytes(draw_picture(seed, (256, 192))))
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"not an onnx model")
    model.with_suffix(".json").write_text('{"threshold": 0.5}')
    store = open_case(tmp_path / "case", create=True)
    result = run_scan(store, [str(evidence)], Settings(workers=2, detector=True, detector_model=str(model)))
    assert result.status == "complete" and result.items_added == 2 and result.items_with_errors == 2
    # each file says why in words, and keeps its digests and PDQ: a picture on a list is still found
    rows = store.db.execute("SELECT e.stage, e.message, i.sha256, i.pdq FROM item_errors e "
                            "JOIN items i ON i.id = e.item_id").fetchall()
    assert len(rows) == 2
    assert all(stage == "provenance" and "detector model" in message and "cannot be loaded" in message
               and sha256 and pdq for stage, message, sha256, pdq in rows)
