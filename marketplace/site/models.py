"""Tables of the site package: template versions, blocks, listing reports (docs/rules.md §18)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigId, UTCDateTime, utcnow


class TemplateVersion(Base):
    """One saved version of an override of a shipped front template. At most one per name is ``published``."""

    __tablename__ = "site_template_versions"
    __table_args__ = (
        UniqueConstraint("name", "version"),
        CheckConstraint("status IN ('draft', 'published', 'retired')", name="status"),
        Index("ix_site_template_versions_name_status", "name", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Block(Base):
    """An admin-composed block (积木): a saved browse query shown in a slot of the front pages."""

    __tablename__ = "site_blocks"
    __table_args__ = (
        CheckConstraint("display IN ('grid', 'list', 'carousel')", name="display"),
        CheckConstraint("item_limit BETWEEN 1 AND 48", name="item_limit"),
        Index("ix_site_blocks_slot_position", "slot", "position"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    slot: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    display: Mapped[str] = mapped_column(String(16), default="grid")
    item_limit: Mapped[int] = mapped_column(Integer, default=8)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    query: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Report(Base):
    """A user's report of a listing; one per (listing, reporter). Resolved by an admin: dismiss or remove."""

    __tablename__ = "listing_reports"
    __table_args__ = (
        UniqueConstraint("listing_id", "reporter_id"),
        CheckConstraint("reason IN ('prohibited', 'counterfeit', 'wrong_category', 'fraud', 'other')",
                        name="reason"),
        CheckConstraint("status IN ('open', 'dismissed', 'removed')", name="status"),
        Index("ix_listing_reports_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Shown to the seller when the listing is removed.
    note: Mapped[str] = mapped_column(Text, default="")
