"""Pure membership arithmetic (docs/rules.md §13–§15). No I/O: levels, points earned, redemption, expiry, lot
consumption, shipping and the checkout total. All amounts are integers (coins or points)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from marketplace.errors import Conflict, InvalidInput
from marketplace.i18n import _

COINS_PER_YUAN = 10


@dataclass(frozen=True, slots=True)
class Level:
    code: str
    min_spend: int  # coins: the level starts above the previous level's maximum
    max_spend: int | None  # coins, inclusive; None for the top level
    birthday_coupon_yuan: int
    member_day_percent: int
    free_shipping_yuan: int

    @property
    def free_shipping_coins(self) -> int:
        return self.free_shipping_yuan * COINS_PER_YUAN


# docs/rules.md §13 (seed 004), in coins (10 coins = 1 yuan).
LEVELS: tuple[Level, ...] = (
    Level("registered", 0, 0, 0, 0, 188),
    Level("J1", 1, 10_000, 20, 0, 188),
    Level("J2", 10_001, 80_000, 20, 10, 188),
    Level("J3", 80_001, 300_000, 30, 20, 188),
    Level("J4", 300_001, 800_000, 50, 30, 168),
    Level("J5", 800_001, None, 100, 40, 158),
)
LEVEL_CODES = tuple(level.code for level in LEVELS)

POINTS_PER_COIN = 50  # 500 points = 1 yuan = 10 coins
POINTS_STEP = 50
POINTS_MAX_PER_ORDER = 2_000
FEEDBACK_POINTS = 10
FEEDBACK_PHOTO_POINTS = 20


class InvalidPoints(InvalidInput):
    """A malformed redemption: not a whole multiple of 50, over the per-order cap or the items total (400)."""


class NotEnoughPoints(Conflict):
    """More points than the buyer has available (409: it conflicts with the balance, not with the request)."""


def level_for(spend: int) -> Level:
    """The level of an effective spend in coins: 0 → registered, 1–10,000 → J1, 10,001–80,000 → J2, …"""
    for level in LEVELS:
        if level.max_spend is None or spend <= level.max_spend:
            return level
    return LEVELS[-1]  # pragma: no cover - the last level has no maximum


def level_by_code(code: str) -> Level:
    return next(level for level in LEVELS if level.code == code)


def next_level(code: str) -> Level | None:
    index = LEVEL_CODES.index(code)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def progress_percent(spend: int, code: str) -> int:
    """How far between the current level's start and the next level's start (0–100), for the progress bar."""
    current, upcoming = level_by_code(code), next_level(code)
    if upcoming is None:
        return 100
    span = upcoming.min_spend - current.min_spend
    return max(0, min(100, (spend - current.min_spend) * 100 // span)) if span > 0 else 0


def round_half_up_div(numerator: int, denominator: int) -> int:
    """``round_half_up(numerator / denominator)`` for non-negative integers, without floats."""
    return (2 * numerator + denominator) // (2 * denominator)


def points_earned(coins_paid: int, *, plus: bool = False) -> int:
    """docs/rules.md §14: 1 point per yuan actually paid, rounded half up (1,235 coins = 123.5 yuan → 124); ×10
    for PLUS members."""
    points = round_half_up_div(max(coins_paid, 0), COINS_PER_YUAN)
    return points * 10 if plus else points


def feedback_points(with_photo: bool) -> int:
    return FEEDBACK_PHOTO_POINTS if with_photo else FEEDBACK_POINTS


def points_to_coins(points: int) -> int:
    return points // POINTS_PER_COIN


def check_redemption(points: object, *, items_total: int, available: int) -> int:
    """The points a buyer may redeem on one order (docs/rules.md §14), or a refusal.

    Multiples of 50, at most 2,000, never worth more than the items total (≤ items_total × 50), at most what the
    buyer has available. 0 (or None) redeems nothing.
    """
    if points is None:
        return 0
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise InvalidPoints("points must be a whole number of points, 0 or more.")
    if points == 0:
        return 0
    if points % POINTS_STEP:
        raise InvalidPoints("points are redeemed in multiples of %(points_step)s.", points_step=POINTS_STEP)
    if points > POINTS_MAX_PER_ORDER:
        raise InvalidPoints("At most %(points_max_per_order)s points per order.",
                            points_max_per_order=f"{POINTS_MAX_PER_ORDER:,}")
    if points > items_total * POINTS_PER_COIN:
        raise InvalidPoints("Points cannot be worth more than the items total.")
    if points > available:
        raise NotEnoughPoints("Not enough points: you have %(available)s available.", available=f"{available:,}")
    return points


def max_redeemable(items_total: int, available: int) -> int:
    """The largest valid redemption (for the buy form's input limit)."""
    cap = min(POINTS_MAX_PER_ORDER, items_total * POINTS_PER_COIN, max(available, 0))
    return cap - cap % POINTS_STEP


def expiry_for(credited_at: datetime, tz_name: str) -> datetime:
    """Points credited in calendar year Y (platform time zone) expire at 31 Dec of Y+1, 23:59:59 there; in UTC."""
    tz = ZoneInfo(tz_name)
    year = credited_at.astimezone(tz).year
    return datetime(year + 1, 12, 31, 23, 59, 59, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class LotBalance:
    lot_id: int
    remaining: int
    expires_at: datetime


def consume_oldest_first(lots: Sequence[LotBalance], points: int) -> list[tuple[int, int]]:
    """Which lots pay ``points``: the soonest-expiring first (then the oldest lot). ``[(lot_id, points)]``.

    Raises NotEnoughPoints when the lots do not hold enough (the ledger refuses too: this is the same invariant).
    """
    taken: list[tuple[int, int]] = []
    left = points
    for lot in sorted(lots, key=lambda lot: (lot.expires_at, lot.lot_id)):
        if left <= 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            taken.append((lot.lot_id, take))
            left -= take
    if left > 0:
        raise NotEnoughPoints("Not enough points: %(left)s more needed.", left=f"{left:,}")
    return taken


# --- member day and PLUS (docs/rules.md §15) ---------------------------------------------------------------------

SELLER_FUNDED = ("member_day", "plus_price")  # lower the items total itself; the others come from `marketing`


def is_member_day(now: datetime, tz_name: str, day: int) -> bool:
    """Day ``day`` of the month in the platform time zone: with Asia/Shanghai, day 10 runs from 16:00 UTC on
    the 9th to 15:59:59 UTC on the 10th."""
    return now.astimezone(ZoneInfo(tz_name)).day == day


def ceil_percent_off(price: int, percent: int) -> int:
    """``ceil(price × (1 − percent / 100))`` in integers (999 at 10 % off → 900; 1,001 → 901)."""
    return -(-price * (100 - percent) // 100)


@dataclass(frozen=True, slots=True)
class UnitPrice:
    unit: int
    kind: str | None  # None (list price), "member_day" or "plus_price"


def unit_price_for(price: int, *, level: str, plus: bool, member_day_listing: bool, member_day_today: bool,
                   plus_price: int | None) -> UnitPrice:
    """The lowest price that applies to this buyer now (docs/rules.md §15): the list price, the member-day price
    (J2–J5 on an opted-in listing on the member day) or the PLUS price (PLUS members) — never stacked."""
    best = UnitPrice(price, None)
    percent = level_by_code(level).member_day_percent
    if member_day_listing and member_day_today and percent > 0:
        candidate = ceil_percent_off(price, percent)
        if candidate < best.unit:
            best = UnitPrice(candidate, "member_day")
    if plus and plus_price is not None and plus_price < best.unit:
        best = UnitPrice(plus_price, "plus_price")
    return best


def check_plus_price(value: object, price: object) -> int | None:
    """A fixed-price listing's PLUS price: whole coins, at least 1 and below the price (or None)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput("The PLUS price must be a whole number of coins, 1 or more.")
    if isinstance(price, int) and value >= price:
        raise InvalidInput("The PLUS price must be lower than the price.")
    return value


def plus_until(start: datetime, days: int) -> datetime:
    return start + timedelta(days=days)


# --- birthday coupons (docs/rules.md §15) -------------------------------------------------------------------------

COUPON_MIN_ITEMS_TOTAL = 198 * COINS_PER_YUAN  # 1,980 coins
BIRTHDAY_CHANGE_DAYS = 365


def check_birthday(month: object, day: object) -> tuple[int, int]:
    """A (month, day) that exists in some year (29 February included)."""
    if isinstance(month, bool) or isinstance(day, bool) or not isinstance(month, int) or not isinstance(day, int):
        raise InvalidInput("month and day must be whole numbers.")
    if not 1 <= month <= 12:
        raise InvalidInput("month must be between 1 and 12.")
    days = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    if not 1 <= day <= days:
        raise InvalidInput("That month has %(days)s days.", days=days)
    return month, day


def birthday_coupon_value(level: str) -> int:
    """Coins: J1 200, J2 200, J3 300, J4 500, J5 1,000; 0 (no coupon) when registered."""
    return level_by_code(level).birthday_coupon_yuan * COINS_PER_YUAN


def month_bounds(now: datetime, tz_name: str) -> tuple[datetime, datetime]:
    """Start and end (last second, 23:59:59) of ``now``'s month in the platform time zone, in UTC."""
    tz = ZoneInfo(tz_name)
    local = now.astimezone(tz)
    start = datetime(local.year, local.month, 1, tzinfo=tz)
    nxt = datetime(local.year + (local.month == 12), local.month % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(UTC), (nxt - timedelta(seconds=1)).astimezone(UTC)


def local_month_year(now: datetime, tz_name: str) -> tuple[int, int]:
    local = now.astimezone(ZoneInfo(tz_name))
    return local.month, local.year


def coupon_refusal(*, min_items_total: int, valid_from: datetime, valid_until: datetime, used: bool,
                   items_total: int, points: int, now: datetime) -> str | None:
    """Why a coupon cannot go on this purchase (docs/rules.md §15), or None when it can. ``items_total`` is at the
    **list** price (a coupon replaces member-day and PLUS prices). The same order of checks as the purchase. The
    reason is in the current locale (it is shown on the checkout page only)."""
    if used:
        return _("already used")
    if now < valid_from:
        return _("valid from %(date)s", date=f"{valid_from:%Y-%m-%d}")
    if now > valid_until:
        return _("expired on %(date)s", date=f"{valid_until:%Y-%m-%d}")
    if points:
        return _("not combinable with points: set the points to 0 to use it")
    if items_total < min_items_total:
        return _("needs an items total of at least %(min)s coins (this one is %(total)s)",
                 min=f"{min_items_total:,}", total=f"{items_total:,}")
    return None


# --- growth score (docs/rules.md §16) -----------------------------------------------------------------------------


def growth_score(*, spend: int, active_days: int, feedback_given: int, feedback_photos: int,
                 disputes_lost: int) -> tuple[int, dict[str, int]]:
    """``floor(spend in yuan / 10)`` + 5 per active day (at most 365) + 10 per feedback given (+10 with a photo)
    − 200 per dispute lost: ``(total, parts)``. ``spend`` is in coins (10 coins = 1 yuan)."""
    parts = {
        "spend": max(spend, 0) // (COINS_PER_YUAN * 10),
        "active_days": 5 * min(max(active_days, 0), 365),
        "feedback": 10 * feedback_given + 10 * feedback_photos,
        "disputes_lost": -200 * disputes_lost,
    }
    return sum(parts.values()), parts


@dataclass(frozen=True, slots=True)
class Pricing:
    """How an order's total is made (docs/rules.md §15). ``items_total`` is at the price the buyer pays per unit
    (seller-funded member-day / PLUS prices already applied; their discounts are recorded, not platform-paid)."""

    items_total: int
    shipping_fee: int  # the listing's fee: what the seller receives for shipping
    points_used: int
    discounts: list[dict[str, object]] = field(default_factory=list)
    unit_price: int = 0
    coupon_id: int | None = None

    @property
    def points_discount(self) -> int:
        return points_to_coins(self.points_used)

    @property
    def free_shipping(self) -> bool:
        return any(d["kind"] == "free_shipping" for d in self.discounts)

    @property
    def platform_paid(self) -> int:
        """Coins the platform's marketing account pays into escrow (points, free shipping)."""
        return sum(int(str(d["coins"])) for d in self.discounts if d["kind"] not in SELLER_FUNDED)

    @property
    def total(self) -> int:
        """What the buyer pays: items + shipping − discounts."""
        return self.items_total + self.shipping_fee - self.platform_paid

    @property
    def seller_gross(self) -> int:
        """What escrow holds and the seller is paid on (before the final value fee)."""
        return self.items_total + self.shipping_fee


def price_order(*, items_total: int, shipping_fee: int, level: str, points: int = 0, plus: bool = False,
                unit: UnitPrice | None = None, list_price: int | None = None, quantity: int = 1,
                coupon: tuple[int, int] | None = None) -> Pricing:
    """The checkout arithmetic, once the redemption is validated (:func:`check_redemption`).

    ``unit`` (with ``list_price`` and ``quantity``): a seller-funded price (member day, PLUS price) replaces the
    list price, so ``items_total`` is ``quantity × unit.unit`` and the difference is recorded as a discount.
    Free shipping when the items total reaches the buyer's level threshold (188/188/188/188/168/158 yuan) or the
    buyer is PLUS; the platform then pays the seller the fee. Points: 50 = 1 coin, platform-funded.
    """
    discounts: list[dict[str, object]] = []
    unit_price = items_total // quantity if quantity else items_total
    if unit is not None and unit.kind is not None and list_price is not None:
        items_total, unit_price = unit.unit * quantity, unit.unit
        discounts.append({"kind": unit.kind, "coins": (list_price - unit.unit) * quantity})
    if points:
        discounts.append({"kind": "points", "coins": points_to_coins(points)})
    if coupon is not None:  # (id, value): never more than the items total
        discounts.append({"kind": "coupon", "coins": min(coupon[1], items_total)})
    if shipping_fee > 0 and (plus or items_total >= level_by_code(level).free_shipping_coins):
        discounts.append({"kind": "free_shipping", "coins": shipping_fee})
    return Pricing(items_total=items_total, shipping_fee=shipping_fee, points_used=points, discounts=discounts,
                   unit_price=unit_price, coupon_id=coupon[0] if coupon else None)


def check_shipping_fee(value: object) -> int:
    """A listing's shipping fee: whole coins, 0 or more (0 by default)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        raise InvalidInput("The shipping fee must be a whole number of coins between 0 and 100,000.")
    return value
