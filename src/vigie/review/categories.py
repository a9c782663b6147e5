"""Category schemes a case can be reviewed under, the AI tags of the Project VIC CAC ontology, and the keys
that apply them in the console (the words themselves are in vigie.vocabulary)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from vigie.review.roles import CaseMeta, SchemeStore
from vigie.vocabulary import PROJECT_VIC_US, SCHEMES, UK_CAID

DEFAULT_CUSTOM = ["Pertinent", "Not pertinent"]


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    key: str


def scheme_categories(scheme: str, custom: list[str] | None = None) -> list[Category]:
    if scheme == "projectvic-us":
        return [Category(code, label, code) for code, label in PROJECT_VIC_US.items()]
    if scheme == "uk-caid":
        return [Category(code, label, str(n)) for n, (code, label) in enumerate(UK_CAID.items(), start=1)]
    if scheme == "custom":
        return [Category(label, label, str(n)) for n, label in enumerate((custom or DEFAULT_CUSTOM)[:9], start=1)]
    raise ValueError(f"unknown category scheme {scheme!r} (one of {', '.join(SCHEMES)})")


def case_scheme(store: CaseMeta) -> tuple[str, list[Category]]:
    """The scheme this case is reviewed under (Project VIC US unless an admin chose another)."""
    scheme = store.get_meta("review_scheme") or "projectvic-us"
    custom = json.loads(store.get_meta("review_custom_categories") or "null")
    return scheme, scheme_categories(scheme, custom)


def set_case_scheme(store: SchemeStore, scheme: str, custom: list[str] | None, actor: str) -> None:
    categories = scheme_categories(scheme, custom)  # validates
    with store.transaction():
        store.set_meta("review_scheme", scheme)
        store.set_meta("review_custom_categories", json.dumps([c.code for c in categories] if scheme == "custom"
                                                             else None))
        store.append_audit(actor, "review-scheme", {"scheme": scheme, "categories": [c.code for c in categories]})

