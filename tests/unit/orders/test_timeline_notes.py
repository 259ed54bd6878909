"""The order timeline's stored English notes read back as message ids with values (translated on the page)."""

from __future__ import annotations

import pytest

from marketplace.i18n import Text
from marketplace.orders.rules import timeline_note


@pytest.mark.parametrize(("note", "msgid", "values"), [
    ("paid into escrow", "paid into escrow", {}),
    ("shipped", "shipped", {}),
    ("shipped, tracking SF123", "shipped, tracking %(tracking)s", {"tracking": "SF123"}),
    ("receipt confirmed; paid out 95, fee 5", "receipt confirmed; paid out %(payout)s, fee %(fee)s",
     {"payout": "95", "fee": "5"}),
    ("cancelled by the buyer; 100 refunded", "cancelled by the buyer; %(total)s refunded", {"total": "100"}),
    ("cancelled by the seller; 100 refunded — out of stock\nsorry",
     "cancelled by the seller; %(total)s refunded — %(reason)s", {"total": "100", "reason": "out of stock\nsorry"}),
    ("dispute opened: broken", "dispute opened: %(reason)s", {"reason": "broken"}),
    ("dispute resolved: 100 refunded to the buyer", "dispute resolved: %(total)s refunded to the buyer",
     {"total": "100"}),
    ("confirmed automatically 7 days after shipping; paid out 95, fee 5",
     "confirmed automatically %(days)s days after shipping; paid out %(payout)s, fee %(fee)s",
     {"days": "7", "payout": "95", "fee": "5"}),
])
def test_a_known_note_becomes_its_message(note: str, msgid: str, values: dict[str, str]) -> None:
    text = timeline_note(note)
    assert isinstance(text, Text)
    assert (text.msgid, text.values) == (msgid, values)
    assert text == note  # reads as the stored English


def test_another_note_is_shown_as_it_is() -> None:
    assert timeline_note("an admin's own words") == "an admin's own words"
    assert not isinstance(timeline_note("an admin's own words"), Text)
    assert timeline_note(None) == ""
