"""Bring the catalogues up to date with the code, and check them: `python -m vigie.i18n.extract` after
changing a message (then translate the entries it reports), `python -m vigie.i18n.extract --check` to only
list what is missing (the tests run the check). Messages are read from Python (`_`, `N_`, `gettext`,
`ngettext`), from the Jinja templates (`_`, `gettext`, `ngettext`) and from the console's script (`t`, `tn`)."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from vigie.i18n import DOMAIN, TRANSLATED, catalogue_path

PACKAGE = Path(__file__).resolve().parent.parent
METHODS = [
    ("i18n/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2.ext:babel_extract"),
    ("web/static/**.js", "javascript"),
]
KEYWORDS = {**DEFAULT_KEYWORDS, "t": None, "tn": (1, 2)}
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # no date that changes at each update: merges stay clean
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")
# gettext's two forms (CLDR adds a third for millions): the console's script chooses between two.
PLURAL_FORMS = {"fr": "nplurals=2; plural=(n > 1);", "es": "nplurals=2; plural=(n != 1);"}
LANGUAGE_NAMES = {"fr": "French", "es": "Spanish"}


def extract() -> Catalog:
    """Every message the code marks, with the files it is in."""
    template = Catalog(project="Vigie", version="", domain=DOMAIN, creation_date=FIXED_DATE, fuzzy=False)
    for filename, _, message, comments, _ in extract_from_dir(PACKAGE, METHODS, OPTIONS, KEYWORDS,
                                                                strip_comment_tags=True):
        template.add(message, None, [(filename, 0)], auto_comments=comments)
    return template


def read_catalogue(code: str) -> Catalog:
    path = catalogue_path(code)
    if not path.exists():
        return Catalog(locale=code, domain=DOMAIN, project="Vigie", creation_date=FIXED_DATE)
    with path.open("rb") as handle:
        return read_po(handle, locale=code, domain=DOMAIN)


def update() -> list[str]:
    """Merge the extracted messages into each language's catalogue; returns what still needs a translator."""
    template = extract()
    for code in TRANSLATED:
        catalog = read_catalogue(code)
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)  # no guessed translations
        catalog.revision_date = FIXED_DATE
        catalog.fuzzy = False
        catalog.header_comment = (f"# Vigie's words in {LANGUAGE_NAMES[code]}, brought up to date with the code by\n"
                                  "# `python -m vigie.i18n.extract`. Every message needs a translation (tests check).")
        catalog.last_translator = catalog.language_team = "Vigie contributors"
        catalog.msgid_bugs_address = ""
        catalog.project, catalog.version = "Vigie", "0"
        catalog.mime_headers = [("Plural-Forms", PLURAL_FORMS[code])]
        path = catalogue_path(code)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=120, ignore_obsolete=True, include_lineno=False)
    return check(template)


def _placeholders(texts: Any) -> set[str]:
    """The named placeholders in a message or translation (each of a plural's forms, together)."""
    joined = texts if isinstance(texts, str) else " ".join(texts)
    return {a or b for a, b in PLACEHOLDER.findall(joined)}


def check(template: Catalog | None = None) -> list[str]:
    """Each problem as a line: a message with no translation, a fuzzy one, one no longer in the code, or a
    translation whose placeholders differ from its message's."""
    template = template or extract()
    wanted = {m.id for m in template if m.id}
    problems = []
    for code in TRANSLATED:
        catalog = read_catalogue(code)
        if catalog.num_plurals != 2:
            problems.append(f"{code}: the catalogue needs two plural forms ({PLURAL_FORMS[code]})")
        have = {m.id: m for m in catalog if m.id}
        for msgid in wanted:
            key = msgid if isinstance(msgid, str) else msgid[0]
            entry = have.get(msgid)
            found = None if entry is None else entry.string
            strings = [found] if isinstance(found, str) else list(found or ())
            if entry is None or not strings or not all(strings):
                problems.append(f"{code}: no translation for {key!r}")
            elif entry.fuzzy:
                problems.append(f"{code}: fuzzy (to check) {key!r}")
            elif any(_placeholders(s) != _placeholders(msgid) for s in strings):
                problems.append(f"{code}: placeholders differ in {key!r}")
        problems.extend(f"{code}: stale, no longer in the code: {m!r}" for m in have if m not in wanted)
    return problems


def main(argv: list[str]) -> int:
    problems = check() if "--check" in argv else update()
    for line in problems:
        print(line)
    if not problems:
        print(f"catalogues complete: {', '.join(TRANSLATED)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
