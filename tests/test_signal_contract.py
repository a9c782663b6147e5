"""The contract every registered signal keeps, whatever it is: its examples validate (and bad values do not),
its value goes out through every export that carries hashes and comes back through the list readers, and a
list naming it matches an item (exact digests by equality, PDQ within its distance) through the real store.

A new signal in `vigie.signals.registry` is tested here with no edit to this file."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import shared_data
from odata_csdl import check_document, load_csdl
from test_exports_models import sent_documents, xsd_problems

from vigie.config import Settings
from vigie.exports.cybertip import Reporter, cybertip_document
from vigie.exports.selection import ExportItem
from vigie.exports.tables import decisions_csv, hashlist_csv
from vigie.exports.vics import VicsCase, vics_document
from vigie.matching.list_import import import_hash_list
from vigie.matching.lists import read_hash_list
from vigie.records import ItemRecord, ListEntry
from vigie.signals.registry import SIGNALS, InvalidHash, SignalType
from vigie.store.sqlite import SqliteCaseStore, open_case

REGISTERED = pytest.mark.parametrize("signal", list(SIGNALS.values()), ids=list(SIGNALS))
DECISION = {"category": "1", "scheme": "projectvic-us", "ai_tags": [], "at": "2026-01-01T00:00:00+00:00",
            "by": "examiner", "industry_class": "A1"}
EXPORTS: dict[str, Callable[[list[ExportItem]], str]] = {
    "vics-2.0": lambda items: vics_document(VicsCase("case", "00000000-0000-0000-0000-000000000000",
                                                     "projectvic-us"), items),
    "vics-1.3": lambda items: vics_document(VicsCase("case", "0", "projectvic-us"), items, "1.3"),
    "hashlist.csv": hashlist_csv,
    "decisions.csv": decisions_csv,
}

QUALITY_CARRIED = ("vics-2.0", "hashlist.csv")  # the exports that carry PDQ's quality with it


def signal_value(entry: ListEntry, signal: SignalType) -> str | None:
    return entry.digests.get(signal.name) if signal.exact else entry.pdq


def _flipped(value: str, bits: int) -> str:
    """`value` with its first `bits` bits inverted: at Hamming distance `bits` from it."""
    width = len(value) * 4
    return f"{int(value, 16) ^ (((1 << bits) - 1) << (width - bits)):0{len(value)}x}"


def _case_with_one_item(case_dir: Path) -> SqliteCaseStore:
    """A case whose one image carries every registered signal's example."""
    store = open_case(case_dir, create=True)
    source = store.add_source("seizure", str(case_dir.parent / "seizure"), "directory")
    scan_id = store.begin_scan({"paths": ["seizure"]})
    record = ItemRecord(relpath="known.jpg", size=1, media_type="image/jpeg",
                        digests={s.name: s.example for s in SIGNALS.values() if s.computed_by == "hasher"})
    for signal in SIGNALS.values():
        if signal.computed_by == "image":
            record.pdq, record.pdq_quality, record.pdq_variants = signal.example, 100, (signal.example,)
    store.add_items(source, scan_id, [record])
    store.finish_scan(scan_id, "complete", {})
    return store


@pytest.fixture
def export_item(tmp_path: Path) -> ExportItem:
    store = _case_with_one_item(tmp_path / "case")
    try:
        item = next(store.iter_report_items())
    finally:
        store.close()
    return ExportItem(item, DECISION, [], [item["path"]])


@REGISTERED
def test_examples_validate_and_bad_values_do_not(signal: SignalType) -> None:
    assert signal.validate(signal.example) == signal.example
    assert signal.validate(f"  {signal.example.upper()}\n") == signal.example  # as partners write them
    for bad in (signal.example[:-1], signal.example + "0", "g" * signal.hex_length, "", "-" + signal.example[1:]):
        with pytest.raises(InvalidHash):
            signal.validate(bad)


@REGISTERED
def test_comparison(signal: SignalType) -> None:
    other = _flipped(signal.example, signal.max_distance + 1)
    assert signal.matches(signal.example, signal.example)
    assert signal.distance(signal.example, signal.example) == 0
    assert not signal.matches(signal.example, other)
    if not signal.exact:
        near = _flipped(signal.example, signal.max_distance)
        assert signal.distance(signal.example, near) == signal.max_distance
        assert signal.matches(signal.example, near)


@REGISTERED
@pytest.mark.parametrize("export", list(EXPORTS))
def test_round_trip_through_exports_and_list_readers(signal: SignalType, export: str, export_item: ExportItem,
                                                      tmp_path: Path) -> None:
    written = tmp_path / f"export.{export}"
    written.write_text(EXPORTS[export]([export_item]), encoding="utf-8")
    parsed = read_hash_list(written)
    assert parsed.problems == []
    [entry] = parsed.entries
    assert signal_value(entry, signal) == signal.example
    if signal.report_columns and export in QUALITY_CARRIED:
        assert entry.pdq_quality == 100


@REGISTERED
def test_round_trip_through_text_and_tx_lines(signal: SignalType, tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    names = (signal.name, *signal.tx_names)
    listing.write_text("".join(f"{signal.name}:{signal.example} typed\n{name} {signal.example}\n" for name in names))
    parsed = read_hash_list(listing)
    assert parsed.problems == []
    assert [signal_value(e, signal) for e in parsed.entries] == [signal.example] * 2 * len(names)
    assert not any(e.untyped for e in parsed.entries)


@REGISTERED
def test_written_where_each_export_says(signal: SignalType, export_item: ExportItem) -> None:
    media = json.loads(EXPORTS["vics-2.0"]([export_item]))["value"][0]["Media"][0]
    if signal.vics_property:
        assert media[signal.vics_name] == signal.example
    else:
        assert {"MD5": media["MD5"], "HashName": signal.vics_name, "HashValue": signal.example} \
            in media["AlternativeHashes"]
    tip = ET.fromstring(cybertip_document([export_item], Reporter()))
    reported = {h.get("hashType"): h.text for h in tip.iter("originalFileHash")}
    expected = {signal.cybertip_hash_type: signal.example} if signal.cybertip_hash_type else {}
    assert expected.items() <= reported.items()
    assert (signal.example in reported.values()) == bool(signal.cybertip_hash_type)


def test_exports_carrying_every_signal_keep_to_the_published_models(export_item: ExportItem, tmp_path: Path) -> None:
    model = load_csdl(shared_data("schemas", "ProjectVicDataModel.2.0.xml"))
    assert check_document(model, json.loads(EXPORTS["vics-2.0"]([export_item]))) == []
    tip = tmp_path / "tip.xml"
    tip.write_text(cybertip_document([export_item], Reporter()), encoding="utf-8")
    assert xsd_problems(sent_documents(tip)) == []


@REGISTERED
def test_a_listed_value_matches_the_item_through_the_store(signal: SignalType, tmp_path: Path) -> None:
    """Equality for an exact digest; for PDQ, within its distance and not one bit beyond."""
    listed = signal.example if signal.exact else _flipped(signal.example, signal.max_distance)
    missed = _flipped(signal.example, signal.max_distance + 1)
    listing = tmp_path / "known.txt"
    listing.write_text(f"{signal.name}:{listed} listed\n{signal.name}:{missed} missed\n")
    store = _case_with_one_item(tmp_path / "case")
    try:
        import_hash_list(store, listing, Settings(workers=1, pdq_threshold=signal.max_distance or 31))
        [item] = list(store.iter_report_items())
    finally:
        store.close()
    found: list[dict[str, Any]] = item["matches"]
    assert [(m["signal"], m["distance"], m["label"]) for m in found] == [(signal.name, signal.max_distance, "listed")]
