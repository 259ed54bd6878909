"""Notification jobs (marketplace/jobs.py): e-mail delivery with retries, ``ending_soon``, saved-search matches.

* ``send_email`` is enqueued after the commit that wrote the outbox row; ``retry_emails`` (every 30 s) sends
  whatever is still pending and due (a lost job, a failed attempt's back-off, a worker restart).
* ``ending_soon_sweep`` (every 20 s) notifies watchers and bidders of every active auction whose
  ``ends_at - MARKETPLACE_ENDING_SOON_SECONDS`` has passed: at most ~20 s late, and exactly once per listing
  and user because the notification's ``dedupe_key`` is unique (an extension or a second sweep inserts nothing).
* ``match_saved_searches`` (every 30 s, and enqueued when a listing is published) counts the new listings that
  match each saved search and notifies at most once per hour per saved search.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.auctions.models import Bid
from marketplace.i18n import N_, Text
from marketplace.jobs import JobContext, job, periodic
from marketplace.notifications import rules
from marketplace.notifications.listings_port import Listing, category_and_descendants, text_condition
from marketplace.notifications.mail import send_outbox_row
from marketplace.notifications.models import EmailOutbox, Notification, SavedSearch, WatchlistItem
from marketplace.notifications.services import notify, query_of

log = logging.getLogger(__name__)

BATCH = 200
MATCH_JOB = "match_saved_searches_now"


# --- e-mail ------------------------------------------------------------------------------------------------------


@job
async def send_email(ctx: JobContext, outbox_id: int) -> str:
    return await send_outbox_row(ctx.session_factory, ctx.settings, outbox_id, ctx.now())


@periodic(every=timedelta(seconds=30), run_at_startup=False)
async def retry_emails(ctx: JobContext) -> int:
    now = ctx.now()
    async with ctx.session_factory() as session:
        ids = list(await session.scalars(
            select(EmailOutbox.id).where(EmailOutbox.status == "pending", EmailOutbox.next_attempt_at <= now)
            .order_by(EmailOutbox.id).limit(BATCH)))
    sent = 0
    for outbox_id in ids:
        sent += await send_outbox_row(ctx.session_factory, ctx.settings, outbox_id, now) in ("sent", "logged")
    return sent


# --- ending soon -------------------------------------------------------------------------------------------------


async def notify_ending_soon(session: AsyncSession, listing: Listing, now: datetime) -> int:
    """Tell every watcher and bidder of one auction who has not heard yet (the dedupe key decides)."""
    key = f"ending_soon:{listing.id}"
    people = union(
        select(WatchlistItem.user_id.label("uid")).where(WatchlistItem.listing_id == listing.id),
        select(Bid.bidder_id.label("uid")).where(Bid.listing_id == listing.id),
    ).subquery()
    told = select(Notification.user_id).where(Notification.dedupe_key == key)
    user_ids = list(await session.scalars(
        select(people.c.uid).where(people.c.uid != listing.seller_id, people.c.uid.not_in(told))
        .order_by(people.c.uid)))
    created = 0
    for uid in user_ids:
        ends = listing.ends_at.strftime("%Y-%m-%d %H:%M UTC") if listing.ends_at else ""
        nid = await notify(session, uid, "ending_soon", Text(N_("Ending soon: %(title)s"), {"title": listing.title}),
                           body=Text(N_("The auction ends at %(ends)s; the current price is %(price)s coins."),
                                     {"ends": ends, "price": listing.current_price}),
                           url=f"/listings/{listing.id}", dedupe_key=key, now=now)
        created += nid is not None
    return created


@periodic(every=timedelta(seconds=20))
async def ending_soon_sweep(ctx: JobContext) -> int:
    now = ctx.now()
    lead = timedelta(seconds=ctx.settings.ending_soon_seconds)
    async with ctx.session_factory() as session:
        ids = list(await session.scalars(
            select(Listing.id).where(Listing.mode == "auction", Listing.status == "active", Listing.ends_at > now,
                                     Listing.ends_at <= now + lead)
            .order_by(Listing.ends_at).limit(BATCH)))
    created = 0
    for listing_id in ids:
        try:
            async with ctx.session_factory() as session, session.begin():
                listing = await session.get(Listing, listing_id)
                if listing is None or listing.status != "active" or listing.ends_at is None:
                    continue
                if rules.ending_soon_due(listing.ends_at, now, lead):
                    created += await notify_ending_soon(session, listing, now)
        except Exception:  # one listing must not stop the others; the next sweep retries it
            log.exception("ending-soon notifications for listing %s failed", listing_id)
    return created


# --- saved searches ----------------------------------------------------------------------------------------------


async def _conditions(session: AsyncSession, search: SavedSearch, upto: int) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [
        Listing.id > search.last_listing_id, Listing.id <= upto, Listing.status == "active",
        Listing.seller_id != search.user_id,
    ]
    if search.mode:
        conds.append(Listing.mode == search.mode)
    if search.max_price is not None:
        conds.append(Listing.current_price <= search.max_price)
    if search.category_id is not None:
        conds.append(Listing.category_id.in_(await category_and_descendants(session, search.category_id)))
    text = text_condition(session, search.q)
    if text is not None:
        conds.append(text)
    return conds


async def match_one(session: AsyncSession, search_id: int, now: datetime) -> bool:
    """Count the new matches of one saved search (row locked; another matcher holding it wins) and notify if the
    hourly limit allows. True when a notification was created."""
    search = await session.scalar(select(SavedSearch).where(SavedSearch.id == search_id)
                                  .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    if search is None:
        return False
    upto = int(await session.scalar(select(func.coalesce(func.max(Listing.id), 0))) or 0)
    if upto > search.last_listing_id:
        count = int(await session.scalar(select(func.count()).select_from(Listing)
                                         .where(*await _conditions(session, search, upto))) or 0)
        search.pending += count
        search.last_listing_id = upto
    if search.pending <= 0 or not rules.saved_search_may_notify(search.last_notified_at, now):
        return False
    query = query_of(search)
    await notify(session, search.user_id, "saved_search", rules.saved_search_title(query, search.pending),
                 body=Text(N_("New listings match your saved search %(search)s."),
                           {"search": rules.describe_search(query)}),
                 url=rules.search_url(query), now=now)
    search.pending = 0
    search.last_notified_at = now
    return True


async def match_saved_searches_once(ctx: JobContext) -> int:
    now = ctx.now()
    async with ctx.session_factory() as session:
        upto = int(await session.scalar(select(func.coalesce(func.max(Listing.id), 0))) or 0)
        ids = list(await session.scalars(
            select(SavedSearch.id).where((SavedSearch.last_listing_id < upto) | (SavedSearch.pending > 0))
            .order_by(SavedSearch.id)))
    notified = 0
    for search_id in ids:
        try:
            async with ctx.session_factory() as session, session.begin():
                notified += await match_one(session, search_id, now)
        except Exception:
            log.exception("saved search %s could not be matched", search_id)
    return notified


@periodic(every=timedelta(seconds=30))
async def match_saved_searches(ctx: JobContext) -> int:
    return await match_saved_searches_once(ctx)


@job
async def match_saved_searches_now(ctx: JobContext) -> int:
    return await match_saved_searches_once(ctx)
