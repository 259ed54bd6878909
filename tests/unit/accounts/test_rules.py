import pytest

from marketplace.accounts import rules
from marketplace.accounts.exceptions import InvalidAccountData
from marketplace.accounts.passwords import hash_password, verify_password


@pytest.mark.parametrize("name", ["abc", "A_b_9", "x" * 32, "张三", "小明2026", "中文名", "王Wang_88", "José",
                                  "Иван", "さくら", "山田たろう", "김민수", "Σωκράτης", "张" * 16])
def test_valid_usernames(name: str) -> None:
    assert rules.normalize_username(f" {name} ") == name


@pytest.mark.parametrize("name", ["ab", "x" * 33, "has space", "dash-ed", "", "张", "张" * 33, "a.b", "emoji😀"])
def test_invalid_usernames(name: str) -> None:
    with pytest.raises(InvalidAccountData):
        rules.normalize_username(name)


def test_usernames_are_stored_nfkc() -> None:
    assert rules.normalize_username("Ｚｈａｎｇ３") == "Zhang3"  # full-width letters and digits
    assert rules.normalize_username("ﬁsh_man") == "fish_man"  # ligature


@pytest.mark.parametrize(("a", "b"), [("Zhang", "ZHANG"), ("Zhang", "Ｚｈａｎｇ"), ("strasse", "STRASSE"),
                                      ("straße", "strasse"), ("张三", "张三"), ("ΣΩΚΡΑΤΗΣ", "σωκρατης")])
def test_the_same_name_has_the_same_key(a: str, b: str) -> None:
    assert rules.username_key(a) == rules.username_key(b)


def test_different_names_have_different_keys() -> None:
    assert rules.username_key("张三") != rules.username_key("张四")
    assert rules.username_key("abc") != rules.username_key("abd")


@pytest.mark.parametrize("name", [
    "\u0430dmin_x",  # Cyrillic а + Latin: looks like "admin_x"
    "p\u0430ypal",  # Cyrillic а inside a Latin name
    "\u0440\u0430\u0443\u0440\u0430\u04cf",  # "раураӏ": all Cyrillic, every letter a Latin look-alike
    "\u03bf\u03c1\u03bf",  # "ορο": all Greek look-alikes
    "Ivan\u0418",  # Latin + Cyrillic
    "alpha\u03b1",  # Latin + Greek
    "\u5f20\u0418\u0432\u0430\u043d",  # Han + Cyrillic
])
def test_mixed_script_and_look_alike_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidAccountData, match=r"Cyrillic or Greek|Latin name spelt"):
        rules.normalize_username(name)


@pytest.mark.parametrize("name", [
    "zhang\u200bsan",  # zero-width space
    "zhang\u200dsan",  # zero-width joiner
    "zhang\u2060san",  # word joiner
    "\ufeffzhangsan",  # BOM / zero-width no-break space
    "zhang\u3164san",  # Hangul filler (a "letter" that shows nothing)
    "zhang\u00adsan",  # soft hyphen
    "zhang\u202esan",  # right-to-left override
    "zhang\u3000san",  # ideographic space
])
def test_invisible_characters_are_refused(name: str) -> None:
    with pytest.raises(InvalidAccountData, match="invisible"):
        rules.normalize_username(name)


def test_combining_marks_are_refused() -> None:
    with pytest.raises(InvalidAccountData):
        rules.normalize_username("zalgo\u0301\u0302\u0303")


@pytest.mark.parametrize("name", ["admin", "ADMIN", "Ａｄｍｉｎ", "admin_", "root", "System", "管理员", "客服",
                                  "官方", "support99"])
def test_reserved_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidAccountData, match="reserved"):
        rules.normalize_username(name)


def test_an_administrator_may_take_a_reserved_name() -> None:
    assert rules.normalize_username("admin", allow_reserved=True) == "admin"


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires"])
def test_valid_time_zones(zone: str) -> None:
    assert rules.check_time_zone(f" {zone} ") == zone


@pytest.mark.parametrize("zone", ["", "Mars/Olympus", "asia/shanghai", "../../etc/passwd", "/etc/localtime",
                                  "Asia/Shanghai\x00", "x" * 100])
def test_invalid_time_zones(zone: str) -> None:
    with pytest.raises(InvalidAccountData):
        rules.check_time_zone(zone)


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
