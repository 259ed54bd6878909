from __future__ import annotations

from marketplace.errors import Conflict, NotFound, PermissionDenied


class OrderNotFound(NotFound):
    default_detail = "Order not found."


class NotYourOrder(PermissionDenied):
    default_detail = "Only the buyer or the seller may do that."


class InvalidTransition(Conflict):
    default_detail = "The order is not in a state that allows that."
