"""perf: one trigram index over a listing's whole text, partial indexes on active listings per sort (PostgreSQL)

Revision ID: 0207_perf
Revises: 0208_membership2
Create Date: 2026-12-01 13:20:00

PostgreSQL only, raw SQL like 0103_search (operator-class GIN and partial indexes with INCLUDE are backend
specific; ``marketplace/listings/search.py::UNMANAGED_INDEXES`` keeps them out of ``alembic check``). SQLite keeps
its FTS5 table and the model indexes. What each index buys is measured in docs/performance.md (P3).

- ``ix_listings_text_trgm``: ``gin ((title || ' ' || description) gin_trgm_ops)``. Every search term is one
  ``ILIKE`` on that expression, so a two-word query is one bitmap AND over one index instead of
  ``(title OR description) AND (title OR description)`` over two.
- ``ix_listings_active_*``: ``WHERE status = 'active'`` (what browse and search show by default), one per sort
  order with the id tie-break, so a page is read in order and stops after ``LIMIT``; ``…_category`` includes
  ``shop_id`` so the category count is an index-only scan.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0207_perf'
down_revision: str | None = '0208_membership2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_listings_text_trgm": "USING gin ((title || ' ' || description) gin_trgm_ops)",
    "ix_listings_active_newest": "(created_at DESC, id DESC) WHERE status = 'active'",
    "ix_listings_active_price": "(current_price, id) WHERE status = 'active'",
    "ix_listings_active_ending": "(ends_at, id) WHERE status = 'active'",
    "ix_listings_active_category": "(category_id) INCLUDE (shop_id) WHERE status = 'active'",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, spec in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON listings {spec}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
