"""Catalog API schemas: categories (API.md Categories) and listings (API.md "Listings, bids, purchases")."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

# Generous transport limits only: the real rules (1–60 characters, …) live in catalog.rules, which answers with a
# clearer message than a schema error would.
_Text = Annotated[str, msgspec.Meta(max_length=1000)]


class CategoryOut(msgspec.Struct):
    id: int
    name: str
    slug: str
    parent_id: int | None
    position: int
    hidden: bool


class CategoryNode(msgspec.Struct):
    id: int
    name: str
    slug: str
    parent_id: int | None
    position: int
    hidden: bool
    children: list[CategoryNode]


class CategoryCreate(msgspec.Struct):
    name: _Text
    parent_id: int | None = None


class CategoryPatch(msgspec.Struct):
    """Only the fields present change; ``"parent_id": null`` (present) makes the category a root."""

    name: _Text | UnsetType = UNSET
    parent_id: int | UnsetType | None = UNSET
    position: Annotated[int, msgspec.Meta(ge=0)] | UnsetType = UNSET
    hidden: bool | UnsetType = UNSET
    slug: _Text | UnsetType = UNSET


class CategoryMerge(msgspec.Struct):
    into_id: int


class ListingCreate(msgspec.Struct, forbid_unknown_fields=False):
    """``POST /listings``. Fields of the other mode are ignored; rules in catalog.listing_rules."""

    title: Annotated[str, msgspec.Meta(max_length=500)]
    category_id: int
    mode: str
    description: Annotated[str, msgspec.Meta(max_length=20_000)] = ""
    price: int | None = None
    quantity: int | None = None
    start_price: int | None = None
    reserve_price: int | None = None
    buy_now_price: int | None = None
    duration_seconds: int | None = None
    auto_extend: bool | None = None
    featured: bool = False
    shipping_fee: int | None = None


class BuyIn(msgspec.Struct, forbid_unknown_fields=False):
    quantity: int = 1
    points: int = 0  # redeemed on this order (docs/rules.md §14): multiples of 50, ≤ 2,000


class ImagePatch(msgspec.Struct, forbid_unknown_fields=False):
    """Move an image to ``position`` (0-based); the others shift to make room."""

    position: int


class UserRefOut(msgspec.Struct):
    id: int
    username: str


class ShopRefOut(msgspec.Struct):
    slug: str
    name: str


class ImageOut(msgspec.Struct):
    id: int
    url: str
    thumb_url: str
    position: int


class ListingOut(msgspec.Struct):
    """The listing object. Every field is present in both modes; the other mode's fields are null (or 0/false)."""

    id: int
    title: str
    description: str
    mode: str
    status: str
    category_id: int
    seller: UserRefOut
    shop: ShopRefOut | None
    images: list[ImageOut]
    featured: bool
    created_at: str
    # fixed price
    price: int | None
    quantity: int
    quantity_available: int
    # auction (current_price equals price for fixed listings)
    start_price: int | None
    current_price: int
    min_next_bid: int | None
    buy_now_price: int | None
    reserve_met: bool | None
    bid_count: int
    ends_at: str | None
    auto_extend: bool
    you_lead: bool
    ended_at: str | None = None
    shipping_fee: int = 0


class ListingPage(msgspec.Struct):
    items: list[ListingOut]
    total: int
    page: int
    per_page: int
    # True when a text search matched more than catalog.listings.SEARCH_COUNT_CAP listings: total is that cap.
    total_capped: bool = False
