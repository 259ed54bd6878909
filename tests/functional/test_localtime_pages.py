"""Local time and Unicode usernames through HTTP (docs/rules.md "Usernames", docs/architecture.md "Local time"):
registering 张三 over the API and the form, the time-zone setting (page and API), and anonymous visitors' zones
(the ``tz`` cookie) without one visitor's zone leaking to another through the page cache."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from marketplace.accounts.models import User
from tests.factories import PASSWORD, api_user, db_user, html_login, html_post, make_listing

API = "/api/v1"
ZONE_LABEL = re.compile(r"\(UTC[^)]*\)")


async def _auction(sessions: Any, seller_id: int) -> int:
    async with sessions() as s, s.begin():
        seller = await s.get(User, seller_id)
        return int((await make_listing(s, seller, mode="auction", title="Blue vase 青花花瓶",
                                       ends_at=datetime(2030, 7, 1, 11, 5, tzinfo=UTC))).id)


async def test_register_a_chinese_name_over_the_api(client: Any) -> None:
    r = await client.post(f"{API}/auth/register", json={"username": " 张三 ", "email": "zs@example.com",
                                                        "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert r.json()["username"] == "张三"
    again = await client.post(f"{API}/auth/register", json={"username": "张三", "email": "zs2@example.com",
                                                            "password": PASSWORD})
    assert again.status_code == 409
    r = await client.post(f"{API}/auth/token", json={"username": "张三", "password": PASSWORD})
    assert r.status_code == 200
    assert r.json()["user"]["username"] == "张三"
    profile = await client.get(f"/users/{quote('张三')}")
    assert profile.status_code == 200
    assert "张三" in profile.text


async def test_names_equal_after_normalisation_are_taken(client: Any) -> None:
    assert (await client.post(f"{API}/auth/register", json={"username": "Wang88", "email": "w@example.com",
                                                            "password": PASSWORD})).status_code == 201
    for twin in ("WANG88", "Ｗａｎｇ８８", "wang88"):
        r = await client.post(f"{API}/auth/register", json={"username": twin, "email": f"{len(twin)}x@example.com",
                                                            "password": PASSWORD})
        assert r.status_code == 409, twin


async def test_look_alike_invisible_and_reserved_names_are_refused_with_400(client: Any) -> None:
    for name, words in (("\u0430dmin_x", "Cyrillic"), ("zhang\u200bsan", "invisible"), ("管理员", "reserved"),
                        ("Admin", "reserved")):
        r = await client.post(f"{API}/auth/register", json={"username": name, "email": "x@example.com",
                                                            "password": PASSWORD})
        assert r.status_code == 400, name
        assert words in r.json()["detail"]


async def test_register_a_chinese_name_through_the_form(client: Any) -> None:
    r = await html_post(client, "/register", {"username": "小明2026", "email": "xm@example.com",
                                              "password": PASSWORD})
    assert r.status_code == 303
    home = (await client.get("/")).text
    assert 'href="/users/小明2026"' in home
    r = await html_post(client, "/register", {"username": "p\u0430ypal", "email": "pp@example.com",
                                              "password": PASSWORD})
    assert r.status_code == 400
    assert "cannot mix Latin letters" in r.text


async def test_time_zone_setting_page_changes_the_times_shown(client: Any, sessions: Any) -> None:
    user = await db_user(sessions, "tz_page_user")
    listing_id = await _auction(sessions, user.id)
    assert (await client.get("/account/settings", follow_redirects=False)).status_code in (302, 303, 401)
    await html_login(client, "tz_page_user")
    page = await client.get("/account/settings")
    assert page.status_code == 200
    assert '<option value="Asia/Shanghai" selected>' in page.text
    # default: Beijing time (11:05 UTC in July is 19:05 UTC+8)
    assert "07-01 19:05 (UTC+8)" in (await client.get(f"/listings/{listing_id}")).text
    r = await html_post(client, "/account/settings", {"time_zone": "Europe/Berlin"})
    assert r.status_code == 303
    assert '<option value="Europe/Berlin" selected>' in (await client.get("/account/settings")).text
    text = (await client.get(f"/listings/{listing_id}")).text
    assert "07-01 13:05 (UTC+2)" in text
    assert "(UTC+8)" not in text
    r = await html_post(client, "/account/settings", {"time_zone": "Mars/Olympus_Mons"})
    assert r.status_code == 400
    assert "Choose a time zone" in r.text
    async with sessions() as s:
        assert (await s.get(User, user.id)).time_zone == "Europe/Berlin"


async def test_time_zone_setting_over_the_api(client: Any) -> None:
    user = await api_user(client)
    h = user["headers"]
    assert (await client.get(f"{API}/account/settings")).status_code == 401
    r = await client.get(f"{API}/account/settings", headers=h)
    assert r.status_code == 200
    assert r.json() == {"time_zone": "Asia/Shanghai"}
    r = await client.patch(f"{API}/account/settings", json={"time_zone": "America/New_York"}, headers=h)
    assert r.status_code == 200
    assert r.json() == {"time_zone": "America/New_York"}
    for bad in ("Mars/Base", "", "../../etc/passwd"):
        r = await client.patch(f"{API}/account/settings", json={"time_zone": bad}, headers=h)
        assert r.status_code == 400, bad
    assert (await client.get(f"{API}/account/settings", headers=h)).json() == {"time_zone": "America/New_York"}


async def test_anonymous_visitors_see_their_browser_zone_and_the_cache_keeps_zones_apart(
        client: Any, sessions: Any) -> None:
    seller = await db_user(sessions)
    listing_id = await _auction(sessions, seller.id)
    url = f"/listings/{listing_id}"
    for _ in range(2):  # the second read of each is a page-cache hit
        client.cookies.set("tz", "America/New_York")
        ny = await client.get(url)
        assert ny.status_code == 200
        assert "2030-07-01 07:05 (UTC-4)" in ny.text  # summer time in New York
        assert set(ZONE_LABEL.findall(ny.text)) <= {"(UTC-4)", "(UTC-5)"}  # "Listed" is today: winter
        client.cookies.delete("tz")
        shanghai = await client.get(url)
        assert "2030-07-01 19:05 (UTC+8)" in shanghai.text
        assert set(ZONE_LABEL.findall(shanghai.text)) == {"(UTC+8)"}
        client.cookies.set("tz", "Not/A_Zone")  # a forged cookie is the default zone, never an error
        assert set(ZONE_LABEL.findall((await client.get(url)).text)) == {"(UTC+8)"}
        client.cookies.delete("tz")
    assert ny.headers.get("x-page-cache") == "hit"
    assert shanghai.headers.get("x-page-cache") == "hit"
    assert "Times are shown in your time zone." in shanghai.text
    assert "All times UTC" not in shanghai.text
    assert 'src="/static/js/localtime.js"' in shanghai.text
