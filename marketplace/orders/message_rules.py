"""Pure rules of an order's private messages (docs/rules.md §19.6). No I/O."""

from __future__ import annotations

from typing import Literal

from marketplace.errors import Conflict, InvalidInput, PermissionDenied

MESSAGE_MAX = 2000
# At most this many messages per user per window, across every order and process.
MESSAGE_LIMIT = 20
MESSAGE_WINDOW_SECONDS = 600

Role = Literal["buyer", "seller", "admin"]


def thread_role(user_id: int, buyer_id: int, seller_id: int, *, is_admin: bool, ever_disputed: bool) -> Role:
    """Who the reader is on the thread: the buyer, the seller, or an admin once the order was ever disputed.
    Anyone else → 403."""
    if user_id == buyer_id:
        return "buyer"
    if user_id == seller_id:
        return "seller"
    if is_admin and ever_disputed:
        return "admin"
    raise PermissionDenied("Only the buyer and the seller of this order, and an administrator in a dispute, "
                           "can read and write its messages.")


def over_limit(count_in_window: int, limit: int) -> bool:
    """``count_in_window`` includes the attempt being made."""
    return count_in_window > limit


def check_may_post(role: Role, status: str) -> None:
    """The buyer and the seller write at any time; an admin only while the dispute is open."""
    if role == "admin" and status != "disputed":
        raise Conflict("An administrator writes on an order only while its dispute is open.")


def clean_body(raw: object, *, has_photo: bool) -> str:
    """The message text stripped: up to :data:`MESSAGE_MAX` characters; it may be empty only with a photo."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text and not has_photo:
        raise InvalidInput("Write a message or attach a photo.")
    if len(text) > MESSAGE_MAX:
        raise InvalidInput("The message is too long (at most %(message_max)s characters).", message_max=MESSAGE_MAX)
    return text


def recipients(sender_id: int, buyer_id: int, seller_id: int) -> list[int]:
    """Who is told about a new message: the other party, or both when an admin wrote."""
    return [uid for uid in (buyer_id, seller_id) if uid != sender_id]
