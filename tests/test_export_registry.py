"""The export registry is the one list of formats: a format added to `EXPORTS` is exported by `run_export`,
offered by `vigie export --format` and by `/api/me` (which the console builds its Export dialog from), and
documented in README.md. The console's words (schemes, roles, AI verdicts, formats) come from the API."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.test_console_api import app, login  # noqa: F401  (fixture)
from tests.test_exports import decide_queue
from vigie.cli import main
from vigie.exports.format import ExportOptions, ItemExport
from vigie.exports.registry import EXPORTS
from vigie.exports.run import run_export
from vigie.exports.selection import ExportItem, select_items
from vigie.store.sqlite import SqliteCaseStore, open_case
from vigie.vocabulary import AI_VERDICTS, NEW_ACCOUNT_ROLE, ROLES, SCHEME_LABELS, UNDETERMINED

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "src" / "vigie" / "web"


def render_sha256_list(store: SqliteCaseStore, items: list[ExportItem], options: ExportOptions) -> bytes:
    return "".join(f"{e.item['sha256']}\n" for e in items).encode()


SHA256_LIST = ItemExport("sha256-list", "SHA-256 list (text)", "text/plain", "-sha256.txt", render_sha256_list)


@pytest.fixture
def extra_export(monkeypatch: pytest.MonkeyPatch) -> ItemExport:
    """A format registered the way a new one is: one entry in EXPORTS (taken out again after the test)."""
    monkeypatch.setitem(EXPORTS, SHA256_LIST.name, SHA256_LIST)
    return SHA256_LIST


@pytest.fixture
def decided_case(demo_case: Path) -> Path:
    decide_queue(demo_case)
    return demo_case


def expected_sha256_list(case: Path) -> bytes:
    store = open_case(case)
    try:
        return "".join(f"{e.item['sha256']}\n" for e in select_items(store)).encode()
    finally:
        store.close()


def test_a_registered_export_runs_through_run_export(decided_case: Path, extra_export: ItemExport) -> None:
    store = open_case(decided_case)
    try:
        result = run_export(store, "tester", extra_export.name, destination="test")
    finally:
        store.close()
    assert result.content == expected_sha256_list(decided_case) and result.items == 21
    assert result.media_type == "text/plain" and result.file_name == "case-sha256.txt"
    assert result.audit.action == "export" and result.audit.details == {
        "format": "sha256-list", "files": 21, "sha256": hashlib.sha256(result.content).hexdigest(),
        "destination": "test", "selection": None, "categories": []}


def test_the_cli_offers_every_registered_export(decided_case: Path, extra_export: ItemExport,
                                                tmp_path: Path) -> None:
    help_text = CliRunner().invoke(main, ["export", "--help"]).output
    offered = re.search(r"--format \[([^\]]+)\]", help_text)
    assert offered is not None and offered[1].split("|") == list(EXPORTS)
    assert "sha256-list" in offered[1].split("|")
    target = tmp_path / "list.txt"
    result = CliRunner().invoke(main, ["export", "--case", str(decided_case), "--format", "sha256-list",
                                       "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == expected_sha256_list(decided_case)


def test_a_format_no_longer_registered_is_refused(decided_case: Path, tmp_path: Path) -> None:
    assert "sha256-list" not in EXPORTS  # the fixture took it out again
    result = CliRunner().invoke(main, ["export", "--case", str(decided_case), "--format", "sha256-list",
                                       "-o", str(tmp_path / "x")])
    assert result.exit_code == 2 and "sha256-list" in result.output


def test_api_me_serves_the_formats_and_the_vocabulary(app: Any, extra_export: ItemExport) -> None:  # noqa: F811
    client, csrf = login(app, "rita")
    me = client.get("/api/me").get_json()
    assert me["export_formats"] == [{"name": e.name, "label": e.label} for e in EXPORTS.values()]
    assert {"name": "sha256-list", "label": "SHA-256 list (text)"} in me["export_formats"]
    assert me["schemes"] == [{"code": code, "label": label} for code, label in SCHEME_LABELS.items()]
    assert me["roles"] == list(ROLES) and me["new_account_role"] == NEW_ACCOUNT_ROLE
    assert me["ai_verdicts"] == list(AI_VERDICTS) and me["undetermined"] == UNDETERMINED
    assert me["can_administer"] is False
    # and the console's download route exports it
    for entry in client.get("/api/queue").get_json()["entries"][:2]:
        client.post("/api/decisions", json={"item": entry["id"], "category": "1"}, headers={"X-CSRF-Token": csrf})
    download = client.post("/export", data={"format": "sha256-list", "csrf_token": csrf})
    assert download.status_code == 200 and download.mimetype == "text/plain"
    assert 'filename="case-sha256.txt"' in download.headers["Content-Disposition"]
    assert len(download.data.split()) >= 2


def test_the_console_names_no_format_scheme_role_or_verdict_itself() -> None:
    """Its pages read them from /api/me; a copy in HTML or JS would drift from the registry and vocabulary."""
    words = [*EXPORTS, *SCHEME_LABELS, *ROLES, *AI_VERDICTS]
    for page in (WEB / "templates" / "console.html", WEB / "static" / "console.js"):
        text = page.read_text(encoding="utf-8")
        copies = [w for w in words if any(f"{q}{w}{e}" in text for q, e in (('"', '"'), ("'", "'"), (">", "<")))]
        assert copies == [], f"{page.name} writes out {copies}"


def test_readme_documents_every_export_format() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    usage = re.search(r"\| `vigie export --case C --format ([^ ]+) ", readme)
    assert usage is not None and usage[1].split("\\|") == list(EXPORTS)
    exports_section = readme.split("\n## Exports\n", 1)[1].split("\n## ", 1)[0]
    assert [name for name in EXPORTS if f"`{name}`" not in exports_section] == []
