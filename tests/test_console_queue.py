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
    wrong = client.get("/api/queue", query_string={"deleted": "maybe"})
    assert wrong.status_code == 400 and "deleted" in wrong.get_json()["error"]
