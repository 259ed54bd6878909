"""Listing API schemas (docs/api.md "Listings, bids, purchases")."""

from __future__ import annotations

from typing import Annotated

import msgspec

from marketplace.accounts.schemas import UserRef

# Generous transport limits only: the real rules (1–60 characters, …) live in listings.rules, which answers with a
# clearer message than a schema error would.
_Text = Annotated[str, msgspec.Meta(max_length=1000)]


class ListingCreate(msgspec.Struct, forbid_unknown_fields=False):
    """``POST /listings``. Fields of the other mode are ignored; rules in listings.rules."""

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
    member_day: bool = False  # docs/rules.md §15, fixed price only
    plus_price: int | None = None
    condition: str | None = None  # docs/rules.md §19.7: new, like_new, used, for_parts
    location: str | None = None


class BuyIn(msgspec.Struct, forbid_unknown_fields=False):
    quantity: int = 1
    points: int = 0  # redeemed on this order (docs/rules.md §14): multiples of 50, ≤ 2,000
    address_id: int | None = None  # from the buyer's address book (docs/rules.md §19.4); default: their default
    coupon_id: int | None = None  # a coupon of the buyer's (docs/rules.md §15), not combinable with points


class ImagePatch(msgspec.Struct, forbid_unknown_fields=False):
    """Move an image to ``position`` (0-based); the others shift to make room."""

    position: int


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
    seller: UserRef
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
    member_day: bool = False
    plus_price: int | None = None
    your_price: int | None = None  # logged-in callers: what they would pay per unit now (docs/rules.md §15)
    condition: str | None = None  # docs/rules.md §19.7
    location: str | None = None
    edit_count: int = 0


class FieldChangeOut(msgspec.Struct):
    field: str
    old: object
    new: object


class ListingEditOut(msgspec.Struct):
    """One entry of a listing's edit history (docs/rules.md §19.7), newest first."""

    id: int
    editor: UserRef
    created_at: str
    changes: list[FieldChangeOut]


class CategoryFacetOut(msgspec.Struct):
    """Matches of a text search in one category (docs/api.md, GET /listings)."""

    category_id: int
    name: str
    slug: str
    path: list[str]
    count: int


class ListingPage(msgspec.Struct):
    items: list[ListingOut]
    total: int
    page: int
    per_page: int
    # True when a text search matched more than listings.services.SEARCH_COUNT_CAP listings: total is that cap.
    total_capped: bool = False
    # A text search's matches per category, most first, ignoring the category_id filter (empty without q).
    category_facets: list[CategoryFacetOut] = []
