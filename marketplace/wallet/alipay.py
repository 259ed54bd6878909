"""The Alipay page-pay protocol (``alipay.trade.page.pay``) with RSA2 signatures (SHA256withRSA).

Pure protocol code: build the signed request that sends the payer to the gateway, and verify the asynchronous
notify the gateway posts back. No database, no web framework; the keys come in as ``cryptography`` objects.

Two signing strings, exactly as Alipay's own SDKs build them:

* **request** (``getSignContent``): every parameter except ``sign`` whose value is not empty, sorted by key
  (ASCII), joined as ``key=value`` with ``&``, values *not* URL-encoded;
* **notify** (``getSignCheckContentV1``): every posted parameter except ``sign`` and ``sign_type``, sorted the
  same way, values URL-decoded (the form parser already did that).

The signature is base64 of PKCS#1 v1.5 over SHA-256 of the UTF-8 signing string.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from marketplace.wallet import rules

METHOD_PAGE_PAY = "alipay.trade.page.pay"
PRODUCT_CODE = "FAST_INSTANT_TRADE_PAY"
PAID_STATUSES = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
# Alipay timestamps are Beijing time ("yyyy-MM-dd HH:mm:ss", UTC+8, no zone suffix).
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


class NotifyRejected(ValueError):
    """A notify that must not credit anything; the message says which check failed (for the log only)."""


class RequestRejected(ValueError):
    """A page-pay request the gateway refuses to show (bad merchant signature or malformed fields)."""


# --- keys ----------------------------------------------------------------------------------------------------------


def load_private_key(data: bytes) -> rsa.RSAPrivateKey:
    """A PEM private key (PKCS#8 or PKCS#1), or Alipay's bare base64 PKCS#8 as its key tool exports it."""
    text = data.strip()
    if not text.startswith(b"-----BEGIN"):
        text = b"-----BEGIN PRIVATE KEY-----\n" + text + b"\n-----END PRIVATE KEY-----\n"
    key = serialization.load_pem_private_key(text, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("RSA2 needs an RSA private key")
    return key


def load_public_key(data: bytes) -> rsa.RSAPublicKey:
    """A PEM public key, or the bare base64 SubjectPublicKeyInfo that Alipay's console shows."""
    text = data.strip()
    if not text.startswith(b"-----BEGIN"):
        text = b"-----BEGIN PUBLIC KEY-----\n" + text + b"\n-----END PUBLIC KEY-----\n"
    key = serialization.load_pem_public_key(text)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("RSA2 needs an RSA public key")
    return key


def read_private_key(path: Path) -> rsa.RSAPrivateKey:
    return load_private_key(path.read_bytes())


def read_public_key(path: Path) -> rsa.RSAPublicKey:
    return load_public_key(path.read_bytes())


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_pem(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def generate_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# --- signatures ----------------------------------------------------------------------------------------------------


def request_sign_content(params: Mapping[str, str]) -> str:
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k] not in ("", None))


def notify_sign_content(params: Mapping[str, str]) -> str:
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in ("sign", "sign_type"))


def sign(content: str, key: rsa.RSAPrivateKey) -> str:
    signature = key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify(content: str, signature: str, key: rsa.RSAPublicKey) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


# --- the page-pay request ------------------------------------------------------------------------------------------


def alipay_timestamp(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def page_pay_params(
    *,
    app_id: str,
    out_trade_no: str,
    total_fen: int,
    subject: str,
    notify_url: str,
    return_url: str,
    now: datetime,
    key: rsa.RSAPrivateKey,
) -> dict[str, str]:
    """The signed parameters of an ``alipay.trade.page.pay`` request (the payer's browser carries them)."""
    biz_content = {
        "out_trade_no": out_trade_no,
        "product_code": PRODUCT_CODE,
        "total_amount": rules.fen_to_yuan_text(total_fen),
        "subject": subject,
    }
    params = {
        "app_id": app_id,
        "method": METHOD_PAGE_PAY,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": alipay_timestamp(now),
        "version": "1.0",
        "notify_url": notify_url,
        "return_url": return_url,
        "biz_content": json.dumps(biz_content, ensure_ascii=False, separators=(",", ":")),
    }
    params["sign"] = sign(request_sign_content(params), key)
    return params


def page_pay_url(gateway_url: str, params: Mapping[str, str]) -> str:
    separator = "&" if "?" in gateway_url else "?"
    return gateway_url + separator + urlencode(params)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A verified page-pay request, as the gateway (our sandbox) reads it."""

    app_id: str
    out_trade_no: str
    total_fen: int
    subject: str
    notify_url: str
    return_url: str


def verify_page_request(params: Mapping[str, str], *, app_public_key: rsa.RSAPublicKey) -> PageRequest:
    """What the gateway checks before it shows the payment page: the merchant's signature and the fields."""
    if params.get("method") != METHOD_PAGE_PAY or params.get("sign_type") != "RSA2":
        raise RequestRejected("not an RSA2 alipay.trade.page.pay request")
    if not verify(request_sign_content(params), params.get("sign", ""), app_public_key):
        raise RequestRejected("bad request signature")
    try:
        biz = json.loads(params["biz_content"])
        total_fen = rules.yuan_text_to_fen(str(biz["total_amount"]))
        return PageRequest(
            app_id=params["app_id"], out_trade_no=str(biz["out_trade_no"]), total_fen=total_fen,
            subject=str(biz.get("subject", "")), notify_url=params.get("notify_url", ""),
            return_url=params.get("return_url", ""),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise RequestRejected(f"malformed biz_content: {exc}") from exc


# --- the asynchronous notify ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaidNotice:
    """A notify whose signature, app and status checked out; the caller still matches the order and amount."""

    out_trade_no: str
    total_fen: int
    trade_no: str
    trade_status: str


def verify_notify(params: Mapping[str, str], *, gateway_public_key: rsa.RSAPublicKey, app_id: str) -> PaidNotice:
    """docs/rules.md §9: signature first (nothing unsigned is trusted), then app_id and trade_status.

    The caller checks what needs the database: that ``out_trade_no`` exists and ``total_amount`` matches.
    """
    signature = params.get("sign", "")
    if not signature or not verify(notify_sign_content(params), signature, gateway_public_key):
        raise NotifyRejected("bad signature")
    if params.get("app_id") != app_id:
        raise NotifyRejected(f"app_id {params.get('app_id')!r} is not ours")
    status = params.get("trade_status", "")
    if status not in PAID_STATUSES:
        raise NotifyRejected(f"trade_status {status!r} does not mean paid")
    out_trade_no = params.get("out_trade_no", "")
    if not out_trade_no:
        raise NotifyRejected("no out_trade_no")
    try:
        total_fen = rules.yuan_text_to_fen(params.get("total_amount", ""))
    except ValueError as exc:
        raise NotifyRejected(str(exc)) from exc
    return PaidNotice(out_trade_no=out_trade_no, total_fen=total_fen, trade_no=params.get("trade_no", ""),
                      trade_status=status)


def check_amount(notice: PaidNotice, expected_fen: int) -> None:
    if notice.total_fen != expected_fen:
        raise NotifyRejected(f"total_amount {rules.fen_to_yuan_text(notice.total_fen)} != "
                             f"{rules.fen_to_yuan_text(expected_fen)}")


def sign_notify(params: dict[str, str], key: rsa.RSAPrivateKey) -> dict[str, str]:
    """Sign a notify the way the gateway does (used by the sandbox gateway and by tests)."""
    params = {k: v for k, v in params.items() if k != "sign"}
    params.setdefault("sign_type", "RSA2")
    params["sign"] = sign(notify_sign_content(params), key)
    return params
