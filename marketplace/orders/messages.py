"""An order's private messages (docs/rules.md §19.6): a thread between its buyer and seller, which an admin
reads and joins once the order is disputed; each message may carry one photo (dispute evidence), checked and
re-encoded by the listing photos' pipeline (type, size, pixels: marketplace/media/images.py).

Writing is rate-limited per user (:data:`message_rules.MESSAGE_LIMIT` per
:data:`message_rules.MESSAGE_WINDOW_SECONDS`); the other party (both parties when an admin writes) is notified
(kind ``order_message``, docs/rules.md §12), live on ``/ws/me``.

API: ``GET``/``POST /api/v1/orders/{id}/messages`` (JSON ``{"body"}``, or multipart ``body`` and ``file``);
the order page's form posts multipart to ``/orders/{id}/messages`` and answers 303.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import events
from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.errors import DomainError, InvalidInput, RateLimited
from marketplace.i18n import _
from marketplace.media.images import ImageStorage, LocalStorage, in_decoder, process_image
from marketplace.orders import message_rules as rules
from marketplace.orders.events import OrderMessagePosted
from marketplace.orders.exceptions import OrderNotFound
from marketplace.orders.models import Order, OrderMessage
from marketplace.settings import Settings
from marketplace.web.auth import requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser

UPLOAD_BODY_LIMIT = 64 * 1024 * 1024


def ever_disputed(order: Order) -> bool:
    return order.status == "disputed" or order.dispute_reason is not None


async def _order_and_role(session: AsyncSession, order_id: int, user_id: int,
                          is_admin: bool) -> tuple[Order, rules.Role]:
    order = await session.get(Order, order_id)
    if order is None:
        raise OrderNotFound()
    role = rules.thread_role(user_id, order.buyer_id, order.seller_id, is_admin=is_admin,
                             ever_disputed=ever_disputed(order))
    return order, role


async def post_message(session: AsyncSession, settings: Settings, order_id: int, user_id: int, text: object, *,
                       is_admin: bool = False, photo: bytes | None = None, storage: ImageStorage | None = None,
                       now: datetime | None = None) -> OrderMessage:
    """404 unknown order, 403 not a party, 409 an admin outside a dispute, 400 empty/too long text or a bad
    image (413 too large)."""
    order, role = await _order_and_role(session, order_id, user_id, is_admin)
    rules.check_may_post(role, order.status)
    body = rules.clean_body(text, has_photo=photo is not None)
    msg = OrderMessage(order_id=order.id, sender_id=user_id, role=role, body=body, created_at=now or utcnow())
    if photo is not None:
        processed = await in_decoder(process_image, photo, max_bytes=settings.max_image_bytes,
                                     max_pixels=settings.max_image_pixels)
        storage = storage or LocalStorage(settings.media_dir)
        token = secrets.token_urlsafe(12)
        msg.photo_key = f"evidence/{order.id}/{token}.{processed.extension}"
        msg.photo_thumb_key = f"evidence/{order.id}/{token}_thumb.{processed.extension}"
        await asyncio.to_thread(storage.save, msg.photo_key, processed.full, processed.content_type)
        await asyncio.to_thread(storage.save, msg.photo_thumb_key, processed.thumb, processed.content_type)
    session.add(msg)
    await session.flush()
    await events.emit(session, OrderMessagePosted(msg.id, order.id, user_id, role,
                                                  tuple(rules.recipients(user_id, order.buyer_id, order.seller_id))))
    return msg


async def thread(session: AsyncSession, order_id: int, user_id: int, *,
                 is_admin: bool = False) -> list[tuple[OrderMessage, str]]:
    """The order's messages, oldest first, with the sender's username (403 for anyone but the parties)."""
    await _order_and_role(session, order_id, user_id, is_admin)
    return await messages_of(session, order_id)


async def messages_of(session: AsyncSession, order_id: int) -> list[tuple[OrderMessage, str]]:
    """No access check: for pages that checked it already (the order page, the admin dispute queue)."""
    rows = (await session.execute(
        select(OrderMessage, User.username).join(User, User.id == OrderMessage.sender_id)
        .where(OrderMessage.order_id == order_id).order_by(OrderMessage.id))).all()
    return [(m, name) for m, name in rows]


async def check_rate(request: Request[Any, Any, Any], user_id: int) -> None:
    limiter = request.app.state.rate_limiter
    key = f"order-messages:{user_id}"
    if rules.over_limit(await limiter.hit(key, rules.MESSAGE_WINDOW_SECONDS), rules.MESSAGE_LIMIT):
        raise RateLimited("Too many messages; try again later.", retry_after=await limiter.retry_after(key))


def can_read(order: Order, user_id: int, is_admin: bool) -> bool:
    try:
        rules.thread_role(user_id, order.buyer_id, order.seller_id, is_admin=is_admin,
                          ever_disputed=ever_disputed(order))
    except DomainError:
        return False
    return True


# --- JSON API ----------------------------------------------------------------------------------------------------


class MessageOut(msgspec.Struct):
    id: int
    order_id: int
    sender: str
    role: str
    body: str
    photo_url: str | None
    thumb_url: str | None
    created_at: datetime


def message_out(m: OrderMessage, sender: str, storage: LocalStorage) -> MessageOut:
    return MessageOut(id=m.id, order_id=m.order_id, sender=sender, role=m.role, body=m.body,
                      photo_url=storage.url(m.photo_key) if m.photo_key else None,
                      thumb_url=storage.url(m.photo_thumb_key) if m.photo_thumb_key else None,
                      created_at=m.created_at)


@dataclass
class _Submitted:
    body: object
    photo: bytes | None


async def _read_submission(request: Request[Any, Any, Any], *, json_allowed: bool) -> _Submitted:
    content_type = request.headers.get("content-type", "")
    if json_allowed and content_type.startswith("application/json"):
        try:
            raw = await request.json()
        except Exception:
            raise InvalidInput("Send a JSON object {\"body\": \"…\"}.") from None
        if not isinstance(raw, dict):
            raise InvalidInput("Send a JSON object {\"body\": \"…\"}.")
        return _Submitted(raw.get("body"), None)
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise InvalidInput("Send JSON, or a multipart form with `body` and an optional `file`.")
    form = await request.form()
    upload = form.get("file")
    photo = None
    if isinstance(upload, UploadFile) and upload.filename:
        photo = await upload.read()
        if not photo:
            photo = None
    return _Submitted(form.get("body"), photo)


class OrderMessageApi(Controller):
    tags = ("orders",)
    guards = (requires_login,)

    @get("/orders/{order_id:int}/messages", summary="The order's private messages (buyer, seller; admin in a "
                                                    "dispute)")
    async def list_messages(self, order_id: FromPath[int], user: AuthUser, db_session: DB,
                            settings: AppSettings) -> list[MessageOut]:
        storage = LocalStorage(settings.media_dir)
        return [message_out(m, name, storage)
                for m, name in await thread(db_session, order_id, user.id, is_admin=user.is_admin)]

    @post("/orders/{order_id:int}/messages", status_code=201, request_max_body_size=UPLOAD_BODY_LIMIT,
          summary="Write on the order's thread: JSON {body}, or multipart body and file (an evidence photo)")
    async def add_message(self, request: Request[Any, Any, Any], order_id: FromPath[int], user: AuthUser,
                          db_session: DB, settings: AppSettings) -> MessageOut:
        await check_rate(request, user.id)
        sent = await _read_submission(request, json_allowed=True)
        m = await post_message(db_session, settings, order_id, user.id, sent.body, is_admin=user.is_admin,
                               photo=sent.photo)
        return message_out(m, user.username, LocalStorage(settings.media_dir))


class OrderMessageViews(Controller):
    include_in_schema = False
    guards = (requires_login,)

    @post("/orders/{order_id:int}/messages", request_max_body_size=UPLOAD_BODY_LIMIT)
    async def add(self, request: Request[Any, Any, Any], order_id: FromPath[int], user: AuthUser, db_session: DB,
                  settings: AppSettings) -> Redirect:
        try:
            await check_rate(request, user.id)
            sent = await _read_submission(request, json_allowed=False)
            await post_message(db_session, settings, order_id, user.id, sent.body, is_admin=user.is_admin,
                               photo=sent.photo)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            await db_session.rollback()
            flash(request, _(exc.detail), category="error")
        else:
            flash(request, _("Message sent."), category="success")
        return Redirect(f"/orders/{order_id}#messages", status_code=303)


API_ROUTES = [OrderMessageApi]
VIEW_ROUTES = [OrderMessageViews]
