"""Listing pages through the HTTP client: sell form with photos and CSRF, listing page, buy, browse, search."""

from __future__ import annotations

import re
from typing import Any

from tests.factories import PASSWORD, api_user, csrf_token, html_login, make_category
from tests.functional.test_listings_api import give
from tests.imagedata import png_bytes


async def leaf(sessions: Any) -> dict[str, Any]:
    async with sessions() as s, s.begin():
        root = await make_category(s, "数码 Electronics")
        used = await make_category(s, "二手手机 Used phones", root)
        return {"root_id": root.id, "root_slug": root.slug, "id": used.id, "slug": used.slug}


async def sell(client: Any, fields: dict[str, Any], files: list[tuple[str, Any]] | None = None) -> Any:
    token = client.cookies.get("csrftoken") or await csrf_token(client, "/sell")
    return await client.post("/sell", data={**fields, "_csrf_token": token}, files=files or [],
                             follow_redirects=False)


async def test_sell_page_needs_login_and_shows_fees(client: Any, sessions: Any) -> None:
    r = await client.get("/sell", follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"].startswith("/login")
    seller = await api_user(client)
    await give(sessions, seller["id"], 50)
    await leaf(sessions)
    await html_login(client, seller["username"])
    r = await client.get("/sell")
    assert r.status_code == 200
    assert 'enctype="multipart/form-data"' in r.text
    assert "二手手机 Used phones" in r.text
    assert "fixed price 2" in r.text
    assert "50 🪙" in r.text


async def test_sell_with_photos_then_another_user_buys_through_the_pages(client: Any, sessions: Any) -> None:
    cat = await leaf(sessions)
    seller = await api_user(client)
    await give(sessions, seller["id"], 50)
    await html_login(client, seller["username"])
    files = [("images", (f"p{i}.png", png_bytes(300, 200, (i * 60, 90, 30)), "image/png")) for i in range(3)]
    r = await sell(client, {"mode": "fixed", "title": "二手手机 九成新", "category_id": str(cat["id"]),
                            "description": "<b>bold?</b>\nsecond line", "price": "120", "quantity": "2"}, files)
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    assert re.fullmatch(r"/listings/\d+", url)
    page = await client.get(url)
    assert page.status_code == 200
    assert "Your listing is live" in page.text
    assert page.text.count('data-full=') == 3
    assert "&lt;b&gt;bold?&lt;/b&gt;<br>" in page.text
    assert cat["root_slug"] in page.text  # breadcrumbs
    assert "End listing" in page.text
    me = (await client.get("/api/v1/me", headers=seller["headers"])).json()
    assert me["wallet"]["available"] == 48
    assert "Feature it" in page.text
    r = await client.post(f"{url}/feature", data={"_csrf_token": client.cookies.get("csrftoken")},
                          follow_redirects=False)
    assert r.status_code == 303
    page = await client.get(url)
    assert "Featured!" in page.text
    assert "Feature it" not in page.text
    assert (await client.get("/api/v1/me", headers=seller["headers"])).json()["wallet"]["available"] == 28

    client.cookies.clear()  # a different person in a different browser
    buyer = await api_user(client)
    await give(sessions, buyer["id"], 500)
    await html_login(client, buyer["username"], PASSWORD)
    page = await client.get(url)
    assert "Buy now" in page.text
    token = client.cookies.get("csrftoken")
    r = await client.post(f"{url}/buy", data={"quantity": "1"}, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    r = await client.post(f"{url}/buy", data={"quantity": "5", "_csrf_token": token}, follow_redirects=False)
    assert r.status_code == 409
    assert "Only 2 left" in r.text
    r = await client.post(f"{url}/buy", data={"quantity": "2", "_csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/orders/")  # the order page (docs/rules.md §19.3)
    page = await client.get(r.headers["location"])
    assert "Order #" in page.text
    page = await client.get(url)
    assert ">Sold<" in page.text  # the status label, not the raw status
    wallet = (await client.get("/api/v1/me", headers=buyer["headers"])).json()["wallet"]
    assert wallet["available"] == 260


async def test_sell_form_errors_rerender_with_the_message_and_keep_nothing(client: Any, sessions: Any) -> None:
    cat = await leaf(sessions)
    seller = await api_user(client)
    await give(sessions, seller["id"], 1)
    await html_login(client, seller["username"])
    base = {"mode": "fixed", "title": "Kettle", "category_id": str(cat["id"]), "price": "10", "quantity": "1"}
    r = await sell(client, base)
    assert r.status_code == 402
    assert "Not enough coins" in r.text
    assert 'value="Kettle"' in r.text
    await give(sessions, seller["id"], 10)
    r = await sell(client, {**base, "price": "ten"})
    assert r.status_code == 400
    assert "whole number" in r.text
    r = await sell(client, {**base, "category_id": str(cat["root_id"])})
    assert r.status_code == 409
    r = await sell(client, base, [("images", ("fake.jpg", b"not an image at all", "image/jpeg"))])
    assert r.status_code == 400
    assert "not a JPEG, PNG or WebP" in r.text
    listings = (await client.get("/api/v1/listings", params={"seller_id": seller["id"], "status": "all"})).json()
    assert listings["total"] == 0
    assert (await client.get("/api/v1/me", headers=seller["headers"])).json()["wallet"]["available"] == 11


async def test_sell_auction_and_end_it_from_my_listings(client: Any, sessions: Any) -> None:
    cat = await leaf(sessions)
    seller = await api_user(client)
    await give(sessions, seller["id"], 10)
    await html_login(client, seller["username"])
    r = await sell(client, {"mode": "auction", "title": "Old coin", "category_id": str(cat["id"]),
                            "start_price": "30", "reserve_price": "", "buy_now_price": "90",
                            "duration_seconds": "3600", "auto_extend": "1"})
    assert r.status_code == 303, r.text
    listing_id = int(r.headers["location"].rsplit("/", 1)[1])
    body = (await client.get(f"/api/v1/listings/{listing_id}")).json()
    assert (body["mode"], body["start_price"], body["buy_now_price"], body["auto_extend"]) == ("auction", 30, 90, True)
    page = await client.get("/my/listings")
    assert "Old coin" in page.text
    assert "End listing" in page.text
    r = await client.post(f"/listings/{listing_id}/end", data={"_csrf_token": client.cookies.get("csrftoken")},
                          follow_redirects=False)
    assert r.status_code == 303
    assert (await client.get(f"/api/v1/listings/{listing_id}")).json()["status"] == "ended"
    page = await client.get("/my/listings")
    assert "Listing ended" in page.text
    assert "End listing</button>" not in page.text


async def test_category_search_and_home_pages(client: Any, sessions: Any) -> None:
    cat = await leaf(sessions)
    seller = await api_user(client)
    await give(sessions, seller["id"], 100)
    for title, price, featured in (("二手手机 九成新", 120, False), ("Phone case", 5, True)):
        r = await client.post("/api/v1/listings", headers=seller["headers"], json={
            "title": title, "description": "", "category_id": cat["id"], "mode": "fixed", "price": price,
            "quantity": 1, "featured": featured})
        assert r.status_code == 201
    page = await client.get(f"/c/{cat['root_slug']}")
    assert page.status_code == 200
    assert "二手手机 九成新" in page.text
    assert "Phone case" in page.text
    assert f'href="/c/{cat["slug"]}"' in page.text  # sub-category
    page = await client.get(f"/c/{cat['root_slug']}", params={"min_price": "100", "sort": "price_asc"})
    assert "二手手机 九成新" in page.text
    assert "Phone case" not in page.text
    page = await client.get("/search", params={"q": "九成新"})
    assert page.status_code == 200
    assert "二手手机 九成新" in page.text
    assert "Phone case" not in page.text
    page = await client.get("/search", params={"q": "手机"})  # both sit in 二手手机 Used phones: its name matches
    assert "二手手机 九成新" in page.text
    assert "Phone case" in page.text
    page = await client.get("/search", params={"q": "case", "sort": "bogus", "min_price": "x"})
    assert page.status_code == 200
    assert "Phone case" in page.text
    assert (await client.get("/c/no-such-category")).status_code == 404
    home = await client.get("/")
    assert "<h2>Featured</h2>" in home.text
    assert "Newest" in home.text
    assert home.text.index("Phone case") < home.text.index("二手手机 九成新")


async def test_hidden_category_page_is_404(client: Any, sessions: Any) -> None:
    async with sessions() as s, s.begin():
        hidden = await make_category(s, "Hidden", hidden=True)
    assert (await client.get(f"/c/{hidden.slug}")).status_code == 404
    assert (await client.get("/listings/12345")).status_code == 404
