"""Chinese-aware search on PostgreSQL through the API and the results page: segmentation, traditional =
simplified, category names, plurals, the category facet and filter (docs/api.md, GET /listings)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.categories.services import CategoryService
from marketplace.listings.models import Listing
from tests.factories import api_user, fund, make_category

API = "/api/v1"

ITEMS = [  # (category key, title, description)
    ("porcelain", "清代青花花瓶一只", "品相完好"),
    ("porcelain", "青花瓷 茶杯 一对", "景德镇"),
    ("desktops", "高配游戏电脑主机", "RTX 4070"),
    ("cameras", "徕卡相机M6胶片机", "Leica M6"),
    ("kitchen", "宜興紫砂茶壺 手工", "傳統手工"),
    ("kitchen", "Cast iron skillet 铸铁锅", "26 cm"),
    ("phones", "iPhone 13 128GB", "Unlocked, battery 89%"),
]


async def catalogue(client: Any, sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as s, s.begin():
        digital = await make_category(s, "数码 Electronics")
        cats = {"phones": await make_category(s, "手机 Phones", digital),
                "desktops": await make_category(s, "台式机 Desktops", digital),
                "cameras": await make_category(s, "相机 Cameras", digital),
                "porcelain": await make_category(s, "瓷器 Porcelain"),
                "kitchen": await make_category(s, "厨具 Kitchen")}
        ids = {k: c.id for k, c in cats.items()}
    seller = await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, seller["id"], 1_000)
    for key, title, description in ITEMS:
        r = await client.post(f"{API}/listings", headers=seller["headers"], json={
            "title": title, "description": description, "category_id": ids[key], "mode": "fixed", "price": 100,
            "quantity": 1})
        assert r.status_code == 201, r.text
    return ids


async def search(client: Any, q: str, **params: Any) -> dict[str, Any]:
    r = await client.get(f"{API}/listings", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def titles(client: Any, q: str, **params: Any) -> list[str]:
    return sorted(i["title"] for i in (await search(client, q, **params))["items"])


async def test_chinese_queries_without_spaces_traditional_and_plural(client: Any, sessions: Any) -> None:
    await catalogue(client, sessions)
    assert await titles(client, "青花花瓶") == ["清代青花花瓶一只"]
    assert await titles(client, "青花") == ["清代青花花瓶一只", "青花瓷 茶杯 一对"]
    assert await titles(client, "游戏电脑") == ["高配游戏电脑主机"]
    assert await titles(client, "遊戲電腦") == ["高配游戏电脑主机"]  # traditional query
    assert await titles(client, "徕卡相机") == ["徕卡相机M6胶片机"]
    assert await titles(client, "茶壶") == ["宜興紫砂茶壺 手工"]  # traditional title
    assert await titles(client, "skillets") == ["Cast iron skillet 铸铁锅"]
    assert await titles(client, "SKILLET 铸铁锅") == ["Cast iron skillet 铸铁锅"]
    assert await titles(client, "茶壶 skillet") == []
    assert await titles(client, "花瓶 50%") == []


async def test_category_names_are_searched(client: Any, sessions: Any) -> None:
    await catalogue(client, sessions)
    assert await titles(client, "手机") == ["iPhone 13 128GB"]  # only its category says 手机
    assert await titles(client, "phones iphone") == ["iPhone 13 128GB"]
    assert await titles(client, "数码") == ["iPhone 13 128GB", "徕卡相机M6胶片机", "高配游戏电脑主机"]  # the root


async def test_category_rename_move_and_merge_reindex_their_listings(client: Any, sessions: Any) -> None:
    ids = await catalogue(client, sessions)
    async with sessions() as s, s.begin():
        await CategoryService(s).rename(ids["phones"], "智能手机 Smartphones")
    assert await titles(client, "智能手机") == ["iPhone 13 128GB"]
    assert await titles(client, "smartphones") == ["iPhone 13 128GB"]
    assert await titles(client, "phones") == []
    async with sessions() as s, s.begin():
        await CategoryService(s).move(ids["phones"], None)  # no longer under 数码
    assert "iPhone 13 128GB" not in await titles(client, "数码")
    async with sessions() as s, s.begin():
        await CategoryService(s).merge(ids["kitchen"], ids["porcelain"])
    assert await titles(client, "瓷器 茶壶") == ["宜興紫砂茶壺 手工"]
    assert await titles(client, "厨具") == []


async def test_facets_count_matches_per_category_and_the_filter_narrows(client: Any, sessions: Any) -> None:
    ids = await catalogue(client, sessions)
    body = await search(client, "青花")
    assert body["total"] == 2
    assert [(f["category_id"], f["name"], f["path"], f["count"]) for f in body["category_facets"]] == [
        (ids["porcelain"], "瓷器 Porcelain", ["瓷器 Porcelain"], 2)]
    body = await search(client, "手工 铸铁锅 青花")
    assert body["total"] == 0
    assert body["category_facets"] == []
    body = await search(client, "数码")
    assert body["total"] == 3
    assert {f["name"]: f["count"] for f in body["category_facets"]} == {
        "手机 Phones": 1, "台式机 Desktops": 1, "相机 Cameras": 1}
    # The filter narrows the items and the total; the facet still offers every category of the search.
    body = await search(client, "数码", category_id=ids["cameras"])
    assert [i["title"] for i in body["items"]] == ["徕卡相机M6胶片机"]
    assert body["total"] == 1
    assert len(body["category_facets"]) == 3
    assert (await client.get(f"{API}/listings", params={"q": "数码", "category_id": 999_999})).status_code == 400
    # Without q there is no facet (and no change to the browse response).
    body = (await client.get(f"{API}/listings")).json()
    assert body["category_facets"] == []
    assert body["total"] == len(ITEMS)


async def test_results_page_shows_the_facet_and_filters_by_category(client: Any, sessions: Any) -> None:
    ids = await catalogue(client, sessions)
    page = await client.get("/search", params={"q": "数码"})
    assert page.status_code == 200
    assert 'class="facets"' in page.text
    assert f'category_id={ids["cameras"]}"' in page.text
    assert '相机 Cameras <span class="count">1</span>' in page.text
    page = await client.get("/search", params={"q": "数码", "category_id": str(ids["cameras"])})
    assert page.status_code == 200
    assert "徕卡相机M6胶片机" in page.text
    assert "高配游戏电脑主机" not in page.text
    assert f'<input type="hidden" name="category_id" value="{ids["cameras"]}">' in page.text
    assert 'aria-current="true"' in page.text
    assert (await client.get("/search", params={"q": "数码", "category_id": "999999"})).status_code == 400
    page = await client.get("/search", params={"q": "青花花瓶"})
    assert "清代青花花瓶一只" in page.text
    assert "青花瓷 茶杯 一对" not in page.text


async def test_search_text_is_kept_and_indexed(client: Any, sessions: Any) -> None:
    await catalogue(client, sessions)
    async with sessions() as s:
        stored = await s.scalar(select(Listing.search_text).where(Listing.title == "iPhone 13 128GB"))
        assert stored == "iphon 13 128gb unlock batteri 89 数码 electron 手机 phone"
        indexes = set((await s.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'listings'")))
                      .scalars())
    assert "ix_listings_search_words" in indexes  # its plans over 100,000 rows: docs/performance.md (P3)
    assert "ix_listings_search_tokens" not in indexes  # the expression index it replaced (0217_p3)
    async with sessions() as s:
        words = await s.scalar(text("SELECT search_words FROM listings WHERE title = 'iPhone 13 128GB'"))
    assert words == stored.split(" ")  # kept by PostgreSQL from search_text
