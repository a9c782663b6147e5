"""vPDQ video hashes: vPDQ's `frame_number,quality,pdq_hex,timestamp` lines, python-threatexchange's
`pdq_hex,quality,timestamp` lines or JSON array; a file per video, or a folder of them."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from vigie.matching.lists.common import HashListError, ParsedList, decode, first_line
from vigie.records import ListEntry

NAME = "vpdq"
_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"  # tx writes timestamps with `{t:.3}`: 100.0 becomes 1e+02
_LINE = re.compile(rf"^(\d+),(\d+),([0-9a-fA-F]{{64}}),({_NUMBER})$")  # frame_number,quality,pdq,timestamp
_COMPACT = re.compile(rf"^([0-9a-fA-F]{{64}}),(\d+),({_NUMBER})$")  # threatexchange's pdq,quality,timestamp


def sniff(head: str) -> bool:
    line = first_line(head)
    return line.startswith("[") or bool(_LINE.match(line) or _COMPACT.match(line))  # tx's vpdq_to_json: [...]


def read(name: str, text: str, scheme: str | None, signal: str | None) -> ParsedList:
    parsed = ParsedList(format=NAME, entries=[])
    _read_video(name, text, parsed)
    return parsed


Frame = tuple[int | None, int, str, float | None]


def _vpdq_frame(feature: str) -> Frame | str:
    """One sampled frame's hash, or why the text is not one."""
    stripped = feature.strip()
    full, compact = _LINE.match(stripped), _COMPACT.match(stripped)
    if full:
        frame, quality, pdq, timestamp = int(full[1]), int(full[2]), full[3].lower(), float(full[4])
    elif compact:
        frame, pdq, quality, timestamp = None, compact[1].lower(), int(compact[2]), float(compact[3])
    else:
        return "not a vPDQ frame (frame_number,quality,pdq_hex,timestamp or pdq_hex,quality,timestamp)"
    if quality > 100:
        return f"quality {quality} is over 100"
    return frame, quality, pdq, timestamp


def _add_video(label: str, features: list[tuple[str, str]], parsed: ParsedList) -> None:
    """One video's entry from its (where, frame text) features; each bad frame is a problem of its own."""
    entry = ListEntry(label=label)
    for where, feature in features:
        frame = _vpdq_frame(feature)
        if isinstance(frame, str):
            parsed.problem(where, frame)
        else:
            entry.video_frames.append(frame)
    if entry.video_frames:
        entry.extra = {"frames": len(entry.video_frames)}
        parsed.entries.append(entry)
    else:
        parsed.problem(label, "no vPDQ frame hash here")


def read_json(where: str, payload: str, parsed: ParsedList) -> None:
    """tx's vpdq_to_json: a JSON array of "pdq_hex,quality,timestamp" strings (alone, or after `vpdq `)."""
    try:
        features = json.loads(payload)
    except json.JSONDecodeError as exc:
        parsed.problem(where, f"vPDQ JSON is not valid: {exc.msg} at column {exc.colno}")
        return
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        parsed.problem(where, "vPDQ JSON is not an array of \"pdq_hex,quality,timestamp\" strings")
        return
    _add_video(where, [(f"{where} frame {n}", f) for n, f in enumerate(features, start=1)], parsed)


def _read_video(name: str, text: str, parsed: ParsedList) -> None:
    """One video's frame hashes: vPDQ's `frame_number,quality,pdq_hex,timestamp` lines, or tx's forms."""
    if text.lstrip("\ufeff \t\r\n").startswith("["):
        read_json(name, text, parsed)
        return
    features = [(f"{name} line {number}", line) for number, line in enumerate(text.splitlines(), start=1)
                if line.strip() and not line.strip().startswith("#")]
    _add_video(name, features, parsed)


def read_folder(folder: Path) -> ParsedList:
    """A folder of vPDQ files, one video each."""
    parsed = ParsedList(format=NAME, entries=[])
    digest = hashlib.sha256()
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise HashListError(f"{folder} holds no files")
    for path in files:
        raw = path.read_bytes()
        digest.update(f"{path.name}\0{hashlib.sha256(raw).hexdigest()}\n".encode())
        try:
            _read_video(path.name, decode(raw, path)[0], parsed)  # vPDQ lines are ASCII
        except HashListError as exc:
            parsed.problem(path.name, f"{exc}; not a vPDQ file")
        except RecursionError:
            parsed.problem(path.name, "nested too deeply to be a hash list; not a vPDQ file")
    parsed.file_sha256 = digest.hexdigest()
    return parsed
