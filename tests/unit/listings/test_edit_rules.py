"""docs/rules.md §19.7: which fields an edit may change, when, and what it records (pure rules)."""

from __future__ import annotations

from typing import Any

import pytest

from marketplace.errors import Conflict, InvalidInput, PermissionDenied
from marketplace.listings import rules
from marketplace.listings.rules import Change, EditState, plan_edit

SELLER = 7


def fixed(**kw: Any) -> EditState:
    values: dict[str, object] = dict.fromkeys(rules.EDITABLE)
    values.update(title="Old coin", description="Qing", category_id=3, price=300, member_day=False,
                  shipping_fee=0, plus_price=None)
    base: dict[str, Any] = {"seller_id": SELLER, "mode": "fixed", "status": "active", "bid_count": 0,
                            "sold_units": 0, "values": values}
    base.update(kw)
    return EditState(**base)


def auction(**kw: Any) -> EditState:
    values: dict[str, object] = dict.fromkeys(rules.EDITABLE)
    values.update(title="Silver dollar", description="", category_id=3, start_price=50, buy_now_price=500)
    base: dict[str, Any] = {"seller_id": SELLER, "mode": "auction", "status": "active", "bid_count": 0,
                            "sold_units": 0, "values": values, "reserve_price": 100}
    base.update(kw)
    return EditState(**base)


def test_only_the_seller_edits() -> None:
    with pytest.raises(PermissionDenied):
        plan_edit(fixed(), SELLER + 1, {"title": "Mine now"})


@pytest.mark.parametrize("status", ["sold", "unsold", "ended", "removed"])
def test_only_an_active_listing_is_edited(status: str) -> None:
    with pytest.raises(Conflict):
        plan_edit(fixed(status=status), SELLER, {"title": "New"})


def test_text_fields_change_any_time_and_record_old_and_new() -> None:
    changes = plan_edit(fixed(bid_count=0, sold_units=2), SELLER,
                        {"title": "  Old   coin 古钱币 ", "condition": "like_new", "location": " 上海   浦东 "})
    assert changes == [Change("title", "Old coin", "Old coin 古钱币"), Change("condition", None, "like_new"),
                       Change("location", None, "上海 浦东")]


def test_same_values_are_no_change() -> None:
    assert plan_edit(fixed(), SELLER, {"title": "Old coin", "price": 300}) == []


def test_price_changes_while_no_bids_or_sales() -> None:
    assert plan_edit(fixed(), SELLER, {"price": 280, "plus_price": 250, "member_day": True}) == [
        Change("price", 300, 280), Change("plus_price", None, 250), Change("member_day", False, True)]
    assert plan_edit(auction(), SELLER, {"start_price": 60, "buy_now_price": None}) == [
        Change("start_price", 50, 60), Change("buy_now_price", 500, None)]


@pytest.mark.parametrize("state", [fixed(sold_units=1), auction(bid_count=1)])
def test_price_is_locked_once_there_are_bids_or_sales(state: EditState) -> None:
    field = "price" if state.mode == "fixed" else "start_price"
    with pytest.raises(Conflict, match="bids or sales"):
        plan_edit(state, SELLER, {field: 999, "title": "still refused as a whole"})
    # the free fields still change
    assert plan_edit(state, SELLER, {"title": "Better title"})[0].field == "title"


@pytest.mark.parametrize("patch", [
    {"condition": "mint"}, {"condition": 3}, {"location": "x" * 61}, {"title": "  "}, {"price": 0},
    {"price": True}, {"plus_price": 300}, {"description": None}, {"quantity": 5}, {"start_price": 10},
    {"shipping_fee": -1}, {"category_id": "3"},
])
def test_bad_values_and_fields_are_400(patch: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        plan_edit(fixed(), SELLER, patch)


@pytest.mark.parametrize("patch", [
    {"price": 10}, {"buy_now_price": 50}, {"buy_now_price": 90}, {"start_price": 150},
])
def test_auction_prices_must_hang_together(patch: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        plan_edit(auction(), SELLER, patch)


def test_plus_price_is_checked_against_the_new_price() -> None:
    with pytest.raises(InvalidInput, match="plus_price"):
        plan_edit(fixed(values={**fixed().values, "plus_price": 250}), SELLER, {"price": 200})


def test_condition_and_location_checks() -> None:
    assert [rules.check_condition(c) for c in rules.CONDITIONS] == list(rules.CONDITIONS)
    assert rules.check_condition("") is None
    assert rules.check_location("   ") is None
    with pytest.raises(InvalidInput):
        rules.check_condition("broken")
