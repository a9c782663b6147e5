"""A disk image's own digests of its media are compared with what was read by one helper, for the scan's
record and for `vigie verify` alike."""

from __future__ import annotations

import pytest

from vigie.records import ItemRecord
from vigie.scan import verify
from vigie.signals.analysis import _check_stored_digests
from vigie.signals.crypto import check_stored

MD5, SHA1, SHA256 = "1" * 32, "2" * 40, "3" * 64
STORED = (("md5", "0" * 32), ("sha1", SHA1))


def test_each_stored_digest_matches_differs_or_was_not_checked() -> None:
    read = {"md5": MD5, "sha1": SHA1}
    assert [c.outcome for c in check_stored(STORED, read)] == ["mismatch", "match"]
    assert [c.outcome for c in check_stored(STORED, {})] == ["not checked (media unreadable)"] * 2


def test_the_scan_and_verify_say_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    record = ItemRecord(relpath="", digests={"md5": MD5, "sha1": SHA1})
    _check_stored_digests(record, STORED)
    assert {k: v["check"] for k, v in record.stored_hashes.items()} == {"md5": "mismatch", "sha1": "match"}
    assert record.errors == [("image-hash", f"the image's stored MD5 {'0' * 32} differs from the media read ({MD5}): "
                                            "the image is altered or damaged")]
    monkeypatch.setattr(verify, "stored_digests", lambda root: STORED)
    assert verify._stored_check("image.E01", {"md5": MD5, "sha1": SHA1, "sha256": SHA256}) == (
        f"the image's stored MD5 {'0' * 32} DIFFERS from the media read ({MD5}); "
        f"the image's stored SHA1 {SHA1} matches")
