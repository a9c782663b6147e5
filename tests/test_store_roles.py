"""The SQLite store (and its review tables and accounts) satisfies every role its consumers type it by, and the
tests' in-memory fake the match and stack roles, checked by mypy itself: a role method a store lacks, or has
with another signature, fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

SRC = Path(__file__).resolve().parents[1] / "src"

CONFORMANCE = """
from typing import cast

from fakes import FakeStore
from vigie.exports.roles import ReportStore
from vigie.matching.faces.roles import FaceStore
from vigie.matching.roles import ListStore, MatchStore, StackStore
from vigie.review.roles import ReviewStore, SchemeStore
from vigie.scan.roles import ScanStore
from vigie.store.accounts import Accounts
from vigie.store.review import ReviewTables
from vigie.store.sqlite import SqliteCaseStore
from vigie.web.roles import AccountStore, MediaStore

store = cast(SqliteCaseStore, None)
scan: ScanStore = store
match: MatchStore = store
lists: ListStore = store
stacks: StackStore = store
faces: FaceStore = store
scheme: SchemeStore = store
reports: ReportStore = store
media: MediaStore = store
review: ReviewStore = cast(ReviewTables, None)
accounts: AccountStore = cast(Accounts, None)
fake = cast(FakeStore, None)
fake_match: MatchStore = fake
fake_stacks: StackStore = fake
"""

# A store with every stacking method but one: the check must catch it.
MISSING = """
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from vigie.matching.roles import StackStore
from vigie.records import PdqRows


class AlmostStacks:
    case_dir = Path()

    def transaction(self) -> AbstractContextManager[None]: ...
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
    def unstacked_item_ids(self) -> list[int]: ...
    def forget_unstacked(self, item_ids: Sequence[int]) -> None: ...
    def item_pdq(self, item_ids: Sequence[int], min_quality: int) -> PdqRows: ...
    def item_pdq_variant_batches(self, item_ids: Sequence[int] | None, min_quality: int
                                 ) -> Iterator[list[tuple[int, bytes]]]: ...
    def exact_duplicate_links(self, item_ids: Sequence[int]) -> list[tuple[int, int]]: ...
    def stack_members_of(self, item_ids: Sequence[int]) -> dict[int, list[int]]: ...
    def stack_facts(self, item_ids: Sequence[int]) -> dict[int, tuple[int, int, str | None]]: ...
    def save_stacks(self, stacks: Sequence[tuple[int, list[int], bool]]) -> None: ...
    def stack_count(self) -> int: ...


stacks: StackStore = AlmostStacks()
"""


def _mypy(source: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    module = folder / "roles_check.py"
    module.write_text(source)
    # the package under test, whether or not it is installed, and the fake beside this file
    monkeypatch.setenv("MYPYPATH", f"{SRC}:{Path(__file__).parent}")
    out, err, status = api.run(["--strict", "--no-error-summary", "--disable-error-code", "empty-body",
                                "--cache-dir", str(SRC.parent / ".mypy_cache"), str(module)])
    return out + err, status


def test_the_sqlite_store_satisfies_every_role(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, status = _mypy(CONFORMANCE, tmp_path, monkeypatch)
    assert status == 0, out


def test_a_store_missing_a_role_method_fails_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, status = _mypy(MISSING, tmp_path, monkeypatch)
    assert status == 1, out
    assert 'missing following "StackStore" protocol member' in out and out.rstrip().endswith("clear_stacks"), out
