"""JSON API of the address book (docs/api.md "Addresses"): list, add, change, delete, make default."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath

from marketplace.addresses.rules import InvalidAddress
from marketplace.addresses.schemas import AddressOut
from marketplace.addresses.services import AddressBook
from marketplace.web.auth import requires_login
from marketplace.web.deps import DB, AuthUser


async def _body(request: Request[Any, Any, Any]) -> dict[str, object]:
    try:
        raw = await request.json()
    except Exception:
        raise InvalidAddress("The body must be a JSON object.") from None
    if not isinstance(raw, dict):
        raise InvalidAddress("The body must be a JSON object.")
    return raw


class AddressController(Controller):
    path = "/me/addresses"
    tags = ("addresses",)
    guards = (requires_login,)

    @get("/", summary="My address book, the default first")
    async def list_addresses(self, user: AuthUser, db_session: DB) -> list[AddressOut]:
        return [AddressOut.of(a) for a in await AddressBook(db_session, user.id).list()]

    @post("/", status_code=201, summary="Add an address (the first one becomes the default)")
    async def add(self, request: Request[Any, Any, Any], user: AuthUser, db_session: DB) -> AddressOut:
        raw = await _body(request)
        address = await AddressBook(db_session, user.id).add(raw, make_default=raw.get("is_default") is True)
        return AddressOut.of(address)

    @patch("/{address_id:int}", summary="Change an address (any subset of fields; is_default: true)")
    async def change(self, request: Request[Any, Any, Any], address_id: FromPath[int], user: AuthUser,
                     db_session: DB) -> AddressOut:
        address = await AddressBook(db_session, user.id).update(address_id, await _body(request))
        return AddressOut.of(address)

    @delete("/{address_id:int}", status_code=204, summary="Delete an address (orders keep their copy)")
    async def remove(self, address_id: FromPath[int], user: AuthUser, db_session: DB) -> None:
        await AddressBook(db_session, user.id).delete(address_id)


ROUTES = [AddressController]
