from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigId, UTCDateTime, utcnow


class Address(Base):
    """One entry of a user's address book (docs/rules.md §19.4): mainland China format."""

    __tablename__ = "addresses"
    __table_args__ = (Index("ix_addresses_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(11))
    province: Mapped[str] = mapped_column(String(30))
    city: Mapped[str] = mapped_column(String(30))
    district: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def snapshot(self) -> dict[str, str]:
        """What an order keeps (docs/rules.md §19.4): a copy, so later edits never change a sale's address."""
        return {"name": self.name, "phone": self.phone, "province": self.province, "city": self.city,
                "district": self.district, "detail": self.detail}
