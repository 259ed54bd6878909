import pytest

from marketplace.accounts import rules
from marketplace.accounts.exceptions import InvalidAccountData
from marketplace.accounts.passwords import hash_password, verify_password


@pytest.mark.parametrize("name", ["abc", "A_b_9", "x" * 32])
def test_valid_usernames(name: str) -> None:
    assert rules.normalize_username(f" {name} ") == name


@pytest.mark.parametrize("name", ["ab", "x" * 33, "has space", "中文名", "dash-ed", ""])
def test_invalid_usernames(name: str) -> None:
    with pytest.raises(InvalidAccountData):
        rules.normalize_username(name)


@pytest.mark.parametrize("email", ["a@b.co", "First.Last+tag@Example.COM"])
def test_valid_emails(email: str) -> None:
    assert "@" in rules.normalize_email(email)


def test_email_domain_is_lowercased_but_local_part_kept() -> None:
    assert rules.normalize_email("Mix@EXAMPLE.com") == "Mix@example.com"


@pytest.mark.parametrize("email", ["", "no-at", "a@b", "a b@c.d", "a@@b.c"])
def test_invalid_emails(email: str) -> None:
    with pytest.raises(InvalidAccountData):
        rules.normalize_email(email)


@pytest.mark.parametrize("password", ["", "short", "x" * 7, "y" * 129])
def test_password_length(password: str) -> None:
    with pytest.raises(InvalidAccountData):
        rules.check_password(password)


def test_mask_username() -> None:
    assert rules.mask_username("alice") == "a***e"
    assert rules.mask_username("ab") == "a***"


def test_argon2_round_trip() -> None:
    h = hash_password("s3cret-password")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "s3cret-password")
    assert not verify_password(h, "wrong-password")
    assert not verify_password(None, "anything")
