"""docs/rules.md §12 as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.notifications import rules
from marketplace.notifications.rules import Recipient

T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_every_kind_of_the_table_exists() -> None:
    for kind in ("outbid", "won", "lost", "sold", "unsold", "ending_soon", "order_shipped", "order_completed",
                 "order_cancelled", "dispute_opened", "dispute_resolved", "feedback_received", "topup_paid",
                 "shop_renewed", "shop_renewal_failed", "shop_suspended", "saved_search", "points_unfrozen",
                 "coupon_issued", "level_changed"):
        assert kind in rules.KINDS
        assert kind in rules.KIND_LABELS
    assert len(set(rules.KINDS)) == len(rules.KINDS)


def test_close_recipients_sold() -> None:
    got = rules.close_recipients(1, 2, [3, 2, 4, 3], "sold")
    assert got == [Recipient(1, "sold"), Recipient(2, "won"), Recipient(3, "lost"), Recipient(4, "lost")]


def test_close_recipients_unsold_every_bidder_lost() -> None:
    got = rules.close_recipients(1, None, [2, 3], "unsold")
    assert got == [Recipient(1, "unsold"), Recipient(2, "lost"), Recipient(3, "lost")]
    assert rules.close_recipients(1, None, [], "unsold") == [Recipient(1, "unsold")]


def test_other_parties() -> None:
    assert rules.other_parties(10, 20, 10) == [20]
    assert rules.other_parties(10, 20, 20) == [10]
    assert rules.other_parties(10, 20, None) == [10, 20]  # the system (auto-confirm)
    assert rules.other_parties(10, 20, 99) == [10, 20]    # an admin


def test_ending_soon_window() -> None:
    lead = timedelta(hours=1)
    ends = T + timedelta(minutes=30)
    assert rules.ending_soon_due(ends, T, lead)
    assert not rules.ending_soon_due(T + timedelta(hours=2), T, lead)
    assert rules.ending_soon_due(T + lead, T, lead)  # exactly one hour before
    assert not rules.ending_soon_due(T, T, lead)  # over


def test_saved_search_hourly_limit() -> None:
    assert rules.saved_search_may_notify(None, T)
    assert not rules.saved_search_may_notify(T - timedelta(minutes=59), T)
    assert rules.saved_search_may_notify(T - timedelta(hours=1), T)


def test_parse_email_settings() -> None:
    assert rules.parse_email_settings({"email": {"won": False, "outbid": True}}) == {"won": False, "outbid": True}
    assert rules.parse_email_settings({"email": {}}) == {}
    for bad in ({"email": {"nope": True}}, {"email": {"won": 1}}, {"email": []}, {}, [], None):
        with pytest.raises(rules.SettingsError):
            rules.parse_email_settings(bad)
    assert rules.email_settings({"won": False})["won"] is False
    assert rules.email_settings({})["outbid"] is True


def test_parse_search() -> None:
    q = rules.parse_search({"q": "  camera ", "category_id": "3", "mode": "auction", "max_price": 500})
    assert q == rules.SearchQuery("camera", 3, "auction", 500)
    assert rules.parse_search({}) == rules.SearchQuery()
    assert rules.parse_search({"mode": "", "max_price": ""}) == rules.SearchQuery()
    for bad in ({"mode": "swap"}, {"max_price": -1}, {"max_price": True}, {"category_id": "x"}, {"q": 3},
                {"q": "x" * 201}, {"max_price": 1.5}):
        with pytest.raises(rules.SearchError):
            rules.parse_search(bad)


def test_search_url_and_title() -> None:
    q = rules.SearchQuery("film camera", None, "fixed", 300)
    assert rules.search_url(q) == "/search?q=film+camera&mode=fixed&max_price=300"
    assert rules.search_url(rules.SearchQuery()) == "/search"
    assert rules.saved_search_title(q, 1) == "1 new listing for your search “film camera”, fixed price, ≤ 300 coins"
    assert rules.saved_search_title(rules.SearchQuery(), 3).startswith("3 new listings for your search all items")
