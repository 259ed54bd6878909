from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from marketplace.orders.rules import auto_confirm_at
from marketplace.orders.services import OrderView, address_visible


class DiscountOut(msgspec.Struct):
    kind: str  # points | coupon | member_day | plus_price | free_shipping
    coins: int


class OrderOut(msgspec.Struct):
    """docs/api.md's order, plus names and the shipping details the pages show."""

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
    # docs/rules.md §15: how the total was made (total = items_total + shipping_fee − discounts)
    items_total: int = 0
    shipping_fee: int = 0
    points_used: int = 0
    discounts: list[DiscountOut] = msgspec.field(default_factory=list)
    platform_paid: int = 0
    payout: int = 0
    # docs/rules.md §19: purchase | buy_now | auction | second_chance; the address only for whom may see it
    source: str = "purchase"
    shipping_address: dict[str, str] | None = None
    cancel_reason: str | None = None

    @classmethod
    def of(cls, view: OrderView, auto_confirm_days: int, viewer_id: int | None = None,
           is_admin: bool = False) -> OrderOut:
        o = view.order
        return cls(
            source=o.source, cancel_reason=o.cancel_reason,
            shipping_address=o.shipping_address if address_visible(o, viewer_id, is_admin) else None,
            id=o.id, listing_id=o.listing_id, buyer_id=o.buyer_id, seller_id=o.seller_id, quantity=o.quantity,
            unit_price=o.unit_price, total=o.total, fee=o.fee, status=o.status, created_at=o.created_at,
            shipped_at=o.shipped_at, completed_at=o.completed_at, listing_title=view.listing_title,
            listing_mode=view.listing_mode, buyer_username=view.buyer_username,
            seller_username=view.seller_username, tracking=o.tracking, dispute_reason=o.dispute_reason,
            closed_at=o.closed_at,
            auto_confirm_at=auto_confirm_at(o.shipped_at, auto_confirm_days)
            if o.status == "shipped" and o.shipped_at else None,
            items_total=o.items_total, shipping_fee=o.shipping_fee, points_used=o.points_used,
            discounts=[DiscountOut(kind=str(d["kind"]), coins=int(str(d["coins"]))) for d in o.discounts or []],
            platform_paid=o.platform_paid, payout=o.payout if o.status == "completed" else 0,
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


class CancelIn(msgspec.Struct, forbid_unknown_fields=False):
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""
    confirm: bool = False


class AddressChoiceIn(msgspec.Struct, forbid_unknown_fields=False):
    address_id: int


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


class StrikesOut(msgspec.Struct):
    user_id: int
    buyer: int  # won auctions the user cancelled, last 365 days
    seller: int  # orders the user cancelled as the seller, last 365 days
