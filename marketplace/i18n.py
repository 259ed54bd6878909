"""Translations: the one place a message a person reads is turned into their language (docs/architecture.md).

English text is the message id. ``_("…")`` translates into the current request's locale (a context variable the
web layer sets per request; ``use_locale`` sets it for jobs and e-mails). Until a catalog holds a message, the
English text is shown. Templates call the same functions through Jinja's i18n extension (``{{ _("…") }}``,
``{{ ngettext("…", "…", n) }}``), installed by ``install_jinja``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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


def gettext(message: str, **values: Any) -> str:
    text = _catalog().gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    text = _catalog().ngettext(singular, plural, n)
    values.setdefault("num", n)
    return text % values


_ = gettext


def install_jinja(env: Any) -> None:
    """Give a Jinja environment ``_``, ``gettext`` and ``ngettext`` bound to the current locale."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)

