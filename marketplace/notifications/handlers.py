"""Event handlers: each turns a lower domain's event into notifications, inside the event's own transaction
(marketplace/events.py), so they exist exactly once whenever the event did. ``subscribe()`` is called by
marketplace/wiring.py."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import events
from marketplace.auctions import events as auction_events
from marketplace.db import after_commit
from marketplace.jobs import RUNTIME
from marketplace.membership import events as membership_events
from marketplace.notifications import rules
from marketplace.notifications.listings_port import Listing, ListingPublished, QuestionAnswered, QuestionAsked
from marketplace.notifications.services import notify
from marketplace.orders import events as order_events
from marketplace.shops import events as shop_events
from marketplace.wallet import events as wallet_events


async def _title(session: AsyncSession, listing_id: int) -> str:
    # The emitting service holds the row (identity map): no query on the bid path under the row lock.
    listing = await session.get(Listing, listing_id)
    return listing.title if listing is not None else f"listing {listing_id}"


async def on_lead_lost(session: AsyncSession, e: auction_events.LeadLost) -> None:
    title = await _title(session, e.listing_id)
    await notify(session, e.user_id, "outbid", f"You were outbid on {title}",
                 body=f"The current price is {e.price} coins. Bid again to take back the lead.",
                 url=f"/listings/{e.listing_id}")


_CLOSE_TEXT = {
    "won": ("You won {title}", "You won the auction at {price} coins. The order is paid from your hold."),
    "lost": ("Auction ended: {title}", "The auction ended and you did not win it."),
    "sold": ("Sold: {title}", "Your auction sold for {price} coins. Ship the item from the order page."),
    "unsold": ("Unsold: {title}", "Your auction ended without a sale."),
}


async def on_auction_closed(session: AsyncSession, e: auction_events.AuctionClosed) -> None:
    title = await _title(session, e.listing_id)
    for r in rules.close_recipients(e.seller_id, e.winner_id, e.bidder_ids, e.status):
        head, body = _CLOSE_TEXT[r.kind]
        url = f"/orders/{e.order_id}" if e.order_id and r.kind in ("won", "sold") else f"/listings/{e.listing_id}"
        await notify(session, r.user_id, r.kind, head.format(title=title), body=body.format(price=e.price),
                     url=url, dedupe_key=f"close:{e.listing_id}")


async def on_listing_sold(session: AsyncSession, e: order_events.ListingSold) -> None:
    title = await _title(session, e.listing_id)
    units = f"{e.quantity} × " if e.quantity > 1 else ""
    await notify(session, e.seller_id, "sold", f"Sold: {units}{title}",
                 body=f"A buyer paid {e.total} coins into escrow. Ship the item from the order page.",
                 url=f"/orders/{e.order_id}")


_ORDER_TEXT: dict[type, tuple[str, str]] = {
    order_events.OrderShipped: ("order_shipped", "Order #{id} shipped: {title}"),
    order_events.OrderCompleted: ("order_completed", "Order #{id} completed: {title}"),
    order_events.OrderCancelled: ("order_cancelled", "Order #{id} cancelled: {title}"),
    order_events.DisputeOpened: ("dispute_opened", "Dispute opened on order #{id}: {title}"),
    order_events.DisputeResolved: ("dispute_resolved", "Dispute resolved on order #{id}: {title}"),
}


async def on_order_transition(session: AsyncSession, e: order_events.OrderTransition) -> None:
    kind, head = _ORDER_TEXT[type(e)]
    title = await _title(session, e.listing_id)
    body = ""
    if isinstance(e, order_events.DisputeResolved):
        body = "The coins went to the seller." if e.outcome == "release" else "The buyer was refunded."
    for uid in rules.other_parties(e.buyer_id, e.seller_id, e.actor_id):
        await notify(session, uid, kind, head.format(id=e.order_id, title=title), body=body,
                     url=f"/orders/{e.order_id}")


async def on_feedback(session: AsyncSession, e: order_events.FeedbackReceived) -> None:
    await notify(session, e.to_user_id, "feedback_received", f"New {e.rating} feedback on order #{e.order_id}",
                 url=f"/orders/{e.order_id}")


async def on_topup_paid(session: AsyncSession, e: wallet_events.TopUpPaid) -> None:
    await notify(session, e.user_id, "topup_paid", f"Top-up credited: {e.coins} coins", url="/wallet",
                 dedupe_key=f"topup:{e.topup_id}")


async def on_level_changed(session: AsyncSession, e: membership_events.LevelChanged) -> None:
    await notify(session, e.user_id, "level_changed", f"Your level is now {e.new_level} (was {e.old_level})",
                 url="/me/membership", dedupe_key=f"level:{e.user_id}:{e.at.isoformat()}")


async def on_points_unfrozen(session: AsyncSession, e: membership_events.PointsUnfrozen) -> None:
    await notify(session, e.user_id, "points_unfrozen", f"{e.points} points are now available",
                 url="/me/membership", dedupe_key=f"unfrozen:{e.user_id}:{e.order_id}:{e.at.isoformat()}")


async def on_coupon_issued(session: AsyncSession, e: membership_events.CouponIssued) -> None:
    await notify(session, e.user_id, "coupon_issued",
                 f"A {e.kind} coupon of {e.value} coins is waiting (until {e.valid_until:%Y-%m-%d})",
                 url="/me/membership", dedupe_key=f"coupon:{e.coupon_id}")


async def on_shop_event(session: AsyncSession, e: shop_events.ShopEvent) -> None:
    if isinstance(e, shop_events.ShopRenewed):
        kind, title, body = "shop_renewed", "Your shop was renewed", f"Plan {e.plan}: {e.price} coins charged."
    elif isinstance(e, shop_events.ShopRenewalFailed):
        kind, title, body = ("shop_renewal_failed", "Your shop could not be renewed",
                             "Not enough coins: the shop is in its grace period. Top up and renew it.")
    else:
        kind, title, body = ("shop_suspended", "Your shop is suspended",
                             "Its listings are hidden until you renew it.")
    await notify(session, e.owner_id, kind, title, body=body, url="/shop/manage")


async def on_listing_published(session: AsyncSession, e: ListingPublished) -> None:
    """Saved searches are matched by a job; ask for a run now instead of waiting for the next period."""

    async def enqueue() -> None:
        from marketplace.notifications.tasks import MATCH_JOB

        await RUNTIME.enqueue(MATCH_JOB, job_id="saved-search-match")

    after_commit(session, enqueue)


async def on_second_chance(session: AsyncSession, e: auction_events.SecondChanceOffered) -> None:
    title = await _title(session, e.listing_id)
    await notify(session, e.buyer_id, "second_chance_offer", f"Second chance: {title}",
                 body=f"The winner did not pay. Buy it at your maximum bid, {e.price} coins, within 48 hours.",
                 url="/my/bids")


async def on_question_asked(session: AsyncSession, e: QuestionAsked) -> None:
    title = await _title(session, e.listing_id)
    await notify(session, e.seller_id, "question_asked", f"New question on {title}",
                 body="A buyer asked a question. Answer it on the listing page.",
                 url=f"/listings/{e.listing_id}#question-{e.question_id}", dedupe_key=f"question:{e.question_id}")


async def on_question_answered(session: AsyncSession, e: QuestionAnswered) -> None:
    title = await _title(session, e.listing_id)
    await notify(session, e.asker_id, "question_answered", f"The seller answered your question on {title}",
                 url=f"/listings/{e.listing_id}#question-{e.question_id}", dedupe_key=f"answer:{e.question_id}")


async def on_order_message(session: AsyncSession, e: order_events.OrderMessagePosted) -> None:
    who = {"buyer": "The buyer", "seller": "The seller", "admin": "An administrator"}.get(e.sender_role, "Someone")
    for uid in e.recipient_ids:
        await notify(session, uid, "order_message", f"New message on order #{e.order_id}",
                     body=f"{who} wrote on the order.", url=f"/orders/{e.order_id}#message-{e.message_id}",
                     dedupe_key=f"order-message:{e.message_id}")


def subscribe() -> None:
    events.subscribe(QuestionAsked, on_question_asked)
    events.subscribe(QuestionAnswered, on_question_answered)
    events.subscribe(order_events.OrderMessagePosted, on_order_message)
    events.subscribe(auction_events.SecondChanceOffered, on_second_chance)
    events.subscribe(auction_events.LeadLost, on_lead_lost)
    events.subscribe(auction_events.AuctionClosed, on_auction_closed)
    events.subscribe(order_events.ListingSold, on_listing_sold)
    for kind in _ORDER_TEXT:
        events.subscribe(kind, on_order_transition)
    events.subscribe(order_events.FeedbackReceived, on_feedback)
    events.subscribe(wallet_events.TopUpPaid, on_topup_paid)
    for shop_kind in (shop_events.ShopRenewed, shop_events.ShopRenewalFailed, shop_events.ShopSuspended):
        events.subscribe(shop_kind, on_shop_event)
    events.subscribe(ListingPublished, on_listing_published)
    events.subscribe(membership_events.LevelChanged, on_level_changed)
    events.subscribe(membership_events.PointsUnfrozen, on_points_unfrozen)
    events.subscribe(membership_events.CouponIssued, on_coupon_issued)
