"""Listing use cases: publish (with fees), browse and search (the one browse query of search, category pages,
shop pages and home blocks), end early, feature, photos.

The listing object is produced by :mod:`marketplace.listings.serializers` only. Purchases live upstairs: a
fixed-price purchase is an order (``orders.services``), Buy Now ends an auction (``auctions.services``).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import events
from marketplace.accounts.models import User
from marketplace.accounts.schemas import UserRef
from marketplace.categories.models import Category
from marketplace.categories.services import CategoryService, TreeSnapshot
from marketplace.db import after_commit, iso, one_of, utcnow
from marketplace.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from marketplace.listings import ports, rules
from marketplace.listings.events import ListingPublished
from marketplace.listings.models import Listing, ListingEdit, ListingImage
from marketplace.listings.schemas import FieldChangeOut, ListingEditOut, ListingOut
from marketplace.listings.search import reindex_categories, search_condition
from marketplace.listings.serializers import serialize_listings
from marketplace.listings.tokens import category_paths
from marketplace.media.images import ImageStorage, LocalStorage, in_decoder, process_image
from marketplace.membership import rules as member_rules
from marketplace.membership import services as membership
from marketplace.membership.rules import check_plus_price, check_shipping_fee
from marketplace.settings import Settings
from marketplace.wallet import ledger


class Publisher(Protocol):
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...



def _shipping_fee(value: object, mode: object) -> int:
    """docs/rules.md §15: coins per order, fixed-price listings only (docs/decisions.md, Membership); like every
    field of the other mode, it is ignored on an auction."""
    fee = check_shipping_fee(value)
    return 0 if mode == "auction" else fee


def _member_prices(member_day: object, plus_price: object, mode: object, price: object) -> tuple[bool, int | None]:
    """docs/rules.md §15: a fixed-price listing may opt in to the member day and set a PLUS price below its price;
    ignored on an auction, like every field of the other mode."""
    if member_day is None:
        member_day = False
    if not isinstance(member_day, bool):
        raise InvalidInput("The member-day flag must be on or off.")
    checked = check_plus_price(plus_price, price)
    return (False, None) if mode == "auction" else (member_day, checked)


# --- browse ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrowseQuery:
    category_id: int | None = None
    q: str | None = None
    mode: str | None = None
    status: str | None = "active"
    seller_id: int | None = None
    shop: str | None = None  # a shop slug (GET /listings?shop=)
    shop_id: int | None = None  # a shop page (its visibility already checked by the caller)
    sort: str | None = None
    page: int = 1
    per_page: int = 20
    min_price: int | None = None
    max_price: int | None = None
    featured: bool | None = None
    condition: str | None = None  # docs/rules.md §19.7
    # Pages put featured listings first ("featured listings lead their category"); the API sorts strictly.
    featured_first: bool = False
    # A seller looking at their own listings also sees those in hidden categories or a suspended shop.
    include_hidden: bool = False
    # A text search also counts its matches per category (the facet of the results page and the API).
    facets: bool = False


@dataclass(frozen=True, slots=True)
class CategoryFacet:
    """One category of a search's matches: the leaf the listings are filed in, its path, how many match."""

    category_id: int
    name: str
    slug: str
    path: list[str]
    count: int


@dataclass(slots=True)
class BrowseResult:
    items: list[Listing] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 20
    total_capped: bool = False
    # Only for a text search with BrowseQuery.facets: every matching category, most matches first. Counted over
    # the same first SEARCH_COUNT_CAP + 1 matches as the total, so with total_capped they are lower bounds.
    facets: list[CategoryFacet] = field(default_factory=list)


# Photos added this soon after publishing are part of publishing (the sell form uploads them right after the
# listing row), not an edit for the history (docs/rules.md §19.7).
PUBLISH_WINDOW = timedelta(minutes=10)
SEARCH_COUNT_CAP = 1_000
BROWSE_COUNT_CAP = 10_000  # a category browse (no q) counts exactly up to here
COUNT_TTL = 30.0
COUNT_CACHE_MIN = 1_000  # counts this large are cached; smaller ones are always exact and fresh
COUNT_CACHE_SIZE = 2_048
_COUNT_CACHE: dict[Hashable, tuple[float, int]] = {}
_FACET_CACHE: dict[Hashable, tuple[float, dict[int, int]]] = {}


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, (list, set, frozenset)) else value

ORDERINGS: dict[str, tuple[Any, ...]] = {
    "ending_soon": (Listing.ends_at.asc().nulls_last(), Listing.id.asc()),
    "newest": (Listing.created_at.desc(), Listing.id.desc()),
    "price_asc": (Listing.current_price.asc(), Listing.id.asc()),
    "price_desc": (Listing.current_price.desc(), Listing.id.desc()),
}


def new_keys(listing_id: int, extension: str = "jpg") -> tuple[str, str]:
    """(full, thumb) keys: random names, so a URL can be cached forever and never guessed from an id."""
    token = secrets.token_urlsafe(12)
    return f"listings/{listing_id}/{token}.{extension}", f"listings/{listing_id}/{token}_thumb.{extension}"


async def is_public(session: AsyncSession, listing: Listing) -> bool:
    """:func:`rules.public` for a loaded row: its status, its category's and its shop's state (each looked up only
    while the answer is still open)."""
    removed = listing.status == "removed"
    hidden = not removed and await CategoryService(session).is_hidden(listing.category_id)
    suspended = (not removed and not hidden and listing.shop_id is not None
                 and await ports.shops().is_suspended(session, listing.shop_id))
    return rules.public(status=listing.status, category_hidden=hidden, shop_suspended=suspended)


async def ensure_visible(session: AsyncSession, listing: Listing | None, viewer_id: int | None, *,
                         is_admin: bool = False) -> Listing:
    """The read side of the one visibility rule, used by every path that shows one listing (page, API, bid
    history, live channel): a removed listing, one in a hidden category or in a suspended shop is 404 to everyone
    but its seller and admins (docs/rules.md §10). Browsing applies the same rule as a query (:meth:`browse`)."""
    if listing is None or not rules.visible_to(is_public=await is_public(session, listing),
                                               seller_id=listing.seller_id, viewer_id=viewer_id, is_admin=is_admin):
        raise NotFound("Listing not found.")
    return listing


async def ensure_tradable(session: AsyncSession, listing_id: int) -> Listing:
    """The write side: bids, purchases and Buy Now need a public listing, whoever asks — otherwise 404 and
    nothing changes. Checked before the row lock (visibility changes rarely; the status is re-checked under it)."""
    listing = await session.get(Listing, listing_id)
    if listing is None or not await is_public(session, listing):
        raise NotFound("Listing not found.")
    return listing


class ListingService:
    def __init__(self, session: AsyncSession, settings: Settings | None = None, *,
                 publisher: Publisher | None = None, storage: ImageStorage | None = None) -> None:
        self.session = session
        self.settings = settings = settings or Settings()
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
        """A listing as a visitor may see it (:func:`ensure_visible`)."""
        return await ensure_visible(self.session, await self.session.get(Listing, listing_id), viewer_id,
                                    is_admin=is_admin)

    async def _terms(self, viewer_id: int | None) -> membership.BuyerTerms | None:
        if viewer_id is None:
            return None
        return await membership.buyer_terms(self.session, viewer_id, utcnow(), self.settings)

    async def out(self, listing: Listing, viewer_id: int | None) -> ListingOut:
        return (await serialize_listings(self.session, [listing], viewer_id, self.storage,
                                         await self._terms(viewer_id)))[0]

    async def out_many(self, listings: Sequence[Listing], viewer_id: int | None) -> list[ListingOut]:
        return await serialize_listings(self.session, listings, viewer_id, self.storage,
                                        await self._terms(viewer_id) if listings else None)

    async def browse(self, query: BrowseQuery) -> BrowseResult:
        """A page of listings. Hidden categories and suspended shops are left out (docs/rules.md §6, §10)."""
        sort = rules.parse_sort(query.sort)
        offset, limit = rules.page_window(query.page, query.per_page)
        conditions: list[ColumnElement[bool]] = []
        category_condition: ColumnElement[bool] | None = None
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
        tree = await self.categories.snapshot()  # one read for existence, descendants, hidden ids and facets
        dialect = self.session.bind.dialect.name
        if query.category_id is not None:
            if query.category_id not in tree.ids:
                raise InvalidInput("Unknown category.")
            category_condition = one_of(Listing.category_id, tree.descendant_ids(query.category_id), dialect)
            conditions.append(category_condition)
        if query.seller_id is not None:
            conditions.append(Listing.seller_id == query.seller_id)
        if query.featured is not None:
            conditions.append(Listing.featured.is_(query.featured))
        if query.condition not in (None, ""):
            conditions.append(Listing.condition == rules.check_condition(query.condition))
        if query.shop:
            conditions.append(Listing.shop_id.in_(ports.shops().ids_with_slug(query.shop)))
        if query.shop_id is not None:
            conditions.append(Listing.shop_id == query.shop_id)
        for bound, op in ((query.min_price, "ge"), (query.max_price, "le")):
            if bound is not None:
                if bound < 0:
                    raise InvalidInput("Prices cannot be negative.")
                conditions.append(Listing.current_price >= bound if op == "ge" else Listing.current_price <= bound)
        text_condition = search_condition(self.session.bind.dialect.name, query.q)
        if text_condition is not None:
            conditions.append(text_condition)
        if not query.include_hidden:
            hidden = tree.hidden_ids()
            if hidden:
                conditions.append(one_of(Listing.category_id, sorted(hidden), dialect, negate=True))
            if query.shop_id is None:  # a shop page has already decided that its viewer may see the shop
                conditions.append(or_(Listing.shop_id.is_(None),
                                      Listing.shop_id.not_in(ports.shops().suspended_ids())))

        facets: list[CategoryFacet] = []
        if text_condition is None:
            # Capped too, higher: an exact count of a large category read every one of its active listings (an
            # index-only scan of 300,000 entries for a top category at 1,000,000 listings), while the page stops
            # after LIMIT. Beyond BROWSE_COUNT_CAP pages say "10,000+" (docs/performance.md, P3).
            limited = select(Listing.id).where(*conditions).limit(BROWSE_COUNT_CAP + 1).subquery()
            total = await self._count(select(func.count()).select_from(limited))
            capped = total > BROWSE_COUNT_CAP
            total = min(total, BROWSE_COUNT_CAP)
        elif query.facets:
            # The facet ignores the category filter (the other categories stay one click away); without a
            # filter its counts add up to the capped total, so the one grouped query is also the count.
            per_category = await self._facet_counts([c for c in conditions if c is not category_condition])
            if category_condition is None:
                total = sum(per_category.values())
            else:
                limited = select(Listing.id).where(*conditions).limit(SEARCH_COUNT_CAP + 1).subquery()
                total = await self._count(select(func.count()).select_from(limited))
            capped = total > SEARCH_COUNT_CAP
            total = min(total, SEARCH_COUNT_CAP)
            facets = self._facets(per_category, tree)
        else:
            # Counting every match of a common term means ILIKE over a large share of the table (bench/browse.py:
            # the exact count was most of a search's time). Counting stops at SEARCH_COUNT_CAP; the page then
            # says "1,000+" and `total_capped` tells API clients. Browsing by category counts exactly (an index).
            limited = select(Listing.id).where(*conditions).limit(SEARCH_COUNT_CAP + 1).subquery()
            total = await self._count(select(func.count()).select_from(limited))
            capped = total > SEARCH_COUNT_CAP
            total = min(total, SEARCH_COUNT_CAP)
        order = (Listing.featured.desc(), *ORDERINGS[sort]) if query.featured_first else ORDERINGS[sort]
        rows = await self.session.scalars(select(Listing).where(*conditions).order_by(*order)
                                          .offset(offset).limit(limit))
        return BrowseResult(items=list(rows), total=int(total or 0), page=query.page, per_page=query.per_page,
                            total_capped=capped, facets=facets)

    async def _facet_counts(self, conditions: list[ColumnElement[bool]]) -> dict[int, int]:
        """Matches per category among the first ``SEARCH_COUNT_CAP + 1`` (in table order: a sequential scan for a
        common word, a bitmap scan of ``ix_listings_search_words`` otherwise, stopped by ``LIMIT``; then a group-by
        of at most 1,001 rows); cached like a count when there are that many. One statement, the planner's own
        plan: the words are a stored array (migration 0217_p3), so its costs are right (docs/performance.md, P3)."""
        limited = select(Listing.category_id).where(*conditions).limit(SEARCH_COUNT_CAP + 1).subquery()
        stmt = select(limited.c.category_id, func.count()).group_by(limited.c.category_id)
        key = self._cache_key(stmt)
        now = time.monotonic()
        hit = _FACET_CACHE.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        counts = {int(cid): int(n) for cid, n in (await self.session.execute(stmt)).tuples()}
        if sum(counts.values()) >= COUNT_CACHE_MIN:
            if len(_FACET_CACHE) >= COUNT_CACHE_SIZE:
                _FACET_CACHE.clear()
            _FACET_CACHE[key] = (now + COUNT_TTL, counts)
        return counts

    def _facets(self, counts: dict[int, int], tree: TreeSnapshot) -> list[CategoryFacet]:
        if not counts:
            return []
        paths = category_paths((cid, pid, name) for cid, pid, name, _, _ in tree.rows)
        slugs = {cid: slug for cid, _, _, slug, _ in tree.rows}
        facets = [CategoryFacet(category_id=cid, name=paths[cid][-1], slug=slugs[cid], path=paths[cid], count=n)
                  for cid, n in counts.items() if cid in paths]
        return sorted(facets, key=lambda f: (-f.count, f.path))

    def _cache_key(self, stmt: Select[Any]) -> Hashable:
        """The statement's identity without compiling it: SQLAlchemy's own cache key (the structure, words spelled
        in the SQL included) plus its bound values, per database. Compiling the statement to a string for the key
        cost a tenth of a browse request's CPU (docs/performance.md, P3)."""
        key = stmt._generate_cache_key()  # what SQLAlchemy's compiled cache keys on; None: not cacheable
        if key is None:
            compiled = stmt.compile(self.session.bind)
            return (self.session.bind.sync_engine.url, str(compiled),
                    tuple(sorted((k, _hashable(v)) for k, v in compiled.params.items())))
        return (self.session.bind.sync_engine.url, key.key, tuple(_hashable(b.effective_value) for b in key.bindparams))

    async def _count(self, stmt: Select[tuple[int]]) -> int:
        """A browse count; one of :data:`COUNT_CACHE_MIN` or more is reused for :data:`COUNT_TTL` seconds.

        Counting a large category (an index-only scan over all its active listings) or a common search term was
        most of a page's time (docs/performance.md, P3), while the page itself stops after ``LIMIT``. A count that
        large is shown as "93,800" or "1,000+", where a few seconds' drift is invisible, so it is cached per
        process by the query's SQL and parameters; a smaller count is always exact and fresh."""
        key = self._cache_key(stmt)
        now = time.monotonic()
        hit = _COUNT_CACHE.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        total = int(await self.session.scalar(stmt) or 0)
        if total >= COUNT_CACHE_MIN:
            if len(_COUNT_CACHE) >= COUNT_CACHE_SIZE:
                _COUNT_CACHE.clear()
            _COUNT_CACHE[key] = (now + COUNT_TTL, total)
        return total

    # --- publishing ------------------------------------------------------------------------------------------

    async def create(self, seller_id: int, draft: dict[str, Any], now: datetime | None = None) -> Listing:
        """Publish a listing and charge its fees in the same transaction (docs/rules.md §5).

        Never leaves a listing without its fee: the fee is posted after the row is flushed and the caller's
        transaction rolls back on InsufficientCoins (402), taking the row with it.
        """
        now = now or utcnow()
        draft = dict(draft)
        condition = rules.check_condition(draft.pop("condition", None))
        location = rules.check_location(draft.pop("location", None))
        shipping_fee = _shipping_fee(draft.pop("shipping_fee", None), draft.get("mode"))
        member_day, plus_price = _member_prices(draft.pop("member_day", False), draft.pop("plus_price", None),
                                                draft.get("mode"), draft.get("price"))
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

        # lock=True: the shop row lock makes two simultaneous publishes count the free quota one after the other.
        terms = await ports.shops().listing_terms(self.session, seller_id, now, self.settings, lock=True)
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
            bid_count=0, version=0, shipping_fee=shipping_fee, member_day=member_day, plus_price=plus_price,
            condition=condition, location=location, edit_count=0,
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
        await events.emit(self.session, ListingPublished(listing.id, seller_id, listing.category_id, listing.mode))
        return listing

    # --- editing (docs/rules.md §19.7) -------------------------------------------------------------------------

    async def edit(self, listing_id: int, user_id: int, patch: dict[str, Any],
                   now: datetime | None = None) -> Listing:
        """The seller edits an active listing: the fields :func:`rules.plan_edit` allows, plus ``photo_order``
        (the ids of the photos to keep, cover first: reorder and remove in one go). Every effective edit is one
        :class:`ListingEdit` row (who, when, ``[{field, old, new}]``) and bumps ``edit_count``; an edit that
        changes nothing records nothing. All or nothing: a refusal changes nothing."""
        now = now or utcnow()
        listing = await self._lock(listing_id)
        if listing.seller_id != user_id:
            await ensure_visible(self.session, listing, user_id)  # 404 for what the caller may not even see
        patch = dict(patch)
        photo_order = patch.pop("photo_order", None)
        state = rules.EditState(
            seller_id=listing.seller_id, mode=listing.mode, status=listing.status, bid_count=listing.bid_count,
            sold_units=listing.quantity - listing.quantity_available, reserve_price=listing.reserve_price,
            values={f: getattr(listing, f) for f in rules.EDITABLE})
        planned = rules.plan_edit(state, user_id, patch)
        for c in planned:
            if c.field == "category_id" and isinstance(c.new, int):
                await self._check_category(c.new)
        changes: list[dict[str, object]] = [{"field": c.field, "old": c.old, "new": c.new} for c in planned]
        if photo_order is not None:
            photo_change = await self._reorder_photos(listing, photo_order)
            if photo_change is not None:
                changes.append(photo_change)
        if not changes:
            return listing
        for change in changes:
            field, new = change["field"], change["new"]
            if field == "photos":
                continue
            setattr(listing, str(field), new)
            if isinstance(new, int) and (field == "price" or (field == "start_price" and listing.bid_count == 0)):
                listing.current_price = new
        await self._record_edit(listing, user_id, changes, now)
        self._publish(listing.id, {"type": "edited", "fields": [c["field"] for c in changes]})
        return listing

    async def _check_category(self, category_id: int) -> None:
        if await self.session.get(Category, category_id) is None:
            raise InvalidInput("Unknown category.")
        if await self.categories.is_hidden(category_id):
            raise Conflict("That category is hidden; choose another one.")
        if not await self.categories.is_leaf(category_id):
            raise Conflict("Listings go only in the most specific category (a leaf): choose a sub-category.")

    async def _reorder_photos(self, listing: Listing, photo_order: object) -> dict[str, object] | None:
        """``photo_order``: the ids of the photos to keep, in their new order; the others are deleted (their
        files after the commit). Returns the history entry, or None when nothing changes."""
        if not isinstance(photo_order, list) or not all(
                isinstance(i, int) and not isinstance(i, bool) for i in photo_order):
            raise InvalidInput("photo_order must be a list of photo ids.")
        images = list(await self.session.scalars(
            select(ListingImage).where(ListingImage.listing_id == listing.id)
            .order_by(ListingImage.position, ListingImage.id)))
        by_id = {i.id: i for i in images}
        if len(set(photo_order)) != len(photo_order) or not set(photo_order) <= set(by_id):
            raise InvalidInput("photo_order must list photos of this listing, each once.")
        old = [i.id for i in images]
        if old == photo_order:
            return None
        for index, image_id in enumerate(photo_order):
            by_id[image_id].position = index
        gone = [i for i in images if i.id not in set(photo_order)]
        for image in gone:
            await self.session.delete(image)
        await self.session.flush()
        self._remove_files_after_commit([k for i in gone for k in (i.storage_key, i.thumb_key)])
        return {"field": "photos", "old": old, "new": list(photo_order)}

    async def _record_edit(self, listing: Listing, user_id: int, changes: list[dict[str, object]],
                           now: datetime) -> None:
        self.session.add(ListingEdit(listing_id=listing.id, editor_id=user_id, changes=changes, created_at=now))
        listing.edit_count = (listing.edit_count or 0) + 1
        listing.version += 1
        await self.session.flush()

    async def edits(self, listing_id: int) -> list[ListingEditOut]:
        """The listing's edit history, newest first (the caller has checked that the viewer may see it)."""
        rows = (await self.session.execute(
            select(ListingEdit, User.id, User.username).join(User, User.id == ListingEdit.editor_id)
            .where(ListingEdit.listing_id == listing_id).order_by(ListingEdit.id.desc()))).all()
        return [ListingEditOut(id=edit.id, editor=UserRef(id=uid, username=name), created_at=iso(edit.created_at) or "",
                               changes=[FieldChangeOut(field=str(c["field"]), old=c.get("old"), new=c.get("new"))
                                        for c in edit.changes])
                for edit, uid, name in rows]

    async def end_early(self, listing_id: int, user_id: int, now: datetime | None = None) -> Listing:
        """The seller ends an active listing with no bids and no sales; fees are kept (docs/rules.md §5)."""
        listing = await self._lock(listing_id)
        rules.check_end_early(status=listing.status, seller_id=listing.seller_id, user_id=user_id,
                              bid_count=listing.bid_count, sold_units=listing.quantity - listing.quantity_available)
        listing.status = rules.next_status(listing.status, "ended")
        listing.ended_at = now or utcnow()
        listing.version += 1
        await self.session.flush()
        self._publish(listing.id, {"type": "closed", "status": "ended", "final_price": None})
        return listing

    async def feature(self, listing_id: int, user_id: int) -> Listing:
        """The featured upgrade after publishing (docs/rules.md §5: "at publish or later"), charged like at publish."""
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

    # --- selling stock (the orders domain opens the order) ---------------------------------------------------

    async def sell_units(self, listing_id: int, buyer_id: int, quantity: object,
                         now: datetime | None = None) -> tuple[Listing, int]:
        """Take ``quantity`` units of a fixed-price listing for ``buyer_id`` (docs/rules.md §4): the listing row
        lock serialises buyers, so the stock checked is the stock decremented. Returns the listing and the units.

        The caller (``orders.services.buy_fixed``) opens the order in the same transaction; a refused payment
        rolls the decrement back with it.
        """
        now = now or utcnow()
        await ensure_tradable(self.session, listing_id)
        listing = await self._lock(listing_id)
        q = rules.check_purchase(mode=listing.mode, status=listing.status, seller_id=listing.seller_id,
                                 buyer_id=buyer_id, quantity=quantity, quantity_available=listing.quantity_available)
        listing.quantity_available -= q
        if listing.quantity_available == 0:
            listing.status = rules.next_status(listing.status, "sold")
            listing.ended_at = now
        listing.version += 1
        await self.session.flush()
        self._publish(listing.id, {"type": "stock", "quantity_available": listing.quantity_available})
        return listing, q

    async def restock(self, listing_id: int, units: int) -> None:
        """Put a cancelled fixed-price order's units back on sale (called by ``orders``).

        An auction's listing is left as it is: the auction has closed (sold) and re-opening it would need new
        bidding rules; the seller lists the item again (docs/decisions-orders.md). A fixed-price listing the seller
        ended or that was removed gets its units counted back but stays off sale.
        """
        listing = await self.session.scalar(
            select(Listing).where(Listing.id == listing_id).with_for_update()
            .execution_options(populate_existing=True)
        )
        if listing is None or listing.mode != "fixed":
            return
        listing.quantity_available = min(listing.quantity, listing.quantity_available + units)
        if listing.status == "sold" and listing.quantity_available > 0:
            listing.status = rules.next_status(listing.status, "active")
            listing.ended_at = None
        # Watchers of the listing page see the stock come back, once the refund is durable (docs/api.md "stock").
        self._publish(listing.id, {"type": "stock", "quantity_available": listing.quantity_available,
                                   "status": listing.status})

    async def end_for_ban(self, listing_id: int, now: datetime) -> Listing:
        """A banned seller's active fixed-price listing stops selling (docs/rules.md §19.8; auctions end through
        the auctions service, which releases the leader's hold)."""
        listing = await self._lock(listing_id)
        listing.status = rules.next_status(listing.status, "ended")
        listing.ended_at = now
        listing.version += 1
        await self.session.flush()
        self._publish(listing.id, {"type": "closed", "status": "ended", "final_price": None})
        return listing

    async def remove(self, listing_id: int, now: datetime) -> Listing:
        """Moderation: take an active fixed-price listing off the market (auctions end through the auctions
        service, which releases the leader's hold)."""
        listing = await self._lock(listing_id)
        listing.status = rules.next_status(listing.status, "removed")
        listing.ended_at = now
        listing.version += 1
        await self.session.flush()
        self._publish(listing.id, {"type": "closed", "status": "removed", "final_price": None})
        return listing

    # --- images ----------------------------------------------------------------------------------------------

    async def add_image(self, listing_id: int, user_id: int, data: bytes, now: datetime | None = None) -> ListingImage:
        """Check, normalise and store one photo. Limit: listing_terms(...).max_images (6 without a shop)."""
        listing = await self._lock(listing_id)  # serialises concurrent uploads so the count limit holds
        if listing.seller_id != user_id:
            raise PermissionDenied("Only the seller may add photos.")
        terms = await ports.shops().listing_terms(self.session, listing.seller_id, now or utcnow(), self.settings)
        count = int(await self.session.scalar(
            select(func.count()).select_from(ListingImage).where(ListingImage.listing_id == listing.id)) or 0)
        if count >= terms.max_images:
            raise Conflict("A listing may have at most %(max_images)s photos.", max_images=terms.max_images)
        processed = await in_decoder(process_image, data, max_bytes=self.settings.max_image_bytes,
                                            max_pixels=self.settings.max_image_pixels)
        full_key, thumb_key = new_keys(listing.id, processed.extension)
        await asyncio.to_thread(self.storage.save, full_key, processed.full, processed.content_type)
        await asyncio.to_thread(self.storage.save, thumb_key, processed.thumb, processed.content_type)
        image = ListingImage(listing_id=listing.id, position=count, storage_key=full_key, thumb_key=thumb_key,
                             width=processed.width, height=processed.height, content_type=processed.content_type)
        self.session.add(image)
        await self.session.flush()
        now = now or utcnow()
        if listing.created_at is not None and now - listing.created_at > PUBLISH_WINDOW:
            old = list(await self.session.scalars(
                select(ListingImage.id).where(ListingImage.listing_id == listing.id, ListingImage.id != image.id)
                .order_by(ListingImage.position, ListingImage.id)))
            await self._record_edit(listing, user_id, [{"field": "photos", "old": old, "new": [*old, image.id]}],
                                    now)
        return image

    async def _owned_images(self, listing_id: int, user_id: int) -> tuple[Listing, list[ListingImage]]:
        listing = await self._lock(listing_id)
        if listing.seller_id != user_id:
            raise PermissionDenied("Only the seller may change the photos.")
        return listing, list(await self.session.scalars(
            select(ListingImage).where(ListingImage.listing_id == listing_id)
            .order_by(ListingImage.position, ListingImage.id)))

    async def move_image(self, listing_id: int, image_id: int, user_id: int, position: object) -> list[ListingImage]:
        """Move one photo to ``position`` (0 = the cover photo); positions stay 0..n-1."""
        listing, images = await self._owned_images(listing_id, user_id)
        image = next((i for i in images if i.id == image_id), None)
        if image is None:
            raise NotFound("Image not found.")
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < len(images):
            raise InvalidInput("position must be between 0 and %(last)s.", last=len(images) - 1)
        old = [i.id for i in images]
        images.remove(image)
        images.insert(position, image)
        for index, img in enumerate(images):
            img.position = index
        await self.session.flush()
        if old != [i.id for i in images]:
            await self._record_edit(listing, user_id,
                                    [{"field": "photos", "old": old, "new": [i.id for i in images]}], utcnow())
        return images

    async def delete_image(self, listing_id: int, image_id: int, user_id: int) -> None:
        listing, images = await self._owned_images(listing_id, user_id)
        image = next((i for i in images if i.id == image_id), None)
        if image is None:
            raise NotFound("Image not found.")
        old = [i.id for i in images]
        images.remove(image)
        await self.session.delete(image)
        for index, img in enumerate(images):
            img.position = index
        await self.session.flush()
        await self._record_edit(listing, user_id,
                                [{"field": "photos", "old": old, "new": [i.id for i in images]}], utcnow())
        self._remove_files_after_commit([image.storage_key, image.thumb_key])

    def _remove_files_after_commit(self, keys: list[str]) -> None:
        storage = self.storage

        async def remove_files() -> None:  # only once the rows are surely gone
            for key in keys:
                await asyncio.to_thread(storage.delete, key)

        if keys:
            after_commit(self.session, remove_files)

    # --- pages -----------------------------------------------------------------------------------------------

    async def member_day_zone(self, viewer_id: int | None, limit: int = 60) -> dict[str, Any]:
        """The member-day zone (docs/rules.md §15): active fixed-price listings opted in, whether today is the
        member day (platform time zone) and the caller's discount percent (0 below J2 or anonymous)."""
        now = utcnow()
        terms = await self._terms(viewer_id)
        rows = list(await self.session.scalars(
            select(Listing).where(Listing.member_day.is_(True), Listing.mode == "fixed", Listing.status == "active")
            .order_by(Listing.created_at.desc(), Listing.id.desc()).limit(limit)))
        visible = [lst for lst in rows if not await self.categories.is_hidden(lst.category_id)]
        items = await serialize_listings(self.session, visible, viewer_id, self.storage, terms)
        percent = 0
        if terms is not None:
            percent = member_rules.level_by_code(terms.level).member_day_percent
        return {"active_today": member_rules.is_member_day(now, self.settings.timezone,
                                                               self.settings.member_day),
                "discount_for_you": percent, "items": items}

    async def breadcrumbs(self, category_id: int) -> list[dict[str, str]]:
        return [{"name": c.name, "url": f"/c/{c.slug}"} for c in await self.categories.ancestors(category_id)]

    async def seller_listings(self, seller_id: int, page: int = 1, per_page: int = 50) -> BrowseResult:
        return await self.browse(BrowseQuery(seller_id=seller_id, status="all", page=page, per_page=per_page,
                                             include_hidden=True))


class ListingsByCategory:
    """The listings side of category administration (the :class:`categories.ports.CategoryListings` port)."""

    async def counts(self, session: AsyncSession) -> dict[int, int]:
        rows = await session.execute(select(Listing.category_id, func.count()).group_by(Listing.category_id))
        return dict(rows.tuples().all())

    async def count(self, session: AsyncSession, category_id: int, *, active_only: bool = False) -> int:
        conditions = [Listing.category_id == category_id]
        if active_only:
            conditions.append(Listing.status == "active")
        return int(await session.scalar(select(func.count()).select_from(Listing).where(*conditions)) or 0)

    async def move(self, session: AsyncSession, source_id: int, target_id: int) -> None:
        await session.execute(
            update(Listing).where(Listing.category_id == source_id).values(category_id=target_id)
            .execution_options(synchronize_session=False))

    async def reindex(self, session: AsyncSession, category_id: int) -> int:
        """A category's path changed (renamed, moved, merged): re-tokenise every listing filed under it, so its
        new name is searchable and the old one no longer matches (marketplace/listings/search.py)."""
        ids = await CategoryService(session).descendant_ids(category_id)
        connection = await session.connection()
        return await connection.run_sync(lambda sync: reindex_categories(sync, ids))
