from __future__ import annotations

from marketplace.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class OrderNotFound(NotFound):
    default_detail = "Order not found."


class NotYourOrder(PermissionDenied):
    default_detail = "Only the buyer or the seller may do that."


class WrongParty(PermissionDenied):
    """The caller is a party to the order (or an admin), but not the one who may take this step."""

    default_detail = "You are not the party who may do that."


class InvalidTransition(Conflict):
    default_detail = "The order is not in a state that allows that."


class FeedbackNotAllowed(Conflict):
    default_detail = "Feedback can be left once per side, on a completed order."


class InvalidOrderInput(InvalidInput):
    default_detail = "Invalid order input."
