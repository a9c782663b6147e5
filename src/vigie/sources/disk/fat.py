"""Vigie's own FAT reader (`sources/fatdir.py`) beside The Sleuth Kit: its volume, FAT volume labels, the
entries The Sleuth Kit drops, lists as live while they are deleted on disk, or lists as orphans while Vigie's
reader found them in their deleted folder (items of their own, with notes), and what the cross-check records
against the partition."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from vigie.sources.base import Entry, escape_name
from vigie.sources.disk.names import SLASH_NOTE, component
from vigie.sources.disk.own import OwnFile
from vigie.sources.fatdir import (
    LABEL_SUFFIX,
    ROOT_ADDRESS,
    DirectoryEntries,
    FatEntry,
    FatLayoutError,
    FatVolume,
    Survey,
)

_SKIPPED_NOTE = ("The Sleuth Kit skipped this file's directory entry (a byte FAT forbids in its short name, or in "
                 "a folder's above it): Vigie's own FAT reader read it",)
_ERASED_NOTE = ("The Sleuth Kit listed this file as live, but its directory entry on disk is a deleted one (first byte "
                "0xE5): it read this FAT volume in its \"Android\" mode (no entry of its root folder holds a valid 8.3 "
                "name), where deleted entries count as live. Vigie's own FAT reader recovered it as a deleted file",)
_ERASED_UNREAD = ("deleted file The Sleuth Kit listed as live (its FAT directory entry starts 0xE5) that Vigie's own "
                  "FAT reader did not find: content not read")
_READ_ON = ("Vigie's own FAT reader read on through the free clusters after the folder's first that hold directory "
            "entries, the folder's clusters assumed contiguous (as a deleted file's are)")
_LATER_CLUSTER_NOTE = ("found in a later cluster of a deleted folder: The Sleuth Kit reads such a folder from its "
                       "first cluster only, and its search of free clusters for orphan entries missed this one (it "
                       "passes over an entry that fails its checks, as one holding a byte FAT forbids does, and every "
                       "entry of a sector whose first entry fails them). " + _READ_ON,)
_NOT_FOLDER_NOTE = ("its directory entry is marked as a folder, but its content is not a folder (a FAT folder starts "
                    "with its \".\" and \"..\" entries): Vigie's own FAT reader read it as a file, as far as its "
                    "size covers",)
_SIZED_FOLDER_NOTE = ("its directory entry is marked as a folder and starts like one, but records a size, as no "
                      "folder's does (a file hidden behind folder entries?): read as a folder, and as a file as far "
                      "as its size covers",)
_MARKED_LONG_NAME_NOTE = ("its directory entry is marked as a long-name piece (attributes 0x0F), as which The Sleuth "
                          "Kit reads it and leaves the file out, but it holds a first cluster, as no long-name piece "
                          "does: Vigie's own FAT reader read it as a file",)
LABEL_NOTE = ("a FAT volume label entry pointing at content (a real label has no first cluster and no size: a "
              "hostile or corrupt file system?): read as a file, as far as its size covers",)


def fat_volume(fs: Any, read_at: Callable[[int, int], bytes], offset: int) -> FatVolume | str | None:
    """Vigie's own reader of a FAT file system; None for another file system; text: why it cannot run."""
    bits = _fat_bits(fs)
    if bits is None:
        return None
    try:
        return FatVolume(read_at, offset, bits)
    except (FatLayoutError, OSError) as exc:
        return f"Vigie's own FAT reader could not cross-check The Sleuth Kit's listing: {exc}"


def _fat_bits(fs: Any) -> int | None:
    """12, 16 or 32 for a FAT file system; None for another."""
    import pytsk3

    return {pytsk3.TSK_FS_TYPE_FAT12: 12, pytsk3.TSK_FS_TYPE_FAT16: 16,
            pytsk3.TSK_FS_TYPE_FAT32: 32}.get(int(fs.info.ftype))


def fat_labels(fs: Any, read_at: Callable[[int, int], bytes], offset: int) -> Callable[[int], bytes | None] | None:
    """On FAT12/16/32 (at `offset` in the media): the volume label entry at a metadata address, read from disk."""
    return None if _fat_bits(fs) is None else DirectoryEntries(read_at, offset).label


def fat_label(name: bytes, address: int, labels: Callable[[int], bytes | None] | None) -> bytes | None:
    """The volume label entry The Sleuth Kit lists as the regular file `name` ("NAME (Volume Label Entry)"),
    told by its attributes on disk; None for any other file (one merely named so included)."""
    return labels(address) if labels is not None and name.endswith(LABEL_SUFFIX) else None


def erased_as_live(deleted: bool, kind: Any, address: int, fat_erased: Callable[[int], bool] | None) -> bool:
    """A regular file The Sleuth Kit lists as live whose FAT directory entry is a deleted one on disk."""
    import pytsk3

    return not deleted and kind == pytsk3.TSK_FS_META_TYPE_REG and fat_erased is not None and fat_erased(address)


def fat_survey(fat: FatVolume | str | None) -> Survey | None:
    """What Vigie's own FAT reader tells of the entries The Sleuth Kit lists, where it runs."""
    return fat.survey() if isinstance(fat, FatVolume) else None


def fat_name(survey: Survey | None, name: bytes, address: int, folder: bool = False) -> tuple[bytes, tuple[str, ...]]:
    """The name to list for the entry at `address` that The Sleuth Kit names `name`, and what is said of it (of
    a `folder`: on the partition, as a folder has no item): its 8.3 name where The Sleuth Kit took long-name
    pieces that are not the entry's for its name (a long name is forged by placing pieces before any entry;
    their checksum must be the 8.3 name's)."""
    short = survey.short_names.get(address) if survey is not None else None
    if short is None or component(short) == name:
        return name, ()
    return component(short), (
        f"The Sleuth Kit showed {'a folder' if folder else 'this file'} by the long name {escape_name(name)}, but "
        f"those long-name entries do not belong to it (their checksum does not match its short name "
        f"{escape_name(short)}, or some are missing: a forged or corrupt directory entry): shown by its short "
        f"name{', the path of the files below it' if folder else ''}",)


def fat_shared(survey: Survey | None, address: int) -> tuple[str, ...]:
    """Said of a file some of whose clusters other entries claim too (cross-linked cluster chains)."""
    others = survey.shared.get(address) if survey is not None else None
    if not others:
        return ()
    shown = ", ".join(escape_name(b"/".join(map(component, path))) if path else "the root folder" for path in others)
    return (f"its clusters are also claimed by {shown} (cross-linked cluster chains: a corrupt or hostile file "
            f"system): its content may be another file's, not its own",)


def fat_skipped(fat: FatVolume, listed: dict[int, bytes], erased: set[int], moved: set[int],
                number: Callable[[bytes], str], found: dict[str, OwnFile] | None) -> Iterator[Entry]:
    """The files Vigie's FAT reader finds that The Sleuth Kit did not list (`listed`: what it did), listed as
    live while they are deleted on disk (`erased`), listed as a folder while its content is not one, or listed as
    orphans while Vigie's reader found them in their deleted folder (`moved`: at that folder's path, with their
    long names), as entries of their own, their paths numbered by the walk's `number`; folders keep the paths The
    Sleuth Kit gave them. Each is also put in `found` by relpath."""
    folders = {ROOT_ADDRESS: b""}
    unread = set(erased)
    survey = fat.survey()  # before the pass below: each pass starts afresh
    for file in fat.entries():
        # found in a deleted folder's later cluster: at its path, as The Sleuth Kit lists such entries as orphans
        placed = None if file.later_cluster else listed.get(file.address)
        path = placed or folders[file.parent] + b"/" + component(file.name)
        if file.is_dir:
            folders[file.address] = path
            if file.size:  # no folder records a size, deleted or not: its bytes are read as a file too
                yield _fat_item(fat, survey, file, path, erased, None, False, number, found)
            continue
        if (file.address in listed and file.address not in erased and file.address not in moved
                and not file.not_folder):
            continue
        unread.discard(file.address)
        yield _fat_item(fat, survey, file, path, erased, listed.get(file.address) if file.address in moved else None,
                        file.address not in listed, number, found)
    for address in sorted(unread):  # past where Vigie's reader ends a folder: read alone, never a silent miss
        alone = fat.entry_at(address)
        yield _fat_item(fat, survey, alone, listed[address], erased, None, False, number, found) \
            if alone is not None else Entry(relpath=number(listed[address]), inode=address, deleted=True,
                                            error=_ERASED_UNREAD)


def _fat_item(fat: FatVolume, survey: Survey, file: FatEntry, path: bytes, erased: set[int], orphan: bytes | None,
              skipped: bool, number: Callable[[bytes], str], found: dict[str, OwnFile] | None) -> Entry:
    """A file Vigie's FAT reader reads in The Sleuth Kit's stead, at `path` (`orphan`: where The Sleuth Kit lists
    it as an orphan; `skipped`: it does not list it at all), with what is said of it."""
    relpath = number(path)
    runs, error = fat.content(file)
    if found is not None:
        found[relpath] = OwnFile(file.address, file.size, runs, error)
    said = _ERASED_NOTE if file.address in erased else _orphan_note(orphan) if orphan is not None \
        else _LATER_CLUSTER_NOTE if file.later_cluster else _MARKED_LONG_NAME_NOTE if file.marked_long_name \
        else _SKIPPED_NOTE if skipped else ()
    return Entry(relpath=relpath, size=file.size, mtime=file.mtime, ctime=file.ctime, atime=file.atime,
                 inode=file.address, deleted=file.deleted, error=error,
                 notes=said + (_NOT_FOLDER_NOTE if file.not_folder else ())
                 + (_SIZED_FOLDER_NOTE if file.is_dir else ()) + (SLASH_NOTE if b"\0" in path else ())
                 + (LABEL_NOTE if file.label else ()) + _code_page_note(file.stored_name)
                 + fat_shared(survey, file.address))


def _orphan_note(orphan: bytes) -> tuple[str, ...]:
    """Said of a file The Sleuth Kit lists as an orphan at `orphan` that Vigie's reader found in its folder."""
    return (f"found in a later cluster of a deleted folder: The Sleuth Kit reads such a folder from its first cluster "
            f"only, and lists this file only as an orphan, by its 8.3 name, at "
            f"{escape_name(orphan.lstrip(b'/'))} (found by its search of free clusters; the same directory entry, "
            f"told by its address). {_READ_ON}, and gives it its folder (and its long name, where one survives)",)


def _code_page_note(stored_name: bytes | None) -> tuple[str, ...]:
    """Said where an 8.3 name's bytes past ASCII are shown as "^": the bytes as stored, as nothing is lost."""
    if stored_name is None:
        return ()
    # each byte past printable ASCII, and a backslash, as \xNN: no letter guessed from a code page
    stored = "".join(chr(byte) if 0x20 <= byte <= 0x7E and byte != 0x5C else f"\\x{byte:02x}" for byte in stored_name)
    return (f"its 8.3 name holds bytes past ASCII, shown as ^ as The Sleuth Kit shows them (FAT does not record the "
            f"code page they were written in); as stored: {stored}",)


def fat_said(fat: FatVolume | str | None) -> list[str]:
    """What the FAT cross-check records against the partition, once the walk is done."""
    return [fat] if isinstance(fat, str) else fat.said() if fat is not None else []
