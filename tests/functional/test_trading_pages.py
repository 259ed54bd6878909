"""docs/rules.md §19 in the HTML pages: the checkout confirmation and its idempotent form, Buy Now on auctions,
the address book page, the address on the order page, the cancellation confirmation of a won auction."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.auctions.services import BidService
from marketplace.db import utcnow
from marketplace.orders.models import Order, Strike
from marketplace.settings import Settings
from marketplace.wallet import ledger
from tests.factories import html_login, html_post, make_listing, make_user

Sessions = async_sessionmaker[AsyncSession]
ADDRESS = {"name": "王五", "phone": "13912345678", "province": "浙江省", "city": "杭州市", "district": "西湖区",
           "detail": "文三路 100 号"}


async def seed(sessions: Sessions, *, mode: str = "fixed") -> dict[str, Any]:
    async with sessions() as s, s.begin():
        seller, buyer = await make_user(s), await make_user(s, coins=1000)
        if mode == "fixed":
            listing = await make_listing(s, seller, price=120, quantity=3)
            listing.shipping_fee = 10
        else:
            listing = await make_listing(s, seller, mode="auction", start_price=10, buy_now_price=300)
        return {"seller": seller.username, "buyer": buyer.username, "buyer_id": buyer.id, "listing": listing.id}


def key_of(html: str) -> str:
    found = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert found, "the checkout form carries an idempotency key"
    return found.group(1)


async def test_address_book_page(client: Any, sessions: Sessions) -> None:
    d = await seed(sessions)
    await html_login(client, d["buyer"])
    r = await html_post(client, "/my/addresses", {**ADDRESS, "phone": "123"})
    assert r.status_code == 400
    assert "11-digit" in r.text
    r = await html_post(client, "/my/addresses", {**ADDRESS, "next": f"/listings/{d['listing']}/checkout"})
    assert r.status_code == 303
    assert r.headers["location"] == f"/listings/{d['listing']}/checkout"
    page = await client.get("/my/addresses")
    assert "文三路 100 号" in page.text
    assert "Default" in page.text


async def test_checkout_confirmation_then_one_order_per_key(client: Any, sessions: Sessions) -> None:
    d = await seed(sessions)
    await html_login(client, d["buyer"])
    await html_post(client, "/my/addresses", ADDRESS)
    listing_page = await client.get(f"/listings/{d['listing']}")
    assert f'action="/listings/{d["listing"]}/checkout"' in listing_page.text
    page = await client.get(f"/listings/{d['listing']}/checkout?quantity=2")
    assert page.status_code == 200
    for text in ("Confirm your purchase", "240", "Shipping", "250", "Balance after", "750", "王五"):
        assert text in page.text, text
    assert "<script>" not in page.text
    key = key_of(page.text)
    address_id = re.search(r'name="address_id" value="(\d+)"', page.text)
    assert address_id
    form = {"quantity": "2", "points": "0", "idempotency_key": key, "address_id": address_id.group(1)}
    r1 = await html_post(client, f"/listings/{d['listing']}/buy", form)
    assert r1.status_code == 303
    r2 = await html_post(client, f"/listings/{d['listing']}/buy", form)  # the double submit
    assert r2.status_code == 303
    assert r1.headers["location"] == r2.headers["location"]
    order_page = await client.get(r2.headers["location"])
    assert "already made" in order_page.text
    assert "文三路 100 号" in order_page.text
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Order).where(Order.buyer_id == d["buyer_id"])) == 1
        assert await ledger.balance(s, ledger.available(d["buyer_id"])) == 750
    # errors: too many, own item, unknown listing
    r = await client.get(f"/listings/{d['listing']}/checkout?quantity=9")
    assert r.status_code == 409
    assert (await client.get("/listings/999999/checkout")).status_code == 404
    r = await client.get(f"/listings/{d['listing']}/checkout?quantity=x")
    assert r.status_code == 400


async def test_buy_now_button_and_checkout_on_auction(client: Any, sessions: Sessions) -> None:
    d = await seed(sessions, mode="auction")
    await html_login(client, d["buyer"])
    page = await client.get(f"/listings/{d['listing']}")
    assert 'id="buy-now-form"' in page.text
    page = await client.get(f"/listings/{d['listing']}/checkout")
    assert page.status_code == 200
    assert "Buy Now" in page.text
    assert "No address yet" in page.text
    r = await html_post(client, f"/listings/{d['listing']}/buy", {"idempotency_key": key_of(page.text)})
    assert r.status_code == 303
    order_page = await client.get(r.headers["location"])
    assert 'id="order-address-form"' in order_page.text  # the buyer is asked for an address
    async with sessions() as s:
        order = await s.scalar(select(Order).where(Order.buyer_id == d["buyer_id"]))
        assert order is not None
        assert (order.source, order.total) == ("buy_now", 300)
    # gone once sold
    assert (await client.get(f"/listings/{d['listing']}/checkout")).status_code == 409


async def test_cancelling_a_won_auction_through_the_confirmation(client: Any, sessions: Sessions,
                                                                settings: Settings) -> None:
    d = await seed(sessions, mode="auction")
    async with sessions() as s, s.begin():
        bids = BidService(s, settings)
        await bids.place_bid(d["listing"], d["buyer_id"], 50, utcnow())
        result = await bids.close(d["listing"], utcnow() + timedelta(hours=3))
        assert result.order is not None
        oid = result.order.id
    await html_login(client, d["buyer"])
    page = await client.get(f"/orders/{oid}")
    assert f'href="/orders/{oid}/cancel"' in page.text
    confirm = await client.get(f"/orders/{oid}/cancel")
    assert "strike" in confirm.text
    r = await html_post(client, f"/orders/{oid}/cancel", {"reason": "", "confirm": "1"})
    assert r.status_code == 303
    assert "needs a reason" in (await client.get(r.headers["location"])).text
    r = await html_post(client, f"/orders/{oid}/cancel", {"reason": "found it cheaper", "confirm": "1"})
    assert r.status_code == 303
    text = (await client.get(r.headers["location"])).text
    assert "Order cancelled" in text, re.findall(r'class="flash[^"]*"[^>]*>([^<]*)', text)
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Strike).where(Strike.order_id == oid)) == 1
    await html_login(client, d["seller"])
    page = await client.get(f"/orders/{oid}")
    assert "found it cheaper" in page.text
    assert 'id="relist-btn"' in page.text
    r = await html_post(client, f"/orders/{oid}/relist", {})
    assert r.status_code == 303
    assert r.headers["location"].startswith("/listings/")


async def test_favicon_is_linked_and_served(client: Any) -> None:
    page = await client.get("/")
    assert 'rel="icon" href="/static/favicon.ico"' in page.text
    r = await client.get("/static/favicon.ico")
    assert r.status_code == 200
    assert r.content[:4] == b"\x00\x00\x01\x00"  # an ICO file


async def test_wallet_history_reads_as_sentences(client: Any, sessions: Sessions) -> None:
    d = await seed(sessions, mode="auction")
    await html_login(client, d["buyer"])
    r = await html_post(client, f"/listings/{d['listing']}/bid", {"max_amount": "40"})
    assert r.status_code == 303
    page = await client.get("/wallet")
    assert "Set aside for your bid on" in page.text
    assert f'href="/listings/{d["listing"]}"' in page.text
    assert f">listing:{d['listing']}<" not in page.text
