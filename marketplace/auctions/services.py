"""Auction use cases: place a bid, Buy Now, close, and the read models (history, my bids).

Every write locks the listing row first (``SELECT … FOR UPDATE``; SQLite's BEGIN IMMEDIATE does the same job)
and decides from that row alone (docs/architecture.md), so concurrent bids on one auction queue on the row and each one
sees the state the previous one committed. Holds move through ``ledger.post`` in the same transaction. Side
effects (the live message, re-scheduling the close job) are registered with ``after_commit`` and only happen
once the bid is durable. Services flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

# marketplace.models: every mapped class, so the unit of work can resolve foreign keys to tables that no imported
# module mentions yet (listings.shop_id → shops) in a process that has not loaded those domains.
from marketplace import events
from marketplace.accounts.models import User
from marketplace.accounts.rules import mask_username
from marketplace.addresses.services import AddressBook
from marketplace.auctions import events as auction_events
from marketplace.auctions import rules
from marketplace.auctions.exceptions import (
    AuctionClosed,
    AuctionEnded,
    AuctionNotFound,
    BiddingBlocked,
    BidTooLow,
    BuyNowUnavailable,
    InvalidBid,
    OwnAuction,
)
from marketplace.auctions.models import Bid
from marketplace.auctions.scheduling import schedule_close
from marketplace.auctions.schemas import BidStep, bid_message, channel_name, closed_message, state_of
from marketplace.db import after_commit
from marketplace.errors import Conflict, DomainError, InvalidInput, PermissionDenied
from marketplace.i18n import N_
from marketplace.jobs import JobQueue, Publisher
from marketplace.listings import rules as listing_rules
from marketplace.listings.models import Listing
from marketplace.listings.services import ensure_tradable, ensure_visible
from marketplace.membership import services as membership
from marketplace.membership.rules import Pricing
from marketplace.orders import services as order_services
from marketplace.orders.events import ListingSold
from marketplace.orders.models import Order
from marketplace.orders.services import bidding_blocked_until, buy_fixed, open_order
from marketplace.settings import Settings
from marketplace.wallet import ledger
from marketplace.wallet.exceptions import InsufficientCoins


def _refusal_error(outcome: rules.BidOutcome, state: rules.AuctionState) -> DomainError:
    reason = outcome.refusal
    if reason is rules.Refusal.NOT_POSITIVE:
        return InvalidBid()
    if reason is rules.Refusal.NOT_ACTIVE:
        return AuctionClosed()
    if reason is rules.Refusal.ENDED:
        return AuctionEnded()
    if reason is rules.Refusal.OWN_ITEM:
        return OwnAuction()
    if reason is rules.Refusal.TOO_LOW:
        return BidTooLow(N_("The minimum next bid is %(amount)s coins."), amount=state.min_next_bid)
    if reason is rules.Refusal.NOT_ABOVE_OWN_MAX:
        return BidTooLow(N_("You already lead with a maximum of %(amount)s coins; raise it above that."),
                         amount=state.leader_max)
    return InsufficientCoins(outcome.shortfall)


def blocked_error(until: datetime) -> BiddingBlocked:
    return BiddingBlocked(N_("You cannot bid until %(until)s UTC: you cancelled 3 won auctions within 365 days "
                             "(non-paying winner policy, 30 days)."), until=f"{until:%Y-%m-%d %H:%M}")


def _hold_legs(changes: tuple[rules.HoldChange, ...]) -> list[ledger.Leg]:
    legs: list[ledger.Leg] = []
    for change in changes:
        legs.append(ledger.Leg(ledger.available(change.user_id), -change.amount))
        legs.append(ledger.Leg(ledger.held(change.user_id), change.amount))
    return legs


async def lock_auction(session: AsyncSession, listing_id: int, *, skip_locked: bool = False) -> Listing | None:
    """The listing row, locked for this transaction and re-read from the database (never a stale copy from the
    identity map: the decision must be made on what we locked)."""
    stmt = (
        select(Listing)
        .where(Listing.id == listing_id)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


@dataclass(frozen=True, slots=True)
class BidResult:
    listing: Listing
    bid: Bid
    outcome: rules.BidOutcome


@dataclass(frozen=True, slots=True)
class CloseResult:
    """``closed``: this call made the transition. ``reschedule_at``: the end moved into the future."""

    listing: Listing | None
    closed: bool = False
    reschedule_at: datetime | None = None
    order: Order | None = None


class BidService:
    """Bids, Buy Now and closing for one session. ``publisher``/``jobs`` are optional: without them nothing is
    announced or scheduled (tests of the pure use case, the CLI)."""

    def __init__(self, session: AsyncSession, settings: Settings | None = None, *,
                 publisher: Publisher | None = None, jobs: JobQueue | None = None) -> None:
        self.session = session
        self.settings = settings or Settings()
        self.publisher = publisher
        self.jobs = jobs

    async def place_bid(self, listing_id: int, bidder_id: int, amount: int, now: datetime) -> BidResult:
        """One bid, one transaction: lock the auction row, let the rules decide, move holds, write the bid and
        the new state. Refused bids raise and change nothing. Invariant: after commit the leader (and only the
        leader) holds exactly ``leader_max`` coins for this auction."""
        # Read before taking the row lock, so the hot row is held for one round trip less. A read without a lock
        # is enough: for a bid that takes the lead ledger.post re-checks the balance under the account lock; for
        # a bid that does not lead nothing is held, and the check is only RULES' admission gate.
        # The same read resolves the ledger account ids of the bidder and of the current leader (most likely
        # still the leader once we hold the lock), so ledger.post needs no account lookup under the row lock; an
        # id never changes, and post looks up any account not given (a leader who changed meanwhile).
        await self.admit(listing_id, bidder_id, now)
        leader_now = select(Listing.leader_id).where(Listing.id == listing_id).scalar_subquery()
        accounts = await ledger.user_accounts(self.session, [bidder_id, leader_now])
        if ledger.held(bidder_id) not in accounts or ledger.available(bidder_id) not in accounts:
            await ledger.ensure_accounts(self.session, [ledger.available(bidder_id), ledger.held(bidder_id)])
            accounts = await ledger.user_accounts(self.session, [bidder_id, leader_now])
        available = accounts[ledger.available(bidder_id)][1]
        # An active day (docs/rules.md §16), before the row lock; a refused bid rolls it back with everything else.
        await membership.record_activity(self.session, bidder_id, now)
        listing = await lock_auction(self.session, listing_id)
        if listing is None or listing.mode != "auction":
            raise AuctionNotFound()
        state = state_of(listing)
        outcome = rules.place_bid(
            state, bidder_id, amount, now, available=available,
            extension_window=timedelta(seconds=self.settings.extension_window_seconds),
            extension=timedelta(seconds=self.settings.extension_seconds),
        )
        if not outcome.accepted:
            raise _refusal_error(outcome, state)
        if outcome.holds:
            # One ledger transaction for the new hold and the old leader's release: its account locks are taken
            # in ascending id order, so two auctions swapping the same two leaders cannot deadlock.
            kind = "hold" if any(h.amount > 0 for h in outcome.holds) else "release"
            await ledger.post(self.session, kind=kind, legs=_hold_legs(outcome.holds), ref_type="listing",
                              ref_id=listing.id, memo=f"bid on listing {listing.id}",
                              account_ids={key: acc_id for key, (acc_id, _) in accounts.items()})
        new = outcome.state
        bid = Bid(listing_id=listing.id, bidder_id=bidder_id, max_amount=amount, price_after=new.current_price,
                  leader_id_after=new.leader_id, created_at=now)
        self.session.add(bid)
        listing.current_price = new.current_price
        listing.leader_id = new.leader_id
        listing.leader_max = new.leader_max
        listing.runner_up_max = new.runner_up_max
        listing.bid_count = new.bid_count
        listing.ends_at = new.ends_at
        listing.version = listing.version + 1
        await self.session.flush()
        if state.leader_id is not None and new.leader_id != state.leader_id:
            await events.emit(self.session, auction_events.LeadLost(
                listing.id, state.leader_id, bidder_id, new.current_price))
        self._announce(listing, bid_message(listing), reschedule=outcome.extended)
        return BidResult(listing=listing, bid=bid, outcome=outcome)

    async def admit(self, listing_id: int, bidder_id: int, now: datetime) -> None:
        """The checks of a bid that need no lock: the listing is tradable (hidden, suspended or removed: 404) and
        the bidder is not blocked (docs/rules.md §19.1). The batched path runs them once per batch
        (auctions/batching.py)."""
        await ensure_tradable(self.session, listing_id)
        until = await bidding_blocked_until(self.session, bidder_id, now)
        if until is not None:
            raise blocked_error(until)

    async def buy_now(self, listing_id: int, buyer_id: int, now: datetime, points: object = None,
                      shipping_address: dict[str, str] | None = None, coupon_id: object = None) -> Order:
        """Buy Now on an auction without bids: it ends at once as sold, the buyer pays the Buy Now price from
        available coins into the order's escrow (402 when short, and then nothing changes). A coupon applies as on
        a fixed-price purchase (docs/rules.md §15: one purchase with items ≥ 1,980 coins; platform-funded)."""
        await ensure_tradable(self.session, listing_id)
        listing = await lock_auction(self.session, listing_id)
        if listing is None or listing.mode != "auction":
            raise AuctionNotFound()
        state = state_of(listing)
        refusal = rules.buy_now_refusal(state, buyer_id, now)
        if refusal is rules.BuyNowRefusal.OWN_ITEM:
            raise OwnAuction()
        if refusal is rules.BuyNowRefusal.NOT_ACTIVE:
            raise AuctionClosed()
        if refusal is rules.BuyNowRefusal.BIDS_EXIST:
            raise BuyNowUnavailable("Buy Now is gone: the auction has bids.")
        if refusal is not None or listing.buy_now_price is None:
            raise BuyNowUnavailable("This auction has no Buy Now price.")
        price = listing.buy_now_price
        order = await open_order(self.session, listing=listing, buyer_id=buyer_id, quantity=1, unit_price=price,
                                 pay_from="available", points=points, source="buy_now",
                                 shipping_address=shipping_address, coupon_id=coupon_id)
        listing.status = listing_rules.next_status(listing.status, "sold")
        listing.ended_at = now
        listing.current_price = price
        listing.leader_id = buyer_id
        listing.quantity_available = 0
        listing.version = listing.version + 1
        await self.session.flush()
        await events.emit(self.session, ListingSold(listing.id, listing.seller_id, buyer_id, order.id, 1, price))
        self._announce(listing, closed_message(listing))
        return order

    async def close(self, listing_id: int, now: datetime, *, skip_locked: bool = False) -> CloseResult:
        """The conditional transition ``active → sold|unsold``, guarded by ``status = 'active' AND ends_at <=
        now`` under the row lock, with settlement in the same transaction. Safe to call any number of times,
        concurrently: the first caller closes, every later one finds the status changed and does nothing."""
        listing = await lock_auction(self.session, listing_id, skip_locked=skip_locked)
        if listing is None or listing.mode != "auction" or listing.status != "active":
            return CloseResult(listing)
        state = state_of(listing)
        if not rules.is_due(state, now):
            return CloseResult(listing, reschedule_at=state.ends_at)
        outcome = rules.close_outcome(state)
        order: Order | None = None
        if outcome.kind is rules.CloseKind.SOLD:
            assert outcome.winner_id is not None
            assert outcome.winner_max is not None
            order = await open_order(self.session, listing=listing, buyer_id=outcome.winner_id, quantity=1,
                                     unit_price=outcome.price, pay_from="held", held_amount=outcome.winner_max,
                                     source="auction")
            listing.quantity_available = 0
        elif outcome.release_to is not None and outcome.release:
            await ledger.post(self.session, kind="release", ref_type="listing", ref_id=listing.id,
                              memo=f"auction {listing.id} unsold: reserve not met",
                              legs=[ledger.Leg(ledger.held(outcome.release_to), -outcome.release),
                                    ledger.Leg(ledger.available(outcome.release_to), outcome.release)])
        listing.status = listing_rules.next_status(listing.status, outcome.kind.value)
        listing.ended_at = now
        listing.version = listing.version + 1
        await self.session.flush()
        bidder_ids = tuple(await self.session.scalars(
            select(Bid.bidder_id).where(Bid.listing_id == listing.id).distinct().order_by(Bid.bidder_id)))
        await events.emit(self.session, auction_events.AuctionClosed(
            listing.id, listing.seller_id, outcome.winner_id, bidder_ids, listing.status, outcome.price,
            order.id if order else None))
        return CloseResult(listing, closed=True, order=order)

    async def close_many(self, listings: Sequence[Listing], now: datetime) -> list[CloseResult]:
        """:meth:`close` for auctions whose rows the caller already holds locked in this transaction (the
        sweeper's claim, re-read with ``populate_existing``), with a constant number of statements for the whole
        batch instead of ~30 per auction (docs/performance.md P4, docs/decisions.md "set-based settlement").

        Equivalent to calling :meth:`close` on each in order: the same guard and the same pure
        :func:`rules.close_outcome` per row; the same orders, order events, settlement / release / points postings,
        points lots and listing updates; one :class:`auction_events.AuctionsClosed` carrying the
        ``AuctionClosed`` each close would have emitted, in order. Every coin account the batch moves (winners'
        and released leaders' ``available``/``held``) is locked in one statement in ascending id order, the global
        lock order, so two workers' batches queue instead of deadlocking. Postings only take from ``held`` and
        add elsewhere, so no order of them can fall short where the one-by-one order would not."""
        results: list[CloseResult] = []
        due: list[tuple[Listing, rules.CloseOutcome]] = []
        for listing in listings:
            if listing.mode != "auction" or listing.status != "active":
                results.append(CloseResult(listing))
                continue
            state = state_of(listing)
            if not rules.is_due(state, now):
                results.append(CloseResult(listing, reschedule_at=state.ends_at))
                continue
            due.append((listing, rules.close_outcome(state)))
            results.append(CloseResult(listing, closed=True))
        if not due:
            return results
        wins = [order_services.AuctionWin(listing, outcome.winner_id, outcome.price, outcome.winner_max)
                for listing, outcome in due
                if outcome.kind is rules.CloseKind.SOLD and outcome.winner_id is not None
                and outcome.winner_max is not None]
        releases = [(listing, outcome) for listing, outcome in due
                    if outcome.kind is not rules.CloseKind.SOLD and outcome.release_to is not None
                    and outcome.release]
        # The coin accounts the postings below move (as each close's ledger.post would lock them), one statement.
        keys = {ledger.held(w.buyer_id) for w in wins} | {
            ledger.available(w.buyer_id) for w in wins if w.held_amount > w.price}
        for _, outcome in releases:
            assert outcome.release_to is not None
            keys |= {ledger.held(outcome.release_to), ledger.available(outcome.release_to)}
        locked = await ledger.lock_accounts(self.session, sorted(keys, key=lambda k: k.key)) if keys else {}
        orders = dict(zip((w.listing.id for w in wins),
                          await order_services.open_auction_orders(self.session, wins, locked), strict=True))
        await ledger.post_locked(self.session, [
            ledger.Posting(kind="release", ref_type="listing", ref_id=listing.id,
                           memo=f"auction {listing.id} unsold: reserve not met",
                           legs=[ledger.Leg(ledger.held(outcome.release_to), -outcome.release),
                                 ledger.Leg(ledger.available(outcome.release_to), outcome.release)])
            for listing, outcome in releases if outcome.release_to is not None], locked)
        for listing, outcome in due:
            if outcome.kind is rules.CloseKind.SOLD:
                listing.quantity_available = 0
            else:  # unchanged, but written, so every row's UPDATE has the same columns: one executemany
                flag_modified(listing, "quantity_available")
            listing.status = listing_rules.next_status(listing.status, outcome.kind.value)
            listing.ended_at = now
            listing.version = listing.version + 1
        await self.session.flush()
        bidders: dict[int, list[int]] = {listing.id: [] for listing, _ in due}
        for listing_id, bidder_id in (await self.session.execute(
                select(Bid.listing_id, Bid.bidder_id).where(Bid.listing_id.in_(sorted(bidders))).distinct()
                .order_by(Bid.listing_id, Bid.bidder_id))).tuples():
            bidders[listing_id].append(bidder_id)
        await events.emit(self.session, auction_events.AuctionsClosed(tuple(
            auction_events.AuctionClosed(listing.id, listing.seller_id, outcome.winner_id,
                                         tuple(bidders[listing.id]), listing.status, outcome.price,
                                         orders[listing.id].id if listing.id in orders else None)
            for listing, outcome in due)))
        return [CloseResult(r.listing, closed=True, order=orders.get(r.listing.id)) if r.closed and r.listing
                else r for r in results]

    async def end_without_sale(self, listing_id: int, now: datetime, status: str = "removed") -> Listing:
        """End an active auction with no sale (moderation removal, or a seller ending one without bids): the
        leader's hold goes back in the same transaction, so no coins stay held for an auction that is gone."""
        listing = await lock_auction(self.session, listing_id)
        if listing is None or listing.mode != "auction":
            raise AuctionNotFound()
        if listing.status != "active":
            raise AuctionClosed()
        if listing.leader_id is not None and listing.leader_max:
            await ledger.post(self.session, kind="release", ref_type="listing", ref_id=listing.id,
                              memo=f"auction {listing.id} ended without sale",
                              legs=[ledger.Leg(ledger.held(listing.leader_id), -listing.leader_max),
                                    ledger.Leg(ledger.available(listing.leader_id), listing.leader_max)])
        listing.status = listing_rules.next_status(listing.status, status)
        listing.ended_at = now
        listing.version = listing.version + 1
        await self.session.flush()
        self._announce(listing, closed_message(listing))
        return listing

    def _announce(self, listing: Listing, message: dict[str, Any], *, reschedule: bool = False) -> None:
        publisher, jobs = self.publisher, self.jobs
        channel = channel_name(listing.id)
        if publisher is not None:
            async def publish() -> None:
                await publisher.publish(channel, message)

            after_commit(self.session, publish)
        if reschedule and jobs is not None:
            listing_id, ends_at = listing.id, listing.ends_at

            async def enqueue() -> None:
                await schedule_close(jobs, listing_id, ends_at)

            after_commit(self.session, enqueue)


async def buy_now(session: AsyncSession, listing_id: int, buyer_id: int, now: datetime, *,
                  publisher: Publisher | None = None, points: object = None) -> Order:
    """Buy Now on an auction (called by the listings' POST /listings/{id}/buy). With ``publisher`` (e.g.
    ``request.app.state.publisher``) the ``closed`` message goes out after commit; without it the caller publishes
    ``schemas.closed_message(listing)`` on ``schemas.channel_name(listing_id)`` itself."""
    return await BidService(session, publisher=publisher).buy_now(listing_id, buyer_id, now, points)


async def purchase(session: AsyncSession, settings: Settings, listing_id: int, buyer_id: int, quantity: object,
                   now: datetime, *, publisher: Publisher | None = None, points: object = None,
                   address_id: object = None, coupon_id: object = None) -> Order:
    """``POST /listings/{id}/buy``: a fixed-price purchase (the orders domain) or Buy Now on an auction.

    The auctions package is the top of the trading layers (listings ← orders ← auctions), so it is the one that
    may dispatch on the mode; the listing's mode never changes, so reading it without the lock is safe (each path
    then locks the row itself). The order keeps a copy of the chosen address (``address_id``, else the buyer's
    default, else none: the buyer adds it on the order page; docs/rules.md §19.4).
    """
    listing = await ensure_tradable(session, listing_id)
    address = await shipping_snapshot(session, buyer_id, address_id)
    if listing.mode != "auction":
        return await buy_fixed(session, settings, listing_id, buyer_id, quantity, now, publisher=publisher,
                               points=points, shipping_address=address, coupon_id=coupon_id)
    if buyer_id == listing.seller_id:
        raise PermissionDenied("You cannot buy your own item.")
    return await BidService(session, settings, publisher=publisher).buy_now(listing_id, buyer_id, now, points,
                                                                            address, coupon_id)


async def shipping_snapshot(session: AsyncSession, buyer_id: int, address_id: object) -> dict[str, str] | None:
    """The copy of the buyer's chosen address (404 when it is not theirs), or of their default one."""
    book = AddressBook(session, buyer_id)
    if address_id not in (None, "", 0):
        return (await book.get(address_id)).snapshot()
    default = await book.default()
    return default.snapshot() if default else None


@dataclass(frozen=True, slots=True)
class Quote:
    """What the checkout confirmation shows (docs/rules.md §19.3): priced by the membership service exactly as
    the purchase will be."""

    listing: Listing
    kind: str  # fixed | buy_now
    quantity: int
    unit_price: int
    pricing: Pricing
    balance: int

    @property
    def balance_after(self) -> int:
        return self.balance - self.pricing.total


async def quote(session: AsyncSession, listing_id: int, buyer_id: int, quantity: object, points: object,
                now: datetime, settings: Settings | None = None, coupon_id: object = None) -> Quote:
    """Price a purchase without making it: the same refusals as the purchase (404, 403 own item, 409 sold out or
    Buy Now gone, 400 bad quantity or points), and the buyer's balance before and after."""
    listing = await ensure_tradable(session, listing_id)  # hidden, suspended or removed: 404
    if buyer_id == listing.seller_id:
        raise PermissionDenied("You cannot buy your own item.")
    if listing.mode == "auction":
        refusal = rules.buy_now_refusal(state_of(listing), buyer_id, now)
        if refusal is rules.BuyNowRefusal.NOT_ACTIVE:
            raise AuctionClosed()
        if refusal is rules.BuyNowRefusal.BIDS_EXIST:
            raise BuyNowUnavailable("Buy Now is gone: the auction has bids.")
        if refusal is not None or listing.buy_now_price is None:
            raise BuyNowUnavailable("This auction has no Buy Now price.")
        kind, units, unit_price = "buy_now", 1, listing.buy_now_price
    else:
        if type(quantity) is not int or quantity < 1:
            raise InvalidInput("Quantity must be a whole number of at least 1.")
        if listing.status != "active":
            raise Conflict("This listing is not on sale.")
        if quantity > listing.quantity_available:
            raise Conflict("Only %(quantity_available)s left.", quantity_available=listing.quantity_available)
        assert listing.price is not None
        kind, units, unit_price = "fixed", quantity, listing.price
    fixed = kind == "fixed"  # member day / PLUS price: fixed price only, priced as the purchase will be
    pricing = await membership.price_purchase(
        session, buyer_id, items_total=units * unit_price, shipping_fee=listing.shipping_fee or 0, points=points,
        now=now, settings=settings, quantity=units, list_price=unit_price if fixed else None,
        member_day=bool(listing.member_day) and fixed, plus_price=listing.plus_price if fixed else None,
        coupon_id=coupon_id)
    balance = await ledger.balance(session, ledger.available(buyer_id))
    return Quote(listing=listing, kind=kind, quantity=units, unit_price=unit_price, pricing=pricing,
                 balance=balance)


# --- read models -------------------------------------------------------------------------------------------------


async def bid_history(session: AsyncSession, listing_id: int, viewer_id: int | None = None, *, is_admin: bool = False,
                      limit: int = 200) -> list[BidStep]:
    """The public history: visible price steps, newest first.

    Each accepted bid leaves a price and a leader; a step is shown when either changed (a leader silently raising
    their maximum changes neither, and showing it would leak that a higher maximum exists). ``bidder`` is the
    masked leader after the step, ``amount`` the price it produced: maxima stay secret.
    """
    # The one visibility rule: a listing the caller may not see is 404, never an empty 200 (docs/rules.md §10).
    await ensure_visible(session, await session.get(Listing, listing_id), viewer_id, is_admin=is_admin)
    return await price_steps(session, listing_id, limit)


async def price_steps(session: AsyncSession, listing_id: int, limit: int = 200) -> list[BidStep]:
    """:func:`bid_history` of a listing whose visibility the caller has checked."""
    rows = (await session.execute(
        select(Bid.price_after, Bid.leader_id_after, Bid.created_at, User.username)
        .join(User, User.id == Bid.leader_id_after)
        .where(Bid.listing_id == listing_id)
        .order_by(Bid.id)
    )).all()
    steps: list[BidStep] = []
    previous: tuple[int, int] | None = None
    for price, leader_id, created_at, username in rows:
        if (price, leader_id) == previous:
            continue
        previous = (price, leader_id)
        steps.append(BidStep(bidder=mask_username(username), amount=price, created_at=created_at))
    steps.reverse()
    return steps[:limit]


@dataclass(frozen=True, slots=True)
class MyBid:
    listing: Listing
    my_max: int
    state: str  # leading | outbid | won | lost


async def my_bids(session: AsyncSession, user_id: int, limit: int = 200) -> list[MyBid]:
    """Auctions the user bid on, newest activity first: leading / outbid while active, won / lost once over."""
    sub = (
        select(Bid.listing_id, func.max(Bid.max_amount).label("my_max"), func.max(Bid.id).label("last_id"))
        .where(Bid.bidder_id == user_id)
        .group_by(Bid.listing_id)
        .subquery()
    )
    rows = (await session.execute(
        select(Listing, sub.c.my_max).join(sub, sub.c.listing_id == Listing.id).order_by(sub.c.last_id.desc())
        .limit(limit)
    )).all()
    result: list[MyBid] = []
    for listing, my_max in rows:
        leads = listing.leader_id == user_id
        if listing.status == "active":
            state = "leading" if leads else "outbid"
        else:
            state = "won" if listing.status == "sold" and leads else "lost"
        result.append(MyBid(listing=listing, my_max=int(my_max), state=state))
    return result


async def price_points(session: AsyncSession, listing_id: int) -> list[tuple[datetime, int]]:
    """(time, price) after each accepted bid, oldest first: the data of the price chart."""
    rows = (await session.execute(
        select(Bid.created_at, Bid.price_after).where(Bid.listing_id == listing_id).order_by(Bid.id)
    )).all()
    return [(t, int(p)) for t, p in rows]
