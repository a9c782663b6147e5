"""The file systems of a disk image, as The Sleuth Kit reads them through `media.Media`: one per allocated
partition of its MBR, GPT or Apple partition map, or the one filling the image; each with the error or note
recorded against its partition. A GPT's two headers are checked here (The Sleuth Kit reads the primary whatever
its CRC32s say): a damaged or disagreeing pair is said on the image, and partitions a sound backup alone lists
are read from it. So are partitions a sound GPT lists that an MBR The Sleuth Kit reads instead does not (a disk
relabelled over a GPT left whole)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vigie.sources.apm import read_apm
from vigie.sources.disk.media import Media
from vigie.sources.ewf import EwfError
from vigie.sources.gpt import GptCheck, GptHeader, GptPartition, check_gpt, sound
from vigie.sources.mbr import MOST_LOGICAL, SECTOR, is_protective, read_mbr

# The Sleuth Kit's bindings raise RuntimeError where a read of ours failed inside it
TSK_ERRORS = (OSError, RuntimeError)
_BEYOND_ANY_DISK = 1 << 60  # bytes: a size no partition table entry exceeds
_LARGE_SECTOR = 4096  # a 4Kn disk's logical sector
# The partition table The Sleuth Kit read: its block size, its allocated partitions (start, length in blocks,
# kind) and its scheme ("MBR", "GPT", ...)
_Table = tuple[int, list[tuple[int, int, str]], str]


@dataclass(frozen=True)
class FileSystem:
    label: str  # "p1", ...: the partition component of item paths
    offset: int  # bytes from the image's start
    description: str
    error: str | None = None  # no file system read
    note: str | None = None  # read, with this said against the partition


def tsk_image(media: Media, size: int | None = None) -> Any:
    """The media as The Sleuth Kit reads it; `size` makes it claim more bytes than it holds (reads past the
    end come back short)."""
    import pytsk3

    class TskImage(pytsk3.Img_Info):  # type: ignore[misc]  # The Sleuth Kit reads through our media
        def __init__(self) -> None:
            super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

        def read(self, offset: int, length: int) -> bytes:
            try:
                return media.read_at(offset, length)
            except EwfError as exc:  # an empty read, as past a cut image's end: an exception here fails all of TSK
                media.unread = str(exc)
                return b""

        def get_size(self) -> int:
            return media.size if size is None else size

        def close(self) -> None:  # the media is closed by its owner
            pass

    return TskImage()


def file_systems(media: Media) -> list[FileSystem]:
    """The file systems of the image: one per allocated partition (an error where none is readable), or the
    whole image's; empty when there is neither. Partitions a sound backup GPT lists and the primary (read by
    The Sleuth Kit) does not are read too, and so are those a sound GPT lists and an MBR read instead does not."""
    import pytsk3

    image = tsk_image(media)
    table = _tsk_table(media, image)
    gpt = check_gpt(media.read_at, media.size)
    alone = _gpt_alone(gpt, table)
    beside = _table_beside(table)
    if gpt is not None and alone and (table is None or _protective(table[1])):  # no primary GPT read at all
        return [_from_gpt(image, media, gpt, number, part, beside) for number, part in enumerate(alone, 1)]
    if table is not None:
        block_size, parts, _ = table
    elif apm := read_apm(media.read_at):  # a map in blocks The Sleuth Kit does not read
        block_size, parts = apm[0], [(part.start, part.blocks, part.kind) for part in apm[1]]
    else:
        try:
            pytsk3.FS_Info(image, offset=0)
        except TSK_ERRORS:
            return []
        return [FileSystem("p0", 0, "the file system filling the image")]
    iso_end = _hybrid_iso_end(image, parts)
    systems = [FileSystem("p0", 0, "the ISO 9660 file system filling the image")] if iso_end else []
    if not iso_end and all(start for start, _, _ in parts):
        systems += _filling_beside_a_table(image)
    starts = {start * block_size for start, _, _ in parts}
    for number, (start, length, kind) in enumerate(parts, 1):
        system = _partition(image, media, number, start, length, block_size, kind)
        if system.error and table is not None and table[2] == "MBR" and block_size == SECTOR \
                and start * _LARGE_SECTOR not in starts:
            system = _in_large_sectors(image, media, number, start, length, kind) or system
        if not (system.error and _holds_no_file_system(start + length, kind, block_size, iso_end)):
            systems.append(system)
    if gpt is not None:
        systems += [_from_gpt(image, media, gpt, number, part, beside)
                    for number, part in enumerate(alone, len(parts) + 1)]
    if table is not None and table[2] in ("MBR", "GPT") and block_size == SECTOR:
        read = {start * block_size for start, _, _ in parts} | {part.first * gpt.sector for part in alone if gpt}
        systems += _mbr_alone(image, media, read, table[2], len(parts) + len(alone) + 1)
    return systems


def _in_large_sectors(image: Any, media: Media, number: int, start: int, sectors: int,
                      kind: str) -> FileSystem | None:
    """An MBR partition with no file system where its entry points in 512-byte sectors, read where it points in
    4,096-byte ones: a 4Kn disk's (many USB drives present such sectors), which an MBR does not say; None where
    there is none either."""
    system = _partition(image, media, number, start, sectors, _LARGE_SECTOR, kind,
                        "its MBR counts in 4,096-byte sectors (a 4Kn disk): read there")
    return None if system.error else system


def _filling_beside_a_table(image: Any) -> list[FileSystem]:
    """A file system that starts at the image's first byte although a partition table was read there: a
    whole-disk volume whose boot code passes for an MBR (an exFAT card's may), read as well."""
    import pytsk3

    try:
        pytsk3.FS_Info(image, offset=0)
    except TSK_ERRORS:
        return []
    return [FileSystem("p0", 0, "the file system filling the image",
                       note="a file system fills the image from its first byte, where a partition table was read "
                            "too: both are read")]


def _mbr_alone(image: Any, media: Media, read: set[int], scheme: str, first: int) -> list[FileSystem]:
    """The partitions the MBR lists that The Sleuth Kit did not read (no partition read starts where they do):
    those of a hybrid MBR beside the GPT it read, and logical partitions past the 128 it reads of a chain."""
    listed = read_mbr(media.read_at)
    said = ("read from the MBR (a hybrid MBR): the GPT does not list it" if scheme == "GPT" else
            "read from the MBR by hand: The Sleuth Kit did not list it (it stops an extended partition's chain "
            "after 128 logical partitions)")
    unread = [part for part in listed.partitions
              if not is_protective(part.kind) and part.start * SECTOR not in read]
    systems = [_partition(image, media, number, part.start, part.sectors, SECTOR, f"0x{part.kind:02x}", said)
               for number, part in enumerate(unread, first)]
    if listed.chain_cut:
        label = f"p{first + len(unread)}"
        error = (f"an extended partition's chain of logical partitions goes on past {MOST_LOGICAL:,} of them: the "
                 "partitions after those were not read")
        systems.append(FileSystem(label, 0, "the rest of the extended partition's chain", error))
    return systems


def _tsk_table(media: Media, image: Any) -> _Table | None:
    """The block size, allocated partitions (start, length in blocks, kind) and scheme of the partition table The
    Sleuth Kit reads; None where it reads none."""
    import pytsk3

    try:
        volume = pytsk3.Volume_Info(image)
    except TSK_ERRORS:
        try:  # TSK refuses a whole table where one entry points past the image's end; read the others
            volume = pytsk3.Volume_Info(tsk_image(media, _BEYOND_ANY_DISK))
        except TSK_ERRORS:
            return None
    schemes = {pytsk3.TSK_VS_TYPE_DOS: "MBR", pytsk3.TSK_VS_TYPE_GPT: "GPT", pytsk3.TSK_VS_TYPE_BSD: "BSD disklabel",
               pytsk3.TSK_VS_TYPE_SUN: "Sun VTOC", pytsk3.TSK_VS_TYPE_MAC: "Apple partition map"}
    parts = [(int(part.start), int(part.len), part.desc.decode("utf-8", "replace"))
             for part in volume
             if part.flags & pytsk3.TSK_VS_PART_FLAG_ALLOC]  # not unallocated space
    return int(volume.info.block_size), parts, schemes.get(volume.info.vstype, "another partition table")


def _protective(parts: list[tuple[int, int, str]]) -> bool:
    """Only a GPT's protective MBR entry: The Sleuth Kit found no GPT header it could read."""
    return all("(0xee)" in kind for _, _, kind in parts)


def _spans(parts: tuple[GptPartition, ...]) -> set[tuple[int, int]]:
    return {(part.first, part.last) for part in parts}


def _table_beside(table: _Table | None) -> str | None:
    """The scheme of the partition table The Sleuth Kit read where that is no GPT (an MBR, which it reads instead
    of a GPT unless the MBR is only a GPT's protective entry); None where it read a GPT, or no table."""
    if table is None or table[2] == "GPT" or _protective(table[1]):
        return None
    return table[2]


def _gpt_alone(gpt: GptCheck | None, table: _Table | None) -> list[GptPartition]:
    """The partitions a sound GPT lists that were not read (no partition read starts where they do), in disk
    order: where The Sleuth Kit read an MBR instead, those either sound GPT header lists; else those a sound
    backup lists where the primary (the GPT The Sleuth Kit reads) is damaged or lists other partitions."""
    if gpt is None:
        return []
    if _table_beside(table):
        headers = [header for header in (gpt.primary, gpt.backup) if sound(header)]
    elif not sound(gpt.backup) or (sound(gpt.primary)
                                   and _spans(gpt.primary.partitions) == _spans(gpt.backup.partitions)):
        return []
    else:
        headers = [gpt.backup]
    block_size, parts, _ = table or (gpt.sector, [], "")
    starts = {start * block_size for start, _, kind in parts if "(0xee)" not in kind}
    # one partition per start, as read partitions are matched; the primary's entry where both headers list one
    listed = {part.first: part for header in reversed(headers) for part in header.partitions}
    return sorted((part for part in listed.values() if part.first * gpt.sector not in starts),
                  key=lambda part: part.first)


def _from_gpt(image: Any, media: Media, gpt: GptCheck, number: int, part: GptPartition,
              beside: str | None) -> FileSystem:
    """A partition only a sound GPT lists, read from it; `beside`: the scheme of the table read instead."""
    if beside:
        said = f"read from a GPT the partition table in use ({beside}) does not list"
    else:
        said = "read from the backup GPT: " + ("the primary GPT, sound too, does not list it" if sound(gpt.primary)
                                              else f"the primary GPT is {_state(gpt.primary)}")
    return _partition(image, media, number, part.first, part.last - part.first + 1, gpt.sector,
                      part.name or "GPT", said)


def _hybrid_iso_end(image: Any, parts: list[tuple[int, int, str]]) -> int:
    """Where the ISO 9660 file system filling a hybrid CD image ends, in bytes; 0 where there is none. Such an
    image carries a partition table (an Apple partition map beside an HFS+ tree) in the ISO's system area, and
    no partition of it starts where the ISO 9660 tree does."""
    import pytsk3

    if any(start == 0 for start, _, _ in parts):
        return 0
    try:
        fs = pytsk3.FS_Info(image, offset=0, type=pytsk3.TSK_FS_TYPE_ISO9660)
    except TSK_ERRORS:
        return 0
    return int(fs.info.block_count) * int(fs.info.block_size)


def _holds_no_file_system(end: int, kind: str, block_size: int, iso_end: int) -> bool:
    """A partition (ending at block `end`) that has no file system by design, not worth an error: an Apple
    partition map's entry for the map itself, or a piece of a hybrid image's ISO 9660 data (xorriso's
    "ISO9660_data"), read whole as p0."""
    if kind == "Apple_partition_map":
        return True
    return end * block_size <= iso_end and not kind.startswith("Apple_HFS")  # an HFS+ view that fails is said


def _partition(image: Any, media: Media, number: int, start: int, sectors: int, sector_size: int,
               kind: str, said: str | None = None) -> FileSystem:
    """Partition `number` (from 1), `sectors` long from sector `start`, and whether a file system is read;
    `said`: what to record against it all the same."""
    import pytsk3

    offset = start * sector_size
    description = f"partition {number} ({kind}, sectors {start:,}-{start + sectors - 1:,})"
    if offset >= media.size:
        return FileSystem(f"p{number}", offset, description,
                          f"{description}: starts past the end of the image ({media.size:,} bytes): a truncated "
                          "image or a bad partition table; not read")
    cut = (f"{description}: ends past the end of the image ({media.size:,} bytes): a truncated image or a bad "
           "partition table; its files lying past the end are missing or damaged"
           if offset + sectors * sector_size > media.size else said and f"{description}: {said}")
    try:
        pytsk3.FS_Info(image, offset=offset)
    except TSK_ERRORS as exc:
        return FileSystem(f"p{number}", offset, description,
                          f"{description}: no readable file system ({tsk_reason(exc)})")
    return FileSystem(f"p{number}", offset, description, note=cut)


def gpt_note(media: Media) -> str | None:
    """Said against an image whose GPT headers fail their checks or disagree: which, and what was read."""
    gpt = check_gpt(media.read_at, media.size)
    if gpt is None:
        return None
    table = _tsk_table(media, tsk_image(media))
    beside = _table_beside(table)
    if beside and (alone := _gpt_alone(gpt, table)):
        return _beside_note(gpt, beside, alone)
    primary, backup = gpt.primary, gpt.backup
    backup_said = f"the backup GPT (sector {gpt.backup_lba:,})"
    if sound(primary) and sound(backup):
        if _spans(primary.partitions) == _spans(backup.partitions):
            return None
        return (f"the primary and backup GPTs are both sound but list different partitions: "
                f"{_difference(primary.partitions, backup.partitions, gpt.sector)}; partitions the backup "
                "alone lists are read from it too")
    if sound(primary):
        return (f"{backup_said} is {_state(backup)} while the primary is sound: the disk was altered or cut short "
                f"after it was partitioned; partitions read from {_read_from(beside, primary)}")
    block_size, parts, _ = table or (gpt.sector, [], "")
    read = tuple(GptPartition(start * block_size // gpt.sector, (start + length) * block_size // gpt.sector - 1, kind)
                 for start, length, kind in parts if "(0xee)" not in kind)
    damaged = f"the primary GPT (sector 1) is {_state(primary)}"
    read_from = _read_from(beside, primary)
    if sound(backup):
        if not read:
            return f"{damaged}; {backup_said} is sound: the partitions it lists are read from it"
        if _spans(read) == _spans(backup.partitions):
            return f"{damaged}; {backup_said} is sound and lists the same partitions as were read from {read_from}"
        return (f"{damaged}; {backup_said} is sound and lists other partitions than were read from {read_from}: "
                f"{_difference(read, backup.partitions, gpt.sector)}; partitions the backup alone lists are read "
                "from it too")
    listed = ", ".join(_span(part, gpt.sector) for part in read) or "none (no partition could be read)"
    return (f"the partition table is damaged: {damaged} and {backup_said} is {_state(backup)}; partitions read "
            f"all the same, as {read_from} lists them: {listed}")


def _read_from(beside: str | None, primary: GptHeader | None) -> str:
    """The partition table The Sleuth Kit read, beside a GPT: an MBR, the GPT's primary, or another one."""
    if beside:
        return f"the partition table in use ({beside})"
    return "the primary" if primary is not None else "the other partition table read (no GPT there)"


def _beside_note(gpt: GptCheck, beside: str, alone: list[GptPartition]) -> str:
    """Said against an image whose sound GPT lists partitions the table The Sleuth Kit read (`beside`) does not."""
    headers = [f"{which} at sector {lba:,}" for which, header, lba in (("primary", gpt.primary, 1),
                                                                       ("backup", gpt.backup, gpt.backup_lba))
               if sound(header)]
    return (f"a sound GPT ({', '.join(headers)}) lists partitions the partition table in use ({beside}) does not "
            f"list: {', '.join(_span(part, gpt.sector) for part in alone)}; they are read from the GPT too")


def _state(header: GptHeader | None) -> str:
    return "missing (no GPT header there)" if header is None else f"damaged ({header.damage})"


def _span(part: GptPartition, sector: int) -> str:
    count = part.last - part.first + 1
    return f"sectors {part.first:,}-{part.last:,} ({count:,} sectors of {sector} bytes)"


def _difference(primary: tuple[GptPartition, ...], backup: tuple[GptPartition, ...], sector: int) -> str:
    """The partitions only one of the two lists holds, by start and size."""
    said = []
    for whose, own, other in (("primary", primary, backup), ("backup", backup, primary)):
        alone = sorted(_spans(own) - _spans(other))
        if alone:
            said.append(f"only the {whose} lists " + ", ".join(_span(GptPartition(*span, ""), sector)
                                                            for span in alone))
    return "; ".join(said)


def tsk_reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.split(": ", 1)[-1] if text else type(exc).__name__
