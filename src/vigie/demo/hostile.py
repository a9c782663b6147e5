"""A benign hostile seizure: known pictures hidden where real seizures and evasions put them.

Each known picture is drawn (no photograph of anyone) and sits in a place that once made Vigie miss it:
a name that is not UTF-8, the second of two archive members with one name, a member named `x!/...`, a
folder `X!` beside a file `X`, a zip with a mis-encoded member name, a PNG whose text chunk inflates past
the decoder's limit, page 2 of a TIFF, an image carrying 8 MiB of XMP bait, the EXIF thumbnail of a
crop, a zip cut short behind a holiday picture, a zip whose central directory was forged to list a decoy
alone, a picture appended after another picture's end, an e-mail's attachment, the second message of a
mailbox, a forwarded message encoded in base64, a BLOB in a chat app's SQLite database, a `data:` URI in a
saved web page and another deep in a style sheet, and a picture kept as a file of base64. A link that leaves
the evidence points at a known picture outside it: that one must never be read. Pictures in other pictures'
metadata and in audio: a phone portrait's picture before its blur (Google's `GImage:Data`, in its extended
XMP), the EXIF thumbnail of a PNG screenshot (its `eXIf` chunk), the cover art of an MP3 (ID3 `APIC`), a C2PA
ingredient thumbnail, and base64 in a PNG's XMP property; cover art in an APE tag and in an ID3v2.4 tag after an
MP3's sound. And an attachment inside an opaque S/MIME signature (`smime.p7m`), a picture appended to an SQLite
database after its pages, a file uuencoded in a text, a zip in a `data:application/zip` URI, and base64 after a
text's long preamble. Then cover art in an ID3v2.3 tag after an AAC's frames, a picture after an S/MIME
signature's end, a picture in a `free` box after a video's last box, a zip behind a self-extractor in a zip, and base64
on a Word 2003 document's `<w:binData>` line.
The hash lists are written as partners write them: Meta's bare 64-hex PDQ lines (with an all-zero entry),
python-threatexchange's `pdq <hex>` lines, NSRL's `NSRLFile.txt`, and a CSV whose `hash` column holds
SHA-256 values.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import os
import shutil
import sqlite3
import struct
import tarfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

from PIL import Image, PngImagePlugin

from vigie.demo.seizure import draw_picture, write_video
from vigie.signals.pdq import pdq_from_image

XMP_BAIT_BYTES = 8 * 1024 * 1024
_SILENT_FRAMES = (b"\xff\xfb\x90\x64" + bytes(413)) * 8  # MPEG-1 layer III frames, 128 kbit/s, 44.1 kHz


@dataclass
class HostileLayout:
    root: Path
    evidence: Path
    case: Path
    lists: list[Path]
    # where each known picture hides (evidence-relative description) -> its SHA-256
    hidden: dict[str, str] = field(default_factory=dict)
    outside: Path | None = None  # a known picture outside the evidence, reachable only through links


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _png_with_text_bomb(image: Image.Image) -> bytes:
    """A valid PNG plus a zTXt chunk of about 2 KB that inflates to 2 MiB, past Pillow's text limit."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    data = buffer.getvalue()
    body = b"Comment\x00\x00" + zlib.compress(b"\x00" * (2 * 1024 * 1024), 9)
    chunk = struct.pack(">I", len(body)) + b"zTXt" + body + struct.pack(">I", zlib.crc32(b"zTXt" + body))
    end_of_ihdr = 8 + 8 + 13 + 4
    return data[:end_of_ihdr] + chunk + data[end_of_ihdr:]


def exif_with_thumbnail(thumbnail: bytes, big_endian: bool = False) -> bytes:
    """An EXIF (its TIFF structure) whose IFD1 holds `thumbnail`, as a camera writes it (an empty IFD0)."""
    order = ">" if big_endian else "<"
    tiff = (b"MM" if big_endian else b"II") + struct.pack(order + "HI", 42, 8)
    tiff += struct.pack(order + "HI", 0, 14)  # IFD0: no entries; IFD1 at 14
    tiff += struct.pack(order + "H", 2) + struct.pack(order + "HHII", 0x0201, 4, 1, 44)  # JPEGInterchangeFormat
    tiff += struct.pack(order + "HHII", 0x0202, 4, 1, len(thumbnail)) + struct.pack(order + "I", 0)  # ...Length
    return tiff + thumbnail


def with_exif_thumbnail(jpeg: bytes, thumbnail: bytes, big_endian: bool = False) -> bytes:
    """`jpeg` with an EXIF segment whose IFD1 holds `thumbnail`."""
    body = b"Exif\x00\x00" + exif_with_thumbnail(thumbnail, big_endian)
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


def _portrait(jpeg: bytes, before: bytes) -> bytes:
    """A phone's portrait photo: the picture before its blur kept as GImage:Data in its extended XMP (split in
    APP1 segments of at most 64 KB, as the XMP specification says)."""
    packet = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b'<rdf:Description xmlns:GImage="http://ns.google.com/photos/1.0/image/" GImage:Mime="image/jpeg" '
              b'GImage:Data="' + base64.b64encode(before) + b'"/></rdf:RDF></x:xmpmeta>')
    guid = hashlib.md5(packet, usedforsecurity=False).hexdigest().upper().encode()
    main = _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><rdf:RDF><rdf:Description "
                    b'xmlns:xmpNote="http://ns.adobe.com/xmp/note/" xmpNote:HasExtendedXMP="' + guid
                    + b'"/></rdf:RDF></x:xmpmeta>')
    parts = b"".join(_segment(0xE1, b"http://ns.adobe.com/xmp/extension/\x00" + guid
                              + struct.pack(">II", len(packet), at) + packet[at:at + 60_000])
                     for at in range(0, len(packet), 60_000))
    return jpeg[:2] + main + parts + jpeg[2:]


def _png_with_exif_thumbnail(image: Image.Image, thumbnail: bytes) -> bytes:
    """A PNG whose eXIf chunk holds an EXIF thumbnail, as phones and editors write it."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    data = buffer.getvalue()
    body = exif_with_thumbnail(thumbnail)
    chunk = struct.pack(">I", len(body)) + b"eXIf" + body + struct.pack(">I", zlib.crc32(b"eXIf" + body))
    end_of_ihdr = 8 + 8 + 13 + 4
    return data[:end_of_ihdr] + chunk + data[end_of_ihdr:]


def _mp3_with_cover(cover: bytes) -> bytes:
    """An MP3 whose ID3v2.3 tag holds `cover` as its front cover (APIC), before a few silent MPEG frames."""
    body = b"\x00image/jpeg\x00\x03cover\x00" + cover
    frame = b"APIC" + struct.pack(">IH", len(body), 0) + body
    return b"ID3\x03\x00\x00" + _syncsafe(len(frame)) + frame + _SILENT_FRAMES


def _dated(name: str, compression: int = zipfile.ZIP_STORED) -> zipfile.ZipInfo:
    """A zip member's header dated (not now), so that a zip is the same bytes on every build."""
    info = zipfile.ZipInfo(name, (2026, 11, 2, 10, 0, 0))
    info.compress_type = compression
    return info


def _zip_listing_a_decoy(hidden: tuple[str, bytes], decoy: tuple[str, bytes]) -> bytes:
    """A zip holding both members whose central directory lists the decoy alone, as zip tools then show it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_dated(hidden[0]), hidden[1])
        archive.writestr(_dated(decoy[0]), decoy[1])
        directory = archive.start_dir
    data = buffer.getvalue()
    name_length, extra, comment = struct.unpack_from("<HHH", data, directory + 28)
    hidden_entry = 46 + name_length + extra + comment
    listed = data[directory + hidden_entry : -22]
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 1, 1, len(listed), directory, 0)
    return data[:directory] + listed + end


def _email(attachment: bytes, name: str) -> bytes:
    message = EmailMessage()
    message["From"] = "sender@example.invalid"
    message["To"] = "someone@example.invalid"
    message["Subject"] = "holiday"
    message["Date"] = "Mon, 2 Nov 2026 10:00:00 +0000"
    message["Message-ID"] = f"<{name}@example.invalid>"
    message.set_content("see attached")
    message.add_attachment(attachment, maintype="image", subtype="jpeg", filename=name)
    message.set_boundary(f"part-{name}")  # not a random one: the same message on every build
    return message.as_bytes()


def _forwarded_encoded(message: bytes) -> bytes:
    """`message` forwarded as a part that is itself base64, as some mail clients and gateways write it."""
    forward = EmailMessage()
    forward["From"] = "forwarder@example.invalid"
    forward["To"] = "someone@example.invalid"
    forward["Subject"] = "Fwd: holiday"
    forward["Date"] = "Tue, 3 Nov 2026 09:00:00 +0000"
    forward.set_content("forwarded")
    forward.add_attachment(message, maintype="application", subtype="octet-stream", filename="forwarded.eml")
    forward.set_boundary("forward")
    part = next(forward.iter_attachments())
    assert isinstance(part, EmailMessage)
    del part["Content-Type"]
    part["Content-Type"] = "message/rfc822"
    return forward.as_bytes()


def _mbox(messages: list[bytes]) -> bytes:
    return b"".join(b"From sender@example.invalid Mon Nov  2 10:00:00 2026\n" + message.replace(b"\nFrom ", b"\n>From ")
                    + b"\n" for message in messages)


def _chat_database(path: Path, pictures: list[bytes]) -> None:
    with sqlite3.connect(path) as database:
        database.execute("CREATE TABLE media (id INTEGER PRIMARY KEY, chat TEXT, thumbnail BLOB)")
        database.executemany("INSERT INTO media (chat, thumbnail) VALUES (?, ?)",
                             [(f"chat {n}", picture) for n, picture in enumerate(pictures)])
    database.close()


def _tiff_pages(pages: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    return buffer.getvalue()


def _zip_with_misencoded_name(members: list[tuple[bytes, bytes]]) -> bytes:
    """A zip whose members carry the UTF-8 flag (bit 11) whatever their names' bytes are."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, (raw_name, content) in enumerate(members):
            archive.writestr(_dated(f"{index:0{len(raw_name)}d}"), content)
        central = archive.start_dir
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        local_headers = [info.header_offset for info in archive.infolist()]
    for (raw_name, _), local in zip(members, local_headers, strict=True):
        data[local + 6 : local + 8] = struct.pack("<H", struct.unpack_from("<H", data, local + 6)[0] | 0x800)
        data[local + 30 : local + 30 + len(raw_name)] = raw_name
        name_length, extra, comment = struct.unpack_from("<HHH", data, central + 28)
        data[central + 8 : central + 10] = struct.pack("<H", struct.unpack_from("<H", data, central + 8)[0] | 0x800)
        data[central + 46 : central + 46 + name_length] = raw_name
        central += 46 + name_length + extra + comment
    return bytes(data)


def _syncsafe(size: int) -> bytes:
    return bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))


def _mp3_with_tag_at_its_end(cover: bytes, ape: bool) -> bytes:
    """An MP3 with no tag in front whose cover art is in a tag after its frames: an APEv2 tag (a binary item, a
    file name then the picture, and its footer) or an ID3v2.4 tag found by its footer (`3DI`)."""
    if ape:
        item = struct.pack("<II", len(cover) + 10, 1 << 1) + b"Cover Art (Front)\x00cover.jpg\x00" + cover
        tag = item + b"APETAGEX" + struct.pack("<IIII", 2000, len(item) + 32, 1, 0) + bytes(8)
    else:
        body = b"\x00image/jpeg\x00\x03cover\x00" + cover
        frames = b"APIC" + _syncsafe(len(body)) + bytes(2) + body
        tag = b"ID3\x04\x00\x10" + _syncsafe(len(frames)) + frames + b"3DI\x04\x00\x10" + _syncsafe(len(frames))
    return _SILENT_FRAMES + tag


def _aac_with_tag_at_its_end(cover: bytes) -> bytes:
    """AAC in ADTS frames (a voice memo's), no tag in front, whose cover art is in an ID3v2.3 tag after its frames:
    a v2.3 tag has no footer, so only the frames walked to their end find it."""
    length = 7 + 200
    header = bytes([0xFF, 0xF1, 0x50, 0x80 | length >> 11, (length >> 3) & 0xFF, (length & 7) << 5 | 0x1F, 0xFC])
    body = b"\x00image/jpeg\x00\x03cover\x00" + cover
    frame = b"APIC" + struct.pack(">IH", len(body), 0) + body
    return (header + bytes(200)) * 8 + b"ID3\x03\x00\x00" + _syncsafe(len(frame)) + frame


def _mp4_with_box_at_its_end(path: Path, picture: Image.Image, hidden: bytes) -> None:
    """A phone video with a `free` box after its last, which players skip: a picture inside it."""
    write_video(path, [picture], seconds_each=1.0, fps=5)
    with path.open("ab") as video:
        video.write(struct.pack(">I", 8 + len(hidden)) + b"free" + hidden)


def _self_extractor(hidden: tuple[str, bytes]) -> bytes:
    """A Windows program with a zip appended (a self-extracting archive): a zip member of another zip."""
    return b"MZ" + bytes(254) + b"This program cannot be run in DOS mode.\r\n" + _zipped(dict([hidden]))


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    count = (size.bit_length() + 7) // 8
    length = bytes([size]) if size < 0x80 else bytes([0x80 | count]) + size.to_bytes(count, "big")
    return bytes([tag]) + length + content


def _signed_opaquely(content: bytes) -> bytes:
    """A CMS SignedData holding `content` (DER), as an S/MIME `smime.p7m`: no certificate and no signer, which
    Vigie never checks (it reads what was signed)."""
    data, signed = bytes.fromhex("06092a864886f70d010701"), bytes.fromhex("06092a864886f70d010702")
    encapsulated = _der(0x30, data + _der(0xA0, _der(0x04, content)))
    return _der(0x30, signed + _der(0xA0, _der(0x30, _der(0x02, b"\x01") + _der(0x31, b"") + encapsulated
                                                  + _der(0x31, b""))))


def _smime_email(attachment: bytes, name: str) -> bytes:
    """A message signed opaquely: its whole body the signature (`smime.p7m`), which holds its content."""
    entity = EmailMessage(policy=policy.SMTP)
    entity.set_content("see attached\n")
    entity.add_attachment(attachment, maintype="image", subtype="jpeg", filename=name)
    entity.set_boundary("signed-part")
    return (b"From: sender@example.invalid\nTo: someone@example.invalid\nSubject: signed\n"
            b"Date: Mon, 2 Nov 2026 10:00:00 +0000\nMessage-ID: <signed@example.invalid>\nMIME-Version: 1.0\n"
            b'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\n'
            b'Content-Disposition: attachment; filename="smime.p7m"\nContent-Transfer-Encoding: base64\n\n'
            + base64.encodebytes(_signed_opaquely(entity.as_bytes())))


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _superbox(uuid: str, label: bytes, *contents: bytes) -> bytes:
    """A JUMBF superbox: its description (its type's UUID, toggles: requestable and labelled, its label), then
    its content boxes."""
    return _box(b"jumb", _box(b"jumd", bytes.fromhex(uuid) + b"\x03" + label + b"\x00") + b"".join(contents))


def _c2pa_edit(jpeg: bytes, ingredient: bytes) -> bytes:
    """`jpeg` with a C2PA manifest store in one APP11 segment: an edit's manifest, which keeps the thumbnail of
    the picture it was made from (its ingredient)."""
    thumbnail = _superbox("40cb0c32bb8a489da70b2ad6f47f4369", b"c2pa.thumbnail.ingredient.jpeg",
                          _box(b"bfdb", b"\x00image/jpeg\x00"), _box(b"bidb", ingredient))
    assertions = _superbox("6332617300110010800000aa00389b71", b"c2pa.assertions", thumbnail)
    store = _superbox("6332706100110010800000aa00389b71", b"c2pa",
                      _superbox("63326d6100110010800000aa00389b71", b"urn:uuid:edit", assertions))
    return jpeg[:2] + _segment(0xEB, b"JP\x02\x11" + struct.pack(">I", 1) + store) + jpeg[2:]


def _png_with_xmp(image: Image.Image, xmp: bytes) -> bytes:
    """A PNG whose XMP (an iTXt chunk, compressed) is `xmp`."""
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp.decode(), zip=True)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def _zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(_dated(name), data)
    return buffer.getvalue()


def _uuencoded(name: bytes, data: bytes) -> bytes:
    lines = b"".join(binascii.b2a_uu(data[at:at + 45]) for at in range(0, len(data), 45))
    return b"begin 644 " + name + b"\n" + lines + b"`\nend\n"


def build_hostile_seizure(directory: Path) -> HostileLayout:
    root = directory.resolve()
    evidence = root / "evidence" / "seized-laptop"
    if (root / "evidence").exists():
        shutil.rmtree(root / "evidence")
    for folder in ("Camera", "archives", "Download", "Scans", "archives/pics.zip!", "Mail", "AppData"):
        (evidence / folder).mkdir(parents=True, exist_ok=True)
    known = {seed: draw_picture(seed, (640, 480)) for seed in range(201, 239)}
    fresh = {seed: draw_picture(seed, (640, 480)) for seed in range(301, 317)}
    layout = HostileLayout(root, evidence, root / "case", [])

    def hide(where: str, data: bytes) -> bytes:
        layout.hidden[where] = hashlib.sha256(data).hexdigest()
        return data

    # A name that is not UTF-8 (Latin-1 é), as FAT and old Windows media hold them.
    latin1_name = os.fsencode(str(evidence / "Camera")) + b"/latin1-\xe9.jpg"
    with open(latin1_name, "wb") as raw:
        raw.write(hide("Camera/latin1-\\xe9.jpg", _jpeg(known[201])))

    # Two members with one name: the second holds the listed picture.
    with zipfile.ZipFile(evidence / "archives/dup-names.zip", "w") as archive:
        archive.writestr(_dated("DCIM/IMG.jpg"), _jpeg(fresh[301]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
            archive.writestr(_dated("DCIM/IMG.jpg"),
                             hide("archives/dup-names.zip, second DCIM/IMG.jpg", _jpeg(known[202])))

    # A member whose name contains the archive separator.
    with zipfile.ZipFile(evidence / "archives/bang.zip", "w") as archive:
        archive.writestr(_dated("x!/y.jpg"), hide("archives/bang.zip member x!/y.jpg", _jpeg(known[203])))

    # A folder `pics.zip!` beside a zip `pics.zip`: both hold an `a.jpg`.
    (evidence / "archives/pics.zip!/a.jpg").write_bytes(hide("archives/pics.zip!/a.jpg (folder)", _jpeg(known[204])))
    with zipfile.ZipFile(evidence / "archives/pics.zip", "w") as archive:
        archive.writestr(_dated("a.jpg"), _jpeg(fresh[302]))

    # A zip whose member name is flagged UTF-8 but is Latin-1.
    (evidence / "archives/misencoded.zip").write_bytes(_zip_with_misencoded_name([
        (b"caf\xe9-000000.jpg", _jpeg(fresh[303])),
        (b"ok-00000000.jpg", hide("archives/misencoded.zip member ok-00000000.jpg", _jpeg(known[205]))),
    ]))

    # A tar member whose name is not UTF-8.
    tar_path = evidence / "archives/latin1.tar"
    with tarfile.open(tar_path, "w", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape") as tar:
        data = hide("archives/latin1.tar member fot\\xf3.jpg", _jpeg(known[206]))
        info = tarfile.TarInfo(os.fsdecode(b"fot\xf3.jpg"))
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    # A PNG whose zTXt chunk inflates past the decoder's text limit (browsers show it fine).
    (evidence / "Download/chunky.png").write_bytes(hide("Download/chunky.png", _png_with_text_bomb(known[207])))

    # A listed picture on page 2 of a scanned document.
    pages = [fresh[304], known[208], fresh[305]]
    (evidence / "Scans/document.tif").write_bytes(_tiff_pages(pages))
    layout.hidden["Scans/document.tif page 2"] = hashlib.sha256(_tiff_pages(pages)).hexdigest()

    # A picture followed by 8 MiB of XMP bait that a quadratic parser never finishes.
    bait = b"<x:xmpmeta " * (XMP_BAIT_BYTES // len(b"<x:xmpmeta "))
    (evidence / "Download/bait.jpg").write_bytes(hide("Download/bait.jpg", _jpeg(known[209]) + bait))

    # A crop of a known picture that keeps the camera's thumbnail of the whole picture in its EXIF.
    thumbnail = known[211].resize((160, 120))
    cropped = known[211].crop((160, 120, 480, 360)).resize((640, 480))
    (evidence / "Camera/IMG_0417.jpg").write_bytes(
        with_exif_thumbnail(_jpeg(cropped), hide("Camera/IMG_0417.jpg, its EXIF thumbnail", _jpeg(thumbnail))))

    # A zip appended to a picture and cut short (its end record lost, as a copy that stopped): only its local
    # headers say it is there.
    behind = io.BytesIO()
    with zipfile.ZipFile(behind, "w") as archive:
        archive.writestr(_dated("saved/0001.jpg", zipfile.ZIP_DEFLATED),
                         hide("Download/holiday.jpg, a zip cut short behind it", _jpeg(known[212])))
    (evidence / "Download/holiday.jpg").write_bytes(_jpeg(fresh[306]) + behind.getvalue()[:-30])

    # A zip whose central directory was forged to list a decoy alone.
    (evidence / "archives/holiday.zip").write_bytes(_zip_listing_a_decoy(
        ("a.jpg", hide("archives/holiday.zip member a.jpg, unlisted by a forged directory", _jpeg(known[213]))),
        ("beach.jpg", _jpeg(fresh[307]))))

    # A picture appended after another picture's end, which viewers never show.
    (evidence / "Camera/PXL_0001.jpg").write_bytes(
        _jpeg(fresh[308]) + hide("Camera/PXL_0001.jpg, after its picture's end", _jpeg(known[214])))

    # An e-mail's attachment, and the second message of a mailbox.
    (evidence / "Mail/holiday.eml").write_bytes(
        _email(hide("Mail/holiday.eml attachment", _jpeg(known[215])), "IMG_2001.jpg"))
    (evidence / "Mail/Inbox").write_bytes(_mbox([
        _email(_jpeg(fresh[309]), "IMG_3001.jpg"),
        _email(hide("Mail/Inbox, second message's attachment", _jpeg(known[216])), "IMG_3002.jpg")]))

    # A forwarded message encoded in base64: its attachment is inside it.
    (evidence / "Mail/forwarded.eml").write_bytes(_forwarded_encoded(
        _email(hide("Mail/forwarded.eml, in a base64 forward", _jpeg(known[219])), "IMG_4001.jpg")))

    # A chat app's SQLite database keeping a picture as a BLOB.
    _chat_database(evidence / "AppData/msgstore.db",
                   [_jpeg(fresh[310]), hide("AppData/msgstore.db BLOB", _jpeg(known[217]))])

    # A saved web page with a picture inline as a data: URI.
    inline = base64.b64encode(hide("Download/saved-page.html data: URI", _jpeg(known[218]))).decode()
    decoy = base64.b64encode(_jpeg(fresh[311])).decode()
    (evidence / "Download/saved-page.html").write_text(
        f'<!DOCTYPE html>\n<html><body><img src="data:image/jpeg;base64,{decoy}">\n'
        f'<img alt="x" src="data:image/jpeg;base64,{inline}"></body></html>\n')

    # A style sheet whose picture is far past the first bytes a scan types a file by, and a file of base64.
    rules = "".join(f".icon-{n} {{ width: {n}px; }}\n" for n in range(3000))
    icon = base64.b64encode(hide("Download/site.css data: URI, far in", _jpeg(known[220]))).decode()
    banner = f".banner {{ background: url(data:image/jpeg;base64,{icon}); }}\n"
    (evidence / "Download/site.css").write_text(rules + banner)
    (evidence / "Download/IMG_5001.b64").write_bytes(
        base64.encodebytes(hide("Download/IMG_5001.b64, a file of base64", _jpeg(known[221]))))

    # A phone portrait keeping the picture before its blur in its XMP; a screenshot's EXIF thumbnail of another
    # picture; an MP3's cover art.
    (evidence / "Camera/PXL_PORTRAIT.jpg").write_bytes(_portrait(
        _jpeg(fresh[312]), hide("Camera/PXL_PORTRAIT.jpg, the picture before its blur (XMP)", _jpeg(known[222]))))
    (evidence / "Download/screenshot.png").write_bytes(_png_with_exif_thumbnail(
        fresh[313], hide("Download/screenshot.png, its EXIF thumbnail (eXIf)", _jpeg(known[223].resize((160, 120))))))
    (evidence / "Music").mkdir(exist_ok=True)
    (evidence / "Music/track01.mp3").write_bytes(
        _mp3_with_cover(hide("Music/track01.mp3, its cover art", _jpeg(known[224]))))

    # Places read since 2 December: an attachment inside an opaque S/MIME signature; a picture appended to an
    # SQLite database, after its pages; a C2PA ingredient thumbnail; base64 in a PNG's XMP property; cover art in
    # an APE tag and in an ID3v2.4 tag after an MP3's sound; a file uuencoded in a text; a zip in a data: URI;
    # base64 after a text's long preamble.
    (evidence / "Mail/signed.eml").write_bytes(_smime_email(
        hide("Mail/signed.eml, in its S/MIME signature (smime.p7m)", _jpeg(known[225])), "IMG_6001.jpg"))
    _chat_database(evidence / "AppData/cache.db", [_jpeg(fresh[314])])
    with (evidence / "AppData/cache.db").open("ab") as database:
        database.write(hide("AppData/cache.db, after the database's pages", _jpeg(known[226])))
    (evidence / "Camera/edited.jpg").write_bytes(_c2pa_edit(_jpeg(fresh[315]), hide(
        "Camera/edited.jpg, its C2PA ingredient thumbnail", _jpeg(known[227].resize((320, 240))))))
    copy = base64.b64encode(hide("Download/poster.png, base64 in its XMP", _jpeg(known[228].resize((320, 240)))))
    (evidence / "Download/poster.png").write_bytes(_png_with_xmp(fresh[316], (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:my="http://example.invalid/my/"><my:Copy>' + copy
        + b"</my:Copy></rdf:Description></rdf:RDF></x:xmpmeta>")))
    (evidence / "Music/track02.mp3").write_bytes(_mp3_with_tag_at_its_end(
        hide("Music/track02.mp3, cover art in an APE tag at its end", _jpeg(known[229])), ape=True))
    (evidence / "Music/track03.mp3").write_bytes(_mp3_with_tag_at_its_end(
        hide("Music/track03.mp3, cover art in an ID3v2.4 tag at its end", _jpeg(known[230])), ape=False))
    (evidence / "Download/post.txt").write_bytes(b"As promised, the pictures:\n\n" + _uuencoded(
        b"IMG_7001.jpg", hide("Download/post.txt, a uuencoded file", _jpeg(known[231]))))
    zipped = base64.b64encode(_zipped({"photos/IMG_8001.jpg": hide("Download/app.js, a zip in a data: URI",
                                                                   _jpeg(known[232]))}))
    (evidence / "Download/app.js").write_bytes(b"const bundle = 'data:application/zip;base64," + zipped + b"';\n")
    preamble = b"".join(b"X-Exported-Field-%d: a value of the export, and some words after it\n" % n
                        for n in range(100))  # 6 KB of text before the base64
    (evidence / "Download/export.txt").write_bytes(preamble + b"\n" + base64.encodebytes(
        hide("Download/export.txt, base64 after 6 KB of text", _jpeg(known[233]))))

    # Places read since e671fed: cover art in an ID3v2.3 tag after an AAC's frames; a picture
    # appended after an S/MIME signature's end; a picture in a `free` box after a video's last box; a zip behind
    # a self-extracting program inside a zip; base64 on a Word 2003 document's binData line.
    (evidence / "Music/memo.aac").write_bytes(_aac_with_tag_at_its_end(
        hide("Music/memo.aac, cover art in an ID3v2.3 tag after its frames", _jpeg(known[234]))))
    (evidence / "Mail/smime.p7s").write_bytes(_signed_opaquely(b"signed text\r\n") + hide(
        "Mail/smime.p7s, after the signature's end", _jpeg(known[235])))
    _mp4_with_box_at_its_end(evidence / "Camera/VID_0002.mp4", fresh[303], hide(
        "Camera/VID_0002.mp4, in a free box after its last", _jpeg(known[236])))
    (evidence / "archives/tools.zip").write_bytes(_zipped({"setup.exe": _self_extractor(
        ("IMG_9001.jpg", hide("archives/tools.zip member setup.exe, a zip behind the program", _jpeg(known[237]))))}))
    binary = base64.b64encode(hide("Download/report.xml, base64 in a Word 2003 binData", _jpeg(known[238])))
    (evidence / "Download/report.xml").write_bytes(
        b'<?xml version="1.0"?>\n<w:wordDocument xmlns:w="http://schemas.microsoft.com/office/word/2003/wordml">'
        b'<w:body><w:p><w:r><w:pict><w:binData w:name="wordml://02000001.jpg">' + binary
        + b"</w:binData></w:pict></w:r></w:p></w:body></w:wordDocument>\n")

    # Links out of the evidence: never followed, so the picture outside is never read.
    layout.outside = root / "outside.jpg"
    layout.outside.write_bytes(_jpeg(known[210]))
    os.symlink("/etc/hostname", evidence / "Download/absolute-link")
    os.symlink(os.path.relpath(layout.outside, evidence / "Download"), evidence / "Download/up-link.jpg")

    lists = root / "lists"
    if lists.exists():
        shutil.rmtree(lists)
    lists.mkdir()
    pdq = {seed: pdq_from_image(picture).hash for seed, picture in known.items()}
    # Meta's reference format: bare 64-hex PDQ hashes, one a line, with an all-zero entry.
    (lists / "meta-pdq.txt").write_text("\n".join([pdq[207], pdq[208], "0" * 64, pdq[210], pdq[211], pdq[223],
                                                  pdq[227]]) + "\n")
    # python-threatexchange's file exchange: `<signal_type> <value>` lines.
    signals = (202, 205, 209, 214, 216, 218, 220, 222, 228)
    (lists / "tx-signals.txt").write_text("".join(f"pdq {pdq[seed]}\n" for seed in signals))
    # NSRL RDS 2.x `NSRLFile.txt`.
    with (lists / "NSRLFile.txt").open("w", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(["SHA-1", "MD5", "CRC32", "FileName", "FileSize", "ProductCode", "OpSystemCode",
                         "SpecialCode"])
        for seed in (201, 206):
            data = _jpeg(known[seed])
            writer.writerow([hashlib.sha1(data, usedforsecurity=False).hexdigest().upper(),
                             hashlib.md5(data, usedforsecurity=False).hexdigest().upper(),
                             f"{zlib.crc32(data):08X}", f"known-{seed}.jpg", str(len(data)), "1", "362", ""])
    # A partner CSV with a `hash` column of SHA-256 values.
    with (lists / "partner.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["hash", "category", "label"])
        for seed in (203, 204, 212, 213, 215, 217, 219, 221, 224, 225, 226, 229, 230, 231, 232, 233, 234, 235, 236,
                     237, 238):
            writer.writerow([hashlib.sha256(_jpeg(known[seed])).hexdigest(), "1", f"known {seed}"])
    layout.lists = sorted(lists.iterdir())
    return layout
