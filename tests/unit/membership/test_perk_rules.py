"""docs/rules.md §15: member-day and PLUS prices, never stacked; the member day in the platform time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from marketplace.errors import InvalidInput
from marketplace.i18n import use_locale
from marketplace.membership import rules

TZ = "Asia/Shanghai"


@pytest.mark.parametrize(("now", "expected"), [
    (datetime(2026, 12, 9, 15, 59, 59, tzinfo=UTC), False),  # 23:59:59 on the 9th in Shanghai
    (datetime(2026, 12, 9, 16, 0, 0, tzinfo=UTC), True),  # 00:00 on the 10th in Shanghai
    (datetime(2026, 12, 10, 15, 59, 59, tzinfo=UTC), True),  # 23:59:59 on the 10th
    (datetime(2026, 12, 10, 16, 0, 0, tzinfo=UTC), False),  # 00:00 on the 11th
    (datetime(2026, 12, 10, 3, 0, 0, tzinfo=UTC), True),
])
def test_member_day_starts_at_midnight_platform_time(now: datetime, expected: bool) -> None:
    assert rules.is_member_day(now, TZ, 10) is expected


def test_member_day_in_utc_time_zone_is_the_utc_day() -> None:
    assert not rules.is_member_day(datetime(2026, 12, 9, 16, 0, tzinfo=UTC), "UTC", 10)
    assert rules.is_member_day(datetime(2026, 12, 10, 0, 0, tzinfo=UTC), "UTC", 10)


@pytest.mark.parametrize(("price", "percent", "expected"), [
    (1000, 10, 900), (1000, 40, 600), (999, 10, 900), (1001, 10, 901), (1, 40, 1), (333, 30, 234),
])
def test_ceil_percent_off(price: int, percent: int, expected: int) -> None:
    assert rules.ceil_percent_off(price, percent) == expected


@pytest.mark.parametrize(("level", "expected"), [
    ("registered", 1000), ("J1", 1000), ("J2", 900), ("J3", 800), ("J4", 700), ("J5", 600),
])
def test_member_day_price_by_level(level: str, expected: int) -> None:
    unit = rules.unit_price_for(1000, level=level, plus=False, member_day_listing=True, member_day_today=True,
                                plus_price=None)
    assert unit.unit == expected
    assert unit.kind == ("member_day" if expected < 1000 else None)


def test_member_day_needs_the_day_and_the_opt_in() -> None:
    kw = {"level": "J5", "plus": False, "plus_price": None}
    assert rules.unit_price_for(1000, member_day_listing=True, member_day_today=False, **kw).unit == 1000  # type: ignore[arg-type]
    assert rules.unit_price_for(1000, member_day_listing=False, member_day_today=True, **kw).unit == 1000  # type: ignore[arg-type]


def test_lowest_price_wins_never_stacked() -> None:
    # J2 on member day: 900; PLUS price 950 → 900 (member day), not 950 × 0.9
    unit = rules.unit_price_for(1000, level="J2", plus=True, member_day_listing=True, member_day_today=True,
                                plus_price=950)
    assert (unit.unit, unit.kind) == (900, "member_day")
    # PLUS price 850 beats J2's 900
    unit = rules.unit_price_for(1000, level="J2", plus=True, member_day_listing=True, member_day_today=True,
                                plus_price=850)
    assert (unit.unit, unit.kind) == (850, "plus_price")
    # not a PLUS member: the PLUS price does not apply
    unit = rules.unit_price_for(1000, level="J1", plus=False, member_day_listing=False, member_day_today=False,
                                plus_price=850)
    assert (unit.unit, unit.kind) == (1000, None)


def test_price_order_seller_funded_discount_lowers_items_total_not_platform_paid() -> None:
    unit = rules.UnitPrice(900, "member_day")
    p = rules.price_order(items_total=1800, shipping_fee=60, level="J2", unit=unit, list_price=1000, quantity=2)
    assert (p.items_total, p.unit_price, p.platform_paid, p.total) == (1800, 900, 0, 1860)
    assert p.discounts == [{"kind": "member_day", "coins": 200}]


def test_plus_buyer_ships_free_and_pays_plus_price() -> None:
    unit = rules.UnitPrice(850, "plus_price")
    p = rules.price_order(items_total=850, shipping_fee=60, level="registered", plus=True, unit=unit,
                          list_price=1000, quantity=1)
    assert p.discounts == [{"kind": "plus_price", "coins": 150}, {"kind": "free_shipping", "coins": 60}]
    assert (p.platform_paid, p.total, p.seller_gross) == (60, 850, 910)


def test_plus_points_times_ten() -> None:
    assert rules.points_earned(1235) == 124
    assert rules.points_earned(1235, plus=True) == 1240


def test_check_plus_price() -> None:
    assert rules.check_plus_price(None, 1000) is None
    assert rules.check_plus_price(999, 1000) == 999
    for bad in (1000, 1001, 0, -5, True, "9", 9.5):
        with pytest.raises(InvalidInput):
            rules.check_plus_price(bad, 1000)


def test_growth_score_parts() -> None:
    # 12,345 coins = 1,234.5 yuan → 123; 400 active days capped at 365 → 1,825; 3 feedback, 1 with a photo → 40;
    # one dispute lost → −200
    total, parts = rules.growth_score(spend=12_345, active_days=400, feedback_given=3, feedback_photos=1,
                                      disputes_lost=1)
    assert parts == {"spend": 123, "active_days": 1_825, "feedback": 40, "disputes_lost": -200}
    assert total == 123 + 1_825 + 40 - 200


def test_coupon_refusal_reasons_in_the_purchases_order() -> None:
    start, end = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 30, 15, 59, 59, tzinfo=UTC)
    now = datetime(2026, 6, 10, tzinfo=UTC)

    def why(**kw: object) -> str | None:
        args: dict[str, object] = {"min_items_total": 1_980, "valid_from": start, "valid_until": end, "used": False,
                                   "items_total": 1_980, "points": 0, "now": now, **kw}
        with use_locale("en"):  # the reason is written in the page's language
            return rules.coupon_refusal(**args)  # type: ignore[arg-type]

    assert why() is None  # exactly the minimum (198 yuan) is enough
    assert why(items_total=1_979) == "needs an items total of at least 1,980 coins (this one is 1,979)"
    assert why(points=50) == "not combinable with points: set the points to 0 to use it"
    assert why(now=datetime(2026, 6, 30, 16, 0, tzinfo=UTC)) == "expired on 2026-06-30"
    assert why(now=datetime(2026, 5, 31, tzinfo=UTC)) == "valid from 2026-06-01"
    assert why(used=True, points=50, items_total=1) == "already used"  # the first reason wins
    assert why(points=50, items_total=1) == "not combinable with points: set the points to 0 to use it"
