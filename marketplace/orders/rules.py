"""Pure order rules (docs/rules.md §5 final value fee, §7 orders): the state machine, the fee, feedback. No I/O.

Who may act is decided before the state: a seller who tries to confirm gets "not yours to do" (403) whatever the
state, and only the right party learns that the state is wrong (409). The services hold the order row lock when
they call :func:`transition`, so the state it sees is the state they write over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from marketplace.i18n import N_, Text
from marketplace.orders.exceptions import FeedbackNotAllowed, InvalidOrderInput, InvalidTransition, WrongParty

Status = Literal["paid", "shipped", "completed", "cancelled", "disputed", "refunded"]
Action = Literal["ship", "confirm", "cancel", "dispute", "release", "refund", "auto_confirm"]
Actor = Literal["buyer", "seller", "admin", "system"]

STATUSES: tuple[Status, ...] = ("paid", "shipped", "completed", "cancelled", "disputed", "refunded")
ACTIONS: tuple[Action, ...] = ("ship", "confirm", "cancel", "dispute", "release", "refund", "auto_confirm")
ACTORS: tuple[Actor, ...] = ("buyer", "seller", "admin", "system")
FINAL_STATUSES: frozenset[str] = frozenset({"completed", "cancelled", "refunded"})
RATINGS: tuple[str, ...] = ("positive", "neutral", "negative")


@dataclass(frozen=True, slots=True)
class Transition:
    action: Action
    source: Status
    target: Status
    actors: frozenset[Actor]


# The whole machine. "release" and "refund" are the two outcomes of an admin's dispute resolution.
TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        Transition("ship", "paid", "shipped", frozenset({"seller"})),
        Transition("confirm", "shipped", "completed", frozenset({"buyer"})),
        Transition("cancel", "paid", "cancelled", frozenset({"buyer", "seller"})),
        Transition("dispute", "shipped", "disputed", frozenset({"buyer"})),
        Transition("release", "disputed", "completed", frozenset({"admin"})),
        Transition("refund", "disputed", "refunded", frozenset({"admin"})),
        Transition("auto_confirm", "shipped", "completed", frozenset({"system"})),
    )
}


def transition(status: str, action: Action, actor: Actor) -> Status:
    """The status after ``actor`` takes ``action`` on an order in ``status``.

    Raises ``WrongParty`` (403) when this actor may never take this action, ``InvalidTransition`` (409) when the
    actor may but the order is not in the state the action starts from.
    """
    t = TRANSITIONS[action]
    if actor not in t.actors:
        raise WrongParty("Only the %(actors)s may %(action)s an order.",
                         actors=' or '.join(sorted(t.actors)), action=action.replace('_', ' '))
    if status != t.source:
        raise InvalidTransition("Cannot %(action)s an order that is %(status)s.",
                                action=action.replace('_', ' '), status=status)
    return t.target


def allowed_actions(status: str, actor: Actor) -> list[Action]:
    """The actions ``actor`` can take now (what the pages offer as buttons)."""
    return [t.action for t in TRANSITIONS.values() if t.source == status and actor in t.actors]


def final_value_fee(total: int, percent: int, minimum: int) -> int:
    """docs/rules.md §5: ``percent`` % of the sale total, rounded up, at least ``minimum`` coins.

    Integer arithmetic only (ceil(a/b) = -(-a // b)). A sale of 0 coins pays no fee, and the fee never exceeds
    the total: the seller is never asked to pay in more than escrow holds (docs/decisions-orders.md).
    """
    if total <= 0:
        return 0
    fee = max(-(-total * percent // 100), minimum)
    return min(fee, total)


def auto_confirm_at(shipped_at: datetime, days: int) -> datetime:
    return shipped_at + timedelta(days=days)


def auto_confirm_due(status: str, shipped_at: datetime | None, now: datetime, days: int) -> bool:
    """A shipped order confirms itself once ``days`` days have passed since shipping (docs/rules.md §7)."""
    return status == "shipped" and shipped_at is not None and now >= auto_confirm_at(shipped_at, days)


def check_feedback(status: str, actor: Actor, already_left: bool, rating: str) -> None:
    """One rating per side per completed order."""
    if actor not in ("buyer", "seller"):
        raise WrongParty("Only the buyer or the seller may leave feedback.")
    if rating not in RATINGS:
        raise InvalidOrderInput("rating must be one of %(choices)s.", choices=', '.join(RATINGS))
    if status not in ("completed", "cancelled"):  # docs/rules.md §19.1: a cancelled order can be rated too
        raise FeedbackNotAllowed("Feedback can be left only on a completed or cancelled order.")
    if already_left:
        raise FeedbackNotAllowed("You have already left feedback for this order.")


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    positive: int
    neutral: int
    negative: int

    @property
    def score(self) -> int:
        return self.positive - self.negative

    @property
    def positive_percent(self) -> float | None:
        """positive / (positive + negative) × 100, to one decimal (half up); None when nobody rated ±."""
        rated = self.positive + self.negative
        if rated == 0:
            return None
        tenths = (self.positive * 1000 * 2 + rated) // (rated * 2)  # round half up, in integers
        return tenths / 10


# --- non-paying winners and cancelling sellers (docs/rules.md §19.1) --------------------------------------------

STRIKE_LIMIT = 3
STRIKE_WINDOW = timedelta(days=365)
STRIKE_BLOCK = timedelta(days=30)
CANCEL_REASON_MAX = 500


def bidding_blocked_until(strike_times: list[datetime], now: datetime, *, limit: int = STRIKE_LIMIT,
                          window: timedelta = STRIKE_WINDOW, block: timedelta = STRIKE_BLOCK) -> datetime | None:
    """When a buyer with these (buyer-side) strikes may bid again, or None when they may bid now.

    A strike that is the ``limit``-th within ``window`` (itself included, counting back from it) blocks bidding
    for ``block`` from its time. The block still running now with the latest end wins.
    """
    times = sorted(t for t in strike_times if t <= now)
    until: datetime | None = None
    for i, t in enumerate(times):
        in_window = [s for s in times[: i + 1] if s > t - window]
        if len(in_window) >= limit and t + block > now and (until is None or t + block > until):
            until = t + block
    return until


def strikes_in_window(strike_times: list[datetime], now: datetime, window: timedelta = STRIKE_WINDOW) -> int:
    """How many strikes count now (what sellers see next to a buyer's name)."""
    return sum(1 for t in strike_times if now - window < t <= now)


def check_cancel(source: str, actor: Actor, reason: str, confirmed: bool) -> str | None:
    """A buyer's cancellation of a won auction needs ``confirm`` and a reason and records a buyer strike; a
    seller's cancellation of any order records a seller strike. Returns the strike's role, or None."""
    reason = reason.strip()
    if len(reason) > CANCEL_REASON_MAX:
        raise InvalidOrderInput("reason is at most %(cancel_reason_max)s characters.",
                                cancel_reason_max=CANCEL_REASON_MAX)
    if actor == "buyer" and source == "auction":
        if not reason:
            raise InvalidOrderInput("Cancelling a won auction needs a reason.")
        if not confirmed:
            raise InvalidOrderInput("Cancelling a won auction records a strike against you: confirm it "
                                    "(confirm: true).")
        return "buyer"
    if actor == "seller":
        return "seller"
    return None


# The notes the order service writes on the timeline (stored in English, as the API shows them), as message ids:
# a page reads a stored note back into its message id and values and shows it translated. Longer forms first.
TIMELINE_NOTES = (
    N_("paid into escrow"),
    N_("shipped, tracking %(tracking)s"),
    N_("shipped"),
    N_("receipt confirmed; paid out %(payout)s, fee %(fee)s"),
    N_("shipping address set"),
    N_("dispute opened: %(reason)s"),
    N_("cancelled by the buyer; %(total)s refunded — %(reason)s"),
    N_("cancelled by the buyer; %(total)s refunded"),
    N_("cancelled by the seller; %(total)s refunded — %(reason)s"),
    N_("cancelled by the seller; %(total)s refunded"),
    N_("cancelled by an admin: the seller was banned; %(total)s refunded — %(reason)s"),
    N_("cancelled by an admin: the seller was banned; %(total)s refunded"),
    N_("dispute resolved: released to the seller (%(payout)s, fee %(fee)s)"),
    N_("dispute resolved: %(total)s refunded to the buyer"),
    N_("confirmed automatically %(days)s days after shipping; paid out %(payout)s, fee %(fee)s"),
)


def _note_pattern(msgid: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)s", msgid)  # literal, name, literal, name, …, literal
    return re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.*?)" for i, part in enumerate(parts)),
                      re.S)


_NOTE_PATTERNS = tuple((_note_pattern(msgid), msgid) for msgid in TIMELINE_NOTES)


def timeline_note(note: str | None) -> str:
    """A stored timeline note as a message (``i18n.Text``) a page translates; a note of another form as it is."""
    if not note:
        return ""
    for pattern, msgid in _NOTE_PATTERNS:
        match = pattern.fullmatch(note)
        if match is not None:
            return Text(msgid, match.groupdict())
    return note
