"""The shop page and /shop/manage through HTTP: forms with CSRF, 303 + flash, uploads."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.db import utcnow
from marketplace.shops.models import Shop
from tests.factories import PASSWORD, fund, html_login, html_post, make_listing, make_user


async def _login_with_coins(client: Any, sessions: Any, coins: int) -> User:
    async with sessions() as s, s.begin():
        user = await make_user(s, coins=coins)
    await html_login(client, user.username, PASSWORD)
    return user


async def _shop(sessions: Any) -> Shop:
    async with sessions() as s:
        shop = await s.scalar(select(Shop))
        assert shop is not None
        return shop


async def test_manage_requires_login(client: Any) -> None:
    r = await client.get("/shop/manage", follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"].startswith("/login")


async def test_open_shop_through_the_form(client: Any, sessions: Any) -> None:
    await _login_with_coins(client, sessions, 120)
    r = await client.get("/shop/manage")
    assert r.status_code == 200
    assert 'action="/shop/manage/open"' in r.text
    r = await html_post(client, "/shop/manage/open", {"name": "Eve's Lamps 灯具", "slug": "", "plan": "basic",
                                                      "description": "Old lamps", "auto_renew": "1"})
    assert r.status_code == 303
    assert r.headers["location"] == "/shop/manage"
    page = await client.get("/shop/manage")
    assert "is open" in page.text
    assert "Free listings left this period" in page.text
    shop = await _shop(sessions)
    assert (shop.slug, shop.status, shop.auto_renew) == ("eves-lamps", "active", True)


async def test_open_shop_form_without_coins_flashes_the_shortfall_and_keeps_nothing(client: Any,
                                                                                   sessions: Any) -> None:
    await _login_with_coins(client, sessions, 30)
    r = await html_post(client, "/shop/manage/open", {"name": "Broke", "plan": "basic"})
    assert r.status_code == 303
    page = await client.get("/shop/manage")
    assert "70 more needed" in page.text
    async with sessions() as s:
        assert await s.scalar(select(Shop)) is None


async def test_form_without_csrf_token_is_refused(client: Any, sessions: Any) -> None:
    await _login_with_coins(client, sessions, 500)
    r = await client.post("/shop/manage/open", data={"name": "No token", "plan": "basic"}, follow_redirects=False)
    assert r.status_code == 403
    async with sessions() as s:
        assert await s.scalar(select(Shop)) is None


async def test_edit_details_plan_and_renew(client: Any, sessions: Any) -> None:
    user = await _login_with_coins(client, sessions, 100)
    await html_post(client, "/shop/manage/open", {"name": "Frank", "slug": "frank-shop", "plan": "basic",
                                                  "auto_renew": "1"})
    r = await html_post(client, "/shop/manage", {"name": "Frank's", "description": "Tools"})
    assert r.status_code == 303
    shop = await _shop(sessions)
    assert (shop.name, shop.description, shop.auto_renew) == ("Frank's", "Tools", False)  # unchecked box
    r = await html_post(client, "/shop/manage/plan", {"plan": "pro"})
    assert r.status_code == 303
    assert "200 more needed" in (await client.get("/shop/manage")).text
    assert (await _shop(sessions)).plan == "basic"
    r = await html_post(client, "/shop/manage/renew", {})
    assert r.status_code == 303
    assert "100 more needed" in (await client.get("/shop/manage")).text
    async with sessions() as s, s.begin():
        await fund(s, user.id, 100)
    paid_until = shop.paid_until
    await html_post(client, "/shop/manage/renew", {})
    assert (await _shop(sessions)).paid_until == paid_until + timedelta(days=30)


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _png_with_exif(size: tuple[int, int] = (64, 48)) -> bytes:
    img = Image.new("RGB", size, (200, 80, 20))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


async def test_logo_upload_is_re_encoded_without_exif(client: Any, sessions: Any, settings: Any) -> None:
    await _login_with_coins(client, sessions, 100)
    await html_post(client, "/shop/manage/open", {"name": "Gina", "slug": "gina", "plan": "basic"})
    raw = _png_with_exif()
    assert b"SecretCam" in raw
    r = await html_post(client, "/shop/manage/images", {"kind": "logo"},
                        files={"file": ("logo.jpg", raw, "image/jpeg")})
    assert r.status_code == 303, r.text
    shop = await _shop(sessions)
    assert shop.logo_key is not None
    assert shop.logo_key.startswith(f"shops/{shop.id}/logo-")
    stored = _read(settings.media_dir / shop.logo_key)
    assert b"SecretCam" not in stored
    assert Image.open(io.BytesIO(stored)).format == "JPEG"
    page = await client.get("/shops/gina")
    assert f"/media/{shop.logo_key}" in page.text


async def test_upload_rejects_non_images_and_oversized_ones(client: Any, sessions: Any, app: Any) -> None:
    await _login_with_coins(client, sessions, 100)
    await html_post(client, "/shop/manage/open", {"name": "Hank", "slug": "hank", "plan": "basic"})
    r = await html_post(client, "/shop/manage/images", {"kind": "banner"},
                        files={"file": ("x.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png")})
    assert r.status_code == 303
    assert "not a JPEG, PNG or WebP image" in (await client.get("/shop/manage")).text
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    await html_post(client, "/shop/manage/images", {"kind": "banner"},
                    files={"file": ("x.png", gif.getvalue(), "image/png")})
    assert "not a JPEG, PNG or WebP image" in (await client.get("/shop/manage")).text
    assert (await _shop(sessions)).banner_key is None


async def test_shop_page_lists_filters_sorts_and_hides_when_suspended(client: Any, sessions: Any) -> None:
    async with sessions() as s, s.begin():
        owner = await make_user(s, coins=100)
        from marketplace.settings import Settings
        from marketplace.shops.services import ShopService

        shop = await ShopService(s, Settings()).open_shop(owner.id, name="Ivy", slug="ivy-shop", plan="basic",
                                                          now=utcnow())
        cheap = await make_listing(s, owner, title="Cheap teapot", price=10)
        dear = await make_listing(s, owner, title="Dear vase", price=900)
        auction = await make_listing(s, owner, mode="auction", title="Auction scroll", start_price=50)
        elsewhere = await make_listing(s, owner, title="Not in shop")
        for listing in (cheap, dear, auction):
            listing.shop_id = shop.id
        assert elsewhere.shop_id is None
    r = await client.get("/shops/ivy-shop")
    assert r.status_code == 200
    assert "Ivy" in r.text
    assert "Member since" in r.text
    assert "Not in shop" not in r.text
    assert all(t in r.text for t in ("Cheap teapot", "Dear vase", "Auction scroll"))
    r = await client.get("/shops/ivy-shop?sort=price_asc&mode=fixed")
    assert "Auction scroll" not in r.text
    assert r.text.index("Cheap teapot") < r.text.index("Dear vase")
    r = await client.get("/shops/ivy-shop?sort=price_desc")
    assert r.text.index("Dear vase") < r.text.index("Cheap teapot")
    r = await client.get("/shops/ivy-shop?mode=auction&sort=ending_soon")
    assert "Auction scroll" in r.text
    assert "Cheap teapot" not in r.text
    assert (await client.get("/shops/no-such-shop")).status_code == 404
    async with sessions() as s, s.begin():
        row = await s.get(Shop, shop.id)
        assert row is not None
        row.status = "suspended"
    assert (await client.get("/shops/ivy-shop")).status_code == 404
    await html_login(client, owner.username, PASSWORD)
    r = await client.get("/shops/ivy-shop")
    assert r.status_code == 200
    assert "suspended" in r.text
