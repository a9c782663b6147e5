"""The file systems of a disk image, as The Sleuth Kit reads them through `media.Media`: one per allocated
partition of its MBR, GPT (the backup one where the primary is damaged) or Apple partition map, or the one
filling the image; each with the error or note recorded against its partition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vigie.sources.apm import read_apm
from vigie.sources.disk.media import Media
from vigie.sources.ewf import EwfError
from vigie.sources.gpt import SECTOR, read_gpt

# The Sleuth Kit's bindings raise RuntimeError where a read of ours failed inside it
TSK_ERRORS = (OSError, RuntimeError)
_BEYOND_ANY_DISK = 1 << 60  # bytes: a size no partition table entry exceeds


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
    whole image's; empty when there is neither."""
    import pytsk3

    image = tsk_image(media)
    try:
        volume = pytsk3.Volume_Info(image)
    except TSK_ERRORS:
        try:  # TSK refuses a whole table where one entry points past the image's end; read the others
            volume = pytsk3.Volume_Info(tsk_image(media, _BEYOND_ANY_DISK))
        except TSK_ERRORS:
            volume = None
    protective = volume is not None and all(b"(0xee)" in part.desc for part in volume
                                            if part.flags & pytsk3.TSK_VS_PART_FLAG_ALLOC)
    last_sector = media.size // SECTOR - 1
    if (volume is None or protective) and read_gpt(media.read_at, 1) is None and last_sector > 1:
        backup = read_gpt(media.read_at, last_sector)
        if backup:  # the primary GPT is damaged: the backup lists the partitions
            return [_partition(image, media, number, part.first, part.last - part.first + 1, SECTOR,
                               part.name or "GPT", "read from the backup GPT: the primary GPT is damaged")
                    for number, part in enumerate(sorted(backup, key=lambda p: p.first), 1)]
    if volume is not None:
        block_size = int(volume.info.block_size)
        parts = [(int(part.start), int(part.len), part.desc.decode("utf-8", "replace"))
                 for part in volume if part.flags & pytsk3.TSK_VS_PART_FLAG_ALLOC]  # not unallocated space
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
    for number, (start, length, kind) in enumerate(parts, 1):
        system = _partition(image, media, number, start, length, block_size, kind)
        if not (system.error and _holds_no_file_system(start + length, kind, block_size, iso_end)):
            systems.append(system)
    return systems


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


def backup_gpt_note(media: Media) -> str | None:
    """Said against an image whose primary GPT is sound but whose backup (the last sector) is not."""
    last_sector = media.size // SECTOR - 1
    if read_gpt(media.read_at, 1) is None or read_gpt(media.read_at, last_sector) is not None:
        return None
    return ("the backup GPT (the disk's last sector) is missing or damaged while the primary is sound: the disk "
            "was altered or cut short after it was partitioned; partitions read from the primary")


def tsk_reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.split(": ", 1)[-1] if text else type(exc).__name__
