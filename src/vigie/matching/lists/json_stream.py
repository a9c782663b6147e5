"""A JSON object read field by field from its text, its large arrays one element at a time: a VICS list's media
are parsed as they are read, never all at once (the parsed document would take several times the file's size).
Malformed JSON anywhere is refused with json's own message, as `json.loads` would refuse it.

Which arrays are streamed is a shape: for a field's name, None (its value parsed whole) or the shape its
elements' objects are read with; `whole` parses each element whole."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

from vigie.matching.lists.common import HashListError

Shape = Callable[[str], "Shape | None"]
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, json.loads's own


def whole(key: str) -> Shape | None:
    """The shape that parses each element whole."""
    return None


@dataclass(frozen=True)
class Elements:
    """An array not yet read: where it starts in the text (its `[`), and the shape its objects are read with."""
    text: str
    start: int
    shape: Shape

    def __iter__(self) -> Iterator[Any]:
        yield from self._walk()

    def _walk(self) -> Generator[Any, None, int]:
        """Each element in turn; returns where the array ends."""
        text, at = self.text, _skip(self.text, self.start + 1)
        if text.startswith("]", at):
            return at + 1
        while True:
            if self.shape is not whole and text.startswith("{", at):
                element, at = read_object(text, at, self.shape)
            else:
                element, at = value_at(text, at)
            yield element
            at = _skip(text, at)
            if text.startswith("]", at):
                return at + 1
            at = _skip(text, _expect(text, at, ",", "Expecting ',' delimiter"))

    def end(self) -> int:
        """Where the array ends, its elements read one at a time and let go."""
        walk = self._walk()
        while True:
            try:
                next(walk)
            except StopIteration as done:
                end: int = done.value
                return end


def refused(exc: Exception) -> HashListError:
    """A JSON error as the refusal of the list, with where it is."""
    if isinstance(exc, RecursionError):
        return HashListError("the JSON is nested too deeply to be a VICS file")
    if isinstance(exc, json.JSONDecodeError):
        return HashListError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
    return HashListError(f"not valid JSON: {exc}")  # e.g. an integer longer than Python converts


def value_at(text: str, at: int) -> tuple[Any, int]:
    """The JSON value starting at `at`, and where it ends."""
    try:
        return _DECODER.raw_decode(text, at)
    except (RecursionError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise refused(exc) from exc


def read_object(text: str, at: int, shape: Shape) -> tuple[dict[str, Any], int]:
    """The object starting at `at` (after whitespace), and where it ends: a field the shape streams whose value
    is an array is an `Elements`, its elements parsed here only to find its end (one at a time, each let go)."""
    at = _skip(text, _expect(text, _skip(text, at), "{", "Expecting value"))
    fields: dict[str, Any] = {}
    if text.startswith("}", at):
        return fields, at + 1
    while True:
        if not text.startswith('"', at):
            raise refused(json.JSONDecodeError("Expecting property name enclosed in double quotes", text, at))
        key, at = value_at(text, at)
        at = _skip(text, _expect(text, _skip(text, at), ":", "Expecting ':' delimiter"))
        inner = shape(key)
        if inner is not None and text.startswith("[", at):
            fields[key] = elements = Elements(text, at, inner)
            at = elements.end()
        else:
            fields[key], at = value_at(text, at)
        at = _skip(text, at)
        if text.startswith("}", at):
            return fields, at + 1
        at = _skip(text, _expect(text, at, ",", "Expecting ',' delimiter"))


def read_document(text: str, shape: Shape) -> dict[str, Any] | Any:
    """The document's top-level object as `read_object` reads it; a document that is no object, parsed whole."""
    at = _skip(text, 0)
    if not text.startswith("{", at):
        try:
            return json.loads(text)
        except (RecursionError, ValueError) as exc:
            raise refused(exc) from exc
    fields, end = read_object(text, at, shape)
    end = _skip(text, end)
    if end != len(text):
        raise refused(json.JSONDecodeError("Extra data", text, end))
    return fields


def _skip(text: str, at: int) -> int:
    found = _SPACE.match(text, at)
    return found.end() if found else at


def _expect(text: str, at: int, char: str, message: str) -> int:
    if not text.startswith(char, at):
        raise refused(json.JSONDecodeError(message, text, at))
    return at + 1
