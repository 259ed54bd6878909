"""A photo on a feedback (docs/rules.md §14: a buyer's feedback with a photo earns 20 points): one per feedback,
added after the rating by its author, through the listing photos' image pipeline (checked, re-encoded, thumbnail).

``POST /api/v1/orders/{id}/feedback/photo`` (multipart field ``file``) → 201; the order page's form posts to
``/orders/{id}/feedback/photo`` and answers 303.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody
from litestar.plugins.flash import flash
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.db import utcnow
from marketplace.errors import DomainError, InvalidInput
from marketplace.i18n import N_, _
from marketplace.media.images import ImageStorage, LocalStorage, process_image
from marketplace.membership.services import earn_on_feedback_photo
from marketplace.orders.exceptions import FeedbackNotAllowed, OrderNotFound
from marketplace.orders.models import Feedback, Order
from marketplace.settings import Settings
from marketplace.web.auth import requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser

UPLOAD_BODY_LIMIT = 64 * 1024 * 1024


async def add_photo(session: AsyncSession, settings: Settings, order_id: int, user_id: int, data: bytes, *,
                    storage: ImageStorage | None = None, now: datetime | None = None) -> tuple[Feedback, int]:
    """Attach a photo to the caller's feedback on the order; returns it and the points earned (10 for the buyer's
    first photo, so the feedback earned 20 in all)."""
    now = now or utcnow()
    order = await session.scalar(select(Order).where(Order.id == order_id).with_for_update()
                                 .execution_options(populate_existing=True))
    if order is None or user_id not in (order.buyer_id, order.seller_id):
        raise OrderNotFound()
    feedback = await session.scalar(select(Feedback).where(Feedback.order_id == order_id,
                                                           Feedback.from_user_id == user_id))
    if feedback is None:
        raise FeedbackNotAllowed("Leave your feedback first, then add a photo to it.")
    if feedback.photo_key:
        raise FeedbackNotAllowed("This feedback already has a photo.")
    processed = await asyncio.to_thread(process_image, data, max_bytes=settings.max_image_bytes,
                                        max_pixels=settings.max_image_pixels)
    storage = storage or LocalStorage(settings.media_dir)
    token = secrets.token_urlsafe(12)
    full_key = f"feedback/{order_id}/{token}.{processed.extension}"
    thumb_key = f"feedback/{order_id}/{token}_thumb.{processed.extension}"
    await asyncio.to_thread(storage.save, full_key, processed.full, processed.content_type)
    await asyncio.to_thread(storage.save, thumb_key, processed.thumb, processed.content_type)
    feedback.photo_key, feedback.photo_thumb_key = full_key, thumb_key
    await session.flush()
    points = 0
    if feedback.role == "buyer":
        points = await earn_on_feedback_photo(session, order, now=now, settings=settings)
    return feedback, points


@dataclass
class PhotoUpload:
    file: UploadFile


class FeedbackPhotoOut(msgspec.Struct):
    order_id: int
    url: str
    thumb_url: str
    points_earned: int


class FeedbackPhotoApi(Controller):
    path = "/orders"
    tags = ("orders",)

    @post("/{order_id:int}/feedback/photo", status_code=201, guards=[requires_login],
          request_max_body_size=UPLOAD_BODY_LIMIT, summary="Add a photo to your feedback (multipart field `file`)")
    async def add(self, order_id: FromPath[int], data: MultipartBody[PhotoUpload], user: AuthUser, db_session: DB,
                  settings: AppSettings) -> FeedbackPhotoOut:
        if not isinstance(data.file, UploadFile):
            raise InvalidInput("Send the image in the multipart field `file`.")
        feedback, points = await add_photo(db_session, settings, order_id, user.id, await data.file.read())
        storage = LocalStorage(settings.media_dir)
        assert feedback.photo_key is not None
        assert feedback.photo_thumb_key is not None
        return FeedbackPhotoOut(order_id=order_id, url=storage.url(feedback.photo_key),
                                thumb_url=storage.url(feedback.photo_thumb_key), points_earned=points)


class FeedbackPhotoViews(Controller):
    include_in_schema = False

    @post("/orders/{order_id:int}/feedback/photo", guards=[requires_login], request_max_body_size=UPLOAD_BODY_LIMIT)
    async def add(self, request: Request[Any, Any, Any], order_id: FromPath[int],
                  data: MultipartBody[dict[str, Any]], user: AuthUser, db_session: DB,
                  settings: AppSettings) -> Redirect:
        upload = data.get("file")
        try:
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise InvalidInput("Choose a photo to upload.")
            _feedback, points = await add_photo(db_session, settings, order_id, user.id, await upload.read())
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            await db_session.rollback()
            flash(request, _(exc.detail), category="error")
        else:
            flash(request, _("Photo added. +%(points)s points.", points=points) if points else N_("Photo added."),
                  category="success")
        return Redirect(f"/orders/{order_id}", status_code=303)

