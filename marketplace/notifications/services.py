"""Notification use cases. Services flush, never commit (the caller's transaction decides).

:func:`notify` is the one way a notification is created: it runs inside the transaction of the event that
causes it (an event handler, the ending-soon sweep, the saved-search matcher), so the notification exists exactly
once whenever its event did. A ``dedupe_key`` (unique per user) makes "once per listing and user" provable even
if two sweeps race. What must wait for the commit — the live push on ``user:{id}`` and the e-mail job — is
registered with ``after_commit``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import i18n
from marketplace.accounts.models import User
from marketplace.db import after_commit, insert_into, iso, utcnow
from marketplace.i18n import _
from marketplace.jobs import RUNTIME
from marketplace.notifications import rules
from marketplace.notifications.exceptions import (
    InvalidNotificationInput,
    ListingNotFound,
    NotificationNotFound,
    SavedSearchNotFound,
    TooManySavedSearches,
    WatchlistFull,
)
from marketplace.notifications.listings_port import Category, Listing
from marketplace.notifications.models import (
    EmailOutbox,
    Notification,
    NotificationSetting,
    SavedSearch,
    WatchlistItem,
)

log = logging.getLogger(__name__)

SEND_EMAIL_JOB = "send_email"


def user_channel(user_id: int) -> str:
    return f"user:{user_id}"


async def unread_count(session: AsyncSession, user_id: int) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))) or 0)


class UnreadInbox:
    """The header bell's unread count (the :class:`web.pages.Inbox` port, installed by the composition root)."""

    async def unread_count(self, db: AsyncSession, user_id: int) -> int:
        return await unread_count(db, user_id)


def _params(title: str, body: str) -> dict[str, Any] | None:
    params = {field: spec for field, spec in (("title", rules.message_spec(title)), ("body", rules.message_spec(body)))
              if spec is not None}
    return params or None


def _live_message(notification_id: int, kind: str, title: str, url: str, unread: int,
                  params: dict[str, Any] | None, language: str | None) -> dict[str, Any]:
    """The ``user:{id}`` message: ``title`` the English text (docs/api.md), ``message`` the title in the
    recipient's language — not the language of whoever caused it."""
    with i18n.use_locale(language or i18n.DEFAULT_LOCALE):
        message = rules.shown(params, "title", title)
    return {"type": "notification", "id": notification_id, "kind": kind, "title": str(title), "message": message,
            "url": url, "unread": unread}


async def notify(session: AsyncSession, user_id: int, kind: str, title: str, *, body: str = "", url: str = "",
                 dedupe_key: str | None = None, now: datetime | None = None) -> int | None:
    """Create one notification in the caller's transaction; None when ``dedupe_key`` was already used.

    ``title`` and ``body`` are best an :class:`i18n.Text` (a message id with values): the English text is stored
    as ``title``/``body`` and the message id with its values as ``params``, translated for each reader.

    After commit: the live message on ``user:{id}`` and, if the user wants this kind by e-mail, the e-mail job
    (its outbox row is written here, in the same transaction)."""
    assert kind in rules.KINDS, kind
    now = now or utcnow()
    params = _params(title, body)
    stmt = insert_into(session, Notification).values(
        user_id=user_id, kind=kind, title=str(title)[:200], body=str(body), params=params, url=url[:500],
        dedupe_key=dedupe_key, created_at=now,
    ).on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"]).returning(Notification.id)
    notification_id = await session.scalar(stmt)
    if notification_id is None:
        return None
    # One query for the address, the user's choice for this kind (no row = on) and their language.
    row = (await session.execute(
        select(User.email, NotificationSetting.email, User.language)
        .outerjoin(NotificationSetting, (NotificationSetting.user_id == User.id) & (NotificationSetting.kind == kind))
        .where(User.id == user_id))).one_or_none()
    language = row[2] if row is not None else None
    outbox_id = None
    if row is not None and row[0] and row[1] is not False:
        outbox_id = await _queue_email(session, str(row[0]), language, title, body, params, url,
                                       notification_id, now)
    unread = await unread_count(session, user_id)
    message = _live_message(int(notification_id), kind, title, url, unread, params, language)
    channel = user_channel(user_id)

    async def announce() -> None:
        await RUNTIME.publish(channel, message)
        if outbox_id is not None:
            await RUNTIME.enqueue(SEND_EMAIL_JOB, outbox_id, job_id=f"email:{outbox_id}")

    after_commit(session, announce)
    return int(notification_id)


@dataclass(frozen=True, slots=True)
class Note:
    """One notification for :func:`notify_many`."""

    user_id: int
    kind: str
    title: str
    body: str = ""
    url: str = ""
    dedupe_key: str | None = None


async def notify_many(session: AsyncSession, notes: Sequence[Note], now: datetime | None = None) -> list[int]:
    """:func:`notify` for several notifications, in order, with one statement per table: the same rows, the same
    e-mail outbox rows and the same live messages (each ``unread`` as it was right after its own insert) as one
    ``notify`` call per note. The ids of the notifications created.

    ``dedupe_key``: on all the notes or on none. With keys, a note whose (user, key) is already recorded — or
    repeated earlier in ``notes`` — creates nothing, as ``notify`` returns None for it (one INSERT … ON CONFLICT
    DO NOTHING RETURNING for all)."""
    if not notes:
        return []
    now = now or utcnow()
    for note in notes:
        assert note.kind in rules.KINDS, note.kind
    keyed = {note.dedupe_key is not None for note in notes}
    if len(keyed) != 1:
        raise ValueError("notify_many: a dedupe key on every note or on none")
    params = [_params(n.title, n.body) for n in notes]
    values = [{"user_id": n.user_id, "kind": n.kind, "title": str(n.title)[:200], "body": str(n.body),
               "params": p, "url": n.url[:500], "dedupe_key": n.dedupe_key, "created_at": now}
              for n, p in zip(notes, params, strict=True)]
    table = Notification.__table__
    if keyed == {True}:
        # An executemany (one INSERT … VALUES (…), (…) … RETURNING per 1,000 rows, compiled once and cached), not a
        # multi-row .values(): SQLAlchemy would compile that anew for every batch, bind by bind.
        created = {(user_id, key): int(nid) for nid, user_id, key in (await session.execute(
            insert_into(session, Notification).on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
            .returning(table.c.id, table.c.user_id, table.c.dedupe_key), values)).tuples()}
        kept: list[tuple[int, int]] = []  # (index in notes, notification id)
        for i, note in enumerate(notes):
            nid = created.pop((note.user_id, note.dedupe_key), None)  # pop: a repeat in this call keeps the first
            if nid is not None:
                kept.append((i, nid))
        notes = [notes[i] for i, _ in kept]
        params = [params[i] for i, _ in kept]
        ids = [nid for _, nid in kept]
        if not notes:
            return []
    else:  # the same executemany, ids returned in the notes' order
        ids = [int(x) for x in (await session.execute(
            insert_into(session, Notification).returning(table.c.id, sort_by_parameter_order=True),
            values)).scalars().all()]
    users = sorted({n.user_id for n in notes})
    kinds = sorted({n.kind for n in notes})
    choices = (await session.execute(
        select(User.id, User.email, NotificationSetting.kind, NotificationSetting.email, User.language)
        .outerjoin(NotificationSetting, (NotificationSetting.user_id == User.id)
                   & NotificationSetting.kind.in_(kinds))
        .where(User.id.in_(users)))).tuples().all()
    address = {uid: email for uid, email, _, _, _ in choices}
    language = {uid: lang for uid, _, _, _, lang in choices}
    refused = {(uid, kind) for uid, _, kind, wants, _ in choices if kind is not None and wants is False}

    outboxes: dict[int, dict[str, Any]] = {}  # note index → its outbox row
    for i, (note, nid) in enumerate(zip(notes, ids, strict=True)):
        if address.get(note.user_id) and (note.user_id, note.kind) not in refused:
            subject, text = _email(language.get(note.user_id), note.title, note.body, params[i], note.url)
            outboxes[i] = {"notification_id": nid, "to_address": str(address[note.user_id]),
                           "subject": subject[:200], "body": text, "status": "pending", "attempts": 0,
                           "created_at": now, "next_attempt_at": now}
    outbox_ids: dict[int, int] = {}
    if outboxes:  # one cached executemany, ids returned in the rows' order
        table = EmailOutbox.__table__
        returned = (await session.execute(
            insert_into(session, EmailOutbox).returning(table.c.id, sort_by_parameter_order=True),
            list(outboxes.values()))).scalars().all()
        outbox_ids = dict(zip(outboxes, (int(x) for x in returned), strict=True))
    unread = dict((await session.execute(
        select(Notification.user_id, func.count()).where(Notification.user_id.in_(users),
                                                         Notification.read_at.is_(None))
        .group_by(Notification.user_id))).tuples().all())
    # The count each message would have carried right after its own insert: later notes of the same user in
    # this call were not there yet.
    later = dict.fromkeys(users, 0)
    counts: list[int] = [0] * len(notes)
    for i in range(len(notes) - 1, -1, -1):
        user_id = notes[i].user_id
        counts[i] = int(unread.get(user_id, 0)) - later[user_id]
        later[user_id] += 1
    for i, (note, nid) in enumerate(zip(notes, ids, strict=True)):
        message = _live_message(nid, note.kind, note.title, note.url, counts[i], params[i],
                                language.get(note.user_id))
        outbox_id = outbox_ids.get(i)
        channel = user_channel(note.user_id)

        async def announce(channel: str = channel, message: dict[str, Any] = message,
                           outbox_id: int | None = outbox_id) -> None:
            await RUNTIME.publish(channel, message)
            if outbox_id is not None:
                await RUNTIME.enqueue(SEND_EMAIL_JOB, outbox_id, job_id=f"email:{outbox_id}")

        after_commit(session, announce)
    return ids


def _email(language: str | None, title: str, body: str, params: dict[str, Any] | None,
           url: str) -> tuple[str, str]:
    """The subject and text of a notification's e-mail, in the recipient's language."""
    from marketplace.notifications.mail import email_text

    with i18n.use_locale(language or i18n.DEFAULT_LOCALE):
        subject = rules.shown(params, "title", _(title))
        text = rules.shown(params, "body", _(body) if body else str(body))
        return subject, email_text(subject, text, url)


async def _queue_email(session: AsyncSession, address: str, language: str | None, title: str, body: str,
                       params: dict[str, Any] | None, url: str, notification_id: int, now: datetime) -> int:
    # The e-mail is written in the recipient's language, not in the language of whoever caused it.
    subject, text = _email(language, title, body, params, url)
    outbox = EmailOutbox(notification_id=notification_id, to_address=address, subject=subject[:200],
                         body=text, status="pending", attempts=0, created_at=now, next_attempt_at=now)
    session.add(outbox)
    await session.flush()
    return int(outbox.id)


# --- reading and marking -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NotificationPage:
    items: list[Notification]
    total: int
    unread: int
    page: int
    per_page: int


def notification_out(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "url": n.url,
            "created_at": iso(n.created_at), "read": n.read_at is not None}


def check_page(page: int, per_page: int) -> None:
    if page < 1 or not 1 <= per_page <= 100:
        raise InvalidNotificationInput("page ≥ 1 and 1 ≤ per_page ≤ 100.")


class NotificationService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(self, user_id: int, *, unread_only: bool = False, page: int = 1, per_page: int = 20,
                   unread_first: bool = False) -> NotificationPage:
        """The user's notifications, newest first (``unread_first``: the unread ones before the read ones)."""
        check_page(page, per_page)
        conds = [Notification.user_id == user_id]
        if unread_only:
            conds.append(Notification.read_at.is_(None))
        order: list[Any] = [Notification.id.desc()]
        if unread_first:
            order.insert(0, Notification.read_at.is_not(None))
        total = int(await self.session.scalar(select(func.count()).select_from(Notification).where(*conds)) or 0)
        rows = await self.session.scalars(select(Notification).where(*conds).order_by(*order)
                                          .offset((page - 1) * per_page).limit(per_page))
        return NotificationPage(list(rows), total, await unread_count(self.session, user_id), page, per_page)

    async def mark_read(self, user_id: int, ids: Sequence[int] | None = None, *, all_: bool = False,
                        now: datetime | None = None) -> int:
        """Mark the user's notifications read; returns the unread count.

        Another user's id (or one that does not exist) is a 404 and nothing is marked: ids are never
        confirmed to exist for anyone but their owner (the same answer for both)."""
        now = now or utcnow()
        if all_:
            cond = Notification.user_id == user_id
        else:
            wanted = set(ids or ())
            if not wanted:
                raise InvalidNotificationInput('Send {"ids": [...]} or {"all": true}.')
            mine = int(await self.session.scalar(select(func.count()).select_from(Notification).where(
                Notification.user_id == user_id, Notification.id.in_(wanted))) or 0)
            if mine != len(wanted):
                raise NotificationNotFound()
            cond = (Notification.user_id == user_id) & Notification.id.in_(wanted)
        await self.session.execute(update(Notification).where(cond, Notification.read_at.is_(None))
                                   .values(read_at=now))
        unread = await unread_count(self.session, user_id)
        channel, message = user_channel(user_id), {"type": "unread", "unread": unread}
        after_commit(self.session, lambda: RUNTIME.publish(channel, message))
        return unread

    async def email_settings(self, user_id: int) -> dict[str, bool]:
        rows = (await self.session.execute(select(NotificationSetting.kind, NotificationSetting.email)
                                           .where(NotificationSetting.user_id == user_id))).all()
        return rules.email_settings({kind: bool(email) for kind, email in rows})

    async def set_email_settings(self, user_id: int, changes: dict[str, bool]) -> dict[str, bool]:
        for kind, email in changes.items():
            row = await self.session.get(NotificationSetting, (user_id, kind))
            if row is None:
                self.session.add(NotificationSetting(user_id=user_id, kind=kind, email=email))
            else:
                row.email = email
        await self.session.flush()
        return await self.email_settings(user_id)


# --- watchlist ---------------------------------------------------------------------------------------------------


class WatchlistService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, user_id: int, listing_id: int, now: datetime | None = None) -> tuple[WatchlistItem, bool]:
        """Watch a listing; ``(item, created)``. 404 for an unknown or removed listing, 409 over 500.

        The user's row lock serialises two adds of the same user, so the count we check is the count we grow."""
        listing = await self.session.get(Listing, listing_id)
        if listing is None or listing.status == "removed":
            raise ListingNotFound()
        await self.session.execute(select(User.id).where(User.id == user_id).with_for_update())
        existing = await self.session.get(WatchlistItem, (user_id, listing_id))
        if existing is not None:
            return existing, False
        count = int(await self.session.scalar(select(func.count()).select_from(WatchlistItem)
                                              .where(WatchlistItem.user_id == user_id)) or 0)
        if count >= rules.MAX_WATCHED:
            raise WatchlistFull()
        item = WatchlistItem(user_id=user_id, listing_id=listing_id, created_at=now or utcnow())
        self.session.add(item)
        await self.session.flush()
        return item, True

    async def remove(self, user_id: int, listing_id: int) -> None:
        await self.session.execute(delete(WatchlistItem).where(WatchlistItem.user_id == user_id,
                                                               WatchlistItem.listing_id == listing_id))

    async def all_ids(self, user_id: int) -> list[int]:
        return list(await self.session.scalars(select(WatchlistItem.listing_id)
                                               .where(WatchlistItem.user_id == user_id)
                                               .order_by(WatchlistItem.listing_id)))

    async def watched_ids(self, user_id: int, listing_ids: Sequence[int]) -> set[int]:
        if not listing_ids:
            return set()
        return set(await self.session.scalars(select(WatchlistItem.listing_id).where(
            WatchlistItem.user_id == user_id, WatchlistItem.listing_id.in_(listing_ids))))

    async def page(self, user_id: int, page: int = 1, per_page: int = 20) -> tuple[list[Listing], int]:
        """Watched listings (removed ones left out), most recently watched first."""
        check_page(page, per_page)
        conds = [WatchlistItem.user_id == user_id, Listing.status != "removed"]
        base = select(Listing).join(WatchlistItem, WatchlistItem.listing_id == Listing.id).where(*conds)
        total = int(await self.session.scalar(select(func.count()).select_from(base.subquery())) or 0)
        rows = await self.session.scalars(base.order_by(WatchlistItem.created_at.desc(), Listing.id.desc())
                                          .offset((page - 1) * per_page).limit(per_page))
        return list(rows), total


# --- saved searches ----------------------------------------------------------------------------------------------


def saved_search_out(s: SavedSearch) -> dict[str, Any]:
    return {"id": s.id, "q": s.q, "category_id": s.category_id, "mode": s.mode, "max_price": s.max_price,
            "created_at": iso(s.created_at), "url": rules.search_url(query_of(s))}


def query_of(s: SavedSearch) -> rules.SearchQuery:
    return rules.SearchQuery(q=s.q, category_id=s.category_id, mode=s.mode, max_price=s.max_price)


class SavedSearchService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, user_id: int, data: dict[str, Any], now: datetime | None = None) -> SavedSearch:
        try:
            query = rules.parse_search(data)
        except rules.SearchError as exc:
            raise InvalidNotificationInput(exc.msgid, **exc.values) from exc
        if query.category_id is not None and await self.session.get(Category, query.category_id) is None:
            raise InvalidNotificationInput("Unknown category.")
        await self.session.execute(select(User.id).where(User.id == user_id).with_for_update())
        count = int(await self.session.scalar(select(func.count()).select_from(SavedSearch)
                                              .where(SavedSearch.user_id == user_id)) or 0)
        if count >= rules.MAX_SAVED_SEARCHES:
            raise TooManySavedSearches()
        # Only listings published from now on are "new" for this search.
        last_id = int(await self.session.scalar(select(func.coalesce(func.max(Listing.id), 0))) or 0)
        row = SavedSearch(user_id=user_id, q=query.q, category_id=query.category_id, mode=query.mode,
                          max_price=query.max_price, created_at=now or utcnow(), last_listing_id=last_id,
                          pending=0)
        self.session.add(row)
        await self.session.flush()
        return row

    async def list(self, user_id: int) -> list[SavedSearch]:
        return list(await self.session.scalars(select(SavedSearch).where(SavedSearch.user_id == user_id)
                                               .order_by(SavedSearch.id.desc())))

    async def delete(self, user_id: int, search_id: int) -> None:
        """404 for an unknown id and for someone else's (the same answer: ids are not confirmed to others)."""
        row = await self.session.get(SavedSearch, search_id)
        if row is None or row.user_id != user_id:
            raise SavedSearchNotFound()
        await self.session.delete(row)
        await self.session.flush()
