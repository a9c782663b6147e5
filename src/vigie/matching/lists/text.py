"""Plain-text lists: one hash a line (typed by its length, or a `type:` prefix naming a registered signal),
optionally followed by a label or PDQ quality; python-threatexchange's lines (see `tx`) may sit among them, and
the lines of `md5sum`/`sha256sum` (`hash  name`, also with `--tag`: `SHA256 (name) = hash`, and with a leading
backslash where the name is escaped) and of BSD's `md5`/`shasum`."""

from __future__ import annotations

import re

from vigie.matching.lists import tx
from vigie.matching.lists.common import SIGNAL_LABELS, ParsedList, parse_quality, set_by_length
from vigie.records import ListEntry
from vigie.signals.registry import SIGNALS, InvalidHash, SignalType

NAME = "text"
# `--tag` lines of GNU coreutils and BSD's `md5 FILE`: the algorithm, the name in brackets, the hash
_TAGGED = re.compile(r"(MD5|SHA1|SHA256|SHA-1|SHA-256) \((.*)\) = ([0-9A-Fa-f]+)")


def sniff(head: str) -> bool:
    return True  # what no other format claims is read line by line


def read(name: str, text: str, scheme: str | None, signal: str | None) -> ParsedList:
    parsed = ParsedList(format=NAME, entries=[])
    original: ListEntry | None = None  # the last `ORIGINAL` line, which its rotations follow
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("\\"):  # coreutils mark a line whose name they escaped with a backslash
            stripped = stripped[1:]
        if tagged := _TAGGED.fullmatch(stripped):
            rotation, words = None, [f"{tagged[1]}:{tagged[3]}", tagged[2]]
        else:
            rotation, words = tx.split_rotation(stripped.split(None, 1))
        entry = _entry(name, number, words, signal, parsed)
        if entry is None:
            continue
        if rotation not in (None, "ORIGINAL") and original is not None and original.pdq and entry.pdq:
            # Vigie hashes every item in the 8 orientations itself: the ORIGINAL hash already finds them
            original.extra.setdefault("tx_rotations", {})[rotation] = entry.pdq
            continue
        if rotation:
            entry.extra["tx_rotation"] = rotation
        original = entry if rotation == "ORIGINAL" else None
        parsed.entries.append(entry)
    return parsed


def _entry(name: str, number: int, words: list[str], forced: str | None, parsed: ParsedList) -> ListEntry | None:
    """One `hash [label or quality]`, `type:hash ...` or tx `type hash ...` line; None after noting a problem
    (or reading a tx vPDQ line into `parsed`)."""
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
    rest = rest.strip()
    if rest:
        quality = parse_quality(rest) if entry.pdq else None
        if quality is not None:
            entry.pdq_quality = quality
        else:
            entry.label = rest
    return entry
