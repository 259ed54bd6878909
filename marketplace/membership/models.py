"""Membership rows. Balances live in the ledger (points_frozen / points_available accounts); the lots below only
say *which* points those balances are made of, so spending takes the oldest first and a refund gives points back
with their original expiry (docs/rules.md §14)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigId, UTCDateTime, utcnow


class Membership(Base):
    """A user's last computed level (so a change can be noticed and announced)."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint("level IN ('registered', 'J1', 'J2', 'J3', 'J4', 'J5')", name="level"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    level: Mapped[str] = mapped_column(String(16), default="registered")
    effective_spend: Mapped[int] = mapped_column(BigId, default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointsLot(Base):
    """Points credited together: earned on one order, or for one feedback.

    ``state``: ``frozen`` (earned on a purchase, not spendable; ``unfreeze_at`` set once the order completes),
    ``available`` (``remaining`` of them spendable until ``expires_at``), ``revoked`` (the order was cancelled
    or refunded while they were frozen). Expiry zeroes ``remaining`` and counts the points in ``expired``.
    Invariant: per user, the sum of ``remaining`` over frozen lots is the points_frozen balance and over
    available lots the points_available balance.
    """

    __tablename__ = "points_lots"
    __table_args__ = (
        CheckConstraint("state IN ('frozen', 'available', 'revoked')", name="state"),
        CheckConstraint("points > 0 AND remaining >= 0 AND remaining <= points AND expired >= 0",
                        name="amounts"),
        Index("ix_points_lots_user_id_state_expires_at", "user_id", "state", "expires_at"),
        Index("ix_points_lots_state_unfreeze_at", "state", "unfreeze_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(16))  # purchase | feedback
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    points: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    expired: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unfreeze_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    credited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PointsLotUse(Base):
    """Points of one lot spent on one order; ``restored_at`` once a cancel/refund gave them back to the lot."""

    __tablename__ = "points_lot_uses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("points_lots.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    points: Mapped[int] = mapped_column(Integer)
    restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlusMembership(Base):
    """PLUS, the paid membership (docs/rules.md §15): active while ``until`` is in the future.

    ``auto_renew``: the worker charges the next period once, at ``until``; a refusal (not enough coins) sets
    ``lapsed_at`` and turns auto-renew off, so it is never retried. Buying again after expiry reuses the row.
    """

    __tablename__ = "plus_memberships"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=False)
    periods: Mapped[int] = mapped_column(Integer, default=1)  # paid periods so far (the renewal's ledger key)
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MemberBirthday(Base):
    """The birthday a member set (docs/rules.md §15): changeable once per 365 days (``changed_at``)."""

    __tablename__ = "member_birthdays"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    month: Mapped[int] = mapped_column(Integer)
    day: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Coupon(Base):
    """A platform coupon (docs/rules.md §15): ``value`` coins off one purchase whose items total reaches
    ``min_items_total``, usable until ``valid_until``; ``used_at``/``order_id`` once spent. ``issue_key`` is
    unique (``birthday:{user}:{year}``): a re-run issuing job can never issue twice."""

    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("value > 0 AND min_items_total >= 0", name="amounts"),
        Index("ix_coupons_user_id_used_at", "user_id", "used_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # birthday (others later)
    value: Mapped[int] = mapped_column(BigId)
    min_items_total: Mapped[int] = mapped_column(BigId)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    issue_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))


class MemberBadge(Base):
    """A badge a member holds (docs/rules.md §16), recomputed daily in one set-based statement per kind: ``code``
    is ``{kind}:{detail}`` (``medal:{root category id}``, ``behaviour:purchases_10``, ``plus:member``)."""

    __tablename__ = "member_badges"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberActivityDay(Base):
    """A UTC day on which the member was active (docs/rules.md §16: a login, a bid or a purchase): one row per
    user and day, written with ON CONFLICT DO NOTHING, so recording is idempotent. The growth score counts them."""

    __tablename__ = "member_activity_days"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
