"""Pure rules of listing questions and answers (docs/rules.md §19.5). No I/O."""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.errors import Conflict, InvalidInput, PermissionDenied

QUESTION_MAX = 500
ANSWER_MAX = 1000
# At most this many questions per user per window, across every listing and process.
QUESTION_LIMIT = 5
QUESTION_WINDOW_SECONDS = 600


def clean_text(raw: object, *, max_len: int, label: str) -> str:
    """The text stripped; empty or longer than ``max_len`` characters → 400."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        raise InvalidInput("%(label)s cannot be empty.", label=label)
    if len(text) > max_len:
        raise InvalidInput("%(label)s is too long (at most %(max_len)s characters).", label=label, max_len=max_len)
    return text


def over_limit(count_in_window: int, limit: int) -> bool:
    """``count_in_window`` includes the attempt being made."""
    return count_in_window > limit


def check_may_ask(asker_id: int, seller_id: int, listing_status: str) -> None:
    """Anyone signed in but the seller may ask, while the listing is on sale."""
    if asker_id == seller_id:
        raise PermissionDenied("You cannot ask a question on your own listing.")
    if listing_status != "active":
        raise Conflict("Questions can only be asked while the listing is on sale.")


def check_may_answer(user_id: int, seller_id: int, *, answered: bool, hidden: bool) -> None:
    """Only the seller answers, once, a question that is not hidden."""
    if user_id != seller_id:
        raise PermissionDenied("Only the seller answers questions on this listing.")
    if hidden:
        raise Conflict("This question is hidden; show it again before answering.")
    if answered:
        raise Conflict("This question was answered already.")


def check_may_hide(user_id: int, seller_id: int, *, is_admin: bool = False) -> None:
    if user_id != seller_id and not is_admin:
        raise PermissionDenied("Only the seller hides questions on this listing.")


@dataclass(frozen=True, slots=True)
class QuestionState:
    asker_id: int
    answered: bool
    hidden: bool


def visible_to(q: QuestionState, seller_id: int, viewer_id: int | None, *, is_admin: bool = False) -> bool:
    """Answered questions are public; an unanswered one shows to its asker and the seller; a hidden one to the
    seller (and admins) only."""
    if is_admin or viewer_id == seller_id:
        return True
    if q.hidden:
        return False
    return q.answered or (viewer_id is not None and viewer_id == q.asker_id)
