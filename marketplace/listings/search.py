"""Text search over listing titles and descriptions, for Chinese and English (docs/architecture.md).

One function, :func:`search_condition`, hides the backend:

- **PostgreSQL**: ``ILIKE '%term%'`` per term on ``title || ' ' || description``, served by the one ``pg_trgm``
  GIN index over that expression (migration ``0207_perf``): all terms of a query AND together as one bitmap over
  one index (docs/performance.md, P3). Trigrams need no word breaks, so "相机" finds "二手相机 九成新" as well as
  "phone" finds "iPhone".
- **SQLite**: an FTS5 table with the trigram tokenizer, kept in sync by triggers (same migration). Trigram
  ``MATCH`` needs at least 3 characters, so shorter terms ("手机" is 2) fall back to ``LIKE``.

Whitespace separates terms; every term must match (AND), in the title or the description.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, literal_column, or_, select, text
from sqlalchemy.sql import Select

from marketplace.listings.models import Listing

MAX_TERMS = 8
MAX_QUERY_CHARS = 200
FTS_TABLE = "listings_fts"
# Created by raw SQL in migrations/versions/0103_search.py and deliberately absent from the models; the Alembic
# env ignores them so `alembic check` sees no drift (the FTS5 table's shadow tables share the prefix).
# Migration 0207_perf adds the whole-text trigram index and the partial indexes on active listings (PostgreSQL).
UNMANAGED_INDEXES = frozenset({"ix_listings_title_trgm", "ix_listings_description_trgm", "ix_listings_text_trgm",
                               "ix_listings_active_newest", "ix_listings_active_price", "ix_listings_active_ending",
                               "ix_listings_active_category"})
UNMANAGED_TABLE_PREFIX = FTS_TABLE


def parse_terms(q: str | None) -> list[str]:
    """Whitespace-separated terms, de-duplicated case-insensitively, at most :data:`MAX_TERMS`."""
    if not q:
        return []
    seen: set[str] = set()
    terms: list[str] = []
    for term in q[:MAX_QUERY_CHARS].split():
        key = term.casefold()
        if key not in seen:
            seen.add(key)
            terms.append(term)
    return terms[:MAX_TERMS]


def like_pattern(term: str) -> str:
    """``%term%`` with LIKE's wildcards escaped (escape character ``\\``): a search for "50%" is literal."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_phrase(term: str) -> str:
    """One FTS5 string token: double quotes make operators (AND, NEAR, *, -) plain text."""
    return '"' + term.replace('"', '""') + '"'


def fts_query(terms: list[str]) -> str | None:
    """The FTS5 MATCH expression for the terms long enough for trigrams (≥ 3 characters), or None."""
    long_terms = [t for t in terms if len(t) >= 3]
    return " AND ".join(fts_phrase(t) for t in long_terms) if long_terms else None


def _like_any(term: str, *, case_insensitive: bool) -> ColumnElement[bool]:
    pattern = like_pattern(term)
    if case_insensitive:
        return or_(Listing.title.ilike(pattern, escape="\\"), Listing.description.ilike(pattern, escape="\\"))
    return or_(Listing.title.like(pattern, escape="\\"), Listing.description.like(pattern, escape="\\"))


def listing_text() -> ColumnElement[str]:
    """``title || ' ' || description``, spelled exactly like the index expression of ``ix_listings_text_trgm`` (a
    literal separator, not a bound parameter, so the planner can match the index). Terms never contain
    whitespace, so no term can match across the separator."""
    return Listing.title.op("||")(literal_column("' '")).op("||")(Listing.description)


def search_condition(dialect: str, q: str | None) -> ColumnElement[bool] | None:
    """The WHERE condition for ``q`` on ``dialect`` ("postgresql" or "sqlite"); None when there is no term."""
    terms = parse_terms(q)
    if not terms:
        return None
    if dialect == "postgresql":
        # A term under 3 characters has no trigram: against the indexed expression it would make the planner read
        # the whole GIN index (seconds for "复古 手表", docs/performance.md), so it is a plain filter instead.
        text_expr = listing_text()
        return and_(*[text_expr.ilike(like_pattern(t), escape="\\") if len(t) >= 3
                      else _like_any(t, case_insensitive=True) for t in terms])
    conditions: list[ColumnElement[bool]] = []
    match = fts_query(terms)
    if match is not None:
        # The trigram tokenizer is case-insensitive for ASCII by default.
        matching_ids: Select[tuple[int]] = select(text("rowid")).select_from(text(FTS_TABLE)).where(
            text(f"{FTS_TABLE} MATCH :fts_q").bindparams(fts_q=match)
        )
        conditions.append(Listing.id.in_(matching_ids))
    # SQLite's LIKE is already case-insensitive for ASCII.
    conditions.extend(_like_any(t, case_insensitive=False) for t in terms if len(t) < 3)
    return and_(*conditions)
