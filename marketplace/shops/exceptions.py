"""Shop errors; each carries its HTTP status through its base class (marketplace.errors)."""

from __future__ import annotations

from marketplace.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from marketplace.media.images import ImageTooLarge as ImageTooLarge
from marketplace.media.images import NotAnImage


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


# Image refusals come from the one image pipeline (marketplace/media/images.py).
InvalidImage = NotAnImage
