"""Pure account rules (docs/api.md Accounts): what a username, an email and a password may be."""

from __future__ import annotations

import re

from marketplace.accounts.exceptions import InvalidAccountData

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{3,32}$")
# Deliberately loose: one @, something on both sides, a dot in the domain, no spaces. Deliverability is the
# mail server's business, not a regex's.
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
PASSWORD_MIN = 8
PASSWORD_MAX = 128


def normalize_username(username: str) -> str:
    username = username.strip()
    if not USERNAME_RE.fullmatch(username):
        raise InvalidAccountData("Username must be 3–32 characters of letters, digits and _.")
    return username


def normalize_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not EMAIL_RE.fullmatch(email):
        raise InvalidAccountData("Enter a valid email address.")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def check_password(password: str) -> str:
    if len(password) < PASSWORD_MIN:
        raise InvalidAccountData(f"Password must be at least {PASSWORD_MIN} characters.")
    if len(password) > PASSWORD_MAX:
        raise InvalidAccountData(f"Password must be at most {PASSWORD_MAX} characters.")
    return password


def mask_username(username: str) -> str:
    """Public bid history shows ``a***z`` (first and last character)."""
    if len(username) <= 2:
        return username[0] + "***"
    return f"{username[0]}***{username[-1]}"
