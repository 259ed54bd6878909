"""What the listings domain needs from the shops above it, as a port the composition root fills in.

Shops sit above listings (a shop page is a browse of listings, its rating comes from orders), yet publishing a
listing needs the seller's shop terms (free-listing quota, photo limit) and browsing hides suspended shops. The
shops package implements :class:`ShopDirectory`; :func:`marketplace.wiring.install_ports` installs it once per
process (web app, worker, CLI, tests), statically.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.settings import Settings


@dataclass(frozen=True, slots=True)
class ListingTerms:
    """What a seller's next listing costs and may carry."""

    shop_id: int | None
    free: bool  # within the shop's free-listing quota: no insertion fee
    free_remaining: int
    max_images: int
    can_list: bool  # False while the seller's shop is in grace or suspended
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ShopRef:
    id: int
    slug: str
    name: str


class ShopDirectory(Protocol):
    async def listing_terms(self, session: AsyncSession, seller_id: int, now: datetime, settings: Settings,
                            *, lock: bool = False) -> ListingTerms: ...

    async def refs(self, session: AsyncSession, shop_ids: Iterable[int]) -> dict[int, ShopRef]: ...

    async def is_suspended(self, session: AsyncSession, shop_id: int) -> bool: ...

    def suspended_ids(self) -> Select[tuple[int]]: ...

    def ids_with_slug(self, slug: str) -> Select[tuple[int]]: ...


_shops: ShopDirectory | None = None


def install(shops: ShopDirectory) -> None:
    global _shops
    _shops = shops


def shops() -> ShopDirectory:
    if _shops is None:
        raise RuntimeError("listings.ports.install() was not called (marketplace.wiring.install_ports)")
    return _shops
