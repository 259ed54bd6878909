"""docs/rules.md §5 (final value fee) and §7 (orders): the pure state machine, the fee and feedback rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.orders import rules
from marketplace.orders.exceptions import FeedbackNotAllowed, InvalidOrderInput, InvalidTransition, WrongParty

# (action) -> (the one state it starts from, the state it leads to, who may take it): written out from docs/rules.md
# §7 independently of rules.TRANSITIONS, so a typo there fails here.
EXPECTED = {
    "ship": ("paid", "shipped", {"seller"}),
    "confirm": ("shipped", "completed", {"buyer"}),
    "cancel": ("paid", "cancelled", {"buyer", "seller"}),
    "dispute": ("shipped", "disputed", {"buyer"}),
    "release": ("disputed", "completed", {"admin"}),
    "refund": ("disputed", "refunded", {"admin"}),
    "auto_confirm": ("shipped", "completed", {"system"}),
}
CASES = [(s, a, who) for s in rules.STATUSES for a in rules.ACTIONS for who in rules.ACTORS]


@pytest.mark.parametrize(("status", "action", "actor"), CASES)
def test_every_state_action_actor(status: str, action: rules.Action, actor: rules.Actor) -> None:
    source, target, actors = EXPECTED[action]
    if actor not in actors:
        with pytest.raises(WrongParty):
            rules.transition(status, action, actor)
    elif status != source:
        with pytest.raises(InvalidTransition):
            rules.transition(status, action, actor)
    else:
        assert rules.transition(status, action, actor) == target


def test_status_codes_of_refusals() -> None:
    with pytest.raises(WrongParty) as wrong_party:
        rules.transition("paid", "ship", "buyer")
    with pytest.raises(InvalidTransition) as wrong_state:
        rules.transition("shipped", "cancel", "buyer")
    assert wrong_party.value.status_code == 403
    assert wrong_state.value.status_code == 409


def test_final_states_allow_nothing() -> None:
    for status in rules.FINAL_STATUSES:
        for actor in rules.ACTORS:
            assert rules.allowed_actions(status, actor) == []


@pytest.mark.parametrize(("status", "actor", "actions"), [
    ("paid", "seller", ["ship", "cancel"]),
    ("paid", "buyer", ["cancel"]),
    ("shipped", "buyer", ["confirm", "dispute"]),
    ("shipped", "seller", []),
    ("shipped", "system", ["auto_confirm"]),
    ("disputed", "admin", ["release", "refund"]),
    ("disputed", "buyer", []),
])
def test_allowed_actions(status: str, actor: rules.Actor, actions: list[str]) -> None:
    assert rules.allowed_actions(status, actor) == actions


@pytest.mark.parametrize(("total", "fee"), [
    (0, 0), (1, 1), (19, 1), (20, 1), (21, 2), (40, 2), (41, 3), (100, 5), (101, 6), (999, 50), (1000, 50),
    (1001, 51), (123_456_789, 6_172_840),
])
def test_final_value_fee_5_percent_rounded_up_min_1(total: int, fee: int) -> None:
    assert rules.final_value_fee(total, 5, 1) == fee


def test_fee_is_an_int_and_never_exceeds_the_total() -> None:
    assert isinstance(rules.final_value_fee(10**15 + 1, 5, 1), int)
    assert rules.final_value_fee(10**15 + 1, 5, 1) == 5 * 10**13 + 1
    assert rules.final_value_fee(3, 5, 10) == 3
    assert rules.final_value_fee(200, 5, 10) == 10
    assert rules.final_value_fee(100, 0, 0) == 0


def test_auto_confirm_deadline_is_inclusive() -> None:
    shipped = datetime(2026, 1, 1, 12, tzinfo=UTC)
    deadline = shipped + timedelta(days=10)
    assert rules.auto_confirm_at(shipped, 10) == deadline
    assert not rules.auto_confirm_due("shipped", shipped, deadline - timedelta(microseconds=1), 10)
    assert rules.auto_confirm_due("shipped", shipped, deadline, 10)
    assert rules.auto_confirm_due("shipped", shipped, deadline + timedelta(days=3), 10)
    for status in ("paid", "completed", "disputed", "cancelled", "refunded"):
        assert not rules.auto_confirm_due(status, shipped, deadline, 10)
    assert not rules.auto_confirm_due("shipped", None, deadline, 10)


def test_feedback_rules() -> None:
    rules.check_feedback("completed", "buyer", False, "positive")
    rules.check_feedback("completed", "seller", False, "negative")
    with pytest.raises(FeedbackNotAllowed):
        rules.check_feedback("completed", "buyer", True, "positive")
    rules.check_feedback("cancelled", "seller", False, "negative")  # docs/rules.md §19.1
    for status in ("paid", "shipped", "disputed", "refunded"):
        with pytest.raises(FeedbackNotAllowed):
            rules.check_feedback(status, "buyer", False, "neutral")
    with pytest.raises(WrongParty):
        rules.check_feedback("completed", "admin", False, "positive")
    with pytest.raises(InvalidOrderInput):
        rules.check_feedback("completed", "buyer", False, "great")


@pytest.mark.parametrize(("pos", "neu", "neg", "score", "percent"), [
    (0, 0, 0, 0, None), (0, 5, 0, 0, None), (3, 0, 0, 3, 100.0), (0, 0, 2, -2, 0.0), (2, 1, 1, 1, 66.7),
    (1, 3, 1, 0, 50.0),
    (2, 0, 1, 1, 66.7), (1, 0, 2, -1, 33.3), (199, 0, 1, 198, 99.5), (1999, 0, 1, 1998, 100.0),
    (1, 0, 7, -6, 12.5),
])
def test_feedback_summary(pos: int, neu: int, neg: int, score: int, percent: float | None) -> None:
    s = rules.FeedbackSummary(positive=pos, neutral=neu, negative=neg)
    assert s.score == score
    assert s.positive_percent == percent
