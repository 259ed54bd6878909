"""Which payment gateway the site talks to, and its keys (docs/rules.md §9).

* ``alipay``: the real gateway (``MARKETPLACE_ALIPAY_GATEWAY_URL``); our app private key signs requests, Alipay's
  public key verifies notifies (``MARKETPLACE_ALIPAY_PRIVATE_KEY_PATH`` / ``..._PUBLIC_KEY_PATH``).
* ``sandbox`` (embedded mode's default; demo and tests; on PostgreSQL only when chosen explicitly): a small
  payment page served by this site (``/payments/sandbox/pay``, for the top-up's owner only) that plays
  Alipay's part with its own key pair, so the notify runs through exactly the same verification.

Sandbox keys live in ``<data_dir>/sandbox_keys`` and are generated the first time a top-up needs them (never at
import and never committed). Two server processes may start at once: each writes its candidate key to a temp
file and hard-links it into place, which fails if the other got there first, and then both read back the one
key on disk — so every process signs and verifies with the same pair.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from marketplace.settings import Settings
from marketplace.wallet import alipay

SANDBOX_PATH = "/payments/sandbox/pay"
NO_GATEWAY_MESSAGE = (
    "MARKETPLACE_PAYMENT_GATEWAY is not set. On PostgreSQL choose it explicitly: 'alipay' (with "
    "MARKETPLACE_ALIPAY_PRIVATE_KEY_PATH and MARKETPLACE_ALIPAY_PUBLIC_KEY_PATH) for real payments, or 'sandbox' "
    "for a test site where coins are free."
)
NOTIFY_PATH = "/payments/alipay/notify"


@dataclass(frozen=True)
class GatewayConfig:
    name: str  # "sandbox" | "alipay"
    app_id: str
    app_private_key: rsa.RSAPrivateKey
    gateway_public_key: rsa.RSAPublicKey
    # Real gateway: its absolute URL. Sandbox: None — the page is on whatever origin the payer uses.
    gateway_url: str | None
    # Sandbox only: what the gateway side needs (sign notifies, verify the merchant's requests).
    gateway_private_key: rsa.RSAPrivateKey | None = None
    app_public_key: rsa.RSAPublicKey | None = None

    @property
    def is_sandbox(self) -> bool:
        return self.name == "sandbox"

    def gateway_url_for(self, site_url: str) -> str:
        return self.gateway_url or site_url.rstrip("/") + SANDBOX_PATH


def _write_once(path: Path, data: bytes) -> bytes:
    """Create ``path`` with ``data`` unless it exists; return what is on disk either way (first writer wins)."""
    if path.exists():
        return path.read_bytes()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        # link() refuses to replace an existing file, unlike rename(): a process that loses the race keeps
        # the winner's key instead of overwriting it after the winner already read it back.
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError:  # a filesystem without hard links: replace() is still atomic, the last writer wins
        if not path.exists():
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path.read_bytes()


def sandbox_key(directory: Path, name: str) -> rsa.RSAPrivateKey:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}_private.pem"
    if path.exists():
        return alipay.read_private_key(path)
    key = alipay.load_private_key(_write_once(path, alipay.private_pem(alipay.generate_key())))
    # The public half, for people who want to look (nothing reads it back: it derives from the private key).
    with contextlib.suppress(OSError):
        _write_once(directory / f"{name}_public.pem", alipay.public_pem(key.public_key()))
    return key


@functools.lru_cache(maxsize=32)
def _sandbox(data_dir: Path, app_id: str) -> GatewayConfig:
    directory = data_dir / "sandbox_keys"
    gateway_key = sandbox_key(directory, "gateway")
    app_key = sandbox_key(directory, "app")
    return GatewayConfig(
        name="sandbox", app_id=app_id, app_private_key=app_key, gateway_public_key=gateway_key.public_key(),
        gateway_url=None, gateway_private_key=gateway_key, app_public_key=app_key.public_key(),
    )


@functools.lru_cache(maxsize=8)
def _alipay(app_id: str, gateway_url: str, private_key_path: Path, public_key_path: Path) -> GatewayConfig:
    return GatewayConfig(
        name="alipay", app_id=app_id, app_private_key=alipay.read_private_key(private_key_path),
        gateway_public_key=alipay.read_public_key(public_key_path), gateway_url=gateway_url,
    )


def gateway_for(settings: Settings) -> GatewayConfig:
    """The configured gateway; keys are read (or, for the sandbox, generated) once per process."""
    name = settings.gateway
    if not name:
        raise RuntimeError(NO_GATEWAY_MESSAGE)
    if name == "sandbox":
        return _sandbox(settings.data_dir.resolve(), settings.alipay_app_id)
    if name == "alipay":
        if settings.alipay_private_key_path is None or settings.alipay_public_key_path is None:
            raise RuntimeError("MARKETPLACE_PAYMENT_GATEWAY=alipay needs MARKETPLACE_ALIPAY_PRIVATE_KEY_PATH and "
                               "MARKETPLACE_ALIPAY_PUBLIC_KEY_PATH")
        return _alipay(settings.alipay_app_id, settings.alipay_gateway_url, settings.alipay_private_key_path,
                       settings.alipay_public_key_path)
    raise RuntimeError(f"unknown MARKETPLACE_PAYMENT_GATEWAY {name!r}")
