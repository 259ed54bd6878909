"""Events of the listings domain (marketplace/events.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ListingPublished:
    listing_id: int
    seller_id: int
    category_id: int
    mode: str
