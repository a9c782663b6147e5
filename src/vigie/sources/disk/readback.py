"""Reading one item back from a disk image (`open`: the scan's workers, `verify`, the console and exports): the
image, its file systems and folder listings kept open per process, and the item found again by the walk's rule
and numbering (`items.ItemRules`)."""

from __future__ import annotations

import io
import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import BinaryIO

from vigie.sources.base import escape_name, member_relpath, parse_relpath
from vigie.sources.disk.items import ItemRules, NamedStream, Role, not_entered
from vigie.sources.disk.media import Media, Stream
from vigie.sources.disk.own import OwnFile
from vigie.sources.disk.volumes import TSK_ERRORS, file_systems, tsk_reason
from vigie.sources.disk.walk import MAX_HOLE_BYTES, data_runs, walk_file_system
from vigie.sources.fatdir import FatVolume, read_runs

_PARTITION = re.compile(rb"p(0|[1-9][0-9]*)")


@dataclass(frozen=True)
class _Child:
    """A name the read-back finds again: an item, or a folder the walk enters."""

    name: bytes  # its path below its folder: one component, or "NAME/..namedfork/STREAM" for a file's stream
    address: int | None  # the metadata address; None where the name has none left
    is_dir: bool
    stream: NamedStream | None = None  # a file's other stream of bytes (a resource fork, ...), not its content
    index: int = -1  # its index in its folder's listing, as the walk numbers them
    deleted: bool = False


class OpenImage:
    """An image opened for reading items back: its media, file systems and folder listings, kept per process
    so that a worker lists each folder once rather than once per file. One lock serialises every read, as The
    Sleuth Kit is not thread-safe and `verify` reads from threads."""

    _LISTINGS = 256

    def __init__(self, root: str) -> None:
        self.root = root
        self.media = Media.open(root)
        self.lock = threading.Lock()
        self._systems = {s.label: s for s in file_systems(self.media)}
        self._rules: dict[str, ItemRules] = {}
        self._listings: OrderedDict[tuple[str, int], list[_Child]] = OrderedDict()
        self._walked: dict[str, tuple[dict[str, OwnFile], set[tuple[int, int, bool]]]] = {}

    def rules(self, label: str) -> ItemRules:
        """The rule of the file system `label`, and through it the file system, opened once."""
        if label not in self._rules:
            system = self._systems.get(label)
            if system is None or system.error:
                raise FileNotFoundError(f"no readable partition {label} in the image")
            self._rules[label] = ItemRules.open(self.root, self.media, system)
        return self._rules[label]

    def children(self, label: str, address: int) -> list[_Child]:
        key = (label, address)
        listing = self._listings.get(key)
        if listing is not None:
            self._listings.move_to_end(key)
            return listing
        listing = []
        rules = self.rules(label)
        for index, listed in enumerate(rules.listing(address, rules.fs.open_dir(inode=address))):
            if listed.role in (Role.ITEM, Role.FOLDER):
                listing.append(_Child(listed.name, listed.address, listed.role is Role.FOLDER, index=index,
                                      deleted=listed.deleted))
            listing.extend(_Child(b"/".join([listed.name, *stream.path]), listed.address, False, stream)
                           for stream in listed.streams)  # the walk's items after the file's (the folder's)
        if address == int(rules.fs.info.root_inum):  # the root's streams, after all it holds, as the walk has them
            root = rules.root()
            listing.extend(_Child(b"/".join(stream.path), root.address, False, stream) for stream in root.streams)
        self._listings[key] = listing
        if len(self._listings) > self._LISTINGS:
            self._listings.popitem(last=False)
        return listing

    def find(self, label: str, parts: list[bytes], occurrence: int) -> _Child | None:
        """The `occurrence`-th item at `parts` in the file system `label`, counted in the walk's order."""
        return self._find(label, int(self.rules(label).fs.info.root_inum), parts, occurrence, [0], (), 0, None,
                          False)

    def _find(self, label: str, directory: int, parts: list[bytes], occurrence: int, seen: list[int],
              parents: tuple[int, ...], depth: int, again: set[tuple[int, int, bool]] | None,
              gone: bool) -> _Child | None:
        wanted = b"/".join(parts)
        children = self.children(label, directory)
        alike = [child for child in children if child.name in (parts[0], wanted)]
        if again is None and len(alike) > 1 and any(child.is_dir for child in alike):
            # a folder's name alike another's in one folder (deleted files alike live ones need not): which folders
            # the walk entered (each once) tells the items apart
            again = self._walk(label)[1]
        for child in children:
            repeated = again is not None and child.is_dir and (directory, child.index, gone or child.deleted) in again
            if child.name == wanted and (not child.is_dir or repeated or self._unentered(label, child, parents,
                                                                                         depth)):
                seen[0] += 1  # counted as the walk numbers the items of one path
                if seen[0] == occurrence:
                    return None if child.is_dir else child  # a folder the walk could not enter: no content
                continue
            if not child.is_dir or child.name != parts[0] or len(parts) == 1 or child.address is None \
                    or repeated or not_entered(child.address, parents, depth):
                continue
            try:
                found = self._find(label, child.address, parts[1:], occurrence, seen, (*parents, child.address),
                                   depth + 1, again, gone or child.deleted)
            except TSK_ERRORS:  # a deleted folder whose listing is gone, as the walk found it
                continue
            if found is not None or seen[0] >= occurrence:
                return found
        return None

    def _unentered(self, label: str, folder: _Child, parents: tuple[int, ...], depth: int) -> bool:
        """Whether the walk gave a folder an item of its own (with an error), not entering it."""
        if folder.address is None or not_entered(folder.address, parents, depth):
            return True
        try:
            self.children(label, folder.address)
        except TSK_ERRORS:
            return True
        return False

    def locate(self, member: bytes, occurrence: int) -> _Child | OwnFile | None:
        """Where the item path's first member `member` ("p1/DCIM/X.JPG"), its `occurrence`-th, is read: a name
        The Sleuth Kit lists (or its resource fork), or a file only Vigie's FAT or exFAT reader lists; None where
        the walk lists no such item. Called with `lock` held."""
        label, _, inside = member.partition(b"/")
        found = self.find(label.decode(), inside.split(b"/"), occurrence)
        return found if found is not None else self.own_file(label.decode(), member_relpath("", member, occurrence))

    def own_file(self, label: str, relpath: str) -> OwnFile | None:
        """A file only Vigie's FAT or exFAT reader lists (The Sleuth Kit skipped its entry, or listed it as live
        while it is deleted, or as a folder while it is a file), found again by the walk that numbered it."""
        rules = self.rules(label)
        if not isinstance(rules.fat, FatVolume) and rules.exfat_folders is None:
            return None
        return self._walk(label)[0].get(relpath)

    def _walk(self, label: str) -> tuple[dict[str, OwnFile], set[tuple[int, int, bool]]]:
        """The walk of the file system `label`, once: the files only Vigie's own FAT or exFAT reader lists, by
        relpath, and the folder names it did not enter again (`walk_file_system`'s `again`)."""
        if label not in self._walked:
            files: dict[str, OwnFile] = {}
            again: set[tuple[int, int, bool]] = set()
            for _ in walk_file_system(self.rules(label), label, files, again):
                pass
            self._walked[label] = files, again
        return self._walked[label]


_OPEN_IMAGES: OrderedDict[tuple[int, str, int, int], OpenImage] = OrderedDict()
_OPEN_IMAGES_LOCK = threading.Lock()


def open_image(root: str) -> OpenImage:
    """This process's open image for `root` (a forked worker opens its own: descriptors are not shared)."""
    info = os.stat(root)
    key = (os.getpid(), root, info.st_size, info.st_mtime_ns)
    with _OPEN_IMAGES_LOCK:
        image = _OPEN_IMAGES.get(key)
        if image is None:
            image = _OPEN_IMAGES[key] = OpenImage(root)
            while len(_OPEN_IMAGES) > 4:
                (pid, *_), oldest = _OPEN_IMAGES.popitem(last=False)
                if pid == os.getpid():  # an image inherited from the parent is left to the parent
                    oldest.media.close()
        return image


def _own_stream(image: OpenImage, file: OwnFile, shown: str) -> BinaryIO:
    """A file only Vigie's FAT or exFAT reader lists, read through its clusters."""
    if file.error:
        raise OSError(f"{file.error}: {shown}")

    def read_at(offset: int, length: int) -> bytes:
        with image.lock:  # the media's reads are serialised as The Sleuth Kit's are
            return read_runs(image.media.read_at, file.runs, offset, length)

    return io.BufferedReader(Stream(read_at, file.size), 1 << 20)


def open_item(root: str, relpath: str) -> BinaryIO:
    """The media bytes of the image `root` (relpath ""), or the file a relpath's first member names (its
    archive, for a member further in)."""
    import pytsk3

    path = parse_relpath(relpath)
    if not path.members:
        media = Media.open(root)  # a stream of its own: hashing the whole media takes long
        return io.BufferedReader(Stream(media.read_at, media.size, media.close), 1 << 20)
    image = open_image(root)
    member = path.members[0]
    shown = escape_name(member.name)
    if not _PARTITION.fullmatch(member.name.partition(b"/")[0]):
        raise FileNotFoundError(f"not a partition of the image: {shown}")
    label = member.name.partition(b"/")[0].decode()
    with image.lock:
        found = image.locate(member.name, member.occurrence)
        if isinstance(found, OwnFile):
            return _own_stream(image, found, shown)
        if found is None or found.address is None:
            raise FileNotFoundError(f"not found in the image: {shown}")
        fs = image.rules(label).fs
        tsk_file = fs.open_meta(inode=found.address)
        if tsk_file.info.meta is None:
            raise FileNotFoundError(f"not found in the image: {shown}")
        stream = found.stream
        size = int(tsk_file.info.meta.size) if stream is None else stream.size
        block_size = int(fs.info.block_size)
        runs, covered = data_runs(tsk_file, block_size, stream)
        stored = sum(end - start for start, end in runs) * block_size
    if covered is not None and size - stored > MAX_HOLE_BYTES:  # as the walk judged it
        raise OSError(f"sparse file claiming {size:,} bytes of which {stored:,} are stored: not read: {shown}")
    if not size and tsk_file.info.meta.flags & pytsk3.TSK_FS_META_FLAG_UNALLOC:  # as the walk
        raise OSError(f"deleted file whose metadata records no size: {shown}")  # judged it: not an empty file
    if covered is not None and covered < size:
        if tsk_file.info.meta.flags & pytsk3.TSK_FS_META_FLAG_UNALLOC:  # as the walk judged it
            raise OSError(f"deleted file whose clusters were reused: {shown}")
        raise OSError(f"its clusters hold {covered:,} of its {size:,} bytes (a broken or looping cluster chain: "
                      f"a corrupt file system); not read whole: {shown}")

    def read_at(offset: int, length: int) -> bytes:
        try:
            with image.lock:
                image.media.unread = None
                if stream is not None:
                    data = bytes(tsk_file.read_random(offset, length, stream.kind, stream.attribute_id))
                else:
                    data = bytes(tsk_file.read_random(offset, length))
                unread = image.media.unread
        except TSK_ERRORS as exc:
            raise OSError(image.media.unread or f"unreadable inside the image: {tsk_reason(exc)}") from exc
        if unread:  # The Sleuth Kit fills a block it could not read with zeros, or stops short, silently
            raise OSError(unread)
        return data

    return io.BufferedReader(Stream(read_at, size), 1 << 20)
