"""What the listings domain needs from the packages above it (shops, site), as ports the composition root fills in.

Shops sit above listings (a shop page is a browse of listings, its rating comes from orders), yet publishing a
listing needs the seller's shop terms (free-listing quota, photo limit) and browsing hides suspended shops. The
shops package implements :class:`ShopDirectory`; :func:`marketplace.wiring.install_ports` installs it once per
process (web app, worker, CLI, tests), statically.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.cache import Cache
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


class BlockSlots(Protocol):
    """The admin-composed blocks of a page slot (``home``, ``category:<id>``; docs/rules.md §18), the anonymous
    view from the shared cache: ``[{id, title, display, items}]``. The site package above implements it."""

    async def slot(self, session: AsyncSession, settings: Settings, cache: Cache,
                   slot: str) -> list[dict[str, Any]]: ...


_blocks: BlockSlots | None = None


def install_blocks(blocks: BlockSlots) -> None:
    global _blocks
    _blocks = blocks


def blocks() -> BlockSlots:
    if _blocks is None:
        raise RuntimeError("listings.ports.install_blocks() was not called (marketplace.wiring.install_ports)")
    return _blocks


class RemovalReasons(Protocol):
    """Why a seller's listings were removed after a report (docs/rules.md §18): ``[{listing_id, title, reason,
    note, removed_at}]`` newest first, shown on /my/listings. The site package above implements it."""

    async def for_seller(self, session: AsyncSession, seller_id: int) -> list[dict[str, Any]]: ...


_removals: RemovalReasons | None = None


def install_removals(removals: RemovalReasons) -> None:
    global _removals
    _removals = removals


def removals() -> RemovalReasons:
    if _removals is None:
        raise RuntimeError("listings.ports.install_removals() was not called (marketplace.wiring.install_ports)")
    return _removals


@dataclass(frozen=True, slots=True)
class SellerRating:
    """A seller's rating as buyers gave it (docs/rules.md §19.7): score = positive − negative."""

    score: int
    positive_percent: float | None  # None while nobody rated positive or negative
    count: int  # feedback received from buyers, neutral included


class SellerTrust(Protocol):
    """The seller's rating beside their name on listing pages; feedback belongs to orders, above listings."""

    async def seller_rating(self, session: AsyncSession, seller_id: int) -> SellerRating: ...


_trust: SellerTrust | None = None


def install_trust(trust: SellerTrust) -> None:
    global _trust
    _trust = trust


def trust() -> SellerTrust:
    if _trust is None:
        raise RuntimeError("listings.ports.install_trust() was not called (marketplace.wiring.install_ports)")
    return _trust
