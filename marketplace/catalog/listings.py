"""Listing use cases: publish (with fees), browse and search, end early, photos, fixed-price purchase.

The one serializer of the listing object, :func:`listing_out`, lives here too so that every producer (API, pages,
the auctions websocket snapshot) shows the same fields.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

import marketplace.models  # noqa: F401  (every mapper: the ledger's FK to orders must resolve in any process)
from marketplace.accounts.models import User
from marketplace.catalog import listing_rules as rules
from marketplace.catalog.images import ImageStorage, LocalStorage, new_keys, process_image
from marketplace.catalog.models import Category, Listing, ListingImage
from marketplace.catalog.schemas import ImageOut, ListingOut, ShopRefOut, UserRefOut
from marketplace.catalog.search import search_condition
from marketplace.catalog.services import CategoryService
from marketplace.db import after_commit, iso, utcnow
from marketplace.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from marketplace.settings import Settings
from marketplace.shops.models import Shop
from marketplace.wallet import ledger


class Publisher(Protocol):
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...



def _shipping_fee(value: object, mode: object) -> int:
    """docs/rules.md §15: coins per order, fixed-price listings only (docs/decisions.md, Membership); like every
    field of the other mode, it is ignored on an auction."""
    from marketplace.membership.rules import check_shipping_fee

    fee = check_shipping_fee(value)
    return 0 if mode == "auction" else fee


# --- serializers -------------------------------------------------------------------------------------------------


def image_out(image: ListingImage, storage: ImageStorage) -> ImageOut:
    return ImageOut(id=image.id, url=storage.url(image.storage_key), thumb_url=storage.url(image.thumb_key),
                    position=image.position)


def listing_out(listing: Listing, images: Sequence[ImageOut], seller: Any, shop: Any | None,
                viewer_id: int | None) -> ListingOut:
    """The listing object of API.md. ``seller`` has ``id``/``username``; ``shop`` has ``slug``/``name`` or is None.

    ``buy_now_price`` disappears once an auction has bids (RULES.md §3: Buy Now only while there are none);
    the reserve itself is never shown, only ``reserve_met``.
    """
    # The auction fields come from the auctions domain, the same ones the live channel's snapshot uses.
    from marketplace.auctions.schemas import auction_fields

    auction = auction_fields(listing, viewer_id) if listing.mode == "auction" else None
    return ListingOut(
        id=listing.id,
        title=listing.title,
        description=listing.description,
        mode=listing.mode,
        status=listing.status,
        category_id=listing.category_id,
        seller=UserRefOut(id=seller.id, username=seller.username),
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
    )


async def serialize_listings(session: AsyncSession, listings: Sequence[Listing], viewer_id: int | None,
                             storage: ImageStorage) -> list[ListingOut]:
    """Many listings with their images, sellers and shops in three queries (no N+1 on browse pages)."""
    if not listings:
        return []
    ids = [lst.id for lst in listings]
    images: dict[int, list[ImageOut]] = {i: [] for i in ids}
    for img in await session.scalars(select(ListingImage).where(ListingImage.listing_id.in_(ids))):
        images[img.listing_id].append(image_out(img, storage))
    seller_ids = {lst.seller_id for lst in listings}
    sellers = {row.id: row for row in (await session.execute(
        select(User.id, User.username).where(User.id.in_(seller_ids)))).all()}
    shop_ids = {lst.shop_id for lst in listings if lst.shop_id is not None}
    shops = {row.id: row for row in (await session.execute(
        select(Shop.id, Shop.slug, Shop.name).where(Shop.id.in_(shop_ids)))).all()} if shop_ids else {}
    return [
        listing_out(lst, images[lst.id], sellers[lst.seller_id],
                    shops.get(lst.shop_id) if lst.shop_id is not None else None, viewer_id)
        for lst in listings
    ]


# --- browse ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrowseQuery:
    category_id: int | None = None
    q: str | None = None
    mode: str | None = None
    status: str | None = "active"
    seller_id: int | None = None
    shop: str | None = None
    sort: str | None = None
    page: int = 1
    per_page: int = 20
    min_price: int | None = None
    max_price: int | None = None
    featured: bool | None = None
    # Pages put featured listings first ("featured listings lead their category"); the API sorts strictly.
    featured_first: bool = False
    # A seller looking at their own listings also sees those in hidden categories or a suspended shop.
    include_hidden: bool = False


@dataclass(slots=True)
class BrowseResult:
    items: list[Listing] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 20
    total_capped: bool = False


SEARCH_COUNT_CAP = 1_000
ORDERINGS: dict[str, tuple[Any, ...]] = {
    "ending_soon": (Listing.ends_at.asc().nulls_last(), Listing.id.asc()),
    "newest": (Listing.created_at.desc(), Listing.id.desc()),
    "price_asc": (Listing.current_price.asc(), Listing.id.asc()),
    "price_desc": (Listing.current_price.desc(), Listing.id.desc()),
}


class ListingService:
    def __init__(self, session: AsyncSession, settings: Settings, *, publisher: Publisher | None = None,
                 storage: ImageStorage | None = None) -> None:
        self.session = session
        self.settings = settings
        self.publisher = publisher
        self.storage = storage or LocalStorage(settings.media_dir)
        self.categories = CategoryService(session)

    # --- reading ---------------------------------------------------------------------------------------------

    async def get(self, listing_id: int) -> Listing:
        listing = await self.session.get(Listing, listing_id)
        if listing is None or listing.status == "removed":
            raise NotFound("Listing not found.")
        return listing

    async def get_visible(self, listing_id: int, viewer_id: int | None, *, is_admin: bool = False) -> Listing:
        """A listing as a visitor may see it: one in a hidden category or a suspended shop is 404 for everyone
        but its seller and admins (RULES.md §6, §10)."""
        listing = await self.get(listing_id)
        if is_admin or (viewer_id is not None and viewer_id == listing.seller_id):
            return listing
        if await self.categories.is_hidden(listing.category_id):
            raise NotFound("Listing not found.")
        if listing.shop_id is not None:
            status = await self.session.scalar(select(Shop.status).where(Shop.id == listing.shop_id))
            if status == "suspended":
                raise NotFound("Listing not found.")
        return listing

    async def out(self, listing: Listing, viewer_id: int | None) -> ListingOut:
        return (await serialize_listings(self.session, [listing], viewer_id, self.storage))[0]

    async def out_many(self, listings: Sequence[Listing], viewer_id: int | None) -> list[ListingOut]:
        return await serialize_listings(self.session, listings, viewer_id, self.storage)

    async def browse(self, query: BrowseQuery) -> BrowseResult:
        """A page of listings. Hidden categories and suspended shops are left out (RULES.md §6, §10)."""
        sort = rules.parse_sort(query.sort)
        offset, limit = rules.page_window(query.page, query.per_page)
        conditions: list[ColumnElement[bool]] = []
        if query.status not in (None, "", "all"):
            if query.status not in rules.STATUSES or query.status == "removed":
                raise InvalidInput("status must be one of active, sold, unsold, ended, all.")
            conditions.append(Listing.status == query.status)
        else:
            conditions.append(Listing.status != "removed")
        if query.mode not in (None, ""):
            if query.mode not in rules.MODES:
                raise InvalidInput("mode must be 'fixed' or 'auction'.")
            conditions.append(Listing.mode == query.mode)
        if query.category_id is not None:
            if await self.session.get(Category, query.category_id) is None:
                raise InvalidInput("Unknown category.")
            conditions.append(Listing.category_id.in_(await self.categories.descendant_ids(query.category_id)))
        if query.seller_id is not None:
            conditions.append(Listing.seller_id == query.seller_id)
        if query.featured is not None:
            conditions.append(Listing.featured.is_(query.featured))
        if query.shop:
            conditions.append(Listing.shop_id.in_(select(Shop.id).where(Shop.slug == query.shop)))
        for bound, op in ((query.min_price, "ge"), (query.max_price, "le")):
            if bound is not None:
                if bound < 0:
                    raise InvalidInput("Prices cannot be negative.")
                conditions.append(Listing.current_price >= bound if op == "ge" else Listing.current_price <= bound)
        text_condition = search_condition(self.session.bind.dialect.name, query.q)
        if text_condition is not None:
            conditions.append(text_condition)
        if not query.include_hidden:
            hidden = await self.categories.hidden_ids()
            if hidden:
                conditions.append(Listing.category_id.not_in(hidden))
            conditions.append(or_(Listing.shop_id.is_(None),
                                  Listing.shop_id.not_in(select(Shop.id).where(Shop.status == "suspended"))))

        if text_condition is None:
            total = await self.session.scalar(select(func.count()).select_from(Listing).where(*conditions))
            capped = False
        else:
            # Counting every match of a common term means ILIKE over a large share of the table (bench/browse.py:
            # the exact count was most of a search's time). Counting stops at SEARCH_COUNT_CAP; the page then
            # says "1,000+" and `total_capped` tells API clients. Browsing by category counts exactly (an index).
            limited = select(Listing.id).where(*conditions).limit(SEARCH_COUNT_CAP + 1).subquery()
            total = await self.session.scalar(select(func.count()).select_from(limited))
            capped = int(total or 0) > SEARCH_COUNT_CAP
            total = min(int(total or 0), SEARCH_COUNT_CAP)
        order = (Listing.featured.desc(), *ORDERINGS[sort]) if query.featured_first else ORDERINGS[sort]
        rows = await self.session.scalars(select(Listing).where(*conditions).order_by(*order)
                                          .offset(offset).limit(limit))
        return BrowseResult(items=list(rows), total=int(total or 0), page=query.page, per_page=query.per_page,
                            total_capped=capped)

    # --- publishing ------------------------------------------------------------------------------------------

    async def create(self, seller_id: int, draft: dict[str, Any], now: datetime | None = None) -> Listing:
        """Publish a listing and charge its fees in the same transaction (RULES.md §5).

        Never leaves a listing without its fee: the fee is posted after the row is flushed and the caller's
        transaction rolls back on InsufficientCoins (402), taking the row with it.
        """
        now = now or utcnow()
        draft = dict(draft)
        shipping_fee = _shipping_fee(draft.pop("shipping_fee", None), draft.get("mode"))
        new = rules.validate_new_listing(
            **draft, min_auction_seconds=self.settings.min_auction_seconds,
            max_auction_seconds=self.settings.max_auction_seconds,
        )
        category = await self.session.get(Category, new.category_id)
        if category is None:
            raise InvalidInput("Unknown category.")
        if await self.categories.is_hidden(category.id):
            raise Conflict("That category is hidden; choose another one.")
        if not await self.categories.is_leaf(category.id):
            raise Conflict("Listings go only in the most specific category (a leaf): choose a sub-category.")

        from marketplace.shops.services import listing_terms

        # lock=True: the shop row lock makes two simultaneous publishes count the free quota one after the other.
        terms = await listing_terms(self.session, seller_id, now, self.settings, lock=True)
        if not terms.can_list:
            raise Conflict(terms.reason or "You cannot publish listings at the moment.")
        fee = rules.listing_fee(
            new.mode, featured=new.featured, free=terms.free, insertion_fixed=self.settings.fee_insertion_fixed,
            insertion_auction=self.settings.fee_insertion_auction, featured_fee=self.settings.fee_featured,
        )
        listing = Listing(
            seller_id=seller_id, shop_id=terms.shop_id, category_id=new.category_id, title=new.title,
            description=new.description, mode=new.mode, status="active", featured=new.featured,
            insertion_fee=fee.insertion, free_listing=fee.free_listing, created_at=now,
            price=new.price, quantity=new.quantity, quantity_available=new.quantity,
            current_price=new.sort_price, start_price=new.start_price, reserve_price=new.reserve_price,
            buy_now_price=new.buy_now_price, duration_seconds=new.duration_seconds,
            auto_extend=new.auto_extend if new.mode == "auction" else True, ends_at=new.ends_at(now),
            bid_count=0, version=0, shipping_fee=shipping_fee,
        )
        self.session.add(listing)
        await self.session.flush()
        if fee.total > 0:
            parts = [f"insertion {fee.insertion}"] if fee.insertion else []
            if fee.featured:
                parts.append(f"featured {fee.featured}")
            await ledger.post(
                self.session, kind="listing_fee",
                legs=[ledger.Leg(ledger.available(seller_id), -fee.total),
                      ledger.Leg(ledger.platform("revenue"), fee.total)],
                ref_type="listing", ref_id=listing.id, memo="listing fee: " + ", ".join(parts),
            )
        return listing

    async def end_early(self, listing_id: int, user_id: int, now: datetime | None = None) -> Listing:
        """The seller ends an active listing with no bids and no sales; fees are kept (RULES.md §5)."""
        listing = await self._lock(listing_id)
        rules.check_end_early(status=listing.status, seller_id=listing.seller_id, user_id=user_id,
                              bid_count=listing.bid_count, sold_units=listing.quantity - listing.quantity_available)
        listing.status = "ended"
        listing.ended_at = now or utcnow()
        listing.version += 1
        await self.session.flush()
        self._publish(listing.id, {"type": "closed", "status": "ended", "final_price": None})
        return listing

    async def feature(self, listing_id: int, user_id: int) -> Listing:
        """The featured upgrade after publishing (RULES.md §5: "at publish or later"), charged like at publish."""
        listing = await self._lock(listing_id)
        if listing.seller_id != user_id:
            raise PermissionDenied("Only the seller may feature this listing.")
        if listing.status != "active":
            raise Conflict("This listing is not active.")
        if listing.featured:
            raise Conflict("This listing is already featured.")
        fee = self.settings.fee_featured
        if fee > 0:
            await ledger.post(
                self.session, kind="listing_fee",
                legs=[ledger.Leg(ledger.available(user_id), -fee), ledger.Leg(ledger.platform("revenue"), fee)],
                ref_type="listing", ref_id=listing.id, memo=f"featured upgrade {fee}",
            )
        listing.featured = True
        listing.version += 1
        await self.session.flush()
        return listing

    async def _lock(self, listing_id: int) -> Listing:
        # populate_existing: a row already in the identity map must be refreshed with the locked values.
        listing = await self.session.scalar(
            select(Listing).where(Listing.id == listing_id).with_for_update().execution_options(populate_existing=True)
        )
        if listing is None or listing.status == "removed":
            raise NotFound("Listing not found.")
        return listing

    def _publish(self, listing_id: int, message: dict[str, Any]) -> None:
        publisher = self.publisher
        if publisher is None:
            return
        channel = f"listing:{listing_id}"
        after_commit(self.session, lambda: publisher.publish(channel, message))

    # --- buying ----------------------------------------------------------------------------------------------

    async def buy(self, listing_id: int, buyer_id: int, quantity: object, now: datetime | None = None,
                  points: object = None) -> Any:
        """Buy ``quantity`` units at the fixed price (RULES.md §4), or Buy Now on an auction.

        Lock, then decide: the listing row lock serialises buyers of the same listing, so the stock we check is
        the stock we decrement; the coins move into the order's escrow in the same transaction (open_order), and
        InsufficientCoins (402) rolls back the decrement with everything else.
        """
        now = now or utcnow()
        listing = await self._lock(listing_id)
        if listing.mode == "auction":
            return await self._buy_now(listing, buyer_id, now, points)
        q = rules.check_purchase(mode=listing.mode, status=listing.status, seller_id=listing.seller_id,
                                 buyer_id=buyer_id, quantity=quantity, quantity_available=listing.quantity_available)
        from marketplace.orders.services import open_order

        assert listing.price is not None
        listing.quantity_available -= q
        if listing.quantity_available == 0:
            listing.status = "sold"
            listing.ended_at = now
        listing.version += 1
        order = await open_order(self.session, listing=listing, buyer_id=buyer_id, quantity=q,
                                 unit_price=listing.price, points=points)
        await self.session.flush()
        self._publish(listing.id, {"type": "stock", "quantity_available": listing.quantity_available})
        return order

    async def _buy_now(self, listing: Listing, buyer_id: int, now: datetime, points: object = None) -> Any:
        if buyer_id == listing.seller_id:
            raise PermissionDenied("You cannot buy your own item.")
        # Imported here: the auctions domain imports catalog models, so a module-level import would be circular.
        from marketplace.auctions.schemas import closed_message
        from marketplace.auctions.services import buy_now

        order = await buy_now(self.session, listing.id, buyer_id, now, points=points)
        # the auctions domain leaves the "closed" announcement to its caller
        self._publish(listing.id, closed_message(listing))
        return order

    # --- images ----------------------------------------------------------------------------------------------

    async def add_image(self, listing_id: int, user_id: int, data: bytes, now: datetime | None = None) -> ListingImage:
        """Check, normalise and store one photo. Limit: listing_terms(...).max_images (6 without a shop)."""
        listing = await self._lock(listing_id)  # serialises concurrent uploads so the count limit holds
        if listing.seller_id != user_id:
            raise PermissionDenied("Only the seller may add photos.")
        from marketplace.shops.services import listing_terms

        terms = await listing_terms(self.session, listing.seller_id, now or utcnow(), self.settings)
        count = int(await self.session.scalar(
            select(func.count()).select_from(ListingImage).where(ListingImage.listing_id == listing.id)) or 0)
        if count >= terms.max_images:
            raise Conflict(f"A listing may have at most {terms.max_images} photos.")
        processed = await asyncio.to_thread(process_image, data, max_bytes=self.settings.max_image_bytes,
                                            max_pixels=self.settings.max_image_pixels)
        full_key, thumb_key = new_keys(listing.id, processed.extension)
        await asyncio.to_thread(self.storage.save, full_key, processed.full, processed.content_type)
        await asyncio.to_thread(self.storage.save, thumb_key, processed.thumb, processed.content_type)
        image = ListingImage(listing_id=listing.id, position=count, storage_key=full_key, thumb_key=thumb_key,
                             width=processed.width, height=processed.height, content_type=processed.content_type)
        self.session.add(image)
        await self.session.flush()
        return image

    async def _owned_images(self, listing_id: int, user_id: int) -> list[ListingImage]:
        listing = await self._lock(listing_id)
        if listing.seller_id != user_id:
            raise PermissionDenied("Only the seller may change the photos.")
        return list(await self.session.scalars(
            select(ListingImage).where(ListingImage.listing_id == listing_id)
            .order_by(ListingImage.position, ListingImage.id)))

    async def move_image(self, listing_id: int, image_id: int, user_id: int, position: object) -> list[ListingImage]:
        """Move one photo to ``position`` (0 = the cover photo); positions stay 0..n-1."""
        images = await self._owned_images(listing_id, user_id)
        image = next((i for i in images if i.id == image_id), None)
        if image is None:
            raise NotFound("Image not found.")
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < len(images):
            raise InvalidInput(f"position must be between 0 and {len(images) - 1}.")
        images.remove(image)
        images.insert(position, image)
        for index, img in enumerate(images):
            img.position = index
        await self.session.flush()
        return images

    async def delete_image(self, listing_id: int, image_id: int, user_id: int) -> None:
        images = await self._owned_images(listing_id, user_id)
        image = next((i for i in images if i.id == image_id), None)
        if image is None:
            raise NotFound("Image not found.")
        images.remove(image)
        await self.session.delete(image)
        for index, img in enumerate(images):
            img.position = index
        await self.session.flush()
        storage, keys = self.storage, (image.storage_key, image.thumb_key)

        async def remove_files() -> None:  # only once the row is surely gone
            for key in keys:
                await asyncio.to_thread(storage.delete, key)

        after_commit(self.session, remove_files)

    # --- pages -----------------------------------------------------------------------------------------------

    async def home_blocks(self, viewer_id: int | None, limit: int = 8) -> list[dict[str, Any]]:
        """The home page: featured, ending soon (auctions), newest. Empty blocks are left out."""
        specs = (
            ("Featured · 精选", BrowseQuery(featured=True, sort="newest", per_page=limit)),
            # Strictly by end time: a featured auction ending tomorrow must not hide one ending in a minute.
            ("Ending soon · 即将结束", BrowseQuery(mode="auction", sort="ending_soon", per_page=limit)),
            ("Newest · 最新上架", BrowseQuery(sort="newest", per_page=limit, featured_first=True)),
        )
        blocks = []
        for title, query in specs:
            result = await self.browse(query)
            if result.items:
                blocks.append({"title": title, "listings": await self.out_many(result.items, viewer_id)})
        return blocks

    async def breadcrumbs(self, category_id: int) -> list[dict[str, str]]:
        return [{"name": c.name, "url": f"/c/{c.slug}"} for c in await self.categories.ancestors(category_id)]

    async def seller_listings(self, seller_id: int, page: int = 1, per_page: int = 50) -> BrowseResult:
        return await self.browse(BrowseQuery(seller_id=seller_id, status="all", page=page, per_page=per_page,
                                             include_hidden=True))
