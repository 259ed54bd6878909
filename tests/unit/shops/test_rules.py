"""Shop subscription rules with the clock passed in (docs/rules.md §6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.settings import DEFAULT_PLANS
from marketplace.shops import rules

BASIC, PRO = DEFAULT_PLANS
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SEC = timedelta(seconds=1)


def sub(**kw: object) -> rules.Subscription:
    base: dict[str, object] = {"plan": "basic", "status": "active", "auto_renew": True,
                               "paid_until": T0 + 30 * DAY, "period_started_at": T0}
    base.update(kw)
    return rules.Subscription(**base)  # type: ignore[arg-type]


# --- due steps and their boundaries -----------------------------------------------------------------------------


def test_active_shop_is_not_due_before_paid_until() -> None:
    assert rules.due_step(sub(), T0 + 30 * DAY - SEC, 7) is None


def test_active_shop_with_auto_renew_is_due_for_renewal_exactly_at_paid_until() -> None:
    assert rules.due_step(sub(), T0 + 30 * DAY, 7) == "renew"


def test_active_shop_without_auto_renew_goes_to_grace_at_paid_until() -> None:
    assert rules.due_step(sub(auto_renew=False), T0 + 30 * DAY, 7) == "grace"
    assert rules.due_step(sub(auto_renew=False), T0 + 30 * DAY - SEC, 7) is None


def test_grace_lasts_seven_days_from_paid_until_then_suspends() -> None:
    s = sub(status="grace")
    assert rules.due_step(s, T0 + 37 * DAY - SEC, 7) is None
    assert rules.due_step(s, T0 + 37 * DAY, 7) == "suspend"
    assert rules.grace_ends_at(s, 7) == T0 + 37 * DAY


def test_suspended_shop_is_never_due() -> None:
    assert rules.due_step(sub(status="suspended"), T0 + 400 * DAY, 7) is None


def test_renewal_continues_the_cycle_and_restarts_the_quota_period() -> None:
    renewed = rules.renewed(sub(), BASIC, T0 + 30 * DAY + timedelta(hours=1))
    assert renewed.status == "active"
    assert renewed.paid_until == T0 + 60 * DAY  # from the old paid_until, not from the late job run
    assert renewed.period_started_at == T0 + 30 * DAY


def test_renewal_applies_a_pending_downgrade() -> None:
    s = sub(plan="pro", next_plan="basic")
    assert rules.renewal_plan(s) == "basic"
    renewed = rules.renewed(s, BASIC, T0 + 30 * DAY)
    assert (renewed.plan, renewed.next_plan) == ("basic", None)


def test_renewal_after_a_job_outage_longer_than_a_period_starts_now() -> None:
    late = T0 + 70 * DAY
    renewed = rules.renewed(sub(), BASIC, late)
    assert renewed.paid_until == late + 30 * DAY
    assert renewed.period_started_at == late


def test_grace_and_suspension_keep_the_dates() -> None:
    s = sub()
    assert rules.to_grace(s) == sub(status="grace")
    assert rules.to_suspended(rules.to_grace(s)) == sub(status="suspended")


def test_paying_reactivates_a_suspended_shop_from_now() -> None:
    now = T0 + 50 * DAY
    back = rules.manually_renewed(sub(status="suspended"), BASIC, now)
    assert (back.status, back.paid_until, back.period_started_at) == ("active", now + 30 * DAY, now)
    assert rules.due_step(back, now, 7) is None


def test_paying_in_grace_reactivates_from_now() -> None:
    now = T0 + 32 * DAY
    back = rules.manually_renewed(sub(status="grace"), BASIC, now)
    assert (back.status, back.paid_until, back.period_started_at) == ("active", now + 30 * DAY, now)


def test_manual_renewal_of_an_active_shop_extends_paid_until() -> None:
    now = T0 + 10 * DAY
    more = rules.manually_renewed(sub(), BASIC, now)
    assert (more.status, more.paid_until, more.period_started_at) == ("active", T0 + 60 * DAY, T0)


def test_manual_renewal_exactly_at_paid_until_starts_from_now() -> None:
    now = T0 + 30 * DAY
    assert rules.manually_renewed(sub(), BASIC, now).paid_until == now + 30 * DAY


# --- proration and plan changes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("left", "cost"), [
    (30 * DAY, 200), (15 * DAY, 100), (14 * DAY + SEC, 100), (14 * DAY, 94), (DAY, 7), (SEC, 7), (timedelta(0), 0),
])
def test_upgrade_cost_is_the_difference_for_the_remaining_days_rounded_up(left: timedelta, cost: int) -> None:
    now = T0 + 30 * DAY - left
    assert rules.proration(BASIC, PRO, T0 + 30 * DAY, now) == cost


def test_remaining_days_counts_a_started_day_as_whole() -> None:
    assert rules.remaining_days(T0 + 2 * DAY, T0 + DAY + SEC) == 1
    assert rules.remaining_days(T0 + 2 * DAY, T0 + DAY - SEC) == 2
    assert rules.remaining_days(T0, T0 + DAY) == 0


def test_upgrade_takes_effect_at_once_and_is_charged() -> None:
    change = rules.change_plan(sub(), BASIC, PRO, T0 + 15 * DAY)
    assert (change.kind, change.charge, change.subscription.plan) == ("upgrade", 100, "pro")
    assert change.subscription.paid_until == T0 + 30 * DAY


def test_downgrade_waits_for_the_next_renewal() -> None:
    change = rules.change_plan(sub(plan="pro"), PRO, BASIC, T0 + 15 * DAY)
    assert (change.kind, change.charge) == ("downgrade", 0)
    assert (change.subscription.plan, change.subscription.next_plan) == ("pro", "basic")


def test_choosing_the_current_plan_cancels_a_pending_downgrade() -> None:
    change = rules.change_plan(sub(plan="pro", next_plan="basic"), PRO, PRO, T0)
    assert (change.kind, change.subscription.next_plan) == ("cancel_downgrade", None)
    assert rules.change_plan(sub(), BASIC, BASIC, T0).kind == "none"


def test_upgrade_cancels_a_pending_downgrade_of_a_lapsed_shop_for_free() -> None:
    change = rules.change_plan(sub(status="grace"), BASIC, PRO, T0 + 31 * DAY)
    assert (change.kind, change.charge, change.subscription.plan) == ("switch", 0, "pro")


# --- quota periods ----------------------------------------------------------------------------------------------


def test_quota_period_is_the_current_thirty_day_window() -> None:
    assert rules.quota_period_start(T0, 30, T0) == T0
    assert rules.quota_period_start(T0, 30, T0 + 30 * DAY - SEC) == T0
    assert rules.quota_period_start(T0, 30, T0 + 30 * DAY) == T0 + 30 * DAY
    assert rules.quota_period_start(T0, 30, T0 + 75 * DAY) == T0 + 60 * DAY
    assert rules.quota_period_start(T0, 30, T0 - DAY) == T0


def test_free_remaining_never_negative() -> None:
    assert rules.free_remaining(50, 0) == 50
    assert rules.free_remaining(50, 49) == 1
    assert rules.free_remaining(50, 60) == 0


# --- names and slugs --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["abc", "carols-vintage", "a1-b2", "x" * 60, "shop-12"])
def test_valid_slugs(slug: str) -> None:
    assert rules.is_valid_slug(slug)


@pytest.mark.parametrize("slug", ["ab", "x" * 61, "Abc", "a b", "-abc", "abc-", "a--b", "中文店", "ab_c", "a.bc", ""])
def test_invalid_slugs(slug: str) -> None:
    assert not rules.is_valid_slug(slug)


@pytest.mark.parametrize(("name", "slug"), [
    ("Carol's Vintage 卡罗古董店", "carols-vintage"),
    ("  Hello   World!! ", "hello-world"),
    ("Café Crème", "cafe-creme"),
    ("卡罗古董店", None),
    ("店 A", None),
    ("店 AB1", "ab1"),
    ("a" * 80, "a" * 60),
])
def test_slug_from_name(name: str, slug: str | None) -> None:
    assert rules.slug_from_name(name) == slug


def test_id_slug_and_suffix_fit_the_limit() -> None:
    assert rules.id_slug(42) == "shop-42"
    assert rules.with_suffix("x" * 60, 12) == "x" * 57 + "-12"
    assert rules.is_valid_slug(rules.with_suffix("ab-" + "x" * 57, 3))


def test_clean_name() -> None:
    assert rules.clean_name("  Carol's   Vintage ") == "Carol's Vintage"
    assert rules.clean_name("") is None
    assert rules.clean_name("x" * 61) is None
    assert rules.clean_name("bad\x00name") is None


def test_manual_renewal_of_a_paid_up_shop_keeps_a_pending_downgrade() -> None:
    s = sub(plan="pro", next_plan="basic")
    now = T0 + 10 * DAY
    assert rules.manual_renewal_plan(s, now) == "pro"
    more = rules.manually_renewed(s, PRO, now)
    assert (more.plan, more.next_plan, more.paid_until) == ("pro", "basic", T0 + 60 * DAY)


def test_reactivation_applies_a_pending_downgrade() -> None:
    s = sub(plan="pro", next_plan="basic", status="suspended")
    now = T0 + 45 * DAY
    assert rules.manual_renewal_plan(s, now) == "basic"
    back = rules.manually_renewed(s, BASIC, now)
    assert (back.plan, back.next_plan, back.status) == ("basic", None, "active")
