"""Event handlers: each turns a lower domain's event into notifications, inside the event's own transaction
(marketplace/events.py), so they exist exactly once whenever the event did. ``subscribe()`` is called by
marketplace/wiring.py."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import events
from marketplace.auctions import events as auction_events
from marketplace.db import after_commit
from marketplace.i18n import N_, Text
from marketplace.jobs import RUNTIME
from marketplace.membership import events as membership_events
from marketplace.notifications import rules
from marketplace.notifications.listings_port import Listing, ListingPublished, QuestionAnswered, QuestionAsked
from marketplace.notifications.services import Note, notify, notify_many
from marketplace.orders import events as order_events
from marketplace.shops import events as shop_events
from marketplace.wallet import events as wallet_events


async def _title(session: AsyncSession, listing_id: int) -> str:
    # The emitting service holds the row (identity map): no query on the bid path under the row lock.
    listing = await session.get(Listing, listing_id)
    return listing.title if listing is not None else f"listing {listing_id}"


def _outbid_title(title: str) -> Text:
    return Text(N_("You were outbid on %(title)s"), {"title": title})


def _outbid_body(price: int) -> Text:
    return Text(N_("The current price is %(price)s coins. Bid again to take back the lead."), {"price": price})


async def on_lead_lost(session: AsyncSession, e: auction_events.LeadLost) -> None:
    title = await _title(session, e.listing_id)
    await notify(session, e.user_id, "outbid", _outbid_title(title), body=_outbid_body(e.price),
                 url=f"/listings/{e.listing_id}")


async def on_leads_lost(session: AsyncSession, e: auction_events.LeadsLost) -> None:
    """The batched bid path's ``LeadLost`` events: the same notifications as :func:`on_lead_lost`, one
    statement per table."""
    notes = []
    for lost in e.lost:
        title = await _title(session, lost.listing_id)
        notes.append(Note(lost.user_id, "outbid", _outbid_title(title), body=_outbid_body(lost.price),
                          url=f"/listings/{lost.listing_id}"))
    await notify_many(session, notes)


_CLOSE_TEXT = {
    "won": (N_("You won %(title)s"), N_("You won the auction at %(price)s coins. The order is paid from your hold.")),
    "lost": (N_("Auction ended: %(title)s"), N_("The auction ended and you did not win it.")),
    "sold": (N_("Sold: %(title)s"), N_("Your auction sold for %(price)s coins. Ship the item from the order page.")),
    "unsold": (N_("Unsold: %(title)s"), N_("Your auction ended without a sale.")),
}


def _close_notes(e: auction_events.AuctionClosed, title: str) -> list[Note]:
    """What one close tells the seller, the winner and the other bidders (deduplicated per listing)."""
    notes = []
    for r in rules.close_recipients(e.seller_id, e.winner_id, e.bidder_ids, e.status):
        head, body = _CLOSE_TEXT[r.kind]
        url = f"/orders/{e.order_id}" if e.order_id and r.kind in ("won", "sold") else f"/listings/{e.listing_id}"
        notes.append(Note(r.user_id, r.kind, Text(head, {"title": title}), body=Text(body, {"price": e.price}),
                          url=url, dedupe_key=f"close:{e.listing_id}"))
    return notes


async def on_auction_closed(session: AsyncSession, e: auction_events.AuctionClosed) -> None:
    for note in _close_notes(e, await _title(session, e.listing_id)):
        await notify(session, note.user_id, note.kind, note.title, body=note.body, url=note.url,
                     dedupe_key=note.dedupe_key)


async def on_auctions_closed(session: AsyncSession, e: auction_events.AuctionsClosed) -> None:
    """The sweeper's batch of closes (``BidService.close_many``): the same notifications as one
    :func:`on_auction_closed` per close, in order, one statement per table (the titles come from the listing rows
    the closing transaction holds: no query)."""
    await notify_many(session, [note for closed in e.closed
                                for note in _close_notes(closed, await _title(session, closed.listing_id))])


async def on_listing_sold(session: AsyncSession, e: order_events.ListingSold) -> None:
    title = await _title(session, e.listing_id)
    head = (Text(N_("Sold: %(quantity)s × %(title)s"), {"quantity": e.quantity, "title": title}) if e.quantity > 1
            else Text(N_("Sold: %(title)s"), {"title": title}))
    await notify(session, e.seller_id, "sold", head,
                 body=Text(N_("A buyer paid %(total)s coins into escrow. Ship the item from the order page."),
                           {"total": e.total}),
                 url=f"/orders/{e.order_id}")


_ORDER_TEXT: dict[type, tuple[str, str]] = {
    order_events.OrderShipped: ("order_shipped", N_("Order #%(id)s shipped: %(title)s")),
    order_events.OrderCompleted: ("order_completed", N_("Order #%(id)s completed: %(title)s")),
    order_events.OrderCancelled: ("order_cancelled", N_("Order #%(id)s cancelled: %(title)s")),
    order_events.DisputeOpened: ("dispute_opened", N_("Dispute opened on order #%(id)s: %(title)s")),
    order_events.DisputeResolved: ("dispute_resolved", N_("Dispute resolved on order #%(id)s: %(title)s")),
}


async def on_order_transition(session: AsyncSession, e: order_events.OrderTransition) -> None:
    kind, head = _ORDER_TEXT[type(e)]
    title = await _title(session, e.listing_id)
    body: str = ""
    if isinstance(e, order_events.DisputeResolved):
        body = Text(N_("The coins went to the seller.") if e.outcome == "release" else N_("The buyer was refunded."),
                    {})
    for uid in rules.other_parties(e.buyer_id, e.seller_id, e.actor_id):
        await notify(session, uid, kind, Text(head, {"id": e.order_id, "title": title}), body=body,
                     url=f"/orders/{e.order_id}")


_FEEDBACK_TEXT = {
    "positive": N_("New positive feedback on order #%(order)s"),
    "neutral": N_("New neutral feedback on order #%(order)s"),
    "negative": N_("New negative feedback on order #%(order)s"),
}


async def on_feedback(session: AsyncSession, e: order_events.FeedbackReceived) -> None:
    msgid = _FEEDBACK_TEXT.get(e.rating, N_("New %(rating)s feedback on order #%(order)s"))
    await notify(session, e.to_user_id, "feedback_received", Text(msgid, {"rating": e.rating, "order": e.order_id}),
                 url=f"/orders/{e.order_id}")


async def on_topup_paid(session: AsyncSession, e: wallet_events.TopUpPaid) -> None:
    await notify(session, e.user_id, "topup_paid",
                 Text(N_("Top-up credited: %(coins)s coins"), {"coins": e.coins}), url="/wallet",
                 dedupe_key=f"topup:{e.topup_id}")


def _level(level: str) -> str:
    # J1…J5 read the same in every language; the level below them has a name.
    return Text(N_("registered"), {}) if level == "registered" else level


async def on_level_changed(session: AsyncSession, e: membership_events.LevelChanged) -> None:
    await notify(session, e.user_id, "level_changed",
                 Text(N_("Your level is now %(new)s (was %(old)s)"),
                      {"new": _level(e.new_level), "old": _level(e.old_level)}),
                 url="/me/membership", dedupe_key=f"level:{e.user_id}:{e.at.isoformat()}")


async def on_points_unfrozen(session: AsyncSession, e: membership_events.PointsUnfrozen) -> None:
    await notify(session, e.user_id, "points_unfrozen",
                 Text(N_("%(points)s points are now available"), {"points": e.points}),
                 url="/me/membership", dedupe_key=f"unfrozen:{e.user_id}:{e.order_id}:{e.at.isoformat()}")


async def on_coupon_issued(session: AsyncSession, e: membership_events.CouponIssued) -> None:
    await notify(session, e.user_id, "coupon_issued",
                 Text(N_("A birthday coupon of %(value)s coins is waiting (until %(until)s)") if e.kind == "birthday"
                      else N_("A %(kind)s coupon of %(value)s coins is waiting (until %(until)s)"),
                      {"kind": e.kind, "value": e.value, "until": f"{e.valid_until:%Y-%m-%d}"}),
                 url="/me/membership", dedupe_key=f"coupon:{e.coupon_id}")


async def on_shop_event(session: AsyncSession, e: shop_events.ShopEvent) -> None:
    if isinstance(e, shop_events.ShopRenewed):
        kind, title, body = ("shop_renewed", Text(N_("Your shop was renewed"), {}),
                             Text(N_("Plan %(plan)s: %(price)s coins charged."), {"plan": e.plan, "price": e.price}))
    elif isinstance(e, shop_events.ShopRenewalFailed):
        kind, title, body = ("shop_renewal_failed", Text(N_("Your shop could not be renewed"), {}),
                             Text(N_("Not enough coins: the shop is in its grace period. Top up and renew it."), {}))
    else:
        kind, title, body = ("shop_suspended", Text(N_("Your shop is suspended"), {}),
                             Text(N_("Its listings are hidden until you renew it."), {}))
    await notify(session, e.owner_id, kind, title, body=body, url="/shop/manage")


async def on_listing_published(session: AsyncSession, e: ListingPublished) -> None:
    """Saved searches are matched by a job; ask for a run now instead of waiting for the next period."""

    async def enqueue() -> None:
        from marketplace.notifications.tasks import MATCH_JOB

        await RUNTIME.enqueue(MATCH_JOB, job_id="saved-search-match")

    after_commit(session, enqueue)


async def on_second_chance(session: AsyncSession, e: auction_events.SecondChanceOffered) -> None:
    title = await _title(session, e.listing_id)
    await notify(session, e.buyer_id, "second_chance_offer", Text(N_("Second chance: %(title)s"), {"title": title}),
                 body=Text(N_("The winner did not pay. Buy it at your maximum bid, %(price)s coins, within 48 hours."),
                           {"price": e.price}),
                 url="/my/bids")


async def on_question_asked(session: AsyncSession, e: QuestionAsked) -> None:
    title = await _title(session, e.listing_id)
    await notify(session, e.seller_id, "question_asked", Text(N_("New question on %(title)s"), {"title": title}),
                 body=Text(N_("A buyer asked a question. Answer it on the listing page."), {}),
                 url=f"/listings/{e.listing_id}#question-{e.question_id}", dedupe_key=f"question:{e.question_id}")


async def on_question_answered(session: AsyncSession, e: QuestionAnswered) -> None:
    title = await _title(session, e.listing_id)
    await notify(session, e.asker_id, "question_answered",
                 Text(N_("The seller answered your question on %(title)s"), {"title": title}),
                 url=f"/listings/{e.listing_id}#question-{e.question_id}", dedupe_key=f"answer:{e.question_id}")


_MESSAGE_BODY = {
    "buyer": N_("The buyer wrote on the order."),
    "seller": N_("The seller wrote on the order."),
    "admin": N_("An administrator wrote on the order."),
}


async def on_order_message(session: AsyncSession, e: order_events.OrderMessagePosted) -> None:
    body = Text(_MESSAGE_BODY.get(e.sender_role, N_("Someone wrote on the order.")), {})
    for uid in e.recipient_ids:
        await notify(session, uid, "order_message", Text(N_("New message on order #%(order)s"), {"order": e.order_id}),
                     body=body, url=f"/orders/{e.order_id}#message-{e.message_id}",
                     dedupe_key=f"order-message:{e.message_id}")


def subscribe() -> None:
    events.subscribe(QuestionAsked, on_question_asked)
    events.subscribe(QuestionAnswered, on_question_answered)
    events.subscribe(order_events.OrderMessagePosted, on_order_message)
    events.subscribe(auction_events.SecondChanceOffered, on_second_chance)
    events.subscribe(auction_events.LeadLost, on_lead_lost)
    events.subscribe(auction_events.LeadsLost, on_leads_lost)
    events.subscribe(auction_events.AuctionClosed, on_auction_closed)
    events.subscribe(auction_events.AuctionsClosed, on_auctions_closed)
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
