"""Listing Q&A and order messages through the JSON API on PostgreSQL (docs/rules.md §19.5, §19.6): who may ask,
answer, hide, read and write; exact refusals (400, 403, 404, 409, 429); notifications to the other side."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.accounts.models import User
from marketplace.listings import question_rules
from marketplace.listings.models import Listing
from marketplace.notifications.models import Notification
from marketplace.orders import message_rules
from marketplace.orders.models import Order
from tests.factories import api_admin, api_user, make_listing, make_order
from tests.imagedata import png_bytes

API = "/api/v1"
Sessions = async_sessionmaker[AsyncSession]


async def _listing(sessions: Sessions, seller_id: int, **kw: Any) -> int:
    async with sessions() as s, s.begin():
        listing = await make_listing(s, await s.get(User, seller_id), **kw)
        return int(listing.id)


async def _kinds(sessions: Sessions, user_id: int) -> list[str]:
    async with sessions() as s:
        return list(await s.scalars(select(Notification.kind).where(Notification.user_id == user_id)
                                    .order_by(Notification.id)))


async def test_question_lifecycle_and_visibility(client: Any, sessions: Sessions) -> None:
    seller, asker, other = await api_user(client), await api_user(client), await api_user(client)
    lid = await _listing(sessions, seller["id"])
    url = f"{API}/listings/{lid}/questions"
    assert (await client.post(url, json={"body": "Genuine?"})).status_code == 401
    r = await client.post(url, json={"body": "  Is the coin genuine?  "}, headers=asker["headers"])
    assert r.status_code == 201, r.text
    q = r.json()
    assert (q["body"], q["answer"], q["asker"]) == ("Is the coin genuine?", None, asker["username"])
    assert await _kinds(sessions, seller["id"]) == ["question_asked"]
    # unanswered: the asker and the seller see it, nobody else
    assert [x["id"] for x in (await client.get(url, headers=asker["headers"])).json()] == [q["id"]]
    assert [x["id"] for x in (await client.get(url, headers=seller["headers"])).json()] == [q["id"]]
    assert (await client.get(url, headers=other["headers"])).json() == []
    assert (await client.get(url)).json() == []
    # only the seller answers: 403; empty 400; then once, and again 409
    answer_url = f"{API}/questions/{q['id']}/answer"
    assert (await client.post(answer_url, json={"answer": "Yes"}, headers=asker["headers"])).status_code == 403
    assert (await client.post(answer_url, json={"answer": "  "}, headers=seller["headers"])).status_code == 400
    too_long = "x" * (question_rules.ANSWER_MAX + 1)
    assert (await client.post(answer_url, json={"answer": too_long}, headers=seller["headers"])).status_code == 400
    r = await client.post(answer_url, json={"answer": "Yes, certified."}, headers=seller["headers"])
    assert r.status_code == 200
    assert r.json()["answer"] == "Yes, certified."
    assert (await client.post(answer_url, json={"answer": "Again"}, headers=seller["headers"])).status_code == 409
    assert await _kinds(sessions, asker["id"]) == ["question_answered"]
    # answered: public
    public = (await client.get(url)).json()
    assert [(x["body"], x["answer"]) for x in public] == [("Is the coin genuine?", "Yes, certified.")]
    # hiding: only the seller (403), then gone for everyone but the seller
    hide_url = f"{API}/questions/{q['id']}/hide"
    assert (await client.post(hide_url, json={"hidden": True}, headers=asker["headers"])).status_code == 403
    assert (await client.post(hide_url, json={"hidden": True}, headers=seller["headers"])).status_code == 200
    assert (await client.get(url)).json() == []
    assert (await client.get(url, headers=asker["headers"])).json() == []
    assert (await client.get(url, headers=seller["headers"])).json()[0]["hidden"] is True
    # a hidden question is not found by anyone else
    assert (await client.post(answer_url, json={"answer": "x"}, headers=other["headers"])).status_code == 404
    assert (await client.post(f"{API}/questions/999999/answer", json={"answer": "x"},
                              headers=seller["headers"])).status_code == 404


async def test_question_refusals(client: Any, sessions: Sessions) -> None:
    seller, asker = await api_user(client), await api_user(client)
    lid = await _listing(sessions, seller["id"])
    url = f"{API}/listings/{lid}/questions"
    assert (await client.post(url, json={"body": "Mine?"}, headers=seller["headers"])).status_code == 403
    assert (await client.post(url, json={"body": ""}, headers=asker["headers"])).status_code == 400
    too_long = "x" * (question_rules.QUESTION_MAX + 1)
    assert (await client.post(url, json={"body": too_long}, headers=asker["headers"])).status_code == 400
    assert (await client.post(f"{API}/listings/999999/questions", json={"body": "Hi?"},
                              headers=asker["headers"])).status_code == 404
    # a hidden (removed) listing: 404 to ask and to read
    async with sessions() as s, s.begin():
        listing = await s.get(Listing, lid)
        assert listing is not None
        listing.status = "removed"
    assert (await client.post(url, json={"body": "Hi?"}, headers=asker["headers"])).status_code == 404
    assert (await client.get(url, headers=asker["headers"])).status_code == 404
    # an ended listing takes no more questions: 409
    sold = await _listing(sessions, seller["id"])
    async with sessions() as s, s.begin():
        row = await s.get(Listing, sold)
        assert row is not None
        row.status = "sold"
    assert (await client.post(f"{API}/listings/{sold}/questions", json={"body": "Hi?"},
                              headers=asker["headers"])).status_code == 409


async def test_questions_are_rate_limited(client: Any, sessions: Sessions) -> None:
    seller, asker = await api_user(client), await api_user(client)
    lid = await _listing(sessions, seller["id"])
    url = f"{API}/listings/{lid}/questions"
    for i in range(question_rules.QUESTION_LIMIT):
        r = await client.post(url, json={"body": f"Question {i}?"}, headers=asker["headers"])
        assert r.status_code == 201, r.text
    r = await client.post(url, json={"body": "One more?"}, headers=asker["headers"])
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    assert len((await client.get(url, headers=asker["headers"])).json()) == question_rules.QUESTION_LIMIT


async def _order(sessions: Sessions, seller_id: int, buyer_id: int) -> int:
    async with sessions() as s, s.begin():
        from tests.factories import fund

        await fund(s, buyer_id, 100)
        order = await make_order(s, seller=await s.get(User, seller_id), buyer=await s.get(User, buyer_id))
        return int(order.id)


async def test_order_messages_between_the_parties(client: Any, sessions: Sessions, settings: Any) -> None:
    seller, buyer, stranger = await api_user(client), await api_user(client), await api_user(client)
    admin = await api_admin(client, sessions)
    oid = await _order(sessions, seller["id"], buyer["id"])
    url = f"{API}/orders/{oid}/messages"
    r = await client.post(url, json={"body": "Please ship in a padded envelope."}, headers=buyer["headers"])
    assert r.status_code == 201, r.text
    assert (r.json()["role"], r.json()["sender"]) == ("buyer", buyer["username"])
    assert await _kinds(sessions, seller["id"]) == ["order_message"]
    r = await client.post(url, json={"body": "Will do."}, headers=seller["headers"])
    assert r.status_code == 201
    assert "order_message" in await _kinds(sessions, buyer["id"])
    # strangers and (before a dispute) admins: 403; unknown order 404
    assert (await client.get(url, headers=stranger["headers"])).status_code == 403
    assert (await client.post(url, json={"body": "hi"}, headers=stranger["headers"])).status_code == 403
    assert (await client.get(url, headers=admin["headers"])).status_code == 403
    assert (await client.get(f"{API}/orders/999999/messages", headers=buyer["headers"])).status_code == 404
    assert (await client.get(url)).status_code == 401
    # bad text: 400
    assert (await client.post(url, json={"body": "  "}, headers=buyer["headers"])).status_code == 400
    too_long = "x" * (message_rules.MESSAGE_MAX + 1)
    assert (await client.post(url, json={"body": too_long}, headers=buyer["headers"])).status_code == 400
    assert (await client.post(url, json=["x"], headers=buyer["headers"])).status_code == 400
    for content_type, raw in (("text/plain", b"hello"), ("application/json", b"{not json")):
        r = await client.post(url, content=raw, headers={**buyer["headers"], "Content-Type": content_type})
        assert r.status_code == 400, (content_type, r.text)
    thread = (await client.get(url, headers=seller["headers"])).json()
    assert [m["body"] for m in thread] == ["Please ship in a padded envelope.", "Will do."]


async def test_dispute_evidence_and_the_admin(client: Any, sessions: Sessions, settings: Any) -> None:
    seller, buyer = await api_user(client), await api_user(client)
    admin = await api_admin(client, sessions)
    oid = await _order(sessions, seller["id"], buyer["id"])
    url = f"{API}/orders/{oid}/messages"
    assert (await client.post(f"{API}/orders/{oid}/ship", json={}, headers=seller["headers"])).status_code == 200
    r = await client.post(f"{API}/orders/{oid}/dispute", json={"reason": "Arrived scratched"},
                          headers=buyer["headers"])
    assert r.status_code == 200, r.text
    # evidence: a photo (multipart), checked by the image pipeline
    photo = {"file": ("scratch.png", png_bytes(), "image/png")}
    r = await client.post(url, data={"body": "See the scratch."}, files=photo, headers=buyer["headers"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["thumb_url"].startswith(f"/media/evidence/{oid}/")
    assert (settings.media_dir / body["photo_url"].removeprefix("/media/")).is_file()
    bad = {"file": ("x.png", b"not an image", "image/png")}
    assert (await client.post(url, data={"body": "x"}, files=bad, headers=seller["headers"])).status_code == 400
    # the seller replies with their own evidence, a photo alone
    r = await client.post(url, data={"body": ""}, files=photo, headers=seller["headers"])
    assert r.status_code == 201
    # the admin reads and writes while the dispute is open; both parties are told
    assert len((await client.get(url, headers=admin["headers"])).json()) == 2
    r = await client.post(url, json={"body": "I am looking into it."}, headers=admin["headers"])
    assert r.status_code == 201
    assert r.json()["role"] == "admin"
    assert (await _kinds(sessions, buyer["id"]))[-1] == "order_message"
    assert (await _kinds(sessions, seller["id"]))[-1] == "order_message"
    r = await client.post(f"{API}/admin/orders/{oid}/resolve", json={"outcome": "refund"}, headers=admin["headers"])
    assert r.status_code == 200, r.text
    # resolved: the admin still reads, no longer writes (409)
    assert len((await client.get(url, headers=admin["headers"])).json()) == 3
    assert (await client.post(url, json={"body": "late"}, headers=admin["headers"])).status_code == 409
    async with sessions() as s:
        assert (await s.get(Order, oid)).status == "refunded"  # type: ignore[union-attr]


async def test_order_messages_are_rate_limited(client: Any, sessions: Sessions) -> None:
    seller, buyer = await api_user(client), await api_user(client)
    oid = await _order(sessions, seller["id"], buyer["id"])
    url = f"{API}/orders/{oid}/messages"
    for i in range(message_rules.MESSAGE_LIMIT):
        assert (await client.post(url, json={"body": f"m{i}"}, headers=buyer["headers"])).status_code == 201
    r = await client.post(url, json={"body": "one more"}, headers=buyer["headers"])
    assert r.status_code == 429
    assert len((await client.get(url, headers=buyer["headers"])).json()) == message_rules.MESSAGE_LIMIT
