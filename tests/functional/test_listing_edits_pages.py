"""The listing page's trust parts and the seller's edit form (docs/rules.md §19.7), the profile's items, and the
banned seller's hidden shop with its reason (§19.8), over HTML."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.models import User
from marketplace.orders.models import Feedback
from tests.factories import (
    PASSWORD,
    api_admin,
    api_login,
    db_user,
    fund,
    html_login,
    html_post,
    make_category,
    make_listing,
    make_order,
)
from tests.imagedata import png_bytes


async def setup(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """A seller with a fixed-price listing and two positive feedbacks from buyers, and a leaf category."""
    seller = await db_user(sessions)
    async with sessions() as s, s.begin():
        root = await make_category(s, "Stamps")
        cat = await make_category(s, "China stamps", root)
        row = await s.get(User, seller.id)
        assert row is not None
        listing = await make_listing(s, row, cat, title="Red monkey stamp 猴票", price=900, quantity=2)
        for _ in range(2):
            order = await make_order(s, seller=row)
            s.add(Feedback(order_id=order.id, from_user_id=order.buyer_id, to_user_id=row.id, role="buyer",
                           rating="positive", comment="fast"))
        await fund(s, seller.id, 100)
        return {"seller": seller.username, "seller_id": seller.id, "listing": listing.id, "cat": cat.id}


async def test_listing_page_shows_rating_and_the_edit_form_only_to_the_seller(client: Any, sessions: Any) -> None:
    ctx = await setup(sessions)
    url = f"/listings/{ctx['listing']}"
    page = await client.get(url)
    assert page.status_code == 200
    assert 'id="seller-rating"' in page.text
    assert "2 feedbacks" in page.text
    assert "100.0% positive" in page.text
    assert 'id="edit-form"' not in page.text
    other = await db_user(sessions)
    await html_login(client, other.username)
    assert 'id="edit-form"' not in (await client.get(url)).text
    # someone else's edit POST is 403 and changes nothing
    r = await html_post(client, f"{url}/edit", {"title": "Stolen", "category_id": str(ctx["cat"])})
    assert r.status_code == 403
    await client.post("/logout", data={"_csrf_token": client.cookies.get("csrftoken")})

    await html_login(client, ctx["seller"], PASSWORD)
    page = await client.get(url)
    assert 'id="edit-form"' in page.text
    assert 'name="price"' in page.text
    token = client.cookies.get("csrftoken")
    r = await client.post(f"{url}/edit", data={
        "_csrf_token": token, "title": "Red monkey stamp 1980 猴票", "description": "Mint",
        "category_id": str(ctx["cat"]), "condition": "new", "location": "广州 天河", "price_fields": "1",
        "price": "850", "plus_price": "", "shipping_fee": "10"},
        files=[("images", ("a.png", png_bytes(80, 60), "image/png"))], follow_redirects=False)
    assert r.status_code == 303, r.text
    page = await client.get(url)
    assert "Red monkey stamp 1980 猴票" in page.text
    assert "edited 1 time" in page.text
    assert 'id="edit-history"' in page.text
    assert "广州 天河" in page.text
    assert "New" in page.text
    # a bad condition re-renders the page with the reason, 400, nothing kept
    r = await client.post(f"{url}/edit", data={"_csrf_token": token, "title": "X", "category_id": str(ctx["cat"]),
                                               "condition": "mint"}, follow_redirects=False)
    assert r.status_code == 400
    assert "condition must be one of" in r.text
    assert "edited 1 time" in (await client.get(url)).text


async def test_profile_lists_the_sellers_active_items_paginated(client: Any, sessions: Any) -> None:
    ctx = await setup(sessions)
    async with sessions() as s, s.begin():
        seller = await s.get(User, ctx["seller_id"])
        assert seller is not None
        for n in range(13):
            await make_listing(s, seller, title=f"Stamp number {n}")
        ended = await make_listing(s, seller, title="Gone already")
        ended.status = "ended"
    page = await client.get(f"/users/{ctx['seller']}")
    assert page.status_code == 200
    assert 'id="seller-items"' in page.text
    assert "(14)" in page.text
    assert "Gone already" not in page.text
    assert "Page 1 of 2" in page.text
    page2 = await client.get(f"/users/{ctx['seller']}", params={"page": 2})
    assert page2.status_code == 200
    assert "Page 2 of 2" in page2.text


async def test_banned_sellers_shop_is_hidden_and_the_admin_sees_why(client: Any, sessions: Any) -> None:
    ctx = await setup(sessions)
    async with sessions() as s, s.begin():
        await fund(s, ctx["seller_id"], 500)
    r = await client.post("/api/v1/shops", headers=await api_login(client, ctx["seller"]),
                          json={"name": "Stamp house", "plan": "basic", "slug": "stamp-house"})
    assert r.status_code == 201, r.text
    admin = await api_admin(client, sessions)
    r = await client.patch(f"/api/v1/admin/users/{ctx['seller_id']}", headers=admin["headers"],
                           json={"is_banned": True, "ban_reason": "Forged stamps"})
    assert r.status_code == 200
    assert (await client.get("/shops/stamp-house")).status_code == 404
    assert (await client.get(f"/api/v1/listings/{ctx['listing']}")).json()["status"] == "ended"
    await html_login(client, admin["username"])
    page = await client.get("/shops/stamp-house")
    assert page.status_code == 200
    assert "Hidden: Forged stamps" in page.text
    # the seller's refused login says why
    await client.post("/logout", data={"_csrf_token": client.cookies.get("csrftoken")})
    r = await html_post(client, "/login", {"username": ctx["seller"], "password": PASSWORD})
    assert r.status_code == 403
    assert "Forged stamps" in r.text
