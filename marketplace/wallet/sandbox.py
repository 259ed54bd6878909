"""The gateway's side of the sandbox: what Alipay would post back after the payer pays.

The sandbox page (``wallet/views.py``) verifies the merchant's signed request like Alipay does, and on "Pay" builds
the asynchronous notify here — the same fields Alipay sends for a page-pay trade, signed with the sandbox
gateway's private key — and hands it to the very notify handling the real gateway's HTTP POST reaches.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from marketplace.wallet import alipay, rules
from marketplace.wallet.gateway import GatewayConfig


def trade_no(now: datetime) -> str:
    """Alipay's own trade number: date, a channel prefix and digits (28 characters)."""
    return now.astimezone(alipay.BEIJING).strftime("%Y%m%d") + "2200" + "".join(
        secrets.choice("0123456789") for _ in range(16))


def paid_notify(request: alipay.PageRequest, *, config: GatewayConfig, now: datetime) -> dict[str, str]:
    """A ``trade_status_sync`` notify for a successful payment of ``request``, signed as Alipay signs it."""
    if config.gateway_private_key is None:
        raise RuntimeError("only the sandbox gateway can sign notifies")
    amount = rules.fen_to_yuan_text(request.total_fen)
    stamp = alipay.alipay_timestamp(now)
    params = {
        "gmt_create": stamp,
        "gmt_payment": stamp,
        "notify_time": stamp,
        "notify_type": "trade_status_sync",
        "notify_id": secrets.token_hex(16),
        "charset": "utf-8",
        "version": "1.0",
        "sign_type": "RSA2",
        "app_id": request.app_id,
        "auth_app_id": request.app_id,
        "seller_id": "2088000000000000",
        "buyer_id": "2088" + "".join(secrets.choice("0123456789") for _ in range(12)),
        "buyer_logon_id": "san***@sandbox.example",
        "out_trade_no": request.out_trade_no,
        "trade_no": trade_no(now),
        "trade_status": "TRADE_SUCCESS",
        "subject": request.subject,
        "total_amount": amount,
        "receipt_amount": amount,
        "invoice_amount": amount,
        "buyer_pay_amount": amount,
        "point_amount": "0.00",
        "fund_bill_list": f'[{{"amount":"{amount}","fundChannel":"ALIPAYACCOUNT"}}]',
    }
    return alipay.sign_notify(params, config.gateway_private_key)
