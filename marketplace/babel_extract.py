"""``pybabel extract`` helper (babel.cfg): Python messages, including the English text of raised domain errors.

Besides ``_``/``gettext``/``ngettext``/``N_``, the first argument of every ``raise SomeError("…")`` in a file is
extracted, so the ``detail`` of a domain error gets a translation without wrapping every raise: the web layer
translates a detail where it is shown (marketplace/web/errors.py; the API keeps ``detail`` in English and adds
``message``). Python's built-in exceptions are internal and skipped.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Collection, Iterator
from typing import IO, Any, cast

from babel.messages.extract import extract_python

_RAISED = re.compile(rb"raise\s+([A-Z][A-Za-z0-9_]*)\(")
_BUILTIN = frozenset(name for name in dir(builtins) if name[:1].isupper())
# ``N_`` (mark now, translate where shown) and raised errors are reported to Babel as ``_`` (one message).
_AS_GETTEXT = "_"


def extract(fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str],
            options: dict[str, Any]) -> Iterator[Any]:
    source = fileobj.read()
    lines = source.decode("utf-8", "replace").splitlines()
    marked = ({name.decode() for name in _RAISED.findall(source)} - _BUILTIN) | {"N_"}
    fileobj.seek(0)
    wanted: Any = [*keywords, *marked]  # extract_python reads only the names (Babel passes keywords.keys())
    found: Iterator[Any] = extract_python(fileobj, wanted, comment_tags, cast(Any, options))
    for lineno, funcname, messages, comments in found:
        name = str(funcname)
        if name in marked and name not in keywords:
            first = messages[0] if isinstance(messages, (list, tuple)) else messages
            start = max(lineno - 3, 0) if isinstance(lineno, int) else 0
            call = " ".join(lines[start:lineno] if isinstance(lineno, int) else [])
            if not isinstance(first, str) or re.search(re.escape(name) + r"\(\s*f[\"']", call):
                continue  # an f-string or a variable: nothing fixed to translate
            yield lineno, _AS_GETTEXT, first, comments
        else:
            yield lineno, funcname, messages, comments
