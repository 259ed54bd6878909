"""Events of the shops domain (marketplace/events.py), emitted by the renewal job's transition."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ShopEvent:
    shop_id: int
    owner_id: int
    slug: str


@dataclass(frozen=True, slots=True)
class ShopRenewed(ShopEvent):
    plan: str = ""
    price: int = 0


@dataclass(frozen=True, slots=True)
class ShopRenewalFailed(ShopEvent):
    pass


@dataclass(frozen=True, slots=True)
class ShopSuspended(ShopEvent):
    pass
