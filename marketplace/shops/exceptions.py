"""Shop errors; each carries its HTTP status through its base class (marketplace.errors)."""

from __future__ import annotations

from marketplace.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied


class ShopNotFound(NotFound):
    default_detail = "Shop not found."


class InvalidShop(InvalidInput):
    default_detail = "Invalid shop details."


class UnknownPlan(InvalidInput):
    default_detail = "Unknown plan."


class InvalidSlug(InvalidInput):
    default_detail = ("A shop address must be 3–60 characters of a–z, 0–9 and '-', starting and ending with a "
                      "letter or digit.")


class AlreadyHasShop(Conflict):
    default_detail = "You already have a shop: one shop per user."


class SlugTaken(Conflict):
    default_detail = "That shop address is taken."


class NotShopOwner(PermissionDenied):
    default_detail = "Only the shop's owner may do that."


class InvalidImage(InvalidInput):
    default_detail = "Not a JPEG, PNG or WebP image."


class ImageTooLarge(DomainError):
    status_code = 413
    default_detail = "The image is too large."
