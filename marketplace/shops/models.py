from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigId, UTCDateTime, utcnow


class Shop(Base):
    """A paid seller shop (docs/rules.md §6). ``period_started_at`` starts the current free-listing quota period."""

    __tablename__ = "shops"
    __table_args__ = (CheckConstraint("status IN ('active', 'grace', 'suspended')", name="status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[str] = mapped_column(String(16))
    # A downgrade waits for the next renewal (docs/rules.md §6 / Shops issue).
    next_plan: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    # docs/rules.md §19.8: set when the owner's ban suspended the shop (shown to the owner and admins)
    suspended_reason: Mapped[str | None] = mapped_column(String(500))
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=True)
    paid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    period_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    logo_key: Mapped[str | None] = mapped_column(String(200))
    banner_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
