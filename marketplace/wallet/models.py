from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigId, Coins, UTCDateTime, utcnow

USER_KINDS = ("available", "held", "points_frozen", "points_available")
# marketing funds platform-paid discounts (points, free shipping: docs/rules.md §14, §15).
PLATFORM_KINDS = ("revenue", "topup_clearing", "adjustments", "marketing", "points_issued", "points_redeemed",
                  "points_expired",
                  # card_float: face value of redeemed prepaid cards (docs/rules.md §17), paid out to available coins.
                  "card_float")
# escrow: one account per order, with a running balance (it is locked like a user account).

# Points are a second ledger in their own unit (docs/rules.md §14): the same engine, accounts of these kinds.
# A transaction moves one unit only, so each unit balances on its own.
POINT_KINDS = ("points_frozen", "points_available", "points_issued", "points_redeemed", "points_expired")
ALL_KINDS = ("available", "held", "escrow", "revenue", "topup_clearing", "adjustments", "card_float", "marketing",
             *POINT_KINDS)


def unit_of(kind: str) -> str:
    """``"points"`` for the points ledger's accounts, ``"coins"`` for every other."""
    return "points" if kind in POINT_KINDS else "coins"


class LedgerAccount(Base):
    """One account of the double-entry ledger (docs/architecture.md).

    User and escrow accounts keep a running ``balance`` updated under a row lock and never below zero; platform
    accounts keep ``balance`` at 0 and are summed from their entries, so no hot row serialises unrelated sales.
    """

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in ALL_KINDS) + ")", name="kind"),
        CheckConstraint("balance >= 0", name="balance_nonnegative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    # "user:<id>:available", "user:<id>:held", "order:<id>:escrow", "platform:revenue": one row per key, portable
    # (a unique constraint over nullable user_id/order_id would let NULLs repeat on PostgreSQL).
    key: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    balance: Mapped[int] = mapped_column(Coins, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref_type: Mapped[str | None] = mapped_column(String(32))
    ref_id: Mapped[int | None] = mapped_column(BigId)
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    memo: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(Coins)
    # NULL for platform accounts, which keep no running balance.
    balance_after: Mapped[int | None] = mapped_column(Coins)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TopUp(Base):
    """A coin top-up through a payment gateway; credited only from a verified notify (docs/rules.md §9)."""

    __tablename__ = "topups"
    __table_args__ = (
        CheckConstraint("coins > 0", name="coins_positive"),
        CheckConstraint("status IN ('pending', 'paid', 'closed')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    out_trade_no: Mapped[str] = mapped_column(String(64), unique=True)
    coins: Mapped[int] = mapped_column(Coins)
    amount_fen: Mapped[int] = mapped_column(Coins)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    gateway: Mapped[str] = mapped_column(String(16))
    trade_no: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
