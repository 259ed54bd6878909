"""One strict integer parser for text from forms and query strings (issue 11 L1).

Python's ``int()`` accepts far more than a person types into a price box: superscripts and other Unicode digits
(``"²"`` passes ``str.isdigit()`` and then makes ``int()`` raise), underscores (``"1_000"``), and thousands of
digits (beyond 4,300 it raises, below that it makes numbers no column holds). Every integer a form or a query
parameter carries goes through :func:`parse_int`: optional sign, ASCII digits only, at most 19 of them, within
the bounds the caller names (by default a BIGINT column's). Anything else is ``BadNumber``, a 400 with a sentence
naming the field — never a 500.
"""

from __future__ import annotations

from typing import Any

from marketplace.errors import InvalidInput

BIGINT_MAX = 2**63 - 1
MAX_DIGITS = 19
_DIGITS = frozenset("0123456789")


class BadNumber(InvalidInput):
    default_detail = "Enter a whole number."


def parse_int(raw: Any, *, label: str = "The number", minimum: int = 0, maximum: int = BIGINT_MAX) -> int:
    """``raw`` (a form value, a query parameter) as an int in ``[minimum, maximum]``; ``BadNumber`` otherwise."""
    text = str(raw[0] if isinstance(raw, list) and raw else raw).strip() if raw is not None else ""
    digits = text[1:] if text[:1] in ("-", "+") else text
    if not digits or len(digits) > MAX_DIGITS or not set(digits) <= _DIGITS:
        raise BadNumber("%(label)s must be a number: a whole number in digits 0-9.", label=label)
    value = int(text)
    if value < minimum:
        raise BadNumber("%(label)s must be at least %(minimum)s.", label=label, minimum=f"{minimum:,}")
    if value > maximum:
        raise BadNumber("%(label)s must be at most %(maximum)s.", label=label, maximum=f"{maximum:,}")
    return value


def parse_optional_int(raw: Any, *, label: str = "The number", minimum: int = 0,
                       maximum: int = BIGINT_MAX) -> int | None:
    """Like :func:`parse_int`, but an empty or missing value is ``None``."""
    if raw is None or (isinstance(raw, str) and raw.strip() == "") or raw == []:
        return None
    return parse_int(raw, label=label, minimum=minimum, maximum=maximum)


def parse_filter_int(raw: str | None, *, label: str = "The filter", minimum: int = 0,
                     maximum: int = BIGINT_MAX) -> int | None:
    """A query-string filter: text without any digit (``?min_price=x``) switches the filter off, as before;
    anything that looks like a number must be one (superscripts, 20+ digits → ``BadNumber``)."""
    if raw is None or not any(c.isdigit() for c in raw):
        return None
    return parse_int(raw, label=label, minimum=minimum, maximum=maximum)
