"""Admin listing moderation: remove a listing over the API and the admin page; an auction's hold is released."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.models import User
from marketplace.listings.models import Listing
from marketplace.wallet import ledger
from tests.factories import api_admin, api_user, db_user, fund, html_login, html_post, make_listing


async def _listing(sessions: async_sessionmaker[AsyncSession], seller_id: int, **kw: Any) -> int:
    async with sessions() as s, s.begin():
        seller = await s.get(User, seller_id)
        return int((await make_listing(s, seller, **kw)).id)


async def _status(sessions: async_sessionmaker[AsyncSession], listing_id: int) -> str:
    async with sessions() as s:
        listing = await s.get(Listing, listing_id)
        assert listing is not None
        return listing.status


async def test_admin_removes_an_auction_and_the_leader_gets_the_hold_back(client: Any, sessions: Any) -> None:
    admin = await api_admin(client, sessions)
    seller, bidder = await api_user(client), await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, bidder["id"], 500)
    listing_id = await _listing(sessions, seller["id"], mode="auction", start_price=10)
    r = await client.post(f"/api/v1/listings/{listing_id}/bids", json={"max_amount": 200}, headers=bidder["headers"])
    assert r.status_code == 201
    async with sessions() as s:
        assert await ledger.wallet_balances(s, bidder["id"]) == (300, 200)

    assert (await client.delete(f"/api/v1/admin/listings/{listing_id}", headers=seller["headers"])).status_code == 403
    assert (await client.delete(f"/api/v1/admin/listings/{listing_id}")).status_code == 401
    r = await client.delete(f"/api/v1/admin/listings/{listing_id}", headers=admin["headers"])
    assert r.status_code == 204
    assert await _status(sessions, listing_id) == "removed"
    async with sessions() as s:
        assert await ledger.wallet_balances(s, bidder["id"]) == (500, 0)
    # removed once; a second removal conflicts, an unknown id is 404
    assert (await client.delete(f"/api/v1/admin/listings/{listing_id}", headers=admin["headers"])).status_code == 409
    assert (await client.delete("/api/v1/admin/listings/999999", headers=admin["headers"])).status_code == 404
    # and it is gone from browse and the listing endpoint's active results
    r = await client.get("/api/v1/listings", params={"seller_id": seller["id"]})
    assert listing_id not in [item["id"] for item in r.json()["items"]]


async def test_admin_page_lists_and_removes_a_fixed_price_listing(client: Any, sessions: Any) -> None:
    admin = await db_user(sessions, "moderator", is_admin=True)
    seller = await db_user(sessions)
    listing_id = await _listing(sessions, seller.id, title="Suspicious watch 可疑手表")
    await html_login(client, admin.username)
    page = await client.get("/admin/listings", params={"q": "Suspicious"})
    assert page.status_code == 200
    assert "Suspicious watch" in page.text
    r = await html_post(client, f"/admin/listings/{listing_id}/remove", {})
    assert r.status_code == 303
    assert await _status(sessions, listing_id) == "removed"
    # without the CSRF token nothing happens
    other = await _listing(sessions, seller.id)
    r = await client.post(f"/admin/listings/{other}/remove", follow_redirects=False)
    assert r.status_code == 403
    assert await _status(sessions, other) == "active"


async def test_admin_listings_page_is_admin_only(client: Any, sessions: Any) -> None:
    user = await db_user(sessions)
    await html_login(client, user.username)
    assert (await client.get("/admin/listings")).status_code == 403
