"""Search query building: the SQL per backend over the token column (marketplace/listings/search.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from marketplace.listings import search
from marketplace.listings.models import Listing


def compiled(dialect: str, q: str) -> tuple[str, dict[str, object]]:
    condition = search.search_condition(dialect, q)
    assert condition is not None
    d = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
    c = select(Listing.id).where(condition).compile(dialect=d)
    return str(c), dict(c.params)


def test_postgres_is_one_array_containment_on_the_indexed_expression() -> None:
    sql, params = compiled("postgresql", "二手 相机 Cameras")
    # the stored array of ix_listings_search_words (migration 0217_p3): no row is split again when read;
    # the words are spelled in the SQL, so each search is planned with their statistics (no generic plan)
    assert "listings.search_words @> ARRAY['二手', '相机', 'camera']::text[]" in sql
    assert params == {}
    assert sql.count("@>") == 1
    assert search.array_literal(["it's"]) == "ARRAY['it''s']::text[]"


def test_sqlite_matches_whole_tokens_with_like() -> None:
    sql, params = compiled("sqlite", "青花花瓶")
    assert sql.count("LIKE") == 2
    assert "(' ' || listings.search_text) || ' '" in sql
    assert sorted(v for v in params.values() if isinstance(v, str)) == ["% 花瓶 %", "% 青花 %"]


def test_like_pattern_escapes_wildcards() -> None:
    assert search.like_pattern("a_b") == "% a\\_b %"
    assert search.like_pattern("50%") == "% 50\\% %"


def test_no_tokens_no_condition() -> None:
    assert search.search_condition("postgresql", " ") is None
    assert search.search_condition("sqlite", "，。!") is None
