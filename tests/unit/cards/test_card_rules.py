"""marketplace.cards.rules: check digit, secret alphabet, state machine, batch validation, redemption refusals."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.cards import rules
from marketplace.cards.exceptions import (
    BatchStateConflict,
    CardAlreadyRedeemed,
    CardStateConflict,
    InvalidCardInput,
    MakerCannotCheck,
)

TODAY = date(2026, 12, 1)


# --- numbers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["4111111111111111", "5500000000000004", "79927398713", "4012888888881881"])
def test_known_luhn_numbers_are_valid(number: str) -> None:
    assert rules.luhn_valid(number)


def test_luhn_check_digit_of_the_textbook_example() -> None:
    assert rules.luhn_check_digit("7992739871") == "3"


def test_new_numbers_are_sixteen_digits_with_a_valid_check_digit() -> None:
    for _ in range(500):
        n = rules.new_number()
        assert len(n) == 16
        assert n.isdigit()
        assert n[0] != "0"
        assert rules.is_valid_number(n)


@given(st.integers(min_value=0, max_value=14), st.integers(min_value=1, max_value=9))
def test_every_single_digit_typo_is_caught(position: int, delta: int) -> None:
    n = rules.new_number(random.Random(position * 10 + delta).randrange)
    wrong = n[:position] + str((int(n[position]) + delta) % 10) + n[position + 1:]
    assert not rules.is_valid_number(wrong)


def test_adjacent_transpositions_are_caught() -> None:
    n = "4111111111111111"
    assert rules.is_valid_number(n)
    swapped = "1411111111111111"
    assert not rules.is_valid_number(swapped)


@pytest.mark.parametrize("raw", ["", "411111111111111", "41111111111111111", "4111 1111 1111 111x", "٤١١١١١١١١١١١١١١١"])
def test_malformed_numbers_are_invalid(raw: str) -> None:
    assert not rules.is_valid_number(rules.normalize_number(raw))


def test_numbers_are_normalised_from_printed_groups() -> None:
    assert rules.normalize_number(" 4111 1111-1111 1111 ") == "4111111111111111"
    assert rules.format_number("4111111111111111") == "4111 1111 1111 1111"


def test_injected_randomness_is_deterministic() -> None:
    assert rules.new_number(random.Random(1).randrange) == rules.new_number(random.Random(1).randrange)


# --- secrets ---------------------------------------------------------------------------------------------------


def test_alphabet_has_no_look_alikes() -> None:
    for ch in "01OILoil":
        assert ch not in rules.SECRET_ALPHABET
    assert len(set(rules.SECRET_ALPHABET)) == len(rules.SECRET_ALPHABET) == 31


def test_new_secrets_use_only_the_alphabet() -> None:
    seen: set[str] = set()
    for _ in range(300):
        s = rules.new_secret()
        assert len(s) == 16
        assert rules.is_well_formed_secret(s)
        seen |= set(s)
    assert seen == set(rules.SECRET_ALPHABET)  # every symbol is used


def test_secrets_are_normalised_and_checked() -> None:
    assert rules.normalize_secret(" abcd-efgh jkmn-pqrs ") == "ABCDEFGHJKMNPQRS"
    assert not rules.is_well_formed_secret("ABCDEFGHJKMNPQR0")  # 0 is not in the alphabet
    assert not rules.is_well_formed_secret("ABC")


def test_secret_hash_is_keyed() -> None:
    a = rules.secret_hash(b"k1", "4111111111111111", "ABCDEFGHJKMNPQRS")
    assert a == rules.secret_hash(b"k1", "4111111111111111", "ABCDEFGHJKMNPQRS")
    assert a != rules.secret_hash(b"k2", "4111111111111111", "ABCDEFGHJKMNPQRS")
    assert a != rules.secret_hash(b"k1", "5500000000000004", "ABCDEFGHJKMNPQRS")
    assert len(a) == 64
    assert rules.derive_key("s", "a") != rules.derive_key("s", "b")


# --- state machine -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "action", "target"), [
    ("new", "sell", "sold"), ("new", "redeem", "redeemed"), ("sold", "redeem", "redeemed"),
    ("new", "void", "void"), ("sold", "void", "void"), ("sold", "refund", "void"),
    ("new", "exchange", "void"), ("sold", "exchange", "void"),
])
def test_allowed_transitions(status: str, action: rules.CardAction, target: str) -> None:
    assert rules.transition(status, action) == target


@pytest.mark.parametrize(("status", "action"), [
    ("sold", "sell"), ("redeemed", "sell"), ("void", "sell"), ("redeemed", "redeem"), ("void", "redeem"),
    ("redeemed", "void"), ("void", "void"), ("new", "refund"), ("redeemed", "refund"), ("void", "refund"),
    ("redeemed", "exchange"), ("void", "exchange"),
])
def test_refused_transitions_are_409(status: str, action: rules.CardAction) -> None:
    with pytest.raises(CardStateConflict) as exc:
        rules.transition(status, action)
    assert exc.value.status_code == 409


def test_nothing_leaves_redeemed_or_void() -> None:
    for action in rules.TRANSITIONS:
        for status in ("redeemed", "void"):
            with pytest.raises(CardStateConflict):
                rules.transition(status, action)


# --- batches and maker-checker -------------------------------------------------------------------------------------


def test_batch_bounds() -> None:
    assert rules.validate_batch(10, 1, TODAY, " n ", TODAY) == rules.BatchSpec(10, 1, TODAY, "n")
    assert rules.validate_batch(100_000, 10_000, TODAY, "", TODAY).count == 10_000
    for face, count, expires in [(9, 1, TODAY), (100_001, 1, TODAY), (10, 0, TODAY), (10, 10_001, TODAY),
                                 (10, 1, date(2026, 11, 30)), (True, 1, TODAY), (10, 1.0, TODAY)]:
        with pytest.raises(InvalidCardInput):
            rules.validate_batch(face, count, expires, "", TODAY)
    with pytest.raises(InvalidCardInput):
        rules.validate_batch(10, 1, TODAY, "x" * 501, TODAY)


def test_maker_cannot_check_and_only_created_batches_activate() -> None:
    rules.check_activation("created", 1, 2)
    with pytest.raises(MakerCannotCheck) as exc:
        rules.check_activation("created", 1, 1)
    assert exc.value.status_code == 403
    with pytest.raises(MakerCannotCheck):
        rules.check_activation("activated", 1, 1)  # who before what
    with pytest.raises(BatchStateConflict):
        rules.check_activation("activated", 1, 2)


def test_expiry_is_inclusive() -> None:
    assert not rules.is_expired(TODAY, TODAY)
    assert rules.is_expired(date(2026, 11, 30), TODAY)


def test_sale_validation() -> None:
    assert rules.validate_sale("  Wang   Fang ", 95) == ("Wang Fang", 95)
    for buyer, price in [("", 1), ("x" * 101, 1), ("a", -1), ("a", True), ("a", "5")]:
        with pytest.raises(InvalidCardInput):
            rules.validate_sale(buyer, price)


# --- redemption ------------------------------------------------------------------------------------------------


def facts(**kw: object) -> rules.CardFacts:
    base: dict[str, object] = {"status": "new", "batch_status": "activated", "expires_on": TODAY,
                               "secret_ok": True, "recent_failures": 0}
    return rules.CardFacts(**{**base, **kw})  # type: ignore[arg-type]


def test_redemption_refusals() -> None:
    R = rules.Refusal
    assert rules.redemption_refusal(facts(), TODAY, 5) is None
    assert rules.redemption_refusal(facts(status="sold"), TODAY, 5) is None
    assert rules.redemption_refusal(None, TODAY, 5) is R.UNKNOWN
    assert rules.redemption_refusal(facts(secret_ok=False), TODAY, 5) is R.WRONG_SECRET
    assert rules.redemption_refusal(facts(recent_failures=5), TODAY, 5) is R.LOCKED
    assert rules.redemption_refusal(facts(recent_failures=4), TODAY, 5) is None
    assert rules.redemption_refusal(facts(batch_status="created"), TODAY, 5) is R.NOT_ACTIVATED
    assert rules.redemption_refusal(facts(status="void"), TODAY, 5) is R.VOID
    assert rules.redemption_refusal(facts(expires_on=date(2026, 11, 30)), TODAY, 5) is R.EXPIRED
    with pytest.raises(CardAlreadyRedeemed):
        rules.redemption_refusal(facts(status="redeemed"), TODAY, 5)
    # The wrong secret on a redeemed card, and any secret on a locked one, learn nothing.
    assert rules.redemption_refusal(facts(status="redeemed", secret_ok=False), TODAY, 5) is R.WRONG_SECRET
    assert rules.redemption_refusal(facts(status="redeemed", recent_failures=5), TODAY, 5) is R.LOCKED


@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_the_check_digit_always_validates_its_payload(payload: int) -> None:
    text = f"{payload:015d}"
    assert rules.luhn_valid(text + rules.luhn_check_digit(text))


@given(st.integers(min_value=0, max_value=31**16 - 1), st.integers(min_value=0, max_value=9 * 10**14 - 1))
def test_any_draw_gives_a_well_formed_card(secret_draw: int, number_draw: int) -> None:
    assert rules.is_well_formed_secret(rules.new_secret(lambda _n: secret_draw))
    assert rules.is_valid_number(rules.new_number(lambda _n: number_draw))


def test_new_cards_are_distinct_and_sorted() -> None:
    cards = rules.new_cards(2_000)
    numbers = [n for n, _ in cards]
    assert numbers == sorted(set(numbers))
    assert len({s for _, s in cards}) == 2_000
