"""Project VIC VICS JSON 1.3 (a flat media list) and 2.0 (cases holding media). Each registered signal is
read from its VICS property or its AlternativeHashes HashName; fields Vigie does not model stay in `extra`."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from vigie.matching.lists.common import (
    HASH_LIKE,
    HashListError,
    ParsedList,
    field_key,
    has_hash,
    norm_category,
    parse_bool,
    parse_quality,
    set_signal,
)
from vigie.matching.lists.json_stream import Elements, Shape, read_document, whole
from vigie.records import ListEntry
from vigie.signals.registry import SIGNALS, InvalidHash, spoken_list
from vigie.vocabulary import PROJECT_VIC_US, SCHEMES, UK_CAID, UK_CAID_VICS_NUMBERS, category_scheme

NAME = "vics"


def sniff(head: str) -> bool:
    return head.lstrip("\ufeff \t\r\n").startswith("{")


# Fields read into the entry's columns; every other field of a media is kept in `extra`.
_HASHES = {s.vics_name: s.name for s in SIGNALS.values()} | {"PhotoDNA": "photodna"}  # property -> field
# an AlternativeHashes HashName, compared as field_key spells it ("PDQ Hash", "pdq_hash" and "PDQHash" are PDQ)
_BY_HASH_NAME = {field_key(name): field for name, field in _HASHES.items()} | {
    field_key(name): s.name for s in SIGNALS.values() for name in (s.name, s.label, *s.csv_aliases)}
_MEDIA_KEYS = {"media", "medialist", "medias"}  # as field_key spells them: a case's (or a media's) media array
_MODELLED = {*_HASHES, "Category", "CategoryScheme", "Series", "VictimIdentified"}
_ALTERNATIVES = ("AlternativeHashes", "Hashes")
# The scheme part of a VICS context: http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/UK/$metadata
VICS_CONTEXT_SCHEMES = {"US": "projectvic-us", "UK": "uk-caid"}
_CONTEXT_SCHEME = re.compile(r"/(US|UK)(?=[/#$]|$)", re.IGNORECASE)
# Vigie's own MediaMetadata properties (exports/vics.py): a category the number cannot carry, PDQ quality.
VIGIE_CATEGORY, VIGIE_CATEGORY_SCHEME, VIGIE_PDQ_QUALITY = "Vigie.Category", "Vigie.CategoryScheme", "Vigie.PdqQuality"
# A media is a few levels deep; deeper is hostile, and would be stored as such.
VICS_MAX_DEPTH = 32


@dataclass(frozen=True)
class _Unreadable:
    reason: str


class _CaseFields:
    """Stands, once per case, before its media: the case's own fields, looked at for hashes not read."""


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    kinds = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}
    return next((kind for cls, kind in kinds.items() if isinstance(value, cls)), "null")


def _deeper_than(value: Any, limit: int) -> bool:
    pending = [(value, 1)]  # no recursion: the depth is what is being checked
    while pending:
        node, depth = pending.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def vics_context_scheme(context: str) -> str | None:
    found = _CONTEXT_SCHEME.search(context)
    return VICS_CONTEXT_SCHEMES[found[1].upper()] if found else None


def _media_entries(text: str) -> tuple[str, str | None, Iterator[tuple[str, dict[str, Any], Any]]]:
    """(VICS version, scheme named by the context, (where, case fields, media or _Unreadable) per media).
    The media are parsed one at a time as they are read (the whole JSON is checked first, each let go)."""
    document = read_document(text, _document_shape)
    if not isinstance(document, dict):
        raise HashListError("a VICS file is a JSON object with 'value'")
    context = document.get("@odata.context", document.get("odata.metadata")) or ""
    if not isinstance(context, str):
        raise HashListError(f"the @odata.context is {_json_kind(context)}, not a URL")
    values = document.get("value")
    if not isinstance(values, Elements):
        raise HashListError("no 'value' array: not a Project VIC VICS file")
    scheme = vics_context_scheme(context)
    first = next(iter(values), None)
    if "#Cases" in context or (isinstance(first, dict) and _media_arrays(first)):
        def cases() -> Iterator[tuple[str, dict[str, Any], Any]]:
            for c, case in enumerate(values, start=1):
                if not isinstance(case, dict):
                    yield f"case {c}", {}, _Unreadable(f"the case is {_json_kind(case)}, not an object")
                    continue
                arrays = _media_arrays(case)
                case_fields = {k: v for k, v in case.items() if k not in arrays}
                if _deeper_than(case_fields, VICS_MAX_DEPTH):
                    raise HashListError(f"case {c}: its fields are nested more than {VICS_MAX_DEPTH} levels deep")
                yield f"case {c}", case_fields, _CaseFields()
                for key, media_list in arrays.items():
                    if not isinstance(media_list, Elements):
                        yield f"case {c}", {}, _Unreadable(f"its {key!r} is {_json_kind(media_list)}, not an array")
                        continue
                    named = "" if key == "Media" else f" ({key})"
                    for m, media in enumerate(media_list, start=1):
                        yield from _with_nested(f"case {c} media {m}{named}", case_fields, media)
        return "vics-2.0", scheme, cases()
    if "#Media" in context or "odata.metadata" in document:
        return "vics-1.3", scheme, (found for m, media in enumerate(replace(values, shape=whole), start=1)
                                    for found in _with_nested(f"media {m}", {}, media))
    raise HashListError(f"unknown VICS context {context!r} (expected ...#Media for 1.3 or ...#Cases for 2.0)")


def _is_media_key(key: str) -> bool:
    return field_key(key) in _MEDIA_KEYS


def _case_shape(key: str) -> Shape | None:
    """A case (or a 1.3 media, until its version is known) is read with its media arrays streamed."""
    return whole if _is_media_key(key) else None


def _document_shape(key: str) -> Shape | None:
    return _case_shape if key == "value" else None


def _media_arrays(node: dict[str, Any]) -> dict[str, Any]:
    """A case's (or a media's) media arrays: `Media`, and the spellings lists use for it (`media`, `MediaList`)."""
    return {key: value for key, value in node.items() if _is_media_key(key)}


def _with_nested(where: str, case_fields: dict[str, Any], media: Any,
                 depth: int = 0) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """A media, then the media nested in it (a media array inside a media), each read as a media of its own."""
    yield where, case_fields, media
    if not isinstance(media, dict) or depth >= VICS_MAX_DEPTH:
        return  # a media nested deeper is refused as such when it is read
    for key, nested in _media_arrays(media).items():
        if not isinstance(nested, list):
            yield where, case_fields, _Unreadable(f"its {key!r} is {_json_kind(nested)}, not an array")
            continue
        for n, inner in enumerate(nested, start=1):
            yield from _with_nested(f"{where} {key} {n}", case_fields, inner, depth + 1)


def _vics_hash(media: dict[str, Any]) -> tuple[dict[str, str], dict[str, list[Any]], list[str]]:
    """The hashes of a media, its own fields first, then those its AlternativeHashes name:
    (entry field -> value, the alternative hashes not read into a field, problems)."""
    found: dict[str, str] = {}
    problems: list[str] = []
    for key, column in _HASHES.items():
        value = media.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, str):
            found[column] = value
        else:
            problems.append(f"{key} is {_json_kind(value)}, not a string")
    kept: dict[str, list[Any]] = {}
    for key in _ALTERNATIVES:
        alternatives = media.get(key)
        if alternatives is None:
            continue
        if not isinstance(alternatives, list):
            problems.append(f"{key} is {_json_kind(alternatives)}, not an array")
            continue
        kept[key] = []
        for alternative in alternatives:
            name = alternative.get("HashName") if isinstance(alternative, dict) else None
            known = _BY_HASH_NAME.get(field_key(name)) if isinstance(name, str) else None
            if known is None or known in found:
                kept[key].append(alternative)  # a hash Vigie does not match on, or a second value: kept as given
                continue
            value = alternative.get("HashValue")
            if isinstance(value, str) and value:
                found[known] = value
            else:
                problems.append(f"{key} {name}: the HashValue is {_json_kind(value)}, not a string of its digits")
    return found, kept, problems


def _vics_category(value: Any, scheme: str) -> str | None:
    """A VICS Category as the scheme's code (numbers for Project VIC US and UK); ValueError if it is no value."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"Category is {_json_kind(value)}, not a number")
    code = norm_category(value)
    if scheme == "uk-caid":
        by_number = {str(n): letter for letter, n in UK_CAID_VICS_NUMBERS.items()}
        return by_number.get(code or "", code)
    return code


def _fits_scheme(code: str, scheme: str) -> bool:
    return {"projectvic-us": code in PROJECT_VIC_US, "uk-caid": code in UK_CAID}.get(scheme, True)


def _vigie_metadata(media: dict[str, Any]) -> dict[str, str]:
    """Vigie's own MediaMetadata properties (string values only; the metadata itself stays in `extra`)."""
    metadata = media.get("MediaMetadata")
    if not isinstance(metadata, list):
        return {}
    return {p["PropertyName"]: p["PropertyValue"] for p in metadata
            if isinstance(p, dict) and str(p.get("PropertyName", "")).startswith("Vigie.")
            and isinstance(p.get("PropertyValue"), str)}


def read(name: str, text: str, scheme: str | None, signal: str | None) -> ParsedList:
    version, context_scheme, media_items = _media_entries(text)
    parsed = ParsedList(format=version, entries=[])
    misfits: dict[str, set[str]] = {}
    wrong_types: list[str] = []
    unread: dict[str, list[str]] = {}  # a field Vigie does not read -> the media where it holds a hash
    photodna: list[str] = []
    for where, case_fields, media in media_items:
        if isinstance(media, _CaseFields):  # a media array under a name Vigie does not know, say
            for field_name in sorted({f for f, value in _strings(case_fields) if HASH_LIKE.fullmatch(value)}):
                unread.setdefault(f"the case's {field_name}", []).append(where)
            continue
        if not isinstance(media, dict):
            parsed.problem(where, media.reason if isinstance(media, _Unreadable) else
                           f"media is {_json_kind(media)}, not an object")
            continue
        if _deeper_than(media, VICS_MAX_DEPTH):
            parsed.problem(where, f"media nested more than {VICS_MAX_DEPTH} levels deep")
            continue
        hashes, alternatives, bad = _vics_hash(media)
        entry = ListEntry()
        for column, value in hashes.items():
            try:
                if column == "photodna":
                    entry.photodna = value
                else:
                    set_signal(entry, SIGNALS[column], SIGNALS[column].validate(value))
            except InvalidHash as exc:
                bad.append(str(exc))
        kept = has_hash(entry)
        if bad:  # a bad hash loses its value only: the media's valid hashes are kept, the media not skipped
            parsed.problem(where, "; ".join(bad) + (
                f"; {'that value' if len(bad) == 1 else 'those values'} not read, the media's other hashes kept"
                if kept else ""), skipped=not kept)
        if not kept:
            if not bad:
                parsed.problem(where, f"media has no {spoken_list(list(_HASHES))} value")
            continue
        nested = _media_arrays(media)  # read as media of their own
        # its names held once for all media (json.loads shared them within a document; each media is parsed alone)
        entry.extra = {sys.intern(k): v for k, v in media.items() if k not in _MODELLED and k not in alternatives
                       and k not in nested}
        entry.extra |= {k: v for k, v in alternatives.items() if v}
        read = {*entry.digests.values(), entry.pdq, entry.photodna}
        for field_name in sorted({f for f, value in _strings(entry.extra) if HASH_LIKE.fullmatch(value)
                                  and value.lower() not in read}):
            unread.setdefault(field_name, []).append(where)
        if entry.photodna:
            photodna.append(where)
        vigie = _vigie_metadata(media)
        declared = next((s for s in (scheme, vigie.get(VIGIE_CATEGORY_SCHEME), media.get("CategoryScheme"),
                                     context_scheme) if s in SCHEMES), "projectvic-us")
        if media.get("CategoryScheme") not in (None, *SCHEMES):
            entry.extra["CategoryScheme"] = media["CategoryScheme"]
        try:
            entry.category = _vics_category(vigie.get(VIGIE_CATEGORY, media.get("Category")), declared)
        except ValueError as exc:
            wrong_types.append(f"{where}: {exc}")
            entry.extra["Category"] = media["Category"]
        if entry.category is not None and not _fits_scheme(entry.category, declared):
            misfits.setdefault(declared, set()).add(entry.category)
        entry.category_scheme = category_scheme(entry.category, declared)
        series, victim = media.get("Series"), media.get("VictimIdentified")
        if isinstance(series, str | int) and not isinstance(series, bool):
            entry.series = str(series) or None
        elif series is not None:
            wrong_types.append(f"{where}: Series is {_json_kind(series)}, not a name")
            entry.extra["Series"] = series
        if isinstance(victim, bool | int | str):
            entry.victim_identified = parse_bool(victim)
        elif victim is not None:
            wrong_types.append(f"{where}: VictimIdentified is {_json_kind(victim)}, not true or false")
            entry.extra["VictimIdentified"] = victim
        if entry.pdq:
            entry.pdq_quality = parse_quality(vigie.get(VIGIE_PDQ_QUALITY, ""))
        if case_fields:
            entry.extra["@case"] = case_fields
        parsed.entries.append(entry)
    for declared_scheme, codes in misfits.items():
        listed = ", ".join(sorted(codes)[:10]) + (", …" if len(codes) > 10 else "")
        parsed.notes.append(f"categories that are not {declared_scheme} categories ({listed}) were kept as given; "
                            f"is the list of another scheme (--scheme)?")
    if photodna:
        parsed.notes.append(f"PhotoDNA: hashes Vigie does not compute, not matched: {_some(photodna)}")
    for field_name, wheres in unread.items():
        parsed.notes.append(f"{field_name}: values that look like hashes in a field Vigie does not read as one "
                            f"(kept as given), not matched: {_some(wheres)}")
    if wrong_types:
        more = f" (and {len(wrong_types) - 5} more)" if len(wrong_types) > 5 else ""
        parsed.notes.append(f"{len(wrong_types)} field(s) of the wrong type, imported with their media's hashes and "
                            f"kept as given in the entry's extra fields: {'; '.join(wrong_types[:5])}{more}")
    return parsed


def _strings(value: Any, name: str = "") -> Iterator[tuple[str, str]]:
    """(field, string) for every string in a media's extra fields; an array's elements and an AlternativeHashes'
    HashValue are named by their HashName (`AlternativeHashes pdq_hex`), other fields by their path."""
    if isinstance(value, str):
        yield name, value
    elif isinstance(value, list):
        for element in value:
            yield from _strings(element, name)
    elif isinstance(value, dict):
        label = value.get("HashName") if isinstance(value.get("HashName"), str) else None
        for key, element in value.items():
            named = f"{name} {label}" if key == "HashValue" and label else f"{name}.{key}".strip(".")
            yield from _strings(element, named)


def _some(wheres: list[str]) -> str:
    cases = all(where.startswith("case ") and " media " not in where for where in wheres)
    shown = "; ".join(wheres[:5]) + ("; …" if len(wheres) > 5 else "")
    return f"{len(wheres)} {'case(s)' if cases else 'media'} ({shown})"
