from __future__ import annotations

from marketplace.errors import Conflict, InvalidInput, NotAuthenticated, PermissionDenied


class InvalidAccountData(InvalidInput):
    pass


class UsernameTaken(Conflict):
    default_detail = "That username is taken."


class EmailTaken(Conflict):
    default_detail = "That email address is already registered."


class InvalidCredentials(NotAuthenticated):
    default_detail = "Wrong username or password."


class AccountBanned(PermissionDenied):
    default_detail = "This account is suspended."
