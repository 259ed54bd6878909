"""The shipped message catalogs (marketplace/locales): they load, every template string has a Chinese translation,
placeholders agree, and the locale negotiation rules (docs/architecture.md "Languages")."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from marketplace import i18n

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
ZH_PO = i18n.LOCALES_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
# Left as they are in Chinese too: names, codes and examples a person types as shown.
SAME_IN_CHINESE = frozenset({
    "API", "PLUS", "ID", "ABCD EFGH JKMN PQRS", "POST /api/v1/auth/token", "category:&lt;id&gt;",
    "home, category:12, member_day", "member_day",
})
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _zh() -> Catalog:
    with ZH_PO.open("rb") as handle:
        return read_po(handle)


def _template_messages() -> set[str]:
    found = extract_from_dir(str(TEMPLATES), method_map=[("**.html", "jinja2")],
                             options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
                             directory_filter=lambda path: not Path(path).name.startswith("."))
    return {message if isinstance(message, str) else message[0] for _f, _l, message, _c, _ctx in found}


def _strings(message: object) -> list[str]:
    return list(message) if isinstance(message, (tuple, list)) else [str(message or "")]


def test_the_catalogs_load_and_translate() -> None:
    i18n.load_catalogs()
    with i18n.use_locale("zh_CN"):
        assert i18n._("Log in") == "登录"
        assert i18n._("Welcome, %(name)s!", name="小明") == "欢迎，小明！"
        assert i18n.ngettext("%(num)s bid", "%(num)s bids", 3) == "3 次出价"
        assert i18n._("auto-extend") == "自动延长"
    with i18n.use_locale("en"):
        assert i18n._("Log in") == "Log in"
        assert i18n.ngettext("%(num)s bid", "%(num)s bids", 1) == "1 bid"
        assert i18n.ngettext("%(num)s bid", "%(num)s bids", 2) == "2 bids"


def test_every_template_string_has_a_chinese_translation() -> None:
    catalog = _zh()
    wanted = _template_messages()
    assert len(wanted) > 500  # the extraction found the templates (directories starting with _ included)
    missing = sorted(m for m in wanted
                     if (entry := catalog.get(m)) is None or not all(_strings(entry.string))
                     or "fuzzy" in entry.flags)
    assert missing == [], "translate these in marketplace/locales/zh_CN/LC_MESSAGES/messages.po (README)"
    copied = sorted(m for m in wanted if m not in SAME_IN_CHINESE
                    and (entry := catalog.get(m)) is not None and _strings(entry.string)[0] == m)
    assert copied == [], "a Chinese translation that is still the English text"


def _lone_percent(text: str) -> bool:
    """A ``%`` that is neither ``%%`` nor ``%(name)s``: %-formatting (templates always format) would fail."""
    return "%" in PLACEHOLDER.sub("", text.replace("%%", ""))


def test_placeholders_match_between_english_and_chinese() -> None:
    wrong = []
    for entry in _zh():
        if not entry.id:
            continue
        english = _strings(entry.id)
        names = set(PLACEHOLDER.findall(" ".join(english)))
        for text in _strings(entry.string):
            if not text:
                continue
            if set(PLACEHOLDER.findall(text)) != names:
                wrong.append(("placeholders", entry.id))
            if _lone_percent(text) and not any(_lone_percent(e) for e in english):
                wrong.append(("lone %", entry.id))
    assert wrong == []


def test_no_japanese_forms_or_bilingual_labels_remain_in_templates() -> None:
    cjk = re.compile(r"[\u3400-\u9fff]")
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.S)
        text = text.replace('<span class="brand-mark">币</span>', "")  # the logo mark
        text = re.sub(r">(简体中文|中文)<", "><", text)  # the language switch names each language in itself
        if "自動" in text or cjk.search(text):
            offenders.append(str(path.relative_to(TEMPLATES)))
    assert offenders == []
    assert "自动延长" in {e.string for e in _zh() if e.id == "auto-extend"}


@pytest.mark.parametrize(("header", "expected"), [
    (None, None), ("", None), ("fr-FR", None),
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"), ("zh-TW", "zh_CN"), ("zh-Hans", "zh_CN"),
    ("en-US,en;q=0.9", "en"), ("fr;q=1.0, en;q=0.5, zh;q=0.4", "en"), ("en;q=0.2, zh;q=0.8", "zh_CN"),
    ("en;q=0, zh;q=0.1", "zh_CN"), ("en;q=bogus", None), ("*", None),
])
def test_accept_language_negotiation(header: str | None, expected: str | None) -> None:
    assert i18n.negotiate(header) == expected


def test_html_lang_follows_the_locale_and_templates_see_it() -> None:
    env = jinja2.Environment(autoescape=True)
    i18n.install_jinja(env)
    with i18n.use_locale("en"):
        assert env.from_string("{{ html_lang() }}").render() == "en"
    with i18n.use_locale("zh_CN"):
        assert env.from_string("{{ html_lang() }}").render() == "zh-CN"
        # a run-time message (a flash, an error detail) is translated, escaped, and never %-formatted
        i18n.load_catalogs()
        assert env.from_string("{{ translate(m) }}").render(m="Address saved.") == "地址已保存。"
        assert env.from_string("{{ translate(m) }}").render(m="<b>100% odd</b>") == "&lt;b&gt;100% odd&lt;/b&gt;"


def test_template_ngettext_takes_named_values_besides_the_count() -> None:
    env = jinja2.Environment(autoescape=True)
    i18n.install_jinja(env)
    i18n.load_catalogs()
    source = '{{ ngettext("%(count)s%(more)s result", "%(count)s%(more)s results", n, count=c, more="+") }}'
    with i18n.use_locale("en"):
        assert env.from_string(source).render(n=1, c="1") == "1+ result"
        assert env.from_string(source).render(n=1234, c="1,234") == "1,234+ results"
    with i18n.use_locale("zh_CN"):
        assert env.from_string(source).render(n=1234, c="1,234") == "1,234+ 条结果"
        assert env.from_string('{{ ngettext("%(num)s bid", "%(num)s bids", 2) }}').render() == "2 次出价"


def test_a_domain_error_with_values_keeps_english_detail_and_translates_with_its_values() -> None:
    from marketplace.errors import InvalidInput
    from marketplace.orders.message_rules import MESSAGE_MAX, clean_body

    with pytest.raises(InvalidInput) as caught:
        clean_body("x" * (MESSAGE_MAX + 1), has_photo=False)
    exc = caught.value
    assert exc.detail == f"The message is too long (at most {MESSAGE_MAX} characters)."
    assert str(exc) == exc.detail
    assert type(str(exc.detail)) is str
    i18n.load_catalogs()
    with i18n.use_locale("zh_CN"):
        assert i18n._(exc.detail) == f"消息太长（最多 {MESSAGE_MAX} 个字符）。"
        assert i18n.translate(exc.detail) == f"消息太长（最多 {MESSAGE_MAX} 个字符）。"
    with i18n.use_locale("en"):
        assert i18n._(exc.detail) == exc.detail
    plain = InvalidInput("Invalid input.")
    assert plain.detail == "Invalid input."
    assert not isinstance(plain.detail, i18n.Text)


def test_the_extractor_takes_the_message_id_of_a_raise_with_named_values() -> None:
    from io import BytesIO

    from marketplace.babel_extract import extract

    source = (b'from marketplace.errors import InvalidInput\n'
              b'raise InvalidInput("At most %(n)s photos.", n=N)\n'
              b'raise InvalidInput(f"At most {N} photos.")\n')
    found = [message for _line, _func, message, _comments in extract(BytesIO(source), ["_"], [], {})]
    assert found == ["At most %(n)s photos."]
