"""JSON API for orders and feedback (API.md "Orders and feedback")."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Body, FromPath, FromQuery, JSONBody

from marketplace.orders.schemas import (
    DisputeIn,
    FeedbackIn,
    FeedbackOut,
    OrderOut,
    OrderPage,
    ResolveIn,
    ShipIn,
)
from marketplace.orders.services import FeedbackService, OrderService
from marketplace.paging import page_window
from marketplace.web.auth import requires_admin, requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser


async def _out(svc: OrderService, order_id: int) -> OrderOut:
    return OrderOut.of(await svc.view(order_id), svc.settings.auto_confirm_days)


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
        return OrderPage(items=[OrderOut.of(v, settings.auto_confirm_days) for v in items], total=total,
                         page=page, per_page=per_page)

    @get("/{order_id:int}", summary="One order (its buyer, its seller or an admin)")
    async def get_order(self, order_id: FromPath[int], user: AuthUser, db_session: DB,
                        settings: AppSettings) -> OrderOut:
        view = await OrderService(db_session, settings).visible(order_id, user.id, is_admin=user.is_admin)
        return OrderOut.of(view, settings.auto_confirm_days)

    @post("/{order_id:int}/ship", status_code=200, summary="The seller marks the order shipped")
    async def ship(self, order_id: FromPath[int], user: AuthUser, db_session: DB, settings: AppSettings,
                   data: Annotated[ShipIn | None, Body()] = None) -> OrderOut:
        svc = OrderService(db_session, settings)
        await svc.ship(order_id, user.id, data.tracking if data else None, is_admin=user.is_admin)
        return await _out(svc, order_id)

    @post("/{order_id:int}/confirm", status_code=200, summary="The buyer confirms receipt; the seller is paid")
    async def confirm(self, order_id: FromPath[int], user: AuthUser, db_session: DB,
                      settings: AppSettings) -> OrderOut:
        svc = OrderService(db_session, settings)
        await svc.confirm(order_id, user.id, is_admin=user.is_admin)
        return await _out(svc, order_id)

    @post("/{order_id:int}/cancel", status_code=200, summary="Either side cancels before shipping; full refund")
    async def cancel(self, request: Request[Any, Any, Any], order_id: FromPath[int], user: AuthUser,
                     db_session: DB, settings: AppSettings) -> OrderOut:
        svc = OrderService(db_session, settings, publisher=request.app.state.publisher)
        await svc.cancel(order_id, user.id, is_admin=user.is_admin)
        return await _out(svc, order_id)

    @post("/{order_id:int}/dispute", status_code=200, summary="The buyer disputes a shipped order")
    async def dispute(self, order_id: FromPath[int], data: JSONBody[DisputeIn], user: AuthUser, db_session: DB,
                      settings: AppSettings) -> OrderOut:
        svc = OrderService(db_session, settings)
        await svc.dispute(order_id, user.id, data.reason, is_admin=user.is_admin)
        return await _out(svc, order_id)

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


ROUTES = [OrderController, resolve_dispute]
