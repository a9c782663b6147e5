"""The console in Chromium builds its Export dialog, scheme, role and AI-verdict choices from /api/me: a
format registered in EXPORTS is listed and downloads (see test_export_registry.py for the API side)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_console_e2e import console, log_in, page  # noqa: F401  (fixtures; skips without Chromium)
from tests.test_export_registry import decided_case, expected_sha256_list, extra_export  # noqa: F401
from vigie.exports.format import ItemExport
from vigie.exports.registry import EXPORTS
from vigie.vocabulary import AI_VERDICTS, NEW_ACCOUNT_ROLE, ROLES, SCHEME_LABELS

pytestmark = pytest.mark.slow  # a real Chromium per test


def options(browser_page: Any, select: str) -> list[list[str]]:
    found: list[list[str]] = browser_page.eval_on_selector_all(
        f"{select} option", "all => all.map(o => [o.value, o.textContent])")
    return found


def test_export_dialog_lists_and_downloads_a_registered_format(
        extra_export: ItemExport, decided_case: Path, page: Any, tmp_path: Path) -> None:  # noqa: F811
    log_in(page, page.console_url + "/login")
    page.wait_for_selector("#queue-empty, .card")
    page.click("#open-export")
    assert options(page, "#export-format") == [[e.name, e.label] for e in EXPORTS.values()]
    page.select_option("#export-format", extra_export.name)
    with page.expect_download() as download:
        page.click("#export-go")
    target = tmp_path / "download.txt"
    download.value.save_as(target)
    assert download.value.suggested_filename == "case-sha256.txt"
    assert target.read_bytes() == expected_sha256_list(decided_case)
    # the other words the console offers come from the API too
    assert options(page, "#s-scheme") == [[code, label] for code, label in SCHEME_LABELS.items()]
    assert options(page, "#u-role") == [[role, role] for role in ROLES]
    assert page.eval_on_selector("#u-role", "s => s.value") == NEW_ACCOUNT_ROLE
    assert [value for value, _ in options(page, "#f-ai")] == ["", *AI_VERDICTS]
