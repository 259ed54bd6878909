"""The template override policy: known SSTI payloads are refused at save, ordinary templates pass."""

from __future__ import annotations

import pytest

from marketplace.site.sandbox import MAX_TEMPLATE_BYTES, TemplateTooLarge, UnsafeTemplate, check_source

KNOWN = {"base.html", "_partials/header.html", "_partials/footer.html", "catalog/home.html", "catalog/_card.html",
         "_partials/macros.html", "_partials/blocks.html", "admin/_nav.html"}

SSTI_PAYLOADS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''.__class__ }}",
    "{{ user.__class__.__init__.__globals__ }}",
    "{{ config }}",
    "{{ config.items() }}",
    "{{ request.app.state }}",
    "{{ request }}",
    "{{ settings.secret_key }}",
    "{{ self._TemplateReference__context }}",
    "{{ self }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__.os }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ url_for.__globals__ }}",
    "{{ listing['__class__'] }}",
    "{{ listing|attr('__class__') }}",
    "{{ listing|attr('_' ~ '_class_' ~ '_') }}",
    "{{ [listing]|map(attribute='__class__')|list }}",
    "{{ user.mro() }}",
    "{{ listing.mro }}",
    "{{ ''.join.__self__ }}",
    "{{ '{0.__class__}'.format(listing) }}",
    "{{ 'a'.format_map(listing) }}",
    "{% set x = listing.__class__ %}{{ x }}",
    "{% for c in ''.__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{% include 'admin/_nav.html' %}",
    "{% include listing.title %}",
    "{% extends 'base.html' %}",  # base extending itself
    "{% import '/etc/passwd' as x %}",
    "{{ listing_row.metadata }}",
    "{{ listing.registry }}",
    "{{ user.environment }}",
    "{{ range.__call__ }}",
    "{{ dict(__builtins__=1) }}",
    "{{ request|attr('app') }}",
    "{{ getattr(listing, 'x') }}",
    "{{ listing is callable }}",
    "{{ listing|pprint }}",
    "{{ x.gi_frame.f_back.f_globals }}",
]


@pytest.mark.parametrize("payload", SSTI_PAYLOADS)
def test_known_ssti_payloads_are_refused(payload: str) -> None:
    with pytest.raises(UnsafeTemplate):
        check_source("base", payload, file_name="base.html", known_templates=KNOWN)


def test_a_refusal_names_the_line() -> None:
    with pytest.raises(UnsafeTemplate) as info:
        check_source("home", "<p>ok</p>\n<p>{{ listing.title }}</p>\n{{ ''.__class__ }}\n",
                     file_name="catalog/home.html", known_templates=KNOWN)
    assert info.value.detail.startswith("line 3:")
    assert info.value.status_code == 400


def test_a_syntax_error_names_the_line() -> None:
    with pytest.raises(UnsafeTemplate) as info:
        check_source("home", "a\nb\n{% if user %}\n", file_name="catalog/home.html", known_templates=KNOWN)
    assert "line" in info.value.detail
    assert "syntax error" in info.value.detail


def test_over_64_kb_is_413() -> None:
    with pytest.raises(TemplateTooLarge) as info:
        check_source("footer", "x" * (MAX_TEMPLATE_BYTES + 1), file_name="_partials/footer.html",
                     known_templates=KNOWN)
    assert info.value.status_code == 413


@pytest.mark.parametrize("source", [
    '{% extends "base.html" %}{% block content %}<h1>{{ user.username if user else "Hi" }}</h1>'
    '{% from "_partials/blocks.html" import render_blocks %}{{ render_blocks(blocks) }}{% endblock %}',
    "<footer>{{ '%d items'|format(3) }} {% for c in nav_categories %}{{ c.name|upper }}{% endfor %}</footer>",
    '{% set n = namespace(total=0) %}{% for l in items %}{% set n.total = n.total + l.current_price %}{% endfor %}'
    '{{ n.total|coins }}{% macro m(x) %}{{ x }}{% endmacro %}{{ m(1) }}',
    '{% extends "base.html" %}{% block title %}{{ super() }}!{% endblock %}',
])
def test_ordinary_templates_pass(source: str) -> None:
    check_source("home", source, file_name="catalog/home.html", known_templates=KNOWN)
