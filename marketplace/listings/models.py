"""The listing and its photos (the listings domain owns these rows)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    inspect,
    select,
)
from sqlalchemy import event as orm_event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from marketplace.categories.models import Category
from marketplace.db import Base, BigId, Coins, UTCDateTime, utcnow
from marketplace.listings.tokens import category_paths, index_text


class Listing(Base):
    """A fixed-price or auction listing.

    For auctions this row is also the bid serialisation point (docs/architecture.md): ``current_price``, ``leader_id``,
    ``leader_max``, ``runner_up_max``, ``bid_count``, ``ends_at``, ``status`` and ``version`` are read and written
    only under ``SELECT ... FOR UPDATE`` of this row.
    """

    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("mode IN ('fixed', 'auction')", name="mode"),
        CheckConstraint("status IN ('active', 'sold', 'unsold', 'ended', 'removed')", name="status"),
        CheckConstraint("price IS NULL OR price > 0", name="price_positive"),
        CheckConstraint("quantity >= 0 AND quantity_available >= 0", name="quantity_nonnegative"),
        CheckConstraint("current_price >= 0", name="current_price_nonnegative"),
        Index("ix_listings_status_category", "status", "category_id"),
        Index("ix_listings_status_ends_at", "status", "ends_at"),
        Index("ix_listings_seller_status", "seller_id", "status"),
        # price sorts (browse and search) walk this instead of sorting every match (bench/browse.py).
        Index("ix_listings_status_current_price", "status", "current_price"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    insertion_fee: Mapped[int] = mapped_column(Coins, default=0)
    # Published within a shop's free-listing quota (docs/rules.md §5): counted per plan period.
    free_listing: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # fixed price
    price: Mapped[int | None] = mapped_column(Coins)
    # coins per order, paid by the buyer unless free shipping applies (docs/rules.md §15)
    shipping_fee: Mapped[int] = mapped_column(Coins, default=0, server_default="0")
    # docs/rules.md §15: opted in to the member day (seller-funded level discount) and the PLUS members' price
    member_day: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    plus_price: Mapped[int | None] = mapped_column(Coins)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    quantity_available: Mapped[int] = mapped_column(Integer, default=1)

    # auction (current_price is kept equal to price for fixed listings so one column sorts both modes)
    current_price: Mapped[int] = mapped_column(Coins, default=0)
    start_price: Mapped[int | None] = mapped_column(Coins)
    reserve_price: Mapped[int | None] = mapped_column(Coins)
    buy_now_price: Mapped[int | None] = mapped_column(Coins)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    auto_extend: Mapped[bool] = mapped_column(Boolean, default=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    leader_max: Mapped[int | None] = mapped_column(Coins)
    runner_up_max: Mapped[int | None] = mapped_column(Coins)
    bid_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    # docs/rules.md §19.2: the auction this one relists after a non-paying winner (a plain id: no ALTER TABLE
    # ADD CONSTRAINT on SQLite, and no table copy of listings, see 0103_search)
    relisted_from_id: Mapped[int | None] = mapped_column(BigId)
    # docs/rules.md §19.7: the item's condition (listings.rules.CONDITIONS) and where it is (free text)
    condition: Mapped[str | None] = mapped_column(String(16))
    location: Mapped[str | None] = mapped_column(String(60))
    # how many edits the seller made after publishing (ListingEdit rows); shown as "edited N times"
    edit_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The distinct search tokens of the title, description and category path (marketplace/listings/search.py),
    # written by the hooks below; PostgreSQL stores it split as search_words, GIN-indexed (0217_p3).
    # Deferred: only SQL reads it (search conditions); a page of listings does not carry it over the wire.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="", deferred=True)


def _fill_search_text(connection: Connection, listing: Listing) -> None:
    rows = connection.execute(select(Category.id, Category.parent_id, Category.name)).tuples().all()
    listing.search_text = index_text(listing.title or "", listing.description or "",
                                     category_paths(rows).get(listing.category_id, []))


@orm_event.listens_for(Listing, "before_insert")
def _index_new_listing(_mapper: Mapper[Listing], connection: Connection, listing: Listing) -> None:
    """Every inserted listing is searchable, however it was made (publish, relist, demo seeders)."""
    _fill_search_text(connection, listing)


@orm_event.listens_for(Listing, "before_update")
def _reindex_listing(_mapper: Mapper[Listing], connection: Connection, listing: Listing) -> None:
    """A changed title, description or category re-tokenises the listing (bulk UPDATEs go through
    ``search.reindex_categories`` instead)."""
    state = inspect(listing)
    if any(state.attrs[name].history.has_changes() for name in ("title", "description", "category_id")):
        _fill_search_text(connection, listing)


class ListingImage(Base):
    __tablename__ = "listing_images"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str] = mapped_column(String(200))
    thumb_key: Mapped[str] = mapped_column(String(200))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListingQuestion(Base):
    """A public question on a listing and the seller's answer (docs/rules.md §19.5)."""

    __tablename__ = "listing_questions"
    __table_args__ = (
        Index("ix_listing_questions_listing_id_id", "listing_id", "id"),
        Index("ix_listing_questions_asker_id", "asker_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    asker_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListingEdit(Base):
    """One edit of a published listing by its seller (docs/rules.md §19.7): ``changes`` is
    ``[{field, old, new}]`` in the order the fields were applied."""

    __tablename__ = "listing_edits"
    __table_args__ = (Index("ix_listing_edits_listing_id_id", "listing_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changes: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
