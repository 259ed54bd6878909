"""Membership use cases: levels, the points ledger with its lots, and the checkout hooks the order paths call.

Points move only through :func:`marketplace.wallet.ledger.post`, in their own unit (docs/rules.md §14): per user
``points_frozen`` / ``points_available``, platform ``points_issued`` / ``points_redeemed`` / ``points_expired``.
The lots (:class:`PointsLot`) say which points a balance is made of, so spending takes the soonest-expiring
first and a refund puts them back with their original expiry.

Lock order (after any order / listing row and the coin accounts the caller already locked): the user's two points
accounts (:func:`ledger.lock_accounts`, ascending id), then the user's lot rows. Every path that changes a lot
takes both, so a lot's ``remaining`` is never decided on a stale read and the lots always add up to the balances.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.db import UTCDateTime, insert_into, utcnow
from marketplace.errors import Conflict, InvalidInput
from marketplace.events import emit
from marketplace.membership import ports, rules
from marketplace.membership.events import CouponIssued, LevelChanged, PointsUnfrozen
from marketplace.membership.models import (
    Coupon,
    MemberActivityDay,
    MemberBadge,
    MemberBirthday,
    Membership,
    PlusMembership,
    PointsLot,
    PointsLotUse,
)
from marketplace.membership.ports import OrderRef
from marketplace.settings import Settings
from marketplace.wallet import ledger
from marketplace.wallet.exceptions import InsufficientCoins
from marketplace.wallet.models import LedgerAccount, LedgerEntry, LedgerTransaction

log = logging.getLogger(__name__)


# --- levels ------------------------------------------------------------------------------------------------------


async def effective_spend(session: AsyncSession, user_id: int, now: datetime, window_days: int) -> int:
    """docs/rules.md §13: the ``total`` of the user's completed purchases completed in the window."""
    return await ports.purchases().effective_spend(session, user_id, now - timedelta(days=window_days), now)


async def current_level(session: AsyncSession, user_id: int) -> str:
    """The stored level (recomputed on completion, refund and daily); ``registered`` before any."""
    level = await session.scalar(select(Membership.level).where(Membership.user_id == user_id))
    return level or "registered"


async def levels_of(session: AsyncSession, user_ids: list[int]) -> dict[int, str]:
    """Levels of several users at once (badges beside usernames)."""
    if not user_ids:
        return {}
    rows = (await session.execute(select(Membership.user_id, Membership.level)
                                  .where(Membership.user_id.in_(user_ids)))).tuples().all()
    found = dict(rows)
    return {uid: found.get(uid, "registered") for uid in user_ids}


async def recompute_level(session: AsyncSession, user_id: int, now: datetime, settings: Settings) -> str:
    """Store the user's level for ``now``; emit :class:`LevelChanged` when it differs from the stored one."""
    spend = await effective_spend(session, user_id, now, settings.level_window_days)
    new = rules.level_for(spend).code
    await session.execute(insert_into(session, Membership).values(
        user_id=user_id, level="registered", effective_spend=0, computed_at=now,
    ).on_conflict_do_nothing(index_elements=["user_id"]))
    row = await session.scalar(select(Membership).where(Membership.user_id == user_id).with_for_update()
                               .execution_options(populate_existing=True))
    assert row is not None
    old = row.level
    row.level, row.effective_spend, row.computed_at = new, spend, now
    await session.flush()
    if old != new:
        await emit(session, LevelChanged(user_id=user_id, old_level=old, new_level=new, effective_spend=spend,
                                         at=now))
    return new


async def members_to_recompute(session: AsyncSession, now: datetime, settings: Settings) -> list[int]:
    """Everyone whose level may have changed as the window slid: recent buyers and members above registered."""
    recent = ports.purchases().buyers_since(now - timedelta(days=settings.level_window_days + 2))
    ranked = select(Membership.user_id).where(Membership.level != "registered")
    return sorted(set(await session.scalars(recent.union(ranked))))


# --- points: reading ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PointsSummary:
    available: int
    frozen: int
    expiring: list[tuple[int, datetime]]  # (points, expires_at), soonest first


@dataclass(frozen=True, slots=True)
class PointsEntry:
    id: int
    account: str  # available | frozen
    points: int
    kind: str
    ref: str | None
    memo: str
    created_at: datetime


async def points_summary(session: AsyncSession, user_id: int) -> PointsSummary:
    rows = (await session.execute(select(LedgerAccount.kind, LedgerAccount.balance).where(
        LedgerAccount.user_id == user_id, LedgerAccount.kind.in_(("points_available", "points_frozen"))))).all()
    balances: dict[str, int] = {kind: int(balance) for kind, balance in rows}
    expiring = (await session.execute(
        select(PointsLot.expires_at, func.sum(PointsLot.remaining))
        .where(PointsLot.user_id == user_id, PointsLot.state == "available", PointsLot.remaining > 0)
        .group_by(PointsLot.expires_at).order_by(PointsLot.expires_at))).all()
    return PointsSummary(
        available=balances.get("points_available", 0), frozen=balances.get("points_frozen", 0),
        expiring=[(int(points), expires_at) for expires_at, points in expiring if expires_at is not None],
    )


async def points_entries(session: AsyncSession, user_id: int, page: int = 1,
                         per_page: int = 20) -> tuple[list[PointsEntry], int]:
    """The user's points entries (frozen and available), newest first."""
    where = and_(LedgerAccount.user_id == user_id,
                 LedgerAccount.kind.in_(("points_available", "points_frozen")))
    total = await session.scalar(select(func.count(LedgerEntry.id))
                                 .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id).where(where))
    rows = (await session.execute(
        select(LedgerEntry, LedgerAccount.kind, LedgerTransaction)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(where).order_by(LedgerEntry.id.desc()).offset((page - 1) * per_page).limit(per_page))).all()
    return [
        PointsEntry(id=e.id, account=kind.removeprefix("points_"), points=e.amount, kind=t.kind,
                    ref=f"{t.ref_type}:{t.ref_id}" if t.ref_type else None, memo=t.memo, created_at=e.created_at)
        for e, kind, t in rows
    ], int(total or 0)


# --- points: moving ----------------------------------------------------------------------------------------------


async def _lock_points(session: AsyncSession, user_id: int) -> None:
    await ledger.lock_accounts(session, [ledger.points_frozen(user_id), ledger.points_available(user_id)])


async def _lots(session: AsyncSession, *conds: Any) -> list[PointsLot]:
    return list(await session.scalars(
        select(PointsLot).where(*conds).order_by(PointsLot.id).with_for_update()
        .execution_options(populate_existing=True)))


async def earn_on_order(session: AsyncSession, order: OrderRef, now: datetime, *, plus: bool = False) -> int:
    """At payment: ``round_half_up(total / 10)`` points into the buyer's frozen points, one lot per order."""
    points = rules.points_earned(order.total, plus=plus)
    if points <= 0:
        return 0
    await _lock_points(session, order.buyer_id)
    session.add(PointsLot(user_id=order.buyer_id, source="purchase", order_id=order.id, points=points,
                          remaining=points, expired=0, state="frozen", created_at=now))
    await ledger.post(session, kind="points_earn", ref_type="order", ref_id=order.id,
                      idempotency_key=f"points:order:{order.id}:earn", memo=f"earned on order {order.id} (frozen)",
                      legs=[ledger.Leg(ledger.platform("points_issued"), -points),
                            ledger.Leg(ledger.points_frozen(order.buyer_id), points)])
    return points


async def earn_on_orders(session: AsyncSession, orders: Sequence[OrderRef], now: datetime,
                         plus: Mapping[int, bool]) -> list[int]:
    """:func:`earn_on_order` for several orders paid in one transaction (the sweeper's auction wins), with a
    constant number of statements: the same lots and the same ``points_earn`` postings (one per order, under the
    same idempotency key ``points:order:{id}:earn``). ``plus``: the buyers' PLUS at payment (:func:`plus_many`).
    The points accounts of all the buyers are locked in one statement, ascending id (the global lock order), after
    the coin accounts the caller holds. Returns the points earned per order, in order."""
    earned = [rules.points_earned(order.total, plus=plus.get(order.buyer_id, False)) for order in orders]
    earners = sorted({order.buyer_id for order, points in zip(orders, earned, strict=True) if points > 0})
    if not earners:
        return earned
    locked = await ledger.lock_accounts(
        session, [k for uid in earners for k in (ledger.points_frozen(uid), ledger.points_available(uid))])
    issued = ledger.platform("points_issued")
    platform_ids = await ledger.ensure_accounts(session, [issued])
    postings: list[ledger.Posting] = []
    lots: list[dict[str, Any]] = []
    for order, points in zip(orders, earned, strict=True):
        if points <= 0:
            continue
        lots.append({"user_id": order.buyer_id, "source": "purchase", "order_id": order.id, "points": points,
                     "remaining": points, "expired": 0, "state": "frozen", "created_at": now})
        postings.append(ledger.Posting(
            kind="points_earn", ref_type="order", ref_id=order.id, idempotency_key=f"points:order:{order.id}:earn",
            memo=f"earned on order {order.id} (frozen)",
            legs=[ledger.Leg(issued, -points), ledger.Leg(ledger.points_frozen(order.buyer_id), points)]))
    await session.execute(insert_into(session, PointsLot), lots)  # one cached executemany, no ORM objects
    await ledger.post_locked(session, postings, locked, platform_ids)
    return earned


async def redeem(session: AsyncSession, order: OrderRef, points: int, now: datetime) -> None:
    """Spend ``points`` of the buyer's available points on ``order``, soonest-expiring lots first."""
    if points <= 0:
        return
    await _lock_points(session, order.buyer_id)
    lots = await _lots(session, PointsLot.user_id == order.buyer_id, PointsLot.state == "available",
                       PointsLot.remaining > 0)
    by_id = {lot.id: lot for lot in lots}
    taken = rules.consume_oldest_first(
        [rules.LotBalance(lot.id, lot.remaining, lot.expires_at or now) for lot in lots], points)
    # The ledger re-checks the balance under the same lock: the lots and the balance can never disagree silently.
    await ledger.post(session, kind="points_redeem", ref_type="order", ref_id=order.id,
                      idempotency_key=f"points:order:{order.id}:redeem",
                      memo=f"{points} points = {rules.points_to_coins(points)} coins off order {order.id}",
                      legs=[ledger.Leg(ledger.points_available(order.buyer_id), -points),
                            ledger.Leg(ledger.platform("points_redeemed"), points)])
    for lot_id, take in taken:
        by_id[lot_id].remaining -= take
        session.add(PointsLotUse(lot_id=lot_id, order_id=order.id, points=take))
    await session.flush()


async def on_order_refunded(session: AsyncSession, order: OrderRef, now: datetime) -> None:
    """Cancel or refund: redeemed points go back to their lots (original expiry), frozen earned points are lost."""
    await _lock_points(session, order.buyer_id)
    uses = list(await session.scalars(select(PointsLotUse).where(
        PointsLotUse.order_id == order.id, PointsLotUse.restored_at.is_(None)).with_for_update()))
    if uses:
        lots = {lot.id: lot for lot in await _lots(session, PointsLot.id.in_([u.lot_id for u in uses]))}
        back = sum(u.points for u in uses)
        await ledger.post(session, kind="points_restore", ref_type="order", ref_id=order.id,
                          idempotency_key=f"points:order:{order.id}:restore",
                          memo=f"order {order.id} cancelled or refunded: redeemed points back",
                          legs=[ledger.Leg(ledger.platform("points_redeemed"), -back),
                                ledger.Leg(ledger.points_available(order.buyer_id), back)])
        for use in uses:
            lots[use.lot_id].remaining += use.points
            use.restored_at = now
    earned = await _lots(session, PointsLot.order_id == order.id, PointsLot.source == "purchase",
                         PointsLot.state == "frozen")
    for lot in earned:
        if lot.remaining > 0:
            await ledger.post(session, kind="points_revoke", ref_type="order", ref_id=order.id,
                              idempotency_key=f"points:lot:{lot.id}:revoke",
                              memo=f"order {order.id} cancelled or refunded: frozen points lost",
                              legs=[ledger.Leg(ledger.points_frozen(order.buyer_id), -lot.remaining),
                                    ledger.Leg(ledger.platform("points_issued"), lot.remaining)])
        lot.remaining = 0
        lot.state = "revoked"
    await session.flush()


async def on_order_completed(session: AsyncSession, order: OrderRef, now: datetime, settings: Settings) -> None:
    """Start the freeze clock of the order's earned points (the unfreeze job runs at ``unfreeze_at``)."""
    for lot in await _lots(session, PointsLot.order_id == order.id, PointsLot.source == "purchase",
                           PointsLot.state == "frozen"):
        lot.unfreeze_at = now + timedelta(seconds=settings.points_freeze_seconds)
    await session.flush()


async def unfreeze_lot(session: AsyncSession, lot_id: int, now: datetime, settings: Settings) -> bool:
    """Frozen → available once ``unfreeze_at`` has passed; exactly once (state checked under the lot lock)."""
    lot = await session.scalar(select(PointsLot).where(PointsLot.id == lot_id))
    if lot is None:
        return False
    await _lock_points(session, lot.user_id)
    locked = await _lots(session, PointsLot.id == lot_id)
    lot = locked[0]
    if lot.state != "frozen" or lot.unfreeze_at is None or lot.unfreeze_at > now:
        return False
    expires_at = rules.expiry_for(now, settings.timezone)
    if lot.remaining > 0:
        await ledger.post(session, kind="points_unfreeze", ref_type="order", ref_id=lot.order_id,
                          idempotency_key=f"points:lot:{lot.id}:unfreeze",
                          memo=f"points of order {lot.order_id} unfrozen",
                          legs=[ledger.Leg(ledger.points_frozen(lot.user_id), -lot.remaining),
                                ledger.Leg(ledger.points_available(lot.user_id), lot.remaining)])
    lot.state, lot.credited_at, lot.expires_at = "available", now, expires_at
    await session.flush()
    await emit(session, PointsUnfrozen(user_id=lot.user_id, order_id=lot.order_id, points=lot.remaining,
                                       expires_at=expires_at, at=now))
    return True


async def earn_on_feedback(session: AsyncSession, order: OrderRef, *, with_photo: bool, now: datetime,
                           settings: Settings) -> int:
    """The buyer's feedback on a completed order: 10 points at once (20 with a photo), once per order."""
    points = rules.feedback_points(with_photo)
    key = f"points:order:{order.id}:feedback"
    if await ledger.find_by_key(session, key) is not None:
        return 0
    await _lock_points(session, order.buyer_id)
    session.add(PointsLot(user_id=order.buyer_id, source="feedback", order_id=order.id, points=points,
                          remaining=points, expired=0, state="available", created_at=now, credited_at=now,
                          expires_at=rules.expiry_for(now, settings.timezone)))
    await ledger.post(session, kind="points_feedback", ref_type="order", ref_id=order.id, idempotency_key=key,
                      memo=f"feedback on order {order.id}" + (" with a photo" if with_photo else ""),
                      legs=[ledger.Leg(ledger.platform("points_issued"), -points),
                            ledger.Leg(ledger.points_available(order.buyer_id), points)])
    return points


async def earn_on_feedback_photo(session: AsyncSession, order: OrderRef, *, now: datetime, settings: Settings) -> int:
    """A photo on the buyer's feedback tops its points up to 20 (the 10 more), once per order."""
    points = rules.FEEDBACK_PHOTO_POINTS - rules.FEEDBACK_POINTS
    key = f"points:order:{order.id}:feedback_photo"
    if await ledger.find_by_key(session, key) is not None:
        return 0
    await _lock_points(session, order.buyer_id)
    session.add(PointsLot(user_id=order.buyer_id, source="feedback", order_id=order.id, points=points,
                          remaining=points, expired=0, state="available", created_at=now, credited_at=now,
                          expires_at=rules.expiry_for(now, settings.timezone)))
    await ledger.post(session, kind="points_feedback", ref_type="order", ref_id=order.id, idempotency_key=key,
                      memo=f"photo on the feedback of order {order.id}",
                      legs=[ledger.Leg(ledger.platform("points_issued"), -points),
                            ledger.Leg(ledger.points_available(order.buyer_id), points)])
    return points


async def grant_points(session: AsyncSession, user_id: int, points: int, *, now: datetime, settings: Settings,
                       memo: str = "granted", source: str = "grant") -> PointsLot:
    """Credit available points directly (demo data, goodwill): a lot expiring like any points credited now."""
    await _lock_points(session, user_id)
    lot = PointsLot(user_id=user_id, source=source, order_id=None, points=points, remaining=points, expired=0,
                    state="available", created_at=now, credited_at=now,
                    expires_at=rules.expiry_for(now, settings.timezone))
    session.add(lot)
    await session.flush()
    await ledger.post(session, kind="points_grant", ref_type="points_lot", ref_id=lot.id, memo=memo,
                      legs=[ledger.Leg(ledger.platform("points_issued"), -points),
                            ledger.Leg(ledger.points_available(user_id), points)])
    return lot


async def expire_lot(session: AsyncSession, lot_id: int, now: datetime) -> int:
    """Expire what is left of one lot past its expiry; 0 (and nothing) when there is nothing to expire."""
    lot = await session.scalar(select(PointsLot).where(PointsLot.id == lot_id))
    if lot is None:
        return 0
    await _lock_points(session, lot.user_id)
    lot = (await _lots(session, PointsLot.id == lot_id))[0]
    if lot.state != "available" or lot.remaining <= 0 or lot.expires_at is None or lot.expires_at > now:
        return 0
    points = lot.remaining
    await ledger.post(session, kind="points_expire", ref_type="points_lot", ref_id=lot.id,
                      memo=f"points expired {lot.expires_at.isoformat()}",
                      legs=[ledger.Leg(ledger.points_available(lot.user_id), -points),
                            ledger.Leg(ledger.platform("points_expired"), points)])
    lot.remaining = 0
    lot.expired += points
    await session.flush()
    return points


async def lots_due(session: AsyncSession, now: datetime, *, horizon: timedelta = timedelta(0),
                   limit: int = 500) -> list[tuple[int, datetime]]:
    """Frozen lots whose unfreeze time is at or before ``now + horizon``: ``(lot_id, unfreeze_at)``."""
    rows = (await session.execute(
        select(PointsLot.id, PointsLot.unfreeze_at)
        .where(PointsLot.state == "frozen", PointsLot.unfreeze_at.is_not(None),
               PointsLot.unfreeze_at <= now + horizon)
        .order_by(PointsLot.unfreeze_at).limit(limit))).tuples().all()
    return [(lot_id, at) for lot_id, at in rows if at is not None]


async def lots_expired(session: AsyncSession, now: datetime, limit: int = 1000) -> list[int]:
    return list(await session.scalars(
        select(PointsLot.id).where(PointsLot.state == "available", PointsLot.remaining > 0,
                                   PointsLot.expires_at <= now).order_by(PointsLot.id).limit(limit)))


# --- checkout and order hooks (called by marketplace.orders.services) --------------------------------------------


@dataclass(frozen=True, slots=True)
class BuyerTerms:
    """What prices a buyer now (docs/rules.md §15): the level (from the live effective spend), PLUS, member day."""

    level: str
    plus: bool
    member_day_today: bool

    @property
    def member_day_percent(self) -> int:
        return rules.level_by_code(self.level).member_day_percent if self.member_day_today else 0

    def unit_price(self, price: int, *, member_day: bool, plus_price: int | None) -> rules.UnitPrice:
        return rules.unit_price_for(price, level=self.level, plus=self.plus, member_day_listing=member_day,
                                    member_day_today=self.member_day_today, plus_price=plus_price)


async def buyer_terms(session: AsyncSession, buyer_id: int, now: datetime, settings: Settings) -> BuyerTerms:
    spend = await effective_spend(session, buyer_id, now, settings.level_window_days)
    return BuyerTerms(level=rules.level_for(spend).code, plus=await is_plus(session, buyer_id, now),
                      member_day_today=rules.is_member_day(now, settings.timezone, settings.member_day))


async def price_purchase(session: AsyncSession, buyer_id: int, *, items_total: int, shipping_fee: int,
                         points: object, now: datetime | None = None, settings: Settings | None = None,
                         quantity: int = 1, list_price: int | None = None, member_day: bool = False,
                         plus_price: int | None = None, coupon_id: object = None) -> rules.Pricing:
    """Price the order for the buyer: the lowest applicable unit price (list, member day, PLUS price — never
    stacked), then validate the redemption against the buyer's balance (a hint: :func:`redeem` re-checks under
    the lock) and apply free shipping (level threshold or PLUS). ``list_price`` is None for auction wins."""
    settings = settings or Settings()
    now = now or utcnow()
    terms = await buyer_terms(session, buyer_id, now, settings)
    coupon = None
    if coupon_id is not None:  # not combinable with points, member-day or PLUS prices: the list price applies
        if points:
            raise InvalidInput("A coupon cannot be combined with points.")
        coupon = await _usable_coupon(session, buyer_id, coupon_id, items_total=items_total, now=now)
    unit = None
    if list_price is not None and coupon is None:
        unit = terms.unit_price(list_price, member_day=member_day, plus_price=plus_price)
        items_total = unit.unit * quantity
    available = await ledger.balance(session, ledger.points_available(buyer_id)) if points else 0
    used = rules.check_redemption(points, items_total=items_total, available=available)
    return rules.price_order(items_total=items_total, shipping_fee=shipping_fee, level=terms.level, points=used,
                             plus=terms.plus, unit=unit, list_price=list_price, quantity=quantity,
                             coupon=(coupon.id, coupon.value) if coupon else None)


async def after_payment(session: AsyncSession, order: OrderRef, now: datetime | None = None, *,
                        coupon_id: int | None = None) -> None:
    """In the purchase's transaction, once its coins moved: spend the coupon and the redeemed points, earn the
    frozen ones (×10 for PLUS members, docs/rules.md §14)."""
    now = now or utcnow()
    if coupon_id is not None:
        coupon = await session.get(Coupon, coupon_id)  # locked by price_purchase in this transaction
        assert coupon is not None
        coupon.used_at, coupon.order_id = now, order.id
    await redeem(session, order, order.points_used, now)
    await earn_on_order(session, order, now, plus=await is_plus(session, order.buyer_id, now))


# --- PLUS (docs/rules.md §15) ------------------------------------------------------------------------------------


class PlusAlreadyActive(Conflict):
    """POST /plus while a PLUS period is still running (409)."""


@dataclass(frozen=True, slots=True)
class PlusState:
    active: bool
    until: datetime | None
    auto_renew: bool


async def plus_state(session: AsyncSession, user_id: int, now: datetime) -> PlusState:
    row = await session.get(PlusMembership, user_id)
    if row is None:
        return PlusState(False, None, False)
    active = row.until > now
    return PlusState(active, row.until, row.auto_renew and active)


async def is_plus(session: AsyncSession, user_id: int, now: datetime) -> bool:
    until = await session.scalar(select(PlusMembership.until).where(PlusMembership.user_id == user_id))
    return until is not None and until > now


async def plus_many(session: AsyncSession, user_ids: Iterable[int], now: datetime) -> dict[int, bool]:
    """:func:`is_plus` of several users, one query."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    rows = (await session.execute(select(PlusMembership.user_id, PlusMembership.until)
                                  .where(PlusMembership.user_id.in_(wanted)))).tuples().all()
    until = dict(rows)
    return {uid: until.get(uid) is not None and until[uid] > now for uid in wanted}


async def _lock_plus(session: AsyncSession, user_id: int) -> PlusMembership | None:
    row: PlusMembership | None = await session.scalar(
        select(PlusMembership).where(PlusMembership.user_id == user_id).with_for_update()
        .execution_options(populate_existing=True))
    return row


async def buy_plus(session: AsyncSession, user_id: int, *, auto_renew: bool, now: datetime,
                   settings: Settings) -> PlusState:
    """Pay ``plus_price`` coins from the wallet to revenue for ``plus_days`` of PLUS (402 not enough coins: the
    ledger refuses and nothing is written; 409 while a period is running)."""
    await session.execute(insert_into(session, PlusMembership).values(
        user_id=user_id, started_at=now, until=now, auto_renew=False, periods=0,
    ).on_conflict_do_nothing(index_elements=["user_id"]))
    row = await _lock_plus(session, user_id)
    assert row is not None
    if row.until > now:
        raise PlusAlreadyActive("PLUS is already active until %(date)s.", date=f"{row.until:%Y-%m-%d}")
    period = row.periods + 1
    await ledger.post(session, kind="plus", ref_type="user", ref_id=user_id,
                      idempotency_key=f"plus:{user_id}:{period}", memo=f"PLUS membership, period {period}",
                      legs=[ledger.Leg(ledger.available(user_id), -settings.plus_price),
                            ledger.Leg(ledger.platform("revenue"), settings.plus_price)])
    row.started_at, row.until = now, rules.plus_until(now, settings.plus_days)
    row.auto_renew, row.periods, row.lapsed_at = bool(auto_renew), period, None
    await session.flush()
    return PlusState(True, row.until, row.auto_renew)


async def plus_due(session: AsyncSession, now: datetime, limit: int = 1000) -> list[int]:
    """Members whose auto-renewing PLUS period has ended and was not tried yet."""
    return list(await session.scalars(
        select(PlusMembership.user_id).where(PlusMembership.auto_renew.is_(True), PlusMembership.until <= now,
                                             PlusMembership.lapsed_at.is_(None))
        .order_by(PlusMembership.until).limit(limit)))


async def renew_plus(session: AsyncSession, user_id: int, now: datetime, settings: Settings) -> str:
    """One try at the end of the period (docs/rules.md §15, like shop renewals): the next period continues from
    the old ``until``; not enough coins → lapsed (auto-renew off, never retried). Exactly once: decided under
    the row lock, and the ledger key names the period."""
    row = await _lock_plus(session, user_id)
    if row is None or not row.auto_renew or row.lapsed_at is not None or row.until > now:
        return "noop"
    period = row.periods + 1
    try:
        async with session.begin_nested():
            await ledger.post(session, kind="plus", ref_type="user", ref_id=user_id,
                              idempotency_key=f"plus:{user_id}:{period}", memo=f"PLUS renewal, period {period}",
                              legs=[ledger.Leg(ledger.available(user_id), -settings.plus_price),
                                    ledger.Leg(ledger.platform("revenue"), settings.plus_price)])
    except InsufficientCoins:
        row.auto_renew, row.lapsed_at = False, now
        await session.flush()
        return "lapsed"
    row.until, row.periods = rules.plus_until(row.until, settings.plus_days), period
    await session.flush()
    return "renewed"


async def after_completion(session: AsyncSession, order: OrderRef, now: datetime, settings: Settings) -> None:
    await on_order_completed(session, order, now, settings)
    await recompute_level(session, order.buyer_id, now, settings)


async def after_refund(session: AsyncSession, order: OrderRef, now: datetime, settings: Settings) -> None:
    """Points back (docs/rules.md §14); the coupon back to the buyer if it is still valid (docs/decisions.md)."""
    for coupon in await session.scalars(select(Coupon).where(Coupon.order_id == order.id).with_for_update()):
        if coupon.valid_until > now:
            coupon.used_at, coupon.order_id = None, None
    await on_order_refunded(session, order, now)
    await recompute_level(session, order.buyer_id, now, settings)


# --- birthday coupons (docs/rules.md §15) --------------------------------------------------------------------------


class CouponNotUsable(Conflict):
    """A coupon already used, expired or not valid yet (409)."""


async def _usable_coupon(session: AsyncSession, buyer_id: int, coupon_id: object, *, items_total: int,
                         now: datetime) -> Coupon:
    if isinstance(coupon_id, bool) or not isinstance(coupon_id, int):
        raise InvalidInput("Choose one of your coupons.")
    coupon = await session.scalar(select(Coupon).where(Coupon.id == coupon_id, Coupon.user_id == buyer_id)
                                  .with_for_update().execution_options(populate_existing=True))
    if coupon is None:
        raise InvalidInput("Unknown coupon.")
    if coupon.used_at is not None:
        raise CouponNotUsable("That coupon was already used.")
    if not coupon.valid_from <= now <= coupon.valid_until:
        raise CouponNotUsable("That coupon is not valid now.")
    if items_total < coupon.min_items_total:
        raise InvalidInput("That coupon needs an items total of at least %(min_items_total)s coins.",
                           min_items_total=f"{coupon.min_items_total:,}")
    return coupon


@dataclass(frozen=True, slots=True)
class Birthday:
    month: int
    day: int
    changeable_from: datetime


async def get_birthday(session: AsyncSession, user_id: int) -> Birthday | None:
    row = await session.get(MemberBirthday, user_id)
    if row is None:
        return None
    return Birthday(row.month, row.day, row.changed_at + timedelta(days=rules.BIRTHDAY_CHANGE_DAYS))


async def set_birthday(session: AsyncSession, user_id: int, month: object, day: object, now: datetime,
                       settings: Settings) -> Birthday:
    """Set the birthday (400 impossible date; 409 when it changed in the last 365 days — setting the same date
    again is a no-op); in the birthday month the coupon is issued at once."""
    m, d = rules.check_birthday(month, day)
    row = await session.scalar(select(MemberBirthday).where(MemberBirthday.user_id == user_id).with_for_update())
    if row is not None and (row.month, row.day) != (m, d):
        if row.changed_at + timedelta(days=rules.BIRTHDAY_CHANGE_DAYS) > now:
            raise Conflict("Your birthday can change once every 365 days.")
        row.month, row.day, row.changed_at = m, d, now
    elif row is None:
        row = MemberBirthday(user_id=user_id, month=m, day=d, changed_at=now)
        session.add(row)
    await session.flush()
    if rules.local_month_year(now, settings.timezone)[0] == m:
        await issue_birthday_coupon(session, user_id, now, settings)
    return Birthday(row.month, row.day, row.changed_at + timedelta(days=rules.BIRTHDAY_CHANGE_DAYS))


async def issue_birthday_coupon(session: AsyncSession, user_id: int, now: datetime,
                                settings: Settings) -> int | None:
    """This year's birthday coupon, valued by the level, valid to the month's end; exactly once a year (the unique
    ``issue_key``, inserted with ON CONFLICT DO NOTHING). None when not issued (registered, or already)."""
    _, year = rules.local_month_year(now, settings.timezone)
    spend = await effective_spend(session, user_id, now, settings.level_window_days)
    value = rules.birthday_coupon_value(rules.level_for(spend).code)
    if value <= 0:
        return None
    _start, end = rules.month_bounds(now, settings.timezone)
    coupon_id = await session.scalar(insert_into(session, Coupon).values(
        user_id=user_id, kind="birthday", value=value, min_items_total=rules.COUPON_MIN_ITEMS_TOTAL,
        valid_from=now, valid_until=end, issue_key=f"birthday:{user_id}:{year}", created_at=now,
    ).on_conflict_do_nothing(index_elements=["issue_key"]).returning(Coupon.id))
    if coupon_id is None:
        return None
    await emit(session, CouponIssued(user_id=user_id, coupon_id=int(coupon_id), kind="birthday", value=value,
                                     valid_until=end, at=now))
    return int(coupon_id)


async def birthdays_this_month(session: AsyncSession, now: datetime, settings: Settings) -> list[int]:
    month, _ = rules.local_month_year(now, settings.timezone)
    return list(await session.scalars(select(MemberBirthday.user_id).where(MemberBirthday.month == month)
                                      .order_by(MemberBirthday.user_id)))


@dataclass(frozen=True, slots=True)
class CouponChoice:
    """A coupon on the checkout's picker: ``refusal`` says why it cannot go on this purchase (None: it can);
    ``replaces`` names the seller-funded price (member_day / plus_price) a usable one would replace."""

    id: int
    kind: str
    value: int
    min_items_total: int
    valid_until: datetime
    refusal: str | None
    replaces: str | None = None
    replaced_coins: int = 0


async def coupon_choices(session: AsyncSession, buyer_id: int, *, list_items_total: int, points: int,
                         now: datetime, lower_price: tuple[str, int] | None = None) -> list[CouponChoice]:
    """The buyer's unused coupons for one purchase, usable ones first (docs/rules.md §15): the reasons come from
    :func:`rules.coupon_refusal`, exactly what the purchase would refuse. ``lower_price``: ``(kind, coins)`` of the
    member-day / PLUS discount the buyer would get without a coupon (a coupon is not combinable with it)."""
    coupons = await session.scalars(select(Coupon).where(Coupon.user_id == buyer_id, Coupon.used_at.is_(None))
                                    .order_by(Coupon.valid_until, Coupon.id))
    out = []
    for c in coupons:
        refusal = rules.coupon_refusal(min_items_total=c.min_items_total, valid_from=c.valid_from,
                                       valid_until=c.valid_until, used=False, items_total=list_items_total,
                                       points=points, now=now)
        kind, coins = lower_price if lower_price and refusal is None else (None, 0)
        out.append(CouponChoice(c.id, c.kind, c.value, c.min_items_total, c.valid_until, refusal, kind, coins))
    return sorted(out, key=lambda c: (c.refusal is not None, -c.value))


async def coupons_of(session: AsyncSession, user_id: int) -> list[Coupon]:
    return list(await session.scalars(select(Coupon).where(Coupon.user_id == user_id)
                                      .order_by(Coupon.valid_until.desc(), Coupon.id.desc())))


# --- badges (docs/rules.md §16) ----------------------------------------------------------------------------------


async def recompute_badges(session: AsyncSession, now: datetime, settings: Settings) -> dict[str, int]:
    """Bring every badge kind up to date set-based, with no per-user loop: per kind one ``DELETE`` of the badges no
    longer earned (an anti-join against the kind's query) and one ``INSERT … SELECT … ON CONFLICT`` of the new ones
    (a renamed medal updates its name). A daily re-run writes only what changed — not the whole table again, which
    at 1M users meant rewriting ~900,000 rows (docs/performance.md). Returns the badges held per kind."""
    since = now - timedelta(days=settings.level_window_days)
    selects: dict[str, Any] = dict(ports.purchases().badge_selects(since))
    selects["plus"] = select(PlusMembership.user_id, literal("plus:member"), literal("PLUS")).where(
        PlusMembership.until > now)
    counts: dict[str, int] = {}
    for kind, query in selects.items():
        want = query.subquery()
        user_id, code, name = list(want.c)[:3]
        await session.execute(delete(MemberBadge).where(
            MemberBadge.code.like(f"{kind}:%"),
            ~exists(select(literal(1)).select_from(want).where(user_id == MemberBadge.user_id,
                                                               code == MemberBadge.code))))
        # WHERE true: SQLite needs it to parse INSERT … SELECT … ON CONFLICT
        stmt = insert_into(session, MemberBadge).from_select(["user_id", "code", "name", "computed_at"], select(
            user_id, code, name, literal(now, UTCDateTime)).where(true()))
        await session.execute(stmt.on_conflict_do_update(
            index_elements=["user_id", "code"], set_={"name": stmt.excluded.name, "computed_at": now},
            where=MemberBadge.name != stmt.excluded.name))
        counts[kind] = int(await session.scalar(select(func.count()).select_from(MemberBadge).where(
            MemberBadge.code.like(f"{kind}:%"))) or 0)
    return counts


async def badges_of(session: AsyncSession, user_id: int) -> list[tuple[str, str]]:
    return [(c, n) for c, n in (await session.execute(
        select(MemberBadge.code, MemberBadge.name).where(MemberBadge.user_id == user_id)
        .order_by(MemberBadge.code))).tuples().all()]


async def badges_for(session: AsyncSession, user_ids: list[int]) -> dict[int, list[str]]:
    """Badge names per user, for the names beside usernames on listing pages."""
    out: dict[int, list[str]] = {uid: [] for uid in user_ids}
    if user_ids:
        for uid, name in (await session.execute(select(MemberBadge.user_id, MemberBadge.name).where(
                MemberBadge.user_id.in_(user_ids)).order_by(MemberBadge.code))).tuples().all():
            out[uid].append(name)
    return out


# --- growth score (docs/rules.md §16) -----------------------------------------------------------------------------


async def record_activity(session: AsyncSession, user_id: int, now: datetime) -> None:
    """Mark ``now``'s UTC day as an active day of the user (docs/rules.md §16: a login, a bid or a purchase), in
    the caller's transaction: one row per user and day, so recording twice is a no-op (ON CONFLICT DO NOTHING)."""
    await session.execute(insert_into(session, MemberActivityDay).values(user_id=user_id, day=now.date())
                          .on_conflict_do_nothing(index_elements=["user_id", "day"]))


async def record_activities(session: AsyncSession, visits: list[tuple[int, datetime]]) -> None:
    """:func:`record_activity` for many users at once (a batch of bids), in one statement."""
    rows = [{"user_id": user_id, "day": day} for user_id, day in sorted({(u, at.date()) for u, at in visits})]
    if not rows:
        return
    await session.execute(insert_into(session, MemberActivityDay).values(rows)
                          .on_conflict_do_nothing(index_elements=["user_id", "day"]))


async def active_days(session: AsyncSession, user_id: int, since: datetime, until: datetime) -> int:
    """Distinct active days in ``(since, until]`` (by UTC day)."""
    return int(await session.scalar(select(func.count()).select_from(MemberActivityDay).where(
        MemberActivityDay.user_id == user_id, MemberActivityDay.day > since.date(),
        MemberActivityDay.day <= until.date())) or 0)


async def growth(session: AsyncSession, user_id: int, now: datetime, settings: Settings) -> tuple[int, dict[str, int]]:
    """The growth score over the last ``level_window_days`` (365), computed from the orders' data and the recorded
    active days when asked (always current, so "recomputed daily and on completion" holds trivially;
    docs/decisions.md)."""
    since = now - timedelta(days=settings.level_window_days)
    inputs = await ports.purchases().growth_inputs(session, user_id, since, now)
    return rules.growth_score(spend=inputs.spend, active_days=await active_days(session, user_id, since, now),
                              feedback_given=inputs.feedback_given, feedback_photos=inputs.feedback_photos,
                              disputes_lost=inputs.disputes_lost)


# --- the member's view (API and page) ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberView:
    level: str
    effective_spend: int
    next_level: str | None
    next_level_spend: int | None  # the effective spend at which the next level starts (coins)
    progress_percent: int
    free_shipping_from: int  # coins of items total
    points: PointsSummary


async def member_view(session: AsyncSession, user_id: int, now: datetime, settings: Settings) -> MemberView:
    """Level from the live effective spend (the stored level catches up on the next completion or daily run)."""
    spend = await effective_spend(session, user_id, now, settings.level_window_days)
    level = rules.level_for(spend)
    upcoming = rules.next_level(level.code)
    return MemberView(
        level=level.code, effective_spend=spend, next_level=upcoming.code if upcoming else None,
        next_level_spend=upcoming.min_spend if upcoming else None,
        progress_percent=rules.progress_percent(spend, level.code),
        free_shipping_from=level.free_shipping_coins, points=await points_summary(session, user_id),
    )
