"""Paid-shop arithmetic (docs/rules.md §6): subscription transitions, proration, quota periods, slugs.

Pure: no I/O, the clock is passed in. The service layer loads and locks the shop row, asks these functions what
the next state is, moves the coins through the ledger and writes the result.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from marketplace.settings import ShopPlan

DAY = timedelta(days=1)
SLUG_MIN, SLUG_MAX = 3, 60
NAME_MAX = 60
DESCRIPTION_MAX = 5000
_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")

Status = Literal["active", "grace", "suspended"]
Step = Literal["renew", "grace", "suspend"]


@dataclass(frozen=True, slots=True)
class Subscription:
    """The money-relevant state of a shop row."""

    plan: str
    status: str
    auto_renew: bool
    paid_until: datetime
    period_started_at: datetime
    next_plan: str | None = None


# --- transitions ------------------------------------------------------------------------------------------------


def grace_ends_at(sub: Subscription, grace_days: int) -> datetime:
    return sub.paid_until + timedelta(days=grace_days)


def due_step(sub: Subscription, now: datetime, grace_days: int) -> Step | None:
    """What the renewal job must do with this shop now, if anything.

    ``active`` is paid *until* ``paid_until`` (exclusive): at exactly ``paid_until`` the shop is due. With
    auto-renew on the job tries to renew (and falls back to grace when the owner cannot pay); otherwise it goes
    straight to grace. ``grace`` lasts ``grace_days`` from ``paid_until``; at exactly its end the shop is
    suspended. A suspended shop stays suspended until its owner pays (:func:`reactivated`).
    """
    if sub.status == "active" and now >= sub.paid_until:
        return "renew" if sub.auto_renew else "grace"
    if sub.status == "grace" and now >= grace_ends_at(sub, grace_days):
        return "suspend"
    return None


def renewal_plan(sub: Subscription) -> str:
    """The plan a renewal charges and switches to: a pending downgrade takes effect here."""
    return sub.next_plan or sub.plan


def renewed(sub: Subscription, plan: ShopPlan, now: datetime) -> Subscription:
    """Automatic renewal at ``paid_until``: the new period follows the old one without a gap (a job run a little
    late does not shift the billing cycle), and the free-listing quota restarts at the old ``paid_until``.

    If the job was down for more than a whole period, the new period starts now instead: one payment buys one
    period of service from now, never periods that already passed unnoticed.
    """
    start = sub.paid_until
    period = timedelta(days=plan.period_days)
    if start + period <= now:
        start = now
    return replace(sub, plan=plan.code, next_plan=None, status="active", paid_until=start + period,
                   period_started_at=start)


def to_grace(sub: Subscription) -> Subscription:
    return replace(sub, status="grace")


def to_suspended(sub: Subscription) -> Subscription:
    return replace(sub, status="suspended")


def manually_renewed(sub: Subscription, plan: ShopPlan, now: datetime) -> Subscription:
    """The owner pays one period of ``plan`` by hand (``POST /shops/{slug}/renew``).

    The period is added to ``max(now, paid_until)``: an active shop keeps the days it already paid for, a shop in
    grace or suspended restarts from now (the lapsed days are not billed). A lapsed shop also starts a new quota
    period now; an active one keeps its period (the quota resets on the 30-day boundaries, see
    :func:`quota_period_start`).
    """
    if _paid_up(sub, now):
        return replace(sub, paid_until=sub.paid_until + timedelta(days=plan.period_days))
    return reactivated(sub, plan, now)


def manual_renewal_plan(sub: Subscription, now: datetime) -> str:
    """The plan a manual payment buys: a paid-up shop extends its current plan (a pending downgrade still waits
    for the next automatic renewal); a lapsed shop starts a new period, so a pending downgrade applies now."""
    return sub.plan if _paid_up(sub, now) else renewal_plan(sub)


def _paid_up(sub: Subscription, now: datetime) -> bool:
    return sub.status == "active" and sub.paid_until > now


def reactivated(sub: Subscription, plan: ShopPlan, now: datetime) -> Subscription:
    return replace(sub, plan=plan.code, next_plan=None, status="active",
                   paid_until=now + timedelta(days=plan.period_days), period_started_at=now)


# --- plan changes -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanChange:
    """The outcome of asking for another plan: the new state and the coins to charge now (0 for a downgrade)."""

    subscription: Subscription
    charge: int
    kind: Literal["none", "upgrade", "downgrade", "cancel_downgrade", "switch"]


def remaining_days(paid_until: datetime, now: datetime) -> int:
    """Whole days left in the paid period, a started day counting as a full one (ceil)."""
    seconds = (paid_until - now).total_seconds()
    return max(0, math.ceil(seconds / DAY.total_seconds()))


def proration(old: ShopPlan, new: ShopPlan, paid_until: datetime, now: datetime) -> int:
    """Coins an upgrade costs now: the price difference for the remaining whole days (ceil), rounded up to a
    whole coin, never more than the full difference. Example: basic→pro with 15 of 30 days left costs 100."""
    diff = new.price - old.price
    if diff <= 0:
        return 0
    days = min(remaining_days(paid_until, now), new.period_days)
    return math.ceil(diff * days / new.period_days)


def change_plan(sub: Subscription, current: ShopPlan, wanted: ShopPlan, now: datetime) -> PlanChange:
    """Upgrade at once (prorated charge), downgrade at the next renewal (``next_plan``).

    Asking for the current plan cancels a pending downgrade. A shop in grace or suspended switches plan at once
    for free: it is not paid up, and the payment that reactivates it charges the new plan's full price.
    """
    if wanted.code == sub.plan:
        if sub.next_plan is not None:
            return PlanChange(replace(sub, next_plan=None), 0, "cancel_downgrade")
        return PlanChange(sub, 0, "none")
    if sub.status != "active":
        return PlanChange(replace(sub, plan=wanted.code, next_plan=None), 0, "switch")
    if wanted.price > current.price:
        return PlanChange(replace(sub, plan=wanted.code, next_plan=None),
                          proration(current, wanted, sub.paid_until, now), "upgrade")
    return PlanChange(replace(sub, next_plan=wanted.code), 0, "downgrade")


# --- free-listing quota -----------------------------------------------------------------------------------------


def quota_period_start(period_started_at: datetime, period_days: int, now: datetime) -> datetime:
    """Start of the quota period containing ``now``: the free listings reset every ``period_days`` from the
    start of the paid period, also when the owner pre-paid several periods by renewing early."""
    if now <= period_started_at or period_days <= 0:
        return period_started_at
    period = timedelta(days=period_days)
    elapsed = (now - period_started_at) // period
    return period_started_at + elapsed * period


def free_remaining(free_listings: int, used_in_period: int) -> int:
    return max(0, free_listings - used_in_period)


# --- names and slugs --------------------------------------------------------------------------------------------


def clean_name(name: str) -> str | None:
    """The shop name trimmed, or None when it is empty, too long or contains control characters."""
    text = " ".join(name.split())
    if not text or len(text) > NAME_MAX:
        return None
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        return None
    return text


def is_valid_slug(slug: str) -> bool:
    """``[a-z0-9-]``, 3–60 characters, starting and ending with a letter or digit, no ``--``."""
    return SLUG_MIN <= len(slug) <= SLUG_MAX and bool(_SLUG_RE.match(slug)) and "--" not in slug


def slug_from_name(name: str) -> str | None:
    """A readable slug from the ASCII part of a name (``"Carol's Vintage 卡罗古董店"`` → ``carols-vintage``), or
    None when too little ASCII is left (a Chinese-only name): the caller then uses :func:`id_slug`."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    ascii_text = re.sub(r"['’`]", "", ascii_text)
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:SLUG_MAX].strip("-")
    return slug if is_valid_slug(slug) else None


def id_slug(n: int) -> str:
    return f"shop-{n}"


def with_suffix(base: str, n: int) -> str:
    """``base-n``, cut so that the result still fits the 60-character limit."""
    suffix = f"-{n}"
    return base[: SLUG_MAX - len(suffix)].rstrip("-") + suffix


def find_plan(plans: Sequence[ShopPlan], code: str) -> ShopPlan | None:
    return next((p for p in plans if p.code == code), None)
