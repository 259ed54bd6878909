"""Pure auction rules (docs/rules.md §2, §3): increments, proxy price, minimum next bid, reserve, extension, close.

Everything here is a function of an :class:`AuctionState` (the auction columns of the listing row), a bid and a
clock passed in. No I/O: the bidding service locks the row, builds the state, asks :func:`place_bid` what happens,
and writes the answer back. Because the row carries only the leader's maximum and the highest other maximum
(``runner_up_max``), the rules never need the bids table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from marketplace.listings.rules import INCREMENT_BANDS as INCREMENT_BANDS
from marketplace.listings.rules import increment as increment
from marketplace.listings.rules import min_next_bid as min_next_bid
from marketplace.listings.rules import reserve_met as reserve_met

# The increment table and the displayed prices are the listing's (listings/rules.py): the listing object shows
# them; the bidding rules below build on them.


def proxy_price(start_price: int, reserve_price: int | None, leader_max: int, runner_up_max: int | None) -> int:
    """The current price from the two highest maxima (docs/rules.md §3 "Current price").

    One bidder: the start price. Two or more: ``min(M1, M2 + increment(M2))`` (equal maxima give M1). Then the
    reserve rule lifts the price to the reserve once M1 reaches it, and nothing goes below the start price.
    """
    price = start_price if runner_up_max is None else min(leader_max, runner_up_max + increment(runner_up_max))
    return _floor(price, start_price, reserve_price, leader_max)


def _floor(price: int, start_price: int, reserve_price: int | None, leader_max: int) -> int:
    if reserve_price is not None and leader_max >= reserve_price and price < reserve_price:
        price = reserve_price
    return max(price, start_price)


@dataclass(frozen=True, slots=True)
class AuctionState:
    """The auction columns of a listing row, as the rules see them."""

    start_price: int
    current_price: int
    ends_at: datetime
    seller_id: int
    reserve_price: int | None = None
    buy_now_price: int | None = None
    leader_id: int | None = None
    leader_max: int | None = None
    runner_up_max: int | None = None
    bid_count: int = 0
    auto_extend: bool = True
    status: str = "active"

    @property
    def min_next_bid(self) -> int:
        return min_next_bid(self.start_price, self.current_price, self.bid_count)

    @property
    def reserve_met(self) -> bool | None:
        return reserve_met(self.reserve_price, self.leader_max)

    @property
    def visible_buy_now_price(self) -> int | None:
        """Buy Now is offered only while there are no bids (docs/rules.md §3)."""
        return self.buy_now_price if self.bid_count == 0 else None

    def is_open(self, now: datetime) -> bool:
        return self.status == "active" and now < self.ends_at


class Refusal(StrEnum):
    """Why a bid was refused; each maps to one API status (see ``auctions.exceptions``)."""

    NOT_POSITIVE = "not_positive"  # 400
    NOT_ACTIVE = "not_active"  # 409
    ENDED = "ended"  # 409
    OWN_ITEM = "own_item"  # 403
    TOO_LOW = "too_low"  # 409
    NOT_ABOVE_OWN_MAX = "not_above_own_max"  # 409
    INSUFFICIENT_COINS = "insufficient_coins"  # 402


@dataclass(frozen=True, slots=True)
class HoldChange:
    """Coins to move for one user: ``amount`` > 0 goes available → held, < 0 goes held → available."""

    user_id: int
    amount: int


@dataclass(frozen=True, slots=True)
class BidOutcome:
    state: AuctionState
    accepted: bool
    refusal: Refusal | None = None
    holds: tuple[HoldChange, ...] = ()
    extended: bool = False
    # Coins the bidder needed but did not have (for the 402 detail).
    shortfall: int = 0


def _refuse(state: AuctionState, reason: Refusal, shortfall: int = 0) -> BidOutcome:
    return BidOutcome(state=state, accepted=False, refusal=reason, shortfall=shortfall)


def place_bid(
    state: AuctionState,
    bidder_id: int,
    amount: object,
    now: datetime,
    *,
    available: int,
    extension_window: timedelta = timedelta(minutes=5),
    extension: timedelta = timedelta(minutes=5),
) -> BidOutcome:
    """Apply one bid (a maximum) to ``state`` at ``now``; ``available`` is the bidder's available coins.

    Invariants kept (docs/rules.md §3): the leader holds the highest maximum (earlier wins ties); the price never
    exceeds the leader's maximum nor falls below the start price; only the leader holds coins, exactly their
    maximum; a refused bid changes nothing; only a bid that raises the price can extend the auction.
    """
    # bool is an int subclass in Python, but "true" is not a bid.
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        return _refuse(state, Refusal.NOT_POSITIVE)
    if state.status != "active":
        return _refuse(state, Refusal.NOT_ACTIVE)
    if now >= state.ends_at:
        return _refuse(state, Refusal.ENDED)
    if bidder_id == state.seller_id:
        return _refuse(state, Refusal.OWN_ITEM)

    holds: tuple[HoldChange, ...]
    if state.leader_id == bidder_id and state.leader_max is not None:
        # The leader raising their own maximum: any amount above it, no minimum-next-bid (they would otherwise be
        # forced to bid against themselves). The price stays, except that reaching the reserve lifts it there.
        if amount <= state.leader_max:
            return _refuse(state, Refusal.NOT_ABOVE_OWN_MAX)
        increase = amount - state.leader_max
        if available < increase:
            return _refuse(state, Refusal.INSUFFICIENT_COINS, increase - available)
        new_price = _floor(state.current_price, state.start_price, state.reserve_price, amount)
        new = replace(state, leader_max=amount, current_price=new_price, bid_count=state.bid_count + 1)
        holds = (HoldChange(bidder_id, increase),)
    else:
        if amount < state.min_next_bid:
            return _refuse(state, Refusal.TOO_LOW)
        if available < amount:
            return _refuse(state, Refusal.INSUFFICIENT_COINS, amount - available)
        if state.leader_id is None or state.leader_max is None:
            leader_id, leader_max, runner_up = bidder_id, amount, None
            holds = (HoldChange(bidder_id, amount),)
        elif amount > state.leader_max:
            # A new leader. The old leader's maximum was the highest among everyone else, so it becomes M2.
            leader_id, leader_max, runner_up = bidder_id, amount, state.leader_max
            holds = (HoldChange(bidder_id, amount), HoldChange(state.leader_id, -state.leader_max))
        else:
            # Not enough to lead (equal maxima: the earlier bid leads). No hold for a bid that does not lead.
            leader_id, leader_max = state.leader_id, state.leader_max
            runner_up = amount if state.runner_up_max is None else max(state.runner_up_max, amount)
            holds = ()
        new_price = proxy_price(state.start_price, state.reserve_price, leader_max, runner_up)
        new = replace(state, leader_id=leader_id, leader_max=leader_max, runner_up_max=runner_up,
                      current_price=new_price, bid_count=state.bid_count + 1)

    extended = False
    if (
        state.auto_extend
        and new.current_price > state.current_price
        and state.ends_at - now < extension_window
    ):
        # 自动延长 (automatic extension): added to the scheduled end, not to the bid time, so repeated extensions stack.
        new = replace(new, ends_at=state.ends_at + extension)
        extended = True
    return BidOutcome(state=new, accepted=True, holds=holds, extended=extended)


class CloseKind(StrEnum):
    SOLD = "sold"
    UNSOLD = "unsold"


@dataclass(frozen=True, slots=True)
class CloseOutcome:
    """What closing does: ``sold`` to ``winner_id`` at ``price`` (their hold ``winner_max`` settles), or
    ``unsold`` with ``release`` coins going back to ``release_to`` (the leader under an unmet reserve)."""

    kind: CloseKind
    price: int
    winner_id: int | None = None
    winner_max: int | None = None
    release_to: int | None = None
    release: int = 0


def close_outcome(state: AuctionState) -> CloseOutcome:
    """docs/rules.md §3 "Close": no bids or reserve not met → unsold (hold released); else sold at the current price."""
    if state.leader_id is None or state.leader_max is None:
        return CloseOutcome(CloseKind.UNSOLD, state.current_price)
    if state.reserve_met is False:
        return CloseOutcome(CloseKind.UNSOLD, state.current_price, release_to=state.leader_id,
                            release=state.leader_max)
    return CloseOutcome(CloseKind.SOLD, state.current_price, winner_id=state.leader_id,
                        winner_max=state.leader_max)


def is_due(state: AuctionState, now: datetime) -> bool:
    """The close transition's guard: still active and at or past its (possibly extended) end."""
    return state.status == "active" and state.ends_at <= now


class BuyNowRefusal(StrEnum):
    NOT_ACTIVE = "not_active"  # 409
    NO_BUY_NOW = "no_buy_now"  # 409
    BIDS_EXIST = "bids_exist"  # 409
    OWN_ITEM = "own_item"  # 403


def buy_now_refusal(state: AuctionState, buyer_id: int, now: datetime) -> BuyNowRefusal | None:
    """Buy Now is allowed only on an open auction with a Buy Now price, no bids yet, by someone not the seller."""
    if not state.is_open(now):
        return BuyNowRefusal.NOT_ACTIVE
    if state.buy_now_price is None:
        return BuyNowRefusal.NO_BUY_NOW
    if state.bid_count > 0:
        return BuyNowRefusal.BIDS_EXIST
    if buyer_id == state.seller_id:
        return BuyNowRefusal.OWN_ITEM
    return None
