"""A small checker of OData 4.0 JSON against a CSDL document (test helper): every property is declared on its
entity type, with its primitive type and nullability; keys are present and unique within each collection;
navigation properties have the declared shape (one entity, or a collection of them)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
INT_RANGES = {"Edm.Int16": 2**15, "Edm.Int32": 2**31, "Edm.Int64": 2**63}


@dataclass
class EntityType:
    name: str
    keys: list[str]
    properties: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (type, nullable)
    navigation: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (target type, collection)


@dataclass
class Model:
    types: dict[str, EntityType]  # by qualified name (Namespace.Name)
    entity_sets: dict[str, str]  # entity set -> qualified type


def load_csdl(path: Path) -> Model:
    types: dict[str, EntityType] = {}
    sets: dict[str, str] = {}
    for schema in ET.parse(path).getroot().iter(f"{EDM}Schema"):
        namespace = schema.get("Namespace")
        for node in schema.findall(f"{EDM}EntityType"):
            entity = EntityType(node.get("Name", ""), [r.get("Name", "") for r in node.iter(f"{EDM}PropertyRef")])
            for prop in node.findall(f"{EDM}Property"):
                entity.properties[prop.get("Name", "")] = (prop.get("Type", ""), prop.get("Nullable") != "false")
            for nav in node.findall(f"{EDM}NavigationProperty"):
                target = nav.get("Type", "")
                collection = target.startswith("Collection(")
                entity.navigation[nav.get("Name", "")] = (target.removeprefix("Collection(").rstrip(")"), collection)
            types[f"{namespace}.{entity.name}"] = entity
        for entity_set in schema.iter(f"{EDM}EntitySet"):
            sets[entity_set.get("Name", "")] = entity_set.get("EntityType", "")
    return Model(types, sets)


def _type_problem(value: Any, edm: str) -> str | None:
    if edm == "Edm.String":
        ok = isinstance(value, str)
    elif edm in INT_RANGES:
        ok = isinstance(value, int) and not isinstance(value, bool) and -INT_RANGES[edm] <= value < INT_RANGES[edm]
    elif edm == "Edm.Boolean":
        ok = isinstance(value, bool)
    elif edm == "Edm.Guid":
        ok = isinstance(value, str) and bool(GUID.match(value))
    elif edm == "Edm.DateTimeOffset":
        try:
            ok = isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            ok = False
    elif edm in ("Edm.Double", "Edm.Decimal"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        return f"type {edm} is not known to this checker"
    return None if ok else f"{value!r} is not an {edm}"


def check_entity(model: Model, type_name: str, entity: Any, where: str) -> list[str]:
    if not isinstance(entity, dict):
        return [f"{where}: not a JSON object"]
    declared = model.types[type_name]
    problems: list[str] = []
    for name, value in entity.items():
        if "@" in name:  # an annotation (@odata.id, Name@odata.type, ...)
            continue
        if name in declared.properties:
            edm, nullable = declared.properties[name]
            if value is None:
                if not nullable:
                    problems.append(f"{where}.{name}: null, but the model says Nullable=false")
            elif problem := _type_problem(value, edm):
                problems.append(f"{where}.{name}: {problem}")
        elif name in declared.navigation:
            target, collection = declared.navigation[name]
            if collection:
                problems += check_collection(model, target, value, f"{where}.{name}")
            else:
                problems += check_entity(model, target, value, f"{where}.{name}")
        else:
            problems.append(f"{where}.{name}: {declared.name} declares no such property")
    for name, (_, nullable) in declared.properties.items():
        if not nullable and name not in entity:
            problems.append(f"{where}: {name} missing (Nullable=false)")
    return problems


def check_collection(model: Model, type_name: str, values: Any, where: str) -> list[str]:
    if not isinstance(values, list):
        return [f"{where}: a collection of {type_name} must be a JSON array"]
    problems: list[str] = []
    seen: set[tuple[Any, ...]] = set()
    keys = model.types[type_name].keys
    for n, value in enumerate(values):
        problems += check_entity(model, type_name, value, f"{where}[{n}]")
        if isinstance(value, dict):
            key = tuple(value.get(k) for k in keys)
            if key in seen:
                problems.append(f"{where}[{n}]: key {dict(zip(keys, key, strict=True))} repeated")
            seen.add(key)
    return problems


def check_document(model: Model, document: Any) -> list[str]:
    """Problems of an OData JSON response (a context naming an entity set, and its `value`)."""
    if not isinstance(document, dict) or not isinstance(document.get("@odata.context"), str):
        return ["not an OData JSON document with @odata.context"]
    entity_set = document["@odata.context"].rpartition("#")[2]
    if entity_set not in model.entity_sets:
        return [f"the context names {entity_set!r}, not an entity set of the model"]
    extra = [f"{k}: not an OData control information or value" for k in document if k not in ("@odata.context",
                                                                                               "value")]
    return extra + check_collection(model, model.entity_sets[entity_set], document.get("value"), entity_set)
