"""JSON API for prepaid coin cards (docs/api.md "Prepaid coin cards")."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from marketplace.cards.deps import Cards
from marketplace.cards.exceptions import InvalidCard, InvalidCardInput
from marketplace.cards.schemas import (
    BatchActivated,
    BatchCreated,
    BatchIn,
    BatchOut,
    CardDetail,
    CardOut,
    EventOut,
    ExchangedOut,
    RedeemIn,
    RedeemOut,
    SaleIn,
)
from marketplace.web.auth import requires_admin, requires_login
from marketplace.web.deps import DB, AuthUser


async def _strict_int(request: Request[Any, Any, Any], name: str) -> int:
    """Litestar's body conversion is lax ("100" or 100.0 would pass as 100); coin amounts must be JSON integers."""
    raw = await request.json()
    value = raw.get(name) if isinstance(raw, dict) else None
    if type(value) is not int:
        raise InvalidCardInput("“%(name)s” must be a whole number.", name=name)
    return value


class CardBatchAdmin(Controller):
    path = "/admin/card-batches"
    guards = (requires_admin,)
    tags = ("cards", "admin")

    @get("/", summary="Card batches, newest first, with counts and coins by card status")
    async def list_batches(self, card_service: Cards) -> list[BatchOut]:
        return [BatchOut.of(s) for s in await card_service.list_batches()]

    @post("/", status_code=201, summary="The maker creates a batch (status created)")
    async def create(self, request: Request[Any, Any, Any], data: JSONBody[BatchIn], user: AuthUser,
                     card_service: Cards) -> BatchCreated:
        b = await card_service.create_batch(
            user.id, face_value=await _strict_int(request, "face_value"), count=await _strict_int(request, "count"),
            expires_on=data.expires_on, note=data.note)
        return BatchCreated(id=b.id, status=b.status, face_value=b.face_value, count=b.count,
                            created_by=user.username, created_by_id=user.id, expires_on=b.expires_on, note=b.note,
                            created_at=b.created_at)

    @get("/{batch_id:int}", summary="One batch with issued/new/sold/redeemed/void counts and coins")
    async def detail(self, batch_id: FromPath[int], card_service: Cards) -> BatchOut:
        return BatchOut.of(await card_service.summary(batch_id))

    @get("/{batch_id:int}/events", summary="The batch's audit log, newest first: every step and who took it")
    async def events(self, batch_id: FromPath[int], card_service: Cards,
                     limit: FromQuery[int] = 100) -> list[EventOut]:
        await card_service.summary(batch_id)  # 404 for an unknown batch
        events = await card_service.events(batch_id=batch_id, limit=max(1, min(limit, 1000)))
        return [EventOut.of(e) for e in events]

    @post("/{batch_id:int}/activate", status_code=200,
          summary="A different admin (the checker) activates a created batch; 403 for its maker")
    async def activate(self, batch_id: FromPath[int], user: AuthUser, card_service: Cards) -> BatchActivated:
        b = await card_service.activate(batch_id, user.id)
        return BatchActivated(id=b.id, status=b.status, activated_by=user.username, activated_by_id=user.id,
                              activated_at=b.activated_at)

    @get("/{batch_id:int}/export", media_type="text/csv",
         summary="The batch's numbers and secrets as CSV, exactly once (409 afterwards)")
    async def export(self, batch_id: FromPath[int], user: AuthUser, card_service: Cards) -> Response[str]:
        body = await card_service.export(batch_id, user.id)
        return csv_response(body, batch_id)


def csv_response(body: str, batch_id: int) -> Response[str]:
    return Response(body, media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="card-batch-{batch_id}.csv"',
        "Cache-Control": "no-store",
    })


class CardAdmin(Controller):
    path = "/admin/cards"
    guards = (requires_admin,)
    tags = ("cards", "admin")

    @get("/{number:str}", summary="One card and its audit log")
    async def detail(self, number: FromPath[str], card_service: Cards) -> CardDetail:
        card = await card_service.card(number)
        events = await card_service.events(card_id=card.id)
        return CardDetail(card=CardOut.of(card, await card_service.batch_of(card)),
                          events=[EventOut.of(e) for e in events])

    @post("/{number:str}/sell", status_code=200, summary="售卡: record the sale of a new card (buyer, price)")
    async def sell(self, request: Request[Any, Any, Any], number: FromPath[str], data: JSONBody[SaleIn],
                   user: AuthUser, card_service: Cards) -> CardOut:
        card = await card_service.sell(number, user.id, data.buyer, await _strict_int(request, "price"))
        return CardOut.of(card, await card_service.batch_of(card))

    @post("/{number:str}/void", status_code=200, summary="注销: void an unredeemed card")
    async def void(self, number: FromPath[str], user: AuthUser, card_service: Cards) -> CardOut:
        card = await card_service.void(number, user.id)
        return CardOut.of(card, await card_service.batch_of(card))

    @post("/{number:str}/refund", status_code=200, summary="退卡: take back a sold, unredeemed card (it is voided)")
    async def refund(self, number: FromPath[str], user: AuthUser, card_service: Cards) -> CardOut:
        card = await card_service.refund(number, user.id)
        return CardOut.of(card, await card_service.batch_of(card))

    @post("/{number:str}/exchange", status_code=200,
          summary="调换: replace an unredeemed card; answers the new card with its secret (shown once)")
    async def exchange(self, number: FromPath[str], user: AuthUser, card_service: Cards) -> ExchangedOut:
        done = await card_service.exchange(number, user.id)
        batch = await card_service.batch_of(done.new)
        return ExchangedOut(number=done.new.number, status=done.new.status, secret=done.secret,
                            replaces=done.old.number, batch_id=batch.id, face_value=batch.face_value,
                            expires_on=batch.expires_on)


@post("/cards/redeem", status_code=200, guards=[requires_login], tags=["cards"],
      summary="Redeem a card: its face value goes to your available coins")
async def redeem(data: JSONBody[RedeemIn], user: AuthUser, db_session: DB, card_service: Cards) -> RedeemOut:
    try:
        done = await card_service.redeem(user.id, data.number, data.secret)
    except InvalidCard:
        # The failure just recorded is the lockout's and the throttle's memory: keep it although we answer 400.
        await db_session.commit()
        raise
    return RedeemOut(coins=done.coins, available=done.available, number=done.card.number)


ROUTES = [CardBatchAdmin, CardAdmin, redeem]
