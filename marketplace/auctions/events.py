"""Events of the auctions domain (marketplace/events.py): emitted inside the transaction of the transition."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LeadLost:
    """``user_id`` led the auction and a bid took the lead from them (once per lead lost, not per proxy step)."""

    listing_id: int
    user_id: int
    new_leader_id: int
    price: int


@dataclass(frozen=True, slots=True)
class LeadsLost:
    """The leads lost by the bids of one batch (auctions/batching.py), in order: what one ``LeadLost`` per bid
    says, emitted once so that its handlers can write their rows with one statement per table."""

    lost: tuple[LeadLost, ...]


@dataclass(frozen=True, slots=True)
class AuctionClosed:
    """The close transition ``active → sold|unsold`` happened (once: a retried close job emits nothing)."""

    listing_id: int
    seller_id: int
    winner_id: int | None
    bidder_ids: tuple[int, ...]
    status: str  # sold | unsold
    price: int
    order_id: int | None = None


@dataclass(frozen=True, slots=True)
class AuctionsClosed:
    """The closes of one sweeper batch (``BidService.close_many``), in order: what one ``AuctionClosed`` per
    auction says, emitted once so that its handlers can write their rows with one statement per table."""

    closed: tuple[AuctionClosed, ...]


@dataclass(frozen=True, slots=True)
class SecondChanceOffered:
    """The seller offered a cancelled win to the runner-up (docs/rules.md §19.2)."""

    offer_id: int
    listing_id: int
    buyer_id: int
    price: int
