"""p3: drop the search structures no query reads any more (they only cost on every listing write)

Revision ID: 0217_p3
Revises: 0213_i18n
Create Date: 2026-12-01 16:50:00

Text search reads ``listings.search_text`` through ``ix_listings_search_tokens`` (0215_search_cn) on PostgreSQL
and a LIKE over the same column on SQLite (marketplace/listings/search.py). Left over and unread:

- PostgreSQL: ``ix_listings_text_trgm`` (0207_perf) and ``ix_listings_description_trgm`` (0103_search), two
  trigram GIN indexes over the whole text of every listing. ``ix_listings_title_trgm`` stays: the admin
  moderation search matches titles with ILIKE.
- SQLite: the FTS5 table ``listings_fts`` and its three triggers (0103_search), which re-indexed the title and
  description on every insert and update.

And on PostgreSQL ``listings.search_words``: ``string_to_array(search_text, ' ')`` as a generated, stored
``text[]`` with the GIN index ``ix_listings_search_words``, replacing the expression index
``ix_listings_search_tokens``: a query no longer splits ``search_text`` again for every row it reads.

docs/performance.md, P3. The downgrade builds them again.
"""

from collections.abc import Sequence

from alembic import op

from marketplace.listings import search

revision: str = '0217_p3'
down_revision: str | None = '0218_notif_i18n'
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


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_listings_text_trgm")
        op.execute("DROP INDEX IF EXISTS ix_listings_description_trgm")
        # The words as a stored array (rewrites the table once), its GIN index instead of the expression's.
        op.execute(search.WORDS_COLUMN_DDL)
        op.execute(search.WORDS_INDEX_DDL)
        op.execute("DROP INDEX IF EXISTS ix_listings_search_tokens")
    elif dialect == "sqlite":
        for name in ("listings_fts_au", "listings_fts_ad", "listings_fts_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS listings_fts")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(search.INDEX_DDL)
        op.execute("DROP INDEX IF EXISTS ix_listings_search_words")
        op.execute("ALTER TABLE listings DROP COLUMN IF EXISTS search_words")
        op.execute("CREATE INDEX IF NOT EXISTS ix_listings_description_trgm ON listings "
                   "USING gin (description gin_trgm_ops)")
        op.execute("CREATE INDEX IF NOT EXISTS ix_listings_text_trgm ON listings "
                   "USING gin ((title || ' ' || description) gin_trgm_ops)")
    elif dialect == "sqlite":
        op.execute("CREATE VIRTUAL TABLE listings_fts USING fts5(title, description, content='listings', "
                   "content_rowid='id', tokenize='trigram')")
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        op.execute("INSERT INTO listings_fts(listings_fts) VALUES ('rebuild')")
