"""Claims as colleagues see them: `/api/changes` reports each claim (with when it lapses) and release, the queue's
entries carry whose claim holds them, and the case's `vigie.toml` sets how long a claim lasts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.test_console_api import app, login, queue  # noqa: F401  (the app fixture and helpers)
from tests.test_console_conflicts import _post
from vigie.config import load_settings
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
