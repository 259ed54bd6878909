"""HTML pages for orders: my purchases, my sales, one order with its timeline, the admin's dispute queue.

Every action is a CSRF-protected form that answers 303 with a flash. A refusal the user can act on (wrong state,
bad input: 400/409) comes back as an error flash on the page they were on; 403 and 404 render the error page.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy import select

from marketplace.accounts.services import AccountService
from marketplace.addresses.services import AddressBook
from marketplace.db import utcnow
from marketplace.i18n import N_, _
from marketplace.listings.services import BrowseQuery, ListingService
from marketplace.membership.services import badges_of, current_level, growth, levels_of
from marketplace.orders import message_rules, messages, rules
from marketplace.orders.exceptions import WrongParty
from marketplace.orders.feedback_photos import FeedbackPhotoViews
from marketplace.orders.models import Strike
from marketplace.orders.services import (
    FeedbackService,
    OrderService,
    OrderView,
    address_visible,
    strike_counts,
)
from marketplace.web.auth import current_user, requires_admin, requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser
from marketplace.web.pages import act, render

Form = URLEncodedBody[dict[str, Any]]
PER_PAGE = 20
STATUS_LABELS = {  # English ids, translated where shown (templates call translate())
    "paid": N_("Paid"), "shipped": N_("Shipped"), "completed": N_("Completed"),
    "cancelled": N_("Cancelled"), "disputed": N_("Disputed"), "refunded": N_("Refunded"),
}


ORDER_REFUSALS = (400, 409)  # an order action refused for its state or input: an error flash, nothing kept


def _back(data: dict[str, Any], order_id: int) -> str:
    """Where the form came from (a local path only: never an open redirect), else the order page."""
    target = str(data.get("next") or "")
    ok = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if ok else f"/orders/{order_id}"



def _row(view: OrderView, user_id: int, is_admin: bool, rated: set[int], days: int) -> dict[str, Any]:
    o = view.order
    role: rules.Actor = "buyer" if user_id == o.buyer_id else "seller" if user_id == o.seller_id else "admin"
    return {
        "view": view, "o": o, "role": role, "actions": rules.allowed_actions(o.status, role),
        "can_rate": role in ("buyer", "seller") and o.status == "completed" and o.id not in rated,
        "auto_confirm_at": rules.auto_confirm_at(o.shipped_at, days) if o.status == "shipped" and o.shipped_at
        else None,
    }


class OrderViews(Controller):
    include_in_schema = False
    guards = (requires_login,)

    async def _list(self, request: Request[Any, Any, Any], db_session: DB, settings: AppSettings, user: AuthUser,
                    role: str, page: int, status: str | None) -> Template:
        page = max(page, 1)
        status = status if status in rules.STATUSES else None
        views, total = await OrderService(db_session, settings).list_for(user.id, role, page=page,
                                                                         per_page=PER_PAGE, status=status)
        rated = await FeedbackService(db_session).left_by([v.order.id for v in views], user.id)
        rows = [_row(v, user.id, user.is_admin, rated, settings.auto_confirm_days) for v in views]
        return await render(request, db_session, "orders/list.html", role=role, rows=rows, total=total, page=page,
                            per_page=PER_PAGE, status=status, statuses=rules.STATUSES, labels=STATUS_LABELS,
                            buyer_levels=await _buyer_levels(db_session, [v.order.buyer_id for v in views])
                            if role == "seller" else {})

    @get("/my/purchases")
    async def purchases(self, request: Request[Any, Any, Any], db_session: DB, settings: AppSettings,
                        user: AuthUser, page: FromQuery[int] = 1, status: FromQuery[str | None] = None) -> Template:
        return await self._list(request, db_session, settings, user, "buyer", page, status)

    @get("/my/sales")
    async def sales(self, request: Request[Any, Any, Any], db_session: DB, settings: AppSettings,
                    user: AuthUser, page: FromQuery[int] = 1, status: FromQuery[str | None] = None) -> Template:
        return await self._list(request, db_session, settings, user, "seller", page, status)

    @get("/orders/{order_id:int}")
    async def detail(self, request: Request[Any, Any, Any], order_id: FromPath[int], db_session: DB,
                     settings: AppSettings, user: AuthUser) -> Template:
        svc = OrderService(db_session, settings)
        view = await svc.visible(order_id, user.id, is_admin=user.is_admin)
        feedback = FeedbackService(db_session)
        rated = await feedback.left_by([order_id], user.id)
        o = view.order
        struck = await db_session.scalar(select(Strike.id).where(Strike.order_id == o.id, Strike.role == "buyer"))
        readable = messages.can_read(o, user.id, user.is_admin)
        admin_in_dispute = user.id not in (o.buyer_id, o.seller_id)
        return await render(request, db_session, "orders/detail.html",
                            can_read_messages=readable, message_max=message_rules.MESSAGE_MAX,
                            thread=await messages.messages_of(db_session, o.id) if readable else [],
                            can_post=readable and (not admin_in_dispute or o.status == "disputed"),
                            show_address=address_visible(o, user.id, user.is_admin), buyer_struck=struck is not None,
                            buyer_strikes=await strike_counts(db_session, o.buyer_id, utcnow()),
                            my_addresses=await AddressBook(db_session, user.id).list()
                            if user.id == o.buyer_id and o.status == "paid" else [],
                            row=_row(view, user.id, user.is_admin, rated, settings.auto_confirm_days),
                            events=await svc.timeline(order_id), feedback=await feedback.for_order(order_id),
                            labels=STATUS_LABELS, event_note=rules.timeline_note,
                            buyer_level=await _buyer_level(db_session, view.order.buyer_id),
                            buyer_growth=(await growth(db_session, view.order.buyer_id, utcnow(), settings))[0])

    @post("/orders/{order_id:int}/ship")
    async def ship(self, request: Request[Any, Any, Any], order_id: FromPath[int], data: Form, db_session: DB,
                   settings: AppSettings, user: AuthUser) -> Redirect:
        svc = OrderService(db_session, settings)
        return await act(request, db_session, _back(data, order_id),
                         lambda: svc.ship(order_id, user.id, str(data.get("tracking") or ""), is_admin=user.is_admin),
                         success=N_("Marked as shipped."),
                         refusals=ORDER_REFUSALS)

    @post("/orders/{order_id:int}/confirm")
    async def confirm(self, request: Request[Any, Any, Any], order_id: FromPath[int], data: Form, db_session: DB,
                      settings: AppSettings, user: AuthUser) -> Redirect:
        svc = OrderService(db_session, settings)
        return await act(request, db_session, _back(data, order_id),
                         lambda: svc.confirm(order_id, user.id, is_admin=user.is_admin),
                         success=N_("Receipt confirmed; the seller has been paid."),
                         refusals=ORDER_REFUSALS)

    @get("/orders/{order_id:int}/cancel")
    async def cancel_page(self, request: Request[Any, Any, Any], order_id: FromPath[int], db_session: DB,
                          settings: AppSettings, user: AuthUser) -> Template:
        """The confirmation step of cancelling (docs/rules.md §19.1): a reason, and what it costs."""
        svc = OrderService(db_session, settings)
        view = await svc.visible(order_id, user.id, is_admin=user.is_admin)
        return await render(request, db_session, "orders/cancel.html", v=view, o=view.order,
                            role="buyer" if user.id == view.order.buyer_id else "seller")

    @post("/orders/{order_id:int}/cancel")
    async def cancel(self, request: Request[Any, Any, Any], order_id: FromPath[int], data: Form, db_session: DB,
                     settings: AppSettings, user: AuthUser) -> Redirect:
        svc = OrderService(db_session, settings, publisher=request.app.state.publisher)
        reason, confirm = str(data.get("reason") or ""), bool(data.get("confirm"))
        return await act(request, db_session, _back(data, order_id),
                         lambda: svc.cancel(order_id, user.id, is_admin=user.is_admin, reason=reason,
                                             confirm=confirm),
                         success=N_("Order cancelled; the buyer has been refunded in full."),
                         refusals=ORDER_REFUSALS)

    @post("/orders/{order_id:int}/address")
    async def address(self, request: Request[Any, Any, Any], order_id: FromPath[int], data: Form, db_session: DB,
                      settings: AppSettings, user: AuthUser) -> Redirect:
        svc = OrderService(db_session, settings)
        view = await svc.visible(order_id, user.id, is_admin=user.is_admin)
        if view.order.buyer_id != user.id:
            raise WrongParty("Only the buyer chooses the shipping address.")
        address = await AddressBook(db_session, user.id).get(data.get("address_id"))
        return await act(request, db_session, _back(data, order_id),
                         lambda: svc.set_address(order_id, user.id, address.snapshot()),
                         success=N_("Shipping address saved; the seller can see it now."),
                         refusals=ORDER_REFUSALS)

    @post("/orders/{order_id:int}/dispute")
    async def dispute(self, request: Request[Any, Any, Any], order_id: FromPath[int], data: Form, db_session: DB,
                      settings: AppSettings, user: AuthUser) -> Redirect:
        svc = OrderService(db_session, settings)
        reason = str(data.get("reason") or "")
        return await act(request, db_session, _back(data, order_id),
                         lambda: svc.dispute(order_id, user.id, reason, is_admin=user.is_admin),
                         success=N_("Dispute opened; an administrator will look into it."),
                         refusals=ORDER_REFUSALS)

    @post("/orders/{order_id:int}/feedback")
    async def feedback(self, request: Request[Any, Any, Any], order_id: FromPath[int], data: Form, db_session: DB,
                       user: AuthUser) -> Redirect:
        svc = FeedbackService(db_session)
        rating, comment = str(data.get("rating") or ""), str(data.get("comment") or "")
        return await act(request, db_session, _back(data, order_id),
                         lambda: svc.leave(order_id, user.id, rating, comment),
                         success=N_("Thank you for your feedback."),
                         refusals=ORDER_REFUSALS)


class DisputeAdminViews(Controller):
    include_in_schema = False
    guards = (requires_admin,)

    @get("/admin/disputes")
    async def queue(self, request: Request[Any, Any, Any], db_session: DB, settings: AppSettings) -> Template:
        views = await OrderService(db_session, settings).disputed()
        # docs/rules.md §19.6: the parties' messages and evidence, read beside the resolve buttons
        threads = {v.order.id: await messages.messages_of(db_session, v.order.id) for v in views}
        return await render(request, db_session, "orders/admin_disputes.html", orders=views, labels=STATUS_LABELS,
                            threads=threads)

    @post("/admin/orders/{order_id:int}/resolve")
    async def resolve(self, request: Request[Any, Any, Any], order_id: FromPath[int], data: Form, db_session: DB,
                      settings: AppSettings, user: AuthUser) -> Redirect:
        svc = OrderService(db_session, settings)
        outcome = str(data.get("outcome") or "")
        data = {"next": "/admin/disputes", **data}
        done = (_("Order #%(id)s resolved: refunded to the buyer.", id=order_id) if outcome == "refund"
                else _("Order #%(id)s resolved: released to the seller.", id=order_id))
        return await act(request, db_session, _back(data, order_id),
                         lambda: svc.resolve(order_id, user.id, outcome),
                         success=done,
                         refusals=ORDER_REFUSALS)


PROFILE_PER_PAGE = 12


@get("/users/{username:str}", include_in_schema=False)
async def profile(request: Request[Any, Any, Any], username: FromPath[str], db_session: DB,
                  settings: AppSettings, page: FromQuery[int] = 1) -> Template:
    """A user's public profile with their feedback summary (the feedback belongs to orders), level and growth score
    with its parts (docs/rules.md §16) and their active listings, paginated (docs/rules.md §19.7; the one browse
    query, so hidden categories and suspended shops stay hidden)."""
    profile = await AccountService(db_session).by_username(username)
    me = current_user(request)
    listings = ListingService(db_session, settings)
    result = await listings.browse(BrowseQuery(seller_id=profile.id, status="active", sort="newest",
                                               page=max(1, page), per_page=PROFILE_PER_PAGE))
    items = await listings.out_many(result.items, me.id if me else None)
    extra = await FeedbackService(db_session).profile_context(profile.id)
    score, parts = await growth(db_session, profile.id, utcnow(), settings)
    return await render(request, db_session, "accounts/profile.html", profile=profile,
                        is_me=bool(me and me.id == profile.id),
                        member_level=await current_level(db_session, profile.id), growth_total=score,
                        growth_parts=parts, member_badges=await badges_of(db_session, profile.id),
                        seller_items=items, seller_result=result, items_url=f"/users/{profile.username}", **extra)


ROUTES = [OrderViews, DisputeAdminViews, FeedbackPhotoViews, profile]


async def _buyer_levels(db: Any, buyer_ids: list[int]) -> dict[int, str]:
    return await levels_of(db, sorted(set(buyer_ids)))


async def _buyer_level(db: Any, buyer_id: int) -> str:
    """The buyer's membership level, shown beside their name (docs/rules.md §13)."""
    return await current_level(db, buyer_id)
