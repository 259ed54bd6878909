"""Geometry of the server-rendered SVG price chart (pure: the template only draws what this computes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    points: str  # the SVG polyline "x,y x,y …"
    dots: tuple[tuple[float, float, int], ...]  # (x, y, price) of each step
    low: int
    high: int


def price_chart(points: list[tuple[datetime, int]], start_price: int, width: int = 320, height: int = 120,
                pad: int = 8) -> Chart | None:
    """A step line of the price after each bid, scaled by bid order (time gaps would crush bursts of bids)."""
    if not points:
        return None
    prices = [start_price, *(p for _, p in points)]
    low, high = min(prices), max(prices)
    span = max(high - low, 1)
    n = len(prices) - 1 or 1
    inner_w, inner_h = width - 2 * pad, height - 2 * pad

    def xy(i: int, price: int) -> tuple[float, float]:
        return round(pad + inner_w * i / n, 1), round(pad + inner_h * (1 - (price - low) / span), 1)

    coords: list[str] = []
    dots: list[tuple[float, float, int]] = []
    previous = prices[0]
    for i, price in enumerate(prices):
        x, y = xy(i, price)
        if i:
            coords.append("{},{}".format(*xy(i, previous)))  # horizontal then vertical: a step chart
        coords.append(f"{x},{y}")
        dots.append((x, y, price))
        previous = price
    return Chart(width=width, height=height, points=" ".join(coords), dots=tuple(dots), low=low, high=high)
