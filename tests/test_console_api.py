"""The console's HTTP API, route by route, through Flask's test client over a copy of the demo case."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from PIL import Image

from tests.custom_list import import_custom_list
from vigie.config import Settings
from vigie.review.categories import set_case_scheme
from vigie.store.accounts import Accounts
from vigie.store.sqlite import open_case
from vigie.web.app import create_app, ensure_admin
from vigie.web.audit_view import VIEWS_LISTED
from vigie.web.security import LoginThrottle

PASSWORD = "correct horse battery"


@pytest.fixture
def app(demo_case: Path) -> Any:
    ensure_admin(demo_case)
    store = open_case(demo_case)
    accounts = Accounts(store)
    for name, role in (("rita", "reviewer"), ("rob", "reviewer"), ("olga", "read-only")):
        accounts.create_user(name, PASSWORD, role, actor="test")
    store.close()
    return create_app(demo_case, Settings(workers=1), throttle=LoginThrottle(free_failures=3, base_delay=60))


def login(app: Any, username: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="login_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    response = client.post("/login", data={"username": username, "password": PASSWORD, "login_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    csrf = client.get("/api/me").get_json()["csrf_token"]
    return client, csrf


def queue(client: FlaskClient, **params: str) -> dict[str, Any]:
    response = client.get("/api/queue", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def high_frequency_energy(image: Image.Image) -> float:
    pixels = np.asarray(image.convert("L"), dtype=np.float64)
    laplacian = (4 * pixels[1:-1, 1:-1] - pixels[:-2, 1:-1] - pixels[2:, 1:-1] - pixels[1:-1, :-2]
                 - pixels[1:-1, 2:])
    return float(np.mean(laplacian**2))


def test_no_route_answers_without_login(app: Any) -> None:
    client = app.test_client()
    public = {"/login", "/static/<path:filename>"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.rule in public:
            continue
        url = re.sub(r"<int:\w+>", "1", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method)
            assert response.status_code in (302, 401), (method, url, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].endswith("/login") and url == "/"
            assert b"sha256" not in response.data
            checked += 1
    assert checked >= 15
    assert client.get("/static/console.js").status_code == 200


def test_login_is_rate_limited_and_failures_are_audited(app: Any, demo_case: Path) -> None:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="login_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    for _ in range(3):
        wrong = client.post("/login", data={"username": "rita", "password": "nope nope nope", "login_token": token})
        assert wrong.status_code == 401
    blocked = client.post("/login", data={"username": "rita", "password": PASSWORD, "login_token": token})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert client.get("/api/me").status_code == 401
    no_token = app.test_client().post("/login", data={"username": "rob", "password": PASSWORD})
    assert no_token.status_code == 400
    store = open_case(demo_case)
    assert [e.action for e in store.audit_entries()].count("login-failed") == 3
    store.close()


def test_session_cookie_is_httponly_and_samesite(app: Any) -> None:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="login_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    response = client.post("/login", data={"username": "rita", "password": PASSWORD, "login_token": token})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("vigie_session="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_csrf_and_other_users_sessions(app: Any) -> None:
    rita, rita_csrf = login(app, "rita")
    rob, rob_csrf = login(app, "rob")
    item = queue(rita)["entries"][0]["id"]
    body = {"item": item, "category": "1"}
    assert rita.post("/api/decisions", json=body).status_code == 403  # no CSRF token
    assert rita.post("/api/decisions", json=body, headers={"X-CSRF-Token": rob_csrf}).status_code == 403
    # a reveal belongs to the session that asked for it
    assert rob.post(f"/api/items/{item}/reveal", headers={"X-CSRF-Token": rob_csrf}).status_code == 200
    assert rob.get(f"/media/{item}/full").status_code == 200
    assert rita.get(f"/media/{item}/full").status_code == 403
    # read-only accounts look but do not decide or export
    olga, olga_csrf = login(app, "olga")
    assert olga.post("/api/decisions", json=body, headers={"X-CSRF-Token": olga_csrf}).status_code == 403
    assert olga.post("/export", data={"format": "vics", "csrf_token": olga_csrf}).status_code == 403
    assert olga.post("/api/admin/users", json={"username": "x"}, headers={"X-CSRF-Token": olga_csrf}).status_code == 403
    # after logout the old cookie is worthless
    assert rita.post("/logout", data={"csrf_token": rita_csrf}).status_code == 302
    assert rita.get("/api/me").status_code == 401
    assert rita.post("/api/decisions", json=body, headers={"X-CSRF-Token": rita_csrf}).status_code == 401


def test_media_by_id_only(app: Any) -> None:
    client, _ = login(app, "rita")
    for url in ("/media/999999/thumb", "/media/999999/full", "/media/..%2F..%2Fetc%2Fpasswd/thumb",
                "/media/../../etc/passwd", "/media/%2Fetc%2Fpasswd/thumb", "/media/1.5/thumb", "/media/-1/thumb",
                "/media/DCIM%2FCamera%2FIMG_0001.jpg/thumb", "/api/items/abc", "/api/items/999999"):
        response = client.get(url)
        assert response.status_code == 404, url


def test_thumbnails_are_blurred_greyscale_and_uncached(app: Any, demo_case: Path) -> None:
    client, csrf = login(app, "rita")
    entry = next(e for e in queue(client)["entries"] if e["path"].endswith("IMG_0100.jpg"))
    response = client.get(f"/media/{entry['id']}/thumb")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    served = Image.open(io.BytesIO(response.data))
    assert served.mode == "L"
    original = Image.open(Path(entry["path"])).convert("L").resize(served.size)
    assert high_frequency_energy(served) < 0.05 * high_frequency_energy(original)
    # the URL cannot lower the blur or bring the colour back: the server applies the user's settings
    assert client.get(f"/media/{entry['id']}/thumb?blur=0&grey=0&view=0-colour").data == response.data
    # the weakest blur a user may choose still hides detail; colour is a user choice
    assert client.post("/api/settings", json={"blur": 0.01}, headers={"X-CSRF-Token": csrf}).status_code == 400
    assert client.post("/api/settings", json={"blur": 0.03, "greyscale": False},
                       headers={"X-CSRF-Token": csrf}).status_code == 200
    weakest = Image.open(io.BytesIO(client.get(f"/media/{entry['id']}/thumb").data))
    assert weakest.mode == "RGB"
    assert high_frequency_energy(weakest) < 0.2 * high_frequency_energy(original)
    # the clear image only after a reveal, which is counted and audited
    assert client.get(f"/media/{entry['id']}/full").status_code == 403
    revealed = client.post(f"/api/items/{entry['id']}/reveal", headers={"X-CSRF-Token": csrf}).get_json()
    assert revealed["revealed"] == 1
    clear = client.get(f"/media/{entry['id']}/full")
    assert clear.status_code == 200 and clear.headers["Cache-Control"] == "no-store"
    assert high_frequency_energy(Image.open(io.BytesIO(clear.data))) > 0.5 * high_frequency_energy(
        Image.open(Path(entry["path"])))
    assert client.get("/api/me").get_json()["revealed"] == 1
    store = open_case(demo_case)
    assert any(e.action == "reveal" and e.actor == "rita" for e in store.audit_entries())
    store.close()


def test_video_thumbnail_is_a_blurred_still_and_video_needs_reveal(app: Any) -> None:
    client, csrf = login(app, "rita")
    video = queue(client, media="video")["entries"]
    assert len(video) == 1 and video[0]["media_type"].startswith("video/")
    assert Image.open(io.BytesIO(client.get(f"/media/{video[0]['id']}/thumb").data)).mode == "L"
    assert client.get(f"/media/{video[0]['id']}/full").status_code == 403
    client.post(f"/api/items/{video[0]['id']}/reveal", headers={"X-CSRF-Token": csrf})
    assert client.get(f"/media/{video[0]['id']}/full").mimetype == "video/mp4"


def test_queue_order_filters_and_search(app: Any) -> None:
    client, _ = login(app, "rita")
    data = queue(client, status="all")
    entries = data["entries"]
    ranks = ["unknown-with-face", "unknown", "ai-indicated-or-marked", "known"]
    assert [ranks.index(e["priority"]) for e in entries] == sorted(ranks.index(e["priority"]) for e in entries)
    assert data["progress"] == {"entries": len(entries), "decided": 0}
    # one representative per stack, with its count
    shared = next(e for e in entries if e["path"].endswith("IMG_0002.jpg"))
    assert shared["members"] == 6 and shared["priority"] == "known"
    known = queue(client, status="all", list="any")["entries"]
    unknown = queue(client, status="all", list="none")["entries"]
    assert {e["priority"] for e in known} == {"known"} and "known" not in {e["priority"] for e in unknown}
    assert len(known) + len(unknown) == len(entries)
    assert len(queue(client, status="all", list="demo-list")["entries"]) == len(known)
    assert [e["path"].rsplit("/", 1)[1] for e in queue(client, status="all", q="WA0001")["entries"]] == ["IMG_0001.jpg"]
    assert queue(client, status="all", q="backup.zip")["total"] >= 2
    assert all("/Download/" in e["path"] for e in queue(client, status="all", folder=entries[0]["path"].split(
        "/DCIM/")[0] + "/Download")["entries"])
    assert queue(client, status="all", category="4")["total"] >= 2
    assert client.get("/api/queue", query_string={"status": "bogus"}).status_code == 400
    assert client.get("/api/queue", query_string={"limit": "x"}).status_code == 400
    filters = client.get("/api/filters").get_json()
    assert filters["lists"] == ["demo-list"] and filters["priorities"] == ranks


def test_decisions_notes_history_and_audit(app: Any, demo_case: Path) -> None:
    client, csrf = login(app, "rita")
    headers = {"X-CSRF-Token": csrf}
    stack = next(e for e in queue(client)["entries"] if e["members"] == 6)
    made = client.post("/api/decisions", json={"item": stack["id"], "category": "1", "ai_tags": ["deepfake"]},
                       headers=headers)
    assert made.status_code == 200, made.get_json()
    assert len(made.get_json()["items"]) == 6
    detail = client.get(f"/api/items/{stack['id']}").get_json()
    assert {m["decision"]["category"] for m in detail["stack"]} == {"1"}
    assert detail["history"][-1]["action"] == "categorise" and detail["history"][-1]["actor"] == "rita"
    assert stack["id"] not in [e["id"] for e in queue(client)["entries"]]  # gone from the undecided queue
    # one copy of a stack on its own
    other = next(m["id"] for m in detail["stack"] if m["id"] != stack["id"])
    assert client.post("/api/decisions", json={"item": other, "scope": "item", "category": "0"},
                       headers=headers).get_json()["items"] == [other]
    for bad in ({"item": stack["id"], "category": "Z"}, {"item": stack["id"], "ai_tags": ["nude"]},
                {"item": "1", "category": "1"}, {"item": stack["id"]},
                {"item": stack["id"], "category": "1", "industry_class": "Q9"}):
        assert client.post("/api/decisions", json=bad, headers=headers).status_code == 400, bad
    assert client.post("/api/decisions", json={"item": 999999, "category": "1"}, headers=headers).status_code == 404
    assert client.post("/api/decisions", data="not json", headers=headers).status_code == 400
    note = client.post(f"/api/items/{stack['id']}/notes", json={"text": "same series as case 12"}, headers=headers)
    assert note.get_json()["notes"][0]["author"] == "rita"
    assert client.post(f"/api/items/{stack['id']}/notes", json={"text": ""}, headers=headers).status_code == 400
    detail = client.get(f"/api/items/{stack['id']}").get_json()
    assert detail["history"][-1]["action"] == "note"
    assert detail["hashes"]["sha256"] and detail["matches"] and detail["same_content"]
    audit = client.get("/api/audit").get_json()
    assert audit["check"]["ok"] and audit["entries"][0]["action"] == "note"


def test_undo_and_undecide_routes(app: Any) -> None:
    rita, rita_csrf = login(app, "rita")
    rob, rob_csrf = login(app, "rob")
    olga, olga_csrf = login(app, "olga")
    first, second = (e["id"] for e in queue(rita)["entries"][:2])
    made = rita.post("/api/decisions", json={"item": first, "category": "2"}, headers={"X-CSRF-Token": rita_csrf})
    seq = made.get_json()["audit_seq"]
    refused = rob.post("/api/decisions/undo", json={"audit_seq": seq}, headers={"X-CSRF-Token": rob_csrf})
    assert refused.status_code == 409 and "rita's decision, not yours" in refused.get_json()["error"]
    assert olga.post("/api/decisions/undo", json={"audit_seq": seq},
                     headers={"X-CSRF-Token": olga_csrf}).status_code == 403
    for bad in ({"audit_seq": "1"}, {"audit_seq": True}, {}, {"audit_seq": 0}):
        assert rita.post("/api/decisions/undo", json=bad, headers={"X-CSRF-Token": rita_csrf}).status_code == 400
    undone = rita.post("/api/decisions/undo", json={"audit_seq": seq}, headers={"X-CSRF-Token": rita_csrf})
    assert undone.status_code == 200 and first in [e["id"] for e in queue(rita)["entries"]]
    again = rita.post("/api/decisions/undo", json={"audit_seq": seq}, headers={"X-CSRF-Token": rita_csrf})
    assert again.status_code == 409 and "changed since" in again.get_json()["error"]
    rob.post("/api/decisions", json={"item": second, "category": "1"}, headers={"X-CSRF-Token": rob_csrf})
    back = rita.post("/api/decisions/undecide", json={"item": second}, headers={"X-CSRF-Token": rita_csrf})
    assert back.status_code == 200 and second in [e["id"] for e in queue(rita)["entries"]]
    assert rita.post("/api/decisions/undecide", json={"item": 999999},
                     headers={"X-CSRF-Token": rita_csrf}).status_code == 404
    history = rita.get(f"/api/items/{second}").get_json()["history"]
    assert [(h["action"], h["actor"]) for h in history][-2:] == [("categorise", "rob"), ("undecide", "rita")]
    assert rita.get("/api/audit").get_json()["check"]["ok"]


def test_bulk_routes_check_everything_before_writing(app: Any, demo_case: Path) -> None:
    client, csrf = login(app, "rita")
    headers = {"X-CSRF-Token": csrf}
    first, second = (e["id"] for e in queue(client)["entries"][:2])
    for bad in ({"items": [first], "category": "9"}, {"items": [first]},
                {"items": [first], "category": "1", "tag": "hybrid"}, {"items": [], "category": "1"},
                {"items": [True], "category": "1"}, {"items": "1", "category": "1"}, {"items": [first], "tag": "nude"}):
        assert client.post("/api/decisions/bulk", json=bad, headers=headers).status_code == 400, bad
    assert client.post("/api/decisions/bulk", json={"items": [first, 999999], "category": "1"},
                       headers=headers).status_code == 404
    assert client.post("/api/decisions/accept-list", json={"items": [first], "list": "nope"},
                       headers=headers).status_code == 404
    assert queue(client)["progress"]["decided"] == 0
    made = client.post("/api/decisions/bulk", json={"items": [first, second], "tag": "hybrid"}, headers=headers)
    assert made.status_code == 200 and made.get_json()["stacks"] == 2
    dry = client.post("/api/decisions/accept-list", json={"items": [first, second], "list": "demo-list"},
                      headers=headers).get_json()
    assert dry["stacks"] == 0 and "already_decided" in dry


def test_the_demo_lists_categories_are_accepted_under_a_new_cases_scheme(app: Any) -> None:
    client, csrf = login(app, "rita")
    shown = [e["id"] for e in queue(client)["entries"]]
    dry = client.post("/api/decisions/accept-list", json={"items": shown, "list": "demo-list"},
                      headers={"X-CSRF-Token": csrf}).get_json()
    assert client.get("/api/me").get_json()["scheme"] == "projectvic-us"
    assert dry["stacks"] == 7 and dry["other_schemes"] == [] and dry["categories"] == {"4": 3, "0": 4}


def test_accept_list_says_when_the_lists_categories_are_of_another_scheme(
        app: Any, demo_build: Path, demo_case: Path) -> None:
    import_custom_list(demo_build, demo_case)
    client, csrf = login(app, "rita")
    shown = [e["id"] for e in queue(client)["entries"]]
    ask = {"items": shown, "list": "custom-list"}
    dry = client.post("/api/decisions/accept-list", json=ask, headers={"X-CSRF-Token": csrf}).get_json()
    assert dry["stacks"] == 0 and dry["other_schemes"] == ["custom"]  # demo-A and demo-B, not Project VIC's
    store = open_case(demo_case)
    set_case_scheme(store, "custom", ["demo-A", "demo-B"], "admin")
    store.close()
    dry = client.post("/api/decisions/accept-list", json=ask, headers={"X-CSRF-Token": csrf}).get_json()
    assert dry["stacks"] == 7 and dry["other_schemes"] == []

def test_scheme_settings_and_accounts(app: Any) -> None:
    admin_client = app.test_client()
    store = open_case(app.config["VIGIE_CASE"])
    Accounts(store).set_password("admin", PASSWORD, actor="test")
    store.close()
    admin, csrf = login(app, "admin")
    headers = {"X-CSRF-Token": csrf}
    assert admin.post("/api/admin/settings", json={"scheme": "uk-caid"}, headers=headers).status_code == 200
    me = admin.get("/api/me").get_json()
    assert me["scheme"] == "uk-caid" and [c["code"] for c in me["categories"]] == ["A", "B", "C"]
    assert admin.post("/api/admin/settings", json={"scheme": "custom", "custom_categories": ["Keep", "Drop"]},
                      headers=headers).status_code == 200
    assert [c["key"] for c in admin.get("/api/me").get_json()["categories"]] == ["1", "2"]
    assert admin.post("/api/admin/settings", json={"blur": 0.12, "greyscale": True}, headers=headers).status_code == 200
    rita, _ = login(app, "rita")
    assert rita.get("/api/me").get_json()["settings"] == {"blur": 0.12, "greyscale": True, "density": "comfortable",
                                                          "hold_to_reveal": False}
    made = admin.post("/api/admin/users", json={"username": "newbie", "role": "reviewer"}, headers=headers)
    assert made.status_code == 201 and len(made.get_json()["password"]) >= 10
    assert admin.post("/api/admin/users", json={"username": "newbie"}, headers=headers).status_code == 400
    assert [u["username"] for u in admin.get("/api/admin/users").get_json()["users"]][-1] == "newbie"
    assert admin_client.get("/api/admin/users").status_code == 401


def test_console_exports_are_audited_and_well_formed(app: Any, demo_case: Path) -> None:
    client, csrf = login(app, "rita")
    assert client.post("/export", data={"format": "vics", "csrf_token": csrf}).status_code == 400  # nothing yet
    for entry in queue(client)["entries"][:3]:
        client.post("/api/decisions", json={"item": entry["id"], "category": "1", "ai_tags": ["ai-generated"]},
                    headers={"X-CSRF-Token": csrf})
    vics = client.post("/export", data={"format": "vics", "csrf_token": csrf})
    assert vics.status_code == 200 and "attachment" in vics.headers["Content-Disposition"]
    assert vics.get_json()["value"][0]["Media"][0]["Category"] == 1
    tip = client.post("/export", data={"format": "cybertip", "csrf_token": csrf, "first_name": "Ana"})
    root = ET.fromstring(tip.data)
    assert root.find("report/reporter/reportingPerson/firstName").text == "Ana"  # type: ignore[union-attr]
    assert root.find("fileDetails/fileAnnotations/generativeAi") is not None
    report = client.get("/report")
    assert report.status_code == 200 and b"Audit log at printing" in report.data
    assert "unsafe-inline" in report.headers["Content-Security-Policy"]
    assert "script-src" not in report.headers["Content-Security-Policy"]
    store = open_case(demo_case)
    exports = [e for e in store.audit_entries() if e.action == "export"]
    store.close()
    assert [e.details["format"] for e in exports] == ["vics", "cybertip", "case-report"]
    assert all(e.actor == "rita" and len(e.details["sha256"]) == 64 for e in exports)


def test_malformed_requests_are_refused_with_a_reason_never_a_server_error(app: Any) -> None:
    store = open_case(app.config["VIGIE_CASE"])
    Accounts(store).set_password("admin", PASSWORD, actor="test")
    store.close()
    rita, csrf = login(app, "rita")
    headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
    item = queue(rita)["entries"][0]["id"]
    for url, body in [
        (f"/api/items/{item}/notes", '{"text": "\\ud800"}'),  # a lone surrogate cannot be stored
        ("/api/decisions", "[" * 100_000 + "]" * 100_000),  # nested past the parser
    ]:
        refused = rita.post(url, data=body, headers=headers)
        assert refused.status_code == 400 and refused.get_json()["error"], (url, refused.status_code)
    bulk = rita.post("/api/decisions/bulk", json={"items": [item], "category": "1", "versions": {"²": 1}},
                     headers={"X-CSRF-Token": csrf})
    assert bulk.status_code == 400
    for query, said in [({"q": "a\x00b"}, "NUL"), ({"priority": "bogus"}, "priority is one of"),
                        ({"media": "audio"}, "media is one of"), ({"ai": "bogus"}, "ai is one of")]:
        answer = rita.get("/api/queue", query_string=query)
        assert answer.status_code == 400 and said in answer.get_json()["error"], query

    admin, admin_csrf = login(app, "admin")
    admin_headers = {"X-CSRF-Token": admin_csrf}
    before = admin.get("/api/me").get_json()["settings"]
    for body in [{"blur": 0.2, "greyscale": False, "scheme": "bogus"},
                 {"blur": 0.2, "scheme": "custom", "custom_categories": "x"},
                 {"scheme": "custom", "custom_categories": [f"c{n}" for n in range(10)]},
                 {"scheme": "custom", "custom_categories": ["Keep", " Keep "]},
                 {"scheme": "custom", "custom_categories": ["Keep", "\x1b[2J"]}]:
        assert admin.post("/api/admin/settings", json=body, headers=admin_headers).status_code == 400, body
    assert admin.get("/api/me").get_json()["settings"] == before, "a refused request saves nothing"
    for body in [{"username": ["a"]}, {"username": 12345}, {"username": "ok", "password": 1234567890123}]:
        assert admin.post("/api/admin/users", json=body, headers=admin_headers).status_code == 400, body
    assert all(u["username"] not in ("['a']", "12345", "ok") for u in admin.get("/api/admin/users").get_json()["users"])


def test_a_bulk_tag_or_category_keeps_what_each_copy_was_decided(app: Any) -> None:
    client, csrf = login(app, "rita")
    headers = {"X-CSRF-Token": csrf}
    stack = next(e for e in queue(client)["entries"] if e["members"] == 6)
    assert client.post("/api/decisions", json={"item": stack["id"], "category": "2"}, headers=headers).status_code \
        == 200
    copies = [m["id"] for m in client.get(f"/api/items/{stack['id']}").get_json()["stack"] if m["id"] != stack["id"]]
    assert client.post("/api/decisions", json={"item": copies[0], "scope": "item", "category": "3"},
                       headers=headers).status_code == 200
    made = client.post("/api/decisions/bulk", json={"items": [stack["id"]], "tag": "ai-generated"}, headers=headers)
    assert made.status_code == 200 and made.get_json()["items"] == [stack["id"]] and made.get_json()["stacks"] == 1
    decided = {m["id"]: m["decision"] for m in client.get(f"/api/items/{stack['id']}").get_json()["stack"]}
    assert decided[copies[0]]["category"] == "3" and decided[stack["id"]]["category"] == "2"
    assert all(d["ai_tags"] == ["ai-generated"] for d in decided.values())
    made = client.post("/api/decisions/bulk", json={"items": [copies[1]], "category": "1"}, headers=headers)
    decided = {m["id"]: m["decision"] for m in client.get(f"/api/items/{stack['id']}").get_json()["stack"]}
    assert {d["category"] for d in decided.values()} == {"1"} and all(d["ai_tags"] for d in decided.values())
    assert client.get("/api/audit").get_json()["check"]["ok"]


def test_requests_that_would_be_answered_200_and_do_nothing_are_refused(app: Any) -> None:
    store = open_case(app.config["VIGIE_CASE"])
    Accounts(store).set_password("admin", PASSWORD, actor="test")
    store.close()
    client, csrf = login(app, "rita")
    admin, admin_csrf = login(app, "admin")
    headers, admin_headers = {"X-CSRF-Token": csrf}, {"X-CSRF-Token": admin_csrf}
    first = queue(client)["entries"][0]["id"]
    assert client.post("/api/settings", json={"blurr": 12}, headers=headers).status_code == 400
    assert admin.post("/api/admin/settings", json={"scheme": "projectvic-us", "custom_categories": ["a"]},
                      headers=admin_headers).status_code == 400
    assert admin.post("/api/admin/settings", json={"scheme": "projectvic-us", "custom_categories": None},
                      headers=admin_headers).status_code == 200
    for confirm in ("true", 1):
        assert client.post("/api/decisions/accept-list", json={"items": [first], "list": "demo-list",
                                                               "confirm": confirm}, headers=headers).status_code == 400
    assert client.post("/export", data={"format": "csv", "scope": "stackk", "csrf_token": csrf}).status_code == 400


def test_a_picture_replaced_since_the_scan_is_never_shown_for_the_one_scanned(tmp_path: Path) -> None:
    """A reviewer decides on what the console shows, and the decision goes to the SHA-256 the scan recorded:
    other bytes at the item's path (a file replaced on a live share) are refused, blurred or revealed."""
    from click.testing import CliRunner

    from vigie.cli import main
    from vigie.demo.seizure import draw_picture

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    draw_picture(70, (96, 72)).save(evidence / "a.png")
    draw_picture(71, (96, 72)).save(evidence / "b.png")
    case = tmp_path / "case"
    assert CliRunner().invoke(main, ["scan", str(evidence), "--case", str(case), "--workers", "1"]).exit_code == 0
    ensure_admin(case)
    store = open_case(case)
    Accounts(store).create_user("rita", PASSWORD, "reviewer", actor="test")
    ids = {relpath: item_id for item_id, relpath in store.db.execute("SELECT id, relpath FROM items")}
    store.close()
    draw_picture(72, (96, 72)).save(evidence / "a.png")  # another picture at the same path
    client, csrf = login(create_app(case, Settings(workers=1)), "rita")
    assert client.get(f"/media/{ids['b.png']}/thumb").status_code == 200
    refused = client.get(f"/media/{ids['a.png']}/thumb")
    assert refused.status_code == 409 and "changed since it was scanned" in refused.get_json()["error"]
    assert client.post(f"/api/items/{ids['a.png']}/reveal", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.get(f"/media/{ids['a.png']}/full").status_code == 409


def test_an_items_panel_lists_the_latest_reveals_and_counts_the_rest(app: Any, demo_case: Path) -> None:
    olga, olga_csrf = login(app, "olga")  # a read-only account may reveal, and so lengthen the history, at will
    rita, rita_csrf = login(app, "rita")
    item = queue(rita)["entries"][0]["id"]
    assert rita.post("/api/decisions", json={"item": item, "scope": "item", "category": "1"},
                     headers={"X-CSRF-Token": rita_csrf}).status_code == 200
    for _ in range(VIEWS_LISTED + 7):
        assert olga.post(f"/api/items/{item}/reveal", headers={"X-CSRF-Token": olga_csrf}).status_code == 200
    detail = olga.get(f"/api/items/{item}").get_json()
    actions = [entry["action"] for entry in detail["history"]]
    assert actions.count("reveal") == VIEWS_LISTED and "categorise" in actions  # decisions are always listed
    assert detail["history_left_out"] == [{"action": "reveal", "what": "reveal", "count": 7}]
    store = open_case(demo_case)
    assert sum(e.action == "reveal" for e in store.audit_entries(naming_item=item)) == VIEWS_LISTED + 7
    store.close()
