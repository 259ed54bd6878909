"""The front of the page cache (web/pagecache.py, FrontPageCache): anonymous hits answered before routing carry
the same headers as any page, and nobody with credentials or a session ever gets the anonymous copy."""

from __future__ import annotations

from typing import Any

from tests.factories import db_user, html_login, make_listing, make_user

EN = {"Accept-Language": "en"}


async def _listing(sessions: Any) -> int:
    async with sessions() as s, s.begin():
        seller = await make_user(s)
        listing = await make_listing(s, seller, title="Front cache lamp", price=120)
        return int(listing.id)


async def test_an_anonymous_hit_has_the_security_headers_and_the_same_body(client: Any, sessions: Any) -> None:
    listing_id = await _listing(sessions)
    client.cookies.clear()
    first = await client.get(f"/listings/{listing_id}", headers=EN)
    assert first.status_code == 200
    assert first.headers.get("x-page-cache") is None
    client.cookies.clear()
    hit = await client.get(f"/listings/{listing_id}", headers=EN)
    assert hit.status_code == 200
    assert hit.headers["x-page-cache"] == "hit"
    assert hit.text == first.text
    for name in ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"):
        assert hit.headers[name] == first.headers[name], name
    assert hit.headers["vary"] == "Accept-Language, Cookie"
    assert hit.headers["content-type"] == "text/html; charset=utf-8"


async def test_a_signed_in_visitor_never_gets_the_anonymous_copy(client: Any, sessions: Any) -> None:
    listing_id = await _listing(sessions)
    client.cookies.clear()
    await client.get(f"/listings/{listing_id}", headers=EN)  # stored
    client.cookies.clear()
    assert (await client.get(f"/listings/{listing_id}", headers=EN)).headers["x-page-cache"] == "hit"
    user = await db_user(sessions)
    await html_login(client, user.username)
    page = await client.get(f"/listings/{listing_id}", headers=EN)
    assert page.status_code == 200
    assert page.headers.get("x-page-cache") is None
    assert user.username in page.text
