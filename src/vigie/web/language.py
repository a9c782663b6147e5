"""The language of each page: the user's own choice (a setting, like hold-to-reveal), else the browser's
Accept-Language, else English. Templates get `_` and `ngettext` in it; the console's script gets its
catalogue embedded in the page (static/console.js reads it, no string of any language is in the script)."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request

from vigie.i18n import DEFAULT_LANGUAGE, LANGUAGES, Language, language

SETTING = "language"  # in a user's settings; absent or empty: the browser's language


def choose(user_settings: dict[str, Any] | None) -> Language:
    chosen = (user_settings or {}).get(SETTING)
    if chosen in LANGUAGES:
        return language(chosen)
    return language(request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE)


def current() -> Language:
    """This request's language (English outside a request's hooks, as in a test calling a view alone)."""
    return g.get("language") or language()


def gettext(message: str, **values: Any) -> str:
    return current().format(message, **values)


def said(message: str, **values: Any) -> str:
    """A refusal in this request's language: a Phrase read in it, else a message marked N_ where it is written,
    translated with its placeholders filled (an unmarked message shows as it is)."""
    return current().format(message, **values) if values else current().say(message)


def message_of(error: BaseException) -> str:
    """What an error was raised with: its Phrase, to be read in the user's language (else its text)."""
    first = error.args[0] if error.args else None
    return first if isinstance(first, str) else str(error)


def sentence(text: str) -> str:
    """A refusal shown on its own, as a page shows it: capitalised, ending with a full stop."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def install(app: Flask) -> None:
    """`_`, `gettext` and `ngettext` in the templates, in the language of the request being answered."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: current().gettext(message),
        lambda singular, plural, n: current().ngettext(singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.globals["languages"] = LANGUAGES
