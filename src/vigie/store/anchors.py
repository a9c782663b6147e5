"""Anchors: the audit log's head (sequence and hash) with a time, kept by the examiner outside the case (mailed,
printed). A log whose tail was cut, or which was wiped or rewritten, no longer holds an anchored head; the
chain alone cannot show that, since whoever cuts it can also rewrite the case's own record of its head.
An anchor may be signed with the examiner's Ed25519 key."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from vigie.errors import VigieError
from vigie.store.audit import verify_audit_log
from vigie.store.sqlite import SqliteCaseStore, now_iso

ANCHOR_FORMAT = "vigie-audit-anchor/1"


class AnchorError(VigieError, ValueError):
    exit_code = 2


def make_anchor(store: SqliteCaseStore, seq: int, digest: str, key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
    anchor: dict[str, Any] = {
        "format": ANCHOR_FORMAT, "case": str(store.case_dir.resolve()), "case_created_at": store.get_meta("created_at"),
        "seq": seq, "hash": digest, "anchored_at": now_iso(),
    }
    if key is not None:
        anchor["public_key"] = _raw_public(key.public_key()).hex()
        anchor["signature"] = base64.b64encode(key.sign(_signed_bytes(anchor))).decode()
    return anchor


def anchor_log(store: SqliteCaseStore, actor: str, output: str, key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
    """An anchor of the log's head. The anchoring is itself logged, and the anchor holds that entry: it vouches
    for all before it. A log that fails its checks is never anchored (exit status 3)."""
    check = verify_audit_log(store)
    if not check.ok:
        raise AnchorError("the audit log fails its checks (run `vigie audit verify`); an anchor would vouch for it",
                          exit_code=3)
    entry = store.append_audit(actor, "audit-anchor", {"output": output, "signed": key is not None})
    seq, digest = (entry.seq, entry.hash) if entry.seq else (check.head_seq, check.head or "")
    if not seq:
        raise AnchorError("the audit log is empty: there is nothing to anchor", exit_code=1)
    return make_anchor(store, seq, digest, key)


def read_anchor(path: Path) -> dict[str, Any]:
    try:
        anchor = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AnchorError(f"{path}: not a readable anchor file ({exc})") from exc
    if not isinstance(anchor, dict) or anchor.get("format") != ANCHOR_FORMAT:
        raise AnchorError(f"{path}: not a Vigie audit anchor (no format {ANCHOR_FORMAT!r})")
    seq, digest = anchor.get("seq"), anchor.get("hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise AnchorError(f"{path}: seq must be a positive whole number")
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise AnchorError(f"{path}: hash must be 64 lower-case hex digits")
    return anchor


def parse_head(text: str) -> dict[str, Any]:
    """A head as printed in a case report, SEQ:HASH, as an unsigned anchor of no particular time."""
    seq, _, digest = text.strip().partition(":")
    if not re.fullmatch(r"[0-9]+", seq) or int(seq) < 1 or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise AnchorError(f"{text!r} is not a head (SEQ:HASH, e.g. 42:3f0c...)")
    return {"seq": int(seq), "hash": digest, "anchored_at": "the printed report"}


def check_anchor(store: SqliteCaseStore, name: str, anchor: dict[str, Any],
                 public_key_pem: bytes | None = None) -> list[str]:
    """Problems with one anchor: another case, a bad signature, or its head no longer in the chain."""
    problems: list[str] = []
    seq, digest, at = anchor["seq"], anchor["hash"], anchor.get("anchored_at", "an unknown time")
    created = store.get_meta("created_at")
    if anchor.get("case_created_at") not in (None, created):
        problems.append(f"{name}: the anchor is for another case (created {anchor['case_created_at']}; this case "
                        f"was created {created})")
    if public_key_pem is not None:
        problems += _signature_problems(name, anchor, public_key_pem)
    last = store.db.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    row = store.db.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    if last is None:
        problems.append(f"{name}: the log is empty, but on {at} it held entry {seq}: the log was wiped")
    elif row is None and last < seq:
        problems.append(f"{name}: the log ends at entry {last}, but on {at} it held entry {seq}: its tail was cut "
                        f"(entry {last + 1} and after)")
    elif row is None:
        problems.append(f"{name}: entry {seq}, anchored on {at}, is missing from the log: entries were deleted")
    elif row[0] != digest:
        problems.append(f"{name}: entry {seq} has hash {row[0]}, but on {at} it had {digest}: the log was rewritten "
                        f"at or before entry {seq}")
    return problems


def _signature_problems(name: str, anchor: dict[str, Any], public_key_pem: bytes) -> list[str]:
    key = _public_key(public_key_pem)
    signature = anchor.get("signature")
    if not isinstance(signature, str):
        return [f"{name}: the anchor is not signed, but a public key was given to check it"]
    if anchor.get("public_key") not in (None, _raw_public(key).hex()):
        return [f"{name}: the anchor was signed by another key ({anchor['public_key']})"]
    try:
        key.verify(base64.b64decode(signature, validate=True), _signed_bytes(anchor))
    except (InvalidSignature, ValueError):
        return [f"{name}: the anchor's signature does not verify with the given key (the anchor was altered)"]
    return []


def _signed_bytes(anchor: dict[str, Any]) -> bytes:
    body = {k: v for k, v in anchor.items() if k != "signature"}  # the public key is signed too
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(pem, password=None)
    except (TypeError, ValueError) as exc:
        raise AnchorError(f"not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AnchorError("the signing key must be an Ed25519 key (openssl genpkey -algorithm ed25519)")
    return key


def _public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(pem)
    except (TypeError, ValueError) as exc:
        raise AnchorError(f"not a PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise AnchorError("the public key must be an Ed25519 key")
    return key


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
