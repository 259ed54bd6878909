"""Typed settings read from ``MARKETPLACE_*`` environment variables.

Every business number of docs/rules.md is a setting here, with the rules' default. The settings object is frozen and
passed explicitly (``create_app(settings)``); nothing below the web layer reads the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

PREFIX = "MARKETPLACE_"


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """docs/rules.md §5."""

    insertion_fixed: int = 2
    insertion_auction: int = 5
    featured: int = 20
    final_value_percent: int = 5
    final_value_min: int = 1


@dataclass(frozen=True, slots=True)
class ShopPlan:
    """docs/rules.md §6: one row of the plan table."""

    code: str
    name: str
    price: int
    period_days: int
    free_listings: int
    max_images: int


DEFAULT_PLANS: tuple[ShopPlan, ...] = (
    ShopPlan("basic", "Basic 基础店铺", 100, 30, 50, 12),
    ShopPlan("pro", "Pro 专业店铺", 300, 30, 500, 24),
)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///./marketplace.db"
    redis_url: str | None = None
    # Development default only; production sets MARKETPLACE_SECRET_KEY (README).
    secret_key: str = "dev-insecure-secret-key-change-me-please-0123456789"  # noqa: S105
    media_dir: Path = Path("./var/media")
    data_dir: Path = Path("./var")
    base_url: str = "http://127.0.0.1:8000"
    debug: bool = False
    # Secure cookies outside local development (docs/architecture.md); off by default so http://127.0.0.1 works.
    secure_cookies: bool = False
    # Runs the arq worker's jobs inside the web process; on when there is no Redis (embedded mode).
    embedded_jobs: bool | None = None

    min_auction_seconds: int = 3600
    max_auction_seconds: int = 14 * 24 * 3600
    extension_window_seconds: int = 300
    extension_seconds: int = 300
    bid_rate_limit: int = 60
    # Bids on one auction in a process share one transaction (auctions/batching.py); off: one transaction per bid.
    bid_batching: bool = True
    login_rate_limit: int = 10
    login_rate_window_seconds: int = 60
    # Failed log-ins per IP address per window before that address is slowed down (per-username stays at
    # login_rate_limit); an IP is never locked out, each further failure only adds a delay, up to the maximum.
    login_ip_rate_limit: int = 30
    login_ip_max_delay_seconds: int = 5
    # Comma-separated addresses or CIDR networks of reverse proxies whose X-Forwarded-For is believed.
    trusted_proxies: str = ""
    # Bearer tokens expire this many days after they were issued (0 = never).
    api_token_days: int = 30

    coins_per_yuan: int = 10
    topup_min_coins: int = 10
    topup_max_coins: int = 100_000
    # "alipay" or "sandbox"; unset means the sandbox only in embedded mode (SQLite). On PostgreSQL it must be
    # chosen explicitly: `serve` refuses to start otherwise (free coins in production, docs/decisions.md).
    payment_gateway: str = ""
    alipay_app_id: str = "2021000000000000"
    alipay_private_key_path: Path | None = None
    alipay_public_key_path: Path | None = None
    alipay_gateway_url: str = "https://openapi.alipay.com/gateway.do"

    fee_insertion_fixed: int = 2
    fee_insertion_auction: int = 5
    fee_featured: int = 20
    fee_final_value_percent: int = 5
    fee_final_value_min: int = 1

    auto_confirm_days: int = 10
    shop_grace_days: int = 7
    max_images_no_shop: int = 6
    max_image_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    category_max_depth: int = 6
    # Prepaid cards (docs/rules.md §17): wrong secrets that lock one card, failures that throttle one user.
    card_lock_failures: int = 5
    card_lock_window_seconds: int = 24 * 3600
    card_user_failures: int = 10
    card_user_window_seconds: int = 3600

    # Notifications (docs/rules.md §12): the ending-soon lead time; SMTP (unset → e-mails are logged, not sent).
    ending_soon_seconds: int = 3600
    smtp_url: str | None = None
    smtp_from: str = "Coin Market <noreply@coin-market.local>"

    # membership (docs/rules.md §13, §14)
    level_window_days: int = 365
    points_freeze_seconds: int = 604_800
    timezone: str = "Asia/Shanghai"
    # docs/rules.md §15: the member day (day of the month, platform time zone) and PLUS (coins per plus_days)
    member_day: int = 10
    plus_price: int = 1_490
    plus_days: int = 365

    plans: tuple[ShopPlan, ...] = field(default=DEFAULT_PLANS)

    @property
    def fees(self) -> FeeSchedule:
        return FeeSchedule(
            insertion_fixed=self.fee_insertion_fixed,
            insertion_auction=self.fee_insertion_auction,
            featured=self.fee_featured,
            final_value_percent=self.fee_final_value_percent,
            final_value_min=self.fee_final_value_min,
        )

    @property
    def embedded(self) -> bool:
        """Embedded mode: no Redis, so jobs, channels, sessions and rate limits live in this process."""
        return self.redis_url is None

    @property
    def run_jobs_in_process(self) -> bool:
        return self.embedded if self.embedded_jobs is None else self.embedded_jobs

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def gateway(self) -> str:
        """The payment gateway in use: the explicit choice, else the sandbox in embedded SQLite mode only ("" =
        none chosen, which ``serve`` refuses on PostgreSQL)."""
        if self.payment_gateway:
            return self.payment_gateway
        return "" if self.is_postgres else "sandbox"

    @property
    def sandbox_banner(self) -> bool:
        """A production database paid through the sandbox: every page says coins are free."""
        return self.gateway == "sandbox" and (self.is_postgres or not self.embedded)

    @property
    def https(self) -> bool:
        return self.base_url.lower().startswith("https://")

    @property
    def cookies_secure(self) -> bool:
        """Secure cookies when asked for or whenever the site is served over https."""
        return self.secure_cookies or self.https

    def plan(self, code: str) -> ShopPlan | None:
        return next((p for p in self.plans if p.code == code), None)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every field from ``MARKETPLACE_<FIELD>``; a malformed value raises ``ValueError`` naming it."""
        env = os.environ if environ is None else environ
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "plans":
                continue
            raw = env.get(PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _parse(f.name, hints[f.name], raw)
        values.update(overrides)
        return cls(**values)


def _parse(name: str, hint: Any, raw: str) -> Any:
    text = str(hint)
    raw = raw.strip()
    try:
        if "bool" in text:
            if raw == "" and "None" in text:
                return None
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if "int" in text:
            return int(raw)
        if "Path" in text:
            return Path(raw) if raw else None
        if "None" in text and raw == "":
            return None
        return raw
    except ValueError as exc:
        raise ValueError(f"{PREFIX}{name.upper()}: cannot read {raw!r} as {text}") from exc
