"""JSON API: place a bid, read the public bid history (API.md "Listings, bids, purchases")."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, JSONBody

from marketplace.auctions.exceptions import InvalidBid
from marketplace.auctions.schemas import BidIn, BidPlaced, BidStep
from marketplace.auctions.services import BidService, bid_history, purchase
from marketplace.db import utcnow
from marketplace.errors import InvalidInput, RateLimited
from marketplace.listings.schemas import BuyIn
from marketplace.orders.schemas import OrderOut
from marketplace.orders.services import OrderService
from marketplace.web.auth import requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser


async def check_bid_rate(request: Request[Any, Any, Any], user_id: int) -> None:
    """RULES.md §11: at most ``bid_rate_limit`` bid attempts per user per minute, across every process."""
    limiter = request.app.state.rate_limiter
    key = f"bids:{user_id}"
    if await limiter.hit(key, 60) > request.app.state.settings.bid_rate_limit:
        raise RateLimited("Too many bids; slow down.", retry_after=await limiter.retry_after(key))


def bid_service(request: Request[Any, Any, Any], db_session: DB) -> BidService:
    state = request.app.state
    return BidService(db_session, state.settings, publisher=state.publisher, jobs=state.get("jobs"))


@post("/listings/{listing_id:int}/bids", guards=[requires_login], status_code=201, tags=["auctions"],
      summary="Bid a maximum on an auction (proxy bidding)")
async def place_bid(request: Request[Any, Any, Any], listing_id: FromPath[int], data: JSONBody[BidIn],
                    user: AuthUser, db_session: DB) -> BidPlaced:
    await check_bid_rate(request, user.id)
    # Litestar's body conversion is lax ("100" or 100.0 would pass as 100); a bid must be a JSON integer.
    raw = await request.json()
    if not isinstance(raw, dict) or type(raw.get("max_amount")) is not int:
        raise InvalidBid()
    if raw.get("points"):  # docs/rules.md §14: points are redeemed on purchases, never on bids
        raise InvalidInput("Points cannot be redeemed on a bid; use them with Buy Now or a fixed-price purchase.")
    result = await bid_service(request, db_session).place_bid(listing_id, user.id, data.max_amount, utcnow())
    return BidPlaced.of(result.listing, user.id)


@get("/listings/{listing_id:int}/bids", tags=["auctions"], summary="Public bid history: price steps, newest first")
async def list_bids(listing_id: FromPath[int], db_session: DB) -> list[BidStep]:
    return await bid_history(db_session, listing_id)


@post("/listings/{listing_id:int}/buy", status_code=201, guards=[requires_login], tags=["listings"],
      summary="Buy at the fixed price (or Buy Now on an auction without bids)")
async def buy(request: Request[Any, Any, Any], listing_id: FromPath[int], user: AuthUser, db_session: DB,
              settings: AppSettings, data: JSONBody[BuyIn | None] = None) -> OrderOut:
    quantity = data.quantity if data is not None else 1  # an empty body buys one unit
    points = data.points if data is not None else 0  # docs/rules.md §14: redeemed on this order
    coupon_id = data.coupon_id if data is not None else None  # docs/rules.md §15
    order = await purchase(db_session, settings, listing_id, user.id, quantity, utcnow(),
                           publisher=request.app.state.publisher, points=points, coupon_id=coupon_id)
    # The same order object as GET /orders/{id}.
    view = await OrderService(db_session, settings).view(order.id)
    return OrderOut.of(view, settings.auto_confirm_days)


ROUTES = [place_bid, list_bids, buy]
