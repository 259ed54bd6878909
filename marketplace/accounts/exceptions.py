from __future__ import annotations

from marketplace.errors import Conflict, InvalidInput, NotAuthenticated, PermissionDenied


class InvalidAccountData(InvalidInput):
    pass


# One sentence for both conflicts: the answer does not say whether it was the (public) username or the
# (private) e-mail address that is already registered (issue 11).
ALREADY_REGISTERED = "That username or e-mail address is taken."


class UsernameTaken(Conflict):
    default_detail = ALREADY_REGISTERED


class EmailTaken(Conflict):
    default_detail = ALREADY_REGISTERED


class InvalidCredentials(NotAuthenticated):
    default_detail = "Wrong username or password."


class AccountBanned(PermissionDenied):
    default_detail = "This account is suspended."
