"""Two reviewers on one case: a decision made on a stale screen is refused (409, nothing written) with the
colleague's decision, for single decisions, undecisions, undos and bulk; `/api/changes` shows each reviewer
the others' decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from tests.test_console_api import app, login, queue  # noqa: F401  (the app fixture and helpers)
from vigie.cli import main
from vigie.store.review import Decision, ReviewTables, StaleDecisionError
from vigie.store.sqlite import open_case


def _post(client: FlaskClient, csrf: str, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json=body, headers={"X-CSRF-Token": csrf})


def _audit_count(case: Path) -> int:
    store = open_case(case)
    try:
        return sum(1 for _ in store.audit_entries())
    finally:
        store.close()


def test_a_stale_decision_is_refused_with_the_colleagues_decision(app: Any, demo_case: Path) -> None:  # noqa: F811
    rita, rita_csrf = login(app, "rita")
    rob, rob_csrf = login(app, "rob")
    entry = queue(rita)["entries"][0]
    seen = entry["version"]
    assert queue(rob)["entries"][0]["version"] == seen  # both screens show the same stack, undecided
    first = _post(rita, rita_csrf, "/api/decisions", {"item": entry["id"], "category": "1", "seen": seen})
    assert first.status_code == 200, first.get_json()
    entries = _audit_count(demo_case)
    second = _post(rob, rob_csrf, "/api/decisions", {"item": entry["id"], "category": "3", "seen": seen})
    assert second.status_code == 409
    conflict = second.get_json()["conflict"]
    assert conflict["by"] == "rita" and conflict["decision"]["category"] == "1"
    assert conflict["version"] == first.get_json()["audit_seq"] and conflict["item"] == entry["id"]
    assert _audit_count(demo_case) == entries  # nothing written, not even an audit entry
    back = _post(rob, rob_csrf, "/api/decisions/undecide", {"item": entry["id"], "seen": seen})
    assert back.status_code == 409 and back.get_json()["conflict"]["by"] == "rita"
    # Rob's screen refreshed: his decision on the version he now sees is taken
    now = queue(rob, status="all")
    version = next(e["version"] for e in now["entries"] if e["id"] == entry["id"])
    assert version == conflict["version"]
    third = _post(rob, rob_csrf, "/api/decisions", {"item": entry["id"], "category": "3", "seen": version})
    assert third.status_code == 200, third.get_json()
    store = open_case(demo_case)
    assert ReviewTables(store).decisions([entry["id"]])[entry["id"]]["by"] == "rob"
    store.close()


def test_going_back_to_undecided_still_makes_an_older_screen_stale(app: Any) -> None:  # noqa: F811
    rita, rita_csrf = login(app, "rita")
    rob, rob_csrf = login(app, "rob")
    entry = queue(rita)["entries"][0]
    decided = _post(rita, rita_csrf, "/api/decisions", {"item": entry["id"], "category": "1",
                                                         "seen": entry["version"]}).get_json()
    assert _post(rita, rita_csrf, "/api/decisions/undecide",
                 {"item": entry["id"], "seen": decided["audit_seq"]}).status_code == 200
    # undecided again, as Rob's screen showed it, but not the same version: refused, the undecision named
    refused = _post(rob, rob_csrf, "/api/decisions", {"item": entry["id"], "category": "2", "seen": entry["version"]})
    assert refused.status_code == 409
    assert refused.get_json()["conflict"]["decision"] is None and refused.get_json()["conflict"]["by"] == "rita"


def test_a_decision_without_a_version_is_unchecked_as_before(app: Any) -> None:  # noqa: F811
    rita, rita_csrf = login(app, "rita")
    rob, rob_csrf = login(app, "rob")
    entry = queue(rita)["entries"][0]
    assert _post(rita, rita_csrf, "/api/decisions", {"item": entry["id"], "category": "1"}).status_code == 200
    assert _post(rob, rob_csrf, "/api/decisions", {"item": entry["id"], "category": "2"}).status_code == 200
    bad = _post(rob, rob_csrf, "/api/decisions", {"item": entry["id"], "category": "2", "seen": "old"})
    assert bad.status_code == 400 and "version" in bad.get_json()["error"]


def test_undo_of_a_decision_a_colleague_overwrote_is_refused_with_theirs(app: Any, demo_case: Path) -> None:  # noqa: F811
    rita, rita_csrf = login(app, "rita")
    rob, rob_csrf = login(app, "rob")
    entry = queue(rita)["entries"][0]
    mine = _post(rita, rita_csrf, "/api/decisions", {"item": entry["id"], "category": "1"}).get_json()
    theirs = _post(rob, rob_csrf, "/api/decisions", {"item": entry["id"], "category": "4",
                                                     "seen": mine["audit_seq"]}).get_json()
    entries = _audit_count(demo_case)
    undo = _post(rita, rita_csrf, "/api/decisions/undo", {"audit_seq": mine["audit_seq"]})
    assert undo.status_code == 409
    conflict = undo.get_json()["conflict"]
    assert conflict["by"] == "rob" and conflict["decision"]["category"] == "4"
    assert conflict["version"] == theirs["audit_seq"]
    assert _audit_count(demo_case) == entries


def test_bulk_refuses_the_stale_stacks_and_decides_the_rest(app: Any, demo_case: Path) -> None:  # noqa: F811
    rita, rita_csrf = login(app, "rita")
    rob, rob_csrf = login(app, "rob")
    entries = queue(rita)["entries"][:3]
    versions = {str(e["id"]): e["version"] for e in entries}
    taken = entries[1]["id"]
    assert _post(rob, rob_csrf, "/api/decisions", {"item": taken, "category": "2",
                                                   "seen": versions[str(taken)]}).status_code == 200
    result = _post(rita, rita_csrf, "/api/decisions/bulk",
                   {"items": [e["id"] for e in entries], "category": "1", "versions": versions})
    assert result.status_code == 200, result.get_json()
    answer = result.get_json()
    assert answer["stacks"] == 2 and answer["items"] == [entries[0]["id"], entries[2]["id"]]
    assert [(s["item"], s["by"], s["decision"]["category"]) for s in answer["stale"]] == [(taken, "rob", "2")]
    store = open_case(demo_case)
    decided = ReviewTables(store).decisions([e["id"] for e in entries])
    store.close()
    assert {i: (d["category"], d["by"]) for i, d in decided.items()} == {
        entries[0]["id"]: ("1", "rita"), taken: ("2", "rob"), entries[2]["id"]: ("1", "rita")}


def test_changes_show_a_colleagues_decisions_after_a_point_of_the_log(app: Any) -> None:  # noqa: F811
    rita, rita_csrf = login(app, "rita")
    rob, _ = login(app, "rob")
    start = rob.get("/api/changes").get_json()
    assert start["changes"] == [] and start["next"] >= 1
    entry = queue(rita)["entries"][0]
    decided = _post(rita, rita_csrf, "/api/decisions", {"item": entry["id"], "category": "1"}).get_json()
    _post(rita, rita_csrf, f"/api/items/{entry['id']}/notes", {"text": "not a decision"})
    seen = rob.get("/api/changes", query_string={"since": start["next"]}).get_json()
    assert [(c["seq"], c["actor"], c["action"]) for c in seen["changes"]] == [
        (decided["audit_seq"], "rita", "categorise")]
    shown = seen["items"][str(entry["id"])]
    assert shown["decision"]["category"] == "1" and shown["decision"]["by"] == "rita"
    assert shown["version"] == decided["audit_seq"]
    assert seen["next"] > decided["audit_seq"]  # the note is read past too
    assert rob.get("/api/changes", query_string={"since": seen["next"]}).get_json()["changes"] == []
    assert rob.get("/api/changes", query_string={"since": "x"}).status_code == 400


def test_the_store_refuses_a_stale_decision_without_writing(demo_case: Path) -> None:
    store = open_case(demo_case)
    review = ReviewTables(store)
    item = store.item_ids()[0]
    members = review.members(item)
    first = review.decide("rita", members, Decision("projectvic-us", "1"), "stack", seen=0)
    assert review.version(members) == first.seq
    with pytest.raises(StaleDecisionError, match=r"decided again since you saw it .*by rita"):
        review.decide("rob", members, Decision("projectvic-us", "2"), "stack", seen=0)
    assert review.decisions([item])[item]["category"] == "1"
    store.close()


def test_a_claimed_batch_leaves_the_other_reviewers_queue_until_released_or_lapsed(app: Any,  # noqa: F811
                                                                                  demo_case: Path) -> None:
    rita, rita_csrf = login(app, "rita")
    rob, rob_csrf = login(app, "rob")
    everyone = [e["id"] for e in queue(rob)["entries"]]
    claimed = _post(rita, rita_csrf, "/api/claims", {"count": 3}).get_json()
    assert claimed["items"] == everyone[:3]  # the next three in review order
    assert [e["id"] for e in queue(rita, claims="mine")["entries"]] == everyone[:3]
    assert [e["id"] for e in queue(rita)["entries"]] == everyone  # hers stay in her own queue
    assert [e["id"] for e in queue(rob)["entries"]] == everyone[3:]  # not in his
    # Rob's "next 3" are the three after Rita's, never hers
    assert _post(rob, rob_csrf, "/api/claims", {"count": 3}).get_json()["items"] == everyone[3:6]
    assert [e["id"] for e in queue(rita)["entries"]] == everyone[:3] + everyone[6:]
    assert _post(rob, rob_csrf, "/api/claims", {"count": 0}).status_code == 400
    # once Rita decides one of hers, it shows in everyone's view of decided stacks
    assert _post(rita, rita_csrf, "/api/decisions", {"item": everyone[0], "category": "1"}).status_code == 200
    assert [e["id"] for e in queue(rob, status="decided")["entries"]] == [everyone[0]]
    assert rob.get("/api/queue", query_string={"claims": "theirs"}).status_code == 400

    store = open_case(demo_case)
    claims = [(e.actor, e.details["items"]) for e in store.audit_entries() if e.action == "claim"]
    assert claims == [("rita", everyone[:3]), ("rob", everyone[3:6])]
    store.db.execute("UPDATE review_claims SET until = '2000-01-01T00:00:00+00:00' WHERE claimed_by = 'rob'")
    store.close()
    assert [e["id"] for e in queue(rita)["entries"]] == everyone[1:]  # Rob's claim lapsed

    released = _post(rita, rita_csrf, "/api/claims/release", {}).get_json()
    assert released["items"] == sorted(everyone[1:3])  # the one she decided held nothing back: not named
    assert [e["id"] for e in queue(rob)["entries"]] == everyone[1:]
    store = open_case(demo_case)
    assert [e.details["items"] for e in store.audit_entries() if e.action == "release"] == [sorted(everyone[1:3])]
    store.close()
    assert _verify_intact(demo_case)


def _verify_intact(case: Path) -> bool:
    result = CliRunner().invoke(main, ["audit", "verify", "--case", str(case)])
    return result.exit_code == 0 and "Audit log intact" in result.output


def test_a_copy_decided_alone_is_checked_against_its_own_version(app: Any) -> None:  # noqa: F811
    rita, rita_csrf = login(app, "rita")
    rob, rob_csrf = login(app, "rob")
    stacked = next(e for e in queue(rita)["entries"] if e["members"] > 1)
    copy = rita.get(f"/api/items/{stacked['id']}").get_json()["stack"][-1]
    assert copy["version"] == 0 and copy["id"] != stacked["id"]
    decided = _post(rita, rita_csrf, "/api/decisions", {"item": copy["id"], "scope": "item", "category": "1",
                                                        "seen": copy["version"]}).get_json()
    assert rob.get(f"/api/items/{stacked['id']}").get_json()["stack"][-1]["version"] == decided["audit_seq"]
    refused = _post(rob, rob_csrf, "/api/decisions", {"item": copy["id"], "scope": "item", "category": "2",
                                                      "seen": copy["version"]})
    assert refused.status_code == 409 and refused.get_json()["conflict"]["by"] == "rita"
    # the stack's card version moved too: a decision on the whole stack from the old card is stale as well
    whole = _post(rob, rob_csrf, "/api/decisions", {"item": stacked["id"], "category": "2", "seen": stacked["version"]})
    assert whole.status_code == 409
