from __future__ import annotations

from marketplace.errors import Conflict, InvalidInput, NotFound, PaymentRequired


class InsufficientCoins(PaymentRequired):
    def __init__(self, shortfall: int, detail: str | None = None) -> None:
        self.shortfall = shortfall
        super().__init__(detail or f"Not enough coins: {shortfall} more needed.")


class InsufficientPoints(Conflict):
    """Points are not coins: too few of them is a conflict with the balance (409), never a 402."""

    def __init__(self, shortfall: int, detail: str | None = None) -> None:
        self.shortfall = shortfall
        super().__init__(detail or f"Not enough points: {shortfall} more needed.")


class UnbalancedTransaction(ValueError):
    """A programming error: a ledger transaction whose entries do not sum to zero."""


class WouldGoNegative(Conflict):
    default_detail = "That would take the balance below zero."


class TopUpOutOfBounds(InvalidInput):
    pass


class TopUpNotFound(NotFound):
    default_detail = "Top-up not found."
