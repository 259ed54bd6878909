"""docs/rules.md §2–§3 as a table of hand-written proxy-bidding scenarios, plus Hypothesis invariants."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.auctions import rules
from marketplace.auctions.rules import AuctionState, CloseKind, HoldChange, Refusal

SELLER, A, B, C = 1, 2, 3, 4
END = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
RICH = 10**9


def auction(start: int = 10, reserve: int | None = None, buy_now: int | None = None, auto_extend: bool = True,
            **kw: object) -> AuctionState:
    return AuctionState(start_price=start, current_price=start, ends_at=END, seller_id=SELLER,
                        reserve_price=reserve, buy_now_price=buy_now, auto_extend=auto_extend, **kw)  # type: ignore[arg-type]


@dataclass
class Bid:
    bidder: int
    amount: object
    before_end: timedelta = timedelta(hours=1)  # when the bid arrives, counted back from ends_at
    available: int = RICH


def bid(bidder: int, amount: object, before_end: timedelta | float = 3600, available: int = RICH) -> Bid:
    if not isinstance(before_end, timedelta):
        before_end = timedelta(seconds=before_end)
    return Bid(bidder, amount, before_end, available)


@dataclass
class Expect:
    price: int
    leader: int | None
    accepted: bool = True
    refusal: Refusal | None = None
    leader_max: int | None = None
    runner_up: int | None = None
    holds: tuple[HoldChange, ...] | None = None
    extended: bool = False
    ends_at: datetime | None = None
    min_next: int | None = None
    reserve_met: bool | str | None = "skip"
    buy_now_visible: bool | None = None
    extra: dict[str, object] = field(default_factory=dict)


def run(state: AuctionState, bids: list[Bid]) -> tuple[AuctionState, rules.BidOutcome]:
    outcome: rules.BidOutcome | None = None
    for b in bids:
        now = state.ends_at - b.before_end
        outcome = rules.place_bid(state, b.bidder, b.amount, now, available=b.available)
        state = outcome.state
    assert outcome is not None
    return state, outcome


M = timedelta(minutes=1)
S = timedelta(seconds=1)

SCENARIOS: list[tuple[str, AuctionState, list[Bid], Expect]] = [
    # --- one bidder ------------------------------------------------------------------------------------------------
    ("first bid at start price", auction(10), [bid(A, 10)],
     Expect(10, A, leader_max=10, holds=(HoldChange(A, 10),), min_next=11)),
    ("one bidder with a high max pays the start price", auction(10), [bid(A, 500)],
     Expect(10, A, leader_max=500, holds=(HoldChange(A, 500),), min_next=11)),
    ("first bid below start refused", auction(10), [bid(A, 9)],
     Expect(10, None, accepted=False, refusal=Refusal.TOO_LOW, min_next=10)),
    # --- two bidders -----------------------------------------------------------------------------------------------
    ("second bidder below leader: price = M2 + increment", auction(10), [bid(A, 50), bid(B, 20)],
     Expect(21, A, leader_max=50, runner_up=20, holds=(), min_next=22)),
    ("second bidder close to leader: price capped at M1", auction(10), [bid(A, 50), bid(B, 50 - 0)],
     Expect(50, A, leader_max=50, runner_up=50, holds=())),
    ("equal maxima: earlier bid leads at M1", auction(10), [bid(A, 30), bid(B, 30)],
     Expect(30, A, runner_up=30, min_next=31)),
    ("new leader: old leader becomes M2", auction(10), [bid(A, 30), bid(B, 60)],
     Expect(31, B, leader_max=60, runner_up=30, holds=(HoldChange(B, 60), HoldChange(A, -30)))),
    ("new leader exactly one above", auction(10), [bid(A, 30), bid(B, 31)],
     Expect(31, B, leader_max=31, runner_up=30)),
    ("M2 + increment in the 100-499 band", auction(10), [bid(A, 1000), bid(B, 150)],
     Expect(155, A, runner_up=150, min_next=160)),
    ("increment band edge: M2 = 99 gives +1", auction(10), [bid(A, 1000), bid(B, 99)], Expect(100, A, min_next=105)),
    ("increment band edge: M2 = 100 gives +5", auction(10), [bid(A, 1000), bid(B, 100)], Expect(105, A)),
    ("500-999 band (+10)", auction(10), [bid(A, 5000), bid(B, 500)], Expect(510, A, min_next=520)),
    ("1,000-4,999 band (+25)", auction(10), [bid(A, 9000), bid(B, 1000)], Expect(1025, A, min_next=1050)),
    ("5,000-9,999 band (+50)", auction(10), [bid(A, 90000), bid(B, 5000)], Expect(5050, A, min_next=5100)),
    ("10,000-49,999 band (+100)", auction(10), [bid(A, 90000), bid(B, 10000)], Expect(10100, A, min_next=10200)),
    ("50,000 and up (+500)", auction(10), [bid(A, 90000), bid(B, 50000)], Expect(50500, A, min_next=51000)),
    ("three bidders: M2 is the highest of the others", auction(10), [bid(A, 100), bid(B, 40), bid(C, 70)],
     Expect(71, A, runner_up=70)),
    ("only each bidder's highest maximum counts", auction(10), [bid(A, 100), bid(B, 40), bid(B, 80)],
     Expect(81, A, runner_up=80)),
    ("outbid leader can come back", auction(10), [bid(A, 30), bid(B, 60), bid(A, 90)],
     Expect(61, A, leader_max=90, runner_up=60, holds=(HoldChange(A, 90), HoldChange(B, -60)))),
    # --- minimum next bid ------------------------------------------------------------------------------------------
    ("below minimum next bid refused", auction(10), [bid(A, 50), bid(B, 20), bid(C, 21)],
     Expect(21, A, accepted=False, refusal=Refusal.TOO_LOW)),
    ("exactly the minimum next bid accepted", auction(10), [bid(A, 50), bid(B, 20), bid(C, 22)],
     Expect(23, A, runner_up=22)),
    # --- leader raising --------------------------------------------------------------------------------------------
    ("leader raising keeps the price", auction(10), [bid(A, 50), bid(B, 20), bid(A, 51)],
     Expect(21, A, leader_max=51, holds=(HoldChange(A, 1),), min_next=22)),
    ("leader raising is not bound by the minimum next bid", auction(10), [bid(A, 50), bid(B, 49), bid(A, 51)],
     Expect(50, A, leader_max=51)),
    ("leader raising after a tie does not raise the price", auction(10), [bid(A, 30), bid(B, 30), bid(A, 500)],
     Expect(30, A, leader_max=500, holds=(HoldChange(A, 470),))),
    ("leader must raise above own max", auction(10), [bid(A, 50), bid(A, 50)],
     Expect(10, A, accepted=False, refusal=Refusal.NOT_ABOVE_OWN_MAX, leader_max=50)),
    ("leader raising needs only the increase in coins", auction(10), [bid(A, 50), bid(A, 80, available=30)],
     Expect(10, A, leader_max=80, holds=(HoldChange(A, 30),))),
    ("leader raising short of the increase", auction(10), [bid(A, 50), bid(A, 80, available=29)],
     Expect(10, A, accepted=False, refusal=Refusal.INSUFFICIENT_COINS, leader_max=50)),
    # --- reserve ---------------------------------------------------------------------------------------------------
    ("reserve met by a single bidder: price jumps to reserve", auction(10, reserve=200), [bid(A, 250)],
     Expect(200, A, reserve_met=True)),
    ("single bidder below reserve: start price, reserve not met", auction(10, reserve=200), [bid(A, 150)],
     Expect(10, A, reserve_met=False)),
    ("reserve not met with two bidders", auction(10, reserve=200), [bid(A, 150), bid(B, 100)],
     Expect(105, A, reserve_met=False)),
    ("reserve met by a new leader lifts the proxy price", auction(10, reserve=200),
     [bid(A, 150), bid(B, 100), bid(C, 300)], Expect(200, C, runner_up=150, reserve_met=True)),
    ("proxy price above reserve is kept", auction(10, reserve=200), [bid(A, 300), bid(B, 250)],
     Expect(255, A, reserve_met=True)),
    ("leader raising to the reserve lifts the price", auction(10, reserve=200), [bid(A, 150), bid(A, 200)],
     Expect(200, A, leader_max=200, reserve_met=True)),
    ("no reserve: reserve_met is null", auction(10), [bid(A, 50)], Expect(10, A, reserve_met=None)),
    # --- refusals --------------------------------------------------------------------------------------------------
    ("seller cannot bid", auction(10), [bid(SELLER, 100)],
     Expect(10, None, accepted=False, refusal=Refusal.OWN_ITEM)),
    ("zero is not a bid", auction(10), [bid(A, 0)], Expect(10, None, accepted=False, refusal=Refusal.NOT_POSITIVE)),
    ("negative is not a bid", auction(10), [bid(A, -5)],
     Expect(10, None, accepted=False, refusal=Refusal.NOT_POSITIVE)),
    ("a float is not a bid", auction(10), [bid(A, 10.5)],
     Expect(10, None, accepted=False, refusal=Refusal.NOT_POSITIVE)),
    ("a boolean is not a bid", auction(1), [bid(A, True)],
     Expect(1, None, accepted=False, refusal=Refusal.NOT_POSITIVE)),
    ("not enough available coins", auction(10), [bid(A, 100, available=99)],
     Expect(10, None, accepted=False, refusal=Refusal.INSUFFICIENT_COINS)),
    ("a non-leading bid still needs the coins", auction(10), [bid(A, 100), bid(B, 50, available=49)],
     Expect(10, A, accepted=False, refusal=Refusal.INSUFFICIENT_COINS)),
    ("a bid at ends_at is refused", auction(10), [bid(A, 10, before_end=0)],
     Expect(10, None, accepted=False, refusal=Refusal.ENDED)),
    ("a bid past ends_at is refused", auction(10), [bid(A, 10, before_end=-5)],
     Expect(10, None, accepted=False, refusal=Refusal.ENDED)),
    ("an auction that is not active refuses", auction(10, status="sold"), [bid(A, 10)],
     Expect(10, None, accepted=False, refusal=Refusal.NOT_ACTIVE)),
    # --- Buy Now ---------------------------------------------------------------------------------------------------
    ("Buy Now visible without bids", auction(10, buy_now=500), [bid(A, 5, before_end=3600)],
     Expect(10, None, accepted=False, refusal=Refusal.TOO_LOW, buy_now_visible=True)),
    ("Buy Now vanishes with the first bid", auction(10, buy_now=500), [bid(A, 10)],
     Expect(10, A, buy_now_visible=False)),
    # --- automatic extension ---------------------------------------------------------------------------------------
    ("price-raising bid 4 min before end extends by 5 min from the scheduled end", auction(10),
     [bid(A, 100), bid(B, 50, before_end=4 * M)],
     Expect(51, A, extended=True, ends_at=END + 5 * M)),
    ("exactly 5 min before end: no extension", auction(10), [bid(A, 100), bid(B, 50, before_end=5 * M)],
     Expect(51, A, extended=False, ends_at=END)),
    ("4:59 before end: extension", auction(10), [bid(A, 100), bid(B, 50, before_end=5 * M - S)],
     Expect(51, A, extended=True, ends_at=END + 5 * M)),
    ("1 second before end: extension", auction(10), [bid(A, 100), bid(B, 50, before_end=S)],
     Expect(51, A, extended=True, ends_at=END + 5 * M)),
    ("extensions repeat and stack on the scheduled end", auction(10),
     [bid(A, 100), bid(B, 50, before_end=1 * M), bid(C, 60, before_end=4 * M)],
     Expect(61, A, extended=True, ends_at=END + 10 * M)),
    ("auto-extend off: no extension", auction(10, auto_extend=False), [bid(A, 100), bid(B, 50, before_end=M)],
     Expect(51, A, extended=False, ends_at=END)),
    ("first bid at the start price never extends", auction(10), [bid(A, 100, before_end=M)],
     Expect(10, A, extended=False, ends_at=END)),
    ("leader raising never extends", auction(10), [bid(A, 100), bid(B, 50), bid(A, 200, before_end=M)],
     Expect(51, A, extended=False, ends_at=END)),
    ("a tie bid in the last minutes raises the price, so it extends", auction(10),
     [bid(A, 30), bid(B, 30, before_end=M)],
     Expect(30, A, extended=True, ends_at=END + 5 * M)),
    ("refused bid never extends", auction(10), [bid(A, 100), bid(B, 5, before_end=M)],
     Expect(10, A, accepted=False, refusal=Refusal.TOO_LOW, ends_at=END)),
    ("first bid meeting the reserve raises the price, so it extends", auction(10, reserve=50),
     [bid(A, 60, before_end=M)], Expect(50, A, extended=True, ends_at=END + 5 * M)),
]


@pytest.mark.parametrize(("name", "start", "bids", "expect"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_scenario(name: str, start: AuctionState, bids: list[Bid], expect: Expect) -> None:
    state, outcome = run(start, bids)
    assert outcome.accepted is expect.accepted, outcome
    assert outcome.refusal == expect.refusal
    assert state.current_price == expect.price
    assert state.leader_id == expect.leader
    if expect.leader_max is not None:
        assert state.leader_max == expect.leader_max
    if expect.runner_up is not None:
        assert state.runner_up_max == expect.runner_up
    if expect.holds is not None:
        assert outcome.holds == expect.holds
    assert outcome.extended is expect.extended
    if expect.ends_at is not None:
        assert state.ends_at == expect.ends_at
    if expect.min_next is not None:
        assert state.min_next_bid == expect.min_next
    if expect.reserve_met != "skip":
        assert state.reserve_met is expect.reserve_met
    if expect.buy_now_visible is not None:
        assert (state.visible_buy_now_price is not None) is expect.buy_now_visible
    if not outcome.accepted:
        # A refused bid changes nothing at all.
        before, _ = run(start, bids[:-1]) if len(bids) > 1 else (start, None)
        assert state == before


def test_at_least_thirty_scenarios() -> None:
    assert len(SCENARIOS) >= 30


@pytest.mark.parametrize(("price", "step"), [(0, 1), (99, 1), (100, 5), (499, 5), (500, 10), (999, 10), (1000, 25),
                                             (4999, 25), (5000, 50), (9999, 50), (10000, 100), (49999, 100),
                                             (50000, 500), (10**7, 500)])
def test_increment_table(price: int, step: int) -> None:
    assert rules.increment(price) == step


# --- close -------------------------------------------------------------------------------------------------------


def test_close_without_bids_is_unsold() -> None:
    out = rules.close_outcome(auction(10))
    assert out.kind is CloseKind.UNSOLD
    assert out.release == 0


def test_close_reserve_not_met_releases_the_hold() -> None:
    state, _ = run(auction(10, reserve=200), [bid(A, 150)])
    out = rules.close_outcome(state)
    assert (out.kind, out.release_to, out.release) == (CloseKind.UNSOLD, A, 150)


def test_close_sold_to_leader_at_current_price() -> None:
    state, _ = run(auction(10, reserve=100), [bid(A, 300), bid(B, 120)])
    out = rules.close_outcome(state)
    assert (out.kind, out.winner_id, out.price, out.winner_max) == (CloseKind.SOLD, A, 125, 300)


def test_is_due_only_at_or_after_end_and_while_active() -> None:
    s = auction(10)
    assert not rules.is_due(s, END - S)
    assert rules.is_due(s, END)
    assert not rules.is_due(replace(s, status="sold"), END + M)


def test_buy_now_rules() -> None:
    s = auction(10, buy_now=500)
    assert rules.buy_now_refusal(s, A, END - M) is None
    assert rules.buy_now_refusal(s, SELLER, END - M) is rules.BuyNowRefusal.OWN_ITEM
    assert rules.buy_now_refusal(s, A, END) is rules.BuyNowRefusal.NOT_ACTIVE
    assert rules.buy_now_refusal(auction(10), A, END - M) is rules.BuyNowRefusal.NO_BUY_NOW
    with_bid, _ = run(s, [bid(B, 10)])
    assert rules.buy_now_refusal(with_bid, A, END - M) is rules.BuyNowRefusal.BIDS_EXIST


# --- Hypothesis invariants ------------------------------------------------------------------------------------------

bid_strategy = st.tuples(
    st.sampled_from([A, B, C, SELLER]),
    st.integers(min_value=-5, max_value=60_000),
    st.integers(min_value=-10, max_value=900),  # seconds before the end
)


@settings(max_examples=300, deadline=None)
@given(
    start=st.integers(min_value=1, max_value=2_000),
    reserve=st.one_of(st.none(), st.integers(min_value=1, max_value=20_000)),
    auto_extend=st.booleans(),
    bids=st.lists(bid_strategy, max_size=25),
)
def test_invariants(start: int, reserve: int | None, auto_extend: bool, bids: list[tuple[int, int, int]]) -> None:
    state = auction(start, reserve=reserve, auto_extend=auto_extend)
    maxima: dict[int, int] = {}
    first_at: dict[int, int] = {}
    held: dict[int, int] = {}
    for i, (who, amount, before) in enumerate(bids):
        now = state.ends_at - timedelta(seconds=before)
        old = state
        out = rules.place_bid(state, who, amount, now, available=RICH)
        if not out.accepted:
            assert out.state == old
            assert not out.extended
            continue
        state = out.state
        if amount > maxima.get(who, 0):
            maxima[who] = amount
            first_at[who] = i
        for h in out.holds:
            held[h.user_id] = held.get(h.user_id, 0) + h.amount
        assert state.leader_max is not None
        # price never above the leader's maximum (except the start floor, which the first bid must meet)...
        assert state.current_price <= state.leader_max
        # ...and never below the start price
        assert state.current_price >= state.start_price
        # the leader has the highest maximum; equal maxima: the earlier one leads
        best = max(maxima.values())
        leaders = [u for u, m in maxima.items() if m == best]
        assert state.leader_id == min(leaders, key=lambda u: first_at[u])
        assert state.leader_max == best
        # only the leader holds coins, exactly their maximum
        assert {u: v for u, v in held.items() if v} == {state.leader_id: state.leader_max}
        # extension only when the price rose, by exactly the extension, and only with auto-extend on
        if out.extended:
            assert state.current_price > old.current_price
            assert auto_extend
            assert state.ends_at == old.ends_at + timedelta(minutes=5)
        else:
            assert state.ends_at == old.ends_at
        # price is monotonic
        assert state.current_price >= old.current_price
