"""docs/api.md PATCH /listings/{id} and GET /listings/{id}/edits, condition and location (docs/rules.md §19.7),
and PATCH /admin/users/{id} with a ban reason (§19.8), through the HTTP layer on PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.listings.models import Listing
from tests.factories import api_admin, api_user, fund, make_category
from tests.imagedata import png_bytes

API = "/api/v1"


async def leaf(sessions: async_sessionmaker[AsyncSession], hidden: bool = False) -> int:
    async with sessions() as s, s.begin():
        root = await make_category(s, "Coins")
        return (await make_category(s, "Silver", root, hidden=hidden)).id


async def seller_listing(client: Any, sessions: Any, cat: int, **kw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    seller = await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, seller["id"], 100)
    body = {"title": "Silver dollar 银元", "description": "1934", "category_id": cat, "mode": "fixed",
            "price": 300, "quantity": 2, "condition": "used", "location": "上海 浦东", **kw}
    r = await client.post(f"{API}/listings", json=body, headers=seller["headers"])
    assert r.status_code == 201, r.text
    return seller, r.json()


async def test_publish_with_condition_and_location_and_filter_by_condition(client: Any, sessions: Any) -> None:
    cat = await leaf(sessions)
    _, listing = await seller_listing(client, sessions, cat)
    assert (listing["condition"], listing["location"], listing["edit_count"]) == ("used", "上海 浦东", 0)
    _, other = await seller_listing(client, sessions, cat, condition="new", location=None)
    r = await client.get(f"{API}/listings", params={"category_id": cat, "condition": "used"})
    assert r.status_code == 200
    assert [i["id"] for i in r.json()["items"]] == [listing["id"]]
    assert (await client.get(f"{API}/listings", params={"condition": "mint"})).status_code == 400
    seller = await api_user(client)
    r = await client.post(f"{API}/listings", json={"title": "x", "category_id": cat, "mode": "fixed", "price": 5,
                                                   "condition": "mint"}, headers=seller["headers"])
    assert r.status_code == 400
    assert "condition" in r.json()["detail"]
    assert other["condition"] == "new"
    # the search page filters by condition too (cards show it)
    page = await client.get("/search", params={"q": "Silver", "condition": "new"})
    assert page.status_code == 200
    assert f'href="/listings/{other["id"]}"' in page.text
    assert f'href="/listings/{listing["id"]}"' not in page.text


async def test_seller_edits_and_the_history_and_anonymous_cache_follow(client: Any, sessions: Any) -> None:
    cat = await leaf(sessions)
    seller, listing = await seller_listing(client, sessions, cat)
    lid = listing["id"]
    # an anonymous read fills the shared cache
    assert (await client.get(f"{API}/listings/{lid}")).json()["title"] == "Silver dollar 银元"
    r = await client.patch(f"{API}/listings/{lid}", headers=seller["headers"],
                           json={"title": "Silver dollar 1934 银元", "price": 280, "condition": "like_new",
                                 "location": "北京 朝阳", "plus_price": 250})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["title"], body["price"], body["current_price"], body["condition"], body["location"],
            body["plus_price"], body["edit_count"]) == ("Silver dollar 1934 银元", 280, 280, "like_new", "北京 朝阳",
                                                        250, 1)
    # the anonymous cache was bumped by the write
    anon = (await client.get(f"{API}/listings/{lid}")).json()
    assert (anon["title"], anon["edit_count"]) == ("Silver dollar 1934 银元", 1)
    # the same values again change nothing and record nothing
    r = await client.patch(f"{API}/listings/{lid}", headers=seller["headers"], json={"price": 280})
    assert r.status_code == 200
    assert r.json()["edit_count"] == 1
    edits = (await client.get(f"{API}/listings/{lid}/edits")).json()
    assert len(edits) == 1
    assert edits[0]["editor"] == {"id": seller["id"], "username": seller["username"]}
    assert {c["field"]: (c["old"], c["new"]) for c in edits[0]["changes"]} == {
        "title": ("Silver dollar 银元", "Silver dollar 1934 银元"), "price": (300, 280),
        "condition": ("used", "like_new"), "location": ("上海 浦东", "北京 朝阳"), "plus_price": (None, 250)}
    # the listing page shows it to everyone
    page = await client.get(f"/listings/{lid}")
    assert page.status_code == 200
    assert "edited 1 time" in page.text
    assert "北京 朝阳" in page.text
    assert "Like new" in page.text


async def test_edit_refusals_have_exact_status_codes(client: Any, sessions: Any) -> None:
    cat = await leaf(sessions)
    hidden = await leaf(sessions, hidden=True)
    seller, listing = await seller_listing(client, sessions, cat)
    lid = listing["id"]
    other = await api_user(client)
    url = f"{API}/listings/{lid}"
    assert (await client.patch(url, json={"title": "x"})).status_code == 401
    assert (await client.patch(url, json={"title": "Mine"}, headers=other["headers"])).status_code == 403
    assert (await client.patch(f"{API}/listings/999999", json={"title": "x"},
                               headers=seller["headers"])).status_code == 404
    for bad in ({"condition": "mint"}, {"location": "x" * 61}, {"price": 0}, {"start_price": 5},
                {"quantity": 9}, {"plus_price": 300}, {"photo_order": [123]}):
        r = await client.patch(url, json=bad, headers=seller["headers"])
        assert r.status_code == 400, (bad, r.text)
    assert (await client.patch(url, json={"category_id": hidden}, headers=seller["headers"])).status_code == 409
    # a sale locks the price (409) but not the title; nothing of a refused edit is kept
    buyer = await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, buyer["id"], 1000)
    r = await client.post(f"{API}/listings/{lid}/buy", json={"quantity": 1}, headers=buyer["headers"])
    assert r.status_code == 201, r.text
    r = await client.patch(url, json={"price": 250, "title": "Cheaper"}, headers=seller["headers"])
    assert r.status_code == 409
    async with sessions() as s:
        row = await s.get(Listing, lid)
        assert row is not None
        assert (row.title, row.price, row.edit_count) == ("Silver dollar 银元", 300, 0)
    r = await client.patch(url, json={"title": "Only the title"}, headers=seller["headers"])
    assert r.status_code == 200
    assert r.json()["price"] == 300


async def test_auction_price_is_409_once_bid_on(client: Any, sessions: Any) -> None:
    cat = await leaf(sessions)
    seller = await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, seller["id"], 100)
    r = await client.post(f"{API}/listings", headers=seller["headers"], json={
        "title": "Old coin", "category_id": cat, "mode": "auction", "start_price": 50, "buy_now_price": 500,
        "duration_seconds": 3600})
    lid = r.json()["id"]
    r = await client.patch(f"{API}/listings/{lid}", json={"start_price": 60}, headers=seller["headers"])
    assert r.status_code == 200
    assert (r.json()["start_price"], r.json()["current_price"]) == (60, 60)
    assert (await client.patch(f"{API}/listings/{lid}", json={"price": 60},
                               headers=seller["headers"])).status_code == 400
    bidder = await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, bidder["id"], 1000)
    r = await client.post(f"{API}/listings/{lid}/bids", json={"max_amount": 100}, headers=bidder["headers"])
    assert r.status_code == 201, r.text
    r = await client.patch(f"{API}/listings/{lid}", json={"buy_now_price": None}, headers=seller["headers"])
    assert r.status_code == 409
    r = await client.patch(f"{API}/listings/{lid}", json={"description": "Now with a box"},
                           headers=seller["headers"])
    assert r.status_code == 200
    assert r.json()["edit_count"] == 2


async def test_photo_order_reorders_and_removes_in_one_edit(client: Any, sessions: Any) -> None:
    cat = await leaf(sessions)
    seller, listing = await seller_listing(client, sessions, cat)
    lid = listing["id"]
    ids = []
    for _ in range(3):
        r = await client.post(f"{API}/listings/{lid}/images", headers=seller["headers"],
                              files={"file": ("a.png", png_bytes(64, 64), "image/png")})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    r = await client.patch(f"{API}/listings/{lid}", json={"photo_order": [ids[2], ids[0]]},
                           headers=seller["headers"])
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["images"]] == [ids[2], ids[0]]
    edits = (await client.get(f"{API}/listings/{lid}/edits")).json()
    assert edits[0]["changes"] == [{"field": "photos", "old": ids, "new": [ids[2], ids[0]]}]


async def test_admin_ban_over_the_api_ends_listings_with_a_reason(client: Any, sessions: Any) -> None:
    cat = await leaf(sessions)
    admin = await api_admin(client, sessions)
    seller, listing = await seller_listing(client, sessions, cat)
    r = await client.patch(f"{API}/admin/users/{seller['id']}", headers=admin["headers"],
                           json={"is_banned": True, "ban_reason": "Counterfeits"})
    assert r.status_code == 200, r.text
    assert (r.json()["is_banned"], r.json()["ban_reason"]) == (True, "Counterfeits")
    assert (await client.get(f"{API}/listings/{listing['id']}")).json()["status"] == "ended"
    r = await client.post(f"{API}/auth/token", json={"username": seller["username"],
                                                     "password": "correct-horse-battery"})
    assert r.status_code == 403
    assert "Counterfeits" in r.json()["detail"]
    r = await client.patch(f"{API}/admin/users/{seller['id']}", headers=admin["headers"],
                           json={"is_banned": True, "ban_reason": "x" * 501})
    assert r.status_code == 400
