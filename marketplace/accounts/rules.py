"""Pure account rules (docs/api.md Accounts, docs/rules.md "Usernames"): what a username, an email, a password
and a time zone may be."""

from __future__ import annotations

import re
import unicodedata

from marketplace.accounts.exceptions import InvalidAccountData
from marketplace.localtime import is_valid_zone

# Deliberately loose: one @, something on both sides, a dot in the domain, no spaces. Deliverability is the
# mail server's business, not a regex's.
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
PASSWORD_MIN = 8
PASSWORD_MAX = 128
USERNAME_MAX = 32  # characters, after NFKC
USERNAME_MIN_WIDTH = 3  # display columns: a Chinese character counts two, so 张三 (4) passes and "ab" (2) does not
USERNAME_KEY_MAX = 96  # casefolding can lengthen a name (ß → ss); the column is this wide

# Names nobody may register: they would pass for the platform speaking (compared by key, so "ADMIN" too).
RESERVED = frozenset({
    "admin", "administrator", "root", "system", "support", "staff", "moderator", "official", "security",
    "api", "www", "help", "null", "none", "undefined", "anonymous", "me", "settings", "login", "logout",
    "register", "static", "media", "coinmarket", "管理员", "客服", "官方", "系统", "平台", "币集",
})
# Letters a Cyrillic or Greek name can be spelt with that read as Latin ones (Unicode confusables, the common
# lower-case subset after casefolding): a name made only of these is a whole-script look-alike of a Latin name.
LATIN_LOOKALIKES = frozenset(
    "аеорсухіјѕԁһӏԛԝ"  # Cyrillic
    "αικνορτυχ"  # Greek
)
# Letters that render as nothing (Hangul fillers are letters, Lo, so the category check does not catch them).
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
# Scripts a name may mix (besides digits and "_"): Chinese with Latin, Japanese, Korean. Cyrillic or Greek only
# on their own.
ALLOWED_MIXES = (
    frozenset({"Latin", "Han"}),
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Hangul"}),
    frozenset({"Cyrillic"}),
    frozenset({"Greek"}),
)
_SCRIPT_PREFIXES = (
    ("LATIN ", "Latin"), ("CYRILLIC ", "Cyrillic"), ("GREEK ", "Greek"), ("CJK UNIFIED IDEOGRAPH", "Han"),
    ("CJK COMPATIBILITY IDEOGRAPH", "Han"), ("HIRAGANA ", "Hiragana"), ("KATAKANA ", "Katakana"),
    ("HANGUL SYLLABLE ", "Hangul"),
)
_SPECIAL_SCRIPTS = {"々": "Han", "〆": "Han", "ー": "Katakana"}


def script_of(char: str) -> str | None:
    """The script of a letter allowed in a username, or None (any other letter is refused)."""
    if char in _SPECIAL_SCRIPTS:
        return _SPECIAL_SCRIPTS[char]
    if unicodedata.category(char) not in ("Lu", "Ll", "Lo"):
        return None
    name = unicodedata.name(char, "")
    for prefix, script in _SCRIPT_PREFIXES:
        if name.startswith(prefix):
            return script
    return None


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def username_key(username: str) -> str:
    """What "the same name" means (the unique ``users.username_key``): NFKC, casefolded, NFKC again (Unicode's
    NFKC_Casefold, near enough), so "Zhang", "ZHANG" and "Ｚｈａｎｇ" collide and so do "ß" and "ss"."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username.strip()).casefold())


def normalize_username(username: str, *, allow_reserved: bool = False) -> str:
    """The name as stored (NFKC, trimmed) or ``InvalidAccountData`` saying why not.

    Allowed: letters of one script (or Chinese mixed with Latin, Japanese kana, Korean), ASCII digits and "_";
    3–32 display columns wide (a Chinese character counts two). Refused: invisible and zero-width characters,
    combining marks and symbols, Latin mixed with Cyrillic or Greek ("аdmin" with a Cyrillic а), names spelt
    entirely with Cyrillic or Greek letters that pass for Latin ones ("раураl"), and reserved names.
    """
    name = unicodedata.normalize("NFKC", username).strip()
    if not name:
        raise InvalidAccountData("Choose a username.")
    scripts: set[str] = set()
    for char in name:
        category = unicodedata.category(char)
        if char in INVISIBLE_LETTERS or category in ("Cf", "Cc", "Co", "Cs", "Cn", "Zs", "Zl", "Zp"):
            raise InvalidAccountData("A username cannot contain spaces or invisible characters.")
        if char == "_" or "0" <= char <= "9":
            continue
        script = script_of(char)
        if script is None:
            raise InvalidAccountData("A username may only contain letters, digits and _.")
        scripts.add(script)
    if len(name) > USERNAME_MAX or _width(name) < USERNAME_MIN_WIDTH:
        raise InvalidAccountData("A username must be 3–32 characters long (a Chinese character counts as two).")
    if scripts and not any(scripts <= allowed for allowed in ALLOWED_MIXES):
        raise InvalidAccountData("A username cannot mix Latin letters with Cyrillic or Greek ones.")
    key = username_key(name)
    letters = [c for c in key if c != "_" and not c.isdigit()]
    if scripts & {"Cyrillic", "Greek"} and letters and all(c in LATIN_LOOKALIKES for c in letters):
        raise InvalidAccountData("That username looks like a Latin name spelt with other letters.")
    if not allow_reserved and (key in RESERVED or key.strip("_0123456789") in RESERVED):
        raise InvalidAccountData("That username is reserved.")
    return name


def normalize_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not EMAIL_RE.fullmatch(email):
        raise InvalidAccountData("Enter a valid email address.")
    local, _sep, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def check_password(password: str) -> str:
    if len(password) < PASSWORD_MIN:
        raise InvalidAccountData("Password must be at least %(n)d characters.", n=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        raise InvalidAccountData("Password must be at most %(n)d characters.", n=PASSWORD_MAX)
    return password


def check_time_zone(name: str) -> str:
    """An IANA zone name this machine knows (``Asia/Shanghai``, ``Europe/Berlin``, ``UTC``)."""
    name = name.strip()
    if not is_valid_zone(name):
        raise InvalidAccountData("Choose a time zone from the list (an IANA name such as Asia/Shanghai).")
    return name


def mask_username(username: str) -> str:
    """Public bid history shows ``a***z`` (first and last character)."""
    if len(username) <= 2:
        return username[0] + "***"
    return f"{username[0]}***{username[-1]}"
