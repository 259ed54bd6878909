"""docs/rules.md §19.5–§19.6: who may ask, answer, hide and see listing questions; who reads and writes an
order's messages; text limits and the rate-limit rule. Pure functions, no I/O."""

from __future__ import annotations

import pytest

from marketplace.errors import DomainError
from marketplace.listings import question_rules as q
from marketplace.orders import message_rules as m

SELLER, ASKER, OTHER = 1, 2, 3


def status_of(fn: object, *args: object, **kw: object) -> int:
    with pytest.raises(DomainError) as exc:
        fn(*args, **kw)  # type: ignore[operator]
    return exc.value.status_code


def test_anyone_but_the_seller_may_ask_while_on_sale() -> None:
    q.check_may_ask(ASKER, SELLER, "active")
    assert status_of(q.check_may_ask, SELLER, SELLER, "active") == 403
    for status in ("sold", "ended", "removed"):
        assert status_of(q.check_may_ask, ASKER, SELLER, status) == 409


def test_only_the_seller_answers_once_and_not_a_hidden_question() -> None:
    q.check_may_answer(SELLER, SELLER, answered=False, hidden=False)
    assert status_of(q.check_may_answer, ASKER, SELLER, answered=False, hidden=False) == 403
    assert status_of(q.check_may_answer, SELLER, SELLER, answered=True, hidden=False) == 409
    assert status_of(q.check_may_answer, SELLER, SELLER, answered=False, hidden=True) == 409


def test_only_the_seller_or_an_admin_hides() -> None:
    q.check_may_hide(SELLER, SELLER)
    q.check_may_hide(OTHER, SELLER, is_admin=True)
    assert status_of(q.check_may_hide, ASKER, SELLER) == 403


@pytest.mark.parametrize(("answered", "hidden", "viewer", "admin", "visible"), [
    (True, False, None, False, True),       # answered: public, anonymous visitors too
    (True, False, OTHER, False, True),
    (False, False, None, False, False),     # unanswered: the asker and the seller only
    (False, False, OTHER, False, False),
    (False, False, ASKER, False, True),
    (False, False, SELLER, False, True),
    (True, True, OTHER, False, False),      # hidden: the seller and admins only, not even the asker
    (True, True, ASKER, False, False),
    (True, True, SELLER, False, True),
    (False, True, OTHER, True, True),
])
def test_question_visibility(answered: bool, hidden: bool, viewer: int | None, admin: bool, visible: bool) -> None:
    state = q.QuestionState(asker_id=ASKER, answered=answered, hidden=hidden)
    assert q.visible_to(state, SELLER, viewer, is_admin=admin) is visible


def test_question_text_limits() -> None:
    assert q.clean_text("  Is it genuine?  ", max_len=q.QUESTION_MAX, label="The question") == "Is it genuine?"
    for bad in ("", "   ", None, 42, "x" * (q.QUESTION_MAX + 1)):
        assert status_of(q.clean_text, bad, max_len=q.QUESTION_MAX, label="The question") == 400
    assert q.clean_text("x" * q.QUESTION_MAX, max_len=q.QUESTION_MAX, label="Q") == "x" * q.QUESTION_MAX


def test_rate_limit_rule_counts_the_attempt_itself() -> None:
    assert not q.over_limit(q.QUESTION_LIMIT, q.QUESTION_LIMIT)
    assert q.over_limit(q.QUESTION_LIMIT + 1, q.QUESTION_LIMIT)
    assert (q.QUESTION_LIMIT, q.QUESTION_WINDOW_SECONDS) == (5, 600)
    assert not m.over_limit(m.MESSAGE_LIMIT, m.MESSAGE_LIMIT)
    assert m.over_limit(m.MESSAGE_LIMIT + 1, m.MESSAGE_LIMIT)


BUYER = 10


def test_thread_roles() -> None:
    assert m.thread_role(BUYER, BUYER, SELLER, is_admin=False, ever_disputed=False) == "buyer"
    assert m.thread_role(SELLER, BUYER, SELLER, is_admin=True, ever_disputed=True) == "seller"
    assert m.thread_role(OTHER, BUYER, SELLER, is_admin=True, ever_disputed=True) == "admin"
    # an admin before any dispute, and any other user, are refused
    assert status_of(m.thread_role, OTHER, BUYER, SELLER, is_admin=True, ever_disputed=False) == 403
    assert status_of(m.thread_role, OTHER, BUYER, SELLER, is_admin=False, ever_disputed=True) == 403


def test_who_may_post_when() -> None:
    for status in ("paid", "shipped", "completed", "cancelled", "disputed", "refunded"):
        m.check_may_post("buyer", status)
        m.check_may_post("seller", status)
    m.check_may_post("admin", "disputed")
    for status in ("completed", "refunded"):  # a resolved dispute: the admin reads, no longer writes
        assert status_of(m.check_may_post, "admin", status) == 409


def test_message_body_and_recipients() -> None:
    assert m.clean_body(" hi ", has_photo=False) == "hi"
    assert m.clean_body("", has_photo=True) == ""  # a photo alone is a message
    assert status_of(m.clean_body, "  ", has_photo=False) == 400
    assert status_of(m.clean_body, "x" * (m.MESSAGE_MAX + 1), has_photo=True) == 400
    assert m.recipients(BUYER, BUYER, SELLER) == [SELLER]
    assert m.recipients(SELLER, BUYER, SELLER) == [BUYER]
    assert m.recipients(OTHER, BUYER, SELLER) == [BUYER, SELLER]  # an admin wrote: both parties
