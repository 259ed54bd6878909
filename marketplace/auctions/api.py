"""JSON API: place a bid, read the public bid history (docs/api.md "Listings, bids, purchases")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from marketplace import idempotency
from marketplace.auctions import second_chance
from marketplace.auctions.batching import BidBatcher, bid_endpoint
from marketplace.auctions.exceptions import InvalidBid
from marketplace.auctions.models import SecondChanceOffer
from marketplace.auctions.schemas import BidIn, BidPlaced, BidStep
from marketplace.auctions.services import BidService, bid_history, purchase
from marketplace.db import utcnow
from marketplace.errors import InvalidInput, RateLimited
from marketplace.listings.schemas import BuyIn
from marketplace.orders.schemas import OrderOut
from marketplace.orders.services import OrderService
from marketplace.web.auth import requires_login
from marketplace.web.deps import DB, AppSettings, AuthUser, MaybeUser


async def check_bid_rate(request: Request[Any, Any, Any], user_id: int) -> None:
    """docs/rules.md §11: at most ``bid_rate_limit`` bid attempts per user per minute, across every process."""
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
                    user: AuthUser, db_session: DB) -> Response[Any]:
    await check_bid_rate(request, user.id)
    # Litestar's body conversion is lax ("100" or 100.0 would pass as 100); a bid must be a JSON integer.
    raw = await request.json()
    if not isinstance(raw, dict) or type(raw.get("max_amount")) is not int:
        raise InvalidBid()
    if raw.get("points"):  # docs/rules.md §14: points are redeemed on purchases, never on bids
        raise InvalidInput("Points cannot be redeemed on a bid; use them with Buy Now or a fixed-price purchase.")
    key = idempotency.clean_key(request.headers.get(idempotency.HEADER))
    now = utcnow()
    if not request.app.state.settings.bid_batching:  # MARKETPLACE_BID_BATCHING=0: one transaction per bid
        service = bid_service(request, db_session)

        async def work() -> tuple[int, dict[str, Any]]:
            result = await service.place_bid(listing_id, user.id, data.max_amount, now)
            return 201, msgspec.to_builtins(BidPlaced.of(result.listing, user.id))

        stored, _ = await idempotency.run_once(db_session, user_id=user.id, endpoint=bid_endpoint(listing_id),
                                               key=key, work=work)
        return Response(stored.response, status_code=stored.status_code, media_type=MediaType.JSON)
    # The bid joins the auction's next batch, which answers it after its own commit (auctions/batching.py); the
    # request itself touches no table.
    batcher: BidBatcher = request.app.state.bid_batcher
    stored = await batcher.submit(listing_id, user.id, data.max_amount, now, key)
    return Response(stored.response, status_code=stored.status_code, media_type=MediaType.JSON)


@get("/listings/{listing_id:int}/bids", tags=["auctions"], summary="Public bid history: price steps, newest first")
async def list_bids(listing_id: FromPath[int], db_session: DB, optional_user: MaybeUser) -> list[BidStep]:
    return await bid_history(db_session, listing_id, optional_user.id if optional_user else None,
                             is_admin=bool(optional_user and optional_user.is_admin))


@post("/listings/{listing_id:int}/buy", status_code=201, guards=[requires_login], tags=["listings"],
      summary="Buy at the fixed price (or Buy Now on an auction without bids); Idempotency-Key header honoured")
async def buy(request: Request[Any, Any, Any], listing_id: FromPath[int], user: AuthUser, db_session: DB,
              settings: AppSettings, data: JSONBody[BuyIn | None] = None) -> Response[Any]:
    quantity = data.quantity if data is not None else 1  # an empty body buys one unit
    points = data.points if data is not None else 0  # docs/rules.md §14: redeemed on this order
    coupon_id = data.coupon_id if data is not None else None  # docs/rules.md §15
    address_id = data.address_id if data is not None else None  # docs/rules.md §19.4
    key = idempotency.clean_key(request.headers.get(idempotency.HEADER))

    async def work() -> tuple[int, dict[str, Any]]:
        order = await purchase(db_session, settings, listing_id, user.id, quantity, utcnow(),
                               publisher=request.app.state.publisher, points=points, address_id=address_id,
                               coupon_id=coupon_id)
        # The same order object as GET /orders/{id}.
        view = await OrderService(db_session, settings).view(order.id)
        return 201, msgspec.to_builtins(OrderOut.of(view, settings.auto_confirm_days, user.id, user.is_admin))

    stored, _ = await idempotency.run_once(db_session, user_id=user.id, endpoint=f"buy:{listing_id}", key=key,
                                           work=work)
    return Response(stored.response, status_code=stored.status_code, media_type=MediaType.JSON)


class SecondChanceOut(msgspec.Struct):
    id: int
    listing_id: int
    cancelled_order_id: int
    buyer_id: int
    price: int
    status: str
    expires_at: datetime
    order_id: int | None

    @classmethod
    def of(cls, o: SecondChanceOffer) -> SecondChanceOut:
        return cls(id=o.id, listing_id=o.listing_id, cancelled_order_id=o.cancelled_order_id, buyer_id=o.buyer_id,
                   price=o.price, status=o.status, expires_at=o.expires_at, order_id=o.order_id)


class RelistOut(msgspec.Struct):
    listing_id: int


class AcceptIn(msgspec.Struct, forbid_unknown_fields=False):
    address_id: int | None = None


@post("/orders/{order_id:int}/second-chance", status_code=201, guards=[requires_login], tags=["auctions"],
      summary="The seller offers a cancelled win to the runner-up at their maximum, for 48 h (docs/rules.md §19.2)")
async def second_chance_offer(order_id: FromPath[int], user: AuthUser, db_session: DB) -> SecondChanceOut:
    return SecondChanceOut.of(await second_chance.offer(db_session, order_id, user.id, utcnow()))


@post("/orders/{order_id:int}/relist", status_code=201, guards=[requires_login], tags=["auctions"],
      summary="The seller relists a cancelled win as a new auction, free (docs/rules.md §19.2)")
async def relist(request: Request[Any, Any, Any], order_id: FromPath[int], user: AuthUser,
                 db_session: DB) -> RelistOut:
    listing = await second_chance.relist(db_session, order_id, user.id, utcnow(), request.app.state.get("jobs"))
    return RelistOut(listing_id=listing.id)


@get("/me/second-chance-offers", guards=[requires_login], tags=["auctions"],
     summary="Second-chance offers waiting for my answer")
async def my_offers(user: AuthUser, db_session: DB) -> list[SecondChanceOut]:
    return [SecondChanceOut.of(o) for o, _ in await second_chance.pending_for(db_session, user.id, utcnow())]


@post("/second-chance-offers/{offer_id:int}/accept", status_code=201, guards=[requires_login], tags=["auctions"],
      summary="The runner-up accepts: an order at the offered price (402 when short); Idempotency-Key honoured")
async def accept_offer(request: Request[Any, Any, Any], offer_id: FromPath[int], user: AuthUser, db_session: DB,
                       settings: AppSettings, data: JSONBody[AcceptIn | None] = None) -> Response[Any]:
    key = idempotency.clean_key(request.headers.get(idempotency.HEADER))

    async def work() -> tuple[int, dict[str, Any]]:
        order = await second_chance.accept(db_session, offer_id, user.id, utcnow(),
                                           data.address_id if data else None)
        view = await OrderService(db_session, settings).view(order.id)
        return 201, msgspec.to_builtins(OrderOut.of(view, settings.auto_confirm_days, user.id, user.is_admin))

    stored, _ = await idempotency.run_once(db_session, user_id=user.id, endpoint=f"second-chance:{offer_id}",
                                           key=key, work=work)
    return Response(stored.response, status_code=stored.status_code, media_type=MediaType.JSON)


@post("/second-chance-offers/{offer_id:int}/decline", status_code=200, guards=[requires_login],
      tags=["auctions"], summary="The runner-up declines the offer")
async def decline_offer(offer_id: FromPath[int], user: AuthUser, db_session: DB) -> SecondChanceOut:
    return SecondChanceOut.of(await second_chance.decline(db_session, offer_id, user.id))


ROUTES = [place_bid, list_bids, buy, second_chance_offer, relist, my_offers, accept_offer, decline_offer]
