"""Events of the membership domain (see marketplace/events.py). Notifications subscribes to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class LevelChanged:
    """A member's level changed (docs/rules.md §13: ``level_changed``)."""

    user_id: int
    old_level: str
    new_level: str
    effective_spend: int
    at: datetime


@dataclass(frozen=True, slots=True)
class PointsUnfrozen:
    """Points earned on an order became available (docs/rules.md §12: ``points_unfrozen``)."""

    user_id: int
    order_id: int | None
    points: int
    expires_at: datetime
    at: datetime


@dataclass(frozen=True, slots=True)
class CouponIssued:
    """A coupon was issued to a member (docs/rules.md §12, §15: ``coupon_issued``)."""

    user_id: int
    coupon_id: int
    kind: str
    value: int
    valid_until: datetime
    at: datetime
