"""Listing questions and answers (docs/rules.md §19.5): a signed-in visitor asks the seller a public question
on a listing; the seller answers (once) or hides it. Answered questions show on the listing page to everyone;
unanswered ones to their asker and the seller; hidden ones to the seller (and admins) only.

Asking is rate-limited per user (:data:`question_rules.QUESTION_LIMIT` per
:data:`question_rules.QUESTION_WINDOW_SECONDS`, every process counting together). The seller is notified of a
question and the asker of the answer through in-transaction events (kinds ``question_asked`` and
``question_answered``, docs/rules.md §12), live on ``/ws/me``.

API: ``GET``/``POST /api/v1/listings/{id}/questions``, ``POST /api/v1/questions/{id}/answer``, ``POST
/api/v1/questions/{id}/hide``; the listing page's forms post to the same paths without ``/api/v1`` and answer 303.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, URLEncodedBody
from litestar.plugins.flash import flash
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import events
from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.errors import DomainError, NotFound, RateLimited
from marketplace.i18n import _
from marketplace.listings import question_rules as rules
from marketplace.listings.events import QuestionAnswered, QuestionAsked
from marketplace.listings.models import Listing, ListingQuestion
from marketplace.listings.services import ensure_visible
from marketplace.web.auth import current_user, requires_login
from marketplace.web.deps import DB, AuthUser


class QuestionNotFound(NotFound):
    default_detail = "Question not found."


def _state(q: ListingQuestion) -> rules.QuestionState:
    return rules.QuestionState(asker_id=q.asker_id, answered=q.answer is not None, hidden=q.hidden)


async def ask(session: AsyncSession, listing_id: int, user_id: int, text: object, *, is_admin: bool = False,
              now: datetime | None = None) -> ListingQuestion:
    """A new question: 404 when the listing is not visible, 403 on one's own listing, 409 when it is not on sale,
    400 on empty or too long text."""
    listing = await ensure_visible(session, await session.get(Listing, listing_id), user_id, is_admin=is_admin)
    rules.check_may_ask(user_id, listing.seller_id, listing.status)
    body = rules.clean_text(text, max_len=rules.QUESTION_MAX, label="The question")
    q = ListingQuestion(listing_id=listing.id, asker_id=user_id, body=body, hidden=False,
                        created_at=now or utcnow())
    session.add(q)
    await session.flush()
    await events.emit(session, QuestionAsked(q.id, listing.id, listing.seller_id, user_id))
    return q


async def _locked(session: AsyncSession, question_id: int, user_id: int,
                  is_admin: bool) -> tuple[ListingQuestion, Listing]:
    q = await session.scalar(select(ListingQuestion).where(ListingQuestion.id == question_id).with_for_update()
                             .execution_options(populate_existing=True))
    if q is None:
        raise QuestionNotFound()
    listing = await session.get(Listing, q.listing_id)
    assert listing is not None
    if not rules.visible_to(_state(q), listing.seller_id, user_id, is_admin=is_admin):
        raise QuestionNotFound()
    return q, listing


async def answer(session: AsyncSession, question_id: int, user_id: int, text: object, *,
                 now: datetime | None = None) -> ListingQuestion:
    """The seller's answer: 404 unknown, 403 not the seller, 409 answered or hidden, 400 empty or too long."""
    q, listing = await _locked(session, question_id, user_id, False)
    rules.check_may_answer(user_id, listing.seller_id, answered=q.answer is not None, hidden=q.hidden)
    q.answer = rules.clean_text(text, max_len=rules.ANSWER_MAX, label="The answer")
    q.answered_at = now or utcnow()
    await session.flush()
    await events.emit(session, QuestionAnswered(q.id, listing.id, listing.seller_id, q.asker_id))
    return q


async def set_hidden(session: AsyncSession, question_id: int, user_id: int, hidden: bool, *,
                     is_admin: bool = False) -> ListingQuestion:
    q, listing = await _locked(session, question_id, user_id, is_admin)
    rules.check_may_hide(user_id, listing.seller_id, is_admin=is_admin)
    q.hidden = hidden
    await session.flush()
    return q


async def for_listing(session: AsyncSession, listing: Listing, viewer_id: int | None, *,
                      is_admin: bool = False) -> list[tuple[ListingQuestion, str]]:
    """The questions this viewer may see, oldest first, with the asker's username."""
    rows = (await session.execute(
        select(ListingQuestion, User.username).join(User, User.id == ListingQuestion.asker_id)
        .where(ListingQuestion.listing_id == listing.id).order_by(ListingQuestion.id))).all()
    return [(q, name) for q, name in rows
            if rules.visible_to(_state(q), listing.seller_id, viewer_id, is_admin=is_admin)]


async def check_rate(request: Request[Any, Any, Any], user_id: int) -> None:
    """docs/rules.md §19.5: at most QUESTION_LIMIT question attempts per user per window (429 beyond)."""
    limiter = request.app.state.rate_limiter
    key = f"questions:{user_id}"
    if rules.over_limit(await limiter.hit(key, rules.QUESTION_WINDOW_SECONDS), rules.QUESTION_LIMIT):
        raise RateLimited("Too many questions; try again later.", retry_after=await limiter.retry_after(key))


# --- JSON API ----------------------------------------------------------------------------------------------------


class QuestionIn(msgspec.Struct):
    body: str


class AnswerIn(msgspec.Struct):
    answer: str


class HideIn(msgspec.Struct):
    hidden: bool = True


class QuestionOut(msgspec.Struct):
    id: int
    listing_id: int
    asker: str
    body: str
    answer: str | None
    answered_at: datetime | None
    hidden: bool
    created_at: datetime


def question_out(q: ListingQuestion, asker: str) -> QuestionOut:
    return QuestionOut(id=q.id, listing_id=q.listing_id, asker=asker, body=q.body, answer=q.answer,
                       answered_at=q.answered_at, hidden=q.hidden, created_at=q.created_at)


async def _username(session: AsyncSession, user_id: int) -> str:
    user = await session.get(User, user_id)
    return user.username if user is not None else ""


class QuestionApi(Controller):
    tags = ("listings",)

    @get("/listings/{listing_id:int}/questions", summary="The listing's questions this visitor may see")
    async def list_questions(self, request: Request[Any, Any, Any], listing_id: FromPath[int],
                             db_session: DB) -> list[QuestionOut]:
        viewer = current_user(request)
        viewer_id, is_admin = (viewer.id, viewer.is_admin) if viewer else (None, False)
        listing = await ensure_visible(db_session, await db_session.get(Listing, listing_id), viewer_id,
                                       is_admin=is_admin)
        return [question_out(q, name) for q, name in await for_listing(db_session, listing, viewer_id,
                                                                        is_admin=is_admin)]

    @post("/listings/{listing_id:int}/questions", status_code=201, guards=[requires_login],
          summary="Ask the seller a public question (rate-limited)")
    async def ask_question(self, request: Request[Any, Any, Any], listing_id: FromPath[int],
                           data: JSONBody[QuestionIn], user: AuthUser, db_session: DB) -> QuestionOut:
        await check_rate(request, user.id)
        q = await ask(db_session, listing_id, user.id, data.body, is_admin=user.is_admin)
        return question_out(q, user.username)

    @post("/questions/{question_id:int}/answer", status_code=200, guards=[requires_login],
          summary="The seller answers a question (once)")
    async def answer_question(self, question_id: FromPath[int], data: JSONBody[AnswerIn], user: AuthUser,
                              db_session: DB) -> QuestionOut:
        q = await answer(db_session, question_id, user.id, data.answer)
        return question_out(q, await _username(db_session, q.asker_id))

    @post("/questions/{question_id:int}/hide", status_code=200, guards=[requires_login],
          summary="The seller hides a question from the listing page (or shows it again)")
    async def hide_question(self, question_id: FromPath[int], data: JSONBody[HideIn], user: AuthUser,
                            db_session: DB) -> QuestionOut:
        q = await set_hidden(db_session, question_id, user.id, data.hidden, is_admin=user.is_admin)
        return question_out(q, await _username(db_session, q.asker_id))


# --- HTML forms (on the listing page) ----------------------------------------------------------------------------

Form = URLEncodedBody[dict[str, Any]]


async def _form_act(request: Request[Any, Any, Any], db_session: AsyncSession, listing_id: int | None,
                    action: Any, success: str) -> Redirect:
    try:
        q = await action()
        listing_id = q.listing_id
    except DomainError as exc:
        if exc.status_code in (403, 404) or listing_id is None:
            raise
        await db_session.rollback()
        flash(request, _(exc.detail), category="error")
    else:
        flash(request, success, category="success")
    return Redirect(f"/listings/{listing_id}#questions", status_code=303)


async def _listing_of(db_session: AsyncSession, question_id: int) -> int:
    listing_id = await db_session.scalar(select(ListingQuestion.listing_id).where(ListingQuestion.id == question_id))
    if listing_id is None:
        raise QuestionNotFound()
    return int(listing_id)


class QuestionViews(Controller):
    include_in_schema = False
    guards = (requires_login,)

    @post("/listings/{listing_id:int}/questions")
    async def ask_form(self, request: Request[Any, Any, Any], listing_id: FromPath[int], data: Form,
                       user: AuthUser, db_session: DB) -> Redirect:
        async def act() -> ListingQuestion:
            await check_rate(request, user.id)
            return await ask(db_session, listing_id, user.id, data.get("body"), is_admin=user.is_admin)

        return await _form_act(request, db_session, listing_id, act,
                               _("Question sent; the seller will answer it here."))

    @post("/questions/{question_id:int}/answer")
    async def answer_form(self, request: Request[Any, Any, Any], question_id: FromPath[int], data: Form,
                          user: AuthUser, db_session: DB) -> Redirect:
        listing_id = await _listing_of(db_session, question_id)
        return await _form_act(request, db_session, listing_id,
                               lambda: answer(db_session, question_id, user.id, data.get("answer")),
                               _("Answer published."))

    @post("/questions/{question_id:int}/hide")
    async def hide_form(self, request: Request[Any, Any, Any], question_id: FromPath[int], data: Form,
                        user: AuthUser, db_session: DB) -> Redirect:
        listing_id = await _listing_of(db_session, question_id)
        hidden = str(data.get("hidden") or "1") != "0"
        return await _form_act(request, db_session, listing_id,
                               lambda: set_hidden(db_session, question_id, user.id, hidden, is_admin=user.is_admin),
                               _("Question hidden.") if hidden else _("Question shown again."))


API_ROUTES = [QuestionApi]
VIEW_ROUTES = [QuestionViews]
