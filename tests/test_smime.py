"""A message signed opaquely with S/MIME keeps its content inside its signature (`smime.p7m`, a CMS SignedData):
what it signed is read as the signature's members, in a message, a mailbox, a `.p7m` file given or in a zip,
DER or BER (a streaming signer's indefinite lengths and chunks), and read back; an encrypted one, a structure cut
short or hostile, is said, never a crash."""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import zipfile
import zlib
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import jpeg_bytes, scanned_report
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from vigie.config import Settings
from vigie.demo.seizure import draw_picture
from vigie.sources import cms
from vigie.sources.cms import MOST_NESTED, signed_content
from vigie.sources.mail import signed_members
from vigie.sources.mediatype import sniff
from vigie.sources.members import ArchiveLimitError, Expansion
from vigie.sources.reopen import read_item_bytes

_SIGNED_DATA = bytes.fromhex("06092a864886f70d010702")
_DATA = bytes.fromhex("06092a864886f70d010701")


def _certificate(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigie test signer")])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256()))


def _signed(content: bytes) -> bytes:
    """`content` signed opaquely (inside the signature), as DER."""
    key = ec.generate_private_key(ec.SECP256R1())
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(_certificate(key), key, hashes.SHA256())
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


def _entity(attachments: dict[str, bytes]) -> bytes:
    """What a mail program signs: a MIME entity (no From, no Subject), its lines ended by CRLF."""
    entity = EmailMessage(policy=policy.SMTP)
    entity.set_content("see attached\n")
    for name, data in attachments.items():
        entity.add_attachment(data, maintype="image", subtype="jpeg", filename=name)
    del entity["MIME-Version"]
    return entity.as_bytes()


def _opaque(signature: bytes, subject: str, media_type: str = "application/pkcs7-mime") -> bytes:
    """A message whose whole body is its signature, which holds its content."""
    return (f"From: a@example.org\nTo: b@example.org\nSubject: {subject}\nMessage-ID: <{subject}@example.org>\n"
            f"MIME-Version: 1.0\nContent-Type: {media_type}; smime-type=signed-data; name=\"smime.p7m\"\n"
            "Content-Disposition: attachment; filename=\"smime.p7m\"\nContent-Transfer-Encoding: base64\n\n"
            ).encode() + base64.encodebytes(signature)


def _ber(tag: int, *inner: bytes) -> bytes:
    """An element of indefinite length, as a streaming signer writes it."""
    return bytes([tag, 0x80]) + b"".join(inner) + b"\x00\x00"


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    length = bytes([size]) if size < 0x80 else bytes([0x82]) + size.to_bytes(2, "big")
    return bytes([tag]) + length + content


def _streamed(content: bytes, chunk: int = 1000) -> bytes:
    """A SignedData in BER, its content cut into chunks of a constructed OCTET STRING (as OpenSSL's -stream)."""
    chunks = b"".join(_der(0x04, content[at:at + chunk]) for at in range(0, len(content), chunk))
    encapsulated = _ber(0x30, _DATA, _ber(0xA0, _ber(0x24, chunks)))
    signed = _ber(0x30, _der(0x02, b"\x01"), _ber(0x31), encapsulated, _der(0x31, b""))
    return _ber(0x30, _SIGNED_DATA, _ber(0xA0, signed))


def test_what_an_opaque_signature_holds_is_read_as_its_members_and_read_back(tmp_path: Path) -> None:
    pictures = [jpeg_bytes(draw_picture(seed, (96, 72))) for seed in (120, 121, 122)]
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "signed.eml").write_bytes(_opaque(_signed(_entity({"beach.jpg": pictures[0]})), "signed"))
    attached = EmailMessage()  # a signature attached in a multipart, as the older x- type
    attached["From"], attached["To"], attached["Subject"] = "a@example.org", "b@example.org", "two"
    attached["Message-ID"] = "<two@example.org>"
    attached.set_content("forwarded, signed\n")
    attached.add_attachment(_signed(_entity({"dune.jpg": pictures[1]})), maintype="application",
                            subtype="x-pkcs7-mime", filename="smime.p7m")
    (evidence / "Inbox").write_bytes(b"From a@example.org Mon Nov 30 10:00:00 2026\n"
                                     + _opaque(_signed(_entity({})), "one") + b"\n"
                                     + b"From b@example.org Mon Nov 30 11:00:00 2026\n" + bytes(attached))
    (evidence / "photo.jpg.p7m").write_bytes(_signed(pictures[2]))  # a file signed as it is (a CAdES .p7m)
    signed_zip = io.BytesIO()  # a zip signed as it is: no zip said to follow the signature (its end is inside)
    with zipfile.ZipFile(signed_zip, "w") as archive:
        archive.writestr("beach.jpg", pictures[0])
    (evidence / "photos.zip.p7m").write_bytes(_signed(signed_zip.getvalue()))
    (evidence / "letter.p7m").write_bytes(_signed(_entity({"beach.jpg": pictures[0]})))
    (evidence / "letter.pem").write_bytes(b"-----BEGIN PKCS7-----\n" + base64.encodebytes(_signed(_entity(
        {"dune.jpg": pictures[1]}))) + b"-----END PKCS7-----\n")  # kept as text, as OpenSSL writes it
    (evidence / "streamed.p7m").write_bytes(_streamed(_entity({"dune.jpg": pictures[1]})))
    with zipfile.ZipFile(evidence / "archive.zip", "w") as archive:
        archive.writestr("mail/nested.p7m", _signed(_entity({"beach.jpg": pictures[0]})))
        archive.writestr("scans/dune.jpg.p7m", _signed(pictures[1]))
    items = {item["path"].split("/evidence/", 1)[1]: item
             for item in scanned_report(evidence, tmp_path / "case", Settings(workers=1))}
    expected = {"signed.eml!/smime.p7m!/beach.jpg": pictures[0], "Inbox!/message-2/smime.p7m!/dune.jpg": pictures[1],
                "photo.jpg.p7m!/photo.jpg": pictures[2], "letter.p7m!/beach.jpg": pictures[0],
                "letter.pem!/letter!/dune.jpg": pictures[1],
                "streamed.p7m!/dune.jpg": pictures[1], "archive.zip!/mail/nested.p7m!/beach.jpg": pictures[0],
                "archive.zip!/scans/dune.jpg.p7m!/dune.jpg": pictures[1],
                "photos.zip.p7m!/photos.zip!/beach.jpg": pictures[0]}
    for path, data in expected.items():
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    assert items["signed.eml!/smime.p7m"]["media_type"] == "application/pkcs7-mime; smime-type=signed-data"
    assert not [(path, item["errors"]) for path, item in items.items() if item["errors"]]
    assert not [path for path in items if path.endswith(".plain")]  # text bodies are not members, here neither


def test_an_encrypted_message_and_a_part_declared_smime_that_is_not_are_said(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encrypted = (pkcs7.PKCS7EnvelopeBuilder().set_data(_entity({"beach.jpg": b"x" * 100}))
                 .add_recipient(_certificate(key)).encrypt(serialization.Encoding.DER, []))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "secret.eml").write_bytes(_opaque(encrypted, "secret").replace(b"signed-data", b"enveloped-data"))
    (evidence / "secret.p7m").write_bytes(encrypted)
    (evidence / "odd.eml").write_bytes(_opaque(b"not a signature at all", "odd"))
    (evidence / "pem.eml").write_bytes(_opaque(b"-----BEGIN PKCS7-----\n" + base64.encodebytes(_signed(_entity(
        {"beach.jpg": b"y" * 100}))) + b"-----END PKCS7-----\n", "pem"))  # its signature in base64, twice over
    items = {item["path"].split("/evidence/", 1)[1]: item
             for item in scanned_report(evidence, tmp_path / "case", Settings(workers=1))}
    note = "encrypted S/MIME: its content cannot be read without the recipient's key"
    assert note in str(items["secret.eml!/smime.p7m"]["errors"]) and note in str(items["secret.p7m"]["errors"])
    assert "declared S/MIME (application/pkcs7-mime), but its bytes are not" in str(items["odd.eml!/smime.p7m"]
                                                                                     ["errors"])
    assert not items["pem.eml!/smime.p7m"]["errors"] and items["pem.eml!/smime.p7m!/smime.p7m!/beach.jpg"]["sha256"]


def test_a_signature_cut_short_or_hostile_is_said_and_read_up_to_there(tmp_path: Path) -> None:
    picture = jpeg_bytes(draw_picture(123, (96, 72)))
    whole = _signed(_entity({"beach.jpg": picture}))
    cut = signed_content(whole[:len(whole) // 2])  # cut inside its content: what is there is given
    assert cut.content is not None and cut.content.startswith(b"Content-Type: multipart/mixed")
    assert "cut short" in str(cut.problem)
    deep = _SIGNED_DATA + bytes.fromhex("a080 3080 020101 3180") + b"\x30\x80" * 10_000  # digest algorithms: 10,000
    # sequences, each in the one before
    chunks = _ber(0x30, _SIGNED_DATA, _ber(0xA0, _ber(0x30, _der(0x02, b"\x01"), _ber(0x31), _ber(
        0x30, _DATA, _ber(0xA0, b"\x24\x80" * 10_000)))))  # chunks of chunks 10,000 deep
    claims = bytes.fromhex("3084ffffffff") + _SIGNED_DATA + bytes.fromhex("a088ffffffffffffffff")
    at = whole.index(_DATA) + len(_DATA) + 4  # the content's OCTET STRING, made a string of another kind
    for hostile in (b"\x30\x80" + deep, chunks, claims, whole[:3], whole[:20], b"\x30\x80" + _SIGNED_DATA * 3,
                    whole[:at] + b"\x13" + whole[at + 1:]):
        read = signed_content(hostile)
        assert read.problem, hostile[:40]
    assert f"more than {MOST_NESTED} deep" in str(signed_content(b"\x30\x80" + deep).problem)
    assert f"more than {MOST_NESTED} deep" in str(signed_content(chunks).problem)
    assert sniff(claims) == "application/pkcs7-mime; smime-type=signed-data"
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "cut.p7m").write_bytes(whole[:-400])  # its signer's information gone: its content all there
    (evidence / "deep.p7m").write_bytes(b"\x30\x80" + deep)
    (evidence / "claims.eml").write_bytes(_opaque(claims, "claims"))
    items = {item["path"].split("/evidence/", 1)[1]: item
             for item in scanned_report(evidence, tmp_path / "case", Settings(workers=1))}
    assert items["cut.p7m!/beach.jpg"]["sha256"] == hashlib.sha256(picture).hexdigest()
    assert "cut short" in str(items["cut.p7m"]["errors"])
    assert f"more than {MOST_NESTED} deep" in str(items["deep.p7m"]["errors"])
    assert "past the end of what holds it" in str(items["claims.eml!/smime.p7m"]["errors"])
    assert not [(path, item["errors"]) for path, item in items.items()
                if any(error["stage"] == "internal" for error in item["errors"])]


def test_the_elements_walked_are_capped_and_what_was_read_before_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    content = _entity({"beach.jpg": jpeg_bytes(draw_picture(124, (96, 72)))})
    monkeypatch.setattr(cms, "MOST_ELEMENTS", 100)  # a million at scan time: a few seconds of walking
    read = signed_content(_streamed(content, chunk=10))
    assert "more than 100 elements" in str(read.problem) and "its content read up to there" in str(read.problem)
    assert read.content is not None and content.startswith(read.content) and len(read.content) > 800
    assert signed_content(_streamed(content, chunk=1000)) == (content, None)


_COMPRESSED_DATA = bytes.fromhex("060b2a864886f70d0109100109")
_ZLIB = bytes.fromhex("060b2a864886f70d0109100308")


def _compressed(content: bytes, algorithm: bytes = _ZLIB, packed: bytes | None = None) -> bytes:
    """`content` compressed with S/MIME (CMS CompressedData, RFC 3274), as DER."""
    packed = zlib.compress(content) if packed is None else packed
    encapsulated = _der(0x30, _DATA + _der(0xA0, _der(0x04, packed)))
    held = _der(0x30, _der(0x02, b"\x00") + _der(0x30, algorithm) + encapsulated)
    return _der(0x30, _COMPRESSED_DATA + _der(0xA0, held))


def test_a_detached_signature_is_typed_apart_and_holds_nothing(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = pkcs7.PKCS7SignatureBuilder().set_data(b"signed beside").add_signer(_certificate(key), key,
                                                                                  hashes.SHA256())
    detached = builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature])
    streamed = _ber(0x30, _SIGNED_DATA, _ber(0xA0, _ber(0x30, _der(0x02, b"\x01"), _ber(0x31), _ber(0x30, _DATA),
                                                        _der(0x31, b""))))
    assert sniff(detached[:512]) == sniff(streamed) == "application/pkcs7-signature"
    assert sniff(_signed(b"inside")[:512]) == sniff(_streamed(b"inside")) == cms.SIGNED_TYPE
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "smime.p7s").write_bytes(detached)
    items = {item["path"].split("/evidence/", 1)[1]: item
             for item in scanned_report(evidence, tmp_path / "case", Settings(workers=1))}
    assert items["smime.p7s"]["media_type"] == "application/pkcs7-signature" and not items["smime.p7s"]["errors"]


def test_what_a_compressed_message_holds_is_read_within_the_bomb_caps(tmp_path: Path) -> None:
    pictures = [jpeg_bytes(draw_picture(seed, (96, 72))) for seed in (125, 126)]
    entity = _entity({"beach.jpg": pictures[0]})
    message = (b"From: a@example.org\nTo: b@example.org\nSubject: packed\nMessage-ID: <packed@example.org>\n"
               b"MIME-Version: 1.0\nContent-Type: application/pkcs7-mime; smime-type=compressed-data; "
               b"name=\"smime.p7z\"\nContent-Disposition: attachment; filename=\"smime.p7z\"\n"
               b"Content-Transfer-Encoding: base64\n\n") + base64.encodebytes(_compressed(entity))
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "packed.eml").write_bytes(message)
    (evidence / "odd.eml").write_bytes(message.replace(b"application/pkcs7-mime", b"application/octet-stream")
                                       .replace(message.split(b"\n\n", 1)[1], base64.encodebytes(b"not packed")))
    (evidence / "letter.p7z").write_bytes(_compressed(entity))
    (evidence / "dune.jpg.p7z").write_bytes(_compressed(pictures[1]))
    (evidence / "damaged.p7z").write_bytes(_compressed(b"", packed=zlib.compress(pictures[1])[:40] + bytes(60)))
    (evidence / "cut.p7z").write_bytes(_compressed(b"", packed=zlib.compress(pictures[1])[:-10]))
    (evidence / "other.p7z").write_bytes(_compressed(pictures[1], algorithm=_DATA))
    items = {item["path"].split("/evidence/", 1)[1]: item
             for item in scanned_report(evidence, tmp_path / "case", Settings(workers=1))}
    for path, data in {"packed.eml!/smime.p7z!/beach.jpg": pictures[0], "letter.p7z!/beach.jpg": pictures[0],
                       "dune.jpg.p7z!/dune.jpg": pictures[1]}.items():
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    assert items["letter.p7z"]["media_type"] == "application/pkcs7-mime; smime-type=compressed-data"
    assert not [(path, item["errors"]) for path, item in items.items() if item["errors"]
                and path.split("!")[0] not in ("damaged.p7z", "cut.p7z", "other.p7z", "odd.eml")]
    assert "declared S/MIME (application/pkcs7-mime), but its bytes are not" in str(items["odd.eml!/smime.p7z"]
                                                                                     ["errors"])
    assert "its compressed content is damaged" in str(items["damaged.p7z"]["errors"])
    assert "its compressed content is cut short: not read" in str(items["cut.p7z"]["errors"])
    assert "an algorithm other than zlib" in str(items["other.p7z"]["errors"])
    assert not [path for path in items if path.startswith(("damaged.p7z!", "cut.p7z!", "other.p7z!"))]
    # a bomb: stopped by the ratio cap, or by the cap of what is held in memory, and said
    bomb = _compressed(bytes(2_000_000))
    with pytest.raises(ArchiveLimitError, match="compression ratio over 10:1"):
        list(signed_members(io.BytesIO(bomb), Settings(ratio_floor_bytes=100_000, max_compression_ratio=10),
                            Expansion(), b"bomb.p7z"))
    with pytest.raises(ArchiveLimitError, match="inflates past 1,000,000 bytes"):
        list(signed_members(io.BytesIO(bomb), Settings(max_nested_archive_bytes=1_000_000), Expansion(), b"b.p7z"))


def test_an_entity_whose_content_type_comes_after_many_headers_is_read_and_header_lines_not_taken_are_said() -> None:
    picture = jpeg_bytes(draw_picture(125, (96, 72)))
    headers = b"".join(b"X-Header-%d: value\r\n" % number for number in range(300))  # past 40 lines and 4 KiB
    entity = (headers + b'Content-Type: multipart/mixed; boundary="BB"\r\n\r\n--BB\r\nContent-Type: text/plain\r\n\r\n'
              b'hi\r\n--BB\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename="c.jpg"\r\n'
              b"Content-Transfer-Encoding: binary\r\n\r\n" + picture + b"\r\n--BB--\r\n")
    members = {member.name: member for member in signed_members(io.BytesIO(_signed(entity)), Settings(), Expansion(),
                                                                  b"signed.p7m")}
    assert members[b"c.jpg"].stream is not None and members[b"c.jpg"].stream.read() == picture
    untyped = headers + b"\r\nplain text, no Content-Type above\r\n"  # header lines, but not an entity's
    members = {member.name: member for member in signed_members(io.BytesIO(_signed(untyped)), Settings(),
                                                                  Expansion(), b"note.p7m")}
    assert "starts with header lines, but not a MIME entity's header block" in str(members[b"note"].name_problem)
    far = b"".join(b"X-Header-%d: value\r\n" % number for number in range(1_200)) + b"Content-Type: text/plain\r\n\r\n"
    members = {member.name: member for member in signed_members(io.BytesIO(_signed(far)), Settings(), Expansion(),
                                                                  b"far.p7m")}
    assert "not a MIME entity's header block" in str(members[b"far"].name_problem)
    members = {member.name: member for member in signed_members(io.BytesIO(_signed(picture)), Settings(),
                                                                  Expansion(), b"photo.jpg.p7m")}
    assert members[b"photo.jpg"].name_problem is None


def test_a_content_cut_into_chunks_too_small_for_its_bytes_stops_early_and_a_signers_lines_do_not() -> None:
    content = _entity({"beach.jpg": jpeg_bytes(draw_picture(126, (320, 240)))}) * 20
    read = signed_content(_streamed(content, chunk=1))  # 3 bytes an element: past 10,000, cut at one per 32 bytes
    assert "more than" in str(read.problem) and "more than one per 32 bytes" in str(read.problem)
    assert "its content read up to there" in str(read.problem)
    assert read.content is not None and content.startswith(read.content)
    assert 10_000 <= len(read.content) < len(content) // 8
    lines = signed_content(_streamed(content, chunk=40))  # a line a chunk, as OpenSSL's text mode writes them
    assert lines == (content, None) and len(content) // 40 > 10_000


def test_a_zip_appended_after_a_signature_is_read_past_its_own_end_and_read_back(tmp_path: Path) -> None:
    pictures = [jpeg_bytes(draw_picture(seed, (96, 72))) for seed in (127, 128, 129)]

    def zipped(name: str, data: bytes) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr(name, data)
        return out.getvalue()

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    behind = _signed(pictures[0]) + zipped("hidden.jpg", pictures[1])
    (evidence / "letter.jpg.p7m").write_bytes(behind)
    (evidence / "both.zip.p7m").write_bytes(_signed(zipped("signed.jpg", pictures[2])) + zipped("hidden.jpg",
                                                                                                 pictures[1]))
    with zipfile.ZipFile(evidence / "seized.zip", "w") as archive:
        archive.writestr("mail/letter.jpg.p7m", behind)
    items = {item["path"].split("/evidence/", 1)[1]: item
             for item in scanned_report(evidence, tmp_path / "case", Settings(workers=1))}
    expected = {"letter.jpg.p7m!/letter.jpg": pictures[0], "letter.jpg.p7m!/hidden.jpg": pictures[1],
                "both.zip.p7m!/both.zip!/signed.jpg": pictures[2], "both.zip.p7m!/hidden.jpg": pictures[1],
                "seized.zip!/mail/letter.jpg.p7m!/hidden.jpg": pictures[1]}
    for path, data in expected.items():
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    for name in ("letter.jpg.p7m", "both.zip.p7m", "seized.zip!/mail/letter.jpg.p7m"):
        assert "a zip archive follows this file's own content" in str(items[name]["errors"]), name
        assert f"{name}!/hidden.jpg!2" not in items, name


def _drawn(seed: int, kind: str) -> bytes:
    out = io.BytesIO()
    draw_picture(seed, (96, 72)).save(out, kind)
    return out.getvalue()


def test_a_picture_appended_after_a_signature_is_read_as_its_member_after_the_end(tmp_path: Path) -> None:
    signed = jpeg_bytes(draw_picture(130, (96, 72)))
    hidden = {kind: _drawn(131 + index, kind) for index, kind in enumerate(("JPEG", "PNG", "GIF", "WEBP"))}
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "letter.jpg.p7m").write_bytes(_signed(signed) + hidden["JPEG"])
    (evidence / "streamed.p7m").write_bytes(_streamed(signed) + hidden["PNG"])  # BER: its end walked
    (evidence / "smime.pem").write_bytes(b"-----BEGIN PKCS7-----\n" + base64.encodebytes(
        _signed(signed) + hidden["GIF"]) + b"-----END PKCS7-----\n")
    (evidence / "letter.pem").write_bytes(b"-----BEGIN PKCS7-----\n" + base64.encodebytes(_signed(signed))
                                          + b"-----END PKCS7-----\n" + hidden["PNG"])  # past the armour
    with zipfile.ZipFile(evidence / "seized.zip", "w") as archive:
        archive.writestr("mail/smime.p7m", _signed(signed) + hidden["WEBP"])
    items = {item["path"].split("/evidence/", 1)[1]: item
             for item in scanned_report(evidence, tmp_path / "case", Settings(workers=1))}
    expected = {"letter.jpg.p7m!/after-the-end": hidden["JPEG"], "letter.jpg.p7m!/letter.jpg": signed,
                "streamed.p7m!/after-the-end": hidden["PNG"], "smime.pem!/smime!/after-the-end": hidden["GIF"],
                "letter.pem!/after-the-end": hidden["PNG"], "letter.pem!/letter!/content": signed,
                "seized.zip!/mail/smime.p7m!/after-the-end": hidden["WEBP"]}
    for path, data in expected.items():
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    said = str(items["letter.jpg.p7m"]["errors"])
    assert "after the signature's own end" in said and "no mail program shows" in said


def test_what_follows_a_signature_larger_than_the_cap_is_read_or_said(tmp_path: Path) -> None:
    hidden = jpeg_bytes(draw_picture(135, (96, 72)))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("hidden.jpg", hidden)
    large = _signed(bytes(range(256)) * 200)  # 51 KB, past the cap below
    settings = Settings(workers=1, max_nested_archive_bytes=20_000)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "zipped.p7m").write_bytes(large + zipped.getvalue())
    with zipfile.ZipFile(zipped, "a") as archive:  # what follows past the cap too: looked at for a zip only
        archive.writestr("filler.bin", bytes(range(256)) * 120)
    (evidence / "far.p7m").write_bytes(large + zipped.getvalue())
    (evidence / "picture.p7m").write_bytes(large + hidden)
    (evidence / "streamed.p7m").write_bytes(_streamed(bytes(range(256)) * 200) + hidden)
    items = {item["path"].split("/evidence/", 1)[1]: item
             for item in scanned_report(evidence, tmp_path / "case", settings)}
    for path in ("zipped.p7m!/hidden.jpg", "picture.p7m!/after-the-end", "far.p7m!/hidden.jpg"):
        assert items[path]["sha256"] == hashlib.sha256(hidden).hexdigest(), path
        assert read_item_bytes(str(evidence), path, settings, 10**7) == hidden, path
    assert "a zip archive follows this file's own content" in str(items["zipped.p7m"]["errors"])
    assert "of more than 20,000 bytes" in str(items["zipped.p7m"]["errors"])  # what it signed: not read, said
    assert "not looked at but for a zip" in str(items["far.p7m"]["errors"])
    said = str(items["streamed.p7m"]["errors"])
    assert "whose length is not written at its start" in said and "not looked for" in said


def test_what_follows_a_detached_signature_a_compression_or_an_encryption_is_read_or_said(tmp_path: Path) -> None:
    hidden = {kind: _drawn(140 + index, kind) for index, kind in enumerate(("JPEG", "PNG", "GIF", "WEBP"))}
    key = ec.generate_private_key(ec.SECP256R1())
    detached = pkcs7.PKCS7SignatureBuilder().set_data(b"signed beside").add_signer(
        _certificate(key), key, hashes.SHA256()).sign(serialization.Encoding.DER,
                                                      [pkcs7.PKCS7Options.DetachedSignature])
    recipient = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encrypted = (pkcs7.PKCS7EnvelopeBuilder().set_data(b"secret").add_recipient(_certificate(recipient))
                 .encrypt(serialization.Encoding.DER, []))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("hidden.jpg", hidden["JPEG"])
    message = EmailMessage()
    message["From"], message["Subject"] = "a@example.org", "signed beside"
    message.set_content("see the signature\n")
    message.add_attachment(detached + hidden["PNG"], maintype="application", subtype="pkcs7-signature",
                           filename="smime.p7s")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "smime.p7s").write_bytes(detached + hidden["JPEG"])
    (evidence / "letter.p7z").write_bytes(_compressed(b"some text") + hidden["GIF"])
    (evidence / "secret.p7m").write_bytes(encrypted + hidden["WEBP"])
    (evidence / "signed.eml").write_bytes(bytes(message))
    with zipfile.ZipFile(evidence / "seized.zip", "w") as archive:
        archive.writestr("zipped.p7s", detached + zipped.getvalue())
    items = {item["path"].split("/evidence/", 1)[1]: item
             for item in scanned_report(evidence, tmp_path / "case", Settings(workers=1))}
    expected = {"smime.p7s!/after-the-end": hidden["JPEG"], "letter.p7z!/after-the-end": hidden["GIF"],
                "secret.p7m!/after-the-end": hidden["WEBP"], "signed.eml!/smime.p7s!/after-the-end": hidden["PNG"],
                "seized.zip!/zipped.p7s!/hidden.jpg": hidden["JPEG"]}
    for path, data in expected.items():
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    assert items["letter.p7z!/letter"]["sha256"] == hashlib.sha256(b"some text").hexdigest()  # its content still
    said = str(items["secret.p7m"]["errors"])
    assert "cannot be read without the recipient's key" in said and "after the S/MIME structure's own end" in said
    assert "a zip archive follows this file's own content" in str(items["seized.zip!/zipped.p7s"]["errors"])


def _children(content: bytes) -> list[bytes]:
    """The DER elements `content` holds, each whole."""
    found, at = [], 0
    while at < len(content):
        first = content[at + 1]
        count = 0 if first < 0x80 else first & 0x7F
        size = first if first < 0x80 else int.from_bytes(content[at + 2:at + 2 + count], "big")
        found.append(content[at:at + 2 + count + size])
        at += 2 + count + size
    return found


def _raised(element: bytes, depth: int, hidden: bytes) -> bytes:
    """`element` with `hidden` inside its last element `depth` levels down, every length above raised over it."""
    [outer] = _children(element)
    content = outer[2 + (0 if outer[1] < 0x80 else outer[1] & 0x7F):]
    if depth == 0:
        return _der(outer[0], content + hidden)
    held = _children(content)
    return _der(outer[0], b"".join(held[:-1]) + _raised(held[-1], depth - 1, hidden))


def test_a_picture_under_a_raised_length_of_a_signature_is_read_as_what_follows_its_end(tmp_path: Path) -> None:
    signed = _drawn(150, "JPEG")
    hidden = {kind: _drawn(151 + index, kind) for index, kind in enumerate(("JPEG", "PNG", "GIF", "WEBP"))}
    signature = _signed(signed)
    assert cms.structure_end(signature) == len(signature)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    # its outer length, its [0]'s, the SignedData's, its SignerInfos': each raised over a picture
    for depth, kind in enumerate(hidden):
        (evidence / f"raised{depth}.jpg.p7m").write_bytes(_raised(signature, depth, hidden[kind]))
    with zipfile.ZipFile(evidence / "seized.zip", "w") as archive:
        archive.writestr("raised.jpg.p7m", _raised(signature, 1, hidden["PNG"]) + hidden["GIF"])
    items = {item["path"].split("/evidence/", 1)[1]: item
             for item in scanned_report(evidence, tmp_path / "case", Settings(workers=1))}
    expected = {f"raised{depth}.jpg.p7m!/after-the-end": hidden[kind] for depth, kind in enumerate(hidden)}
    expected |= {f"raised{depth}.jpg.p7m!/raised{depth}.jpg": signed for depth in range(4)}
    expected |= {"seized.zip!/raised.jpg.p7m!/after-the-end": hidden["PNG"],
                 "seized.zip!/raised.jpg.p7m!/after-the-end!2": hidden["GIF"]}
    for path, data in expected.items():
        assert items[path]["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == data, path
    said = str(items["raised0.jpg.p7m"]["errors"])
    assert f"but what it holds ends at byte {len(signature):,}: a length raised over" in said
    assert cms.held_end(signature) == len(signature)  # DER fills each element: nothing said of a signature as signed


def test_a_picture_wrapped_in_an_element_cms_does_not_put_there_under_a_raised_length_is_read(
        tmp_path: Path) -> None:
    signed = _drawn(160, "JPEG")
    signature = _signed(signed)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    hidden: dict[str, bytes] = {}
    # the SignedData's length (one element after its SignerInfos) or the SignerInfos' (a SignerInfo that is no
    # SEQUENCE) raised over a picture wrapped in an OCTET STRING or a SET, as though it were one more element
    for depth in (2, 3):
        for tag, wrapped in ((0x04, lambda png: _der(0x04, png)), (0x31, lambda png: _der(0x31, _der(0x04, png)))):
            name = f"raised{depth}-{tag:02x}.jpg.p7m"
            hidden[name] = _drawn(161 + len(hidden), "PNG")
            (evidence / name).write_bytes(_raised(signature, depth, wrapped(hidden[name])))
    items = {item["path"].split("/evidence/", 1)[1]: item
             for item in scanned_report(evidence, tmp_path / "case", Settings(workers=1))}
    for name, png in hidden.items():
        path = f"{name}!/after-the-end"
        assert items[path]["sha256"] == hashlib.sha256(png).hexdigest(), path
        assert read_item_bytes(str(evidence), path, Settings(), 10**7) == png, path
        assert items[f"{name}!/{name[:-4]}"]["sha256"] == hashlib.sha256(signed).hexdigest(), name
        assert "a length raised over" in str(items[name]["errors"]), name
