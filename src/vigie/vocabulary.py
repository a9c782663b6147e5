"""The words a case is reviewed and reported in: category schemes and their labels, the AI tags of the
Project VIC CAC ontology, industry classes. Every layer reads them from here; the console gets them served."""

from __future__ import annotations

from dataclasses import dataclass

SCHEME_LABELS = {"projectvic-us": "Project VIC US (0–4)", "uk-caid": "UK CAID (A/B/C)", "custom": "Custom"}
SCHEMES = tuple(SCHEME_LABELS)

PROJECT_VIC_US = {
    "0": "Non-pertinent",
    "1": "Child abuse material",
    "2": "Child exploitive (non-CAM) / age difficult",
    "3": "CGI / animation",
    "4": "Comparison images",
}
UK_CAID = {"A": "Category A", "B": "Category B", "C": "Category C"}

# Project VIC numbers the UK categories.
UK_CAID_VICS_NUMBERS = {"A": 1, "B": 2, "C": 3}


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

# Account roles: admins also manage accounts and the case's scheme; read-only accounts look and export nothing.
ADMIN = "admin"
REVIEWER = "reviewer"
READ_ONLY = "read-only"
ROLES = (ADMIN, REVIEWER, READ_ONLY)
DECIDING_ROLES = (ADMIN, REVIEWER)
NEW_ACCOUNT_ROLE = REVIEWER

# The AI verdicts, strongest first (signals/provenance/verdict.py says when each holds); none says "real".
AI_PROVENANCE = "ai-provenance"
AI_INDICATED = "ai-indicated"
UNDETERMINED = "undetermined"
AI_VERDICTS = (AI_PROVENANCE, AI_INDICATED, UNDETERMINED)


def category_scheme(category: str | None, declared: str | None) -> str | None:
    if category is None:
        return None
    if declared:
        return declared
    if category.upper() in UK_CAID:
        return "uk-caid"
    if category in PROJECT_VIC_US:
        return "projectvic-us"
    return "custom"


def category_label(scheme: str | None, category: str | None) -> str | None:
    if category is None:
        return None
    if scheme == "projectvic-us":
        return PROJECT_VIC_US.get(category, category)
    if scheme == "uk-caid":
        return UK_CAID.get(category.upper(), category)
    return category
