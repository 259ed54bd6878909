"""Gateway selection: the real Alipay gateway reads its keys from the configured files; the sandbox page is off."""

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from marketplace.settings import Settings
from marketplace.wallet import alipay
from marketplace.wallet.gateway import gateway_for
from marketplace.wallet.models import TopUp
from marketplace.wallet.services import WalletService


def test_alipay_mode_signs_for_the_real_gateway(tmp_path: Path) -> None:
    app_key, alipay_key = alipay.generate_key(), alipay.generate_key()
    (tmp_path / "app.pem").write_bytes(alipay.private_pem(app_key))
    bare_public = b"".join(line for line in alipay.public_pem(alipay_key.public_key()).splitlines()
                           if not line.startswith(b"-----"))
    (tmp_path / "alipay_public.txt").write_bytes(bare_public)  # as Alipay's console shows it
    settings = Settings(payment_gateway="alipay", alipay_app_id="2021000111111111", data_dir=tmp_path,
                        alipay_private_key_path=tmp_path / "app.pem",
                        alipay_public_key_path=tmp_path / "alipay_public.txt", base_url="https://shop.example")
    config = gateway_for(settings)
    assert not config.is_sandbox
    assert config.gateway_private_key is None

    topup = TopUp(id=7, user_id=1, out_trade_no="TU7", coins=250, amount_fen=2500, status="pending", gateway="alipay")
    url = WalletService(None, settings).pay_url(topup, site_url="https://shop.example")  # type: ignore[arg-type]
    assert url.startswith("https://openapi.alipay.com/gateway.do?")
    params = dict(parse_qsl(urlsplit(url).query))
    assert params["app_id"] == "2021000111111111"
    assert params["notify_url"] == "https://shop.example/payments/alipay/notify"
    assert params["return_url"] == "https://shop.example/wallet?topup=7"
    order = alipay.verify_page_request(params, app_public_key=app_key.public_key())
    assert order.total_fen == 2500

    notify = alipay.sign_notify({"app_id": "2021000111111111", "out_trade_no": "TU7", "total_amount": "25.00",
                                 "trade_status": "TRADE_SUCCESS", "trade_no": "1"}, alipay_key)
    assert alipay.verify_notify(notify, gateway_public_key=config.gateway_public_key,
                                app_id=config.app_id).total_fen == 2500


def test_alipay_mode_without_keys_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="PRIVATE_KEY_PATH"):
        gateway_for(Settings(payment_gateway="alipay", data_dir=tmp_path))
    with pytest.raises(RuntimeError, match="unknown"):
        gateway_for(Settings(payment_gateway="paypal", data_dir=tmp_path))


def test_sandbox_keys_are_made_on_first_use(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert not (tmp_path / "sandbox_keys").exists()
    config = gateway_for(settings)
    assert config.is_sandbox
    assert sorted(p.name for p in (tmp_path / "sandbox_keys").iterdir()) == [
        "app_private.pem", "app_public.pem", "gateway_private.pem", "gateway_public.pem"]
    signed = alipay.sign_notify({"app_id": settings.alipay_app_id, "out_trade_no": "x", "total_amount": "1.00",
                                 "trade_status": "TRADE_SUCCESS"}, config.gateway_private_key)  # type: ignore[arg-type]
    alipay.verify_notify(signed, gateway_public_key=config.gateway_public_key, app_id=settings.alipay_app_id)
