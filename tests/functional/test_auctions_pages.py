"""HTML: the bid form (CSRF, 303 + flash, JSON for the page script), the history page with chart, My bids."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.auctions.models import Bid
from marketplace.listings.models import Listing
from tests.factories import api_user, fund, html_login, html_post, make_listing


async def setup(client: Any, sessions: Any, **kw: Any) -> tuple[int, dict[str, Any], dict[str, Any]]:
    seller = await api_user(client)
    bidder = await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, bidder["id"], 5000)
        listing = await make_listing(s, await s.get(User, seller["id"]), mode="auction", start_price=100, **kw)
    return int(listing.id), seller, bidder


async def test_bid_form_303_with_flash_and_csrf(client: Any, sessions: Any) -> None:
    lid, _seller, bidder = await setup(client, sessions)
    await html_login(client, bidder["username"])
    # without the CSRF token: refused, nothing written
    r = await client.post(f"/listings/{lid}/bid", data={"max_amount": "150"}, follow_redirects=False)
    assert r.status_code == 403
    r = await html_post(client, f"/listings/{lid}/bid", {"max_amount": "150"})
    assert r.status_code == 303
    assert r.headers["location"] == f"/listings/{lid}"
    async with sessions() as s:
        listing = await s.get(Listing, lid)
        assert listing is not None
        assert (listing.leader_id, listing.leader_max) == (bidder["id"], 150)
    page = await client.get(f"/listings/{lid}/history")
    assert page.status_code == 200
    assert "You lead" in page.text
    assert "price-chart" in page.text  # the server-rendered SVG
    assert bidder["username"][0] + "***" in page.text


async def test_refused_form_bid_flashes_error_and_commits_nothing(client: Any, sessions: Any) -> None:
    lid, _seller, bidder = await setup(client, sessions)
    await html_login(client, bidder["username"])
    r = await html_post(client, f"/listings/{lid}/bid", {"max_amount": "50"})
    assert r.status_code == 303
    page = await client.get(f"/listings/{lid}/history")
    assert "minimum next bid" in page.text.lower()
    r = await html_post(client, f"/listings/{lid}/bid", {"max_amount": "abc"})
    assert r.status_code == 303
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Bid)) == 0


async def test_form_bid_answers_json_to_the_page_script(client: Any, sessions: Any) -> None:
    lid, _seller, bidder = await setup(client, sessions)
    await html_login(client, bidder["username"])
    token = client.cookies.get("csrftoken")
    r = await client.post(f"/listings/{lid}/bid", data={"max_amount": "120"},
                          headers={"Accept": "application/json", "X-CSRFToken": token})
    assert r.status_code == 201, r.text
    assert r.json()["you_lead"] is True
    r = await client.post(f"/listings/{lid}/bid", data={"max_amount": "99999"},
                          headers={"Accept": "application/json", "X-CSRFToken": token})
    assert r.status_code == 402
    assert r.json()["ok"] is False


async def test_anonymous_form_bid_goes_to_login(client: Any, sessions: Any) -> None:
    lid, _seller, _bidder = await setup(client, sessions)
    r = await html_post(client, f"/listings/{lid}/bid", {"max_amount": "150"})
    assert r.status_code == 401
    page = await client.get(f"/listings/{lid}/history")
    assert "Log in to bid" in page.text


async def test_my_bids_states(client: Any, sessions: Any) -> None:
    lid, seller, bidder = await setup(client, sessions)
    rival = await api_user(client)
    async with sessions() as s, s.begin():
        await fund(s, rival["id"], 5000)
        other = (await make_listing(s, await s.get(User, seller["id"]), mode="auction", start_price=10)).id
    for who, listing_id, amount in ((bidder, lid, 200), (rival, lid, 300), (bidder, other, 20)):
        r = await client.post(f"/api/v1/listings/{listing_id}/bids", json={"max_amount": amount},
                              headers=who["headers"])
        assert r.status_code == 201
    await html_login(client, bidder["username"])
    page = await client.get("/my/bids")
    assert page.status_code == 200
    assert "my-bid-outbid" in page.text
    assert "my-bid-leading" in page.text
    assert (await client.get("/my/bids", follow_redirects=False)).status_code == 200


async def test_history_fragment_and_404(client: Any, sessions: Any) -> None:
    lid, _seller, bidder = await setup(client, sessions)
    await client.post(f"/api/v1/listings/{lid}/bids", json={"max_amount": 150}, headers=bidder["headers"])
    r = await client.get(f"/listings/{lid}/history?fragment=1")
    assert r.status_code == 200
    assert "<html" not in r.text
    assert "bid-history" in r.text
    assert (await client.get("/listings/424242/history")).status_code == 404
