"""The words a case is reviewed and reported in: category schemes and their labels, the AI tags of the
Project VIC CAC ontology, industry classes. Every layer reads them from here; the console gets them served.
Labels are English, marked with N_ for the catalogues; they are translated where they are shown (`language`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from vigie.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, Language, Phrase, language

SCHEME_LABELS = {"projectvic-us": "Project VIC US (0–4)", "uk-caid": "UK CAID (A/B/C)", "custom": N_("Custom")}
SCHEMES = tuple(SCHEME_LABELS)

PROJECT_VIC_US = {
    "0": N_("Non-pertinent"),
    "1": N_("Child abuse material"),
    "2": N_("Child exploitive (non-CAM) / age difficult"),
    "3": N_("CGI / animation"),
    "4": N_("Comparison images"),
}
UK_CAID = {"A": N_("Category A"), "B": N_("Category B"), "C": N_("Category C")}

# Project VIC numbers the UK categories.
UK_CAID_VICS_NUMBERS = {"A": 1, "B": 2, "C": 3}


@dataclass(frozen=True)
class AiTag:
    code: str
    label: str
    key: str


AI_TAGS = (
    AiTag("ai-generated", N_("AI-generated"), "g"),
    AiTag("deepfake", N_("Deepfake / nudified"), "d"),
    AiTag("hybrid", N_("Hybrid (real and generated)"), "h"),
    AiTag("real-victim", N_("Real victim depicted"), "v"),
    AiTag("not-pertinent", N_("Not pertinent"), "n"),
)
AI_TAG_CODES = tuple(t.code for t in AI_TAGS)
NOT_PERTINENT_TAG = "not-pertinent"
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
# Codes people read as they are in English, translated elsewhere: the AI verdicts, the review order's classes
# (store/review.py ranks them), the account roles, the kinds of source and the strengths of a finding.
SHOWN_CODES = frozenset({
    N_("ai-provenance"), N_("ai-indicated"), N_("undetermined"),
    N_("unknown-with-face"), N_("unknown"), N_("ai-indicated-or-marked"), N_("known"),
    N_("admin"), N_("reviewer"), N_("read-only"),
    N_("directory"), N_("file"), N_("disk-image"),
    N_("deterministic"), N_("indicative"), N_("context"), N_("problem"),
})


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


@cache
def _not_pertinent_words() -> frozenset[str]:
    """Vigie's own words for "not pertinent" (Project VIC US 0's label, the AI tag's, a custom scheme's default
    category) in every language it speaks, as `_words` gives them."""
    said = (PROJECT_VIC_US["0"], next(t.label for t in AI_TAGS if t.code == NOT_PERTINENT_TAG))
    return frozenset(_words(language(code).gettext(text)) for code in LANGUAGES for text in said)


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def is_not_pertinent(scheme: str | None, category: str | None) -> bool:
    """One rule for every scheme: a category is not pertinent where its label says so in Vigie's words, in any
    language Vigie speaks, whatever the case, spaces or hyphens ("Non-pertinent", Project VIC US 0; a custom
    category "Not pertinent" or "Non pertinent"). UK CAID has no such category (the AI tag says it there)."""
    label = category_label(scheme, category, language(DEFAULT_LANGUAGE))
    return label is not None and _words(label) in _not_pertinent_words()


def category_label(scheme: str | None, category: str | None, lang: Language | None = None) -> str | None:
    """A category's meaning in `lang` (English by default); a category no scheme names is data, shown as is."""
    if category is None:
        return None
    known = PROJECT_VIC_US if scheme == "projectvic-us" else UK_CAID if scheme == "uk-caid" else {}
    label = known.get(category.upper() if scheme == "uk-caid" else category)
    return (lang or language()).gettext(label) if label else category


def shown_code(code: str, lang: Language) -> str:
    """A verdict, class or role as `lang` reads it; any other text is data, shown as it is."""
    return lang.gettext(code) if code in SHOWN_CODES else code


def tag_label(code: str, lang: Language) -> str:
    """An AI tag's name in `lang`; a tag Vigie does not know is shown as it is."""
    return next((lang.gettext(t.label) for t in AI_TAGS if t.code == code), code)


def scheme_name(code: str) -> Phrase:
    """A scheme's code where the command line names it, its label where a page reads it."""
    return Phrase(SCHEME_LABELS.get(code, code), plain=code)


# What each audit-log action is, as the console names it; the log itself keeps the code.
AUDIT_ACTIONS = {
    "categorise": N_("categorisation"), "undecide": N_("set back to undecided"), "undo": N_("undo"),
    "reveal": N_("reveal"), "note": N_("note"), "claim": N_("claim"), "release": N_("release"),
    "export": N_("export"), "report": N_("report written"), "scan": N_("scan"), "verify": N_("evidence check"),
    "scan-start": N_("scan started"),
    "match": N_("hash lists matched again"), "hashlist-import": N_("hash list imported"),
    "hashlist-rejected": N_("hash list refused"), "case-state": N_("case state recorded"),
    "case-copy": N_("case copied"), "audit-anchor": N_("audit log anchored"),
    "audit-rule": N_("audit chain rule changed"), "review-scheme": N_("category scheme chosen"),
    "faces-scan": N_("faces scanned"), "faces-group": N_("faces grouped into persons"),
    "faces-find": N_("faces searched for"), "faces-purge": N_("face data removed"),
    "person-name": N_("person named"), "person-merge": N_("persons merged"),
    "person-split": N_("person split"),
    "user-create": N_("account created"), "user-password": N_("password set by an admin"),
    "password-change": N_("password changed"), "user-disable": N_("account disabled"),
    "view-settings": N_("own view settings saved"), "org-view-settings": N_("organisation's view settings saved"),
    "login": N_("login"), "login-failed": N_("failed login"), "logout": N_("logout"),
    "server-create": N_("server created"), "case-grant": N_("case access granted"),
    "case-revoke": N_("case access revoked"),
}


# How a perceptual match's query was turned (signals/pdq.py names the variants), and the border put back first
VARIANTS = {
    "original": N_("as found"), "mirror-left-right": N_("mirrored left to right"),
    "mirror-top-bottom": N_("mirrored top to bottom"), "rotate-180": N_("rotated 180°"),
    "transpose": N_("flipped across its diagonal"), "rotate-90-clockwise": N_("rotated 90° clockwise"),
    "rotate-90-counterclockwise": N_("rotated 90° counterclockwise"),
    "transverse": N_("flipped across its other diagonal"),
}
UNCROPPED = "uncropped-"
THUMBNAIL_PICTURE = "exif-thumbnail+"


def variant_name(code: str, lang: Language) -> str:
    """A match's variant as `lang` says it ("uncropped-1.5%+rotate-180": its border put back, then rotated;
    "exif-thumbnail+original": the picture of its EXIF thumbnail, black bars left out); a variant Vigie does not
    name is shown as it is."""
    if code.startswith(THUMBNAIL_PICTURE):
        return lang.format(N_("the EXIF thumbnail's picture, black bars left out; %(variant)s"),
                           variant=variant_name(code.removeprefix(THUMBNAIL_PICTURE), lang))
    if code.startswith(UNCROPPED) and "+" in code:
        share, turned = code.removeprefix(UNCROPPED).split("+", 1)
        if turned == "original":
            return lang.format(N_("a %(share)s border put back"), share=share)
        return lang.format(N_("a %(share)s border put back, %(variant)s"), share=share,
                           variant=variant_name(turned, lang))
    return lang.gettext(VARIANTS[code]) if code in VARIANTS else code


# Where reading an item went wrong (the stage an error is recorded against); the message itself is recorded
# at the scan, in English
ERROR_STAGES = {
    "read": N_("reading"), "decode": N_("decoding"), "source": N_("source"), "link": N_("link"),
    "archive": N_("archive"), "archive-limit": N_("archive limit"), "archive-name": N_("name in the archive"),
    "archive-stopped": N_("archive left unfinished"), "image-hash": N_("image hash"), "faces": N_("faces"),
    "provenance": N_("provenance"), "timeout": N_("time limit"), "not-examined": N_("not examined"),
    "internal": N_("internal error"), "changed": N_("changed since scanned"),
    "exif-thumbnail": N_("EXIF thumbnail"), "hidden-picture": N_("picture hidden in its metadata"),
}


def stage_name(code: str, lang: Language) -> str:
    """The stage of an item's error as `lang` says it; a stage Vigie does not name is shown as it is."""
    return lang.gettext(ERROR_STAGES[code]) if code in ERROR_STAGES else code


# What kind of evidence an AI finding is; its text is recorded at the scan, in English
FINDING_KINDS = {
    "c2pa-manifest": N_("C2PA manifest"), "c2pa-certificate": N_("C2PA signer's certificate"),
    "c2pa-digital-source-type": N_("C2PA digital source type"),
    "c2pa-generated-ingredient": N_("C2PA generated ingredient"),
    "c2pa-ingredient-invalid": N_("C2PA ingredient not valid"), "c2pa-ingredients": N_("C2PA ingredients"),
    "c2pa-not-examined": N_("C2PA not examined"), "c2pa-remote-manifest": N_("C2PA manifest stored elsewhere"),
    "c2pa-tampered": N_("C2PA: altered since signing"), "c2pa-unreadable": N_("C2PA unreadable"),
    "generator-metadata": N_("generator metadata"), "invisible-watermark": N_("invisible watermark"),
    "iptc-digital-source-type": N_("IPTC digital source type"), "xmp-not-read": N_("XMP not read in full"),
    "statistical-detector": N_("statistical detector"),
}


def finding_kind_name(code: str, lang: Language) -> str:
    """An AI finding's kind as `lang` says it; a kind Vigie does not name is shown as it is."""
    return lang.gettext(FINDING_KINDS[code]) if code in FINDING_KINDS else code


def action_name(code: str) -> Phrase:
    """An audit action's code where the command line names it, what it did where a page reads it."""
    return Phrase(AUDIT_ACTIONS.get(code, code), plain=code)
