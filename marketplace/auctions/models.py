from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index
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
