"""Translations: the one place a message a person reads is turned into their language (docs/architecture.md).

English text is the message id. ``_("…")`` translates into the current request's locale (a context variable the
web layer sets per request; ``use_locale`` sets it for jobs and e-mails). Until a catalog holds a message, the
English text is shown. Templates call the same functions through Jinja's i18n extension (``{{ _("…") }}``,
``{{ ngettext("…", "…", n) }}``), installed by ``install_jinja``.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from io import BytesIO
from pathlib import Path
from typing import Any, Protocol

DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")

_current: ContextVar[str] = ContextVar("marketplace_locale", default=DEFAULT_LOCALE)


class Catalog(Protocol):
    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


class _English:
    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


_ENGLISH = _English()
# locale -> catalog; filled by ``register_catalog`` (the catalog loader) at start-up.
_catalogs: dict[str, Catalog] = {}


def register_catalog(locale: str, catalog: Catalog) -> None:
    _catalogs[locale] = catalog


LOCALES_DIR = Path(__file__).resolve().parent / "locales"
# The value of ``<html lang>`` per locale.
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


def load_po(path: Path) -> Catalog:
    """One ``messages.po`` → a catalog (compiled in memory: no build step; fuzzy and empty entries are skipped)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def load_catalogs(directory: Path = LOCALES_DIR) -> None:
    """Register ``<directory>/<locale>/LC_MESSAGES/messages.po`` for every supported locale (start-up)."""
    for locale in LOCALES:
        path = directory / locale / "LC_MESSAGES" / "messages.po"
        if path.exists():
            register_catalog(locale, load_po(path))


def negotiate(accept_language: str | None) -> str | None:
    """The best supported locale for an ``Accept-Language`` header (None when it names none of ours)."""
    if not accept_language:
        return None
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _eq, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        locale = parse_locale(tag)
        if locale is not None and quality > 0:
            choices.append((-quality, index, locale))
    return min(choices)[2] if choices else None


def parse_locale(tag: str | None) -> str | None:
    """``zh``, ``zh-CN``, ``zh_Hans``, ``zh-TW`` → ``zh_CN``; ``en``, ``en-US`` → ``en``; anything else → None."""
    primary = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    return {"zh": "zh_CN", "en": "en"}.get(primary)


def html_lang() -> str:
    return HTML_LANG.get(_current.get(), "zh-CN")


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    """Set the locale for the rest of this task (the web layer calls it once per request)."""
    _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def _catalog() -> Catalog:
    return _catalogs.get(_current.get(), _ENGLISH)


class Text(str):
    """A message with named values: reads as the English text formatted (``msgid % values``) and translates as
    ``gettext(msgid) % values`` — what a domain error with values carries as its ``detail`` (marketplace/errors.py)."""

    msgid: str
    values: dict[str, Any]

    def __new__(cls, msgid: str, values: dict[str, Any]) -> Text:
        text = super().__new__(cls, msgid % values)
        text.msgid = msgid
        text.values = dict(values)
        return text


def gettext(message: str, **values: Any) -> str:
    if isinstance(message, Text):
        return _catalog().gettext(message.msgid) % message.values
    text = _catalog().gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    text = _catalog().ngettext(singular, plural, n)
    values.setdefault("num", n)
    return text % values


_ = gettext


def translate(message: object) -> str:
    """The translation of a message held in a variable (English when the catalog lacks it)."""
    if isinstance(message, Text):
        return _catalog().gettext(message.msgid) % message.values
    return _catalog().gettext(str(message))


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it yet (it is translated where it is shown)."""
    return message


def _raw_gettext(message: str) -> str:
    return _catalog().gettext(message)


def _raw_ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog().ngettext(singular, plural, n)


def install_jinja(env: Any) -> None:
    """Give a Jinja environment ``_``, ``gettext`` and ``ngettext`` bound to the current locale."""
    env.add_extension("jinja2.ext.i18n")
    # Jinja's newstyle calls %-format the result with the call's keyword values (and ``num``) themselves.
    env.install_gettext_callables(_raw_gettext, _raw_ngettext, newstyle=True)
    env.globals["html_lang"] = html_lang
    env.globals["current_locale"] = current_locale
    # A message chosen at run time (a flash, a domain error's detail): translated, never %-formatted, escaped.
    env.globals["translate"] = translate

