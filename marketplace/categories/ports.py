"""What category administration needs to know about the listings filed in categories (listings sit above).

The listings package implements :class:`CategoryListings`; :func:`marketplace.wiring.install_ports` installs it.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class CategoryListings(Protocol):
    async def counts(self, session: AsyncSession) -> dict[int, int]:
        """Listings of any status placed directly in each category."""
        ...

    async def count(self, session: AsyncSession, category_id: int, *, active_only: bool = False) -> int: ...

    async def move(self, session: AsyncSession, source_id: int, target_id: int) -> None:
        """File every listing of ``source_id`` under ``target_id``."""
        ...

    async def reindex(self, session: AsyncSession, category_id: int) -> int:
        """The names on the path of ``category_id`` and its subtree changed: make its listings searchable by the
        new names (listings index their category path's names); returns how many listings were rewritten."""
        ...


_listings: CategoryListings | None = None


def install(listings: CategoryListings) -> None:
    global _listings
    _listings = listings


def listings() -> CategoryListings:
    if _listings is None:
        raise RuntimeError("categories.ports.install() was not called (marketplace.wiring.install_ports)")
    return _listings
