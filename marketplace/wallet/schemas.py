"""JSON shapes of the wallet API (docs/api.md, Wallet and top-up)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec


class WalletOut(msgspec.Struct):
    available: int
    held: int


class MeOut(msgspec.Struct):
    id: int
    username: str
    email: str
    is_admin: bool
    wallet: WalletOut


class EntryOut(msgspec.Struct):
    id: int
    account: str
    amount: int
    kind: str
    ref: str | None
    balance_after: int | None
    created_at: datetime
    memo: str = ""


class EntryPageOut(msgspec.Struct):
    items: list[EntryOut]
    total: int
    page: int
    per_page: int


class TopUpIn(msgspec.Struct):
    coins: int


class TopUpCreatedOut(msgspec.Struct):
    id: int
    out_trade_no: str
    coins: int
    amount_yuan: str
    status: str
    pay_url: str


class TopUpOut(msgspec.Struct):
    id: int
    status: str
    coins: int
    out_trade_no: str
    amount_yuan: str
    created_at: datetime
    paid_at: datetime | None


class AdjustmentIn(msgspec.Struct):
    coins: int
    reason: Annotated[str, msgspec.Meta(max_length=500)]


class AdjustmentOut(msgspec.Struct):
    entry_id: int
    available: int
    transaction_id: int
