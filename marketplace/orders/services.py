"""Order use cases. :func:`open_order` is how fixed-price purchases and auction wins create an order;
:class:`OrderService` takes it from there (ship, confirm, cancel, dispute, resolve, auto-confirm) and
:class:`FeedbackService` handles the ratings afterwards."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Select, String, cast, func, literal, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from marketplace import events
from marketplace.accounts.models import User
from marketplace.categories.models import Category
from marketplace.db import insert_into, utcnow
from marketplace.jobs import Publisher
from marketplace.listings.models import Listing
from marketplace.listings.ports import SellerRating
from marketplace.listings.services import ListingService
from marketplace.membership import rules as membership_rules
from marketplace.membership import services as membership
from marketplace.membership.ports import GrowthInputs
from marketplace.orders import events as order_events
from marketplace.orders import rules
from marketplace.orders.exceptions import (
    FeedbackNotAllowed,
    InvalidOrderInput,
    InvalidTransition,
    NotYourOrder,
    OrderNotFound,
    WrongParty,
)
from marketplace.orders.models import Feedback, Order, OrderEvent, Strike
from marketplace.settings import Settings
from marketplace.wallet import ledger
from marketplace.wallet.models import LedgerAccount

log = logging.getLogger(__name__)


async def open_order(
    session: AsyncSession,
    *,
    listing: Listing,
    buyer_id: int,
    quantity: int,
    unit_price: int,
    pay_from: Literal["available", "held"] = "available",
    held_amount: int | None = None,
    points: object = None,
    source: str = "purchase",
    shipping_address: dict[str, str] | None = None,
    settings: Settings | None = None,
    coupon_id: object = None,
) -> Order:
    """Create a ``paid`` order and move its coins into its escrow.

    The membership pricing (docs/rules.md §14, §15) decides the total: items + the listing's shipping fee −
    platform-funded discounts (``points`` redeemed, free shipping by level). The buyer pays ``total``; the
    platform's ``marketing`` account pays ``platform_paid``; escrow holds items + shipping, what the seller is
    paid on. Points are spent and earned in the same transaction.

    ``pay_from="available"``: a fixed-price purchase or Buy Now (raises InsufficientCoins → 402, nothing kept
    because the caller's transaction rolls back). ``pay_from="held"``: an auction win (no points, no shipping);
    ``held_amount`` is the winner's whole hold (their maximum) and ``held_amount - total`` goes back to available
    in the same transaction. The caller holds the listing row lock and has already decided the sale is valid.
    """
    items_total = quantity * unit_price
    if pay_from == "held":
        if points:
            raise InvalidOrderInput("Points are not redeemed on bids.")
        points = 0
    fixed = pay_from == "available" and listing.mode == "fixed"  # member day / PLUS price: fixed price only
    pricing = await membership.price_purchase(
        session, buyer_id, items_total=items_total,
        shipping_fee=listing.shipping_fee or 0 if pay_from == "available" else 0, points=points,
        settings=settings, quantity=quantity, list_price=unit_price if fixed else None,
        member_day=bool(listing.member_day) and fixed, plus_price=listing.plus_price if fixed else None,
        coupon_id=coupon_id)
    total = pricing.total
    items_total = pricing.items_total
    order = Order(
        listing_id=listing.id, buyer_id=buyer_id, seller_id=listing.seller_id, quantity=quantity,
        unit_price=pricing.unit_price if fixed else unit_price, total=total, fee=0, status="paid",
        items_total=items_total,
        shipping_fee=pricing.shipping_fee, points_used=pricing.points_used, platform_paid=pricing.platform_paid,
        discounts=list(pricing.discounts), source=source, shipping_address=shipping_address,
    )
    session.add(order)
    await session.flush()
    session.add(OrderEvent(order_id=order.id, actor_id=buyer_id, from_status=None, to_status="paid",
                           note="paid into escrow"))
    payment = _payment(pricing, buyer_id, order.id, pay_from, held_amount)
    if payment is not None:
        await ledger.post(session, kind=payment.kind, legs=payment.legs, ref_type="order", ref_id=order.id)
    await membership.after_payment(session, order, coupon_id=pricing.coupon_id)
    if pay_from == "available":  # the buyer acted today (an auction win is settled by the worker: the bid counted)
        await membership.record_activity(session, buyer_id, utcnow())
    return order


def _payment(pricing: membership_rules.Pricing, buyer_id: int, order_id: int, pay_from: Literal["available", "held"],
             held_amount: int | None) -> ledger.Posting | None:
    """The posting that pays an order into its escrow: from the buyer's available coins (a purchase), or from
    their hold (an auction win: the whole hold ``held_amount`` leaves ``held``, what exceeds the total goes back to
    available); the platform's ``marketing`` account pays the platform-funded part. None when the seller gets
    nothing (a fully discounted order moves no coins)."""
    gross, total = pricing.seller_gross, pricing.total
    if pay_from == "available":
        legs = [ledger.Leg(ledger.available(buyer_id), -total), ledger.Leg(ledger.escrow(order_id), gross)]
        kind = "purchase"
    else:
        hold = total if held_amount is None else held_amount
        legs = [ledger.Leg(ledger.held(buyer_id), -hold), ledger.Leg(ledger.escrow(order_id), gross)]
        if hold > total:
            legs.append(ledger.Leg(ledger.available(buyer_id), hold - total))
        kind = "auction_settlement"
    if pricing.platform_paid:
        legs.append(ledger.Leg(ledger.platform("marketing"), -pricing.platform_paid))
    if gross <= 0:
        return None
    return ledger.Posting(kind=kind, legs=[leg for leg in legs if leg.amount], ref_type="order", ref_id=order_id)


@dataclass(frozen=True, slots=True)
class AuctionWin:
    """One auction won at close, for :func:`open_auction_orders`: ``held_amount`` is the winner's whole hold
    (their maximum), ``price`` what they pay."""

    listing: Listing
    buyer_id: int
    price: int
    held_amount: int


async def open_auction_orders(session: AsyncSession, wins: Sequence[AuctionWin],
                              locked: Mapping[ledger.AccountKey, LedgerAccount]) -> list[Order]:
    """``open_order(pay_from="held", source="auction")`` for several auction wins of one transaction (the
    sweeper's batch, docs/performance.md P4), in order, with a constant number of statements: the same orders,
    order events, ``auction_settlement`` postings, points lots and ``points_earn`` postings.

    An auction win redeems no points, pays no shipping and takes no coupon, so of the buyer's terms only PLUS
    matters (points ×10, docs/rules.md §14): one query for all the buyers (``membership.plus_many``); the level
    only decides free shipping, which a win without a shipping fee never gets, so it is not read.
    ``locked``: the ``available``/``held`` coin accounts the settlements move, locked by the caller (with the
    other coin accounts of its transaction, in one statement: ``ledger.lock_accounts``); the new orders' escrow
    accounts are created and locked here (nobody else can see them yet)."""
    if not wins:
        return []
    now = utcnow()  # as open_order: the pricing and the points use the wall clock of the payment
    plus = await membership.plus_many(session, [w.buyer_id for w in wins], now)
    pricings = [membership_rules.price_order(items_total=w.price, shipping_fee=0,
                                             level=membership_rules.LEVELS[0].code, points=0, plus=plus[w.buyer_id])
                for w in wins]
    orders = [Order(listing_id=w.listing.id, buyer_id=w.buyer_id, seller_id=w.listing.seller_id, quantity=1,
                    unit_price=w.price, total=p.total, fee=0, status="paid", items_total=p.items_total,
                    shipping_fee=p.shipping_fee, points_used=p.points_used, platform_paid=p.platform_paid,
                    discounts=list(p.discounts), source="auction", shipping_address=None)
              for w, p in zip(wins, pricings, strict=True)]
    session.add_all(orders)
    await session.flush()  # one multi-row INSERT … RETURNING id
    await session.execute(insert_into(session, OrderEvent), [
        {"order_id": o.id, "actor_id": o.buyer_id, "from_status": None, "to_status": "paid", "note": "paid into escrow"}
        for o in orders])
    postings = [payment for w, p, order in zip(wins, pricings, orders, strict=True)
                if (payment := _payment(p, w.buyer_id, order.id, "held", w.held_amount)) is not None]
    escrows = await ledger.lock_accounts(session, [ledger.escrow(o.id) for o in orders])
    platform_keys = sorted({leg.account for posting in postings for leg in posting.legs
                            if not leg.account.has_running_balance}, key=lambda k: k.key)
    platform_ids = await ledger.ensure_accounts(session, platform_keys) if platform_keys else {}
    await ledger.post_locked(session, postings, {**locked, **escrows}, platform_ids)
    await membership.earn_on_orders(session, orders, now, plus)
    await session.flush()
    return orders


# --- after the sale ----------------------------------------------------------------------------------------------
#
# Lock order, everywhere: the order row first, then (cancel only) its listing row, then the ledger accounts
# (ledger.post locks those itself, in ascending id order). A purchase locks the listing and then the accounts and
# only creates orders nobody else can see yet, so no two paths ever wait on each other in opposite orders.


async def buy_fixed(session: AsyncSession, settings: Settings, listing_id: int, buyer_id: int, quantity: object,
                    now: datetime | None = None, *, publisher: Publisher | None = None,
                    points: object = None, shipping_address: dict[str, str] | None = None,
                    coupon_id: object = None) -> Order:
    """Buy ``quantity`` units at the fixed price (docs/rules.md §4): the listings service takes the units under
    the listing row lock, the coins move into the order's escrow in the same transaction (InsufficientCoins, 402,
    rolls the decrement back with everything else)."""
    listing, units = await ListingService(session, settings, publisher=publisher).sell_units(
        listing_id, buyer_id, quantity, now)
    assert listing.price is not None
    order = await open_order(session, listing=listing, buyer_id=buyer_id, quantity=units, unit_price=listing.price,
                             points=points, shipping_address=shipping_address, settings=settings,
                             coupon_id=coupon_id)
    await session.flush()
    await events.emit(session, order_events.ListingSold(listing.id, listing.seller_id, buyer_id, order.id, units,
                                                        order.total))
    return order


async def strike_times(session: AsyncSession, user_id: int, role: str = "buyer") -> list[datetime]:
    return list(await session.scalars(select(Strike.created_at).where(Strike.user_id == user_id,
                                                                      Strike.role == role)))


async def bidding_blocked_until(session: AsyncSession, user_id: int, now: datetime) -> datetime | None:
    """docs/rules.md §19.1: 3 buyer strikes within 365 days block bidding for 30 days."""
    return rules.bidding_blocked_until(await strike_times(session, user_id, "buyer"), now)


async def buyer_strike_times(session: AsyncSession, user_ids: set[int]) -> dict[int, list[datetime]]:
    """The buyer-side strike times of several users in one query (for :func:`rules.bidding_blocked_until`)."""
    times: dict[int, list[datetime]] = {u: [] for u in user_ids}
    rows = await session.execute(select(Strike.user_id, Strike.created_at).where(
        Strike.user_id.in_(sorted(user_ids)), Strike.role == "buyer"))
    for user_id, created_at in rows.tuples():
        times[user_id].append(created_at)
    return times


async def strike_counts(session: AsyncSession, user_id: int, now: datetime) -> dict[str, int]:
    """What sellers see next to a user: strikes in the last 365 days, per side."""
    return {role: rules.strikes_in_window(await strike_times(session, user_id, role), now)
            for role in ("buyer", "seller")}


def address_visible(order: Order, viewer_id: int | None, is_admin: bool) -> bool:
    """docs/rules.md §19.4: the buyer always sees their own; the seller only while the order is open (not
    completed, cancelled or refunded); admins always."""
    if is_admin or viewer_id == order.buyer_id:
        return True
    return viewer_id == order.seller_id and order.status not in rules.FINAL_STATUSES


class PurchaseHistory:
    """The membership port (``membership.ports.PurchaseHistory``): a level is made of completed purchases
    (docs/rules.md §13), the orders' own data."""

    async def effective_spend(self, session: AsyncSession, user_id: int, since: datetime, until: datetime) -> int:
        value = await session.scalar(
            select(func.coalesce(func.sum(Order.total), 0)).where(
                Order.buyer_id == user_id, Order.status == "completed",
                Order.completed_at > since, Order.completed_at <= until))
        return int(value or 0)

    def buyers_since(self, since: datetime) -> Select[tuple[int]]:
        return select(Order.buyer_id).where(Order.status == "completed", Order.completed_at > since)

    def badge_selects(self, since: datetime) -> dict[str, Select[tuple[int, str, str]]]:
        """docs/rules.md §16, one statement per kind. ``medal``: per root category the top 100 buyers by
        effective spend in it (a recursive CTE finds each category's root, ROW_NUMBER ranks); ``behaviour``:
        first / 10 / 100 completed purchases, 10 / 100 positive feedbacks received as a seller."""
        tree = select(Category.id.label("id"), Category.id.label("root_id"), Category.name.label("root_name")).where(
            Category.parent_id.is_(None)).cte("tree", recursive=True)
        child = aliased(Category)
        tree = tree.union_all(select(child.id, tree.c.root_id, tree.c.root_name)
                              .where(child.parent_id == tree.c.id))
        spend = (select(Order.buyer_id.label("user_id"), tree.c.root_id, tree.c.root_name,
                        func.sum(Order.total).label("spend"))
                 .join(Listing, Listing.id == Order.listing_id).join(tree, tree.c.id == Listing.category_id)
                 .where(Order.status == "completed", Order.completed_at > since)
                 .group_by(Order.buyer_id, tree.c.root_id, tree.c.root_name).subquery())
        ranked = select(spend.c.user_id, spend.c.root_id, spend.c.root_name, func.row_number().over(
            partition_by=spend.c.root_id, order_by=(spend.c.spend.desc(), spend.c.user_id)).label("rank")).subquery()
        medal = select(ranked.c.user_id, literal("medal:") + cast(ranked.c.root_id, String),
                       ranked.c.root_name + literal(" medal · 身份勋章")).where(ranked.c.rank <= 100)
        purchases = (select(Order.buyer_id.label("user_id"), func.count(Order.id).label("n"))
                     .where(Order.status == "completed").group_by(Order.buyer_id).subquery())
        positive = (select(Feedback.to_user_id.label("user_id"), func.count(Feedback.id).label("n"))
                    .where(Feedback.role == "buyer", Feedback.rating == "positive").group_by(Feedback.to_user_id)
                    .subquery())
        parts = [
            select(purchases.c.user_id, literal(f"behaviour:purchases_{n}"), literal(name))
            .where(purchases.c.n >= n)
            for n, name in ((1, "First purchase · 首单"), (10, "10 purchases"), (100, "100 purchases"))
        ] + [
            select(positive.c.user_id, literal(f"behaviour:positive_{n}"), literal(name)).where(positive.c.n >= n)
            for n, name in ((10, "10 positive feedbacks as a seller"), (100, "100 positive feedbacks as a seller"))
        ]
        behaviour = union_all(*parts)
        return {"medal": medal, "behaviour": select(behaviour.subquery())}

    async def growth_inputs(self, session: AsyncSession, user_id: int, since: datetime,
                            until: datetime) -> GrowthInputs:
        """docs/rules.md §16 (active days are membership's own record); disputes lost: a buyer's dispute released
        to the seller, or a seller's refunded."""
        spend = await self.effective_spend(session, user_id, since, until)
        given, photos = (await session.execute(
            select(func.count(Feedback.id), func.count(Feedback.photo_key)).where(
                Feedback.from_user_id == user_id, Feedback.created_at > since, Feedback.created_at <= until))).one()
        lost = await session.scalar(select(func.count(Order.id)).where(
            Order.dispute_reason.is_not(None), Order.closed_at > since, Order.closed_at <= until,
            or_((Order.buyer_id == user_id) & (Order.status == "completed"),
                (Order.seller_id == user_id) & (Order.status == "refunded"))))
        return GrowthInputs(spend=spend, feedback_given=int(given or 0),
                            feedback_photos=int(photos or 0), disputes_lost=int(lost or 0))


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order with the names the pages and the API show next to it."""

    order: Order
    listing_title: str
    listing_mode: str
    buyer_username: str
    seller_username: str


@dataclass(frozen=True, slots=True)
class EventView:
    from_status: str | None
    to_status: str
    note: str
    created_at: datetime
    actor_username: str | None


@dataclass(frozen=True, slots=True)
class FeedbackView:
    rating: str
    comment: str
    created_at: datetime
    role: str  # the author's side of the order: buyer or seller
    author: str
    listing_title: str
    photo_key: str | None = None
    photo_thumb_key: str | None = None


class OrderService:
    """Everything that happens to an order after it is paid (docs/rules.md §7).

    Every transition locks the order row (``SELECT … FOR UPDATE``) and decides from the state it read under that
    lock, so two racing requests (confirm vs. auto-confirm, cancel vs. ship) serialise and exactly one wins; the
    loser sees the new state and gets 409. Coins move only through :func:`ledger.post`, inside the same
    transaction as the state change, with one idempotency key per order and purpose as a second guard: even a
    bug that let two transitions through could never pay out or refund an order twice.
    """

    def __init__(self, session: AsyncSession, settings: Settings | None = None,
                 publisher: Publisher | None = None) -> None:
        self.session = session
        self.settings = settings or Settings()
        self.publisher = publisher

    # --- reading ------------------------------------------------------------------------------------------------

    def _view_query(self) -> Select[tuple[Order, str, str, str, str]]:
        buyer, seller = aliased(User), aliased(User)
        return (
            select(Order, Listing.title, Listing.mode, buyer.username, seller.username)
            .join(Listing, Listing.id == Order.listing_id)
            .join(buyer, buyer.id == Order.buyer_id)
            .join(seller, seller.id == Order.seller_id)
        )

    async def view(self, order_id: int) -> OrderView:
        row = (await self.session.execute(self._view_query().where(Order.id == order_id))).one_or_none()
        if row is None:
            raise OrderNotFound()
        return OrderView(*row)

    async def visible(self, order_id: int, user_id: int, *, is_admin: bool = False) -> OrderView:
        """The order, for its buyer, its seller or an admin; anyone else is told it does not exist (404)."""
        view = await self.view(order_id)
        if not is_admin and user_id not in (view.order.buyer_id, view.order.seller_id):
            raise OrderNotFound()
        return view

    async def list_for(self, user_id: int, role: str | None, *, page: int = 1, per_page: int = 20,
                       status: str | None = None) -> tuple[list[OrderView], int]:
        """A user's orders, newest first: as buyer, as seller, or both when ``role`` is None."""
        if role == "buyer":
            cond = Order.buyer_id == user_id
        elif role == "seller":
            cond = Order.seller_id == user_id
        elif role is None:
            cond = or_(Order.buyer_id == user_id, Order.seller_id == user_id)
        else:
            raise InvalidOrderInput("role must be buyer or seller.")
        conds = [cond] if status is None else [cond, Order.status == status]
        total = await self.session.scalar(select(func.count()).select_from(Order).where(*conds))
        rows = (await self.session.execute(
            self._view_query().where(*conds).order_by(Order.id.desc()).limit(per_page)
            .offset((page - 1) * per_page)
        )).all()
        return [OrderView(*r) for r in rows], int(total or 0)

    async def disputed(self) -> list[OrderView]:
        """The admin's queue: disputed orders, oldest first."""
        rows = (await self.session.execute(
            self._view_query().where(Order.status == "disputed").order_by(Order.id)
        )).all()
        return [OrderView(*r) for r in rows]

    async def timeline(self, order_id: int) -> list[EventView]:
        rows = (await self.session.execute(
            select(OrderEvent, User.username)
            .outerjoin(User, User.id == OrderEvent.actor_id)
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.id)
        )).all()
        return [EventView(e.from_status, e.to_status, e.note, e.created_at, name) for e, name in rows]

    # --- transitions ----------------------------------------------------------------------------------------------

    async def _lock(self, order_id: int) -> Order:
        # populate_existing: a row already in the identity map must be refreshed with what we locked, or we
        # would decide on the state we read before waiting for the lock.
        order = await self.session.scalar(
            select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
        )
        if order is None:
            raise OrderNotFound()
        return order

    @staticmethod
    def actor_of(order: Order, user_id: int, *, is_admin: bool = False) -> rules.Actor:
        if user_id == order.buyer_id:
            return "buyer"
        if user_id == order.seller_id:
            return "seller"
        if is_admin:
            return "admin"
        raise NotYourOrder()

    async def _emit(self, kind: type[order_events.OrderTransition], order: Order, actor_id: int | None,
                    **extra: Any) -> None:
        await events.emit(self.session, kind(order.id, order.listing_id, order.buyer_id, order.seller_id, actor_id,
                                             **extra))

    def _record(self, order: Order, actor_id: int | None, source: str | None, note: str, now: datetime) -> None:
        self.session.add(OrderEvent(order_id=order.id, actor_id=actor_id, from_status=source,
                                    to_status=order.status, note=note[:500], created_at=now))

    async def _move(self, order_id: int, action: rules.Action, user_id: int | None, *, is_admin: bool = False,
                    ) -> tuple[Order, str]:
        order = await self._lock(order_id)
        actor: rules.Actor = "system" if user_id is None else self.actor_of(order, user_id, is_admin=is_admin)
        source = order.status
        order.status = rules.transition(source, action, actor)
        return order, source

    async def ship(self, order_id: int, user_id: int, tracking: str | None = None, *, is_admin: bool = False,
                   now: datetime | None = None) -> Order:
        """The seller marks a paid order shipped; the auto-confirm clock starts."""
        now = now or utcnow()
        tracking = (tracking or "").strip() or None
        if tracking is not None and len(tracking) > 100:
            raise InvalidOrderInput("tracking is at most 100 characters.")
        order, source = await self._move(order_id, "ship", user_id, is_admin=is_admin)
        order.shipped_at = now
        order.tracking = tracking
        self._record(order, user_id, source, f"shipped, tracking {tracking}" if tracking else "shipped", now)
        await self.session.flush()
        await self._emit(order_events.OrderShipped, order, user_id)
        return order

    async def confirm(self, order_id: int, user_id: int, *, is_admin: bool = False,
                      now: datetime | None = None) -> Order:
        """The buyer confirms receipt: escrow goes to the seller minus the final value fee."""
        now = now or utcnow()
        order, source = await self._move(order_id, "confirm", user_id, is_admin=is_admin)
        await self._pay_seller(order, now)
        self._record(order, user_id, source, f"receipt confirmed; paid out {order.payout}, fee {order.fee}",
                     now)
        await self.session.flush()
        await self._emit(order_events.OrderCompleted, order, user_id)
        return order

    async def cancel(self, order_id: int, user_id: int, *, is_admin: bool = False,
                     now: datetime | None = None, reason: str = "", confirm: bool = False) -> Order:
        """Either side cancels before shipping: the buyer gets everything back and the stock returns.

        docs/rules.md §19.1: the winner of an auction cancels only with ``confirm`` and a reason, and gets a
        buyer strike; a seller who cancels gets a seller strike. Either way the order can still be rated.
        """
        now = now or utcnow()
        order = await self._lock(order_id)
        actor = self.actor_of(order, user_id, is_admin=is_admin)
        source = order.status
        target = rules.transition(source, "cancel", actor)  # who and when first (403, 409), then the reason (400)
        side: rules.Actor = "buyer" if user_id == order.buyer_id else "seller"
        strike_role = rules.check_cancel(order.source, side, reason or "", confirm)
        order.status = target
        reason = (reason or "").strip()
        order.cancel_reason = reason or None
        if strike_role is not None:
            self.session.add(Strike(user_id=order.buyer_id if strike_role == "buyer" else order.seller_id,
                                    role=strike_role, order_id=order.id, reason=reason, created_at=now))
        await self._restore_stock(order)
        await self._refund_buyer(order, now)
        note = f"cancelled by the {side}; {order.total} refunded" + (f" — {reason}" if reason else "")
        self._record(order, user_id, source, note[:500], now)
        await self.session.flush()
        await self._emit(order_events.OrderCancelled, order, user_id)
        return order

    async def cancel_for_banned_seller(self, order_id: int, admin_id: int, reason: str, now: datetime) -> Order:
        """docs/rules.md §19.8: an admin's ban of the seller cancels their paid, not yet shipped orders on the
        seller's behalf — the buyer is refunded in full through the ledger, the stock returns (to a listing the
        ban has ended) and the seller gets a seller strike, as when they cancel themselves."""
        order = await self._lock(order_id)
        source = order.status
        order.status = rules.transition(source, "cancel", "seller")
        reason = reason.strip()[:rules.CANCEL_REASON_MAX]
        order.cancel_reason = reason or None
        self.session.add(Strike(user_id=order.seller_id, role="seller", order_id=order.id, reason=reason,
                                created_at=now))
        await self._restore_stock(order)
        await self._refund_buyer(order, now)
        note = f"cancelled by an admin: the seller was banned; {order.total} refunded" + (f" — {reason}" if reason
                                                                                           else "")
        self._record(order, admin_id, source, note[:500], now)
        await self.session.flush()
        await self._emit(order_events.OrderCancelled, order, admin_id)
        return order

    async def unshipped_ids_of_seller(self, seller_id: int) -> list[int]:
        """The seller's paid orders not shipped yet (oldest first), for the ban (docs/rules.md §19.8)."""
        return list(await self.session.scalars(
            select(Order.id).where(Order.seller_id == seller_id, Order.status == "paid").order_by(Order.id)))

    async def set_address(self, order_id: int, user_id: int, address: dict[str, str]) -> Order:
        """The buyer gives (or changes) the shipping address of an order that is not shipped yet (docs/rules.md
        §19.4): a won auction right after winning, or a purchase made without one."""
        order = await self._lock(order_id)
        if user_id != order.buyer_id:
            if user_id == order.seller_id:
                raise WrongParty("Only the buyer chooses the shipping address.")
            raise OrderNotFound()
        if order.status != "paid":
            raise InvalidTransition("The address cannot change on an order that is %(status)s.", status=order.status)
        order.shipping_address = dict(address)
        self._record(order, user_id, order.status, "shipping address set", utcnow())
        await self.session.flush()
        return order

    async def dispute(self, order_id: int, user_id: int, reason: str, *, is_admin: bool = False,
                      now: datetime | None = None) -> Order:
        """The buyer disputes a shipped order; the coins stay in escrow until an admin resolves it."""
        now = now or utcnow()
        reason = (reason or "").strip()
        if not reason:
            raise InvalidOrderInput("Say what went wrong (reason).")
        if len(reason) > 2000:
            raise InvalidOrderInput("reason is at most 2000 characters.")
        order, source = await self._move(order_id, "dispute", user_id, is_admin=is_admin)
        order.dispute_reason = reason
        self._record(order, user_id, source, f"dispute opened: {reason}", now)
        await self.session.flush()
        await self._emit(order_events.DisputeOpened, order, user_id)
        return order

    async def resolve(self, order_id: int, admin_id: int, outcome: str, *, now: datetime | None = None) -> Order:
        """An admin settles a dispute: ``release`` pays the seller (fee charged), ``refund`` repays the buyer.

        The caller has checked that ``admin_id`` is an admin (the route guard); a party to the order who is also
        an admin still resolves as the admin.
        """
        now = now or utcnow()
        if outcome not in ("release", "refund"):
            raise InvalidOrderInput("outcome must be refund or release.")
        order = await self._lock(order_id)
        source = order.status
        order.status = rules.transition(source, "release" if outcome == "release" else "refund", "admin")
        if outcome == "release":
            await self._pay_seller(order, now)
            note = f"dispute resolved: released to the seller ({order.payout}, fee {order.fee})"
        else:
            await self._refund_buyer(order, now)
            note = f"dispute resolved: {order.total} refunded to the buyer"
        self._record(order, admin_id, source, note, now)
        await self.session.flush()
        await self._emit(order_events.DisputeResolved, order, admin_id, outcome=outcome)
        return order

    async def auto_confirm(self, order_id: int, now: datetime) -> bool:
        """Complete one shipped order whose confirmation deadline has passed; False (and nothing) otherwise.

        Idempotent: re-run, or racing the buyer's own confirm, it finds the order no longer shipped and stops.
        """
        order = await self._lock(order_id)
        if not rules.auto_confirm_due(order.status, order.shipped_at, now, self.settings.auto_confirm_days):
            return False
        source = order.status
        order.status = rules.transition(source, "auto_confirm", "system")
        await self._pay_seller(order, now)
        self._record(order, None, source, f"confirmed automatically {self.settings.auto_confirm_days} days after "
                     f"shipping; paid out {order.payout}, fee {order.fee}", now)
        await self.session.flush()
        await self._emit(order_events.OrderCompleted, order, None)
        return True

    # --- money and stock ----------------------------------------------------------------------------------------

    async def _pay_seller(self, order: Order, now: datetime) -> None:
        """Escrow (items + shipping) to the seller minus the final value fee on the items total at the sale price
        (docs/rules.md §5, §15); then the membership follow-ups (points freeze clock, level)."""
        fees = self.settings.fees
        order.fee = rules.final_value_fee(order.items_total, fees.final_value_percent, fees.final_value_min)
        order.completed_at = order.closed_at = now
        net = order.items_total + order.shipping_fee - order.fee
        if net > 0:
            await ledger.post(self.session, kind="payout", ref_type="order", ref_id=order.id,
                              idempotency_key=f"order:{order.id}:payout", memo=f"order {order.id} payout",
                              legs=[ledger.Leg(ledger.escrow(order.id), -net),
                                    ledger.Leg(ledger.available(order.seller_id), net)])
        if order.fee > 0:
            await ledger.post(self.session, kind="fee", ref_type="order", ref_id=order.id,
                              idempotency_key=f"order:{order.id}:final_value_fee",
                              memo=f"final value fee, order {order.id}",
                              legs=[ledger.Leg(ledger.escrow(order.id), -order.fee),
                                    ledger.Leg(ledger.platform("revenue"), order.fee)])
        await membership.after_completion(self.session, order, now, self.settings)

    async def _refund_buyer(self, order: Order, now: datetime) -> None:
        """The buyer gets back what they paid, the platform what it paid (marketing), and the redeemed points."""
        order.closed_at = now
        legs = [ledger.Leg(ledger.available(order.buyer_id), order.total),
                ledger.Leg(ledger.platform("marketing"), order.platform_paid)]
        gross = order.total + order.platform_paid
        if gross > 0:
            await ledger.post(self.session, kind="refund", ref_type="order", ref_id=order.id,
                              idempotency_key=f"order:{order.id}:refund", memo=f"order {order.id} refund",
                              legs=[ledger.Leg(ledger.escrow(order.id), -gross),
                                    *(leg for leg in legs if leg.amount)])
        await membership.after_refund(self.session, order, now, self.settings)

    async def _restore_stock(self, order: Order) -> None:
        """Put a cancelled fixed-price order's units back on sale (the listings service decides how)."""
        await ListingService(self.session, self.settings, publisher=self.publisher).restock(order.listing_id,
                                                                                           order.quantity)


async def auto_confirm_overdue(sessions: async_sessionmaker[AsyncSession], settings: Settings,
                               now: datetime) -> int:
    """Complete every shipped order past its deadline; returns how many this call completed.

    Each order gets its own transaction (one failure or a long queue never holds other orders' locks), and each
    re-checks the state under the row lock, so running this twice, on two workers, or against a buyer confirming
    at the same moment completes and pays every order once.
    """
    cutoff = now - timedelta(days=settings.auto_confirm_days)
    async with sessions() as session:
        ids = list(await session.scalars(
            select(Order.id).where(Order.status == "shipped", Order.shipped_at <= cutoff).order_by(Order.id)
        ))
    done = 0
    for order_id in ids:
        try:
            async with sessions() as session, session.begin():
                if await OrderService(session, settings).auto_confirm(order_id, now):
                    done += 1
        except Exception:  # one bad order must not stop the others; the next run retries it
            log.exception("auto-confirm of order %s failed", order_id)
    return done


class FeedbackService:
    """One rating and comment per side per completed order; the profile's summary (score, % positive)."""

    RECENT = 20

    def __init__(self, session: AsyncSession, settings: Settings | None = None) -> None:
        self.session = session
        self.settings = settings or Settings()

    async def leave(self, order_id: int, user_id: int, rating: str, comment: str = "",
                    *, now: datetime | None = None) -> Feedback:
        comment = (comment or "").strip()
        if len(comment) > 1000:
            raise InvalidOrderInput("comment is at most 1000 characters.")
        # The order row lock serialises the same author's double submit; the unique constraint backs it up.
        order = await self.session.scalar(
            select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
        )
        if order is None:
            raise OrderNotFound()
        if user_id not in (order.buyer_id, order.seller_id):
            raise NotYourOrder("Only the buyer or the seller may leave feedback.")
        actor: rules.Actor = "buyer" if user_id == order.buyer_id else "seller"
        already = await self.session.scalar(
            select(Feedback.id).where(Feedback.order_id == order_id, Feedback.from_user_id == user_id)
        )
        rules.check_feedback(order.status, actor, already is not None, rating)
        feedback = Feedback(
            order_id=order.id, from_user_id=user_id,
            to_user_id=order.seller_id if actor == "buyer" else order.buyer_id,
            role=actor, rating=rating, comment=comment, created_at=now or utcnow(),
        )
        try:
            async with self.session.begin_nested():
                self.session.add(feedback)
                await self.session.flush()
        except IntegrityError as exc:
            raise FeedbackNotAllowed("You have already left feedback for this order.") from exc
        if actor == "buyer":  # docs/rules.md §14: a buyer's feedback earns points, once per order
            await membership.earn_on_feedback(self.session, order, with_photo=False, now=feedback.created_at,
                                              settings=self.settings)
        await events.emit(self.session, order_events.FeedbackReceived(order.id, user_id, feedback.to_user_id, rating))
        return feedback

    async def left_by(self, order_ids: list[int], user_id: int) -> set[int]:
        """Which of these orders ``user_id`` has already rated (to hide the form)."""
        if not order_ids:
            return set()
        return set(await self.session.scalars(
            select(Feedback.order_id).where(Feedback.order_id.in_(order_ids), Feedback.from_user_id == user_id)
        ))

    async def for_order(self, order_id: int) -> list[FeedbackView]:
        return await self._views(Feedback.order_id == order_id, limit=10)

    async def summary(self, user_id: int, *, role: str | None = None) -> rules.FeedbackSummary:
        """Feedback received by ``user_id`` (only what ``role`` left, e.g. buyers rating a shop's owner)."""
        conds = [Feedback.to_user_id == user_id]
        if role is not None:
            conds.append(Feedback.role == role)
        rows = (await self.session.execute(
            select(Feedback.rating, func.count()).where(*conds).group_by(Feedback.rating)
        )).all()
        counts: dict[str, int] = {rating: int(n) for rating, n in rows}
        return rules.FeedbackSummary(positive=int(counts.get("positive", 0)), neutral=int(counts.get("neutral", 0)),
                                     negative=int(counts.get("negative", 0)))

    async def _views(self, *conds: Any, limit: int) -> list[FeedbackView]:
        rows = (await self.session.execute(
            select(Feedback, User.username, Listing.title)
            .join(User, User.id == Feedback.from_user_id)
            .join(Order, Order.id == Feedback.order_id)
            .join(Listing, Listing.id == Order.listing_id)
            .where(*conds)
            .order_by(Feedback.id.desc())
            .limit(limit)
        )).all()
        return [FeedbackView(f.rating, f.comment, f.created_at, f.role, author, title, f.photo_key, f.photo_thumb_key)
                for f, author, title in rows]

    async def profile_context(self, user_id: int) -> dict[str, Any]:
        """What /users/{username} shows: ``feedback_score`` (positive − negative), ``positive_percent``
        (one decimal, None when nobody rated positive or negative) and the most recent ``feedback``."""
        summary = await self.summary(user_id)
        return {
            "feedback_score": summary.score,
            "positive_percent": summary.positive_percent,
            "feedback_counts": {"positive": summary.positive, "neutral": summary.neutral,
                                "negative": summary.negative},
            "feedback": await self._views(Feedback.to_user_id == user_id, limit=self.RECENT),
        }


class SellerTrust:
    """The listings' :class:`~marketplace.listings.ports.SellerTrust` port: what buyers gave a seller
    (docs/rules.md §19.7), the same summary as the profile's buyer feedback."""

    async def seller_rating(self, session: AsyncSession, seller_id: int) -> SellerRating:
        summary = await FeedbackService(session).summary(seller_id, role="buyer")
        return SellerRating(score=summary.score, positive_percent=summary.positive_percent,
                            count=summary.positive + summary.neutral + summary.negative)
