"""A fresh worker loads its models before its first file's budget starts: under load, loading took over a second,
and an innocent file ran out of a tight budget (a Ray worker restarted after a crash did, in CI)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

import vigie.signals.analysis
from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.detector.runtime import load_detector
from vigie.exports.report import render
from vigie.scan.pipeline import run_scan
from vigie.store.sqlite import open_case


def test_the_first_file_of_a_worker_does_not_pay_for_loading_the_detector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[str] = []

    def slow_to_load(path: str = "") -> Any:
        if not loaded:  # as a cold worker on a loaded machine
            time.sleep(1.5)
        loaded.append(path)
        return load_detector(path)

    monkeypatch.setattr(vigie.signals.analysis, "load_detector", slow_to_load)
    (tmp_path / "ev").mkdir()
    draw_picture(3, (320, 240)).save(tmp_path / "ev" / "innocent.jpg", quality=90)
    store = open_case(tmp_path / "case", create=True)
    run_scan(store, [str(tmp_path / "ev")], Settings(workers=1, file_seconds=1.0))
    (item,) = json.loads(render(store, "json"))["items"]
    store.close()
    assert item["errors"] == [] and item["ai"]["detector"]["score"] is not None
    assert loaded  # the detector was loaded, before the file's budget
