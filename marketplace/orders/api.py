"""JSON API for orders and feedback (docs/api.md "Orders and feedback")."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Body, FromPath, FromQuery, JSONBody

from marketplace.accounts.models import User
from marketplace.addresses.services import AddressBook
from marketplace.db import utcnow
from marketplace.errors import NotFound
from marketplace.identity import CurrentUser
from marketplace.orders.exceptions import WrongParty
from marketplace.orders.feedback_photos import FeedbackPhotoApi
from marketplace.orders.schemas import (
    AddressChoiceIn,
    CancelIn,
    DisputeIn,
    FeedbackIn,
    FeedbackOut,
    OrderOut,
    OrderPage,
    ResolveIn,
    ShipIn,
    StrikesOut,
)
from marketplace.orders.services import FeedbackService, OrderService, strike_counts
from marketplace.paging import page_window
from marketplace.web.auth import requires_admin, requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser


async def _out(svc: OrderService, order_id: int, user: CurrentUser | None = None) -> OrderOut:
    return OrderOut.of(await svc.view(order_id), svc.settings.auto_confirm_days, user.id if user else None,
                       bool(user and user.is_admin))


class OrderController(Controller):
    path = "/orders"
    tags = ("orders",)
    guards = (requires_login,)

    @get("/", summary="My orders, as buyer or seller (both when role is omitted)")
    async def list_orders(self, user: AuthUser, db_session: DB, settings: AppSettings,
                          role: FromQuery[str | None] = None, status: FromQuery[str | None] = None,
                          page: FromQuery[int] = 1, per_page: FromQuery[int] = 20) -> OrderPage:
        page_window(page, per_page)
        items, total = await OrderService(db_session, settings).list_for(
            user.id, role or None, page=page, per_page=per_page, status=status or None)
        return OrderPage(items=[OrderOut.of(v, settings.auto_confirm_days, user.id, user.is_admin) for v in items],
                         total=total,
                         page=page, per_page=per_page)

    @get("/{order_id:int}", summary="One order (its buyer, its seller or an admin)")
    async def get_order(self, order_id: FromPath[int], user: AuthUser, db_session: DB,
                        settings: AppSettings) -> OrderOut:
        view = await OrderService(db_session, settings).visible(order_id, user.id, is_admin=user.is_admin)
        return OrderOut.of(view, settings.auto_confirm_days, user.id, user.is_admin)

    @post("/{order_id:int}/ship", status_code=200, summary="The seller marks the order shipped")
    async def ship(self, order_id: FromPath[int], user: AuthUser, db_session: DB, settings: AppSettings,
                   data: Annotated[ShipIn | None, Body()] = None) -> OrderOut:
        svc = OrderService(db_session, settings)
        await svc.ship(order_id, user.id, data.tracking if data else None, is_admin=user.is_admin)
        return await _out(svc, order_id, user)

    @post("/{order_id:int}/confirm", status_code=200, summary="The buyer confirms receipt; the seller is paid")
    async def confirm(self, order_id: FromPath[int], user: AuthUser, db_session: DB,
                      settings: AppSettings) -> OrderOut:
        svc = OrderService(db_session, settings)
        await svc.confirm(order_id, user.id, is_admin=user.is_admin)
        return await _out(svc, order_id, user)

    @post("/{order_id:int}/cancel", status_code=200, summary="Either side cancels before shipping; full refund. "
          "A won auction needs {reason, confirm: true} and records a strike (docs/rules.md §19.1)")
    async def cancel(self, request: Request[Any, Any, Any], order_id: FromPath[int], user: AuthUser,
                     db_session: DB, settings: AppSettings,
                     data: Annotated[CancelIn | None, Body()] = None) -> OrderOut:
        svc = OrderService(db_session, settings, publisher=request.app.state.publisher)
        await svc.cancel(order_id, user.id, is_admin=user.is_admin, reason=data.reason if data else "",
                         confirm=bool(data and data.confirm))
        return await _out(svc, order_id, user)

    @post("/{order_id:int}/address", status_code=200,
          summary="The buyer picks the shipping address from their address book (before shipping)")
    async def set_address(self, order_id: FromPath[int], data: JSONBody[AddressChoiceIn], user: AuthUser,
                          db_session: DB, settings: AppSettings) -> OrderOut:
        svc = OrderService(db_session, settings)
        view = await svc.visible(order_id, user.id, is_admin=user.is_admin)
        if view.order.buyer_id != user.id:
            raise WrongParty("Only the buyer chooses the shipping address.")
        address = await AddressBook(db_session, user.id).get(data.address_id)
        await svc.set_address(order_id, user.id, address.snapshot())
        return await _out(svc, order_id, user)

    @post("/{order_id:int}/dispute", status_code=200, summary="The buyer disputes a shipped order")
    async def dispute(self, order_id: FromPath[int], data: JSONBody[DisputeIn], user: AuthUser, db_session: DB,
                      settings: AppSettings) -> OrderOut:
        svc = OrderService(db_session, settings)
        await svc.dispute(order_id, user.id, data.reason, is_admin=user.is_admin)
        return await _out(svc, order_id, user)

    @post("/{order_id:int}/feedback", status_code=201, summary="Rate the other side of a completed order")
    async def feedback(self, order_id: FromPath[int], data: JSONBody[FeedbackIn], user: AuthUser,
                       db_session: DB) -> FeedbackOut:
        fb = await FeedbackService(db_session).leave(order_id, user.id, data.rating, data.comment)
        return FeedbackOut(id=fb.id, order_id=fb.order_id, from_user_id=fb.from_user_id, to_user_id=fb.to_user_id,
                           role=fb.role, rating=fb.rating, comment=fb.comment, created_at=fb.created_at)


@post("/admin/orders/{order_id:int}/resolve", status_code=200, guards=[requires_admin], tags=["orders", "admin"],
      summary="An admin resolves a dispute: refund the buyer or release to the seller")
async def resolve_dispute(order_id: FromPath[int], data: JSONBody[ResolveIn], user: AuthUser, db_session: DB,
                          settings: AppSettings) -> OrderOut:
    svc = OrderService(db_session, settings)
    await svc.resolve(order_id, user.id, data.outcome)
    return await _out(svc, order_id)


@get("/users/{user_id:int}/strikes", tags=["orders"],
     summary="A user's strikes in the last 365 days, as buyer and as seller (docs/rules.md §19.1)")
async def user_strikes(user_id: FromPath[int], db_session: DB) -> StrikesOut:
    if await db_session.get(User, user_id) is None:
        raise NotFound("User not found.")
    counts = await strike_counts(db_session, user_id, utcnow())
    return StrikesOut(user_id=user_id, buyer=counts["buyer"], seller=counts["seller"])


ROUTES = [OrderController, resolve_dispute, user_strikes, FeedbackPhotoApi]
