"""The console under attack and under load: ids out of range, reveals that must be audited, the audit log page
by page, login throttling under concurrency, the Host check, bounded memory per request, video ranges, TLS."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from test_console_api import PASSWORD, login, queue

from vigie.config import Settings
from vigie.store.accounts import Accounts
from vigie.store.sqlite import SqliteCaseStore, open_case
from vigie.web import api as api_module
from vigie.web.app import create_app, ensure_admin


@pytest.fixture
def app(demo_case: Path) -> Any:
    ensure_admin(demo_case)
    store = open_case(demo_case)
    Accounts(store).create_user("rita", PASSWORD, "reviewer", actor="test")
    store.close()
    return create_app(demo_case, Settings(workers=1))


# --- ids out of range -------------------------------------------------------------------------------------


def test_ids_out_of_range_are_404_on_every_route(app: Any) -> None:
    client, csrf = login(app, "rita")
    headers = {"X-CSRF-Token": csrf}
    id_rules = [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]
    assert len(id_rules) >= 5
    for bad in ("99999999999999999999", str(2**63), "-1", "-99999999999999999999", "1e9", "0x10", "999999"):
        for rule in id_rules:
            url = rule.rule.replace(rule.rule[rule.rule.index("<"):rule.rule.index(">") + 1], bad)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                response = client.open(url, method=method, headers=headers, json={"text": "a note"})
                assert response.status_code == 404, (method, url, response.status_code)
    for item in (10**20, -(10**20), 2**63, -1):
        assert client.post("/api/decisions", json={"item": item, "category": "1"}, headers=headers).status_code == 404
    assert client.post("/export", data={"format": "csv", "items": str(10**20), "csrf_token": csrf}).status_code == 404
    # the largest id SQLite holds is simply not there
    assert client.get(f"/api/items/{2**63 - 1}").status_code == 404


# --- a reveal is served only once audited -----------------------------------------------------------------


def test_reveal_is_refused_when_its_audit_entry_cannot_be_written(app: Any, demo_case: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    client, csrf = login(app, "rita")
    item = next(e["id"] for e in queue(client)["entries"] if e["media_type"].startswith("image/"))
    real_append = SqliteCaseStore.append_audit

    def failing_append(self: SqliteCaseStore, actor: str, action: str, details: dict[str, Any]) -> Any:
        if action == "reveal":
            raise sqlite3.OperationalError("disk I/O error")
        return real_append(self, actor, action, details)

    monkeypatch.setattr(SqliteCaseStore, "append_audit", failing_append)
    refused = client.post(f"/api/items/{item}/reveal", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 503 and "audit" in refused.get_json()["error"]
    assert client.get(f"/media/{item}/full").status_code == 403
    assert client.get("/api/me").get_json()["revealed"] == 0
    store = open_case(demo_case)
    assert store.db.execute("SELECT count(*) FROM reveals").fetchone()[0] == 0
    store.close()
    monkeypatch.setattr(SqliteCaseStore, "append_audit", real_append)
    assert client.post(f"/api/items/{item}/reveal", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.get(f"/media/{item}/full").status_code == 200


# --- the audit log, page by page --------------------------------------------------------------------------


def test_audit_is_paginated_and_verified_once_per_head(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    client, csrf = login(app, "rita")
    verified: list[int] = []
    real_verify = api_module.verify_audit_log

    def counting_verify(store: SqliteCaseStore) -> Any:
        verified.append(1)
        return real_verify(store)

    monkeypatch.setattr(api_module, "verify_audit_log", counting_verify)
    whole = client.get("/api/audit", query_string={"limit": 1000}).get_json()
    seqs = [e["seq"] for e in whole["entries"]]
    assert seqs == sorted(seqs, reverse=True) and whole["next"] is None and whole["check"]["ok"]
    paged: list[int] = []
    after: int | None = None
    while True:
        page = client.get("/api/audit", query_string={"limit": 3} | ({"after": after} if after else {})).get_json()
        assert len(page["entries"]) <= 3 and page["check"]["ok"]
        paged += [e["seq"] for e in page["entries"]]
        after = page["next"]
        if after is None:
            break
    assert paged == seqs
    assert len(verified) == 1  # one verification for all those pages: the head did not move
    client.post("/api/settings", json={"blur": 0.1}, headers={"X-CSRF-Token": csrf})
    again = client.get("/api/audit", query_string={"limit": 2}).get_json()
    assert again["entries"][0]["action"] == "view-settings" and again["check"]["entries"] == len(seqs) + 1
    assert len(verified) == 2
    assert client.get("/api/audit", query_string={"after": "x"}).status_code == 400
