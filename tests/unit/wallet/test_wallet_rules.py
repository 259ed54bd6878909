"""Pure ledger and top-up arithmetic (docs/rules.md §1, §8)."""

import pytest

from marketplace.errors import InvalidInput
from marketplace.wallet import rules
from marketplace.wallet.exceptions import TopUpOutOfBounds, UnbalancedTransaction


@pytest.mark.parametrize("amounts", [[5, -5], [-10, 3, 7], [1, 1, -2]])
def test_balanced_transactions_pass(amounts: list[int]) -> None:
    rules.check_balanced(amounts)


@pytest.mark.parametrize("amounts", [[], [5, -4], [5], [0, 0], [5, -5, 0], [1.5, -1.5], [True, -1]])
def test_unbalanced_or_malformed_transactions_are_refused(amounts: list[object]) -> None:
    with pytest.raises(UnbalancedTransaction):
        rules.check_balanced(amounts)  # type: ignore[arg-type]


def test_apply_deltas_reports_the_largest_shortfall() -> None:
    new, shortfall = rules.apply_deltas({1: 10, 2: 0}, {1: -10, 2: 10})
    assert new == {1: 0, 2: 10}
    assert shortfall == 0
    new, shortfall = rules.apply_deltas({1: 10, 2: 3}, {1: -15, 2: -4})
    assert new == {1: -5, 2: -1}
    assert shortfall == 5


def test_apply_deltas_leaves_untouched_accounts_alone() -> None:
    new, shortfall = rules.apply_deltas({1: 7, 2: 9}, {2: 1})
    assert new == {1: 7, 2: 10}
    assert shortfall == 0


@pytest.mark.parametrize(("coins", "fen", "text"), [
    (10, 100, "1.00"), (100, 1000, "10.00"), (15, 150, "1.50"), (100_000, 1_000_000, "10000.00"), (11, 110, "1.10"),
])
def test_coins_to_yuan_at_ten_coins_per_yuan(coins: int, fen: int, text: str) -> None:
    assert rules.coins_to_fen(coins, 10) == fen
    assert rules.fen_to_yuan_text(fen) == text
    assert rules.yuan_text_to_fen(text) == fen
    assert text == "%.2f" % (coins / 10)  # Alipay's total_amount format, without ever storing a float


def test_coins_to_fen_rounds_up_for_odd_rates() -> None:
    assert rules.coins_to_fen(1, 3) == 34  # 33.33… fen: the payer never pays less than the coins are worth


@pytest.mark.parametrize(("text", "fen"), [("10", 1000), ("10.5", 1050), ("0.01", 1), (" 3.20 ", 320)])
def test_yuan_text_parsing(text: str, fen: int) -> None:
    assert rules.yuan_text_to_fen(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "1.234", "-1.00", "1e3", "1.x", ".5", "1,00"])
def test_yuan_text_parsing_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        rules.yuan_text_to_fen(text)


@pytest.mark.parametrize("coins", [10, 11, 99_999, 100_000])
def test_topup_bounds_accept(coins: int) -> None:
    rules.check_topup_coins(coins, 10, 100_000)


@pytest.mark.parametrize("coins", [9, 0, -10, 100_001, True])
def test_topup_bounds_refuse(coins: int) -> None:
    with pytest.raises(TopUpOutOfBounds) as exc:
        rules.check_topup_coins(coins, 10, 100_000)
    assert exc.value.status_code == 400


def test_adjustment_needs_coins_and_a_reason() -> None:
    assert rules.check_adjustment(-5, "  refund of a lost parcel ") == "refund of a lost parcel"
    for coins, reason in [(0, "x"), (5, ""), (5, "   "), (5, "x" * 501)]:
        with pytest.raises(InvalidInput):
            rules.check_adjustment(coins, reason)
