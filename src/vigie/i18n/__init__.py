"""The languages people read Vigie in: English (the words in the code), French and Spanish. Each language is
a gettext catalogue, `locale/LANG/LC_MESSAGES/vigie.po` in this package, read when first asked for (no
compile step: the .po files are the catalogues shipped). `python -m vigie.i18n.extract` brings them up to date
with the code and checks every message has its translations."""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from vigie.errors import VigieError

DEFAULT_LANGUAGE = "en"
LANGUAGES = {"en": "English", "fr": "Français", "es": "Español"}  # each named in itself, as a chooser shows it
TRANSLATED = tuple(code for code in LANGUAGES if code != DEFAULT_LANGUAGE)
DOMAIN = "vigie"
LOCALE_DIR = Path(__file__).parent / "locale"


class LanguageError(VigieError, ValueError):
    exit_code = 2


def N_(message: str) -> str:  # gettext's name for "mark for translation, translate later"
    """Marks a message for the catalogues where it is defined; it is translated where it is shown."""
    return message


class Phrase(str):
    """A message (marked N_) with the values of its %(name)s placeholders. As a string it is the English text,
    or `plain` where the command line says it otherwise (with its options); `read` gives it in any language.
    Errors raised with one read in English on the command line and in the user's language in the console."""

    message: str
    values: dict[str, Any]

    def __new__(cls, message: str, /, plain: str | None = None, **values: Any) -> Phrase:
        english = message % values if values else message
        phrase = super().__new__(cls, english if plain is None else plain)
        phrase.message, phrase.values = message, values
        return phrase

    def read(self, lang: Language) -> str:
        """The message in `lang`, a value that is itself a Phrase (a code's name) read in it too."""
        values = {k: v.read(lang) if isinstance(v, Phrase) else v for k, v in self.values.items()}
        return lang.format(self.message, **values)


@dataclass(frozen=True)
class Language:
    code: str
    translations: gettext.NullTranslations
    # What the console's script gets: each message's translation (a list of forms for a plural message),
    # and the counts that take the singular form.
    messages: dict[str, str | list[str]] = field(default_factory=dict)
    singular: tuple[int, ...] = (1,)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def format(self, message: str, **values: Any) -> str:
        """The translation of `message`, with its %(name)s placeholders filled."""
        return self.gettext(message) % values if values else self.gettext(message)

    def say(self, text: str) -> str:
        """A Phrase read in this language, else a message marked N_ translated (an unmarked text as it is)."""
        return text.read(self) if isinstance(text, Phrase) else self.gettext(text)

    def script_catalogue(self) -> dict[str, Any]:
        return {"lang": self.code, "messages": self.messages, "singular": list(self.singular)}


def catalogue_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def language(code: str | None = None) -> Language:
    """The language `code` (English when None); an unknown code is refused, naming the known ones."""
    code = code or DEFAULT_LANGUAGE
    if code not in LANGUAGES:
        raise LanguageError(f"unknown language {code!r} (one of {', '.join(LANGUAGES)})")
    if code == DEFAULT_LANGUAGE:
        return Language(code, gettext.NullTranslations())
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with catalogue_path(code).open("rb") as handle:
        catalog = read_po(handle, locale=code, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries left out, as msgfmt does
    compiled.seek(0)
    messages: dict[str, str | list[str]] = {}
    for message in catalog:
        if not message.id or message.fuzzy or not message.string:
            continue
        if isinstance(message.id, str):
            messages[message.id] = str(message.string)
        else:  # a plural message: its singular is the key, its forms the value
            messages[message.id[0]] = [str(form) for form in message.string]
    translations = gettext.GNUTranslations(compiled)
    # English, French and Spanish have two forms: the script needs only which small counts are singular.
    singular = tuple(n for n in range(3) if translations.plural(n) == 0)  # type: ignore[attr-defined]
    return Language(code, translations, messages, singular)
