"""The queue API's deleted filter and its paging, through Flask's test client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.test_console_api import app, login, queue  # noqa: F401  (the fixture and helpers)
from vigie.store.sqlite import open_case


def test_deleted_filter_keeps_entries_with_a_copy_read_as_deleted(app: Any, demo_case: Path) -> None:  # noqa: F811
    client, _ = login(app, "rita")
    everything = queue(client, status="all", limit="500")
    target = everything["entries"][-1]
    store = open_case(demo_case)
    with store.db:  # as a disk image's deleted file would be recorded
        store.db.execute("UPDATE items SET deleted = 1 WHERE id = ?", (target["id"],))
    store.close()
    deleted = queue(client, status="all", deleted="yes")
    assert deleted["total"] == 1 and [e["id"] for e in deleted["entries"]] == [target["id"]]
    kept = queue(client, status="all", deleted="no", limit="500")
    assert kept["total"] == everything["total"] - 1 and target["id"] not in {e["id"] for e in kept["entries"]}
    assert queue(client, status="all", deleted="")["total"] == everything["total"]
    assert client.get(f"/api/items/{target['id']}").get_json()["deleted"] is True
    wrong = client.get("/api/queue", query_string={"deleted": "maybe"})
    assert wrong.status_code == 400 and "deleted" in wrong.get_json()["error"]


def _add_single_items(demo_case: Path, count: int) -> None:
    """`count` more unstacked items, each its own queue entry: copies of one item's row under new paths."""
    store = open_case(demo_case)
    columns = [r[1] for r in store.db.execute("PRAGMA table_info(items)") if r[1] not in ("id", "relpath")]
    source = store.db.execute("SELECT id FROM items WHERE stack_id IS NULL ORDER BY id LIMIT 1").fetchone()[0]
    listed = ", ".join(columns)
    with store.db:
        for n in range(count):
            store.db.execute(f"INSERT INTO items(relpath, {listed}) SELECT ?, {listed} FROM items WHERE id = ?",
                             (f"bulk/{n:04d}.jpg", source))
    store.close()


def test_queue_pages_cover_every_entry_once(app: Any, demo_case: Path) -> None:  # noqa: F811
    _add_single_items(demo_case, 250)
    client, _ = login(app, "rita")
    whole = queue(client, status="all", limit="500")
    assert whole["total"] > 250 and whole["next"] is None
    seen: list[int] = []
    offset: int | None = 0
    pages = 0
    while offset is not None:
        page = queue(client, status="all", limit="200", offset=str(offset))
        assert page["offset"] == offset and page["total"] == whole["total"]
        seen += [e["id"] for e in page["entries"]]
        offset = page["next"]
        pages += 1
    assert pages == 2
    assert seen == [e["id"] for e in whole["entries"]] and len(set(seen)) == whole["total"]
