"""Pure listing rules: validation, fees, purchase and end-early checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from marketplace.errors import Conflict, InvalidInput, PermissionDenied
from marketplace.listings import rules

LIMITS = {"min_auction_seconds": 3600, "max_auction_seconds": 14 * 24 * 3600}


def fixed(**kw: Any) -> rules.NewListing:
    return rules.validate_new_listing(**{"title": "Phone", "description": "", "category_id": 1, "mode": "fixed",
                                         "price": 10, "quantity": 2, **kw}, **LIMITS)


def auction(**kw: Any) -> rules.NewListing:
    return rules.validate_new_listing(**{"title": "Coin", "description": "", "category_id": 1, "mode": "auction",
                                         "start_price": 100, "duration_seconds": 3600, **kw}, **LIMITS)


def test_fixed_listing_is_normalised() -> None:
    new = fixed(title="  二手手机   九成新 ", description="line 1\r\nline 2  ")
    assert new.title == "二手手机 九成新"
    assert new.description == "line 1\nline 2"
    assert (new.price, new.quantity, new.sort_price) == (10, 2, 10)
    assert new.ends_at(datetime.now(UTC)) is None


def test_fixed_listing_quantity_defaults_to_one_and_ignores_auction_fields() -> None:
    new = fixed(quantity=None, start_price=5, duration_seconds=1)
    assert new.quantity == 1
    assert new.start_price is None


@pytest.mark.parametrize("kw", [
    {"title": ""}, {"title": "x" * 121}, {"price": None}, {"price": 0}, {"price": -1}, {"price": 1.5},
    {"price": True}, {"quantity": 0}, {"quantity": 10_001}, {"mode": "swap"}, {"category_id": "1"},
    {"featured": "yes"}, {"description": "d" * 10_001},
])
def test_fixed_listing_refusals(kw: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        fixed(**kw)


def test_auction_ends_after_its_duration() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    new = auction(reserve_price=100, buy_now_price=101, auto_extend=False)
    assert new.ends_at(now) == now + timedelta(hours=1)
    assert (new.sort_price, new.quantity, new.auto_extend) == (100, 1, False)
    assert auction().auto_extend is True


@pytest.mark.parametrize("kw", [
    {"start_price": None}, {"start_price": 0}, {"reserve_price": 99}, {"buy_now_price": 100},
    {"reserve_price": 300, "buy_now_price": 200}, {"duration_seconds": 3599},
    {"duration_seconds": 14 * 24 * 3600 + 1}, {"duration_seconds": None}, {"auto_extend": "no"},
])
def test_auction_refusals(kw: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        auction(**kw)


def test_auction_boundaries_are_accepted() -> None:
    assert auction(duration_seconds=14 * 24 * 3600).duration_seconds == 14 * 24 * 3600
    assert auction(reserve_price=100, buy_now_price=101).buy_now_price == 101
    assert auction(reserve_price=150, buy_now_price=150).reserve_price == 150


FEES = {"insertion_fixed": 2, "insertion_auction": 5, "featured_fee": 20}


@pytest.mark.parametrize(("mode", "featured", "free", "insertion", "total"), [
    ("fixed", False, False, 2, 2),
    ("auction", False, False, 5, 5),
    ("fixed", True, False, 2, 22),
    ("auction", True, False, 5, 25),
    ("fixed", False, True, 0, 0),
    ("auction", True, True, 0, 20),
])
def test_listing_fee(mode: str, featured: bool, free: bool, insertion: int, total: int) -> None:
    quote = rules.listing_fee(mode, featured=featured, free=free, **FEES)
    assert (quote.insertion, quote.total, quote.free_listing) == (insertion, total, free)


def purchase(**kw: Any) -> int:
    args: dict[str, Any] = {"mode": "fixed", "status": "active", "seller_id": 1, "buyer_id": 2, "quantity": 1,
                            "quantity_available": 3, **kw}
    return rules.check_purchase(**args)


def test_purchase_checks() -> None:
    assert purchase(quantity=3) == 3
    with pytest.raises(PermissionDenied):
        purchase(buyer_id=1)
    with pytest.raises(Conflict, match="Only 3 left"):
        purchase(quantity=4)
    with pytest.raises(Conflict, match="Sold out"):
        purchase(status="sold", quantity_available=0)
    with pytest.raises(Conflict, match="not active"):
        purchase(status="ended")
    with pytest.raises(InvalidInput):
        purchase(quantity=0)


def test_end_early_checks() -> None:
    ok: dict[str, Any] = {"status": "active", "seller_id": 1, "user_id": 1, "bid_count": 0, "sold_units": 0}
    rules.check_end_early(**ok)
    with pytest.raises(PermissionDenied):
        rules.check_end_early(**{**ok, "user_id": 2})
    for change in ({"bid_count": 1}, {"sold_units": 1}, {"status": "ended"}):
        with pytest.raises(Conflict):
            rules.check_end_early(**{**ok, **change})


def test_sort_and_paging() -> None:
    assert rules.parse_sort(None) == "newest"
    assert rules.parse_sort("price_desc") == "price_desc"
    with pytest.raises(InvalidInput):
        rules.parse_sort("random")
    assert rules.page_window(3, 20) == (40, 20)
    for bad in ((0, 20), (1, 0), (1, 101)):
        with pytest.raises(InvalidInput):
            rules.page_window(*bad)


# --- the one visibility rule (docs/rules.md §10 decision 9) -------------------------------------------------------


@pytest.mark.parametrize(("status", "hidden", "suspended", "public"), [
    ("active", False, False, True), ("sold", False, False, True), ("removed", False, False, False),
    ("active", True, False, False), ("active", False, True, False), ("ended", True, True, False),
])
def test_public_needs_no_removal_hidden_category_or_suspended_shop(status: str, hidden: bool, suspended: bool,
                                                                   public: bool) -> None:
    assert rules.public(status=status, category_hidden=hidden, shop_suspended=suspended) is public


def test_only_the_seller_and_admins_see_what_is_not_public() -> None:
    assert rules.visible_to(is_public=True, seller_id=1, viewer_id=None, is_admin=False)
    assert not rules.visible_to(is_public=False, seller_id=1, viewer_id=None, is_admin=False)
    assert not rules.visible_to(is_public=False, seller_id=1, viewer_id=2, is_admin=False)
    assert rules.visible_to(is_public=False, seller_id=1, viewer_id=1, is_admin=False)
    assert rules.visible_to(is_public=False, seller_id=1, viewer_id=2, is_admin=True)
