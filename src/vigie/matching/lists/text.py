"""Plain-text lists: one hash a line (typed by its length, or a `type:` prefix naming a registered signal),
optionally followed by hashes of other types (`md5 pdq`), then a label or PDQ quality; python-threatexchange's
lines (see `tx`) may sit among them, and the lines of `md5sum`/`sha256sum` (`hash  name`, also with `--tag`:
`SHA256 (name) = hash`, and with a leading backslash where the name is escaped) and of BSD's `md5`/`shasum`."""

from __future__ import annotations

import re
from collections.abc import Iterator

from vigie.matching.lists import tx
from vigie.matching.lists.common import HASH_LIKE, SIGNAL_LABELS, ParsedList, parse_quality, set_by_length
from vigie.records import ListEntry
from vigie.signals.registry import SIGNALS, InvalidHash, SignalType, signals_of_length

NAME = "text"
MAX_LINE = 4 << 20  # characters; a line longer (no list's) is skipped unread: a copy of it would cost its size again
_BREAKS = re.compile("\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")  # those str.splitlines() breaks on
# `--tag` lines of GNU coreutils and BSD's `md5 FILE`: the algorithm, the name in brackets, the hash
_TAGGED = re.compile(r"(MD5|SHA1|SHA256|SHA-1|SHA-256) \((.*)\) = ([0-9A-Fa-f]+)")
# `md5sum`'s own lines: the hash, two spaces (or a space and `*`), the file's name, which may look like a hash
_CHECKSUM = re.compile(r"[0-9A-Fa-f]+(?:  | \*)\S")


def sniff(head: str) -> bool:
    return True  # what no other format claims is read line by line


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """Where each line starts and ends, as str.splitlines() splits them, without copying the text."""
    start = 0
    for found in _BREAKS.finditer(text):
        yield start, found.start()
        start = found.end()
    if start < len(text):
        yield start, len(text)


def read(name: str, text: str, scheme: str | None, signal: str | None) -> ParsedList:
    parsed = ParsedList(format=NAME, entries=[])
    original: ListEntry | None = None  # the last `ORIGINAL` line, which its rotations follow
    hashed_labels: list[int] = []  # lines whose label holds what looks like a hash
    for number, (start, end) in enumerate(_lines(text), start=1):
        if end - start > MAX_LINE:
            parsed.problem(f"line {number}", f"{end - start:,} characters long, more than a hash-list line "
                                             f"({MAX_LINE:,} at most): not read")
            continue
        stripped = text[start:end].strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("\\"):  # coreutils mark a line whose name they escaped with a backslash
            stripped = stripped[1:]
        if tagged := _TAGGED.fullmatch(stripped):
            rotation, words = None, [f"{tagged[1]}:{tagged[3]}", tagged[2]]
        else:
            rotation, words = tx.split_rotation(stripped.split(None, 1))
        named = bool(tagged or _CHECKSUM.match(stripped))  # what follows the hash is a file's name
        entry = _entry(name, number, words, signal, parsed, more_hashes=not named)
        if entry is None:
            continue
        if not named and entry.label and HASH_LIKE.search(entry.label):
            hashed_labels.append(number)
        if rotation not in (None, "ORIGINAL") and original is not None and original.pdq and entry.pdq:
            # Vigie hashes every item in the 8 orientations itself: the ORIGINAL hash already finds them
            original.extra.setdefault("tx_rotations", {})[rotation] = entry.pdq
            continue
        if rotation:
            entry.extra["tx_rotation"] = rotation
        original = entry if rotation == "ORIGINAL" else None
        parsed.entries.append(entry)
    if hashed_labels:
        shown = ", ".join(map(str, hashed_labels[:10])) + (", …" if len(hashed_labels) > 10 else "")
        parsed.notes.append(f"{len(hashed_labels)} line(s) keep what looks like a hash in their label, not matched "
                            f"(line {shown}): a second hash of a type the line already has, or one after a label")
    return parsed


def _entry(name: str, number: int, words: list[str], forced: str | None, parsed: ParsedList,
           more_hashes: bool) -> ListEntry | None:
    """One `hash [hashes of other types] [label or quality]`, `type:hash ...` or tx `type hash ...` line; None
    after noting a problem (or reading a tx vPDQ line into `parsed`)."""
    entry = ListEntry(line=number)
    signal: SignalType | None = SIGNALS[forced] if forced else None
    if tx.sniff(words):
        said = tx.read(name, number, words, entry, parsed)
        if said is None:
            return None
        signal, token, rest = said
    else:
        token, _, rest = " ".join(words).replace("\t", " ").replace(",", " ").partition(" ")
        if ":" in token:
            prefix, _, token = token.partition(":")
            prefix = prefix.lower().replace("-", "")
            if prefix not in SIGNALS:
                parsed.problem(f"line {number}", f"unknown hash type prefix {prefix!r}")
                return None
            signal = SIGNALS[prefix]
    try:
        if set_by_length(entry, token, signal) is None:
            parsed.problem(f"line {number}", f"{token[:80]!r} is not an {SIGNAL_LABELS} hash (length {len(token)})")
            return None
    except InvalidHash as exc:
        parsed.problem(f"line {number}", str(exc))
        return None
    label = _more_hashes(entry, number, rest.strip(), parsed) if more_hashes else rest.strip()
    if label is None:
        return None
    if label:
        quality = parse_quality(label) if entry.pdq else None
        if quality is not None:
            entry.pdq_quality = quality
        else:
            entry.label = label
    return entry


def _more_hashes(entry: ListEntry, number: int, rest: str, parsed: ParsedList) -> str | None:
    """Read the hashes of other types that follow the line's first (`md5 pdq label`); what is left of the line
    back, or None after noting a problem. A second value of a type the line has is left to the label (a file
    named by its hash), said by the caller."""
    while rest:
        word, _, after = rest.partition(" ")
        prefix, colon, value = word.rpartition(":")
        prefix = prefix.lower().replace("-", "")
        if not HASH_LIKE.fullmatch(value) or (colon and prefix not in SIGNALS):
            return rest
        forced = SIGNALS[prefix] if colon else None
        if any(entry.pdq if not s.exact else s.name in entry.digests
               for s in ((forced,) if forced else signals_of_length(len(value)))):
            return rest
        try:
            set_by_length(entry, value, forced)
        except InvalidHash as exc:
            parsed.problem(f"line {number}", str(exc))
            return None
        rest = after.strip()
    return rest
