"""The address book (docs/rules.md §19.4). Services flush, never commit."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.addresses import rules
from marketplace.addresses.models import Address
from marketplace.errors import NotFound


class AddressNotFound(NotFound):
    default_detail = "Address not found."


class AddressBook:
    def __init__(self, session: AsyncSession, user_id: int) -> None:
        self.session = session
        self.user_id = user_id

    async def list(self) -> list[Address]:
        return list(await self.session.scalars(
            select(Address).where(Address.user_id == self.user_id)
            .order_by(Address.is_default.desc(), Address.id)))

    async def get(self, address_id: object) -> Address:
        """One of the user's own addresses; anyone else's (or none) is a 404."""
        if type(address_id) is not int:
            try:
                address_id = int(str(address_id))
            except ValueError:
                raise AddressNotFound() from None
        address = await self.session.get(Address, address_id)
        if address is None or address.user_id != self.user_id:
            raise AddressNotFound()
        return address

    async def default(self) -> Address | None:
        rows = await self.list()
        return rows[0] if rows else None

    async def add(self, raw: dict[str, object], *, make_default: bool = False) -> Address:
        data = rules.clean(raw)
        count = await self.session.scalar(select(func.count()).select_from(Address)
                                          .where(Address.user_id == self.user_id))
        if (count or 0) >= rules.MAX_ADDRESSES:
            raise rules.InvalidAddress("An address book holds at most %(n)s addresses.", n=rules.MAX_ADDRESSES)
        address = Address(user_id=self.user_id, name=data.name, phone=data.phone, province=data.province,
                          city=data.city, district=data.district, detail=data.detail, is_default=False)
        self.session.add(address)
        await self.session.flush()
        if make_default or not count:
            await self.set_default(address.id)
        return address

    async def update(self, address_id: object, raw: dict[str, object]) -> Address:
        address = await self.get(address_id)
        merged = {**address.snapshot(), **{k: v for k, v in raw.items() if v is not None}}
        data = rules.clean(merged)
        for field in ("name", "phone", "province", "city", "district", "detail"):
            setattr(address, field, getattr(data, field))
        if raw.get("is_default") is True:
            await self.set_default(address.id)
        await self.session.flush()
        return address

    async def set_default(self, address_id: int) -> None:
        await self.session.execute(update(Address).where(Address.user_id == self.user_id)
                                   .values(is_default=Address.id == address_id))
        await self.session.flush()
        for obj in self.session.identity_map.values():
            if isinstance(obj, Address) and obj.user_id == self.user_id:
                await self.session.refresh(obj, ["is_default"])

    async def delete(self, address_id: object) -> None:
        address = await self.get(address_id)
        await self.session.delete(address)
        await self.session.flush()
