"""Listing Q&A and order messages as a browser without JavaScript uses them (docs/rules.md §19.5, §19.6): CSRF
forms that answer 303 with a flash; the answered question on the anonymous (cached) listing page; the thread on
the order page and on the admin's dispute queue."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.listings.models import ListingQuestion
from marketplace.orders.models import OrderMessage
from tests.factories import fund, html_login, html_post, make_listing, make_order, make_user
from tests.imagedata import png_bytes

Sessions = async_sessionmaker[AsyncSession]


async def as_user(client: Any, username: str | None) -> None:
    """Switch the one test client to another user (None: an anonymous visitor)."""
    client.cookies.clear()
    if username is not None:
        await html_login(client, username)


async def test_ask_answer_and_see_it_on_the_listing_page(client: Any, sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        seller, asker = await make_user(s), await make_user(s)
        listing = await make_listing(s, seller, title="Qing dynasty coin")
        d = {"seller": seller.username, "asker": asker.username, "listing": listing.id}
    page = f"/listings/{d['listing']}"
    anonymous = await client.get(page)  # warms the anonymous page cache
    assert "No questions yet." in anonymous.text
    assert "Sign in to ask the seller a question." in anonymous.text
    await as_user(client, d["asker"])
    form_page = await client.get(page)
    assert f'action="/listings/{d["listing"]}/questions"' in form_page.text
    r = await html_post(client, f"{page}/questions", {"body": "Is there any damage on the rim?"})
    assert r.status_code == 303
    assert r.headers["location"] == f"{page}#questions"
    assert "Awaiting the seller" in (await client.get(page)).text
    # without the CSRF token the form is refused
    r = await client.post(f"{page}/questions", data={"body": "no token"}, follow_redirects=False)
    assert r.status_code == 403
    # an empty question is a flash error on the page, nothing saved
    r = await html_post(client, f"{page}/questions", {"body": "  "})
    assert r.status_code == 303
    assert "cannot be empty" in (await client.get(page)).text
    async with sessions() as s:
        qid = (await s.scalars(select(ListingQuestion.id).where(ListingQuestion.listing_id == d["listing"]))).one()
    # the asker cannot answer: 403
    assert (await html_post(client, f"/questions/{qid}/answer", {"answer": "Me?"})).status_code == 403
    await as_user(client, None)
    assert "any damage on the rim" not in (await client.get(page)).text  # unanswered: not public
    await as_user(client, d["seller"])
    seller_page = (await client.get(page)).text
    assert f'action="/questions/{qid}/answer"' in seller_page
    assert f'action="{page}/questions"' not in seller_page  # the seller does not ask
    r = await html_post(client, f"/questions/{qid}/answer", {"answer": "None, it is in fine condition."})
    assert r.status_code == 303
    await as_user(client, None)
    public = (await client.get(page)).text  # the write bumped the cached page
    assert "Is there any damage on the rim?" in public
    assert "None, it is in fine condition." in public
    assert f'id="question-{qid}"' in public


async def test_questions_on_a_hidden_listing_are_404(client: Any, sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        seller, asker = await make_user(s), await make_user(s)
        listing = await make_listing(s, seller)
        listing.status = "removed"
        d = {"asker": asker.username, "listing": listing.id}
    await html_login(client, d["asker"])
    r = await html_post(client, f"/listings/{d['listing']}/questions", {"body": "Hello?"})
    assert r.status_code == 404
    assert (await html_post(client, "/questions/987654/answer", {"answer": "x"})).status_code == 404


async def test_order_thread_on_the_order_page_and_the_dispute_queue(client: Any, sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        seller, buyer, stranger = await make_user(s), await make_user(s), await make_user(s)
        admin = await make_user(s, is_admin=True)
        await fund(s, buyer.id, 100)
        order = await make_order(s, seller=seller, buyer=buyer)
        d = {"seller": seller.username, "buyer": buyer.username, "stranger": stranger.username,
             "admin": admin.username, "order": order.id}
    page = f"/orders/{d['order']}"
    await html_login(client, d["buyer"])
    text = (await client.get(page)).text
    assert 'id="messages"' in text
    assert 'enctype="multipart/form-data" class="stack message-form"' in text
    token = client.cookies.get("csrftoken")
    r = await client.post(f"{page}/messages", data={"body": "Where is my parcel?", "_csrf_token": token},
                          files={"file": ("box.png", png_bytes(), "image/png")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"{page}#messages"
    text = (await client.get(page)).text
    assert "Where is my parcel?" in text
    assert f"/media/evidence/{d['order']}/" in text
    # a broken image: a flash error and nothing saved
    r = await client.post(f"{page}/messages", data={"body": "bad", "_csrf_token": token},
                          files={"file": ("x.png", b"nope", "image/png")}, follow_redirects=False)
    assert r.status_code == 303
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(OrderMessage)
                              .where(OrderMessage.order_id == d["order"])) == 1
    await as_user(client, d["stranger"])
    assert (await html_post(client, f"{page}/messages", {"body": "hi"})).status_code == 403
    await as_user(client, d["seller"])
    assert (await html_post(client, f"{page}/ship", {"tracking": "SF123"})).status_code == 303
    await as_user(client, d["buyer"])
    assert (await html_post(client, f"{page}/dispute", {"reason": "Never arrived"})).status_code == 303
    await as_user(client, d["seller"])
    r = await html_post(client, f"{page}/messages", {"body": "Tracking SF123 shows it was delivered."})
    assert r.status_code == 303
    await as_user(client, d["admin"])
    queue = (await client.get("/admin/disputes")).text
    assert "2 messages" in queue
    assert "Tracking SF123 shows it was delivered." in queue
    assert re.search(rf'href="/orders/{d["order"]}#messages"', queue)
    order_page = (await client.get(page)).text
    assert 'class="stack message-form"' in order_page  # the admin may write while the dispute is open
