from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigId, Coins, UTCDateTime, utcnow


class CardBatch(Base):
    """A batch of prepaid cards (docs/rules.md §17): made by one admin (maker), activated by another (checker).

    ``secrets_enc`` holds the batch's plaintext secrets encrypted (Fernet, key derived from the app secret) from
    creation until the one CSV export, which reads and wipes it in the same transaction; afterwards only the keyed
    hashes on the cards remain (docs/decisions.md, Cards).
    """

    __tablename__ = "card_batches"
    __table_args__ = (
        CheckConstraint("face_value > 0", name="face_value_positive"),
        CheckConstraint("count > 0", name="count_positive"),
        CheckConstraint("status IN ('created', 'activated')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    face_value: Mapped[int] = mapped_column(Coins)
    count: Mapped[int] = mapped_column()
    expires_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="created")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    secrets_enc: Mapped[str | None] = mapped_column(Text)


class Card(Base):
    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint("status IN ('new', 'sold', 'redeemed', 'void')", name="status"),
        CheckConstraint("sold_price IS NULL OR sold_price >= 0", name="sold_price_nonnegative"),
        Index("ix_cards_batch_id_status", "batch_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("card_batches.id"))
    number: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="new")
    sold_to: Mapped[str | None] = mapped_column(String(100))
    sold_price: Mapped[int | None] = mapped_column(Coins)
    sold_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sold_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redeemed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(String(16))  # "void" | "refund" | "exchange"
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CardEvent(Base):
    """The audit log: every step on a batch or a card, with who took it (an admin, or the redeeming user)."""

    __tablename__ = "card_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("card_batches.id"), index=True)
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    detail: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CardRedeemFailure(Base):
    """One failed redemption (any 400): counted per card (lockout) and per user (429) from the database, so the
    limits hold across every server process. ``card_id`` is NULL when the number matched no card."""

    __tablename__ = "card_redeem_failures"
    __table_args__ = (
        Index("ix_card_redeem_failures_user_id_created_at", "user_id", "created_at"),
        Index("ix_card_redeem_failures_card_id_created_at", "card_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
