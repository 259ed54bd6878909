"""Pure card rules (docs/rules.md §17): numbers with a Luhn check digit, secrets from an alphabet without
look-alikes, the keyed secret hash, batch validation, maker-checker, and the card state machine. No I/O.

Randomness comes from :mod:`secrets` by default and can be injected (``randbelow``) so tests are deterministic.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Literal

from marketplace.cards.exceptions import (
    BatchStateConflict,
    CardAlreadyRedeemed,
    CardStateConflict,
    InvalidCardInput,
    MakerCannotCheck,
)

NUMBER_LENGTH = 16
SECRET_LENGTH = 16
# No 0/O, 1/I/L, so a secret read off a printed card cannot be mistyped into another valid-looking one
# (31 symbols: 16 characters carry 79 bits).
SECRET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # noqa: S105 - an alphabet, not a credential
MIN_FACE_VALUE = 10
MAX_FACE_VALUE = 100_000
MIN_COUNT = 1
MAX_COUNT = 10_000
MAX_NOTE = 500
MAX_BUYER = 100
MAX_SALE_PRICE = 100_000_000

CardStatus = Literal["new", "sold", "redeemed", "void"]
CardAction = Literal["sell", "redeem", "void", "refund", "exchange"]
BatchStatus = Literal["created", "activated"]
CARD_STATUSES: tuple[CardStatus, ...] = ("new", "sold", "redeemed", "void")

RandBelow = Callable[[int], int]

# The whole card machine: action → (states it starts from, state it ends in). Refund (退卡) and exchange (调换)
# retire the card (void): its secret has been in a customer's hands, so it is never sold again; an exchange
# issues a replacement card in the old card's state. A card redeems straight from `new` too: selling is a record
# of who paid for it, not a precondition of redeeming (docs/decisions.md, Cards).
TRANSITIONS: dict[CardAction, tuple[frozenset[str], CardStatus]] = {
    "sell": (frozenset({"new"}), "sold"),
    "redeem": (frozenset({"new", "sold"}), "redeemed"),
    "void": (frozenset({"new", "sold"}), "void"),
    "refund": (frozenset({"sold"}), "void"),
    "exchange": (frozenset({"new", "sold"}), "void"),
}


def transition(status: str, action: CardAction) -> CardStatus:
    """The card's status after ``action``; ``CardStateConflict`` (409) when the card is not in a starting state."""
    sources, target = TRANSITIONS[action]
    if status not in sources:
        if status == "redeemed":
            raise CardStateConflict("Cannot %(action)s a card that was already redeemed.", action=action)
        raise CardStateConflict("Cannot %(action)s a card that is %(status)s.", action=action, status=status)
    return target


# --- numbers ---------------------------------------------------------------------------------------------------


def luhn_check_digit(payload: str) -> str:
    """The Luhn digit that makes ``payload + digit`` valid (doubling every second digit from the right)."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return len(number) >= 2 and number.isascii() and number.isdigit() and \
        luhn_check_digit(number[:-1]) == number[-1]


def normalize_number(raw: str) -> str:
    """What a customer types, without the spaces and dashes a printed card groups digits with."""
    return "".join(ch for ch in raw.strip() if ch not in " -\t")


def is_valid_number(number: str) -> bool:
    """16 ASCII digits with a correct check digit: a typo is caught before any lookup."""
    return len(number) == NUMBER_LENGTH and luhn_valid(number)


def new_number(randbelow: RandBelow = _secrets.randbelow) -> str:
    """A random 16-digit number (first digit not 0, so it never loses digits as an integer) + Luhn digit.

    One draw per number (not one per digit): making 10,000 cards must stay fast.
    """
    low = 10 ** (NUMBER_LENGTH - 2)
    payload = str(low + randbelow(9 * low))
    return payload + luhn_check_digit(payload)


def format_number(number: str) -> str:
    return " ".join(number[i:i + 4] for i in range(0, len(number), 4))


# --- secrets ---------------------------------------------------------------------------------------------------


def new_secret(randbelow: RandBelow = _secrets.randbelow) -> str:
    """16 symbols of the alphabet from one uniform draw below 31^16, written in base 31."""
    base = len(SECRET_ALPHABET)
    value = randbelow(base ** SECRET_LENGTH)
    chars = []
    for _ in range(SECRET_LENGTH):
        value, digit = divmod(value, base)
        chars.append(SECRET_ALPHABET[digit])
    return "".join(chars)


def normalize_secret(raw: str) -> str:
    return "".join(ch for ch in raw.strip().upper() if ch not in " -\t")


def new_cards(count: int, randbelow: RandBelow = _secrets.randbelow) -> list[tuple[str, str]]:
    """``count`` distinct numbers in ascending order, each with a fresh secret."""
    numbers: set[str] = set()
    while len(numbers) < count:
        numbers.add(new_number(randbelow))
    return [(n, new_secret(randbelow)) for n in sorted(numbers)]


def is_well_formed_secret(secret: str) -> bool:
    return len(secret) == SECRET_LENGTH and all(ch in SECRET_ALPHABET for ch in secret)


def secret_hash(key: bytes, number: str, secret: str) -> str:
    """HMAC-SHA256 keyed with the app's secret: a fast keyed hash is enough for 79-bit random secrets (nobody can
    brute-force them offline without the key, and online guessing is locked out), and it lets 10,000 cards be
    made in well under a second, which argon2 would not."""
    return hmac.new(key, f"{number}:{secret}".encode(), hashlib.sha256).hexdigest()


def derive_key(app_secret: str, purpose: str) -> bytes:
    """A separate 32-byte key per purpose from the one app secret (hash key, export encryption key)."""
    return hmac.new(app_secret.encode(), f"marketplace.cards:{purpose}".encode(), hashlib.sha256).digest()


# --- batches ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchSpec:
    face_value: int
    count: int
    expires_on: date
    note: str


def validate_batch(face_value: object, count: object, expires_on: date, note: str, today: date) -> BatchSpec:
    """docs/rules.md §17: face value 10–100,000 coins, 1–10,000 cards, an expiry date not in the past."""
    if not isinstance(face_value, int) or isinstance(face_value, bool) or \
            not MIN_FACE_VALUE <= face_value <= MAX_FACE_VALUE:
        raise InvalidCardInput("Face value must be a whole number of coins from %(minimum)s to %(maximum)s.",
                               minimum=f"{MIN_FACE_VALUE:,}", maximum=f"{MAX_FACE_VALUE:,}")
    if not isinstance(count, int) or isinstance(count, bool) or not MIN_COUNT <= count <= MAX_COUNT:
        raise InvalidCardInput("Count must be from %(min_count)s to %(max_count)s cards.",
                               min_count=MIN_COUNT, max_count=f"{MAX_COUNT:,}")
    if expires_on < today:
        raise InvalidCardInput("The expiry date is in the past.")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidCardInput("The note is at most %(max_note)s characters.", max_note=MAX_NOTE)
    return BatchSpec(face_value, count, expires_on, note)


def check_activation(status: str, maker_id: int | None, checker_id: int) -> None:
    """Maker-checker (开通/复核): who before what, so the maker gets 403 whatever the batch's state."""
    if maker_id == checker_id:
        raise MakerCannotCheck()
    if status != "created":
        raise BatchStateConflict("The batch is already %(status)s.", status=status)


def is_expired(expires_on: date, today: date) -> bool:
    """A card is good through its expiry date (inclusive, UTC)."""
    return today > expires_on


def validate_sale(buyer: str, price: object) -> tuple[str, int]:
    buyer = " ".join(buyer.split())
    if not 1 <= len(buyer) <= MAX_BUYER:
        raise InvalidCardInput("The buyer is 1–%(max_buyer)s characters.", max_buyer=MAX_BUYER)
    if not isinstance(price, int) or isinstance(price, bool) or not 0 <= price <= MAX_SALE_PRICE:
        raise InvalidCardInput("The price is a whole number of coins, 0 or more.")
    return buyer, price


# --- redemption ------------------------------------------------------------------------------------------------


class Refusal(Enum):
    """Why a redemption fails; the caller turns every one but ALREADY_REDEEMED into the same 400."""

    UNKNOWN = "unknown"
    WRONG_SECRET = "wrong_secret"  # noqa: S105 - a reason code, not a credential
    LOCKED = "locked"
    NOT_ACTIVATED = "not_activated"
    VOID = "void"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class CardFacts:
    status: str
    batch_status: str
    expires_on: date
    secret_ok: bool
    recent_failures: int  # wrong secrets on this card in the lockout window


def redemption_refusal(card: CardFacts | None, today: date, lock_after: int) -> Refusal | None:
    """None when the card may be redeemed now. A locked card refuses even the right secret, and a card whose
    secret is wrong says nothing about its state; only the right secret learns "already redeemed" (409)."""
    if card is None:
        return Refusal.UNKNOWN
    if card.recent_failures >= lock_after:
        return Refusal.LOCKED
    if not card.secret_ok:
        return Refusal.WRONG_SECRET
    if card.status == "redeemed":
        raise CardAlreadyRedeemed()
    if card.batch_status != "activated":
        return Refusal.NOT_ACTIVATED
    if card.status == "void":
        return Refusal.VOID
    if is_expired(card.expires_on, today):
        return Refusal.EXPIRED
    return None
