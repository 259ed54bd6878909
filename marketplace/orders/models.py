from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigId, Coins, UTCDateTime, utcnow


class Order(Base):
    """A sale: fixed-price purchase or auction win. Its coins sit in its own escrow ledger account."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(
            "status IN ('paid', 'shipped', 'completed', 'cancelled', 'disputed', 'refunded')", name="status"
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("total >= 0 AND fee >= 0", name="amounts_nonnegative"),
        Index("ix_orders_buyer_id_id", "buyer_id", "id"),
        Index("ix_orders_seller_id_id", "seller_id", "id"),
        Index("ix_orders_status_shipped_at", "status", "shipped_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price: Mapped[int] = mapped_column(Coins)
    # what the buyer paid (docs/rules.md §15: items + shipping − discounts)
    total: Mapped[int] = mapped_column(Coins)
    fee: Mapped[int] = mapped_column(Coins, default=0)
    # How the total was made (docs/rules.md §14, §15). The escrow holds items_total + shipping_fee: the buyer's
    # total plus platform_paid from the platform's marketing account; the seller is paid on that.
    items_total: Mapped[int] = mapped_column(Coins, default=0, server_default="0")
    shipping_fee: Mapped[int] = mapped_column(Coins, default=0, server_default="0")
    points_used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    platform_paid: Mapped[int] = mapped_column(Coins, default=0, server_default="0")
    discounts: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list, server_default="[]")
    status: Mapped[str] = mapped_column(String(16), default="paid")
    tracking: Mapped[str | None] = mapped_column(String(100))
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    # docs/rules.md §19: how the order was made (purchase, buy_now, auction, second_chance), the shipping address
    # copied from the buyer's address book, and why it was cancelled
    source: Mapped[str] = mapped_column(String(16), default="purchase", server_default="purchase")
    shipping_address: Mapped[dict[str, str] | None] = mapped_column(JSON)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def payout(self) -> int:
        """What the seller receives on completion: items + shipping − final value fee (docs/rules.md §15)."""
        return self.items_total + self.shipping_fee - self.fee


class OrderEvent(Base):
    """One step of an order's timeline."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("order_id", "from_user_id"),
        CheckConstraint("rating IN ('positive', 'neutral', 'negative')", name="rating"),
        Index("ix_feedback_to_user_id_id", "to_user_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(8))  # the author's side: buyer or seller
    rating: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(String(1000), default="")
    # one photo per feedback, through the listing photos' image pipeline (docs/rules.md §14: 20 points with one)
    photo_key: Mapped[str | None] = mapped_column(String(200))
    photo_thumb_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Strike(Base):
    """A non-paying buyer's or a cancelling seller's mark (docs/rules.md §19.1): public to sellers, counted by
    :func:`marketplace.orders.rules.bidding_blocked_until`."""

    __tablename__ = "strikes"
    __table_args__ = (
        CheckConstraint("role IN ('buyer', 'seller')", name="role"),
        UniqueConstraint("order_id", "role"),
        Index("ix_strikes_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(8))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderMessage(Base):
    """A private message on an order between its buyer and seller, and an admin in a dispute, with an optional
    evidence photo (docs/rules.md §19.6)."""

    __tablename__ = "order_messages"
    __table_args__ = (Index("ix_order_messages_order_id_id", "order_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(8))  # buyer, seller or admin when it was sent
    body: Mapped[str] = mapped_column(Text, default="")
    photo_key: Mapped[str | None] = mapped_column(String(200))
    photo_thumb_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
