"""Category schemes a case can be reviewed under, the AI tags of the Project VIC CAC ontology, and the keys
that apply them in the console."""

from __future__ import annotations

import json
from dataclasses import dataclass

from vigie.matching.hashlists import PROJECT_VIC_US, UK_CAID
from vigie.store.sqlite import SqliteCaseStore

SCHEME_NAMES = ("projectvic-us", "uk-caid", "custom")
DEFAULT_CUSTOM = ["Pertinent", "Not pertinent"]


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    key: str


@dataclass(frozen=True)
class AiTag:
    code: str
    label: str
    key: str


AI_TAGS = (
    AiTag("ai-generated", "AI-generated", "g"),
    AiTag("deepfake", "Deepfake / nudified", "d"),
    AiTag("hybrid", "Hybrid (real and generated)", "h"),
    AiTag("real-victim", "Real victim depicted", "v"),
    AiTag("not-pertinent", "Not pertinent", "n"),
)
AI_TAG_CODES = tuple(t.code for t in AI_TAGS)
# Tags that say generative AI made or altered the image: the CyberTipline "generative AI" annotation.
GENERATIVE_TAGS = frozenset({"ai-generated", "deepfake", "hybrid"})
INDUSTRY_CLASSES = ("A1", "A2", "B1", "B2")


def scheme_categories(scheme: str, custom: list[str] | None = None) -> list[Category]:
    if scheme == "projectvic-us":
        return [Category(code, label, code) for code, label in PROJECT_VIC_US.items()]
    if scheme == "uk-caid":
        return [Category(code, label, str(n)) for n, (code, label) in enumerate(UK_CAID.items(), start=1)]
    if scheme == "custom":
        return [Category(label, label, str(n)) for n, label in enumerate((custom or DEFAULT_CUSTOM)[:9], start=1)]
    raise ValueError(f"unknown category scheme {scheme!r} (one of {', '.join(SCHEME_NAMES)})")


def case_scheme(store: SqliteCaseStore) -> tuple[str, list[Category]]:
    """The scheme this case is reviewed under (Project VIC US unless an admin chose another)."""
    scheme = store.get_meta("review_scheme") or "projectvic-us"
    custom = json.loads(store.get_meta("review_custom_categories") or "null")
    return scheme, scheme_categories(scheme, custom)


def set_case_scheme(store: SqliteCaseStore, scheme: str, custom: list[str] | None, actor: str) -> None:
    categories = scheme_categories(scheme, custom)  # validates
    with store._transaction():
        store.set_meta("review_scheme", scheme)
        store.set_meta("review_custom_categories", json.dumps([c.code for c in categories] if scheme == "custom"
                                                             else None))
        store.append_audit(actor, "review-scheme", {"scheme": scheme, "categories": [c.code for c in categories]})

