"""search: trigram indexes (PostgreSQL) or an FTS5 trigram table (SQLite) for listing text search

Revision ID: 0103_search
Revises: 0001
Create Date: 2026-11-25 09:45:00

Raw SQL on purpose: neither structure is in the models (an FTS5 virtual table and operator-class GIN indexes are
backend specific), and ``migrations/env.py`` excludes them from autogenerate so ``alembic check`` stays clean.
See marketplace/catalog/search.py for how they are queried.

SQLite caveat: a later ``batch_alter_table("listings")`` rebuilds the table and drops these triggers; such a
migration must re-run :func:`_sqlite_triggers` (and ``rebuild``) afterwards.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0103_search'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = (
    """CREATE TRIGGER listings_fts_ai AFTER INSERT ON listings BEGIN
         INSERT INTO listings_fts(rowid, title, description) VALUES (new.id, new.title, new.description);
       END""",
    """CREATE TRIGGER listings_fts_ad AFTER DELETE ON listings BEGIN
         INSERT INTO listings_fts(listings_fts, rowid, title, description)
           VALUES ('delete', old.id, old.title, old.description);
       END""",
    """CREATE TRIGGER listings_fts_au AFTER UPDATE OF title, description ON listings BEGIN
         INSERT INTO listings_fts(listings_fts, rowid, title, description)
           VALUES ('delete', old.id, old.title, old.description);
         INSERT INTO listings_fts(rowid, title, description) VALUES (new.id, new.title, new.description);
       END""",
)


def _sqlite_triggers() -> None:
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)


def upgrade() -> None:
    # In the models too (price sorts): created portably, outside the raw-SQL search structures.
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.create_index('ix_listings_status_current_price', ['status', 'current_price'], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX IF NOT EXISTS ix_listings_title_trgm ON listings USING gin (title gin_trgm_ops)")
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_listings_description_trgm ON listings USING gin (description gin_trgm_ops)"
        )
    elif dialect == "sqlite":
        # External-content FTS5 table: the text lives once, in listings; the index maps trigrams to rowids (ids).
        op.execute(
            "CREATE VIRTUAL TABLE listings_fts USING fts5(title, description, content='listings', "
            "content_rowid='id', tokenize='trigram')"
        )
        _sqlite_triggers()
        op.execute("INSERT INTO listings_fts(listings_fts) VALUES ('rebuild')")


def downgrade() -> None:
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_index('ix_listings_status_current_price')
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_listings_description_trgm")
        op.execute("DROP INDEX IF EXISTS ix_listings_title_trgm")
    elif dialect == "sqlite":
        for name in ("listings_fts_au", "listings_fts_ad", "listings_fts_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS listings_fts")
