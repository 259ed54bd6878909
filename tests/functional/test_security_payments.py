"""Issue 11 H1 and L3: no free coins in production, return URLs from the configured base URL only."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from litestar.testing import AsyncTestClient

from marketplace import cli
from marketplace.app import create_app
from marketplace.checks import production_report
from marketplace.settings import Settings
from tests.factories import api_user, html_login, html_post

SANDBOX = "/payments/sandbox/pay"


def sandbox_form(page: str, action: str) -> dict[str, str]:
    for form in re.findall(r"<form method=\"post\" action=\"/payments/sandbox/pay\">(.*?)</form>", page, re.S):
        if f'value="{action}"' in form:
            fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
            fields.pop("_csrf_token", None)
            import html as _html

            return {k: _html.unescape(v) for k, v in fields.items()}
    raise AssertionError(f"no {action} form on the sandbox page")


async def _balance(client: Any, headers: dict[str, str]) -> int:
    return int((await client.get("/api/v1/wallet", headers=headers)).json()["available"])


async def test_serve_refuses_postgres_without_an_explicit_gateway(monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MARKETPLACE_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/nowhere")
    monkeypatch.delenv("MARKETPLACE_PAYMENT_GATEWAY", raising=False)
    called: list[Any] = []
    monkeypatch.setattr(cli, "_serve", lambda *a: called.append(a))
    monkeypatch.setattr("marketplace.migrate.upgrade", lambda *a: called.append(a))
    assert cli.main(["serve", "--no-migrate"]) == 2
    assert called == []
    assert "MARKETPLACE_PAYMENT_GATEWAY" in capsys.readouterr().err
    # Chosen explicitly, it starts (here: reaches the server start).
    monkeypatch.setenv("MARKETPLACE_PAYMENT_GATEWAY", "sandbox")
    assert cli.main(["serve", "--no-migrate"]) == 0
    assert len(called) == 1


def test_embedded_sqlite_still_defaults_to_the_sandbox() -> None:
    assert Settings().gateway == "sandbox"
    assert Settings(database_url="postgresql+asyncpg://x@h/db").gateway == ""
    assert not Settings().sandbox_banner


async def test_sandbox_in_production_shows_a_banner_on_every_page(client: Any, settings: Settings) -> None:
    for path in ("/", "/login", "/search?q=x"):
        r = await client.get(path)
        assert 'class="sandbox-banner"' in r.text, path
        assert "coins are free" in r.text
    async with AsyncTestClient(app=create_app(settings.with_(payment_gateway="alipay"))) as real:
        assert "sandbox-banner" not in (await real.get("/")).text


async def test_sandbox_pay_page_is_for_the_topups_owner_only(client: Any, app: Any) -> None:
    owner = await api_user(client)
    r = await client.post("/api/v1/wallet/topups", json={"coins": 1000}, headers=owner["headers"])
    assert r.status_code == 201, r.text
    pay_url = r.json()["pay_url"]

    # Logged out: the page sends to the log-in form, and a forged Pay is refused.
    r = await client.get(pay_url, follow_redirects=False)
    assert r.status_code in (302, 303)
    assert r.headers["location"].startswith("/login")
    query = dict(parse_qsl(urlsplit(pay_url).query))
    r = await html_post(client, SANDBOX, {**query, "_action": "pay"})
    assert r.status_code == 401
    assert await _balance(client, owner["headers"]) == 0

    # Another user, logged in: 404 for the page and for Pay.
    other = await api_user(client)
    await html_login(client, other["username"])
    r = await client.get(pay_url)
    assert r.status_code == 404
    r = await html_post(client, SANDBOX, {**query, "_action": "pay"})
    assert r.status_code == 404
    assert await _balance(client, owner["headers"]) == 0
    assert await _balance(client, other["headers"]) == 0

    # The owner pays.
    await html_login(client, owner["username"])
    page = await client.get(pay_url)
    assert page.status_code == 200
    r = await html_post(client, SANDBOX, sandbox_form(page.text, "pay"))
    assert r.status_code == 303
    assert await _balance(client, owner["headers"]) == 1000


async def test_return_urls_come_from_the_base_url_not_the_host_header(client: Any, settings: Settings) -> None:
    u = await api_user(client)
    r = await client.post("/api/v1/wallet/topups", json={"coins": 100},
                          headers={**u["headers"], "Host": "evil.example"})
    assert r.status_code == 201, r.text
    pay_url = r.json()["pay_url"]
    assert pay_url.startswith(settings.base_url + SANDBOX)
    params = dict(parse_qsl(urlsplit(pay_url).query))
    assert params["return_url"].startswith(settings.base_url + "/wallet")
    assert "evil.example" not in pay_url


def test_check_lists_what_production_lacks(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PAYMENT_GATEWAY", "BASE_URL", "SECURE_COOKIES"):
        monkeypatch.delenv(f"MARKETPLACE_{name}", raising=False)
    assert cli.main(["check"]) == 1
    err = capsys.readouterr().err
    for name in ("SECRET_KEY", "PAYMENT_GATEWAY", "BASE_URL", "DATABASE_URL", "REDIS_URL"):
        assert f"MARKETPLACE_{name}" in err, name

    monkeypatch.setenv("MARKETPLACE_DATABASE_URL", "postgresql+asyncpg://postgres@db/market")
    monkeypatch.setenv("MARKETPLACE_REDIS_URL", "redis://cache/0")
    monkeypatch.setenv("MARKETPLACE_SECRET_KEY", "x" * 64)
    monkeypatch.setenv("MARKETPLACE_PAYMENT_GATEWAY", "sandbox")
    monkeypatch.setenv("MARKETPLACE_BASE_URL", "https://market.example.com")
    assert cli.main(["check"]) == 0
    assert "coins for free" in capsys.readouterr().out


def test_check_secure_cookies_need_https() -> None:
    env = {"MARKETPLACE_BASE_URL": "http://market.example.com"}
    s = Settings(database_url="postgresql+asyncpg://p@db/m", redis_url="redis://r", secret_key="k" * 40,
                 payment_gateway="sandbox", base_url=env["MARKETPLACE_BASE_URL"], secure_cookies=True)
    problems = production_report(s, env).problems
    assert any("plain http" in p for p in problems)
    assert any("SECURE_COOKIES is on" in p for p in problems)
    assert Settings(base_url="https://m.example").cookies_secure
