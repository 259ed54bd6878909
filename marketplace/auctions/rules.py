"""Pure auction rules (RULES.md §2, §3). The Auctions issue completes this module."""

from __future__ import annotations

# (lower bound of the current-price band, increment), highest band first.
INCREMENT_BANDS: tuple[tuple[int, int], ...] = (
    (50_000, 500),
    (10_000, 100),
    (5_000, 50),
    (1_000, 25),
    (500, 10),
    (100, 5),
    (0, 1),
)


def increment(price: int) -> int:
    """The bid increment at ``price`` (RULES.md §2)."""
    for floor, step in INCREMENT_BANDS:
        if price >= floor:
            return step
    return 1


def min_next_bid(start_price: int, current_price: int, bid_count: int) -> int:
    """``start_price`` with no bids, otherwise ``price + increment(price)``."""
    if bid_count == 0:
        return start_price
    return current_price + increment(current_price)


def reserve_met(reserve_price: int | None, leader_max: int | None) -> bool | None:
    """Public reserve state: None without a reserve; otherwise whether the leader's maximum reaches it."""
    if reserve_price is None:
        return None
    return leader_max is not None and leader_max >= reserve_price
