"""The root of every domain exception.

Each domain's ``exceptions.py`` subclasses :class:`DomainError` and says which HTTP status it means; the web
layer maps them all in one place (``marketplace.web.errors``): JSON ``{"status_code", "detail"}`` for the API,
a form error or an error page for HTML. Nothing here imports Litestar.
"""

from __future__ import annotations

from typing import Any

from marketplace.i18n import Text


class DomainError(Exception):
    status_code: int = 400
    default_detail: str = "The request cannot be carried out."

    def __init__(self, detail: str | None = None, /, **values: Any) -> None:
        """``detail`` is the English message id; named ``values`` fill its ``%(name)s`` placeholders. The
        ``detail`` then reads as the formatted English text (the API's stable ``detail``) and translates as
        ``gettext(msgid) % values`` (``marketplace.i18n.Text``) wherever it is shown."""
        message = detail or self.default_detail
        self.detail: str = Text(message, values) if values else message
        super().__init__(str(self.detail))


class InvalidInput(DomainError):
    status_code = 400
    default_detail = "Invalid input."


class NotAuthenticated(DomainError):
    status_code = 401
    default_detail = "Log in first."


class PermissionDenied(DomainError):
    status_code = 403
    default_detail = "You are not allowed to do that."


class NotFound(DomainError):
    status_code = 404
    default_detail = "Not found."


class Conflict(DomainError):
    status_code = 409
    default_detail = "That conflicts with the current state."


class PaymentRequired(DomainError):
    status_code = 402
    default_detail = "Not enough coins."


class RateLimited(DomainError):
    status_code = 429
    default_detail = "Too many requests; try again later."

    def __init__(self, detail: str | None = None, retry_after: int = 60, **values: Any) -> None:
        super().__init__(detail, **values)
        self.retry_after = retry_after
