"""docs/api.md "Membership, points, coupons, PLUS" (the Membership I part: levels and points)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class PlusOut(msgspec.Struct):
    active: bool = False
    until: datetime | None = None
    auto_renew: bool = False


class ExpiringOut(msgspec.Struct):
    points: int
    expires_at: datetime


class PointsOut(msgspec.Struct):
    available: int
    frozen: int
    expiring: list[ExpiringOut]


class GrowthOut(msgspec.Struct):
    total: int = 0
    parts: dict[str, int] = msgspec.field(default_factory=dict)


class BadgeOut(msgspec.Struct):
    code: str
    name: str


class MembershipOut(msgspec.Struct):
    level: str
    effective_spend: int
    next_level: str | None
    next_level_spend: int | None
    plus: PlusOut
    points: PointsOut
    growth_score: GrowthOut
    badges: list[BadgeOut]
    progress_percent: int = 0
    free_shipping_from: int = 0


class PublicMembershipOut(msgspec.Struct):
    level: str
    growth_score: GrowthOut
    badges: list[BadgeOut]


class PointsEntryOut(msgspec.Struct):
    id: int
    account: str
    points: int
    kind: str
    ref: str | None
    created_at: datetime
    memo: str = ""


class PointsEntryPage(msgspec.Struct):
    items: list[PointsEntryOut]
    total: int
    page: int
    per_page: int
