"""docs/rules.md §13–§15 with the seed's own figures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from marketplace.errors import InvalidInput
from marketplace.membership import rules
from marketplace.membership.rules import InvalidPoints, NotEnoughPoints


@pytest.mark.parametrize(("spend", "level"), [
    (0, "registered"), (1, "J1"), (10_000, "J1"), (10_001, "J2"), (80_000, "J2"), (80_001, "J3"),
    (300_000, "J3"), (300_001, "J4"), (800_000, "J4"), (800_001, "J5"), (10**9, "J5"),
])
def test_level_boundaries_in_coins(spend: int, level: str) -> None:
    assert rules.level_for(spend).code == level


def test_free_shipping_thresholds_by_level() -> None:
    assert [lvl.free_shipping_coins for lvl in rules.LEVELS] == [1880, 1880, 1880, 1880, 1680, 1580]


def test_next_level_and_progress() -> None:
    assert rules.next_level("registered") is not None
    assert rules.next_level("J1").min_spend == 10_001  # type: ignore[union-attr]
    assert rules.next_level("J5") is None
    assert rules.progress_percent(0, "registered") == 0
    assert rules.progress_percent(45_001, "J2") == 50  # halfway from 10,001 to 80,001
    assert rules.progress_percent(900_000, "J5") == 100


@pytest.mark.parametrize(("coins", "points"), [
    (1235, 124),  # 123.5 yuan → 124 points (half up)
    (1234, 123), (1225, 123), (1224, 122), (5, 1), (4, 0), (0, 0), (10, 1), (15, 2),
])
def test_points_earned_round_half_up(coins: int, points: int) -> None:
    assert rules.points_earned(coins) == points


def test_plus_earns_ten_times() -> None:
    assert rules.points_earned(1235, plus=True) == 1240


def test_feedback_points() -> None:
    assert rules.feedback_points(False) == 10
    assert rules.feedback_points(True) == 20


def test_two_thousand_points_are_forty_coins() -> None:
    assert rules.points_to_coins(2000) == 40
    assert rules.points_to_coins(50) == 1


def test_redemption_accepts_valid_amounts() -> None:
    assert rules.check_redemption(2000, items_total=40, available=5000) == 2000
    assert rules.check_redemption(50, items_total=1, available=50) == 50
    assert rules.check_redemption(0, items_total=1, available=0) == 0
    assert rules.check_redemption(None, items_total=1, available=0) == 0


@pytest.mark.parametrize("points", [49, 51, 125, -50, True, 1.5, "100"])
def test_redemption_refuses_malformed(points: object) -> None:
    with pytest.raises(InvalidPoints) as info:
        rules.check_redemption(points, items_total=1000, available=10_000)
    assert info.value.status_code == 400


def test_redemption_cap_per_order_and_items_total() -> None:
    with pytest.raises(InvalidPoints, match="2,000"):
        rules.check_redemption(2050, items_total=1000, available=10_000)
    with pytest.raises(InvalidPoints, match="items total"):
        rules.check_redemption(100, items_total=1, available=10_000)  # 100 points = 2 coins > 1 coin of items
    assert rules.check_redemption(100, items_total=2, available=10_000) == 100


def test_redemption_over_balance_is_a_conflict() -> None:
    with pytest.raises(NotEnoughPoints) as info:
        rules.check_redemption(100, items_total=1000, available=99)
    assert info.value.status_code == 409


def test_max_redeemable() -> None:
    assert rules.max_redeemable(1000, 10_000) == 2000
    assert rules.max_redeemable(3, 10_000) == 150
    assert rules.max_redeemable(1000, 149) == 100
    assert rules.max_redeemable(1000, 0) == 0


def test_expiry_is_31_december_of_next_year_shanghai() -> None:
    # credited 2026-06-01 → expires 2027-12-31 23:59:59 +08:00 = 15:59:59 UTC
    assert rules.expiry_for(datetime(2026, 6, 1, tzinfo=UTC), "Asia/Shanghai") == datetime(
        2027, 12, 31, 15, 59, 59, tzinfo=UTC)
    # 2026-12-31 17:00 UTC is already 2027-01-01 01:00 in Shanghai: year 2027 → 2028-12-31
    assert rules.expiry_for(datetime(2026, 12, 31, 17, 0, tzinfo=UTC), "Asia/Shanghai") == datetime(
        2028, 12, 31, 15, 59, 59, tzinfo=UTC)


def test_oldest_points_are_spent_first() -> None:
    early, late = datetime(2026, 12, 31, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC)
    lots = [rules.LotBalance(3, 100, late), rules.LotBalance(1, 30, early), rules.LotBalance(2, 40, early)]
    assert rules.consume_oldest_first(lots, 100) == [(1, 30), (2, 40), (3, 30)]
    assert rules.consume_oldest_first(lots, 30) == [(1, 30)]
    with pytest.raises(NotEnoughPoints):
        rules.consume_oldest_first(lots, 171)


def test_pricing_points_and_shipping() -> None:
    p = rules.price_order(items_total=1000, shipping_fee=60, level="J1", points=2000)
    assert (p.points_discount, p.platform_paid, p.total, p.seller_gross) == (40, 40, 1020, 1060)
    assert p.discounts == [{"kind": "points", "coins": 40}]
    assert not p.free_shipping


@pytest.mark.parametrize(("level", "items", "free"), [
    ("registered", 1879, False), ("registered", 1880, True), ("J3", 1880, True), ("J4", 1679, False),
    ("J4", 1680, True), ("J5", 1579, False), ("J5", 1580, True),
])
def test_free_shipping_when_items_reach_the_threshold(level: str, items: int, free: bool) -> None:
    p = rules.price_order(items_total=items, shipping_fee=80, level=level)
    assert p.free_shipping is free
    assert p.total == items + (0 if free else 80)
    assert p.seller_gross == items + 80  # the seller always gets the shipping fee
    assert p.platform_paid == (80 if free else 0)


def test_no_shipping_fee_no_free_shipping_discount() -> None:
    assert rules.price_order(items_total=5000, shipping_fee=0, level="J5").discounts == []


def test_plus_ships_free() -> None:
    assert rules.price_order(items_total=1, shipping_fee=80, level="registered", plus=True).free_shipping


def test_shipping_fee_validation() -> None:
    assert rules.check_shipping_fee(None) == 0
    assert rules.check_shipping_fee(60) == 60
    for bad in (-1, 1.5, True, "5", 100_001):
        with pytest.raises(InvalidInput):
            rules.check_shipping_fee(bad)
