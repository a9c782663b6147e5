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


def install(app: Flask) -> None:
    """`_`, `gettext` and `ngettext` in the templates, in the language of the request being answered."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: current().gettext(message),
        lambda singular, plural, n: current().ngettext(singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.globals["languages"] = LANGUAGES
