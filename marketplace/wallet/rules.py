"""Pure ledger and top-up arithmetic (docs/rules.md §1, §8). No I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from marketplace import paging
from marketplace.errors import InvalidInput
from marketplace.wallet.exceptions import TopUpOutOfBounds, UnbalancedTransaction


def check_balanced(amounts: Iterable[int]) -> None:
    """Every transaction's entries sum to zero, and an entry of zero coins is meaningless."""
    values = list(amounts)
    if not values:
        raise UnbalancedTransaction("a transaction needs entries")
    if any(not isinstance(v, int) or isinstance(v, bool) for v in values):
        raise UnbalancedTransaction("amounts are whole coins")
    if any(v == 0 for v in values):
        raise UnbalancedTransaction("an entry of 0 coins")
    if sum(values) != 0:
        raise UnbalancedTransaction(f"entries sum to {sum(values)}, not 0")


def apply_deltas(balances: Mapping[int, int], deltas: Mapping[int, int]) -> tuple[dict[int, int], int]:
    """New running balances, and the largest shortfall below zero (0 when none goes negative).

    Keeps the invariant "a running-balance account never goes below zero": callers refuse when the shortfall > 0.
    """
    new = {acc: balances[acc] + deltas.get(acc, 0) for acc in balances}
    shortfall = max((-b for b in new.values() if b < 0), default=0)
    return new, shortfall


def coins_to_fen(coins: int, coins_per_yuan: int) -> int:
    """Price of ``coins`` in fen (1/100 yuan), rounded up so a top-up never costs less than its coins are worth."""
    return -(-coins * 100 // coins_per_yuan)


def fen_to_yuan_text(fen: int) -> str:
    """Alipay's ``total_amount`` format: yuan with exactly two decimals ("%.2f"), computed without floats."""
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_text_to_fen(text: str) -> int:
    """Parse an Alipay amount like "10.00" or "10.5" into fen; raises ``ValueError`` on anything else."""
    text = text.strip()
    whole, _, frac = text.partition(".")
    if not (text.isascii() and whole.isdigit()) or (frac and (not frac.isdigit() or len(frac) > 2)) or len(whole) > 15:
        raise ValueError(f"not an amount: {text!r}")
    return int(whole) * 100 + int((frac or "0").ljust(2, "0"))


def check_topup_coins(coins: int, minimum: int, maximum: int) -> None:
    """docs/rules.md §1: a top-up buys between ``minimum`` and ``maximum`` whole coins (inclusive)."""
    if isinstance(coins, bool) or not isinstance(coins, int) or not minimum <= coins <= maximum:
        raise TopUpOutOfBounds("A top-up is between %(minimum)s and %(maximum)s coins.",
                               minimum=f"{minimum:,}", maximum=f"{maximum:,}")


def check_adjustment(coins: int, reason: str) -> str:
    """An admin adjustment moves a non-zero whole number of coins and always says why (it is audited)."""
    if isinstance(coins, bool) or not isinstance(coins, int) or coins == 0:
        raise InvalidInput("An adjustment is a non-zero whole number of coins.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A reason is required.")
    if len(reason) > 500:
        raise InvalidInput("The reason is at most 500 characters.")
    return reason


def check_page(page: int, per_page: int, max_per_page: int = 100) -> None:
    paging.page_window(page, per_page, max_per_page=max_per_page)
