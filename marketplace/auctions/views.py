"""HTML: the bid form's POST, the bid history page (box, history, chart), "My bids".

The listing page itself belongs to the listings domain; it includes ``auctions/_auction_box.html``. Pass it
``**await auction_context(db_session, listing, user)`` to get the server-rendered history and chart (without it
the page script loads them from ``/listings/{id}/history?fragment=1``).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace import idempotency
from marketplace.accounts.services import CurrentUser
from marketplace.addresses.services import AddressBook
from marketplace.auctions import second_chance
from marketplace.auctions.api import bid_service, check_bid_rate
from marketplace.auctions.chart import price_chart
from marketplace.auctions.exceptions import AuctionNotFound
from marketplace.auctions.models import Bid
from marketplace.auctions.services import my_bids, price_points, price_steps, purchase
from marketplace.auctions.services import quote as checkout_quote
from marketplace.db import iso, utcnow
from marketplace.errors import DomainError
from marketplace.i18n import N_, _
from marketplace.listings.models import Listing
from marketplace.listings.serializers import auction_fields
from marketplace.listings.services import ensure_visible
from marketplace.listings.views import form_int, listing_page
from marketplace.membership import services as membership
from marketplace.numbers import parse_int
from marketplace.orders.models import Order
from marketplace.web.auth import current_user, requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser
from marketplace.web.pages import render

Form = URLEncodedBody[dict[str, Any]]


async def auction_context(session: AsyncSession, listing: Listing, viewer: CurrentUser | None) -> dict[str, Any]:
    """What ``auctions/_auction_box.html`` shows beyond the listing row: ``auction`` (API fields), ``history``
    (masked price steps) and ``chart`` (SVG geometry)."""
    history = await price_steps(session, listing.id)  # the caller checked the listing's visibility
    points = await price_points(session, listing.id)
    fields = auction_fields(listing, viewer.id if viewer else None)
    you_bid = False
    if viewer is not None:
        you_bid = await session.scalar(
            select(Bid.id).where(Bid.listing_id == listing.id, Bid.bidder_id == viewer.id).limit(1)
        ) is not None
    winner_order_id = None
    if viewer is not None and listing.status == "sold" and listing.leader_id == viewer.id:
        winner_order_id = await session.scalar(select(Order.id).where(
            Order.listing_id == listing.id, Order.buyer_id == viewer.id).order_by(Order.id.desc()).limit(1))
    return {"auction": {**fields, "you_bid": you_bid, "server_time": iso(utcnow())}, "history": history,
            "winner_order_id": winner_order_id,
            "chart": price_chart(points, listing.start_price or 0)}


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def _flash_act(request: Request[Any, Any, Any], db: AsyncSession, act: Any, back: str) -> Redirect:
    try:
        message = await act()
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        await db.rollback()
        flash(request, _(exc.detail), category="error")
    else:
        flash(request, message, category="success")
    return Redirect(back, status_code=303)


class AuctionViews(Controller):
    include_in_schema = False

    @get("/listings/{listing_id:int}/checkout", guards=[requires_login])
    async def checkout(self, request: Request[Any, Any, Any], listing_id: FromPath[int], user: AuthUser,
                       db_session: DB, settings: AppSettings) -> Template:
        """The confirmation step before paying (docs/rules.md §19.3): items, shipping, discounts, address, total
        and the balance after, priced by the membership service; the form carries a fresh idempotency key."""
        q = request.query_params
        try:
            quantity = form_int(dict(q), "quantity", "Quantity") or 1
            points = form_int(dict(q), "points", "Points") or 0
            coupon_id = form_int(dict(q), "coupon_id", "Coupon")
            quote = await checkout_quote(db_session, listing_id, user.id, quantity, points, utcnow(), settings)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await listing_page(request, db_session, settings, listing_id, auction_context, error=exc.detail,
                                      status_code=exc.status_code)
        # The coupon picker (docs/rules.md §15): every unused coupon, with why it cannot go on this purchase.
        lower = next(((str(d["kind"]), int(str(d["coins"]))) for d in quote.pricing.discounts
                      if d["kind"] in ("member_day", "plus_price")), None)
        coupons = await membership.coupon_choices(db_session, user.id, list_items_total=quote.quantity
                                                  * quote.unit_price, points=points, now=utcnow(),
                                                  lower_price=lower)
        coupon_error, status_code = None, 200
        if coupon_id is not None:
            try:
                quote = await checkout_quote(db_session, listing_id, user.id, quantity, points, utcnow(), settings,
                                             coupon_id=coupon_id)
            except DomainError as exc:  # shown on the page, priced without the coupon (nothing is written)
                if exc.status_code == 404:
                    raise
                coupon_error, status_code, coupon_id = exc.detail, exc.status_code, None
        addresses = await AddressBook(db_session, user.id).list()
        return await render(request, db_session, "checkout/confirm.html", quote=quote, points=points,
                            addresses=addresses, idempotency_key=idempotency.new_key(), coupons=coupons,
                            coupon_id=coupon_id, coupon_error=coupon_error, status_code=status_code,
                            back=f"/listings/{listing_id}/checkout?quantity={quote.quantity}&points={points}"
                                 + (f"&coupon_id={coupon_id}" if coupon_id is not None else ""))

    @post("/listings/{listing_id:int}/buy", guards=[requires_login])
    async def buy(self, request: Request[Any, Any, Any], listing_id: FromPath[int], data: Form, user: AuthUser,
                  db_session: DB, settings: AppSettings) -> Template | Redirect:
        """The checkout's "Confirm and pay" (fixed price or Buy Now): see :func:`services.purchase`. A second
        submission of the same form (same idempotency key) goes to the first order instead of buying again."""
        try:
            # An empty field means one unit; "0" is passed on and refused like in the API (not bought as 1).
            typed = form_int(data, "quantity", "Quantity")
            quantity = 1 if typed is None else typed
            points = form_int(data, "points", "Points") or 0
            coupon_id = form_int(data, "coupon_id", "Coupon")  # docs/rules.md §15 (the checkout's picker)
            key = idempotency.clean_key(data.get(idempotency.FORM_FIELD))

            async def work() -> tuple[int, dict[str, Any]]:
                order = await purchase(db_session, settings, listing_id, user.id, quantity, utcnow(),
                                       publisher=request.app.state.publisher, points=points,
                                       address_id=data.get("address_id") or None, coupon_id=coupon_id)
                return 303, {"order_id": order.id, "total": order.total}

            stored, replayed = await idempotency.run_once(db_session, user_id=user.id, endpoint=f"buy:{listing_id}",
                                                          key=key, work=work)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            await db_session.rollback()
            return await listing_page(request, db_session, settings, listing_id, auction_context, error=exc.detail,
                                      status_code=exc.status_code)
        order_id, total = stored.response["order_id"], stored.response["total"]
        if replayed:
            flash(request, _("This purchase was already made: order #%(order)s. Nothing was charged twice.",
                             order=order_id), category="success")
        else:
            flash(request, _("Bought! Order #%(order)s: %(total)s coins are held in escrow until you confirm receipt.",
                             order=order_id, total=total), category="success")
        return Redirect(f"/orders/{order_id}", status_code=303)

    @post("/listings/{listing_id:int}/bid", guards=[requires_login])
    async def bid(self, request: Request[Any, Any, Any], listing_id: FromPath[int], data: Form, user: AuthUser,
                  db_session: DB) -> Redirect | Response[Any]:
        back = f"/listings/{listing_id}"
        raw = str(data.get("max_amount", "")).strip()
        try:
            await check_bid_rate(request, user.id)
            amount = parse_int(raw, label="Your maximum bid")  # strict digits (marketplace/numbers.py)
            result = await bid_service(request, db_session).place_bid(listing_id, user.id, amount, utcnow())
        except DomainError as exc:
            # Nothing of a refused bid may be committed (the 303 below would commit the request session).
            await db_session.rollback()
            if exc.status_code == 404 and not _wants_json(request):
                raise  # a listing the bidder may not see (docs/rules.md §10): 404, not a redirect to it
            if _wants_json(request):
                return Response({"ok": False, "status_code": exc.status_code, "detail": _(exc.detail)},
                                status_code=exc.status_code, media_type=MediaType.JSON)
            flash(request, _(exc.detail), category="error")
            return Redirect(back, status_code=303)
        fields = auction_fields(result.listing, user.id)
        message = (_("You lead!") if fields["you_lead"]
                   else _("Bid accepted, but another bidder's maximum is higher: you were outbid."))
        if _wants_json(request):
            return Response({"ok": True, "detail": message, **fields}, status_code=201, media_type=MediaType.JSON)
        flash(request, message, category="success" if fields["you_lead"] else "error")
        return Redirect(back, status_code=303)

    @get("/listings/{listing_id:int}/history")
    async def history(self, request: Request[Any, Any, Any], listing_id: FromPath[int], db_session: DB,
                      fragment: FromQuery[int] = 0) -> Template:
        viewer = current_user(request)
        listing = await ensure_visible(db_session, await db_session.get(Listing, listing_id),
                                       viewer.id if viewer else None, is_admin=bool(viewer and viewer.is_admin))
        if listing.mode != "auction":
            raise AuctionNotFound()
        ctx = await auction_context(db_session, listing, viewer)
        if fragment:
            return Template(template_name="auctions/_history.html", context=ctx)
        return await render(request, db_session, "auctions/history.html", listing=listing, listing_json=None,
                            **ctx)

    @get("/my/bids", guards=[requires_login])
    async def my_bids_page(self, request: Request[Any, Any, Any], user: AuthUser, db_session: DB) -> Template:
        rows = await my_bids(db_session, user.id)
        return await render(request, db_session, "auctions/my_bids.html", rows=rows,
                            offers=await second_chance.pending_for(db_session, user.id, utcnow()),
                            idempotency_key=idempotency.new_key())

    @post("/orders/{order_id:int}/second-chance", guards=[requires_login])
    async def second_chance_offer(self, request: Request[Any, Any, Any], order_id: FromPath[int], data: Form,
                                  user: AuthUser, db_session: DB) -> Redirect:
        async def act() -> str:
            sco = await second_chance.offer(db_session, order_id, user.id, utcnow())
            return _("Offered to the runner-up at %(price)s coins for 48 hours.", price=sco.price)
        return await _flash_act(request, db_session, act, f"/orders/{order_id}")

    @post("/orders/{order_id:int}/relist", guards=[requires_login])
    async def relist(self, request: Request[Any, Any, Any], order_id: FromPath[int], data: Form, user: AuthUser,
                     db_session: DB) -> Redirect:
        try:
            listing = await second_chance.relist(db_session, order_id, user.id, utcnow(),
                                                 request.app.state.get("jobs"))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            await db_session.rollback()
            flash(request, _(exc.detail), category="error")
            return Redirect(f"/orders/{order_id}", status_code=303)
        flash(request, N_("Relisted as a new auction, free of charge."), category="success")
        return Redirect(f"/listings/{listing.id}", status_code=303)

    @post("/second-chance-offers/{offer_id:int}/accept", guards=[requires_login])
    async def accept_offer(self, request: Request[Any, Any, Any], offer_id: FromPath[int], data: Form,
                           user: AuthUser, db_session: DB) -> Redirect:
        try:
            key = idempotency.clean_key(data.get(idempotency.FORM_FIELD))

            async def work() -> tuple[int, dict[str, Any]]:
                order = await second_chance.accept(db_session, offer_id, user.id, utcnow())
                return 303, {"order_id": order.id}

            stored, _ = await idempotency.run_once(db_session, user_id=user.id,
                                                   endpoint=f"second-chance:{offer_id}", key=key, work=work)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            await db_session.rollback()
            flash(request, _(exc.detail), category="error")
            return Redirect("/my/bids", status_code=303)
        flash(request, N_("Offer accepted: your order is paid into escrow."), category="success")
        return Redirect(f"/orders/{stored.response['order_id']}", status_code=303)

    @post("/second-chance-offers/{offer_id:int}/decline", guards=[requires_login])
    async def decline_offer(self, request: Request[Any, Any, Any], offer_id: FromPath[int], data: Form,
                            user: AuthUser, db_session: DB) -> Redirect:
        async def act() -> str:
            await second_chance.decline(db_session, offer_id, user.id)
            return "Offer declined."
        return await _flash_act(request, db_session, act, "/my/bids")


ROUTES = [AuctionViews]
