"""The template override policy (docs/rules.md §18): what an admin-written template may contain. Pure, no I/O.

An override is refused at save when it does not compile or when its syntax tree reaches anything outside the
allow-lists: a context variable not documented for overrides, a filter or test not allowed, an attribute that
starts with ``_`` or names Python internals (``mro``, ``__globals__``, ``config``, ``request.app``, …), a string
constant carrying a dunder (``attr('__class__')``, ``map(attribute='__class__')``), a dynamic or unknown template
name in ``extends``/``include``/``import``. At render the override still runs in Jinja's
``SandboxedEnvironment`` with autoescape (defence in depth, marketplace/site/templates.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from jinja2 import Environment, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from marketplace.errors import InvalidInput
from marketplace.web.filters import FILTERS

MAX_TEMPLATE_BYTES = 64 * 1024

# The context an override may name (docs/api.md "Site operations"); the shipped templates' own variables.
ALLOWED_NAMES = frozenset({
    # every page
    "user", "nav_categories", "q", "csrf_input", "safe_flashes", "site_slots",
    # translations (marketplace/i18n.py)
    "_", "gettext", "ngettext", "html_lang", "current_locale", "translate",
    # home and slots
    "blocks",
    # category, search
    "category", "children", "breadcrumbs", "filters", "result", "items", "base_url", "action",
    # listing page
    "listing", "error", "is_seller", "can_end", "can_feature", "has_auction_box", "listing_json",
    # shop page
    "shop", "is_owner", "total", "mode", "page", "per_page", "listings", "sort", "sorts", "owner", "rating",
    "logo_url", "banner_url",
    # a listing card (catalog/_card.html is included with `l` bound)
    "l",
    # Jinja's own safe helpers
    "range", "dict", "namespace", "loop", "super", "cycler", "joiner", "caller", "varargs", "kwargs",
})
ALLOWED_FILTERS = frozenset({
    # ours (marketplace/web/filters.py)
    "coins", "coins_plain", "iso", "when", "nl2br",
    # Jinja built-ins without reflective power
    "abs", "batch", "capitalize", "center", "default", "d", "dictsort", "e", "escape", "filesizeformat", "first",
    "float", "format", "groupby", "indent", "int", "join", "last", "length", "count", "list", "lower", "max",
    "min", "replace", "reverse", "round", "safe", "select", "reject", "slice", "sort", "string", "striptags",
    "sum", "title", "trim", "truncate", "unique", "upper", "urlencode", "urlize", "wordcount", "wordwrap",
    "tojson", "items",
})
ALLOWED_TESTS = frozenset({
    "defined", "undefined", "none", "number", "string", "mapping", "sequence", "iterable", "boolean", "false",
    "true", "integer", "float", "even", "odd", "divisibleby", "eq", "ne", "lt", "le", "gt", "ge", "in",
    "equalto", "sameas", "lower", "upper", "escaped",
})
# Attribute names refused even without a leading underscore: reflection, frames, app internals, secrets.
FORBIDDEN_ATTRIBUTES = frozenset({
    "mro", "config", "app", "globals", "func_globals", "f_globals", "f_locals", "f_back", "f_code", "gi_frame",
    "gi_code", "cr_frame", "cr_code", "ag_frame", "tb_frame", "tb_next", "im_func", "func_code", "environment",
    "env", "settings", "secret_key", "state", "scope", "session", "registry", "metadata", "engine", "bind",
    "module", "modules", "builtins", "import_module", "loader", "template_engine", "request", "subclasses",
    "base", "bases", "class", "dict", "func", "self", "os", "sys", "eval", "exec", "compile", "open", "popen",
    "system", "getattr", "setattr", "delattr", "vars", "locals", "object", "type", "code", "frame",
})


class UnsafeTemplate(InvalidInput):
    """400: the override does not compile or reaches outside the allow-lists; ``detail`` names the line."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


class TemplateTooLarge(InvalidInput):
    status_code = 413
    default_detail = f"A template may be at most {MAX_TEMPLATE_BYTES // 1024} KB."


_PARSER = SandboxedEnvironment(autoescape=True)
_PARSER.filters.update(FILTERS)


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _bad_attribute(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("_") or "__" in lowered or lowered in FORBIDDEN_ATTRIBUTES


def check_source(name: str, source: str, *, file_name: str, known_templates: Collection[str],
                 env: Environment | None = None) -> None:
    """Raise :class:`UnsafeTemplate` (400, with the line) or :class:`TemplateTooLarge` (413); else return."""
    if len(source.encode()) > MAX_TEMPLATE_BYTES:
        raise TemplateTooLarge()
    parser = env or _PARSER
    try:
        tree = parser.parse(source, name=file_name)
    except TemplateSyntaxError as exc:
        raise UnsafeTemplate(exc.lineno, f"syntax error: {exc.message}") from None
    declared: set[str] = set()
    for node in _walk(tree):
        # names the template binds itself ({% set %}, {% for %}, macros, imports, macro arguments)
        if isinstance(node, nodes.Name) and node.ctx in ("store", "param"):
            declared.add(node.name)
        elif isinstance(node, nodes.Macro | nodes.CallBlock):
            if isinstance(node, nodes.Macro):
                declared.add(node.name)
            declared.update(arg.name for arg in node.args)
        elif isinstance(node, nodes.FromImport):
            declared.update(n if isinstance(n, str) else n[1] for n in node.names)
        elif isinstance(node, nodes.Import):
            declared.add(node.target)
    for node in _walk(tree):
        line = getattr(node, "lineno", None)
        if isinstance(node, nodes.Name) and node.ctx == "load":
            if node.name not in ALLOWED_NAMES and node.name not in declared:
                raise UnsafeTemplate(line, f"“{node.name}” is not a variable templates may use.")
        elif isinstance(node, nodes.Getattr):
            if _bad_attribute(node.attr):
                raise UnsafeTemplate(line, f"the attribute “{node.attr}” is not allowed.")
        elif isinstance(node, nodes.Getitem):
            arg = node.arg
            if isinstance(arg, nodes.Const) and isinstance(arg.value, str) and _bad_attribute(arg.value):
                raise UnsafeTemplate(line, f"the key “{arg.value}” is not allowed.")
        elif isinstance(node, nodes.Keyword) and _bad_attribute(node.key):
            raise UnsafeTemplate(line, f"the keyword “{node.key}” is not allowed.")
        elif isinstance(node, nodes.Const) and isinstance(node.value, str) and "__" in node.value:
            raise UnsafeTemplate(line, "strings naming Python internals (“__…”) are not allowed.")
        elif isinstance(node, nodes.Filter):
            if node.name not in ALLOWED_FILTERS:
                raise UnsafeTemplate(line, f"the filter “{node.name}” is not allowed.")
        elif isinstance(node, nodes.Test):
            if node.name not in ALLOWED_TESTS:
                raise UnsafeTemplate(line, f"the test “{node.name}” is not allowed.")
        elif isinstance(node, nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport):
            template = node.template
            names = ([template.value] if isinstance(template, nodes.Const) else
                     [c.value for c in template.items if isinstance(c, nodes.Const)]
                     if isinstance(template, nodes.List | nodes.Tuple) else [])
            if not names or any(not isinstance(n, str) for n in names):
                raise UnsafeTemplate(line, "template names in extends/include/import must be plain strings.")
            for ref in names:
                if ref == file_name:
                    raise UnsafeTemplate(line, f"“{name}” cannot extend or include itself.")
                if ref not in known_templates or ref.startswith("admin/"):
                    raise UnsafeTemplate(line, f"unknown template “{ref}”.")
        elif (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr)
              and node.node.attr in ("format", "format_map")):
            # str.format / format_map reach attributes through the format string
            raise UnsafeTemplate(line, "calling “.format” is not allowed; use the format filter.")
    try:
        parser.compile(source, name=file_name)
    except TemplateSyntaxError as exc:
        raise UnsafeTemplate(exc.lineno, f"syntax error: {exc.message}") from None
