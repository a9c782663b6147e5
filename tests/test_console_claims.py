"""Claims as colleagues see them: `/api/changes` reports each claim (with when it lapses) and release, the queue's
entries carry whose claim holds them, and the case's `vigie.toml` sets how long a claim lasts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.test_console_api import app, login, queue  # noqa: F401  (the app fixture and helpers)
from tests.test_console_conflicts import _post
from vigie.config import load_settings
from vigie.store.sqlite import open_case
from vigie.web.app import create_app


def test_colleagues_are_told_of_claims_and_releases(app: Any) -> None:  # noqa: F811
    rita, rita_csrf = login(app, "rita")
    rob, _ = login(app, "rob")
    since = rob.get("/api/changes").get_json()["next"]
    claimed = _post(rita, rita_csrf, "/api/claims", {"count": 2}).get_json()
    changes = rob.get(f"/api/changes?since={since}").get_json()
    assert [(c["action"], c["actor"], c["items"], c["until"]) for c in changes["changes"]] == [
        ("claim", "rita", claimed["items"], claimed["until"])]
    shown = {e["id"]: e["claim"] for e in queue(rita)["entries"]}
    assert [shown[i] for i in claimed["items"]] == [{"by": "rita", "until": claimed["until"]}] * 2
    assert all(shown[i] is None for i in shown if i not in claimed["items"])

    _post(rita, rita_csrf, "/api/claims/release", {})
    later = rob.get(f"/api/changes?since={changes['next']}").get_json()["changes"]
    assert [(c["action"], c["actor"], sorted(c["items"])) for c in later] == [
        ("release", "rita", sorted(claimed["items"]))]
    assert all(e["claim"] is None for e in queue(rob)["entries"])


def _claim_app(case: Path, minutes: int) -> Any:
    (case / "vigie.toml").write_text(f"claim_minutes = {minutes}\n")
    return create_app(case, load_settings(case))


def test_the_claim_lasts_as_long_as_the_cases_setting_says(app: Any, demo_case: Path) -> None:  # noqa: F811
    rita, rita_csrf = login(_claim_app(demo_case, 5), "rita")
    until = datetime.fromisoformat(_post(rita, rita_csrf, "/api/claims", {"count": 1}).get_json()["until"])
    assert timedelta(minutes=4) < until - datetime.now(UTC) <= timedelta(minutes=5)

    rita, rita_csrf = login(_claim_app(demo_case, 0), "rita")
    refused = _post(rita, rita_csrf, "/api/claims", {"count": 1})
    assert refused.status_code == 400 and "claim_minutes setting is 0" in refused.get_json()["error"]


def test_release_names_only_the_stacks_still_undecided(app: Any, demo_case: Path) -> None:  # noqa: F811
    rita, rita_csrf = login(app, "rita")
    claimed = _post(rita, rita_csrf, "/api/claims", {"count": 3}).get_json()["items"]
    decided = _post(rita, rita_csrf, "/api/decisions", {"item": claimed[0], "category": "0"})
    assert decided.status_code == 200, decided.get_json()
    released = _post(rita, rita_csrf, "/api/claims/release", {}).get_json()["items"]
    assert released == sorted(claimed[1:])
    store = open_case(demo_case)
    entry = [e for e in store.audit_entries() if e.action == "release"]
    store.close()
    assert [(e.actor, e.details["items"]) for e in entry] == [("rita", sorted(claimed[1:]))]


def test_changes_say_when_the_next_claim_lapses(app: Any, demo_case: Path) -> None:  # noqa: F811
    rita, rita_csrf = login(app, "rita")
    rob, _ = login(app, "rob")
    assert rob.get("/api/changes").get_json()["next_lapse"] is None
    until = _post(rita, rita_csrf, "/api/claims", {"count": 2}).get_json()["until"]
    assert rob.get("/api/changes?since=0").get_json()["next_lapse"] == until
    store = open_case(demo_case)
    with store.db:  # the claim lapses: no audit entry says so, the time does
        store.db.execute("UPDATE review_claims SET until = ?",
                         ((datetime.now(UTC) - timedelta(seconds=1)).isoformat(timespec="microseconds"),))
    store.close()
    assert rob.get("/api/changes").get_json()["next_lapse"] is None
    assert len(queue(rob)["entries"]) == queue(rob)["progress"]["entries"]  # every stack back in Rob's queue


def test_changes_carry_the_progress_where_anything_changed(app: Any) -> None:  # noqa: F811
    rita, rita_csrf = login(app, "rita")
    rob, _ = login(app, "rob")
    since = rob.get("/api/changes").get_json()["next"]
    assert rob.get(f"/api/changes?since={since}").get_json()["progress"] is None  # nothing new: no count
    first = queue(rita)["entries"][0]["id"]
    assert _post(rita, rita_csrf, "/api/decisions", {"item": first, "category": "0"}).status_code == 200
    progress = rob.get(f"/api/changes?since={since}").get_json()["progress"]
    assert progress == queue(rob)["progress"] and progress["decided"] == 1
