"""``marketplace check``: what a production deployment must have set (README, "Production mode").

Pure: reads a :class:`Settings` and the environment it came from, returns the problems as sentences.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from urllib.parse import urlsplit

from marketplace.settings import PREFIX, Settings

DEV_SECRET_KEY = next(f.default for f in fields(Settings) if f.name == "secret_key")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@dataclass(frozen=True, slots=True)
class Report:
    problems: list[str]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def production_report(settings: Settings, environ: Mapping[str, str]) -> Report:
    problems: list[str] = []
    notes: list[str] = []
    if settings.secret_key == DEV_SECRET_KEY:
        problems.append(f"{PREFIX}SECRET_KEY is the development default; set a long random value "
                        "(python -c 'import secrets; print(secrets.token_hex(32))').")
    elif len(settings.secret_key) < 32:
        problems.append(f"{PREFIX}SECRET_KEY is shorter than 32 characters.")
    if not settings.payment_gateway:
        problems.append(f"{PREFIX}PAYMENT_GATEWAY is not set; choose 'alipay' (or 'sandbox' for a test site "
                        "where coins are free).")
    elif settings.payment_gateway == "alipay":
        for name in ("alipay_private_key_path", "alipay_public_key_path"):
            path = getattr(settings, name)
            if path is None:
                problems.append(f"{PREFIX}{name.upper()} is not set (needed by the alipay gateway).")
            elif not path.is_file():
                problems.append(f"{PREFIX}{name.upper()}: {path} is not a readable file.")
    elif settings.payment_gateway == "sandbox":
        notes.append("the sandbox gateway is on: anyone can top up coins for free (a banner says so on every page).")
    else:
        problems.append(f"{PREFIX}PAYMENT_GATEWAY={settings.payment_gateway!r} is neither 'alipay' nor 'sandbox'.")
    if not environ.get(PREFIX + "BASE_URL"):
        problems.append(f"{PREFIX}BASE_URL is not set; it is the public origin used in payment return URLs "
                        "(e.g. https://market.example.com).")
    else:
        parts = urlsplit(settings.base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            problems.append(f"{PREFIX}BASE_URL={settings.base_url!r} is not an absolute http(s) URL.")
        elif parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
            problems.append(f"{PREFIX}BASE_URL is plain http: serve the site over https so that cookies are "
                            "Secure.")
    if settings.secure_cookies and not settings.https:
        problems.append(f"{PREFIX}SECURE_COOKIES is on but {PREFIX}BASE_URL is not https: browsers would drop "
                        "the session cookie.")
    if settings.https and environ.get(PREFIX + "SECURE_COOKIES", "").strip().lower() in {"0", "false", "no", "off"}:
        notes.append(f"{PREFIX}SECURE_COOKIES=false is ignored: an https base URL always sets Secure cookies.")
    if not settings.is_postgres:
        problems.append(f"{PREFIX}DATABASE_URL is not PostgreSQL (postgresql+asyncpg://…).")
    if settings.redis_url is None:
        problems.append(f"{PREFIX}REDIS_URL is not set (sessions, rate limits, jobs and live bids are shared "
                        "through Redis).")
    if settings.debug:
        problems.append(f"{PREFIX}DEBUG is on (tracebacks would be shown to visitors).")
    return Report(problems=problems, notes=notes)
