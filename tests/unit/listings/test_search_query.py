"""Search query building: terms, LIKE escaping, FTS5 expressions, and the SQL per backend."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from marketplace.listings import search
from marketplace.listings.models import Listing


def test_terms_split_on_whitespace_dedupe_and_cap() -> None:
    assert search.parse_terms("  二手手机   九成新 ") == ["二手手机", "九成新"]
    assert search.parse_terms("Phone phone PHONE case") == ["Phone", "case"]
    assert search.parse_terms(None) == []
    assert search.parse_terms("   ") == []
    assert len(search.parse_terms(" ".join(f"t{i}" for i in range(20)))) == search.MAX_TERMS


def test_like_pattern_escapes_wildcards() -> None:
    assert search.like_pattern("50%") == "%50\\%%"
    assert search.like_pattern("a_b") == "%a\\_b%"
    assert search.like_pattern("c:\\") == "%c:\\\\%"


def test_fts_query_quotes_terms_and_skips_short_ones() -> None:
    assert search.fts_query(["手机"]) is None
    assert search.fts_query(["九成新", "iPhone"]) == '"九成新" AND "iPhone"'
    assert search.fts_query(['say "hi"', "OR"]) == '"say ""hi"""'


def compiled(dialect: str, q: str) -> str:
    condition = search.search_condition(dialect, q)
    assert condition is not None
    d = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
    return str(select(Listing.id).where(condition).compile(dialect=d, compile_kwargs={"literal_binds": True}))


def test_postgres_uses_one_ilike_on_the_indexed_text_per_term_of_3_or_more_characters() -> None:
    sql = compiled("postgresql", "手机 case")
    # "case" (4 characters): one ILIKE on the expression of ix_listings_text_trgm, with a literal separator.
    assert "((listings.title || ' ') || listings.description) ILIKE '%%case%%'" in sql
    # "手机" (2 characters, no trigram): title or description, kept off the trigram expression.
    assert "listings.title ILIKE '%%手机%%'" in sql
    assert "listings.description ILIKE '%%手机%%'" in sql
    assert sql.count("ILIKE") == 3
    assert " AND " in sql


def test_sqlite_uses_fts_match_for_long_terms_and_like_for_short_ones() -> None:
    sql = compiled("sqlite", "手机 九成新")
    assert "listings_fts MATCH" in sql
    assert "LIKE '%手机%'" in sql
    assert "九成新" not in sql.split("MATCH", 1)[0]


def test_no_terms_no_condition() -> None:
    assert search.search_condition("postgresql", " ") is None
