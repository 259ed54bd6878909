from __future__ import annotations

from marketplace.errors import Conflict, InvalidInput, NotFound, PaymentRequired
from marketplace.i18n import N_


class InsufficientCoins(PaymentRequired):
    def __init__(self, shortfall: int, detail: str | None = None) -> None:
        self.shortfall = shortfall
        if detail:
            super().__init__(detail)
        else:
            super().__init__(N_("Not enough coins: %(shortfall)s more needed."), shortfall=shortfall)


class InsufficientPoints(Conflict):
    """Points are not coins: too few of them is a conflict with the balance (409), never a 402."""

    def __init__(self, shortfall: int, detail: str | None = None) -> None:
        self.shortfall = shortfall
        if detail:
            super().__init__(detail)
        else:
            super().__init__(N_("Not enough points: %(shortfall)s more needed."), shortfall=shortfall)


class UnbalancedTransaction(ValueError):
    """A programming error: a ledger transaction whose entries do not sum to zero."""


class WouldGoNegative(Conflict):
    default_detail = "That would take the balance below zero."


class TopUpOutOfBounds(InvalidInput):
    pass


class TopUpNotFound(NotFound):
    default_detail = "Top-up not found."
