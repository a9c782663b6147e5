"""python-threatexchange's `<signal_type> <value>` lines (`tx hash`, its file exchange).

tx output is read line by line inside plain-text lists (a file may mix its lines with bare hashes), so
`sniff` and `read` work on one line's words. Its signal type names come from the signal registry.
"""

from __future__ import annotations

from vigie.matching.lists import vpdq
from vigie.matching.lists.common import ParsedList
from vigie.records import ListEntry
from vigie.signals.registry import SIGNALS, SignalType

FILE_SIGNALS: dict[str, SignalType] = {name: s for s in SIGNALS.values() for name in (s.name, *s.tx_names)}
OTHER_SIGNALS = ("url", "url_md5", "raw_text", "trend_query")  # about URLs and text: never a file's hash
# `tx hash --photo-preprocess rotations` prefixes each line with the orientation it hashed
ROTATIONS = ("ORIGINAL", "ROTATE90", "ROTATE180", "ROTATE270", "FLIPX", "FLIPY", "FLIPPLUS1", "FLIPMINUS1")


def split_rotation(words: list[str]) -> tuple[str | None, list[str]]:
    """(the orientation a rotations line names, the words after it)."""
    if len(words) == 2 and words[0].upper() in ROTATIONS:
        return words[0].upper(), words[1].split(None, 1)
    return None, words


def sniff(words: list[str]) -> bool:
    """Whether a line's words (rotation taken off) are a tx `<signal_type> <value>` line."""
    kind = words[0].lower()
    return len(words) == 2 and (kind in FILE_SIGNALS or kind in OTHER_SIGNALS or kind == "vpdq")


def read(name: str, number: int, words: list[str], entry: ListEntry,
         parsed: ParsedList) -> tuple[SignalType, str, str] | None:
    """Line `number` of the list `name` as (its signal, the value, what follows it); None when the line is
    handled here (a video's vPDQ, read into `parsed`) or is a problem noted in `parsed`."""
    kind = words[0].lower()
    if kind == "vpdq":
        vpdq.read_json(f"{name} line {number}", words[1], parsed)  # one video a line, named by its place
        return None
    if kind in OTHER_SIGNALS:
        parsed.problem(f"line {number}", f"{kind} is a python-threatexchange signal about URLs or text, not a "
                                         "file's hash: not matched against files")
        return None
    token, _, rest = words[1].partition(" ")
    if kind.startswith("video_"):
        entry.extra["tx_signal"] = kind
    return FILE_SIGNALS[kind], token, rest
