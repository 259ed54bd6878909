"""docs/api.md Wallet and top-up, through HTTP on PostgreSQL, with the sandbox gateway's keys."""

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from marketplace.settings import Settings
from marketplace.wallet import alipay
from marketplace.wallet.gateway import gateway_for
from tests.factories import api_login, api_user, make_user

NOTIFY = "/payments/alipay/notify"


def signed_notify(settings: Settings, out_trade_no: str, total_amount: str, **overrides: str) -> dict[str, str]:
    params = {
        "notify_type": "trade_status_sync", "notify_id": "n-1", "notify_time": "2026-11-25 18:00:00",
        "charset": "utf-8", "version": "1.0", "app_id": settings.alipay_app_id, "out_trade_no": out_trade_no,
        "trade_no": "2026112522001499999999", "trade_status": "TRADE_SUCCESS", "total_amount": total_amount,
        "subject": "币集 Coin Market",
    }
    params.update(overrides)
    key = gateway_for(settings).gateway_private_key
    assert key is not None
    return alipay.sign_notify(params, key)


async def admin_headers(client: Any, sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with sessions() as s, s.begin():
        admin = await make_user(s, is_admin=True)
        username = admin.username
    return await api_login(client, username)


async def test_wallet_endpoints_need_a_token(client: Any) -> None:
    for method, path in [("GET", "/api/v1/wallet"), ("GET", "/api/v1/wallet/entries"),
                         ("POST", "/api/v1/wallet/topups"), ("GET", "/api/v1/wallet/topups/1"),
                         ("POST", "/api/v1/admin/users/1/adjustments")]:
        r = await client.request(method, path, json={"coins": 100, "reason": "x"})
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.json()["status_code"] == 401


async def test_new_wallet_is_empty(client: Any) -> None:
    u = await api_user(client)
    r = await client.get("/api/v1/wallet", headers=u["headers"])
    assert r.status_code == 200
    assert r.json() == {"available": 0, "held": 0}
    r = await client.get("/api/v1/wallet/entries", headers=u["headers"])
    assert r.json() == {"items": [], "total": 0, "page": 1, "per_page": 20}


async def test_topup_create_pay_and_replay(client: Any, settings: Settings) -> None:
    u = await api_user(client)
    r = await client.post("/api/v1/wallet/topups", json={"coins": 100}, headers=u["headers"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["coins"] == 100
    assert body["amount_yuan"] == "10.00"
    assert body["status"] == "pending"
    assert body["out_trade_no"]
    assert set(body) >= {"id", "out_trade_no", "coins", "amount_yuan", "status", "pay_url"}

    # The pay URL is a signed alipay.trade.page.pay request for exactly this order.
    url = urlsplit(body["pay_url"])
    assert url.path == "/payments/sandbox/pay"
    params = dict(parse_qsl(url.query))
    assert params["method"] == "alipay.trade.page.pay"
    assert params["notify_url"].endswith(NOTIFY)
    order = alipay.verify_page_request(params, app_public_key=gateway_for(settings).app_public_key)  # type: ignore[arg-type]
    assert (order.out_trade_no, order.total_fen) == (body["out_trade_no"], 1000)

    r = await client.get(f"/api/v1/wallet/topups/{body['id']}", headers=u["headers"])
    assert r.status_code == 200
    assert {k: r.json()[k] for k in ("id", "status", "coins")} == {"id": body["id"], "status": "pending", "coins": 100}

    form = signed_notify(settings, body["out_trade_no"], "10.00")
    for _ in range(3):  # Alipay redelivers until it reads "success": once credited, always "success"
        r = await client.post(NOTIFY, data=form)
        assert r.status_code == 200
        assert r.text == "success"

    assert (await client.get(f"/api/v1/wallet/topups/{body['id']}", headers=u["headers"])).json()["status"] == "paid"
    assert (await client.get("/api/v1/wallet", headers=u["headers"])).json() == {"available": 100, "held": 0}
    entries = (await client.get("/api/v1/wallet/entries", headers=u["headers"])).json()
    assert entries["total"] == 1
    (entry,) = entries["items"]
    assert entry["account"] == "available"
    assert entry["amount"] == 100
    assert entry["kind"] == "topup"
    assert entry["ref"] == f"topup:{body['id']}"
    assert entry["balance_after"] == 100
    assert entry["created_at"].endswith(("Z", "+00:00"))


async def test_forged_notify_answers_fail_and_credits_nothing(client: Any, settings: Settings) -> None:
    u = await api_user(client)
    body = (await client.post("/api/v1/wallet/topups", json={"coins": 50}, headers=u["headers"])).json()
    good = signed_notify(settings, body["out_trade_no"], "5.00")
    forgeries = [
        {**good, "total_amount": "5000.00"},
        {**good, "sign": alipay.sign(alipay.notify_sign_content(good), alipay.generate_key())},
        {k: v for k, v in good.items() if k != "sign"},
        signed_notify(settings, body["out_trade_no"], "0.50"),
        signed_notify(settings, body["out_trade_no"], "5.00", trade_status="WAIT_BUYER_PAY"),
        signed_notify(settings, body["out_trade_no"], "5.00", app_id="2021000000000999"),
        signed_notify(settings, "TU-unknown", "5.00"),
        {},
    ]
    for form in forgeries:
        r = await client.post(NOTIFY, data=form)
        assert r.status_code == 200
        assert r.text == "fail", form
    assert (await client.get("/api/v1/wallet", headers=u["headers"])).json() == {"available": 0, "held": 0}
    assert (await client.get(f"/api/v1/wallet/topups/{body['id']}",
                             headers=u["headers"])).json()["status"] == "pending"


async def test_topup_bounds(client: Any) -> None:
    u = await api_user(client)
    for coins in (9, 0, -5, 100_001):
        r = await client.post("/api/v1/wallet/topups", json={"coins": coins}, headers=u["headers"])
        assert r.status_code == 400, coins
        assert r.json()["detail"]
    for payload in ({"coins": "many"}, {"coins": 10.5}, {}):
        r = await client.post("/api/v1/wallet/topups", json=payload, headers=u["headers"])
        assert r.status_code == 400, payload
    for coins in (10, 100_000):
        r = await client.post("/api/v1/wallet/topups", json={"coins": coins}, headers=u["headers"])
        assert r.status_code == 201
    assert r.json()["amount_yuan"] == "10000.00"


async def test_someone_elses_topup_is_404(client: Any) -> None:
    owner, other = await api_user(client), await api_user(client)
    body = (await client.post("/api/v1/wallet/topups", json={"coins": 10}, headers=owner["headers"])).json()
    r = await client.get(f"/api/v1/wallet/topups/{body['id']}", headers=other["headers"])
    assert r.status_code == 404
    assert (await client.get("/api/v1/wallet/topups/999999", headers=owner["headers"])).status_code == 404


async def test_entries_paging_newest_first(client: Any, sessions: async_sessionmaker[AsyncSession]) -> None:
    u = await api_user(client)
    admin = await admin_headers(client, sessions)
    for coins in (1, 2, 3, 4, 5):
        r = await client.post(f"/api/v1/admin/users/{u['id']}/adjustments", json={"coins": coins, "reason": "gift"},
                              headers=admin)
        assert r.status_code == 201
    page1 = (await client.get("/api/v1/wallet/entries?page=1&per_page=2", headers=u["headers"])).json()
    page3 = (await client.get("/api/v1/wallet/entries?page=3&per_page=2", headers=u["headers"])).json()
    assert (page1["total"], page1["page"], page1["per_page"]) == (5, 1, 2)
    assert [e["amount"] for e in page1["items"]] == [5, 4]
    assert [e["balance_after"] for e in page1["items"]] == [15, 10]
    assert [e["amount"] for e in page3["items"]] == [1]
    assert all(e["kind"] == "adjustment" and e["ref"] == f"user:{u['id']}" for e in page1["items"])
    for bad in ("page=0", "per_page=0", "per_page=1000", "page=x"):
        assert (await client.get(f"/api/v1/wallet/entries?{bad}", headers=u["headers"])).status_code == 400


async def test_admin_adjustments(client: Any, sessions: async_sessionmaker[AsyncSession]) -> None:
    u = await api_user(client)
    admin = await admin_headers(client, sessions)
    url = f"/api/v1/admin/users/{u['id']}/adjustments"

    r = await client.post(url, json={"coins": 30, "reason": "compensation for a lost parcel"}, headers=admin)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["available"] == 30
    entries = (await client.get("/api/v1/wallet/entries", headers=u["headers"])).json()["items"]
    assert entries[0]["id"] == body["entry_id"]
    assert entries[0]["memo"] == "compensation for a lost parcel"

    r = await client.post(url, json={"coins": -31, "reason": "too much"}, headers=admin)
    assert r.status_code == 409
    r = await client.post(url, json={"coins": -30, "reason": "clawback"}, headers=admin)
    assert r.status_code == 201
    assert r.json()["available"] == 0

    for payload in ({"coins": 5}, {"coins": 5, "reason": "   "}, {"coins": 0, "reason": "x"}, {"reason": "x"}):
        assert (await client.post(url, json=payload, headers=admin)).status_code == 400, payload
    assert (await client.post("/api/v1/admin/users/999999/adjustments", json={"coins": 5, "reason": "x"},
                              headers=admin)).status_code == 404
    # Not an admin: forbidden, even for oneself.
    r = await client.post(url, json={"coins": 1000, "reason": "free money"}, headers=u["headers"])
    assert r.status_code == 403
    assert (await client.get("/api/v1/wallet", headers=u["headers"])).json() == {"available": 0, "held": 0}


async def test_openapi_describes_the_wallet(client: Any) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path in ("/api/v1/wallet", "/api/v1/wallet/entries", "/api/v1/wallet/topups",
                 "/api/v1/wallet/topups/{topup_id}", "/api/v1/admin/users/{user_id}/adjustments", NOTIFY):
        assert path in paths, path
