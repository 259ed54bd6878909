"""Pagination, validated in one place: every paged list (listings, orders, wallet entries, admin pages) asks
:func:`page_window` for its offset and limit, and answers with a :class:`Page`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from marketplace.errors import InvalidInput

T = TypeVar("T")
MAX_PER_PAGE = 100


def page_window(page: int, per_page: int, *, max_per_page: int = MAX_PER_PAGE) -> tuple[int, int]:
    """``(offset, limit)`` of a 1-based page; 400 unless ``page ≥ 1`` and ``1 ≤ per_page ≤ max_per_page``."""
    if page < 1 or not 1 <= per_page <= max_per_page:
        raise InvalidInput("page ≥ 1 and 1 ≤ per_page ≤ %(max_per_page)s.", max_per_page=max_per_page)
    return (page - 1) * per_page, per_page


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 20
