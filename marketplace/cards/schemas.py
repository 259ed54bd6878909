"""JSON shapes of docs/api.md "Prepaid coin cards" (fields beyond the contract are additions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from marketplace.cards.models import Card, CardBatch
from marketplace.cards.services import BatchSummary, EventView


class BatchIn(msgspec.Struct, forbid_unknown_fields=False):
    face_value: int
    count: int
    expires_on: date
    note: str = ""


class SaleIn(msgspec.Struct, forbid_unknown_fields=False):
    buyer: str
    price: int


class RedeemIn(msgspec.Struct, forbid_unknown_fields=False):
    number: Annotated[str, msgspec.Meta(max_length=64)]
    secret: Annotated[str, msgspec.Meta(max_length=64)]


class RedeemOut(msgspec.Struct):
    coins: int
    available: int
    number: str


class BatchCreated(msgspec.Struct):
    id: int
    status: str
    face_value: int
    count: int
    created_by: str
    created_by_id: int
    expires_on: date
    note: str
    created_at: datetime


class BatchActivated(msgspec.Struct):
    id: int
    status: str
    activated_by: str
    activated_by_id: int
    activated_at: datetime | None


class StatusCoins(msgspec.Struct):
    issued: int
    new: int
    sold: int
    redeemed: int
    void: int


class Sales(msgspec.Struct):
    count: int
    price_total: int


class BatchOut(msgspec.Struct):
    """A batch with its cards by current status: ``issued`` = every card (new + sold + redeemed + void, including
    exchange replacements); ``coins`` = the same counts × face value; ``sales`` = sales recorded (each once; an
    exchange moves its sale to the replacement) and their prices; ``refunds`` = the sales taken back."""

    id: int
    status: str
    face_value: int
    count: int
    expires_on: date
    note: str
    created_by: str
    created_by_id: int
    created_at: datetime
    activated_by: str | None
    activated_by_id: int | None
    activated_at: datetime | None
    exported: bool
    exported_by: str | None
    exported_at: datetime | None
    issued: int
    new: int
    sold: int
    redeemed: int
    void: int
    issued_coins: int
    sold_coins: int
    redeemed_coins: int
    void_coins: int
    coins: StatusCoins
    sales: Sales
    refunds: Sales

    @classmethod
    def of(cls, s: BatchSummary) -> BatchOut:
        b = s.batch
        return cls(
            id=b.id, status=b.status, face_value=b.face_value, count=b.count, expires_on=b.expires_on, note=b.note,
            created_by=s.created_by, created_by_id=b.created_by_id, created_at=b.created_at,
            activated_by=s.activated_by, activated_by_id=b.activated_by_id, activated_at=b.activated_at,
            exported=b.exported_at is not None, exported_by=s.exported_by, exported_at=b.exported_at,
            issued=s.issued, new=s.count("new"), sold=s.count("sold"), redeemed=s.count("redeemed"),
            void=s.count("void"), issued_coins=s.coins(), sold_coins=s.coins("sold"),
            redeemed_coins=s.coins("redeemed"), void_coins=s.coins("void"),
            coins=StatusCoins(issued=s.coins(), new=s.coins("new"), sold=s.coins("sold"),
                              redeemed=s.coins("redeemed"), void=s.coins("void")),
            sales=Sales(count=s.sales_count, price_total=s.sales_total),
            refunds=Sales(count=s.refunds_count, price_total=s.refunds_total),
        )


class EventOut(msgspec.Struct):
    id: int
    batch_id: int
    card_number: str | None
    action: str
    actor: str | None
    detail: str
    created_at: datetime

    @classmethod
    def of(cls, e: EventView) -> EventOut:
        return cls(id=e.id, batch_id=e.batch_id, card_number=e.card_number, action=e.action, actor=e.actor,
                   detail=e.detail, created_at=e.created_at)


class CardOut(msgspec.Struct):
    number: str
    status: str
    batch_id: int
    face_value: int
    expires_on: date
    sold_to: str | None
    sold_price: int | None
    sold_at: datetime | None
    redeemed_at: datetime | None
    voided_at: datetime | None
    void_reason: str | None

    @classmethod
    def of(cls, card: Card, batch: CardBatch) -> CardOut:
        return cls(number=card.number, status=card.status, batch_id=card.batch_id, face_value=batch.face_value,
                   expires_on=batch.expires_on, sold_to=card.sold_to, sold_price=card.sold_price,
                   sold_at=card.sold_at, redeemed_at=card.redeemed_at, voided_at=card.voided_at,
                   void_reason=card.void_reason)


class ExchangedOut(msgspec.Struct):
    """The replacement card, its secret (shown this once), and the number it replaces."""

    number: str
    status: str
    secret: str
    replaces: str
    batch_id: int
    face_value: int
    expires_on: date


class CardDetail(msgspec.Struct):
    card: CardOut
    events: list[EventOut]
