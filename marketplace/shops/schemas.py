"""JSON shapes of docs/api.md's Shops section (extra fields are allowed by the contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from marketplace.accounts.schemas import UserRef
from marketplace.settings import ShopPlan


class PlanOut(msgspec.Struct):
    code: str
    name: str
    price: int
    period_days: int
    free_listings: int
    max_images: int

    @classmethod
    def of(cls, plan: ShopPlan) -> PlanOut:
        return cls(code=plan.code, name=plan.name, price=plan.price, period_days=plan.period_days,
                   free_listings=plan.free_listings, max_images=plan.max_images)


class ShopCreate(msgspec.Struct, forbid_unknown_fields=False):
    name: Annotated[str, msgspec.Meta(max_length=200)]
    slug: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    plan: Annotated[str, msgspec.Meta(max_length=32)] = "basic"
    auto_renew: bool = True
    description: Annotated[str, msgspec.Meta(max_length=20_000)] = ""


class ShopUpdate(msgspec.Struct, forbid_unknown_fields=False):
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=20_000)] | None = None
    auto_renew: bool | None = None
    plan: Annotated[str, msgspec.Meta(max_length=32)] | None = None


class RatingOut(msgspec.Struct):
    score: int
    positive_percent: float | None
    positive: int
    neutral: int
    negative: int
    count: int


class ShopOut(msgspec.Struct):
    id: int
    slug: str
    name: str
    description: str
    plan: str
    next_plan: str | None
    status: str
    paid_until: datetime
    period_started_at: datetime
    auto_renew: bool
    owner: UserRef
    logo_url: str | None
    banner_url: str | None
    created_at: datetime
    # Only for the owner (and admins): how many free listings are left in the current quota period.
    free_listings_remaining: int | None = None


class ShopDetailOut(ShopOut, kw_only=True):
    listing_count: int
    rating: RatingOut
