"""Events of the orders domain (marketplace/events.py): emitted inside the transaction of the transition.

``actor_id`` is who made the transition (None: the system, e.g. auto-confirm); listeners use it to tell the
other side of the order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OrderTransition:
    order_id: int
    listing_id: int
    buyer_id: int
    seller_id: int
    actor_id: int | None


@dataclass(frozen=True, slots=True)
class OrderShipped(OrderTransition):
    pass


@dataclass(frozen=True, slots=True)
class OrderCompleted(OrderTransition):
    pass


@dataclass(frozen=True, slots=True)
class OrderCancelled(OrderTransition):
    pass


@dataclass(frozen=True, slots=True)
class DisputeOpened(OrderTransition):
    pass


@dataclass(frozen=True, slots=True)
class DisputeResolved(OrderTransition):
    outcome: str = "release"  # release | refund


@dataclass(frozen=True, slots=True)
class FeedbackReceived:
    order_id: int
    from_user_id: int
    to_user_id: int
    rating: str


@dataclass(frozen=True, slots=True)
class ListingSold:
    """A fixed-price purchase or a Buy Now opened an order (an auction won at close is ``AuctionClosed``)."""

    listing_id: int
    seller_id: int
    buyer_id: int
    order_id: int
    quantity: int
    total: int


@dataclass(frozen=True, slots=True)
class OrderMessagePosted:
    """A private message on an order (docs/rules.md §19.6); ``recipient_ids`` are told."""

    message_id: int
    order_id: int
    sender_id: int
    sender_role: str
    recipient_ids: tuple[int, ...]
