"""Pure address rules (docs/rules.md §19.4): mainland China formats. No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from marketplace.errors import InvalidInput

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
MAX_ADDRESSES = 20
LIMITS = {"name": 50, "province": 30, "city": 30, "district": 30, "detail": 200}


class InvalidAddress(InvalidInput):
    default_detail = "Invalid address."


@dataclass(frozen=True, slots=True)
class AddressInput:
    name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str


def clean(raw: dict[str, object]) -> AddressInput:
    """Trimmed, validated fields: every part required, an 11-digit mainland mobile number 1[3-9]xxxxxxxxx
    (spaces and dashes ignored; a +86 / 86 prefix accepted)."""
    values: dict[str, str] = {}
    for field, limit in LIMITS.items():
        value = raw.get(field)
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            raise InvalidAddress("%(field)s is required.", field=field)
        if len(text) > limit:
            raise InvalidAddress("%(field)s is at most %(limit)s characters.", field=field, limit=limit)
        values[field] = text
    phone = raw.get("phone")
    digits = re.sub(r"[\s-]", "", phone) if isinstance(phone, str) else ""
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not MOBILE_RE.match(digits):
        raise InvalidAddress("phone must be an 11-digit mainland mobile number (1[3-9] and 9 more digits).")
    return AddressInput(phone=digits, **values)


def one_line(snapshot: dict[str, str]) -> str:
    """The address as the Chinese post writes it: province city district detail."""
    return " ".join(snapshot.get(k, "") for k in ("province", "city", "district", "detail")).strip()
