from __future__ import annotations

import msgspec

from marketplace.addresses.models import Address


class AddressOut(msgspec.Struct):
    id: int
    name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str
    is_default: bool

    @classmethod
    def of(cls, a: Address) -> AddressOut:
        return cls(id=a.id, name=a.name, phone=a.phone, province=a.province, city=a.city, district=a.district,
                   detail=a.detail, is_default=a.is_default)
