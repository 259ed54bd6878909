from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigId, Coins, UTCDateTime, utcnow


class Bid(Base):
    """An accepted bid: the bidder's maximum, and the auction state it produced (for the public history)."""

    __tablename__ = "bids"
    __table_args__ = (
        CheckConstraint("max_amount > 0", name="max_positive"),
        Index("ix_bids_listing_id_id", "listing_id", "id"),
        Index("ix_bids_bidder_id", "bidder_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    bidder_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    max_amount: Mapped[int] = mapped_column(Coins)
    price_after: Mapped[int] = mapped_column(Coins)
    leader_id_after: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SecondChanceOffer(Base):
    """After a winner cancels, the seller offers the item to the runner-up at their maximum (docs/rules.md §19.2)."""

    __tablename__ = "second_chance_offers"
    __table_args__ = (
        CheckConstraint("status IN ('offered', 'accepted', 'declined', 'expired')", name="status"),
        CheckConstraint("price > 0", name="price_positive"),
        Index("ix_second_chance_offers_buyer_id", "buyer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    # one offer per cancelled order
    cancelled_order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    price: Mapped[int] = mapped_column(Coins)
    status: Mapped[str] = mapped_column(String(16), default="offered")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
