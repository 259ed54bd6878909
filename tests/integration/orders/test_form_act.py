"""The one form-action helper (``marketplace.web.pages.act``): a refused action rolls the session back before the
303, so nothing it wrote before refusing is committed (the order forms used to commit a half-done change)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.errors import InvalidInput
from marketplace.orders.models import Order, OrderEvent
from marketplace.orders.services import OrderService
from marketplace.settings import Settings
from marketplace.web.pages import act
from tests.factories import html_login, html_post, make_order, make_user

Sessions = async_sessionmaker[AsyncSession]


def form_request() -> Request[Any, Any, Any]:
    """A bare request carrying a session dict: what ``flash`` writes into."""
    return Request(scope={"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b"",
                          "session": {}, "state": {}, "path_params": {}})  # type: ignore[typeddict-item]


async def test_a_refused_order_action_leaves_nothing_written(sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        seller = await make_user(s)
        order = await make_order(s, seller=seller, price=120)
        order_id, seller_id = order.id, seller.id

    request = form_request()
    async with sessions() as s:
        svc = OrderService(s, Settings())

        async def ship_then_refuse() -> None:
            await svc.ship(order_id, seller_id, "SF-1")  # written and flushed …
            raise InvalidInput("Refused after writing.")  # … then refused

        r = await act(request, s, f"/orders/{order_id}", ship_then_refuse, success="never",
                      refusals=(400, 409))
        await s.commit()  # what the request's session does after a 303
    assert r.status_code == 303
    assert r.url == f"/orders/{order_id}"
    assert request.session["_messages"] == [{"message": "Refused after writing.", "category": "error"}]
    async with sessions() as s:
        stored = await s.get(Order, order_id)
        assert stored is not None
        assert stored.status == "paid"
        assert stored.tracking is None
        assert await s.scalar(select(func.count()).select_from(OrderEvent).where(
            OrderEvent.order_id == order_id, OrderEvent.to_status == "shipped")) == 0


async def test_a_refusal_outside_the_list_propagates(sessions: Sessions) -> None:
    async def forbidden() -> None:
        raise InvalidInput("not a listed refusal")

    async with sessions() as s:
        with pytest.raises(InvalidInput, match="not a listed refusal"):
            await act(form_request(), s, "/", forbidden, refusals=(409,))


async def test_success_flashes_the_actions_sentence(sessions: Sessions) -> None:
    async def done() -> str:
        return "Done."

    request = form_request()
    async with sessions() as s:
        r = await act(request, s, lambda: "/after", done)
    assert (r.status_code, r.url) == (303, "/after")
    assert request.session["_messages"] == [{"message": "Done.", "category": "success"}]


async def test_refused_order_form_answers_303_and_keeps_the_order(client: Any, sessions: Sessions) -> None:
    async with sessions() as s, s.begin():
        seller = await make_user(s)
        order = await make_order(s, seller=seller, price=120)
        order_id, seller_name = order.id, seller.username
    await html_login(client, seller_name)
    r = await html_post(client, f"/orders/{order_id}/ship", {"tracking": "x" * 101})
    assert r.status_code == 303
    assert r.headers["location"] == f"/orders/{order_id}"
    page = await client.get(f"/orders/{order_id}")
    assert page.status_code == 200
    assert "tracking is at most 100 characters." in page.text
    async with sessions() as s:
        stored = await s.get(Order, order_id)
        assert stored is not None
        assert stored.status == "paid"
