"""Pictures sent by e-mail (an exported .eml, a mailbox) and kept as BLOBs in an app's SQLite database (a
phone's message thumbnails): read as members, matched, and read back; a damaged encoding or database is said."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from email.message import EmailMessage
from pathlib import Path

from conftest import jpeg_bytes, scanned_report

from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.exports.report import render
from vigie.matching.list_import import import_hash_list
from vigie.scan.pipeline import run_scan
from vigie.sources.reopen import read_item_bytes
from vigie.store.sqlite import open_case


def _mail(subject: str, attachments: dict[str, bytes]) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", subject
    message["Date"], message["Message-ID"] = "Mon, 30 Nov 2026 10:00:00 +0000", f"<{subject}@example.org>"
    message.set_content("see attached\n")
    for name, data in attachments.items():
        message.add_attachment(data, maintype="image", subtype="jpeg", filename=name)
    return bytes(message)


def _scanned(evidence: Path, case: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    return {item["path"].split("/evidence/", 1)[1]: item
            for item in scanned_report(evidence, case, Settings(workers=1))}


def test_attachments_of_a_message_and_a_mailbox_and_blobs_of_a_database_are_members(tmp_path: Path) -> None:
    pictures = [jpeg_bytes(draw_picture(seed, (96, 72))) for seed in (96, 97, 98)]
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "sent.eml").write_bytes(_mail("one", {"beach.jpg": pictures[0]}))
    apple = _mail("apple", {"dune.jpg": pictures[2]})  # Apple Mail's .emlx: its length, it, then a plist
    (evidence / "12.emlx").write_bytes(b"%d\n" % len(apple) + apple + b"<?xml version=\"1.0\"?><plist/>\n")
    second = _mail("two", {"beach.jpg": pictures[1], "dune.jpg": pictures[2]})
    mailbox = b"From a@example.org Mon Nov 30 10:00:00 2026\n" + _mail("one", {"beach.jpg": pictures[0]}) \
        + b"\nFrom b@example.org Mon Nov 30 11:00:00 2026\n" + second
    (evidence / "Inbox").write_bytes(mailbox)
    whole = _mail("three", {"cut.jpg": pictures[2]})
    body = whole.index(b"\n\n", whole.index(b"cut.jpg")) + 2
    damaged = whole[:body + 10] + b"!!" + whole[body + 12:]  # two characters base64 does not have
    (evidence / "damaged.eml").write_bytes(damaged)
    broken = whole.replace(b"--===", b"--xxx")  # its boundaries gone
    (evidence / "broken.eml").write_bytes(broken)
    database = sqlite3.connect(evidence / "msgstore.db")
    database.execute("PRAGMA journal_mode = WAL")  # as phone apps keep theirs
    database.execute("CREATE TABLE message_thumbnails (key TEXT, thumbnail BLOB, note BLOB)")
    database.execute("INSERT INTO message_thumbnails VALUES ('x', ?, ?)", (pictures[1], b"\x01" * 100))
    database.execute("CREATE TABLE cache (data TEXT)")  # a picture stored as TEXT: its bytes all the same
    database.execute("INSERT INTO cache VALUES (CAST(? AS TEXT))", (pictures[0],))
    database.commit()
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.close()
    items = _scanned(evidence, tmp_path / "case")
    expected = {"sent.eml!/beach.jpg": pictures[0], "Inbox!/message-1/beach.jpg": pictures[0],
                "Inbox!/message-2/beach.jpg": pictures[1], "Inbox!/message-2/dune.jpg": pictures[2],
                "msgstore.db!/message_thumbnails/1/thumbnail": pictures[1], "12.emlx!/dune.jpg": pictures[2],
                "msgstore.db!/cache/1/data": pictures[0]}
    for path, data in expected.items():
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    assert items["sent.eml"]["media_type"] == "message/rfc822" and items["Inbox"]["media_type"] == "application/mbox"
    assert not [path for path in items if path.startswith("msgstore.db!/") and path.endswith("/note")]
    assert not [path for path in items if path.endswith(".txt") or ("part-" in path and "broken" not in path)]
    assert "its encoding is damaged" in str(items["damaged.eml!/cut.jpg"]["errors"])
    assert "whose parts cannot be told apart" in str(items["broken.eml!/part-0.mixed"]["errors"])


def test_a_damaged_database_is_said_and_the_scan_goes_on(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    database = sqlite3.connect(evidence / "cache.db")
    database.execute("CREATE TABLE t (b BLOB)")
    database.executemany("INSERT INTO t VALUES (?)", [(jpeg_bytes(draw_picture(99, (96, 72))),)] * 50)
    database.commit()
    database.close()
    data = bytearray((evidence / "cache.db").read_bytes())
    data[4096:8192] = b"\xff" * 4096  # a page of the table overwritten
    (evidence / "cache.db").write_bytes(bytes(data))
    (evidence / "after.jpg").write_bytes(jpeg_bytes(draw_picture(100, (96, 72))))
    items = _scanned(evidence, tmp_path / "case")
    assert "damaged SQLite database" in str(items["cache.db"]["errors"])
    assert items["after.jpg"]["pdq"]


def test_a_web_page_saved_as_mhtml_gives_its_pictures_by_their_location(tmp_path: Path) -> None:
    import base64

    picture = jpeg_bytes(draw_picture(101, (96, 72)))
    page = (b"From: <Saved by Blink>\nSubject: a page\nDate: Mon, 30 Nov 2026 10:00:00 -0000\nMIME-Version: 1.0\n"
            b'Content-Type: multipart/related; type="text/html"; boundary="----B----"\n\n------B----\n'
            b"Content-Type: text/html\nContent-Location: https://example.org/\n\n<img src=\"p/k.jpg?s=1\">\n"
            b"------B----\nContent-Type: image/jpeg\nContent-Transfer-Encoding: base64\n"
            b"Content-Location: https://example.org/p/k.jpg?s=1\n\n" + base64.encodebytes(picture)
            + b"------B------\n")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "page.mht").write_bytes(page)
    items = _scanned(evidence, tmp_path / "case")
    assert items["page.mht!/k.jpg"]["sha256"] == hashlib.sha256(picture).hexdigest()


def test_pictures_in_an_html_bodys_data_uris_and_a_mailbox_of_one_endless_line(tmp_path: Path) -> None:
    import base64

    picture = jpeg_bytes(draw_picture(104, (96, 72)))
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "inline"
    message["Message-ID"] = "<inline@example.org>"
    message.set_content("<div><img src=\"data:image/jpeg;base64," + base64.b64encode(picture).decode() + "\"></div>",
                        subtype="html")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "inline.eml").write_bytes(bytes(message))
    (evidence / "endless").write_bytes(b"From a@example.org Mon Nov 30 10:00:00 2026\nFrom: a@example.org\n"
                                       b"Subject: x\nMessage-ID: <x@example.org>\n\n" + b"x" * (3 << 20))
    items = _scanned(evidence, tmp_path / "case")
    assert items["inline.eml!/part-0.html/data-uri-1.jpeg"]["sha256"] == hashlib.sha256(picture).hexdigest()
    assert read_item_bytes(str(evidence), "inline.eml!/part-0.html/data-uri-1.jpeg", Settings(), 10**7) == picture
    assert items["endless"]["media_type"] == "application/mbox" and items["endless"]["sha256"]


def _matched(evidence: Path, case: Path, known: list[bytes],  # type: ignore[type-arg]
             settings: Settings | None = None) -> dict[str, dict]:
    """Scanned against a list of the SHA-256 of `known`: the report's items by path under the evidence."""
    listed = case.parent / "known.csv"
    listed.write_text("sha256,label\n" + "".join(f"{hashlib.sha256(data).hexdigest()},known {number}\n"
                                                 for number, data in enumerate(known)))
    store = open_case(case, create=True)
    try:
        import_hash_list(store, listed, Settings())
        run_scan(store, [str(evidence)], settings or Settings(workers=1))
        report = json.loads(render(store, "json"))
    finally:
        store.close()
    return {item["path"].split("/evidence/", 1)[1]: item for item in report["items"]}


def test_a_forwarded_message_encoded_in_base64_or_quoted_printable_gives_its_attachments(tmp_path: Path) -> None:
    import base64
    import quopri

    pictures = [jpeg_bytes(draw_picture(seed, (96, 72))) for seed in (105, 106)]
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for (name, encoding, encode), picture in zip((("b64.eml", b"base64", base64.encodebytes),
                                                 ("qp.eml", b"quoted-printable", quopri.encodestring)), pictures,
                                                strict=True):
        forwarded = encode(_mail("inner", {"beach.jpg": picture}))
        (evidence / name).write_bytes(
            b"From: b@example.org\nTo: c@example.org\nSubject: Fwd\nMessage-ID: <fwd@example.org>\nMIME-Version: 1.0"
            b"\nContent-Type: multipart/mixed; boundary=BB\n\n--BB\nContent-Type: text/plain\n\nsee below, and "
            b"data:image/jpeg;base64," + base64.b64encode(pictures[0]) + b"\n--BB\n"
            b"Content-Type: message/rfc822\nContent-Transfer-Encoding: " + encoding + b"\n\n" + forwarded
            + b"\n--BB--\n")
    items = _matched(evidence, tmp_path / "case", pictures)
    for path, picture in (("b64.eml!/beach.jpg", pictures[0]), ("qp.eml!/beach.jpg", pictures[1]),
                          ("qp.eml!/part-1.plain/data-uri-1.jpeg", pictures[0])):  # a plain text body's data: URI
        assert [match["label"] for match in items[path]["matches"]], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == picture, path
    assert not [path for path in items if "part-" in path and "data-uri" not in path]


def test_messages_nested_thousands_deep_are_read_above_the_cap_and_the_cap_is_said(tmp_path: Path) -> None:
    from vigie.sources.mail import MOST_NESTED_PARTS

    picture = jpeg_bytes(draw_picture(107, (96, 72)))
    deep = _mail("leaf", {"deep.jpg": picture})
    for level in range(3000):
        deep = b"From: a@example.org\nSubject: %d\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n" % level + deep
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "nested.eml").write_bytes(deep)
    shallow = _mail("leaf", {"shallow.jpg": picture})
    for level in range(MOST_NESTED_PARTS - 2):
        shallow = b"From: a@example.org\nSubject: %d\nContent-Type: message/rfc822\n\n" % level + shallow
    (evidence / "shallow.eml").write_bytes(shallow)
    items = _matched(evidence, tmp_path / "case", [picture])
    assert not [(path, item["errors"]) for path, item in items.items()
                if any(error["stage"] == "internal" for error in item["errors"])]
    assert [match["label"] for match in items["shallow.eml!/shallow.jpg"]["matches"]]
    whole = f"nested.eml!/part-{MOST_NESTED_PARTS}.rfc822"
    assert f"nested deeper than {MOST_NESTED_PARTS} parts" in str(items[whole]["errors"])
    assert items[whole]["media_type"] == "message/rfc822"
    assert "nested deeper than" in str([item["errors"] for path, item in items.items() if path.startswith(whole)])


def test_encoded_forwards_nested_deep_hold_one_level_at_a_time_and_their_sum_is_capped(tmp_path: Path) -> None:
    import io
    import quopri
    import tracemalloc

    from vigie.sources.mail import mail_members
    from vigie.sources.members import Expansion

    picture = jpeg_bytes(draw_picture(108, (96, 72)))
    nested = _mail("leaf", {"deep.jpg": picture}) + b"a line of text to make each level weigh something\n" * 4000
    for _ in range(40):  # each level quoted-printable: decoded, then parsed, as deep as it goes
        nested = (b"From: a@example.org\nSubject: Fwd\nMIME-Version: 1.0\nContent-Type: message/rfc822\n"
                  b"Content-Transfer-Encoding: quoted-printable\n\n") + quopri.encodestring(nested)
    tracemalloc.start()
    try:
        members = list(mail_members(io.BytesIO(nested), False, Settings(), Expansion()))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [member.name for member in members] == [b"deep.jpg"]
    assert peak < 20 * len(nested)  # a copy of the message a level held 50 times its size
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "nested.eml").write_bytes(nested)
    cap = len(nested) * 12  # twice this cap spent some 24 levels in: the forward there read whole
    items = _matched(evidence, tmp_path / "case", [picture], Settings(workers=1, max_nested_archive_bytes=cap))
    [whole] = [path for path, item in items.items() if "decode to more than" in str(item["errors"])]
    assert whole.startswith("nested.eml!/part-") and whole.endswith(".rfc822")
    assert [match["label"] for match in items[f"{whole}!/deep.jpg"]["matches"]]  # read as a message in its turn


def test_files_uuencoded_in_a_plain_text_body_are_members(tmp_path: Path) -> None:
    import base64
    import binascii

    pictures = [jpeg_bytes(draw_picture(seed, (96, 72))) for seed in (109, 110)]

    def uuencoded(name: bytes, data: bytes) -> bytes:
        lines = b"".join(binascii.b2a_uu(data[at:at + 45]) for at in range(0, len(data), 45))
        return b"begin 644 " + name + b"\n" + lines + b"`\nend\n"

    body = (b"Here are the photos.\n\n" + uuencoded(b"beach.jpg", pictures[0]) + b"\nand another, cut short:\n"
            + uuencoded(b"C:\\photos\\dune.jpg", pictures[1])[:-200] + b"\nDATA:IMAGE/JPEG;BASE64,"
            + base64.b64encode(pictures[1]) + b"\n")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "old.eml").write_bytes(b"From: a@example.org\nTo: b@example.org\nSubject: photos\nMessage-ID: <u@x>\n"
                                       b"Content-Type: text/plain\n\n" + body)
    items = _matched(evidence, tmp_path / "case", pictures)
    assert [match["label"] for match in items["old.eml!/part-0.plain/beach.jpg"]["matches"]]
    assert read_item_bytes(str(evidence), "old.eml!/part-0.plain/beach.jpg", Settings(), 10**7) == pictures[0]
    assert "its uuencoding is damaged" in str(items["old.eml!/part-0.plain/dune.jpg"]["errors"])
    assert [match["label"] for match in items["old.eml!/part-0.plain/data-uri-1.jpeg"]["matches"]]  # any case


def test_a_block_of_base64_pasted_after_a_text_body_is_a_member(tmp_path: Path) -> None:
    import base64

    pictures = [jpeg_bytes(draw_picture(seed, (96, 72))) for seed in (111, 112)]
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    headers = b"From: a@example.org\nTo: b@example.org\nSubject: %s\nMessage-ID: <%s@x>\nContent-Type: text/plain\n\n"
    (evidence / "pasted.eml").write_bytes(headers % (b"pasted", b"p") + b"Here it is, as my phone gave it:\n\n"
                                          + base64.encodebytes(pictures[0]) + b"\n-- \nsent from a phone\n")
    (evidence / "Inbox").write_bytes(b"From a@example.org Mon Nov 30 10:00:00 2026\n" + headers % (b"one", b"o")
                                     + b"first\n\nFrom b@example.org Mon Nov 30 11:00:00 2026\n"
                                     + headers % (b"two", b"t") + b"second:\n" + base64.encodebytes(pictures[1]))
    items = _matched(evidence, tmp_path / "case", pictures)
    for path, picture in (("pasted.eml!/part-0.plain/base64-1.jpeg", pictures[0]),
                          ("Inbox!/message-2/part-0.plain/base64-1.jpeg", pictures[1])):
        assert [match["label"] for match in items[path]["matches"]], path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == picture, path
    assert not [path for path in items if path.startswith("Inbox!/message-1/")]
