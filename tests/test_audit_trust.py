"""An audit log that can be trusted: exact stored text hashed (old entries still verify, no downgrade), anchors
that show a cut tail, a wiped or a rewritten log, and the decisions, notes, items and matches that exports
are built from checked against the log."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import jpeg_bytes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from vigie.cli import main
from vigie.demo.seizure import draw_picture
from vigie.store.review import Decision, ReviewTables
from vigie.store.sqlite import AUDIT_RULE_ACTION, GENESIS_HASH, audit_hash, now_iso, open_case


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _case(tmp_path: Path, decide: bool = True) -> Path:
    """Four drawn pictures, one on a hash list; three decided, one note."""
    evidence = tmp_path / "ev"
    evidence.mkdir()
    md5s = []
    for seed in range(4):
        data = jpeg_bytes(draw_picture(seed, (160, 120)))
        (evidence / f"{seed}.jpg").write_bytes(data)
        md5s.append(hashlib.md5(data).hexdigest())
    (tmp_path / "list.txt").write_text(md5s[0] + "\n")
    case = tmp_path / "case"
    result = _invoke("scan", str(evidence), "--case", str(case), "--hashlist", str(tmp_path / "list.txt"),
                     "--workers", "1")
    assert result.exit_code == 0, result.output
    if decide:
        store = open_case(case)
        review = ReviewTables(store)
        ids = store.item_ids()
        review.decide("rita", ids[:2], Decision("projectvic-us", "1", ["ai-generated"]), "stack")
        review.decide("rita", ids[2:3], Decision("projectvic-us", "3"), "item")
        review.decide("sam", ids[1:2], Decision("projectvic-us", "0"), "item")  # overrides rita's
        review.add_note("rita", ids[0], "seen on a group chat")
        store.close()
    return case


def _db(case: Path) -> sqlite3.Connection:
    """The case as an editor with any SQLite tool sees it, triggers dropped."""
    db = sqlite3.connect(case / "case.sqlite", isolation_level=None)
    db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    db.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    return db


def _verify(case: Path, *extra: str) -> Result:
    return _invoke("audit", "verify", "--case", str(case), *extra)


def _intact(case: Path, *extra: str) -> Result:
    result = _verify(case, *extra)
    assert result.exit_code == 0 and "Audit log intact" in result.output, result.output
    return result


# --- the stored text is what is hashed ---------------------------------------------------------------------


def test_an_edit_of_the_stored_text_that_parses_the_same_is_detected(tmp_path: Path) -> None:
    case = _case(tmp_path)
    db = _db(case)
    seq, text = db.execute("SELECT seq, details FROM audit_log WHERE action = 'categorise' LIMIT 1").fetchone()
    details = json.loads(text)
    # The same object to a Python reader; a second "category" key that a SQL reader (json_extract) sees first.
    sneaky = '{"category": "0", ' + json.dumps(details, sort_keys=True)[1:]
    assert json.loads(sneaky) == details
    db.execute("UPDATE audit_log SET details = ? WHERE seq = ?", (sneaky, seq))
    result = _verify(case)
    assert result.exit_code == 3 and f"entry {seq}: content does not match its hash" in result.output
    db.execute("UPDATE audit_log SET details = ? WHERE seq = ?", (json.dumps(details, indent=1), seq))
    assert f"entry {seq}: content does not match its hash" in _verify(case).output
    db.execute("UPDATE audit_log SET details = ? WHERE seq = ?", (text, seq))
    _intact(case)


def _legacy_case(tmp_path: Path) -> Path:
    """A log written by the first rule only, as cases made before the switch hold."""
    store = open_case(tmp_path / "old", create=True)
    prev = GENESIS_HASH
    for seq, details in enumerate([{"paths": ["/ev"], "status": "complete"}, {"format": "html"}], start=1):
        at = now_iso()
        digest = audit_hash(prev, seq, at, "vigie", "scan" if seq == 1 else "report", details)
        store.db.execute("INSERT INTO audit_log VALUES (?, ?, 'vigie', ?, ?, ?, ?)",
                         (seq, at, "scan" if seq == 1 else "report", json.dumps(details, sort_keys=True), prev,
                          digest))
        prev = digest
    store.set_meta("audit_head", f"2:{prev}")
    store.close()
    return tmp_path / "old"


def test_old_entries_still_verify_and_the_rule_switch_is_a_chained_entry(tmp_path: Path) -> None:
    case = _legacy_case(tmp_path)
    _intact(case)
    store = open_case(case)
    entry = store.append_audit("rita", "verify", {"files": 4})
    actions = [e.action for e in store.audit_entries()]
    store.close()
    assert entry.seq == 4 and actions == ["scan", "report", AUDIT_RULE_ACTION, "verify"]
    assert "4 entries" in _intact(case).output
    db = _db(case)
    # Downgrade: hide the switch so that later entries would be read by the old, lenient rule.
    db.execute("UPDATE audit_log SET action = 'report' WHERE seq = 3")
    result = _verify(case)
    assert result.exit_code == 3 and "entry 3: content does not match its hash" in result.output
    db.execute("UPDATE audit_log SET action = ? WHERE seq = 3", (AUDIT_RULE_ACTION,))
    db.execute("UPDATE audit_log SET details = '{\"files\":4}' WHERE seq = 4")  # same object, other text
    assert "entry 4: content does not match its hash" in _verify(case).output


def test_details_naming_a_file_whose_name_is_not_utf8_are_recorded_and_verify(tmp_path: Path) -> None:
    case = _case(tmp_path, decide=False)
    store = open_case(case)
    name = b"/ev/latin1-\xe9.jpg".decode("utf-8", "surrogateescape")
    entry = store.append_audit("rita", "verify", {"changed": [name]})
    assert [e.details for e in store.audit_entries() if e.seq == entry.seq] == [{"changed": [name]}]
    store.close()
    _intact(case)


def test_a_new_case_starts_under_the_exact_rule(tmp_path: Path) -> None:
    case = _case(tmp_path, decide=False)
    store = open_case(case)
    first = next(store.audit_entries())
    store.close()
    assert first.seq == 1 and first.action == AUDIT_RULE_ACTION and first.details == {"from_seq": 1, "rule": 2}


# --- anchors ---------------------------------------------------------------------------------------------


def _anchor(case: Path, path: Path, *extra: str) -> dict[str, object]:
    result = _invoke("audit", "anchor", "--case", str(case), "-o", str(path), *extra)
    assert result.exit_code == 0, result.output
    anchor: dict[str, object] = json.loads(path.read_text())
    return anchor


def _cut_tail(db: sqlite3.Connection, keep: int) -> None:
    db.execute("DELETE FROM audit_log WHERE seq > ?", (keep,))
    head = db.execute("SELECT hash FROM audit_log WHERE seq = ?", (keep,)).fetchone()[0]
    db.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (f"{keep}:{head}",))


def test_an_anchor_shows_a_cut_tail_that_the_chain_alone_cannot(tmp_path: Path) -> None:
    case = _case(tmp_path)
    anchor = _anchor(case, tmp_path / "anchor.json")
    store = open_case(case)
    entries = list(store.audit_entries())
    store.close()
    assert anchor["seq"] == entries[-1].seq and anchor["hash"] == entries[-1].hash
    assert entries[-1].action == "audit-anchor" and anchor["anchored_at"]
    _intact(case, "--anchor", str(tmp_path / "anchor.json"))
    assert _invoke("report", "--case", str(case), "--format", "json", "-o", str(tmp_path / "r.json")).exit_code == 0
    _intact(case, "--anchor", str(tmp_path / "anchor.json"))  # later entries are fine
    _cut_tail(_db(case), int(str(anchor["seq"])) - 1)  # the anchoring and the report are gone
    _intact(case)  # the case's own record of its head was rewritten too
    result = _verify(case, "--anchor", str(tmp_path / "anchor.json"))
    assert result.exit_code == 3
    assert f"the log ends at entry {anchor['seq'] - 1}" in result.output  # type: ignore[operator]
    assert "its tail was cut" in result.output


def test_the_case_report_prints_the_head_which_verify_then_checks(tmp_path: Path) -> None:
    case = _case(tmp_path)
    result = _invoke("export", "--case", str(case), "--format", "case-report", "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    store = open_case(case)
    entries = list(store.audit_entries())
    store.close()
    head = f"{entries[-2].seq}:{entries[-2].hash}"  # the export's own entry comes after the printing
    assert f"head <span class=\"mono\">{head}</span>" in page and "hash chain intact" in page
    assert "1 anchored head(s) found in the chain" in _intact(case, "--head", head).output
    _cut_tail(_db(case), entries[-2].seq - 1)
    result = _verify(case, "--head", head)
    assert result.exit_code == 3 and f"head {head}: the log ends at entry {entries[-2].seq - 1}" in result.output
    assert _verify(case, "--head", "12:xyz").exit_code == 2


def test_an_anchor_shows_a_wiped_and_a_rewritten_log(tmp_path: Path) -> None:
    case = _case(tmp_path)
    _anchor(case, tmp_path / "anchor.json")
    db = _db(case)
    rows = db.execute("SELECT seq, at, actor, action, details FROM audit_log ORDER BY seq").fetchall()
    # Rewritten: the whole chain recomputed with the first decision's actor changed.
    db.execute("DELETE FROM audit_log")
    store = open_case(case)
    for _seq, at, actor, action, details in rows:
        store.db.execute("BEGIN IMMEDIATE")
        entry = store._insert_audit(_seq, store.db.execute(
            "SELECT coalesce((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), ?)", (GENESIS_HASH,)
        ).fetchone()[0], "mallory" if action == "categorise" and actor == "rita" else actor, action,
            json.loads(details))
        store.db.execute("UPDATE audit_log SET at = ? WHERE seq = ?", (at, _seq))
        store.db.execute("COMMIT")
        assert entry.seq == _seq
    store.close()
    result = _verify(case, "--anchor", str(tmp_path / "anchor.json"))
    assert result.exit_code == 3 and "the log was rewritten at or before entry" in result.output
    # Wiped: every entry and the case's record of its head.
    db.execute("DELETE FROM audit_log")
    db.execute("DELETE FROM meta WHERE key = 'audit_head'")
    result = _verify(case, "--anchor", str(tmp_path / "anchor.json"))
    assert result.exit_code == 3 and "the log is empty, but on" in result.output and "was wiped" in result.output
    plain = _verify(case)  # even without an anchor: the case holds scans and decisions
    assert plain.exit_code == 3 and "the log is empty, but the case holds 1 scan(s)" in plain.output


def _keys(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private, public = tmp_path / f"{name}.pem", tmp_path / f"{name}.pub.pem"
    private.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return private, public


def test_signed_anchors_are_checked_with_the_examiners_public_key(tmp_path: Path) -> None:
    case = _case(tmp_path, decide=False)
    private, public = _keys(tmp_path, "examiner")
    _, other_public = _keys(tmp_path, "other")
    anchor = _anchor(case, tmp_path / "signed.json", "--key", str(private))
    assert anchor["signature"] and anchor["public_key"]
    _intact(case, "--anchor", str(tmp_path / "signed.json"), "--public-key", str(public))
    wrong = _verify(case, "--anchor", str(tmp_path / "signed.json"), "--public-key", str(other_public))
    assert wrong.exit_code == 3 and "signed by another key" in wrong.output
    forged = dict(anchor, anchored_at="2020-01-01T00:00:00+00:00")
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    result = _verify(case, "--anchor", str(tmp_path / "forged.json"), "--public-key", str(public))
    assert result.exit_code == 3 and "signature does not verify" in result.output
    _anchor(case, tmp_path / "plain.json")
    unsigned = _verify(case, "--anchor", str(tmp_path / "plain.json"), "--public-key", str(public))
    assert unsigned.exit_code == 3 and "the anchor is not signed" in unsigned.output
    not_ed25519 = tmp_path / "junk.pem"
    not_ed25519.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    refused = _invoke("audit", "anchor", "--case", str(case), "--key", str(not_ed25519))
    assert refused.exit_code == 2 and "not an unencrypted PEM private key" in refused.output


def test_an_anchor_that_cannot_be_written_is_printed_instead(tmp_path: Path) -> None:
    case = _case(tmp_path, decide=False)
    missing = _invoke("audit", "anchor", "--case", str(case), "-o", str(tmp_path / "no" / "such" / "a.json"))
    assert missing.exit_code == 2 and "there is no folder" in missing.output  # refused before the log is anchored
    result = _invoke("audit", "anchor", "--case", str(case), "-o", "/dev/full")  # a write that fails: disk full
    assert result.exit_code == 1 and "the anchor is printed above: keep it" in " ".join(result.output.split())
    assert '"format": "vigie-audit-anchor/1"' in result.output


def test_an_anchor_of_another_case_or_a_broken_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    case = _case(tmp_path / "a", decide=False)
    other = _legacy_case(tmp_path)
    _anchor(other, tmp_path / "other.json")
    result = _verify(case, "--anchor", str(tmp_path / "other.json"))
    assert result.exit_code == 3 and "the anchor is for another case" in result.output
    (tmp_path / "bad.json").write_text('{"format": "vigie-audit-anchor/1", "seq": "1", "hash": "x"}')
    bad = _verify(case, "--anchor", str(tmp_path / "bad.json"))
    assert bad.exit_code == 2 and "seq must be a positive whole number" in bad.output


# --- the state behind the log ----------------------------------------------------------------------------


def test_the_tables_match_the_log_after_a_scan_and_decisions(tmp_path: Path) -> None:
    case = _case(tmp_path)
    result = _intact(case)
    assert "Tables match the log: 3 decided item(s), 1 note(s); items and matches as recorded by entry" in result.output


def test_hand_edited_decisions_and_notes_are_reported_field_by_field(tmp_path: Path) -> None:
    case = _case(tmp_path)
    store = open_case(case)
    ids = store.item_ids()
    seqs = {r[0]: r[1] for r in store.db.execute("SELECT item_id, audit_seq FROM reviews")}
    store.close()
    db = _db(case)
    db.execute("UPDATE reviews SET category = '3', decided_by = 'mallory' WHERE item_id = ?", (ids[0],))
    db.execute("DELETE FROM reviews WHERE item_id = ?", (ids[2],))
    db.execute("INSERT INTO reviews(item_id, category_scheme, category, decided_by, decided_at, audit_seq) "
               "VALUES (?, 'projectvic-us', '1', 'rita', ?, 1)", (ids[3], now_iso()))
    db.execute("UPDATE notes SET text = 'nothing of interest'")
    result = _verify(case)
    assert result.exit_code == 3, result.output
    out = " ".join(result.output.split())
    assert (f"item {ids[0]}: decision category is '3' in the reviews table, '1' in the log (entry "
            f"{seqs[ids[0]]})") in out
    assert f"item {ids[0]}: decision decided_by is 'mallory' in the reviews table, 'rita' in the log" in out
    assert f"item {ids[2]}: the decision of entry {seqs[ids[2]]} is missing from the reviews table" in out
    assert f"item {ids[3]}: the reviews table holds a decision ('1', entry 1) that no audit entry records" in out
    assert "text is 'nothing of interest' in the notes table, 'seen on a group chat' in the log" in out
    # The override by a later decision is what the table holds, so item 2 is not reported.
    assert f"item {ids[1]}:" not in out


def test_hand_edited_items_and_matches_are_reported(tmp_path: Path) -> None:
    case = _case(tmp_path)
    store = open_case(case)
    ids = store.item_ids()
    assert store.db.execute("SELECT count(*) FROM matches").fetchone()[0] == 1
    store.close()
    db = _db(case)
    db.execute("UPDATE items SET sha256 = ? WHERE id = ?", ("f" * 64, ids[0]))
    db.execute("DELETE FROM matches")
    result = _verify(case)
    out = " ".join(result.output.split())
    assert result.exit_code == 3
    assert f"item {ids[0]}: SHA-256 is {'f' * 64} in the items table" in out
    assert "the items table differs from the state recorded by entry" in out
    assert "the matches table differs from the state recorded by entry" in out and "(1 rows then, 0 now)" in out


def test_every_list_import_records_the_state(tmp_path: Path) -> None:
    case = _case(tmp_path, decide=False)
    (tmp_path / "more.txt").write_text("0" * 31 + "1\n")
    assert _invoke("hashlist", "import", str(tmp_path / "more.txt"), "--case", str(case)).exit_code == 0
    store = open_case(case)
    actions = [e.action for e in store.audit_entries()]
    store.close()
    assert actions[-2:] == ["hashlist-import", "case-state"]
    assert actions.count("case-state") == 3  # the scan's list, the scan, this list


@pytest.mark.parametrize("shape", ['{"items": 5}', '{"items": [[1]]}'])
def test_odd_details_are_reported_not_a_traceback(tmp_path: Path, shape: str) -> None:
    case = _case(tmp_path, decide=False)
    _db(case).execute("UPDATE audit_log SET details = ? WHERE action = 'scan'", (shape,))
    _db(case).execute("UPDATE audit_log SET action = 'categorise' WHERE action = 'scan'")
    result = _verify(case)
    assert result.exit_code == 3 and "do not have the shape a 'categorise' entry has" in result.output
    _db(case).execute("UPDATE audit_log SET details = '[1, 2' WHERE action = 'categorise'")
    assert "its details are not a JSON object" in _verify(case).output
    shown = _invoke("audit", "show", "--case", str(case))
    assert shown.exit_code == 0 and "unreadable_details" in shown.output


# --- a read-only case folder -------------------------------------------------------------------------------


def _fingerprint(case: Path) -> tuple[list[str], str]:
    return sorted(p.name for p in case.iterdir()), hashlib.sha256((case / "case.sqlite").read_bytes()).hexdigest()


def test_a_read_only_case_is_verified_and_exported_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """Root ignores file modes, so the store is opened read-only through VIGIE_READ_ONLY, as a read-only folder
    opens it; the next test uses a real read-only mount where the system allows one."""
    case = _case(tmp_path)
    before = _fingerprint(case)
    monkeypatch.setenv("VIGIE_READ_ONLY", "1")
    out = tmp_path / "out"
    out.mkdir()
    result = _invoke("verify", "--case", str(case))
    assert result.exit_code == 0 and "3 changed" not in result.output
    assert "read-only, so this verify could not be recorded in the case's audit log" in result.output
    assert "Audit log intact" in _intact(case).output
    for fmt in ("vics", "cybertip", "case-report"):
        result = _invoke("export", "--case", str(case), "--format", fmt, "-o", str(out / fmt))
        assert result.exit_code == 0 and (out / fmt).stat().st_size > 0, result.output
        assert "so this export could not be recorded" in result.output
    result = _invoke("report", "--case", str(case), "-o", str(out / "report.html"))
    assert result.exit_code == 0 and "so this report could not be recorded" in result.output
    assert "0.jpg" in (out / "report.html").read_text()  # the queue, rebuilt in memory
    refused = _invoke("serve", "--case", str(case), "--port", "0")
    assert refused.exit_code == 1 and "the console records every login, reveal" in refused.output
    anchor = _anchor(case, out / "anchor.json")
    assert anchor["seq"] == len(list(open_case(case).audit_entries()))
    assert _fingerprint(case) == before  # nothing written, nothing created beside the database
    for command in (["user", "add", "bob"], ["faces", "group"], ["scan", str(tmp_path / "ev")]):
        refused = _invoke(*command, "--case", str(case))
        assert refused.exit_code == 1 and "the case folder is read-only" in refused.output, command
        assert "Traceback" not in refused.output
    assert _fingerprint(case) == before


def test_a_read_only_store_refuses_unrecordable_entries_unless_asked_to_keep_them(tmp_path: Path) -> None:
    from vigie.store.sqlite import CaseReadOnlyError, SqliteCaseStore

    case = _case(tmp_path, decide=False)
    store = SqliteCaseStore(case, create=False, read_only=True)
    with pytest.raises(CaseReadOnlyError, match="cannot be recorded"):  # e.g. a console reveal is never served
        store.append_audit("rita", "reveal", {"items": [1]})
    store.unrecorded = []
    assert store.append_audit("rita", "report", {}).seq == 0 and [e.action for e in store.unrecorded] == ["report"]
    store.close()


def test_a_read_only_store_reads_the_write_ahead_log_of_a_case_held_open(tmp_path: Path) -> None:
    from vigie.store.sqlite import SqliteCaseStore

    case = _case(tmp_path, decide=False)
    writer = open_case(case)  # holds the case open: the last entry sits in its write-ahead log
    writer.append_audit("rita", "note-to-self", {})
    reader = SqliteCaseStore(case, create=False, read_only=True)
    assert [e.action for e in reader.audit_entries()][-1] == "note-to-self"
    reader.close()
    writer.close()


def _unshare_available() -> bool:
    import shutil
    import subprocess

    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount --bind -o ro / /mnt 2>/dev/null || exit 1; "
                            "umount /mnt"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _unshare_available(), reason="needs a private mount namespace (unshare -m) for a read-only "
                                                    "bind mount")
def test_a_case_on_a_read_only_mount(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    case = _case(tmp_path)
    before = _fingerprint(case)
    out = tmp_path / "out"
    out.mkdir()
    vigie = f"{sys.executable} -m vigie.cli"
    script = (f"mount --bind -o ro {case} {case} && touch {case}/x 2>/dev/null && exit 9; "
              f"{vigie} audit verify --case {case} && {vigie} verify --case {case} && "
              f"{vigie} export --case {case} --format vics -o {out}/v.json && "
              f"{vigie} report --case {case} -o {out}/r.html")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent / "src"))
    env.pop("VIGIE_READ_ONLY", None)
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Audit log intact" in result.stdout and "Traceback" not in result.stderr
    assert result.stderr.count("could not be recorded in the case's audit log") == 3
    assert (out / "v.json").stat().st_size > 0 and (out / "r.html").stat().st_size > 0
    assert _fingerprint(case) == before
    # A case copied while open, its write-ahead log full and without the log's index: a refusal, not a traceback.
    held = tmp_path / "held"
    held.mkdir()
    writer = open_case(case)
    writer.append_audit("rita", "note-to-self", {})
    for name in ("case.sqlite", "case.sqlite-wal"):
        (held / name).write_bytes((case / name).read_bytes())
    writer.close()
    script = f"mount --bind -o ro {held} {held} && {vigie} audit verify --case {held}"
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "holds changes that cannot be read from a read-only folder" in " ".join(result.stderr.split())


def test_a_public_key_without_anchors_is_refused_rather_than_checking_nothing(tmp_path: Path) -> None:
    case = _case(tmp_path, decide=False)
    key = tmp_path / "key.pem"
    key.write_text("not a key")
    result = _verify(case, "--public-key", str(key))
    assert result.exit_code == 2 and "give the anchors with --anchor" in " ".join(result.output.split())
