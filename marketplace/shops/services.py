"""Shop use cases (docs/rules.md §6): open, update, change plan, renew, the renewal job's step, shop pages.

Every decision that moves coins is taken with the shop row locked (``SELECT … FOR UPDATE``) and the state
re-read under that lock, so two requests or two job runs at once cannot both charge for the same period. Lock
order is always shop row first, then the wallet rows (which :func:`ledger.post` locks) — the same order the sell
flow uses through :func:`listing_terms` with ``lock=True`` — so these paths never deadlock each other.
Services flush but never commit; each public method is atomic on its own (a savepoint), so a caller that catches
the error and carries on (an HTML form answering 303) never commits half of it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import events
from marketplace.accounts.models import User
from marketplace.accounts.services import CurrentUser
from marketplace.cache import Cache
from marketplace.db import after_commit
from marketplace.listings import rules as listing_rules
from marketplace.listings.models import Listing
from marketplace.listings.ports import ListingTerms, ShopRef
from marketplace.listings.services import BrowseQuery, ListingService

# Imported at module level also because the ledger's accounts reference orders: the mapper needs that table known
# before the first ledger write, even in a build whose orders domain registers no routes yet.
from marketplace.orders.services import FeedbackService
from marketplace.settings import Settings, ShopPlan
from marketplace.shops import events as shop_events
from marketplace.shops import rules
from marketplace.shops.exceptions import (
    AlreadyHasShop,
    InvalidShop,
    InvalidSlug,
    NotShopOwner,
    ShopNotFound,
    SlugTaken,
    UnknownPlan,
)
from marketplace.shops.models import Shop
from marketplace.wallet import ledger
from marketplace.wallet.exceptions import InsufficientCoins

LEDGER_KIND = "shop_plan"
SORTS = listing_rules.SORTS
MODES = listing_rules.MODES


# --- the sell flow's view of a shop (used by the listings domain) -----------------------------------------------


async def _free_used(session: AsyncSession, shop: Shop, plan: ShopPlan, now: datetime) -> int:
    since = rules.quota_period_start(shop.period_started_at, plan.period_days, now)
    used = await session.scalar(
        select(func.count()).select_from(Listing).where(
            Listing.shop_id == shop.id, Listing.free_listing.is_(True), Listing.created_at >= since
        )
    )
    return int(used or 0)


async def listing_terms(session: AsyncSession, seller_id: int, now: datetime, settings: Settings,
                        *, lock: bool = False) -> ListingTerms:
    """Terms for the seller's next listing. With ``lock=True`` the shop row is locked so that two listings
    published at once cannot both take the last free slot.

    The free quota counts the shop's ``free_listing`` listings created since the start of the current 30-day
    quota period (:func:`rules.quota_period_start`); ending a listing early does not give its slot back.
    """
    stmt = select(Shop).where(Shop.owner_id == seller_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    shop = await session.scalar(stmt)
    if shop is None:
        return ListingTerms(shop_id=None, free=False, free_remaining=0, max_images=settings.max_images_no_shop,
                            can_list=True)
    plan = settings.plan(shop.plan)
    if plan is None or shop.status != "active":
        return ListingTerms(shop_id=shop.id, free=False, free_remaining=0,
                            max_images=plan.max_images if plan else settings.max_images_no_shop, can_list=False,
                            reason="Your shop is not active: renew it to publish new listings.")
    remaining = rules.free_remaining(plan.free_listings, await _free_used(session, shop, plan, now))
    return ListingTerms(shop_id=shop.id, free=remaining > 0, free_remaining=remaining, max_images=plan.max_images,
                        can_list=True)


def suspended_shop_ids() -> Select[tuple[int]]:
    """Ids of suspended shops, for browse queries: ``Listing.shop_id.not_in(suspended_shop_ids())`` hides
    their listings (docs/rules.md §6). Listings outside any shop have ``shop_id`` NULL: combine with ``is_(None)``."""
    return select(Shop.id).where(Shop.status == "suspended")


def listing_visible_clause() -> ColumnElement[bool]:
    """True for listings outside suspended shops (the same filter GET /listings applies)."""
    return Listing.shop_id.is_(None) | Listing.shop_id.not_in(suspended_shop_ids())


class ShopDirectory:
    """The shops side of the listings domain (the :class:`listings.ports.ShopDirectory` port)."""

    async def listing_terms(self, session: AsyncSession, seller_id: int, now: datetime, settings: Settings,
                            *, lock: bool = False) -> ListingTerms:
        return await listing_terms(session, seller_id, now, settings, lock=lock)

    async def refs(self, session: AsyncSession, shop_ids: Iterable[int]) -> dict[int, ShopRef]:
        rows = await session.execute(select(Shop.id, Shop.slug, Shop.name).where(Shop.id.in_(list(shop_ids))))
        return {row.id: ShopRef(id=row.id, slug=row.slug, name=row.name) for row in rows}

    async def is_suspended(self, session: AsyncSession, shop_id: int) -> bool:
        return await session.scalar(select(Shop.status).where(Shop.id == shop_id)) == "suspended"

    def suspended_ids(self) -> Select[tuple[int]]:
        return suspended_shop_ids()

    def ids_with_slug(self, slug: str) -> Select[tuple[int]]:
        return select(Shop.id).where(Shop.slug == slug)


# --- helpers ----------------------------------------------------------------------------------------------------


def subscription(shop: Shop) -> rules.Subscription:
    return rules.Subscription(plan=shop.plan, status=shop.status, auto_renew=shop.auto_renew,
                              paid_until=shop.paid_until, period_started_at=shop.period_started_at,
                              next_plan=shop.next_plan)


def _apply(shop: Shop, sub: rules.Subscription) -> None:
    shop.plan, shop.next_plan, shop.status = sub.plan, sub.next_plan, sub.status
    shop.auto_renew, shop.paid_until, shop.period_started_at = sub.auto_renew, sub.paid_until, sub.period_started_at


@dataclass(frozen=True, slots=True)
class Rating:
    """Feedback buyers left for the shop's owner: ``score`` = positives − negatives (eBay's feedback score),
    ``positive_percent`` = positives / (positives + negatives), null while there is none."""

    score: int
    positive: int
    neutral: int
    negative: int
    positive_percent: float | None

    @property
    def count(self) -> int:
        return self.positive + self.neutral + self.negative


@dataclass(frozen=True, slots=True)
class RenewalOutcome:
    shop_id: int
    step: str | None  # "renewed", "grace", "suspended" or None when nothing was due
    charged: int = 0


class ShopService:
    def __init__(self, session: AsyncSession, settings: Settings, cache: Cache | None = None) -> None:
        self.session = session
        self.settings = settings
        self.cache = cache

    def _changed(self, shop: Shop) -> None:
        """Bump the cache versions of what shows shops (docs/architecture.md) once the change is committed: ``shops``
        (any shop's name, slug or status — listing cards and blocks show them, browse hides suspended shops)
        and ``shop:<id>``."""
        cache, names = self.cache, ("shops", f"shop:{shop.id}")
        if cache is not None:
            after_commit(self.session, lambda: cache.bump(*names))

    # --- reading ------------------------------------------------------------------------------------------------

    def plans(self) -> tuple[ShopPlan, ...]:
        return self.settings.plans

    def plan(self, code: str) -> ShopPlan:
        plan = self.settings.plan(code)
        if plan is None:
            raise UnknownPlan("Unknown plan %(code)s: choose one of %(choices)s.", code=repr(code),
                              choices=", ".join(p.code for p in self.settings.plans))
        return plan

    async def by_slug(self, slug: str, *, lock: bool = False) -> Shop:
        stmt = select(Shop).where(Shop.slug == slug)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        shop = await self.session.scalar(stmt)
        if shop is None:
            raise ShopNotFound()
        return shop

    async def for_owner(self, owner_id: int) -> Shop | None:
        shop: Shop | None = await self.session.scalar(select(Shop).where(Shop.owner_id == owner_id))
        return shop

    async def visible(self, slug: str, viewer: CurrentUser | None) -> Shop:
        """The shop as ``viewer`` may see it: a suspended shop exists only for its owner and admins."""
        shop = await self.by_slug(slug)
        if shop.status == "suspended" and not self.may_see_suspended(shop, viewer):
            raise ShopNotFound()
        return shop

    @staticmethod
    def may_see_suspended(shop: Shop, viewer: CurrentUser | None) -> bool:
        return viewer is not None and (viewer.id == shop.owner_id or viewer.is_admin)

    async def owned(self, slug: str, actor: CurrentUser, *, lock: bool = False) -> Shop:
        """The shop, if ``actor`` owns it: 403 for others (404 when they could not even see it)."""
        shop = await self.by_slug(slug, lock=lock)
        if shop.owner_id != actor.id:
            if shop.status == "suspended" and not actor.is_admin:
                raise ShopNotFound()
            raise NotShopOwner()
        return shop

    async def owner(self, shop: Shop) -> User:
        user = await self.session.get(User, shop.owner_id)
        assert user is not None  # owner_id is a foreign key
        return user

    async def listing_count(self, shop_id: int) -> int:
        return int(await self.session.scalar(
            select(func.count()).select_from(Listing).where(Listing.shop_id == shop_id, Listing.status == "active")
        ) or 0)

    async def rating(self, owner_id: int) -> Rating:
        # The same summary (and the same half-up rounding) as the profile page, from buyers' feedback only.
        summary = await FeedbackService(self.session).summary(owner_id, role="buyer")
        return Rating(score=summary.score, positive=summary.positive, neutral=summary.neutral,
                      negative=summary.negative, positive_percent=summary.positive_percent)

    async def free_remaining(self, shop: Shop, now: datetime) -> int:
        plan = self.settings.plan(shop.plan)
        if plan is None or shop.status != "active":
            return 0
        return rules.free_remaining(plan.free_listings, await _free_used(self.session, shop, plan, now))

    async def shop_listings(self, shop: Shop, *, mode: str | None = None, sort: str = "newest", page: int = 1,
                            per_page: int = 24) -> tuple[list[Any], int]:
        """The shop's active listings for its page: ``(cards, total)``, from the one browse query (hidden
        categories left out, the same sorts and tie-breakers as search)."""
        if sort not in SORTS:
            raise InvalidShop("Unknown sort %(sort)s.", sort=f"{sort!r}")
        if mode is not None and mode not in MODES:
            raise InvalidShop("Unknown mode %(mode)s.", mode=f"{mode!r}")
        listings = ListingService(self.session, self.settings)
        result = await listings.browse(BrowseQuery(shop_id=shop.id, mode=mode, sort=sort, page=max(1, page),
                                                   per_page=max(1, min(per_page, 100))))
        return await listings.out_many(result.items, None), result.total

    # --- opening ------------------------------------------------------------------------------------------------

    async def open_shop(self, owner_id: int, *, name: str, plan: str, now: datetime, slug: str | None = None,
                        auto_renew: bool = True, description: str = "") -> Shop:
        """Open the owner's one shop and pay its first period (owner available → platform revenue).

        402 (nothing written) when the owner cannot pay; 409 when they already have a shop or the slug is taken
        (also when a concurrent request wins the race: the unique constraints decide).
        """
        chosen = self.plan(plan)
        clean = rules.clean_name(name)
        if clean is None:
            raise InvalidShop("A shop name is 1–%(name_max)s characters.", name_max=rules.NAME_MAX)
        description = self._clean_description(description)
        wanted_slug = (slug or "").strip()
        if wanted_slug and not rules.is_valid_slug(wanted_slug):
            raise InvalidSlug()
        if await self.for_owner(owner_id) is not None:
            raise AlreadyHasShop()
        if wanted_slug and await self._slug_taken(wanted_slug):
            raise SlugTaken()
        final_slug = wanted_slug or await self._free_slug(clean)

        async with self.session.begin_nested():
            shop = Shop(owner_id=owner_id, name=clean, slug=final_slug or f"tmp-{secrets.token_hex(8)}",
                        description=description, plan=chosen.code, status="active", auto_renew=auto_renew,
                        paid_until=now, period_started_at=now, created_at=now)
            try:
                async with self.session.begin_nested():
                    self.session.add(shop)
                    await self.session.flush()
            except IntegrityError:
                # Lost a race with a concurrent open: the unique constraints on owner_id and slug decided.
                if await self.for_owner(owner_id) is not None:
                    raise AlreadyHasShop() from None
                raise SlugTaken() from None
            if final_slug is None:
                shop.slug = await self._id_slug(shop.id)
            _apply(shop, rules.reactivated(subscription(shop), chosen, now))
            await self._charge(shop, owner_id, chosen.price, memo=f"open shop, plan {chosen.code}")
            await self.session.flush()
        self._changed(shop)
        return shop

    async def _slug_taken(self, slug: str) -> bool:
        return await self.session.scalar(select(Shop.id).where(Shop.slug == slug)) is not None

    async def _free_slug(self, name: str) -> str | None:
        """A readable free slug from the name, or None when only an id-based one will do."""
        base = rules.slug_from_name(name)
        if base is None:
            return None
        for n in range(1, 10):
            candidate = base if n == 1 else rules.with_suffix(base, n)
            if not await self._slug_taken(candidate):
                return candidate
        return None

    async def _id_slug(self, shop_id: int) -> str:
        slug = rules.id_slug(shop_id)
        if await self._slug_taken(slug):  # someone chose "shop-<n>" by hand
            slug = rules.with_suffix(slug, secrets.randbelow(10**6))
        return slug

    @staticmethod
    def _clean_description(description: str) -> str:
        description = (description or "").strip()
        if len(description) > rules.DESCRIPTION_MAX:
            raise InvalidShop("The description is at most %(description_max)s characters.",
                              description_max=rules.DESCRIPTION_MAX)
        return description

    async def _charge(self, shop: Shop, owner_id: int, amount: int, *, memo: str,
                      idempotency_key: str | None = None) -> None:
        if amount <= 0:
            return
        await ledger.post(
            self.session, kind=LEDGER_KIND,
            legs=[ledger.Leg(ledger.available(owner_id), -amount), ledger.Leg(ledger.platform("revenue"), amount)],
            ref_type="shop", ref_id=shop.id, idempotency_key=idempotency_key, memo=memo,
        )

    # --- owner changes ------------------------------------------------------------------------------------------

    async def update(self, slug: str, actor: CurrentUser, *, now: datetime, name: str | None = None,
                     description: str | None = None, auto_renew: bool | None = None,
                     plan: str | None = None) -> Shop:
        """Change the shop's profile, auto-renew or plan. An upgrade is charged at once (prorated, 402 when the
        owner cannot pay, nothing changed); a downgrade waits for the next renewal."""
        async with self.session.begin_nested():
            shop = await self.owned(slug, actor, lock=True)
            if name is not None:
                clean = rules.clean_name(name)
                if clean is None:
                    raise InvalidShop("A shop name is 1–%(name_max)s characters.", name_max=rules.NAME_MAX)
                shop.name = clean
            if description is not None:
                shop.description = self._clean_description(description)
            if auto_renew is not None:
                shop.auto_renew = auto_renew
            if plan is not None:
                wanted = self.plan(plan)
                current = self.settings.plan(shop.plan) or wanted
                change = rules.change_plan(subscription(shop), current, wanted, now)
                await self._charge(shop, shop.owner_id, change.charge,
                                   memo=f"upgrade {current.code}→{wanted.code}, prorated")
                _apply(shop, change.subscription)
            await self.session.flush()
        self._changed(shop)
        return shop

    async def set_image(self, shop: Shop, kind: str, key: str) -> None:
        if kind == "logo":
            shop.logo_key = key
        else:
            shop.banner_key = key
        await self.session.flush()
        self._changed(shop)

    async def renew(self, slug: str, actor: CurrentUser, *, now: datetime) -> Shop:
        """Pay one period of the renewal plan by hand; reactivates a shop in grace or suspended (402 when the
        owner cannot pay, nothing changed)."""
        async with self.session.begin_nested():
            shop = await self.owned(slug, actor, lock=True)
            sub = subscription(shop)
            plan = self.plan(rules.manual_renewal_plan(sub, now))
            await self._charge(shop, shop.owner_id, plan.price, memo=f"renew plan {plan.code}")
            _apply(shop, rules.manually_renewed(sub, plan, now))
            await self.session.flush()
        self._changed(shop)
        return shop

    # --- the renewal job ----------------------------------------------------------------------------------------

    async def due_shop_ids(self, now: datetime) -> list[int]:
        """Shops the job may have to move: active past paid_until, or in grace past its end. A candidate list
        only — :meth:`advance` re-checks each one under its lock."""
        grace = rules.DAY * self.settings.shop_grace_days
        rows = await self.session.scalars(
            select(Shop.id).where(
                ((Shop.status == "active") & (Shop.paid_until <= now))
                | ((Shop.status == "grace") & (Shop.paid_until <= now - grace))
            ).order_by(Shop.id)
        )
        return list(rows)

    async def advance(self, shop_id: int, now: datetime) -> RenewalOutcome:
        """Move one shop along (renew / grace / suspend) if it is due, with its row locked.

        Run it in its own transaction. Two runs at once queue on the row lock; the second re-reads the state
        the first wrote and finds nothing due, so a period is charged once. The ledger idempotency key
        (shop id + the paid_until being renewed) is a second guard should the lock ever be bypassed.
        """
        shop = await self.session.scalar(
            select(Shop).where(Shop.id == shop_id).with_for_update().execution_options(populate_existing=True)
        )
        if shop is None:
            return RenewalOutcome(shop_id, None)
        sub = subscription(shop)
        step = rules.due_step(sub, now, self.settings.shop_grace_days)
        outcome = RenewalOutcome(shop_id, None)
        if step == "renew":
            plan = self.settings.plan(rules.renewal_plan(sub))
            try:
                if plan is None:
                    raise UnknownPlan()
                async with self.session.begin_nested():
                    await self._charge(shop, shop.owner_id, plan.price, memo=f"auto-renew plan {plan.code}",
                                       idempotency_key=f"shop:{shop.id}:renew:{sub.paid_until.isoformat()}")
                _apply(shop, rules.renewed(sub, plan, now))
                outcome = RenewalOutcome(shop_id, "renewed", plan.price)
            except (InsufficientCoins, UnknownPlan):
                _apply(shop, rules.to_grace(sub))
                outcome = RenewalOutcome(shop_id, "grace")
        elif step == "grace":
            _apply(shop, rules.to_grace(sub))
            outcome = RenewalOutcome(shop_id, "grace")
        if step is not None and rules.due_step(subscription(shop), now, self.settings.shop_grace_days) == "suspend":
            # The job ran so late that the grace period is over as well.
            _apply(shop, rules.to_suspended(subscription(shop)))
            outcome = RenewalOutcome(shop_id, "suspended", outcome.charged)
        elif step == "suspend":
            _apply(shop, rules.to_suspended(sub))
            outcome = RenewalOutcome(shop_id, "suspended")
        await self.session.flush()
        if outcome.step is not None:
            self._changed(shop)
            await self._emit_outcome(shop, outcome)
        return outcome

    async def _emit_outcome(self, shop: Shop, outcome: RenewalOutcome) -> None:
        if outcome.step == "renewed":
            await events.emit(self.session, shop_events.ShopRenewed(shop.id, shop.owner_id, shop.slug,
                                                                    shop.plan, outcome.charged))
        elif outcome.step == "grace":
            await events.emit(self.session, shop_events.ShopRenewalFailed(shop.id, shop.owner_id, shop.slug))
        elif outcome.step == "suspended":
            await events.emit(self.session, shop_events.ShopSuspended(shop.id, shop.owner_id, shop.slug))


def media_url(key: str | None) -> str | None:
    """URL of a stored media file; ``/media/<key>`` is served by the catalog's image storage."""
    return f"/media/{key}" if key else None
