from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from marketplace.orders.rules import auto_confirm_at
from marketplace.orders.services import OrderView


class OrderOut(msgspec.Struct):
    """API.md's order, plus names and the shipping details the pages show."""

    id: int
    listing_id: int
    buyer_id: int
    seller_id: int
    quantity: int
    unit_price: int
    total: int
    fee: int
    status: str
    created_at: datetime
    shipped_at: datetime | None
    completed_at: datetime | None
    listing_title: str
    listing_mode: str
    buyer_username: str
    seller_username: str
    tracking: str | None
    dispute_reason: str | None
    closed_at: datetime | None
    auto_confirm_at: datetime | None

    @classmethod
    def of(cls, view: OrderView, auto_confirm_days: int) -> OrderOut:
        o = view.order
        return cls(
            id=o.id, listing_id=o.listing_id, buyer_id=o.buyer_id, seller_id=o.seller_id, quantity=o.quantity,
            unit_price=o.unit_price, total=o.total, fee=o.fee, status=o.status, created_at=o.created_at,
            shipped_at=o.shipped_at, completed_at=o.completed_at, listing_title=view.listing_title,
            listing_mode=view.listing_mode, buyer_username=view.buyer_username,
            seller_username=view.seller_username, tracking=o.tracking, dispute_reason=o.dispute_reason,
            closed_at=o.closed_at,
            auto_confirm_at=auto_confirm_at(o.shipped_at, auto_confirm_days)
            if o.status == "shipped" and o.shipped_at else None,
        )


class OrderPage(msgspec.Struct):
    items: list[OrderOut]
    total: int
    page: int
    per_page: int


class ShipIn(msgspec.Struct, forbid_unknown_fields=False):
    tracking: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class DisputeIn(msgspec.Struct, forbid_unknown_fields=False):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ResolveIn(msgspec.Struct, forbid_unknown_fields=False):
    outcome: Literal["refund", "release"]


class FeedbackIn(msgspec.Struct, forbid_unknown_fields=False):
    rating: Literal["positive", "neutral", "negative"]
    comment: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class FeedbackOut(msgspec.Struct):
    id: int
    order_id: int
    from_user_id: int
    to_user_id: int
    role: str
    rating: str
    comment: str
    created_at: datetime
