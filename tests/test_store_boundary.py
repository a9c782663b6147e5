"""The store persists what analysis concluded and reads a case back without the signals layer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from vigie.records import INDICATIVE, Finding, ItemRecord
from vigie.signals.provenance.verdict import conclude
from vigie.store.sqlite import SqliteCaseStore


def test_store_imports_no_signals_nor_image_decoding() -> None:
    code = ("import sys, vigie.store, vigie.store.review, vigie.store.accounts, vigie.store.audit, "
            "vigie.store.anchors; print(' '.join(sorted(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert not [m for m in loaded if m.startswith(("vigie.signals", "vigie.detector", "PIL"))]


def test_add_items_stores_the_verdict_the_record_carries(tmp_path: Path) -> None:
    store = SqliteCaseStore(tmp_path / "case")
    source = store.add_source("seizure", str(tmp_path), "directory")
    scan_id = store.begin_scan({})
    # analysis concluded; the store neither recomputes from the findings nor drops what it was given
    given = ItemRecord(relpath="given.png", sha256="a" * 64, media_type="image/png", ai_verdict="ai-provenance",
                       ai_score=0.25)
    concluded = ItemRecord(relpath="scored.png", sha256="b" * 64, media_type="image/png", findings=[
        Finding("statistical-detector", "scored", {"score": 0.9, "threshold": 0.5, "model": "m"}, INDICATIVE)])
    conclude(concluded)
    text = ItemRecord(relpath="notes.txt", sha256="c" * 64, media_type="text/plain")
    conclude(text)
    store.add_items(source, scan_id, [given, concluded, text])
    rows = {r[0]: (r[1], r[2]) for r in store.db.execute("SELECT relpath, ai_verdict, ai_score FROM items")}
    assert rows == {"given.png": ("ai-provenance", 0.25), "scored.png": ("ai-indicated", 0.9),
                    "notes.txt": (None, None)}
    ai = {i["relpath"]: i["ai"] for i in store.iter_report_items()}
    assert ai["given.png"] == {"verdict": "ai-provenance", "signals": [], "detector": None}
    assert ai["scored.png"]["verdict"] == "ai-indicated" and ai["scored.png"]["detector"]["score"] == 0.9
    assert ai["notes.txt"] is None
    store.close()
