from __future__ import annotations

from marketplace.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RateLimited

# One message for every wrong card (unknown number, bad check digit, wrong secret, not activated, void, expired,
# locked): an attacker learns nothing about which numbers exist (docs/rules.md §17).
INVALID_CARD_MESSAGE = "Invalid card number or secret."


class InvalidCardInput(InvalidInput):
    default_detail = "Invalid card input."


class InvalidCard(InvalidInput):
    """Any redemption that must not succeed and must not say why (400)."""

    default_detail = INVALID_CARD_MESSAGE


class CardAlreadyRedeemed(Conflict):
    default_detail = "This card has already been redeemed."


class TooManyCardFailures(RateLimited):
    default_detail = "Too many failed card redemptions; try again later."


class BatchNotFound(NotFound):
    default_detail = "Card batch not found."


class CardNotFound(NotFound):
    default_detail = "Card not found."


class MakerCannotCheck(PermissionDenied):
    default_detail = "The admin who created a batch cannot activate it; another admin must check it."


class BatchStateConflict(Conflict):
    default_detail = "The batch is not in a state that allows that."


class AlreadyExported(Conflict):
    default_detail = "The secrets of this batch were already exported; they are shown only once."


class CardStateConflict(Conflict):
    default_detail = "The card is not in a state that allows that."
