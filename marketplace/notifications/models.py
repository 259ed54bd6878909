from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigId, Coins, UTCDateTime, utcnow
from marketplace.notifications import rules


class WatchlistItem(Base):
    """A listing a user watches (private; at most ``rules.MAX_WATCHED`` per user)."""

    __tablename__ = "watchlist"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(Base):
    """One in-app notification. ``dedupe_key`` (unique per user) makes "once per …" rules provable: the
    ``ending_soon`` of a listing, the close of an auction. NULL keys never collide."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_notifications_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # The message ids and values of ``title``/``body`` (``rules.message_spec``), translated where shown; NULL for
    # older rows and plain texts, which are shown as the English ``title``/``body``.
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    url: Mapped[str] = mapped_column(String(500), default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def shown_title(self) -> str:
        """The title in the current locale (the English ``title`` when no message id was stored)."""
        return rules.shown(self.params, "title", self.title)

    def shown_body(self) -> str:
        return rules.shown(self.params, "body", self.body)


class NotificationSetting(Base):
    """A user's e-mail choice for one kind; no row means the default (on)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)


class SavedSearch(Base):
    """A search a user wants to hear about. The matcher looks at listings with ``id > last_listing_id``, adds the
    matches to ``pending`` and notifies at most once per hour (``last_notified_at``)."""

    __tablename__ = "saved_searches"
    __table_args__ = (CheckConstraint("mode IS NULL OR mode IN ('fixed', 'auction')", name="mode"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    q: Mapped[str] = mapped_column(String(200), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    mode: Mapped[str | None] = mapped_column(String(16))
    max_price: Mapped[int | None] = mapped_column(Coins)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_listing_id: Mapped[int] = mapped_column(BigId, default=0)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EmailOutbox(Base):
    """One e-mail to send, written in the transaction of its notification; a job sends it after commit and
    marks it ``sent`` (or ``logged`` without SMTP); failures are retried with a back-off, then ``failed``."""

    __tablename__ = "email_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'logged', 'failed')", name="status"),
        Index("ix_email_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
