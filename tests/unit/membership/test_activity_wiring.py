"""Active days (docs/rules.md §16): the login event reaches membership through wiring, never by an import."""

from __future__ import annotations

import ast
from pathlib import Path

from marketplace import events, wiring
from marketplace.accounts.events import UserLoggedIn
from marketplace.membership import handlers, rules


def test_wiring_subscribes_the_login_handler() -> None:
    wiring.subscribe_all()
    assert handlers.on_login in events._handlers[UserLoggedIn]
    wiring.subscribe_all()  # idempotent: still one
    assert events._handlers[UserLoggedIn].count(handlers.on_login) == 1


def test_accounts_does_not_import_membership() -> None:
    root = Path(__file__).resolve().parents[3] / "marketplace" / "accounts"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("marketplace.membership"), path


def test_active_days_score_five_each_capped_at_365() -> None:
    assert rules.growth_score(spend=0, active_days=3, feedback_given=0, feedback_photos=0,
                              disputes_lost=0) == (15, {"spend": 0, "active_days": 15, "feedback": 0,
                                                        "disputes_lost": 0})
    assert rules.growth_score(spend=0, active_days=366, feedback_given=0, feedback_photos=0,
                              disputes_lost=0)[1]["active_days"] == 1_825
