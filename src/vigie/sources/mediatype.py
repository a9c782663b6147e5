"""Media type from content (magic bytes), never from the file name."""

from __future__ import annotations

import re

from vigie.sources.audio_pictures import AUDIO_TYPES, audio_type
from vigie.sources.cms import COMPRESSED_TYPE, ENCRYPTED_NOTE, ENCRYPTED_TYPE, SIGNED_TYPE, cms_type
from vigie.sources.data_uris import HTML_TYPE, SVG_TYPE, markup_type
from vigie.sources.mail import MAIL_TYPE, MBOX_TYPE, is_emlx, is_mail, is_mbox
from vigie.sources.textborne import BASE64_TYPE, TEXT_TYPE, base64_head

SNIFF_BYTES = 512
EWF_TYPE = "application/x-ewf"  # an EnCase E01 segment
SQLITE_TYPE = "application/vnd.sqlite3"  # its BLOBs may be pictures (vigie.sources.sqlite_blobs)
SQLITE_WAL_TYPE = "application/vnd.sqlite3-wal"  # a database's latest changes, beside it: not merged in
OUTLOOK_TYPE = "application/vnd.ms-outlook"  # a PST or OST data file: its mail and attachments not read

IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff", "image/heic",
     "image/heif", "image/avif", "image/jp2", "image/qoi", "image/x-portable-anymap",
     "image/vnd.adobe.photoshop", "image/vnd.microsoft.icon", "image/x-icns", "image/vnd.ms-dds", "image/x-pcx",
     "image/sgi", "image/x-tga"}
)
ARCHIVE_TYPES = frozenset(
    {"application/zip", "application/x-tar", "application/gzip", "application/x-bzip2", "application/x-xz",
     MAIL_TYPE, MBOX_TYPE, SQLITE_TYPE, HTML_TYPE, SVG_TYPE, TEXT_TYPE, BASE64_TYPE, SIGNED_TYPE, COMPRESSED_TYPE}
) | AUDIO_TYPES  # an audio file's members are the pictures of its tags (vigie.sources.audio_pictures)
# What is read by its own structure (a message, a page, an audio file's tags, ...) and may still have a zip appended
# to it, as any file may: looked for behind it too. Not archives proper, whose own readers read what follows them,
# nor a database, whose last BLOB may be a zip ending with its own end record, nor an S/MIME signature, whose
# content may be a zip (a signed `.zip.p7m`) followed by the signer's certificate.
_READ_BY_STRUCTURE = ARCHIVE_TYPES - {"application/zip", "application/x-tar", "application/gzip",
                                      "application/x-bzip2", "application/x-xz", SQLITE_TYPE, SIGNED_TYPE}
# what base64 is not taken for: nothing typed, or a format told by loose checks (no magic) that garbage can pass
NOT_FROM_BASE64 = frozenset({"application/octet-stream", "application/x-empty", "image/x-tga", "image/x-pcx"})

# Archives typed but not read: their members could be known pictures, so each says so on its item.
UNREAD_ARCHIVES = {
    "application/zstd": ("zstd-compressed", (b"\x28\xb5\x2f\xfd",)),
    "application/x-lz4": ("LZ4-compressed", (b"\x04\x22\x4d\x18", b"\x02\x21\x4c\x18")),
    "application/x-7z-compressed": ("7-Zip", (b"7z\xbc\xaf\x27\x1c",)),
    "application/vnd.rar": ("RAR", (b"Rar!\x1a\x07\x00", b"Rar!\x1a\x07\x01\x00")),
}

_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}
_QUICKTIME_BRANDS = {b"qt  "}
_3GP_PREFIXES = (b"3gp", b"3g2")


_BMP_HEADERS = {12, 40, 52, 56, 64, 108, 124}  # the sizes of the bitmap headers Windows and OS/2 define
_PNM = re.compile(rb"P[1-6]\s+(#[^\n]*\n\s*)*\d+\s+\d+\s")  # PBM, PGM, PPM: magic, width and height


def _old_tar(head: bytes) -> bool:
    """A tar header without the ustar magic (v7, as `tar --format=v7` writes): its checksum is the proof."""
    if len(head) < 512 or not head[0] or head[257:262] == b"ustar":
        return False
    field = head[148:156].replace(b"\x00", b" ").strip()
    if not field or not all(48 <= c <= 55 for c in field):
        return False
    return int(field, 8) == sum(head[:148]) + 8 * 32 + sum(head[156:512])


def _iso_bmff(head: bytes) -> str | None:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    brands = {major} | {head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
    if major in _AVIF_BRANDS:
        return "image/avif"
    if major in _HEIC_BRANDS:
        return "image/heic"
    if major in _HEIF_BRANDS:
        if brands & _AVIF_BRANDS:
            return "image/avif"
        return "image/heic" if brands & _HEIC_BRANDS else "image/heif"
    if major in _QUICKTIME_BRANDS:
        return "video/quicktime"
    if major.startswith(_3GP_PREFIXES):
        return "video/3gpp"
    return "video/mp4"


def _jpeg_after_stray_bytes(head: bytes) -> bool:
    """A start of image, then a few stray bytes before its first segment: libjpeg skips them and decodes it."""
    if not head.startswith(b"\xff\xd8"):
        return False
    marker = head.find(b"\xff", 2, 64)
    return 0 < marker < len(head) - 1 and 0xC0 <= head[marker + 1] <= 0xFE


def _icon(head: bytes) -> bool:
    """A Windows icon directory: its count, and a first entry whose reserved byte is zero and whose image lies
    past the directory (four bytes of zeros and a one alone start many other files)."""
    if len(head) < 22 or not head.startswith(b"\x00\x00\x01\x00"):
        return False
    count = int.from_bytes(head[4:6], "little")
    return 0 < count <= 256 and head[9] == 0 and int.from_bytes(head[18:22], "little") >= 6 + 16 * count


def _pcx(head: bytes) -> bool:
    """A PCX header: its maker byte, a version PCX has, run-length encoding, and a bit depth it allows."""
    return len(head) >= 128 and head[0] == 0x0A and head[1] in (0, 2, 3, 4, 5) and head[2] == 1 \
        and head[3] in (1, 2, 4, 8)


def _more_pictures(head: bytes) -> str | None:
    """Picture formats Pillow decodes that editors, icons and textures keep (a known picture saved as one)."""
    if head.startswith((b"8BPS\x00\x01", b"8BPS\x00\x02")):
        return "image/vnd.adobe.photoshop"
    if _icon(head):
        return "image/vnd.microsoft.icon"
    if head.startswith(b"icns") and int.from_bytes(head[4:8], "big") >= 8:
        return "image/x-icns"
    if head.startswith(b"DDS \x7c\x00\x00\x00"):
        return "image/vnd.ms-dds"
    if head.startswith(b"\x01\xda") and len(head) >= 4 and head[2] in (0, 1) and head[3] in (1, 2):
        return "image/sgi"
    if _pcx(head):
        return "image/x-pcx"
    return "image/x-tga" if _tga(head) else None


def _tga(head: bytes) -> bool:
    """A Targa header, which has no magic: a colour-map flag, an image type and a pixel depth Targa defines, a
    size, and the descriptor's reserved bits clear (a one-in-a-million chance for other bytes)."""
    return len(head) >= 18 and head[1] in (0, 1) and head[2] in (1, 2, 3, 9, 10, 11) \
        and int.from_bytes(head[12:14], "little") > 0 and int.from_bytes(head[14:16], "little") > 0 \
        and head[16] in (8, 15, 16, 24, 32) and not head[17] & 0xC0 and (head[1] == 1) == (head[2] in (1, 9))


def sniff(head: bytes) -> str:
    """Media type of content starting with `head` (at least SNIFF_BYTES when the content is that long)."""
    if not head:
        return "application/x-empty"
    if head.startswith(b"\xff\xd8\xff") or _jpeg_after_stray_bytes(head):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head.startswith(b"BM") and len(head) >= 18 and (int.from_bytes(head[2:6], "little") > 14
                                                       or int.from_bytes(head[14:18], "little") in _BMP_HEADERS):
        return "image/bmp"  # a writer may leave the file-size field 0: the bitmap header's size still says
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):  # TIFF and BigTIFF
        return "image/tiff"
    if head.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")):
        return "image/jp2"
    if head.startswith(b"qoif"):
        return "image/qoi"
    if _PNM.match(head):
        return "image/x-portable-anymap"
    iso = _iso_bmff(head)
    if iso:
        return iso
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "application/zip"
    if head.startswith(b"\x1f\x8b"):
        return "application/gzip"
    if head.startswith(b"BZh"):
        return "application/x-bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "application/x-xz"
    if (len(head) >= 262 and head[257:262] == b"ustar") or _old_tar(head):
        return "application/x-tar"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    for media_type, (_, magics) in UNREAD_ARCHIVES.items():
        if head.startswith(magics):
            return media_type
    if head.startswith(b"EVF\x09\x0d\x0a\xff\x00"):
        return EWF_TYPE
    if head.startswith(b"SQLite format 3\x00"):
        return SQLITE_TYPE
    if head.startswith((b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")):
        return SQLITE_WAL_TYPE
    if head.startswith(b"!BDN"):
        return OUTLOOK_TYPE
    if (cms := cms_type(head)) is not None:  # an S/MIME signature or compression (read), encryption (said)
        return cms
    if (markup := markup_type(head)) is not None:
        return markup
    if is_mbox(head):
        return MBOX_TYPE
    if is_mail(head) or is_emlx(head):
        return MAIL_TYPE
    if (audio := audio_type(head)) is not None:
        return audio
    if (decoded := base64_head(head)) is not None and sniff(decoded) not in NOT_FROM_BASE64:
        return BASE64_TYPE
    return _more_pictures(head) or "application/octet-stream"


def unread_archive_note(media_type: str) -> str | None:
    """What to record against an archive Vigie types but does not open."""
    if media_type == SQLITE_WAL_TYPE:
        return ("an SQLite write-ahead log: the latest changes of the database beside it, which its BLOBs read "
                "from the database alone do not hold, and which may be known pictures; not read (checkpoint a copy "
                "of the database with its log, and scan that)")
    if media_type == ENCRYPTED_TYPE:
        return ENCRYPTED_NOTE
    if media_type == OUTLOOK_TYPE:
        return ("an Outlook data file (PST or OST): Vigie does not read the mail it holds, whose attachments may "
                "be known pictures; export its attachments with a tool that does (e.g. pffexport, from Debian's "
                "pff-tools) and scan them")
    if media_type not in UNREAD_ARCHIVES:
        return None
    name = UNREAD_ARCHIVES[media_type][0]
    return (f"a {name} archive: Vigie does not read what it holds, which may be known pictures; extract it "
            "with a tool that reads it, and scan what it gives")


def is_image(media_type: str) -> bool:
    return media_type in IMAGE_TYPES


def is_video(media_type: str) -> bool:
    return media_type.startswith("video/")


def is_archive(media_type: str) -> bool:
    return media_type in ARCHIVE_TYPES


def may_hide_a_zip_behind(media_type: str) -> bool:
    """Whether a zip behind a file of this type is looked for (after its own members, for one read by its own
    structure)."""
    return not is_archive(media_type) or media_type in _READ_BY_STRUCTURE


_FRAME_WORDS = {"image/tiff": "page", "image/heic": "image", "image/heif": "image", "image/jpeg": "image"}


def frame_name(media_type: str | None, index: int) -> str:
    """How a person names a later picture of a file: "page 3" of a TIFF, "image 2" of an MPO or HEIF
    collection, "frame 3" of an animation. `index` counts from 0."""
    return f"{_FRAME_WORDS.get(media_type or '', 'frame')} {index + 1}"
