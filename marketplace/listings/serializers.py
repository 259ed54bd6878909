"""The one serializer of the listing object (docs/api.md): every producer — the API, the pages, the auctions
websocket snapshot, shop pages — goes through :func:`serialize_listings`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.accounts.schemas import UserRef
from marketplace.db import iso, one_of
from marketplace.listings import ports, rules
from marketplace.listings.models import Listing, ListingImage
from marketplace.listings.schemas import ImageOut, ListingOut, ShopRefOut
from marketplace.media.images import ImageStorage
from marketplace.membership.services import BuyerTerms


def auction_fields(listing: Listing, viewer_id: int | None = None) -> dict[str, Any]:
    """The auction part of the listing object (``you_lead`` is false for anonymous callers); the live channel's
    bid messages carry the same values."""
    assert listing.start_price is not None, "not an auction row"
    assert listing.ends_at is not None, "not an auction row"
    return {
        "start_price": listing.start_price,
        "current_price": listing.current_price,
        "min_next_bid": rules.min_next_bid(listing.start_price, listing.current_price, listing.bid_count),
        # Buy Now is offered only while there are no bids (docs/rules.md §3).
        "buy_now_price": listing.buy_now_price if listing.bid_count == 0 else None,
        "reserve_met": rules.reserve_met(listing.reserve_price, listing.leader_max),
        "bid_count": listing.bid_count,
        "ends_at": iso(listing.ends_at),
        "auto_extend": listing.auto_extend,
        "you_lead": viewer_id is not None and listing.leader_id == viewer_id,
    }


def image_out(image: ListingImage, storage: ImageStorage) -> ImageOut:
    return ImageOut(id=image.id, url=storage.url(image.storage_key), thumb_url=storage.url(image.thumb_key),
                    position=image.position)


def your_price(listing: Listing, terms: BuyerTerms | None) -> int | None:
    """What a logged-in caller would pay per unit now (docs/rules.md §15: list, member-day or PLUS price, the
    lowest); None for anonymous callers and auctions."""
    if terms is None or listing.mode != "fixed" or listing.price is None:
        return None
    return terms.unit_price(listing.price, member_day=bool(listing.member_day), plus_price=listing.plus_price).unit


def listing_out(listing: Listing, images: Sequence[ImageOut], seller: Any, shop: Any | None,
                viewer_id: int | None, terms: BuyerTerms | None = None) -> ListingOut:
    """The listing object of docs/api.md. ``seller`` has ``id``/``username``; ``shop`` has ``slug``/``name`` or is None.

    ``buy_now_price`` disappears once an auction has bids (docs/rules.md §3: Buy Now only while there are none);
    the reserve itself is never shown, only ``reserve_met``.
    """
    auction = auction_fields(listing, viewer_id) if listing.mode == "auction" else None
    return ListingOut(
        id=listing.id,
        title=listing.title,
        description=listing.description,
        mode=listing.mode,
        status=listing.status,
        category_id=listing.category_id,
        seller=UserRef(id=seller.id, username=seller.username),
        shop=ShopRefOut(slug=shop.slug, name=shop.name) if shop is not None else None,
        images=sorted(images, key=lambda i: (i.position, i.id)),
        featured=listing.featured,
        created_at=iso(listing.created_at) or "",
        price=None if auction else listing.price,
        quantity=listing.quantity,
        quantity_available=listing.quantity_available,
        start_price=auction["start_price"] if auction else None,
        current_price=listing.current_price,
        min_next_bid=auction["min_next_bid"] if auction else None,
        buy_now_price=auction["buy_now_price"] if auction else None,
        reserve_met=auction["reserve_met"] if auction else None,
        bid_count=listing.bid_count,
        ends_at=iso(listing.ends_at),
        auto_extend=auction["auto_extend"] if auction else False,
        you_lead=auction["you_lead"] if auction else False,
        ended_at=iso(listing.ended_at),
        shipping_fee=listing.shipping_fee or 0,
        member_day=bool(listing.member_day),
        plus_price=listing.plus_price if listing.mode == "fixed" else None,
        your_price=your_price(listing, terms),
        condition=listing.condition,
        location=listing.location,
        edit_count=listing.edit_count or 0,
    )


async def serialize_listings(session: AsyncSession, listings: Sequence[Listing], viewer_id: int | None,
                             storage: ImageStorage, terms: BuyerTerms | None = None) -> list[ListingOut]:
    """Many listings with their images, sellers and shops in three queries (no N+1 on browse pages)."""
    if not listings:
        return []
    ids = [lst.id for lst in listings]
    images: dict[int, list[ImageOut]] = {i: [] for i in ids}
    dialect = session.bind.dialect.name
    for img in await session.scalars(select(ListingImage).where(one_of(ListingImage.listing_id, ids, dialect))):
        images[img.listing_id].append(image_out(img, storage))
    seller_ids = {lst.seller_id for lst in listings}
    sellers = {row.id: row for row in (await session.execute(
        select(User.id, User.username).where(one_of(User.id, seller_ids, dialect)))).all()}
    shop_ids = {lst.shop_id for lst in listings if lst.shop_id is not None}
    shops = await ports.shops().refs(session, shop_ids) if shop_ids else {}
    return [
        listing_out(lst, images[lst.id], sellers[lst.seller_id],
                    shops.get(lst.shop_id) if lst.shop_id is not None else None, viewer_id, terms)
        for lst in listings
    ]


