"""docs/api.md § Shops through the HTTP layer on PostgreSQL: every endpoint with its errors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from marketplace.listings.models import Listing
from marketplace.shops.models import Shop
from marketplace.wallet import ledger
from marketplace.wallet.models import LedgerTransaction
from tests.factories import api_user, fund, make_listing, make_user

SHOP = {"name": "Dora's Books 朵拉书店", "slug": "doras-books", "plan": "basic", "auto_renew": True,
        "description": "Second-hand books."}


async def _user_with_coins(client: Any, sessions: Any, coins: int) -> dict[str, Any]:
    user = await api_user(client)
    if coins:
        async with sessions() as s, s.begin():
            await fund(s, user["id"], coins)
    return user


async def _wallet(client: Any, user: dict[str, Any]) -> int:
    r = await client.get("/api/v1/me", headers=user["headers"])
    return int(r.json()["wallet"]["available"])


async def test_shop_plans_lists_both_plans(client: Any) -> None:
    r = await client.get("/api/v1/shop-plans")
    assert r.status_code == 200
    plans = {p["code"]: p for p in r.json()}
    assert plans["basic"] == {"code": "basic", "name": plans["basic"]["name"], "price": 100, "period_days": 30,
                              "free_listings": 50, "max_images": 12}
    assert (plans["pro"]["price"], plans["pro"]["free_listings"], plans["pro"]["max_images"]) == (300, 500, 24)


async def test_open_shop_charges_first_period_and_answers_201(client: Any, sessions: Any) -> None:
    user = await _user_with_coins(client, sessions, 250)
    r = await client.post("/api/v1/shops", json=SHOP, headers=user["headers"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert {k: body[k] for k in ("slug", "name", "plan", "status", "auto_renew")} == {
        "slug": "doras-books", "name": "Dora's Books 朵拉书店", "plan": "basic", "status": "active",
        "auto_renew": True}
    assert isinstance(body["id"], int)
    assert body["paid_until"].endswith("Z") or "+00:00" in body["paid_until"]
    assert await _wallet(client, user) == 150
    async with sessions() as s:
        assert await ledger.balance(s, ledger.platform("revenue")) == 100
        txn = await s.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == "shop_plan"))
        assert txn is not None
        assert (txn.ref_type, txn.ref_id) == ("shop", body["id"])


async def test_open_shop_requires_login(client: Any) -> None:
    assert (await client.post("/api/v1/shops", json=SHOP)).status_code == 401


async def test_open_shop_without_coins_is_402_naming_shortfall_and_creates_nothing(client: Any,
                                                                                   sessions: Any) -> None:
    user = await _user_with_coins(client, sessions, 40)
    r = await client.post("/api/v1/shops", json=SHOP, headers=user["headers"])
    assert r.status_code == 402
    assert "60" in r.json()["detail"]
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Shop)) == 0
    assert await _wallet(client, user) == 40


async def test_second_shop_and_taken_slug_are_409(client: Any, sessions: Any) -> None:
    user = await _user_with_coins(client, sessions, 1000)
    assert (await client.post("/api/v1/shops", json=SHOP, headers=user["headers"])).status_code == 201
    r = await client.post("/api/v1/shops", json={**SHOP, "slug": "other-slug"}, headers=user["headers"])
    assert r.status_code == 409
    other = await _user_with_coins(client, sessions, 1000)
    r = await client.post("/api/v1/shops", json=SHOP, headers=other["headers"])
    assert r.status_code == 409
    assert "taken" in r.json()["detail"]
    assert await _wallet(client, user) == 900
    assert await _wallet(client, other) == 1000


async def test_bad_slug_plan_or_name_is_400(client: Any, sessions: Any) -> None:
    user = await _user_with_coins(client, sessions, 1000)
    for bad in ({"slug": "AB"}, {"slug": "Has Space"}, {"slug": "-edge"}, {"slug": "ab"}, {"slug": "x" * 61},
                {"slug": "中文"}, {"plan": "gold"}, {"name": ""}, {"name": "x" * 61}):
        r = await client.post("/api/v1/shops", json={**SHOP, **bad}, headers=user["headers"])
        assert r.status_code == 400, (bad, r.status_code, r.text)
    r = await client.post("/api/v1/shops", json={"slug": "no-name"}, headers=user["headers"])
    assert r.status_code == 400
    assert await _wallet(client, user) == 1000


async def test_slug_is_derived_from_the_name(client: Any, sessions: Any) -> None:
    a = await _user_with_coins(client, sessions, 100)
    r = await client.post("/api/v1/shops", json={"name": "Carol's Vintage 卡罗古董店", "plan": "basic"},
                          headers=a["headers"])
    assert r.status_code == 201
    assert r.json()["slug"] == "carols-vintage"
    b = await _user_with_coins(client, sessions, 100)
    r = await client.post("/api/v1/shops", json={"name": "卡罗古董店"}, headers=b["headers"])
    assert r.status_code == 201
    assert r.json()["slug"] == f"shop-{r.json()['id']}"


async def test_get_shop_with_listing_count_and_rating(client: Any, sessions: Any) -> None:
    user = await _user_with_coins(client, sessions, 100)
    shop = (await client.post("/api/v1/shops", json=SHOP, headers=user["headers"])).json()
    async with sessions() as s, s.begin():
        from marketplace.accounts.models import User

        owner = await s.get(User, user["id"])
        for _ in range(2):
            listing = await make_listing(s, owner)
            listing.shop_id = shop["id"]
        ended = await make_listing(s, owner)
        ended.shop_id, ended.status = shop["id"], "ended"
    r = await client.get("/api/v1/shops/doras-books")
    assert r.status_code == 200
    body = r.json()
    assert body["listing_count"] == 2
    assert body["rating"]["score"] == 0
    assert body["rating"]["positive_percent"] is None
    assert body["owner"]["id"] == user["id"]
    assert body["free_listings_remaining"] is None  # not shown to strangers
    mine = (await client.get("/api/v1/shops/doras-books", headers=user["headers"])).json()
    assert mine["free_listings_remaining"] == 50
    assert (await client.get("/api/v1/shops/nope-nope")).status_code == 404


async def test_suspended_shop_is_404_except_for_owner_and_admin(client: Any, sessions: Any) -> None:
    user = await _user_with_coins(client, sessions, 100)
    await client.post("/api/v1/shops", json=SHOP, headers=user["headers"])
    async with sessions() as s, s.begin():
        shop = await s.scalar(select(Shop))
        shop.status = "suspended"
        admin = await make_user(s, "shopadmin", is_admin=True)
    assert (await client.get("/api/v1/shops/doras-books")).status_code == 404
    stranger = await api_user(client)
    assert (await client.get("/api/v1/shops/doras-books", headers=stranger["headers"])).status_code == 404
    assert (await client.get("/api/v1/shops/doras-books", headers=user["headers"])).status_code == 200
    from tests.factories import api_login

    admin_headers = await api_login(client, admin.username)
    assert (await client.get("/api/v1/shops/doras-books", headers=admin_headers)).status_code == 200


async def test_patch_shop_profile_and_errors(client: Any, sessions: Any) -> None:
    user = await _user_with_coins(client, sessions, 100)
    await client.post("/api/v1/shops", json=SHOP, headers=user["headers"])
    r = await client.patch("/api/v1/shops/doras-books",
                           json={"name": "Dora 2", "description": "new", "auto_renew": False},
                           headers=user["headers"])
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["description"], r.json()["auto_renew"]) == ("Dora 2", "new", False)
    assert (await client.patch("/api/v1/shops/doras-books", json={"name": "x"})).status_code == 401
    stranger = await api_user(client)
    r = await client.patch("/api/v1/shops/doras-books", json={"name": "mine"}, headers=stranger["headers"])
    assert r.status_code == 403
    r = await client.patch("/api/v1/shops/nope-nope", json={"name": "mine"}, headers=user["headers"])
    assert r.status_code == 404
    r = await client.patch("/api/v1/shops/doras-books", json={"plan": "gold"}, headers=user["headers"])
    assert r.status_code == 400
    r = await client.patch("/api/v1/shops/doras-books", json={"name": ""}, headers=user["headers"])
    assert r.status_code == 400


async def test_upgrade_is_prorated_and_402_without_coins(client: Any, sessions: Any) -> None:
    user = await _user_with_coins(client, sessions, 100)
    await client.post("/api/v1/shops", json=SHOP, headers=user["headers"])
    r = await client.patch("/api/v1/shops/doras-books", json={"plan": "pro", "name": "Renamed"},
                           headers=user["headers"])
    assert r.status_code == 402
    assert "200" in r.json()["detail"]  # 30 of 30 days left: the full difference
    body = (await client.get("/api/v1/shops/doras-books")).json()
    assert (body["plan"], body["name"]) == ("basic", SHOP["name"])  # nothing changed
    async with sessions() as s, s.begin():
        await fund(s, user["id"], 200)
    r = await client.patch("/api/v1/shops/doras-books", json={"plan": "pro"}, headers=user["headers"])
    assert r.status_code == 200
    assert r.json()["plan"] == "pro"
    assert await _wallet(client, user) == 0
    r = await client.patch("/api/v1/shops/doras-books", json={"plan": "basic"}, headers=user["headers"])
    assert r.status_code == 200
    assert (r.json()["plan"], r.json()["next_plan"]) == ("pro", "basic")  # downgrade waits for renewal


async def test_renew_extends_and_errors(client: Any, sessions: Any) -> None:
    user = await _user_with_coins(client, sessions, 150)
    first = (await client.post("/api/v1/shops", json=SHOP, headers=user["headers"])).json()
    assert (await client.post("/api/v1/shops/doras-books/renew")).status_code == 401
    stranger = await _user_with_coins(client, sessions, 500)
    r = await client.post("/api/v1/shops/doras-books/renew", headers=stranger["headers"])
    assert r.status_code == 403
    assert (await client.post("/api/v1/shops/nope-nope/renew", headers=user["headers"])).status_code == 404
    r = await client.post("/api/v1/shops/doras-books/renew", headers=user["headers"])
    assert r.status_code == 402
    assert "50" in r.json()["detail"]
    async with sessions() as s, s.begin():
        await fund(s, user["id"], 50)
    r = await client.post("/api/v1/shops/doras-books/renew", headers=user["headers"])
    assert r.status_code == 200
    from datetime import datetime, timedelta

    before = datetime.fromisoformat(first["paid_until"].replace("Z", "+00:00"))
    after = datetime.fromisoformat(r.json()["paid_until"].replace("Z", "+00:00"))
    assert after - before == timedelta(days=30)
    assert await _wallet(client, user) == 0


async def test_listing_count_ignores_other_sellers(client: Any, sessions: Any) -> None:
    user = await _user_with_coins(client, sessions, 100)
    await client.post("/api/v1/shops", json=SHOP, headers=user["headers"])
    async with sessions() as s, s.begin():
        other = await make_user(s)
        await make_listing(s, other)
        assert await s.scalar(select(func.count()).select_from(Listing)) == 1
    assert (await client.get("/api/v1/shops/doras-books")).json()["listing_count"] == 0


async def test_openapi_describes_the_shop_endpoints(client: Any) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert {"get"} <= set(paths["/api/v1/shop-plans"])
    assert {"post"} <= set(paths["/api/v1/shops"])
    assert {"get", "patch"} <= set(paths["/api/v1/shops/{slug}"])
    assert {"post"} <= set(paths["/api/v1/shops/{slug}/renew"])

