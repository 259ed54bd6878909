"""The root of every domain exception.

Each domain's ``exceptions.py`` subclasses :class:`DomainError` and says which HTTP status it means; the web
layer maps them all in one place (``marketplace.web.errors``): JSON ``{"status_code", "detail"}`` for the API,
a form error or an error page for HTML. Nothing here imports Litestar.
"""

from __future__ import annotations


class DomainError(Exception):
    status_code: int = 400
    default_detail: str = "The request cannot be carried out."

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.default_detail
        super().__init__(self.detail)


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

    def __init__(self, detail: str | None = None, retry_after: int = 60) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
