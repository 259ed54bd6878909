"""Site operations over HTTP (docs/api.md "Site operations"): blocks, templates, reports, cache."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete

from marketplace.accounts.models import User
from marketplace.listings.models import Listing
from marketplace.site.models import Block
from tests.factories import api_admin, api_user, html_login, html_post, make_category, make_listing

API = "/api/v1"


@pytest.fixture(autouse=True)
async def no_blocks(sessions: Any) -> None:
    """Start without the migration's default home blocks (the first test of a run still sees them)."""
    async with sessions() as s, s.begin():
        await s.execute(delete(Block))


async def _listing(sessions: Any, seller_id: int, **kw: Any) -> int:
    async with sessions() as s, s.begin():
        seller = await s.get(User, seller_id)
        return int((await make_listing(s, seller, **kw)).id)


# --- blocks ------------------------------------------------------------------------------------------------------


async def test_blocks_crud_and_the_public_slot(client: Any, sessions: Any) -> None:
    admin, user = await api_admin(client, sessions), await api_user(client)
    async with sessions() as s, s.begin():
        cat = await make_category(s, "Phones")
        cat_id = cat.id
    cheap = await _listing(sessions, user["id"], category=None, title="Cheap phone", price=50)
    await _listing(sessions, user["id"], title="Dear phone", price=500)
    body = {"title": "Under 100", "slot": "home", "position": 1, "display": "list", "limit": 4, "active": True,
            "query": {"max_price": 100, "sort": "price_asc"}}
    assert (await client.post(f"{API}/admin/blocks", json=body, headers=user["headers"])).status_code == 403
    assert (await client.post(f"{API}/admin/blocks", json=body)).status_code == 401
    r = await client.post(f"{API}/admin/blocks", json=body, headers=admin["headers"])
    assert r.status_code == 201, r.text
    block = r.json()
    assert block["limit"] == 4
    assert block["query"] == {"max_price": 100, "sort": "price_asc"}
    r = await client.post(f"{API}/admin/blocks", json={**body, "title": "First", "position": 0,
                                                      "display": "grid", "query": {}}, headers=admin["headers"])
    assert r.status_code == 201
    first = r.json()

    r = await client.get(f"{API}/blocks", params={"slot": "home"})
    assert r.status_code == 200
    slot = r.json()
    assert [b["title"] for b in slot] == ["First", "Under 100"]
    assert [i["id"] for i in slot[1]["items"]] == [cheap]
    assert set(slot[1]) >= {"id", "title", "display", "items"}

    # bad input: 400 and nothing changes
    for bad in ({**body, "limit": 0}, {**body, "limit": 49}, {**body, "display": "table"}, {**body, "slot": "x"},
                {**body, "query": {"sort": "random"}}, {**body, "query": {"evil": 1}}, {**body, "title": ""},
                {**body, "slot": "category:999999"}, {**body, "active": "yes"}):
        r = await client.post(f"{API}/admin/blocks", json=bad, headers=admin["headers"])
        assert r.status_code == 400, (bad, r.text)
    assert len((await client.get(f"{API}/admin/blocks", headers=admin["headers"])).json()) == 2

    r = await client.patch(f"{API}/admin/blocks/{first['id']}", json={"position": 5, "active": False},
                           headers=admin["headers"])
    assert r.status_code == 200
    assert r.json()["active"] is False
    assert (await client.patch(f"{API}/admin/blocks/{first['id']}", json={"limit": 100},
                               headers=admin["headers"])).status_code == 400
    assert (await client.patch(f"{API}/admin/blocks/{first['id']}", json={"title": "x"},
                               headers=user["headers"])).status_code == 403
    slot = (await client.get(f"{API}/blocks", params={"slot": "home"})).json()
    assert [b["title"] for b in slot] == ["Under 100"]  # inactive ones are not shown

    # a category slot
    r = await client.post(f"{API}/admin/blocks", json={**body, "slot": f"category:{cat_id}", "title": "Cat"},
                          headers=admin["headers"])
    assert r.status_code == 201
    assert [b["title"] for b in (await client.get(f"{API}/blocks", params={"slot": f"category:{cat_id}"})).json()] \
        == ["Cat"]
    assert (await client.get(f"{API}/blocks", params={"slot": "nope"})).status_code == 400

    assert (await client.delete(f"{API}/admin/blocks/{first['id']}", headers=user["headers"])).status_code == 403
    assert (await client.delete(f"{API}/admin/blocks/{first['id']}", headers=admin["headers"])).status_code == 204
    assert (await client.delete(f"{API}/admin/blocks/{first['id']}", headers=admin["headers"])).status_code == 404


async def test_home_page_renders_the_home_slot_and_a_new_block_shows_at_once(client: Any, sessions: Any) -> None:
    admin, user = await api_admin(client, sessions), await api_user(client)
    await _listing(sessions, user["id"], title="Vintage lamp 台灯")
    home = await client.get("/")
    assert home.headers["content-type"].startswith("text/html")
    assert "<h2>Newest</h2>" in home.text  # the default blocks while the slot has none
    r = await client.post(f"{API}/admin/blocks", json={"title": "Lamps 灯具", "slot": "home", "query": {"q": "lamp"}},
                          headers=admin["headers"])
    assert r.status_code == 201
    home = await client.get("/")
    assert "Lamps 灯具" in home.text
    assert "Vintage lamp" in home.text
    assert "<h2>Newest</h2>" not in home.text


# --- templates ---------------------------------------------------------------------------------------------------


async def test_template_override_lifecycle(client: Any, sessions: Any) -> None:
    admin, user = await api_admin(client, sessions), await api_user(client)
    h = admin["headers"]
    assert (await client.get(f"{API}/admin/templates", headers=user["headers"])).status_code == 403
    r = await client.get(f"{API}/admin/templates", headers=h)
    assert r.status_code == 200
    names = {t["name"] for t in r.json()}
    assert names >= {"base", "header", "footer", "home", "category", "listing", "shop"}
    assert all(t["overridden"] is False and t["published_version"] is None for t in r.json())
    assert (await client.get(f"{API}/admin/templates/nope", headers=h)).status_code == 404
    shipped = (await client.get(f"{API}/admin/templates/footer", headers=h)).json()["shipped_source"]
    assert "site-footer" in shipped

    # refused at save: unsafe (with the line), syntax error, too large
    r = await client.post(f"{API}/admin/templates/footer/versions",
                          json={"source": "<footer>\n{{ ''.__class__.__mro__ }}\n</footer>"}, headers=h)
    assert r.status_code == 400
    assert "line 2" in r.json()["detail"]
    r = await client.post(f"{API}/admin/templates/footer/versions", json={"source": "{% if %}"}, headers=h)
    assert r.status_code == 400
    assert "line 1" in r.json()["detail"]
    r = await client.post(f"{API}/admin/templates/footer/versions", json={"source": "x" * (64 * 1024 + 1)},
                          headers=h)
    assert r.status_code == 413
    assert (await client.post(f"{API}/admin/templates/footer/versions", json={"source": "<p>x</p>"},
                              headers=user["headers"])).status_code == 403

    v1 = '<footer class="site-footer">FOOTER-V1 {{ nav_categories|length }}</footer>'
    r = await client.post(f"{API}/admin/templates/footer/versions", json={"source": v1}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 1
    assert r.json()["status"] == "draft"
    # a draft is not live; the preview shows it with real data
    assert "FOOTER-V1" not in (await client.get("/")).text
    r = await client.post(f"{API}/admin/templates/footer/preview", json={"version": 1}, headers=h)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "FOOTER-V1" in r.text
    assert "Coin Market" in r.text
    r = await client.post(f"{API}/admin/templates/footer/preview", json={"source": "PREVIEW-ONLY"}, headers=h)
    assert r.status_code == 200
    assert "PREVIEW-ONLY" in r.text
    assert (await client.post(f"{API}/admin/templates/footer/preview", json={"source": "{{ config }}"},
                              headers=h)).status_code == 400
    assert (await client.post(f"{API}/admin/templates/footer/preview", json={}, headers=h)).status_code == 400

    assert (await client.post(f"{API}/admin/templates/footer/versions/9/publish", headers=h)).status_code == 404
    r = await client.post(f"{API}/admin/templates/footer/versions/1/publish", headers=h)
    assert r.status_code == 200
    assert "FOOTER-V1" in (await client.get("/")).text
    r = await client.post(f"{API}/admin/templates/footer/versions", json={"source": v1.replace("V1", "V2")},
                          headers=h)
    assert r.json()["version"] == 2
    await client.post(f"{API}/admin/templates/footer/versions/2/publish", headers=h)
    assert "FOOTER-V2" in (await client.get("/")).text
    versions = (await client.get(f"{API}/admin/templates/footer", headers=h)).json()["versions"]
    assert {v["version"]: v["status"] for v in versions} == {1: "retired", 2: "published"}
    assert versions[0]["author"] == admin["username"]
    assert versions[0]["created_at"].endswith("Z")
    # roll back = publish an earlier version
    await client.post(f"{API}/admin/templates/footer/versions/1/publish", headers=h)
    page = (await client.get("/")).text
    assert "FOOTER-V1" in page
    assert "FOOTER-V2" not in page
    listing = {t["name"]: t for t in (await client.get(f"{API}/admin/templates", headers=h)).json()}
    assert listing["footer"]["overridden"] is True
    assert listing["footer"]["published_version"] == 1
    # revert to shipped
    assert (await client.delete(f"{API}/admin/templates/footer/override", headers=h)).status_code == 204
    page = (await client.get("/")).text
    assert "FOOTER-V1" not in page
    assert "Times are shown in your time zone." in page


async def test_an_override_that_fails_at_render_falls_back_to_the_shipped_template(client: Any,
                                                                                  sessions: Any) -> None:
    admin = await api_admin(client, sessions)
    h = admin["headers"]
    # passes the save-time policy but raises when rendered (division by zero)
    r = await client.post(f"{API}/admin/templates/footer/versions", json={"source": "BROKEN {{ 1 // 0 }}"},
                          headers=h)
    assert r.status_code == 201
    assert (await client.post(f"{API}/admin/templates/footer/versions/1/publish", headers=h)).status_code == 200
    page = await client.get("/")
    assert page.status_code == 200
    assert "BROKEN" not in page.text
    assert "Times are shown in your time zone." in page.text


# --- reports -----------------------------------------------------------------------------------------------------


async def test_report_and_resolve(client: Any, sessions: Any) -> None:
    admin, seller, reporter = await api_admin(client, sessions), await api_user(client), await api_user(client)
    listing_id = await _listing(sessions, seller["id"], title="Fake watch")
    url = f"{API}/listings/{listing_id}/reports"
    assert (await client.post(url, json={"reason": "counterfeit", "text": "fake"})).status_code == 401
    assert (await client.post(url, json={"reason": "ugly", "text": "x"},
                              headers=reporter["headers"])).status_code == 400
    assert (await client.post(f"{API}/listings/999999/reports", json={"reason": "fraud"},
                              headers=reporter["headers"])).status_code == 404
    r = await client.post(url, json={"reason": "counterfeit", "text": "fake logo"}, headers=reporter["headers"])
    assert r.status_code == 201
    assert r.json()["status"] == "open"
    report_id = r.json()["id"]
    assert (await client.post(url, json={"reason": "fraud", "text": ""},
                              headers=reporter["headers"])).status_code == 409

    assert (await client.get(f"{API}/admin/reports", headers=reporter["headers"])).status_code == 403
    r = await client.get(f"{API}/admin/reports", params={"status": "open"}, headers=admin["headers"])
    assert r.status_code == 200
    item = r.json()["items"][0]
    assert {k: item[k] for k in ("id", "listing_id", "reason", "text", "reporter", "status")} == {
        "id": report_id, "listing_id": listing_id, "reason": "counterfeit", "text": "fake logo",
        "reporter": reporter["username"], "status": "open"}
    assert r.json()["total"] == 1

    resolve = f"{API}/admin/reports/{report_id}/resolve"
    assert (await client.post(resolve, json={"action": "remove", "note": "x"},
                              headers=reporter["headers"])).status_code == 403
    assert (await client.post(resolve, json={"action": "burn"}, headers=admin["headers"])).status_code == 400
    r = await client.post(resolve, json={"action": "remove", "note": "Counterfeit brand goods"},
                          headers=admin["headers"])
    assert r.status_code == 200
    assert r.json()["status"] == "removed"
    async with sessions() as s:
        assert (await s.get(Listing, listing_id)).status == "removed"  # type: ignore[union-attr]
    assert (await client.post(resolve, json={"action": "dismiss"}, headers=admin["headers"])).status_code == 409
    assert (await client.get(f"{API}/listings/{listing_id}")).status_code == 404
    removals = (await client.get(f"{API}/my/removals", headers=seller["headers"])).json()
    assert removals[0]["listing_id"] == listing_id
    assert removals[0]["note"] == "Counterfeit brand goods"
    # the seller is shown the reason on their listings page too
    await html_login(client, seller["username"])
    page = await client.get("/my/listings")
    assert page.status_code == 200
    assert "Removed after a report (counterfeit): Counterfeit brand goods" in page.text
    assert (await client.get(f"{API}/admin/reports", params={"status": "open"},
                             headers=admin["headers"])).json()["total"] == 0


async def test_report_dismiss_and_the_html_queue(client: Any, sessions: Any) -> None:
    admin, seller, reporter = await api_admin(client, sessions), await api_user(client), await api_user(client)
    listing_id = await _listing(sessions, seller["id"], title="Odd item")
    await html_login(client, reporter["username"])
    page = await client.get(f"/listings/{listing_id}")
    assert f'action="/listings/{listing_id}/report"' in page.text
    r = await html_post(client, f"/listings/{listing_id}/report", {"reason": "wrong_category", "text": "not toys"})
    assert r.status_code == 303
    await html_login(client, admin["username"])
    page = await client.get("/admin/reports")
    assert page.status_code == 200
    assert "Odd item" in page.text
    assert "wrong_category" in page.text
    report_id = (await client.get(f"{API}/admin/reports", headers=admin["headers"])).json()["items"][0]["id"]
    r = await html_post(client, f"/admin/reports/{report_id}/resolve", {"action": "dismiss", "note": "fine"})
    assert r.status_code == 303
    async with sessions() as s:
        assert (await s.get(Listing, listing_id)).status == "active"  # type: ignore[union-attr]


# --- cache and admin pages ---------------------------------------------------------------------------------------


async def test_cache_stats_purge_and_admin_pages(client: Any, sessions: Any) -> None:
    admin, user = await api_admin(client, sessions), await api_user(client)
    await client.get("/")
    await client.get("/")
    assert (await client.get(f"{API}/admin/cache", headers=user["headers"])).status_code == 403
    r = await client.get(f"{API}/admin/cache", headers=admin["headers"])
    assert r.status_code == 200
    stats = r.json()
    assert set(stats) >= {"hits", "misses", "hit_ratio", "keys"}
    assert stats["hits"] >= 1
    assert stats["keys"] >= 1
    assert (await client.post(f"{API}/admin/cache/purge", headers=user["headers"])).status_code == 403
    assert (await client.post(f"{API}/admin/cache/purge", headers=admin["headers"])).status_code == 204
    assert (await client.get(f"{API}/admin/cache", headers=admin["headers"])).json()["keys"] == 0
    await html_login(client, admin["username"])
    for path in ("/admin/cache", "/admin/blocks", "/admin/templates", "/admin/templates/home", "/admin/reports"):
        r = await client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
    r = await html_post(client, "/admin/blocks", {"title": "HTML block", "slot": "home", "display": "grid",
                                                 "limit": "6", "active": "1", "position": "0"})
    assert r.status_code == 303
    assert "HTML block" in (await client.get("/admin/blocks")).text
    r = await client.get("/admin/blocks/preview", params={"spec": '{"sort": "newest"}', "limit": 4})
    assert r.status_code == 200
    r = await html_post(client, "/admin/templates/home/versions", {"source": "{{ config }}"})
    assert r.status_code == 303
    assert "not a variable" in (await client.get("/admin/templates/home")).text
    r = await html_post(client, "/admin/cache/purge", {})
    assert r.status_code == 303


async def test_cached_listing_json_and_page_are_fresh_after_a_purchase(client: Any, sessions: Any) -> None:
    from tests.factories import fund

    seller, buyer = await api_user(client), await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, buyer["id"], 1000)
    listing_id = await _listing(sessions, seller["id"], title="Two mugs", price=10, quantity=2)
    for _ in range(2):
        assert (await client.get(f"{API}/listings/{listing_id}")).json()["quantity_available"] == 2
        assert (await client.get(f"/listings/{listing_id}")).status_code == 200
    page = await client.get(f"/listings/{listing_id}")
    assert page.headers.get("x-page-cache") == "hit"
    r = await client.post(f"{API}/listings/{listing_id}/buy", json={"quantity": 1}, headers=buyer["headers"])
    assert r.status_code == 201, r.text
    # the writer's response has returned: every anonymous read is fresh
    assert (await client.get(f"{API}/listings/{listing_id}")).json()["quantity_available"] == 1
    page = await client.get(f"/listings/{listing_id}")
    assert page.headers.get("x-page-cache") is None
    assert (await client.get(f"/listings/{listing_id}")).headers.get("x-page-cache") == "hit"


async def test_cached_shop_page_is_fresh_after_the_owner_renames_the_shop(client: Any, sessions: Any) -> None:
    from tests.factories import fund

    owner = await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, owner["id"], 1000)
    r = await client.post(f"{API}/shops", json={"name": "Old sign", "slug": "sign-shop", "plan": "basic"},
                          headers=owner["headers"])
    assert r.status_code == 201, r.text
    assert "Old sign" in (await client.get("/shops/sign-shop")).text
    page = await client.get("/shops/sign-shop")
    assert page.headers.get("x-page-cache") == "hit"
    r = await client.patch(f"{API}/shops/sign-shop", json={"name": "New sign"}, headers=owner["headers"])
    assert r.status_code == 200, r.text
    # the owner's response has returned: the anonymous page shows the new name at once
    page = await client.get("/shops/sign-shop")
    assert page.headers.get("x-page-cache") is None
    assert "New sign" in page.text
    assert "Old sign" not in page.text
    assert (await client.get("/shops/sign-shop")).headers.get("x-page-cache") == "hit"
