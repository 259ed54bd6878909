"""search_cn: listings.search_text (segmented, normalised tokens) with a GIN token index on PostgreSQL; backfilled

Revision ID: 0215_search_cn
Revises: 0207_perf
Create Date: 2026-12-01 15:40:00

``search_text`` holds the distinct tokens of a listing's title, description and category path (Chinese segmented
with jieba, traditional folded to simplified, English stemmed: ``marketplace/listings/tokens.py``). PostgreSQL
indexes ``string_to_array(search_text, ' ')`` with GIN (raw SQL, listed in
``marketplace/listings/search.py::UNMANAGED_INDEXES``); SQLite matches it with ``LIKE``. The upgrade backfills every
existing listing through ``search.reindex_categories`` (the same code the app uses when categories change), in
batches of 1,000; docs/performance.md (P3) has the figures.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0215_search_cn'
down_revision: str | None = '0212_membership3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    from marketplace.listings import search

    # A plain ADD COLUMN (no table copy on SQLite, which would drop the FTS5 triggers of 0103_search).
    op.add_column("listings", sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    search.reindex_categories(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        op.execute(search.INDEX_DDL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_listings_search_tokens")
    op.drop_column("listings", "search_text")
