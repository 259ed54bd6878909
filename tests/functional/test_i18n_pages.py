"""Languages through HTTP (docs/architecture.md "Languages"): the user's setting, then the lang cookie (the header
switch), then Accept-Language, then Chinese; <html lang>; the anonymous page cache keyed by language; translated
form errors and flashes; the API's stable English ``detail`` with a translated ``message``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from marketplace.accounts.models import User
from tests.factories import PASSWORD, db_user, html_login, html_post

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


async def test_accept_language_picks_the_page_language_and_html_lang(client: Any) -> None:
    zh = await client.get("/login", headers=ZH)
    assert zh.status_code == 200
    assert '<html lang="zh-CN">' in zh.text
    assert "<h1>登录</h1>" in zh.text
    assert "用户名" in zh.text
    assert "密码" in zh.text
    assert "Username" not in zh.text
    assert "Password" not in zh.text
    en = await client.get("/login", headers=EN)
    assert en.status_code == 200
    assert '<html lang="en">' in en.text
    assert "<h1>Log in</h1>" in en.text
    assert "Password" in en.text
    assert "密码" not in en.text


async def test_chinese_is_the_default_without_a_usable_accept_language(client: Any) -> None:
    del client.headers["Accept-Language"]
    r = await client.get("/login")
    assert '<html lang="zh-CN">' in r.text
    r = await client.get("/login", headers={"Accept-Language": "fr-FR,de;q=0.8"})
    assert '<html lang="zh-CN">' in r.text
    r = await client.get("/login", headers={"Accept-Language": "fr-FR,en;q=0.8,zh;q=0.5"})
    assert '<html lang="en">' in r.text  # the best-rated language we offer


async def test_the_header_switch_sets_a_cookie_that_beats_accept_language(client: Any) -> None:
    r = await client.get("/language", params={"to": "en", "next": "/login?next=/wallet"}, headers=ZH,
                         follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/wallet"
    assert client.cookies.get("lang") == "en"
    page = await client.get("/login", headers=ZH)
    assert '<html lang="en">' in page.text
    assert "<h1>Log in</h1>" in page.text
    r = await client.get("/language", params={"to": "zh", "next": "//evil.example/"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/"  # never an open redirect
    assert client.cookies.get("lang") == "zh_CN"
    assert '<html lang="zh-CN">' in (await client.get("/login", headers=EN)).text


async def test_the_anonymous_header_offers_links_not_a_csrf_form(client: Any) -> None:
    page = (await client.get("/", headers=ZH)).text
    assert 'href="/language?to=en&amp;next=/"' in page
    assert 'href="/language?to=zh_CN&amp;next=/"' in page
    assert 'name="_csrf_token"' not in page  # so the anonymous page stays cacheable


async def test_the_users_setting_wins_over_cookie_and_browser(client: Any, sessions: Any) -> None:
    user = await db_user(sessions)
    await html_login(client, user.username)
    r = await html_post(client, "/language", {"language": "zh_CN", "next": "/me/notification-settings"}, headers=EN)
    assert r.status_code == 303
    assert r.headers["location"] == "/me/notification-settings"
    async with sessions() as s:
        assert await s.scalar(select(User.language).where(User.id == user.id)) == "zh_CN"
    client.cookies.set("lang", "en")
    page = await client.get("/me/notification-settings", headers=EN)
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert "语言已保存。" in page.text  # the flash, in the chosen language
    assert '<option value="zh_CN" lang="zh-CN" selected>' in page.text
    # back to "follow my browser": the cookie is dropped and Accept-Language decides again
    r = await html_post(client, "/language", {"language": "", "next": "/"}, headers=EN)
    assert r.status_code == 303
    async with sessions() as s:
        assert await s.scalar(select(User.language).where(User.id == user.id)) is None
    assert '<html lang="en">' in (await client.get("/me/notification-settings", headers=EN)).text


async def test_an_unknown_language_is_refused(client: Any, sessions: Any) -> None:
    user = await db_user(sessions)
    await html_login(client, user.username)
    r = await html_post(client, "/language", {"language": "klingon", "next": "/"}, headers=ZH)
    assert r.status_code == 400
    assert "请选择中文或英文。" in r.text
    async with sessions() as s:
        assert await s.scalar(select(User.language).where(User.id == user.id)) is None


async def test_the_language_switch_post_needs_csrf(client: Any, sessions: Any) -> None:
    user = await db_user(sessions)
    await html_login(client, user.username)
    r = await client.post("/language", data={"language": "en", "next": "/"}, follow_redirects=False)
    assert r.status_code == 403


async def test_the_page_cache_keeps_one_copy_per_language(client: Any) -> None:
    first = await client.get("/", headers=ZH)
    assert first.status_code == 200
    assert '<html lang="zh-CN">' in first.text
    again = await client.get("/", headers=ZH)
    assert again.headers.get("x-page-cache") == "hit"
    assert '<html lang="zh-CN">' in again.text
    english = await client.get("/", headers=EN)
    assert english.headers.get("x-page-cache") is None  # not the Chinese copy
    assert '<html lang="en">' in english.text
    assert "币集" not in english.text
    english_again = await client.get("/", headers=EN)
    assert english_again.headers.get("x-page-cache") == "hit"
    assert '<html lang="en">' in english_again.text
    assert "Accept-Language" in english_again.headers.get("vary", "")


async def test_form_errors_are_translated_and_free_of_field_names(client: Any) -> None:
    r = await html_post(client, "/register", {"username": "ab", "email": "a@example.com", "password": PASSWORD},
                        headers=ZH)
    assert r.status_code == 400
    assert "用户名长度须为 3–32 个字符（一个汉字按两个计）。" in r.text  # "ab" is 2 wide (docs/rules.md)


async def test_api_errors_keep_the_english_detail_and_add_a_translated_message(client: Any) -> None:
    r = await client.get("/api/v1/listings/987654321", headers=ZH)
    assert r.status_code == 404
    body = r.json()
    assert body["detail"] == "Listing not found."
    assert body["message"] == "找不到该商品。"
    assert body["status_code"] == 404
    r = await client.get("/api/v1/listings/987654321", headers=EN)
    assert r.json()["message"] == "Listing not found."
    r = await client.get("/api/v1/wallet")
    assert r.status_code == 401
    assert r.json()["detail"] == r.json()["message"]  # English by default in tests (tests/conftest.py)


async def test_a_stale_form_reads_as_a_sentence_not_a_csrf_error(client: Any) -> None:
    await client.get("/login")
    r = await client.post("/login", data={"username": "x", "password": "y", "_csrf_token": "stale"}, headers=ZH,
                          follow_redirects=False)
    assert r.status_code == 403
    assert "登录已过期或表单已失效，请刷新页面后重试。" in r.text
    assert "CSRF" not in r.text


async def test_chinese_pages_name_conditions_statuses_sorting_and_timeline_notes(client: Any, sessions: Any) -> None:
    from tests.factories import make_listing, make_order, make_user, quick_user

    async with sessions() as s, s.begin():
        seller = await quick_user(s)
        listing = await make_listing(s, seller, title="全新测试商品")
        listing.condition, listing.location = "new", "上海 徐汇"
        buyer = await make_user(s, coins=100)
        order = await make_order(s, seller=seller, buyer=buyer)
        listing_id, order_id, buyer_name = listing.id, order.id, buyer.username
    page = await client.get(f"/listings/{listing_id}", headers=ZH)
    assert page.status_code == 200
    assert "全新" in page.text
    assert "新建" not in page.text
    assert 'id="listing-status">在售<' in page.text
    search = await client.get("/search", params={"q": "全新测试商品"}, headers=ZH)
    assert search.status_code == 200
    for english in ("Newest", "Ending soon", "Price: low to high", "Price: high to low"):
        assert english not in search.text
    assert "全新" in search.text  # the result card's condition
    await html_login(client, buyer_name)
    detail = await client.get(f"/orders/{order_id}", headers=ZH)
    assert detail.status_code == 200
    assert "已付款，由平台担保" in detail.text  # the timeline note, translated
    assert "paid into escrow" not in detail.text
    assert "Order #" not in detail.text
    assert "还没有地址。" in detail.text
