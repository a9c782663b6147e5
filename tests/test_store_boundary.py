"""The store persists what analysis concluded and reads a case back without the signals layer."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from vigie.records import INDICATIVE, Finding, ItemRecord
from vigie.review.scripted import Plan, plan_stacks
from vigie.signals.provenance.verdict import conclude
from vigie.store.review import Decision, ReviewTables
from vigie.store.sqlite import SqliteCaseStore


def test_store_imports_no_signals_nor_image_decoding() -> None:
    code = ("import sys, vigie.store, vigie.store.review, vigie.store.accounts, vigie.store.audit, "
            "vigie.store.anchors; print(' '.join(sorted(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    # the signal registry (what each signal is, and its columns) is all the store reads of the signals layer
    allowed = {"vigie.signals", "vigie.signals.registry"}
    assert not [m for m in loaded if m.startswith(("vigie.signals", "vigie.detector", "PIL")) and m not in allowed]


def test_add_items_stores_the_verdict_the_record_carries(tmp_path: Path) -> None:
    store = SqliteCaseStore(tmp_path / "case")
    source = store.add_source("seizure", str(tmp_path), "directory")
    scan_id = store.begin_scan({})
    # analysis concluded; the store neither recomputes from the findings nor drops what it was given
    given = ItemRecord(relpath="given.png", digests={"sha256": "a" * 64}, media_type="image/png",
                       ai_verdict="ai-provenance", ai_score=0.25)
    concluded = ItemRecord(relpath="scored.png", digests={"sha256": "b" * 64}, media_type="image/png", findings=[
        Finding("statistical-detector", "scored", {"score": 0.9, "threshold": 0.5, "model": "m"}, INDICATIVE)])
    conclude(concluded)
    text = ItemRecord(relpath="notes.txt", digests={"sha256": "c" * 64}, media_type="text/plain")
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


def test_no_sql_outside_the_store() -> None:
    """Only the store talks to the case database; a hash-list reader may read a list that is a SQLite file, the
    evidence reader a database that is evidence (its BLOBs, the pages it uses), and the hostile demo write one as
    evidence."""
    package = Path(__file__).resolve().parents[1] / "src" / "vigie"
    offenders = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if relative.startswith(("store/", "matching/lists/")) or relative in (
                "matching/hashlists.py", "sources/sqlite_blobs.py", "sources/sqlite_end.py",
                "demo/hostile.py"):
            continue
        text = path.read_text()
        if any(word in text for word in (".execute(", ".executemany(", "sqlite3.connect", "store.db", ".db.")):
            offenders.append(relative)
    assert offenders == []


def _stacked_case(root: Path, items: int) -> SqliteCaseStore:
    """`items` images, in stacks of three."""
    store = SqliteCaseStore(root / "case")
    source = store.add_source("seizure", str(root), "directory")
    scan_id = store.begin_scan({})
    ids = store.add_items(source, scan_id, [ItemRecord(relpath=f"{n}.png", digests={"sha256": f"{n:064x}"}, size=1,
                                                       media_type="image/png") for n in range(items)])
    store.save_stacks([(ids[n], ids[n:n + 3], True) for n in range(0, items, 3)])
    return store


def _statements(store: SqliteCaseStore, run: Callable[[], object]) -> list[str]:
    seen: list[str] = []
    store.db.set_trace_callback(seen.append)
    try:
        run()
    finally:
        store.db.set_trace_callback(None)
    return seen


def test_a_bulk_stack_decision_reads_its_stacks_in_batches_not_one_item_at_a_time(tmp_path: Path) -> None:
    store = _stacked_case(tmp_path, 90)
    review = ReviewTables(store)
    representatives = store.item_ids()[::3]
    plans: list[Plan] = []
    statements = _statements(store, lambda: plans.append(plan_stacks(review, representatives, category="1")))
    assert [len(p.items) for p in plans[0].decisions] == [3] * 30
    assert len(statements) < 15, statements
    store.close()


def test_undo_reads_each_items_history_once(tmp_path: Path) -> None:
    store = _stacked_case(tmp_path, 30)
    review = ReviewTables(store)
    items = store.item_ids()
    review.decide("rita", items, Decision("projectvic-us", "1"), "item")
    second = review.decide("rita", items, Decision("projectvic-us", "2"), "item")
    statements = _statements(store, lambda: review.undo("rita", second.seq))
    assert sum("audit_log" in s for s in statements) <= len(items) + 5, statements
    assert {r[0] for r in store.db.execute("SELECT category FROM reviews")} == {"1"}
    store.close()


def test_ids_read_in_bounded_chunks_all_come_back(tmp_path: Path) -> None:
    store = _stacked_case(tmp_path, 1201)
    items = store.item_ids()
    assert len(store.sha256s(items)) == 1201 and len(store.stack_facts(items)) == 1201
    assert sum(map(len, store.stack_members_of(items).values())) == 1201
    assert ReviewTables(store).existing_ids([*items, 10**9]) == items
    store.close()
