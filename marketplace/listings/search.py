"""Text search over listings, for Chinese and English (docs/architecture.md, "Search"; docs/performance.md, P3).

Every listing carries ``search_text``: the distinct tokens of its title, description and category path's names
(:mod:`marketplace.listings.tokens`: segmented Chinese, simplified characters, stemmed English), space-separated.
It is written whenever a listing is inserted or its title, description or category changes (the ORM hooks in
:mod:`marketplace.listings.models`), and for every listing under a category that is renamed, moved or merged
(:func:`reindex_categories`). A query is cut into tokens the same way; every token must match (AND).

One function, :func:`search_condition`, hides the backend:

- **PostgreSQL**: ``search_words @> ARRAY[tokens]``, served by the GIN index ``ix_listings_search_words``
  (``search_words`` is ``string_to_array(search_text, ' ')``, generated and stored by PostgreSQL: migration
  ``0217_p3``; before it, ``0215_search_cn`` indexed the expression): one index scan per query, whatever the
  number of tokens, Chinese or not.
- **SQLite** (embedded): ``' ' || search_text || ' ' LIKE '% token %'`` per token: a scan, fine at the sizes an
  embedded install has.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, Table, Text, and_, bindparam, literal_column, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from marketplace.categories.models import Category
from marketplace.listings.models import Listing
from marketplace.listings.tokens import category_paths, index_text, query_tokens

FTS_TABLE = "listings_fts"
# Created by raw SQL in migrations and deliberately absent from the models; the Alembic env ignores them so
# `alembic check` sees no drift (the FTS5 table of 0103_search and its shadow tables share the prefix; 0217_p3
# dropped them, and the text and description trigram indexes, which no query read). 0207_perf added the trigram
# and partial indexes, 0215_search_cn the token index (PostgreSQL).
UNMANAGED_INDEXES = frozenset({"ix_listings_title_trgm", "ix_listings_description_trgm", "ix_listings_text_trgm",
                               "ix_listings_active_newest", "ix_listings_active_price", "ix_listings_active_ending",
                               "ix_listings_active_category", "ix_listings_search_tokens",
                               "ix_listings_search_words"})
UNMANAGED_TABLE_PREFIX = FTS_TABLE
INDEX_DDL = ("CREATE INDEX IF NOT EXISTS ix_listings_search_tokens ON listings "
                   "USING gin (string_to_array(search_text, ' '))")  # 0215_search_cn; dropped by 0217_p3
# 0217_p3 (PostgreSQL only): the words as a stored array, so no row is split again when a query reads it.
WORDS_COLUMN_DDL = ("ALTER TABLE listings ADD COLUMN IF NOT EXISTS search_words text[] "
                    "GENERATED ALWAYS AS (string_to_array(search_text, ' ')) STORED")
WORDS_INDEX_DDL = "CREATE INDEX IF NOT EXISTS ix_listings_search_words ON listings USING gin (search_words)"
# Not in the models (SQLite has no arrays; only PostgreSQL writes it): the Alembic env leaves it out of `check`.
UNMANAGED_COLUMNS = frozenset({"search_words"})
REINDEX_BATCH = 1_000
LISTINGS = cast(Table, Listing.__table__)


def like_pattern(token: str) -> str:
    """``% token %`` with LIKE's wildcards escaped (escape character ``\\``): whole tokens of the padded text."""
    escaped = token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"% {escaped} %"


def array_literal(tokens: list[str]) -> str:
    """``ARRAY['a', 'b']::text[]`` spelled in the SQL rather than bound: every search is planned with the words'
    own statistics (``most_common_elems`` of the index expression). A bound array would, after five runs of
    the same prepared statement, get PostgreSQL's generic plan, which assumes 0.5 % of rows match any array —
    wrong by 40× for a common word. Words hold only letters and digits (:mod:`tokens`); quotes are doubled
    anyway."""
    return "ARRAY[" + ", ".join("'" + t.replace("'", "''") + "'" for t in tokens) + "]::text[]"


def words_column() -> ColumnElement[Any]:
    """``listings.search_words`` (PostgreSQL): ``string_to_array(search_text, ' ')`` stored by PostgreSQL itself
    (a generated column, migration 0217_p3) and indexed by ``ix_listings_search_words``. Reading it costs no
    split per row, which the planner's costs assume: before, re-splitting ``search_text`` for every row read
    (8–20 µs each) made its limit-aware plans wrong by 10× and the app forced them (docs/performance.md, P3)."""
    return literal_column("listings.search_words", ARRAY(Text))


def search_condition(dialect: str, q: str | None) -> ColumnElement[bool] | None:
    """The WHERE condition for ``q`` on ``dialect`` ("postgresql" or "sqlite"); None when it has no token."""
    tokens = query_tokens(q)
    if not tokens:
        return None
    if dialect == "postgresql":
        return words_column().op("@>")(literal_column(array_literal(tokens), ARRAY(Text)))
    padded = literal_column("' '").op("||")(Listing.search_text).op("||")(literal_column("' '"))
    return and_(*[padded.like(like_pattern(t), escape="\\") for t in tokens])


# --- keeping search_text current -----------------------------------------------------------------------------------


def reindex_categories(connection: Connection, category_ids: Iterable[int] | None = None) -> int:
    """Recompute ``search_text`` of every listing filed in ``category_ids`` (all listings when None), in batches
    by id; returns how many rows were written. Synchronous (a migration's connection, or ``run_sync``)."""
    paths = category_paths(connection.execute(select(Category.id, Category.parent_id, Category.name))
                           .tuples().all())
    wanted = None if category_ids is None else sorted(set(category_ids))
    if wanted == []:
        return 0
    last, written = 0, 0
    while True:
        stmt = (select(Listing.id, Listing.title, Listing.description, Listing.category_id)
                .where(Listing.id > last).order_by(Listing.id).limit(REINDEX_BATCH))
        if wanted is not None:
            stmt = stmt.where(Listing.category_id.in_(wanted))
        rows = connection.execute(stmt).tuples().all()
        if not rows:
            return written
        connection.execute(
            update(LISTINGS).where(LISTINGS.c.id == bindparam("row_id"))
            .values(search_text=bindparam("text")),
            [{"row_id": lid, "text": index_text(title, description or "", paths.get(cid, []))}
             for lid, title, description, cid in rows])
        written += len(rows)
        last = rows[-1][0]
