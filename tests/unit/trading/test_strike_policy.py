"""docs/rules.md §19.1: the pure non-paying winner policy and the address rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.addresses import rules as address_rules
from marketplace.orders import rules
from marketplace.orders.exceptions import InvalidOrderInput

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_fewer_than_three_strikes_never_block() -> None:
    assert rules.bidding_blocked_until([], NOW) is None
    assert rules.bidding_blocked_until([NOW - DAY, NOW - 2 * DAY], NOW) is None


def test_third_strike_within_a_year_blocks_for_thirty_days() -> None:
    strikes = [NOW - 300 * DAY, NOW - 100 * DAY, NOW - 5 * DAY]
    assert rules.bidding_blocked_until(strikes, NOW) == NOW - 5 * DAY + 30 * DAY
    # the block ends exactly 30 days after the third strike
    assert rules.bidding_blocked_until(strikes, NOW + 25 * DAY) is None
    assert rules.bidding_blocked_until(strikes, NOW + 25 * DAY - timedelta(seconds=1)) is not None


def test_strikes_spread_over_more_than_a_year_do_not_block() -> None:
    strikes = [NOW - 400 * DAY, NOW - 200 * DAY, NOW - DAY]
    assert rules.bidding_blocked_until(strikes, NOW) is None
    # the window counts back from the third strike; exactly 365 days before it is outside
    assert rules.bidding_blocked_until([NOW - 366 * DAY, NOW - 10 * DAY, NOW - DAY], NOW) is None
    assert rules.bidding_blocked_until([NOW - 365 * DAY, NOW - 10 * DAY, NOW - DAY], NOW) == NOW + 29 * DAY


def test_a_fourth_strike_restarts_the_block_and_future_strikes_are_ignored() -> None:
    strikes = [NOW - 60 * DAY, NOW - 50 * DAY, NOW - 40 * DAY, NOW - 2 * DAY]
    assert rules.bidding_blocked_until(strikes, NOW) == NOW + 28 * DAY
    assert rules.bidding_blocked_until([NOW - DAY, NOW - DAY, NOW + DAY], NOW) is None


def test_strikes_in_window_counts_the_last_365_days() -> None:
    assert rules.strikes_in_window([NOW - 365 * DAY, NOW - 364 * DAY, NOW], NOW) == 2


def test_check_cancel() -> None:
    assert rules.check_cancel("auction", "buyer", "no money", True) == "buyer"
    with pytest.raises(InvalidOrderInput, match="reason"):
        rules.check_cancel("auction", "buyer", "  ", True)
    with pytest.raises(InvalidOrderInput, match="confirm"):
        rules.check_cancel("auction", "buyer", "no money", False)
    with pytest.raises(InvalidOrderInput):
        rules.check_cancel("purchase", "buyer", "x" * 501, True)
    assert rules.check_cancel("purchase", "buyer", "", False) is None
    assert rules.check_cancel("buy_now", "buyer", "", False) is None
    assert rules.check_cancel("purchase", "seller", "", False) == "seller"
    assert rules.check_cancel("auction", "seller", "", False) == "seller"
    assert rules.check_cancel("auction", "admin", "", False) is None


GOOD = {"name": "张三", "phone": "13800138000", "province": "广东省", "city": "深圳市", "district": "南山区",
        "detail": "科技园路 1 号"}


@pytest.mark.parametrize("phone", ["13800138000", "+86 138-0013-8000", "8619912345678", "199 1234 5678"])
def test_mainland_mobile_numbers(phone: str) -> None:
    assert address_rules.MOBILE_RE.match(address_rules.clean({**GOOD, "phone": phone}).phone)


@pytest.mark.parametrize("phone", ["12800138000", "1380013800", "138001380001", "0755-12345678", "", None, 13800138000])
def test_bad_phone_numbers(phone: object) -> None:
    with pytest.raises(address_rules.InvalidAddress):
        address_rules.clean({**GOOD, "phone": phone})


@pytest.mark.parametrize("field", ["name", "province", "city", "district", "detail"])
def test_every_part_is_required(field: str) -> None:
    with pytest.raises(address_rules.InvalidAddress, match=field):
        address_rules.clean({**GOOD, field: "  "})
    assert address_rules.one_line(GOOD) == "广东省 深圳市 南山区 科技园路 1 号"
