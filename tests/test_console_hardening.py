"""The console under attack and under load: ids out of range, reveals that must be audited, the audit log page
by page, login throttling under concurrency, the Host check, bounded memory per request, video ranges, TLS."""

from __future__ import annotations

import hashlib
import http.client
import http.server
import io
import json
import os
import re
import socket
import sqlite3
import ssl
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import jpeg_bytes
from PIL import Image
from test_console_api import PASSWORD, login, queue

from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.signals.image import ImageError
from vigie.signals.thumbnails import blurred_thumbnail, revealed_copy
from vigie.store.accounts import Accounts
from vigie.store.sqlite import SqliteCaseStore, open_case
from vigie.web import api as api_module
from vigie.web.app import create_app, ensure_admin
from vigie.web.hosts import AllowedHosts
from vigie.web.security import LoginThrottle
from vigie.web.serving import ConsoleServer, HandshakeInWorker, start_console
from vigie.web.tls import case_certificate, fingerprint


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


def fail_reveal_audits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The case's log refuses every reveal entry (a full or failing disk), and only those."""
    real_append = SqliteCaseStore.append_audit

    def failing_append(self: SqliteCaseStore, actor: str, action: str, details: dict[str, Any]) -> Any:
        if action == "reveal":
            raise sqlite3.OperationalError("disk I/O error")
        return real_append(self, actor, action, details)

    monkeypatch.setattr(SqliteCaseStore, "append_audit", failing_append)


def test_reveal_is_refused_when_its_audit_entry_cannot_be_written(app: Any, demo_case: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    client, csrf = login(app, "rita")
    item = next(e["id"] for e in queue(client)["entries"] if e["media_type"].startswith("image/"))
    real_append = SqliteCaseStore.append_audit
    fail_reveal_audits(monkeypatch)
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


# --- login throttling -------------------------------------------------------------------------------------


def _login_attempt(app: Any, address: str, password: str, username: str = "rita") -> Any:
    """A browser at `address` loads the login form; returns a function that submits it."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="login_token" value="([^"]+)"', page)[1]  # type: ignore[index]
    return lambda: client.post("/login", data={"username": username, "password": password, "login_token": token})


def test_concurrent_guesses_never_pass_the_limit(demo_case: Path) -> None:
    app = create_app(demo_case, Settings(workers=1), throttle=LoginThrottle(free_failures=5, base_delay=600))
    store = open_case(demo_case)
    Accounts(store).create_user("rita", PASSWORD, "reviewer", actor="test")
    store.close()
    attempts = [_login_attempt(app, "192.0.2.9", f"guess number {i}") for i in range(12)]
    start = threading.Barrier(len(attempts))
    statuses: list[int] = []

    def guess(attempt: Any) -> None:
        start.wait()
        statuses.append(attempt().status_code)

    threads = [threading.Thread(target=guess, args=(a,)) for a in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [401] * 5 + [429] * 7
    store = open_case(demo_case)
    assert [e.action for e in store.audit_entries()].count("login-failed") == 5
    store.close()


def test_a_guesser_elsewhere_does_not_lock_the_owner_out(app: Any) -> None:
    throttled = create_app(app.config["VIGIE_CASE"], Settings(workers=1),
                           throttle=LoginThrottle(free_failures=5, base_delay=600))
    statuses = [_login_attempt(throttled, "192.0.2.66", "wrong password")().status_code for _ in range(20)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    assert _login_attempt(throttled, "127.0.0.1", PASSWORD)().status_code == 302
    # her own typos slow her down only after the free tries, and a success forgives them
    for _ in range(4):
        assert _login_attempt(throttled, "127.0.0.1", "typo typo typo")().status_code == 401
    assert _login_attempt(throttled, "127.0.0.1", PASSWORD)().status_code == 302
    assert _login_attempt(throttled, "127.0.0.1", "typo typo typo")().status_code == 401


def test_a_global_rate_caps_guesses_from_many_addresses_but_never_locks_the_owner_out(app: Any) -> None:
    throttled = create_app(app.config["VIGIE_CASE"], Settings(workers=1),
                           throttle=LoginThrottle(global_attempts=9, global_window=600))
    assert _login_attempt(throttled, "127.0.0.1", PASSWORD)().status_code == 302  # the owner, at her desk
    statuses = [_login_attempt(throttled, f"192.0.2.{i}", "wrong password")().status_code for i in range(1, 12)]
    assert statuses == [401] * 8 + [429] * 3
    refused = _login_attempt(throttled, "198.51.100.7", PASSWORD)()  # a first login from a new address waits
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 600
    assert _login_attempt(throttled, "127.0.0.1", PASSWORD)().status_code == 302


def test_backoff_doubles_is_capped_and_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("vigie.web.security.time.monotonic", lambda: clock[0])
    throttle = LoginThrottle(free_failures=2, base_delay=10, max_delay=35, forget_after=3600)
    waits = []
    for name in ("rita", "Rita", "RITA", "rita", "rita"):  # names are compared without case
        wait = throttle.begin("192.0.2.1", name)
        if wait:
            clock[0] += wait
            assert throttle.begin("192.0.2.1", name) == 0
        waits.append(wait)
    assert waits == [0, 0, 10, 20, 35]
    clock[0] += 3601
    assert throttle.begin("192.0.2.1", "rita") == 0 and throttle.begin("192.0.2.1", "rita") == 0


# --- the Host check ---------------------------------------------------------------------------------------


def test_allowed_hosts_follow_the_served_address() -> None:
    loopback = AllowedHosts.for_address("127.0.0.1", 8765, ["console.lan", "review.example:9443"])
    for good in ("127.0.0.1:8765", "localhost:8765", "LOCALHOST:8765", "[::1]:8765", "localhost.:8765",
                 "console.lan", "console.lan:1234", "review.example:9443"):
        assert loopback.allows(good), good
    for bad in ("rebind.example:8765", "127.0.0.1:8766", "localhost", "review.example", "review.example:443",
                "", None, "127.0.0.1:x", "[::1]", "evil.127.0.0.1:8765"):
        assert not loopback.allows(bad), bad
    assert AllowedHosts.for_address("::1", 80).allows("[::1]") and AllowedHosts.for_address("::1", 80).allows(
        "localhost:80")
    lan = AllowedHosts.for_address("192.0.2.10", 443, tls=True)
    assert lan.allows("192.0.2.10") and lan.allows("192.0.2.10:443") and not lan.allows("localhost:443")
    anywhere = AllowedHosts.for_address("0.0.0.0", 8765)
    assert anywhere.allows("localhost:8765") and not anywhere.allows("0.0.0.0:8765")
    assert loopback.names() == {"127.0.0.1", "localhost", "::1", "console.lan", "review.example"}


def test_requests_for_another_host_are_refused(app: Any) -> None:
    assert app.test_client().get("/login").status_code == 200  # the test client says "localhost"
    rebound = app.test_client().get("/login", base_url="http://rebind.example:8765")
    assert rebound.status_code == 421 and b"--allowed-host" in rebound.data
    assert "vigie_login" not in rebound.headers.get("Set-Cookie", "")


@pytest.fixture
def served(app: Any) -> Iterator[ConsoleServer]:
    console = start_console(app, "127.0.0.1", 0, 4, extra_hosts=["console.test"])
    thread = threading.Thread(target=console.run, daemon=True)
    thread.start()
    yield console
    console.close()
    thread.join(10)


def _get(port: int, path: str, host: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.request("GET", path, headers={"Host": host})
    status = connection.getresponse().status
    connection.close()
    return status


def test_a_real_server_answers_only_its_own_address(served: ConsoleServer) -> None:
    port = served.port
    assert served.url == f"http://127.0.0.1:{port}/" and served.also == (f"http://console.test:{port}/",)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "console.test"):
        assert _get(port, "/login", host) == 200, host
    for host in (f"rebind.example:{port}", f"127.0.0.1:{port + 1}", "localhost"):
        assert _get(port, "/login", host) == 421, host


# --- TLS --------------------------------------------------------------------------------------------------


def test_case_certificate_is_p256_names_the_hosts_and_is_kept(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    names = AllowedHosts.for_address("127.0.0.1", 8765, ["console.test"]).names()
    files, made = case_certificate(tmp_path, names)
    assert made and files.key.stat().st_mode & 0o077 == 0
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost", "console.test"}
    assert {str(a) for a in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    first = fingerprint(files.cert)
    assert case_certificate(tmp_path, names) == (files, False)  # kept: the fingerprint the user checked holds
    assert fingerprint(files.cert) == first and len(first) == 95
    again, made = case_certificate(tmp_path, names | {"other.test"})  # a new name: a new certificate
    renewed = x509.load_pem_x509_certificate(again.cert.read_bytes())
    assert made and fingerprint(again.cert) != first
    san = renewed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "other.test" in san.get_values_for_type(x509.DNSName)


def test_tls_handshake_is_left_to_the_worker_thread(tmp_path: Path) -> None:
    """cheroot's own adapter shakes hands in the accept loop, where a client that says nothing stalls all."""
    files, _ = case_certificate(tmp_path, {"localhost"})
    server_end, client_end = socket.socketpair()
    with server_end, client_end:
        server_end.settimeout(30)
        tls, environ = HandshakeInWorker(str(files.cert), str(files.key)).wrap(server_end)
        assert tls.cipher() is None and environ["wsgi.url_scheme"] == "https"


def _read_until(stream: Any, marker: str) -> str:
    seen = ""
    for line in stream:
        seen += line
        if marker in line:
            return seen
    raise AssertionError(f"the server stopped before printing {marker!r}:\n{seen}")


def test_serve_tls_prints_the_fingerprint_and_sets_host_cookies(app: Any, tmp_path: Path) -> None:
    case = app.config["VIGIE_CASE"]
    env = os.environ | {"PYTHONPATH": str(Path(__file__).parents[1] / "src"), "COLUMNS": "200"}
    command = [sys.executable, "-m", "vigie.cli", "serve", "--case", str(case), "--port", "0", "--tls",
               "--threads", "2", "--allowed-host", "vigie.localhost"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                              cwd=tmp_path)
    try:
        printed = _read_until(server.stdout, "Stop with")
        port = int(re.search(r"https://127\.0\.0\.1:(\d+)/", printed)[1])  # type: ignore[index]
        # stderr shares the pipe, so a line of it may fall between the heading and the fingerprint
        assert "TLS certificate SHA-256 fingerprint" in printed
        shown = re.search(r"^\s+([0-9A-F]{2}(?::[0-9A-F]{2}){31})$", printed, re.M)[1]  # type: ignore[index]
        assert f"and at https://vigie.localhost:{port}/" in printed
        context = ssl.create_default_context(cafile=str(case / "console-tls" / "cert.pem"))
        with socket.create_connection(("127.0.0.1", port), timeout=20) as raw, \
                context.wrap_socket(raw, server_hostname="localhost") as tls:
            served = tls.getpeercert(binary_form=True)
        assert hashlib.sha256(served).hexdigest() == shown.replace(":", "").lower()
        https = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=20)
        https.request("GET", "/login", headers={"Host": f"localhost:{port}"})
        form = https.getresponse()
        page = form.read().decode()
        login_cookie = form.getheader("Set-Cookie")
        assert form.status == 200 and login_cookie.startswith("__Secure-vigie_login=") and "Secure" in login_cookie
        token = re.search(r'name="login_token" value="([^"]+)"', page)[1]  # type: ignore[index]
        body = f"username=rita&password={PASSWORD.replace(' ', '+')}&login_token={token}"
        https.request("POST", "/login", body=body, headers={
            "Host": f"localhost:{port}", "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": login_cookie.split(";")[0]})
        logged_in = https.getresponse()
        logged_in.read()
        session_cookie = next(c for c in logged_in.headers.get_all("Set-Cookie") if "vigie_session" in c)
        assert logged_in.status == 302 and session_cookie.startswith("__Host-vigie_session=")
        assert all(part in session_cookie for part in ("Secure", "HttpOnly", "Path=/", "SameSite=Strict"))
        assert "Domain" not in session_cookie
        https.request("GET", "/login", headers={"Host": f"rebind.example:{port}"})
        assert https.getresponse().status == 421
        https.close()
        with socket.create_connection(("127.0.0.1", port), timeout=20) as plain:  # http:// typed by mistake
            plain.sendall(f"GET / HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n".encode())
            answer = b"".join(iter(lambda: plain.recv(4096), b""))
            assert answer.startswith(b"HTTP/1.1 400") and b"speaks HTTPS only" in answer
    finally:
        server.terminate()
        server.wait(20)


# --- bounded memory per request ---------------------------------------------------------------------------


def _blank_png(width: int, height: int) -> bytes:
    """A black RGB PNG, compressed row by row so the test never holds its pixels: 100 MP make about 300 KB."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    row = bytes(1 + 3 * width)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


MEASURE = """
import json, resource, sys
from vigie.signals.image import ImageError
from vigie.signals.thumbnails import blurred_thumbnail, revealed_copy
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
outcomes = []
for make in (lambda: blurred_thumbnail(data, greyscale=False), lambda: revealed_copy(data, 200_000_000)):
    try:
        outcomes.append(len(make()))
    except ImageError as exc:
        outcomes.append(str(exc))
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"grown_mib": grown / 1024, "outcomes": outcomes}))
"""


@pytest.fixture(scope="module")
def png_100mp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "wide.png"
    path.write_bytes(_blank_png(10_000, 10_000))
    return path


def test_a_small_png_of_100_megapixels_is_refused_before_decoding(png_100mp: Path) -> None:
    assert png_100mp.stat().st_size < 1024 * 1024
    env = os.environ | {"PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    done = subprocess.run([sys.executable, "-c", MEASURE, str(png_100mp)], capture_output=True, text=True,
                          env=env, timeout=300, check=True)
    measured = json.loads(done.stdout)
    assert all("too large to show" in str(o) for o in measured["outcomes"]), measured
    assert measured["grown_mib"] < 100, measured  # decoding it whole would take 300 MiB and more


def test_large_jpegs_decode_reduced_under_the_cap() -> None:
    photo = draw_picture(3, (2000, 1500))
    as_jpeg, as_png = jpeg_bytes(photo), io.BytesIO()
    photo.save(as_png, "PNG")
    small_cap = 200_000  # the JPEG decodes at 1/8 scale (250x188); a PNG has no reduced decoding
    assert Image.open(io.BytesIO(blurred_thumbnail(as_jpeg, decode_pixels=small_cap))).size == (160, 120)
    assert Image.open(io.BytesIO(revealed_copy(as_jpeg, 10**9, size=200, decode_pixels=small_cap))).width == 200
    with pytest.raises(ImageError, match="too large to show"):
        blurred_thumbnail(as_png.getvalue(), decode_pixels=small_cap)


def test_the_thumbnail_route_refuses_the_100_megapixel_png(app: Any, png_100mp: Path) -> None:
    store = open_case(app.config["VIGIE_CASE"])
    source = store.add_source(str(png_100mp.parent), str(png_100mp.parent), "directory")
    scan = store.db.execute("SELECT max(id) FROM scans").fetchone()[0]
    digest = hashlib.sha256(png_100mp.read_bytes()).hexdigest()  # as a scan records it
    item = store.db.execute("INSERT INTO items(source_id, relpath, scan_id, size, media_type, sha256) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            (source, png_100mp.name, scan, png_100mp.stat().st_size, "image/png", digest)).lastrowid
    store.close()
    client, csrf = login(app, "rita")
    refused = client.get(f"/media/{item}/thumb")
    assert refused.status_code == 404 and "too large to show" in refused.get_json()["error"]
    assert client.post(f"/api/items/{item}/reveal", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert "too large to show" in client.get(f"/media/{item}/full").get_json()["error"]


def test_video_is_served_in_ranges(app: Any) -> None:
    client, csrf = login(app, "rita")
    video = queue(client, media="video")["entries"][0]
    original = Path(video["path"]).read_bytes()
    client.post(f"/api/items/{video['id']}/reveal", headers={"X-CSRF-Token": csrf})
    url = f"/media/{video['id']}/full"
    whole = client.get(url)
    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes" and whole.data == original
    assert int(whole.headers["Content-Length"]) == len(original)
    part = client.get(url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.data == original[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(original)}"
    assert part.mimetype == "video/mp4" and part.headers["Cache-Control"] == "no-store"
    tail = client.get(url, headers={"Range": "bytes=-64"})
    assert tail.status_code == 206 and tail.data == original[-64:]
    beyond = client.get(url, headers={"Range": f"bytes={len(original) + 10}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(original)}"


# --- in a real browser, over TLS --------------------------------------------------------------------------


@pytest.mark.slow
def test_browser_over_tls_gets_host_cookies_and_pages_the_audit_log(app: Any, tmp_path: Path) -> None:
    """Served over TLS under a name of its own (vigie.localhost, which browsers resolve to this machine), the
    session cookie is Secure and __Host-, and a plain-HTTP program on another loopback port never gets it.
    Under 127.0.0.1 it would: browsers scope cookies by host, not port, and trust loopback as secure."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from test_console_e2e import BROWSER_FLAGS, CHROMIUM, log_in

    case = app.config["VIGIE_CASE"]
    store = open_case(case)
    for number in range(130):
        store.append_audit("test", "filler", {"n": number})
    store.close()
    files, _ = case_certificate(case, AllowedHosts.for_address("127.0.0.1", 0, ["vigie.localhost"]).names())
    tls_app = create_app(case, Settings(workers=1), secure_cookies=True)
    console = start_console(tls_app, "127.0.0.1", 0, 4, extra_hosts=["vigie.localhost"], tls=files)
    thread = threading.Thread(target=console.run, daemon=True)
    thread.start()
    cookies_seen: list[str | None] = []

    class OtherLocalProgram(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            cookies_seen.append(self.headers.get("Cookie"))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"another program")

        def log_message(self, *args: Any) -> None:
            pass

    other = http.server.HTTPServer(("127.0.0.1", 0), OtherLocalProgram)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
            context = browser.new_context(ignore_https_errors=True)
            page = context.new_page()
            page.set_default_timeout(20_000)
            log_in(page, f"https://vigie.localhost:{console.port}/", password=PASSWORD)
            page.wait_for_selector(".card img.thumb")
            session = next(c for c in context.cookies() if c["name"].endswith("vigie_session"))
            assert session["name"] == "__Host-vigie_session" and session["secure"] and session["httpOnly"]
            assert session["domain"] == "vigie.localhost"
            page.click("#open-audit")
            page.wait_for_selector("#audit-table tr:nth-child(101)")
            assert page.locator("#audit-table tr").count() == 101  # the header and the newest 100
            page.click("#audit-more")
            page.wait_for_selector("#audit-table tr:nth-child(102)")
            seqs = [int(s) for s in page.locator("#audit-table tr td:first-child").all_inner_texts()]
            assert seqs == sorted(seqs, reverse=True) and seqs[-1] == 1 and len(seqs) == len(set(seqs))
            assert page.locator("#audit-more").is_hidden()
            for name in ("127.0.0.1", "localhost"):
                page.goto(f"http://{name}:{other.server_port}/")
            assert cookies_seen and not any(cookies_seen)
            browser.close()
    finally:
        other.shutdown()
        other.server_close()
        console.close()
        thread.join(10)


def test_tokens_that_are_not_ascii_are_refused_never_a_server_error(app: Any) -> None:
    client, _ = login(app, "rita")
    assert client.post("/api/settings", json={"blur": 0.5}, headers={"X-CSRF-Token": "\xe9"}).status_code == 403
    assert client.post("/logout", data={"csrf_token": "é"}).status_code == 403
    stranger = app.test_client()
    stranger.get("/login")
    assert stranger.post("/login", data={"username": "rita", "password": PASSWORD,
                                         "login_token": "é"}).status_code == 400
