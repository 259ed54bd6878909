"""After a non-paying winner (docs/rules.md §19.2): the seller offers the item to the runner-up at their maximum
(48 hours to accept) or relists it in one click. The auctions package owns this: it knows the bids."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import events
from marketplace.auctions import events as auction_events
from marketplace.auctions.models import Bid, SecondChanceOffer
from marketplace.auctions.scheduling import schedule_close
from marketplace.auctions.services import shipping_snapshot
from marketplace.db import after_commit
from marketplace.errors import Conflict, NotFound, PermissionDenied
from marketplace.jobs import JobQueue
from marketplace.listings.models import Listing, ListingImage
from marketplace.orders.models import Order, Strike
from marketplace.orders.services import open_order

OFFER_HOURS = 48


class OfferNotFound(NotFound):
    default_detail = "Second-chance offer not found."


async def _cancelled_win(session: AsyncSession, order_id: int, seller_id: int) -> Order:
    """The seller's auction order that its winner cancelled (a buyer strike was recorded)."""
    order = await session.get(Order, order_id)
    if order is None or order.seller_id != seller_id:
        raise NotFound("Order not found.")
    if order.source != "auction" or order.status != "cancelled":
        raise Conflict("Only an auction its winner cancelled can be offered again or relisted.")
    struck = await session.scalar(select(Strike.id).where(Strike.order_id == order.id, Strike.role == "buyer"))
    if struck is None:
        raise Conflict("Only an auction its winner cancelled can be offered again or relisted.")
    return order


async def runner_up(session: AsyncSession, listing_id: int, winner_id: int) -> tuple[int, int] | None:
    """(bidder, maximum) of the highest maximum by anyone but the winner; earliest bid first on a tie."""
    row = (await session.execute(
        select(Bid.bidder_id, func.max(Bid.max_amount).label("m"), func.min(Bid.id).label("first"))
        .where(Bid.listing_id == listing_id, Bid.bidder_id != winner_id)
        .group_by(Bid.bidder_id).order_by(func.max(Bid.max_amount).desc(), func.min(Bid.id)).limit(1)
    )).first()
    return (int(row[0]), int(row[1])) if row else None


async def offer(session: AsyncSession, order_id: int, seller_id: int, now: datetime) -> SecondChanceOffer:
    order = await _cancelled_win(session, order_id, seller_id)
    if await session.scalar(select(SecondChanceOffer.id).where(SecondChanceOffer.cancelled_order_id == order.id)):
        raise Conflict("A second-chance offer was already made for this order.")
    relisted = await session.scalar(select(Listing.id).where(Listing.relisted_from_id == order.listing_id))
    if relisted is not None:
        raise Conflict("The item was relisted already.")
    found = await runner_up(session, order.listing_id, order.buyer_id)
    if found is None:
        raise Conflict("Nobody else bid on this auction: relist it instead.")
    buyer_id, price = found
    sco = SecondChanceOffer(listing_id=order.listing_id, cancelled_order_id=order.id, buyer_id=buyer_id,
                            price=price, status="offered", expires_at=now + timedelta(hours=OFFER_HOURS),
                            created_at=now)
    session.add(sco)
    await session.flush()
    await events.emit(session, auction_events.SecondChanceOffered(sco.id, sco.listing_id, buyer_id, price))
    return sco


async def _lock_offer(session: AsyncSession, offer_id: int, user_id: int) -> SecondChanceOffer:
    sco = await session.scalar(select(SecondChanceOffer).where(SecondChanceOffer.id == offer_id)
                               .with_for_update().execution_options(populate_existing=True))
    if sco is None or sco.buyer_id != user_id:
        raise OfferNotFound()
    if sco.status != "offered":
        raise Conflict("This offer was %(status)s.", status=sco.status)
    return sco


async def accept(session: AsyncSession, offer_id: int, user_id: int, now: datetime,
                 address_id: object = None) -> Order:
    """The runner-up buys at their maximum from available coins (402 when short: nothing changes)."""
    sco = await _lock_offer(session, offer_id, user_id)
    if now >= sco.expires_at:
        sco.status = "expired"
        await session.flush()
        raise Conflict("This offer has expired.")
    listing = await session.scalar(select(Listing).where(Listing.id == sco.listing_id).with_for_update()
                                   .execution_options(populate_existing=True))
    assert listing is not None
    order = await open_order(session, listing=listing, buyer_id=user_id, quantity=1, unit_price=sco.price,
                             pay_from="available", source="second_chance",
                             shipping_address=await shipping_snapshot(session, user_id, address_id))
    sco.status, sco.order_id = "accepted", order.id
    listing.leader_id, listing.current_price = user_id, sco.price
    listing.version += 1
    await session.flush()
    return order


async def decline(session: AsyncSession, offer_id: int, user_id: int) -> SecondChanceOffer:
    sco = await _lock_offer(session, offer_id, user_id)
    sco.status = "declined"
    await session.flush()
    return sco


async def pending_for(session: AsyncSession, user_id: int, now: datetime) -> list[tuple[SecondChanceOffer, str]]:
    rows = (await session.execute(
        select(SecondChanceOffer, Listing.title).join(Listing, Listing.id == SecondChanceOffer.listing_id)
        .where(SecondChanceOffer.buyer_id == user_id, SecondChanceOffer.status == "offered",
               SecondChanceOffer.expires_at > now).order_by(SecondChanceOffer.id))).all()
    return [(o, t) for o, t in rows]


async def offer_for_order(session: AsyncSession, order_id: int) -> SecondChanceOffer | None:
    found: SecondChanceOffer | None = await session.scalar(
        select(SecondChanceOffer).where(SecondChanceOffer.cancelled_order_id == order_id))
    return found


async def relist(session: AsyncSession, order_id: int, seller_id: int, now: datetime,
                 jobs: JobQueue | None = None) -> Listing:
    """A fresh auction with the same item, prices and photos; no insertion fee (docs/rules.md §19.2)."""
    order = await _cancelled_win(session, order_id, seller_id)
    old = await session.get(Listing, order.listing_id)
    assert old is not None
    if await session.scalar(select(Listing.id).where(Listing.relisted_from_id == old.id)) is not None:
        raise Conflict("The item was relisted already.")
    sco = await offer_for_order(session, order.id)
    if sco is not None and sco.status in ("offered", "accepted"):
        raise PermissionDenied("A second-chance offer is open or was accepted.")
    duration = old.duration_seconds or 7 * 86400
    new = Listing(seller_id=old.seller_id, shop_id=old.shop_id, category_id=old.category_id, title=old.title,
                  description=old.description, mode="auction", status="active", created_at=now,
                  start_price=old.start_price, current_price=old.start_price or 1, reserve_price=old.reserve_price,
                  buy_now_price=old.buy_now_price, duration_seconds=duration, auto_extend=old.auto_extend,
                  ends_at=now + timedelta(seconds=duration), quantity=1, quantity_available=1,
                  shipping_fee=old.shipping_fee, insertion_fee=0, free_listing=True, relisted_from_id=old.id)
    session.add(new)
    await session.flush()
    for img in await session.scalars(select(ListingImage).where(ListingImage.listing_id == old.id)):
        session.add(ListingImage(listing_id=new.id, position=img.position, storage_key=img.storage_key,
                                 thumb_key=img.thumb_key, width=img.width, height=img.height,
                                 content_type=img.content_type, created_at=now))
    await session.flush()
    if jobs is not None:
        new_id, ends_at = new.id, new.ends_at

        async def enqueue() -> None:
            await schedule_close(jobs, new_id, ends_at)

        after_commit(session, enqueue)
    return new


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """Every open offer past its 48 hours becomes ``expired`` (docs/rules.md §19.2); the number expired. Nothing
    was held for an offer (accepting pays from available coins), so nothing moves. A concurrent accept holds the
    row lock and re-checks the status, so an offer is accepted or expired, never both."""
    result = await session.execute(
        update(SecondChanceOffer).where(SecondChanceOffer.status == "offered", SecondChanceOffer.expires_at <= now)
        .values(status="expired").execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
