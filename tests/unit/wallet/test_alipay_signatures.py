"""The Alipay RSA2 protocol: request signing and notify verification with key pairs made in the test."""

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from marketplace.wallet import alipay

APP_ID = "2021000000000001"


@pytest.fixture(scope="module")
def keys() -> dict[str, rsa.RSAPrivateKey]:
    return {"gateway": alipay.generate_key(), "app": alipay.generate_key(), "other": alipay.generate_key()}


def notify_params(**overrides: str) -> dict[str, str]:
    params = {
        "notify_time": "2026-11-25 18:00:00", "notify_type": "trade_status_sync", "notify_id": "abc",
        "charset": "utf-8", "version": "1.0", "sign_type": "RSA2", "app_id": APP_ID, "auth_app_id": APP_ID,
        "out_trade_no": "TU20261125100000ABCDE", "trade_no": "2026112522001", "trade_status": "TRADE_SUCCESS",
        "total_amount": "10.00", "receipt_amount": "10.00", "subject": "币集 Coin Market: 100 coins",
    }
    params.update(overrides)
    return params


def verify(params: dict[str, str], key: rsa.RSAPrivateKey) -> alipay.PaidNotice:
    return alipay.verify_notify(params, gateway_public_key=key.public_key(), app_id=APP_ID)


def test_signing_strings_follow_alipay() -> None:
    params = {"b": "2", "a": "1", "sign": "zzz", "sign_type": "RSA2", "empty": "", "c": "x y&z"}
    assert alipay.request_sign_content(params) == "a=1&b=2&c=x y&z&sign_type=RSA2"
    assert alipay.notify_sign_content(params) == "a=1&b=2&c=x y&z&empty="


def test_valid_notify_verifies(keys: dict[str, rsa.RSAPrivateKey]) -> None:
    signed = alipay.sign_notify(notify_params(), keys["gateway"])
    notice = verify(signed, keys["gateway"])
    assert notice == alipay.PaidNotice(out_trade_no="TU20261125100000ABCDE", total_fen=1000,
                                       trade_no="2026112522001", trade_status="TRADE_SUCCESS")
    alipay.check_amount(notice, 1000)
    finished = verify(alipay.sign_notify(notify_params(trade_status="TRADE_FINISHED"), keys["gateway"]),
                      keys["gateway"])
    assert finished.trade_status == "TRADE_FINISHED"


def test_sign_type_is_not_part_of_the_notify_signature(keys: dict[str, rsa.RSAPrivateKey]) -> None:
    signed = alipay.sign_notify(notify_params(), keys["gateway"])
    signed["sign_type"] = "RSA"  # excluded from the signing string, exactly as Alipay documents
    verify(signed, keys["gateway"])


@pytest.mark.parametrize(("field", "value"), [
    ("total_amount", "1000.00"), ("out_trade_no", "TU-someone-else"), ("trade_status", "TRADE_CLOSED"),
    ("subject", "tampered"), ("buyer_id", "2088000000000001"),
])
def test_a_tampered_field_breaks_the_signature(keys: dict[str, rsa.RSAPrivateKey], field: str, value: str) -> None:
    signed = alipay.sign_notify(notify_params(), keys["gateway"])
    signed[field] = value
    with pytest.raises(alipay.NotifyRejected, match="signature"):
        verify(signed, keys["gateway"])


def test_wrong_key_is_rejected(keys: dict[str, rsa.RSAPrivateKey]) -> None:
    signed = alipay.sign_notify(notify_params(), keys["other"])
    with pytest.raises(alipay.NotifyRejected, match="signature"):
        verify(signed, keys["gateway"])


@pytest.mark.parametrize("sign", ["", "not base64!!", "AAAA"])
def test_missing_or_garbage_signature_is_rejected(keys: dict[str, rsa.RSAPrivateKey], sign: str) -> None:
    params = {**notify_params(), "sign": sign}
    with pytest.raises(alipay.NotifyRejected):
        verify(params, keys["gateway"])


def test_wrong_app_id_is_rejected_even_when_signed(keys: dict[str, rsa.RSAPrivateKey]) -> None:
    signed = alipay.sign_notify(notify_params(app_id="2021999999999999"), keys["gateway"])
    with pytest.raises(alipay.NotifyRejected, match="app_id"):
        verify(signed, keys["gateway"])


def test_wrong_amount_is_rejected(keys: dict[str, rsa.RSAPrivateKey]) -> None:
    notice = verify(alipay.sign_notify(notify_params(total_amount="9.99"), keys["gateway"]), keys["gateway"])
    with pytest.raises(alipay.NotifyRejected, match="total_amount"):
        alipay.check_amount(notice, 1000)


@pytest.mark.parametrize("status", ["WAIT_BUYER_PAY", "TRADE_CLOSED", "", "trade_success"])
def test_unpaid_trade_status_is_rejected(keys: dict[str, rsa.RSAPrivateKey], status: str) -> None:
    signed = alipay.sign_notify(notify_params(trade_status=status), keys["gateway"])
    with pytest.raises(alipay.NotifyRejected, match="trade_status"):
        verify(signed, keys["gateway"])


def test_malformed_amount_is_rejected(keys: dict[str, rsa.RSAPrivateKey]) -> None:
    signed = alipay.sign_notify(notify_params(total_amount="ten"), keys["gateway"])
    with pytest.raises(alipay.NotifyRejected):
        verify(signed, keys["gateway"])


def test_page_pay_request_is_signed_and_round_trips(keys: dict[str, rsa.RSAPrivateKey]) -> None:
    now = datetime(2026, 11, 25, 2, 3, 4, tzinfo=UTC)
    params = alipay.page_pay_params(
        app_id=APP_ID, out_trade_no="TU1", total_fen=1050, subject="币集 100 coins", notify_url="https://x/n",
        return_url="https://x/wallet?topup=1", now=now, key=keys["app"],
    )
    assert params["method"] == "alipay.trade.page.pay"
    assert params["charset"] == "utf-8"
    assert params["sign_type"] == "RSA2"
    assert params["version"] == "1.0"
    assert params["timestamp"] == "2026-11-25 10:03:04"  # Beijing time
    assert '"product_code":"FAST_INSTANT_TRADE_PAY"' in params["biz_content"]
    assert '"total_amount":"10.50"' in params["biz_content"]
    assert alipay.verify(alipay.request_sign_content(params), params["sign"], keys["app"].public_key())

    url = alipay.page_pay_url("https://openapi.alipay.com/gateway.do", params)
    assert url.startswith("https://openapi.alipay.com/gateway.do?")
    decoded = dict(parse_qsl(urlsplit(url).query))
    assert decoded == params
    order = alipay.verify_page_request(decoded, app_public_key=keys["app"].public_key())
    assert (order.out_trade_no, order.total_fen, order.return_url) == ("TU1", 1050, "https://x/wallet?topup=1")

    decoded["biz_content"] = decoded["biz_content"].replace("10.50", "0.01")
    with pytest.raises(alipay.RequestRejected):
        alipay.verify_page_request(decoded, app_public_key=keys["app"].public_key())
    with pytest.raises(alipay.RequestRejected):
        alipay.verify_page_request(params, app_public_key=keys["other"].public_key())


def test_keys_load_from_pem_and_bare_base64(keys: dict[str, rsa.RSAPrivateKey]) -> None:
    pem = alipay.public_pem(keys["gateway"].public_key())
    bare = b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))
    assert alipay.load_public_key(bare).public_numbers() == keys["gateway"].public_key().public_numbers()
    priv = alipay.private_pem(keys["app"])
    bare_priv = b"".join(line for line in priv.splitlines() if not line.startswith(b"-----"))
    assert alipay.load_private_key(bare_priv).private_numbers() == keys["app"].private_numbers()
