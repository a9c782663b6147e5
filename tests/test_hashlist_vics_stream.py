"""A VICS JSON list is read one media at a time (`json_stream`): the parsed document is never held whole, and
JSON that is not valid is refused exactly as `json.loads` refuses it."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from vigie.matching.lists import HashListError, read_hash_list
from vigie.matching.lists.json_stream import Elements, Shape, read_document, whole

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"


def _media(count: int) -> list[dict[str, object]]:
    return [{"MediaID": n, "MD5": f"{n:032x}", "SHA1": f"{n:040x}", "Category": 1, "Comments": "seen before",
             "AlternativeHashes": [{"HashName": "PDQ", "HashValue": f"{n + 1:064x}"}]} for n in range(count)]


@pytest.mark.parametrize("document", [
    {"@odata.context": "x/US/$metadata#Cases", "value": [{"CaseNumber": "1", "Media": _media(3000)}]},
    {"odata.metadata": "x#Media", "value": _media(3000)},
])
def test_the_list_is_never_held_parsed_whole(tmp_path: Path, document: dict[str, object]) -> None:
    """Besides its entries, reading holds about the list's text alone (the parsed document took twice more)."""
    path = tmp_path / "list.json"
    path.write_text(json.dumps(document, indent=1))
    tracing = tracemalloc.is_tracing()
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        parsed = read_hash_list(path)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        if not tracing:
            tracemalloc.stop()
    assert len(parsed.entries) == 3000 and parsed.entries[-1].pdq == f"{3000:064x}"
    assert peak - kept < 2 * path.stat().st_size


def _shape(key: str) -> Shape | None:
    return whole if key == "value" else None


def test_an_array_streamed_is_read_element_by_element() -> None:
    text = '{"a": [1], "value": [{"x": [2]}, 3, [4]] , "b": {"c": null}}'
    document = read_document(text, _shape)
    assert isinstance(document, dict) and isinstance(document["value"], Elements)
    assert (document["a"], list(document["value"]), document["b"]) == ([1], [{"x": [2]}, 3, [4]], {"c": None})


@pytest.mark.parametrize("text", [
    '{"value": [1, 2', '{"value": [1 2]}', '{"value": [1,]}', '{"value" [1]}', '{"value": [1]} x', '{value: 1}',
    '{"value": [{"a": 1,}]}', '{"value": []', '{"a": 1, }', "", '{"value": [' + "9" * 5000 + "]}",
])
def test_invalid_json_is_refused_as_json_refuses_it(tmp_path: Path, text: str) -> None:
    with pytest.raises(ValueError) as expected:
        json.loads(text)
    path = tmp_path / "list.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HashListError) as refused:
        read_hash_list(path, fmt="vics")
    said = expected.value
    wanted = (f"not valid JSON: {said.msg} at line {said.lineno}, column {said.colno}"
              if isinstance(said, json.JSONDecodeError) else f"not valid JSON: {said}")
    assert str(refused.value) == wanted
