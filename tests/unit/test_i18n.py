"""The translation seam: English ids, the current locale, templates and the override sandbox see the same calls."""

from __future__ import annotations

import jinja2

from marketplace import i18n


class _Upper:
    def gettext(self, message: str) -> str:
        return message.upper()

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return (singular if n == 1 else plural).upper()


def test_english_is_the_fallback_and_values_are_interpolated() -> None:
    with i18n.use_locale("en"):
        assert i18n._("%(n)s bids", n=3) == "3 bids"
        assert i18n.ngettext("%(num)d bid", "%(num)d bids", 1) == "1 bid"


def test_the_current_locale_picks_the_catalog_and_unknown_locales_fall_back() -> None:
    shipped = i18n._catalogs.get("zh_CN")
    i18n.register_catalog("zh_CN", _Upper())
    try:
        with i18n.use_locale("zh_CN"):
            assert i18n._("hello") == "HELLO"
            with i18n.use_locale("fr"):  # not offered: the default locale
                assert i18n.current_locale() == i18n.DEFAULT_LOCALE
        with i18n.use_locale("en"):
            assert i18n._("hello") == "hello"
    finally:
        i18n._catalogs.pop("zh_CN", None)
        if shipped is not None:
            i18n.register_catalog("zh_CN", shipped)


def test_templates_translate_and_still_escape() -> None:
    env = jinja2.Environment(autoescape=True)
    i18n.install_jinja(env)
    with i18n.use_locale("en"):
        out = env.from_string('{{ _("Hi %(name)s", name=who) }}').render(who="<b>")
    assert out == "Hi &lt;b&gt;"
