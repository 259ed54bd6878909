"""The wallet pages and the top-up flow through the sandbox gateway page, as a browser does it (no JS)."""

import html
import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import api_login, html_login, html_post, make_user

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def sandbox_form(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the sandbox page's Pay or Cancel form (without the CSRF token html_post adds)."""
    for form in re.findall(r"<form method=\"post\" action=\"/payments/sandbox/pay\">(.*?)</form>", page, re.S):
        fields = {name: html.unescape(value) for name, value in HIDDEN.findall(form)}
        if fields.get("_action") == action:
            fields.pop("_csrf_token", None)
            return fields
    raise AssertionError(f"no {action} form on the sandbox page")


async def login_new_user(client: Any, sessions: async_sessionmaker[AsyncSession], **kw: Any) -> Any:
    async with sessions() as s, s.begin():
        user = await make_user(s, **kw)
    await html_login(client, user.username)
    return user


async def start_topup(client: Any, coins: int) -> tuple[str, str]:
    """POST the wallet page's form; returns the sandbox page's HTML and the gateway URL we were sent to."""
    r = await html_post(client, "/wallet/topups", {"coins": str(coins)})
    assert r.status_code == 303, r.text
    pay_url = r.headers["location"]
    assert urlsplit(pay_url).path == "/payments/sandbox/pay"
    page = await client.get(pay_url)
    assert page.status_code == 200
    return page.text, pay_url


async def test_wallet_page_needs_login(client: Any) -> None:
    r = await client.get("/wallet", follow_redirects=False)
    assert r.status_code == 302
    assert r.headers["location"].startswith("/login")


async def test_topup_through_the_sandbox_page(client: Any, sessions: async_sessionmaker[AsyncSession]) -> None:
    user = await login_new_user(client, sessions)
    r = await client.get("/wallet")
    assert r.status_code == 200
    assert "<h2>Top up</h2>" in r.text
    assert 'id="wallet-available" data-coins="0"' in r.text

    page, _ = await start_topup(client, 100)
    assert "¥10.00" in page
    r = await html_post(client, "/payments/sandbox/pay", sandbox_form(page, "pay"))
    assert r.status_code == 303
    back = r.headers["location"]
    assert urlsplit(back).path == "/wallet"

    r = await client.get(back)
    assert r.status_code == 200
    assert 'id="wallet-available" data-coins="100"' in r.text
    assert "100 🪙" in r.text
    assert ">paid<" in r.text
    assert re.search(r"topup:\d+", r.text)  # the entry and its reference

    # Paying again (the back button) is a replayed notify: still 100.
    r = await html_post(client, "/payments/sandbox/pay", sandbox_form(page, "pay"))
    assert r.status_code == 303
    headers = await api_login(client, user.username)
    assert (await client.get("/api/v1/wallet", headers=headers)).json() == {"available": 100, "held": 0}


async def test_cancel_closes_the_topup(client: Any, sessions: async_sessionmaker[AsyncSession]) -> None:
    user = await login_new_user(client, sessions)
    page, _ = await start_topup(client, 50)
    r = await html_post(client, "/payments/sandbox/pay", sandbox_form(page, "cancel"))
    assert r.status_code == 303
    r = await client.get(r.headers["location"])
    assert ">closed<" in r.text
    # A closed top-up cannot be paid afterwards.
    r = await html_post(client, "/payments/sandbox/pay", sandbox_form(page, "pay"))
    assert r.status_code == 303
    headers = await api_login(client, user.username)
    assert (await client.get("/api/v1/wallet", headers=headers)).json()["available"] == 0


async def test_tampered_sandbox_request_is_refused(client: Any, sessions: async_sessionmaker[AsyncSession]) -> None:
    await login_new_user(client, sessions)
    page, pay_url = await start_topup(client, 100)
    r = await client.get(pay_url.replace("10.00", "0.01"))
    assert r.status_code == 400
    assert "Invalid payment request" in r.text
    form = sandbox_form(page, "pay")
    form["biz_content"] = form["biz_content"].replace("10.00", "0.01")
    r = await html_post(client, "/payments/sandbox/pay", form)
    assert r.status_code == 400
    # Still pending: the wallet page offers to resume paying, with a freshly signed URL.
    r = await client.get("/wallet")
    assert ">pending<" in r.text
    resume = re.search(r'href="(http[^"]*/payments/sandbox/pay\?[^"]+)"', r.text)
    assert resume
    assert (await client.get(html.unescape(resume.group(1)))).status_code == 200


async def test_out_of_bounds_topup_form_shows_an_error(client: Any,
                                                       sessions: async_sessionmaker[AsyncSession]) -> None:
    await login_new_user(client, sessions)
    r = await html_post(client, "/wallet/topups", {"coins": "5"})
    assert r.status_code == 400
    assert "between 10 and 100,000 coins" in r.text


async def test_admin_ledger_page_and_adjustment(client: Any, sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        target = await make_user(s, coins=5)
    await login_new_user(client, sessions, is_admin=True)
    r = await client.get(f"/admin/users/{target.id}/ledger")
    assert r.status_code == 200
    assert target.username in r.text
    r = await html_post(client, f"/admin/users/{target.id}/adjustments", {"coins": "-7", "reason": "oops"})
    assert r.status_code == 303
    r = await client.get(r.headers["location"])
    assert "below zero" in r.text
    r = await html_post(client, f"/admin/users/{target.id}/adjustments", {"coins": "20", "reason": "goodwill"})
    r = await client.get(r.headers["location"])
    assert 'id="wallet-available" data-coins="25"' in r.text
    assert "goodwill" in r.text


async def test_admin_ledger_page_is_for_admins_only(client: Any, sessions: async_sessionmaker[AsyncSession]) -> None:
    user = await login_new_user(client, sessions)
    assert (await client.get(f"/admin/users/{user.id}/ledger")).status_code == 403
    r = await html_post(client, f"/admin/users/{user.id}/adjustments", {"coins": "1000", "reason": "me"})
    assert r.status_code == 403
