"""Card use cases (docs/rules.md §17): batches (maker-checker), the one secret export, sales, refunds, exchanges,
voids, and redemption into the wallet.

Every coin movement goes through :func:`marketplace.wallet.ledger.post` (platform ``card_float`` → the user's
available coins); every step writes a :class:`CardEvent` with its actor. Services flush, never commit.
"""

from __future__ import annotations

import base64
import csv
import hmac
import io
import math
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

from cryptography.fernet import Fernet
from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import User
from marketplace.cards import rules
from marketplace.cards.exceptions import (
    AlreadyExported,
    BatchNotFound,
    CardNotFound,
    CardStateConflict,
    InvalidCard,
    TooManyCardFailures,
)
from marketplace.cards.models import Card, CardBatch, CardEvent, CardRedeemFailure
from marketplace.db import utcnow
from marketplace.settings import Settings
from marketplace.wallet import ledger

NUMBER_CHUNK = 1000  # numbers per IN (...) when checking fresh numbers against the table
CSV_HEADER = ("number", "secret", "face_value", "expires_on")
# Core inserts for the bulk path: the ORM's bulk insert spent a third of the time building 10,000 parameter sets.
CARDS = cast(Table, Card.__table__)


@dataclass(frozen=True, slots=True)
class BatchSummary:
    batch: CardBatch
    created_by: str
    activated_by: str | None
    exported_by: str | None
    counts: dict[str, int] = field(default_factory=dict)  # by current card status
    # Sales recorded, each once: a refunded or redeemed card was still sold; an exchange moves the sale record to
    # the replacement card, so the retired original is not counted again. Refunds: the sales taken back.
    sales_count: int = 0
    sales_total: int = 0
    refunds_count: int = 0
    refunds_total: int = 0

    @property
    def issued(self) -> int:
        return sum(self.counts.values())

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    def coins(self, status: str | None = None) -> int:
        return (self.issued if status is None else self.count(status)) * self.batch.face_value


@dataclass(frozen=True, slots=True)
class Redeemed:
    card: Card
    coins: int
    available: int


@dataclass(frozen=True, slots=True)
class Exchanged:
    old: Card
    new: Card
    secret: str


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    batch_id: int
    card_number: str | None
    action: str
    actor: str | None
    detail: str
    created_at: datetime


class CardService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self._hash_key = rules.derive_key(settings.secret_key, "secret-hash")
        self._fernet = Fernet(base64.urlsafe_b64encode(rules.derive_key(settings.secret_key, "export")))

    # --- batches -------------------------------------------------------------------------------------------------

    async def create_batch(self, admin_id: int, *, face_value: object, count: object, expires_on: date,
                           note: str = "", now: datetime | None = None,
                           randbelow: rules.RandBelow | None = None) -> CardBatch:
        """The maker's step: a batch in status ``created`` with ``count`` new cards, inserted in bulk.

        Secrets are generated here and stored twice: as a keyed hash on each card (what redemption checks), and
        encrypted on the batch until the one export wipes them.
        """
        now = now or utcnow()
        spec = rules.validate_batch(face_value, count, expires_on, note, now.date())
        batch = CardBatch(face_value=spec.face_value, count=spec.count, expires_on=spec.expires_on, note=spec.note,
                          status="created", created_by_id=admin_id, created_at=now)
        self.session.add(batch)
        await self.session.flush()
        pairs = await self._insert_cards(batch.id, rules.new_cards(spec.count, randbelow or secrets.randbelow), now)
        batch.secrets_enc = self._fernet.encrypt("\n".join(f"{n},{s}" for n, s in pairs).encode()).decode()
        self._event(batch.id, None, "create", admin_id,
                    f"{spec.count} cards of {spec.face_value} coins, expire {spec.expires_on.isoformat()}", now)
        await self.session.flush()
        return batch

    async def _insert_cards(self, batch_id: int, pairs: list[tuple[str, str]],
                            now: datetime) -> list[tuple[str, str]]:
        """Insert the cards in bulk; returns the (number, secret) pairs actually stored.

        The unique index decides collisions with existing cards (``ON CONFLICT DO NOTHING``) instead of a lookup
        first: checking 10,000 numbers with ``IN (...)`` lists took seconds once the table had rows. A number
        that collided (one chance in ~10^11 per card) is replaced and inserted again.
        """
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stored: list[tuple[str, str]] = []
        mine: set[str] = set()
        while pairs:
            # One executemany (insertmanyvalues): ~1,000 rows per statement.
            await self.session.execute(insert(CARDS).on_conflict_do_nothing(index_elements=["number"]), [
                {"batch_id": batch_id, "number": n, "secret_hash": rules.secret_hash(self._hash_key, n, sec),
                 "status": "new", "created_at": now}
                for n, sec in pairs
            ])
            expected = len(mine) + len(pairs)
            if await self.session.scalar(select(func.count(Card.id)).where(Card.batch_id == batch_id)) == expected:
                return sorted(stored + pairs)  # the usual case: no collision, no read-back
            before = mine
            mine = set((await self.session.scalars(select(Card.number).where(Card.batch_id == batch_id))).all())
            stored += [(n, sec) for n, sec in pairs if n in mine and n not in before]
            lost = sum(1 for n, _ in pairs if n not in mine)
            pairs = [(n, rules.new_secret()) for n in await self._fresh_numbers(lost, exclude=mine)] if lost else []
        return sorted(stored)

    async def _taken(self, numbers: list[str]) -> set[str]:
        taken: set[str] = set()
        for i in range(0, len(numbers), NUMBER_CHUNK):
            taken |= set((await self.session.scalars(
                select(Card.number).where(Card.number.in_(numbers[i:i + NUMBER_CHUNK])))).all())
        return taken

    async def _fresh_numbers(self, count: int, exclude: set[str] | None = None) -> list[str]:
        """``count`` distinct numbers not yet in the table (a collision in 9×10^14 is rare, but never silent)."""
        chosen: set[str] = set()
        exclude = exclude or set()
        while len(chosen) < count:
            candidates = {rules.new_number() for _ in range(count - len(chosen))} - chosen - exclude
            candidates -= await self._taken(sorted(candidates))
            chosen |= candidates
        return sorted(chosen)

    async def _batch(self, batch_id: int, *, lock: bool = False) -> CardBatch:
        stmt = select(CardBatch).where(CardBatch.id == batch_id)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        batch = await self.session.scalar(stmt)
        if batch is None:
            raise BatchNotFound()
        return batch

    async def activate(self, batch_id: int, admin_id: int, now: datetime | None = None) -> CardBatch:
        """The checker's step (开通/复核). The row lock makes two checkers racing activate it once (one 409)."""
        now = now or utcnow()
        batch = await self._batch(batch_id, lock=True)
        rules.check_activation(batch.status, batch.created_by_id, admin_id)
        batch.status = "activated"
        batch.activated_by_id = admin_id
        batch.activated_at = now
        self._event(batch.id, None, "activate", admin_id, "", now)
        await self.session.flush()
        return batch

    async def export(self, batch_id: int, admin_id: int, now: datetime | None = None) -> str:
        """The batch's CSV ``number,secret,face_value,expires_on``, exactly once: the encrypted secrets are read
        and wiped (NULL) in this transaction, under the batch row lock, so a concurrent second export waits and
        then gets 409. Cards already voided are left out (their secrets are worthless)."""
        now = now or utcnow()
        batch = await self._batch(batch_id, lock=True)
        if batch.exported_at is not None or batch.secrets_enc is None:
            raise AlreadyExported()
        plain = self._fernet.decrypt(batch.secrets_enc.encode()).decode()
        void = set((await self.session.scalars(
            select(Card.number).where(Card.batch_id == batch.id, Card.status == "void"))).all())
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        rows = 0
        for line in plain.splitlines():
            number, secret = line.split(",", 1)
            if number in void:
                continue
            writer.writerow((number, secret, batch.face_value, batch.expires_on.isoformat()))
            rows += 1
        batch.secrets_enc = None
        batch.exported_at = now
        batch.exported_by_id = admin_id
        self._event(batch.id, None, "export", admin_id, f"{rows} secrets exported and wiped", now)
        await self.session.flush()
        return out.getvalue()

    async def summary(self, batch_id: int) -> BatchSummary:
        return (await self._summaries([await self._batch(batch_id)]))[0]

    async def list_batches(self, limit: int = 100) -> list[BatchSummary]:
        batches = list((await self.session.scalars(
            select(CardBatch).order_by(CardBatch.id.desc()).limit(limit))).all())
        return await self._summaries(batches)

    async def _summaries(self, batches: list[CardBatch]) -> list[BatchSummary]:
        if not batches:
            return []
        ids = [b.id for b in batches]
        counts: dict[int, dict[str, int]] = {i: {} for i in ids}
        for batch_id, status, n in (await self.session.execute(
                select(Card.batch_id, Card.status, func.count(Card.id))
                .where(Card.batch_id.in_(ids)).group_by(Card.batch_id, Card.status))).tuples():
            counts[batch_id][status] = int(n)
        sales: dict[int, list[int]] = {i: [0, 0, 0, 0] for i in ids}
        for batch_id, reason, n, total in (await self.session.execute(
                select(Card.batch_id, Card.void_reason, func.count(Card.id), func.sum(Card.sold_price))
                .where(Card.batch_id.in_(ids), Card.sold_at.is_not(None))
                .group_by(Card.batch_id, Card.void_reason))).tuples():
            if reason == "exchange":
                continue
            sales[batch_id][0] += int(n)
            sales[batch_id][1] += int(total or 0)
            if reason == "refund":
                sales[batch_id][2] += int(n)
                sales[batch_id][3] += int(total or 0)
        user_ids = {u for b in batches for u in (b.created_by_id, b.activated_by_id, b.exported_by_id) if u}
        names = await self._usernames(user_ids)
        return [BatchSummary(batch=b, created_by=names.get(b.created_by_id, "?"),
                             activated_by=names.get(b.activated_by_id) if b.activated_by_id else None,
                             exported_by=names.get(b.exported_by_id) if b.exported_by_id else None,
                             counts=counts[b.id], sales_count=sales[b.id][0], sales_total=sales[b.id][1],
                             refunds_count=sales[b.id][2], refunds_total=sales[b.id][3]) for b in batches]

    async def _usernames(self, user_ids: set[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        return dict((await self.session.execute(
            select(User.id, User.username).where(User.id.in_(user_ids)))).tuples().all())

    # --- cards (admin) -------------------------------------------------------------------------------------------

    async def card(self, raw_number: str, *, lock: bool = False) -> Card:
        number = rules.normalize_number(raw_number)
        if not rules.is_valid_number(number):
            raise CardNotFound()
        stmt = select(Card).where(Card.number == number)
        if lock:
            # Lock, then decide: sale, refund, exchange, void and redemption all re-read the card under this lock.
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        card = await self.session.scalar(stmt)
        if card is None:
            raise CardNotFound()
        return card

    async def batch_of(self, card: Card) -> CardBatch:
        return await self._batch(card.batch_id)

    async def sell(self, raw_number: str, admin_id: int, buyer: str, price: object,
                   now: datetime | None = None) -> Card:
        """售卡: record who bought a new card and what they paid. Only cards of an activated, unexpired batch."""
        now = now or utcnow()
        buyer, amount = rules.validate_sale(buyer, price)
        card = await self.card(raw_number, lock=True)
        batch = await self.batch_of(card)
        status = rules.transition(card.status, "sell")
        if batch.status != "activated":
            raise CardStateConflict("The card's batch has not been activated yet.")
        if rules.is_expired(batch.expires_on, now.date()):
            raise CardStateConflict("The card has expired.")
        card.status = status
        card.sold_to, card.sold_price, card.sold_by_id, card.sold_at = buyer, amount, admin_id, now
        self._event(batch.id, card.id, "sell", admin_id, f"to {buyer} for {amount}", now)
        await self.session.flush()
        return card

    async def void(self, raw_number: str, admin_id: int, now: datetime | None = None) -> Card:
        """注销: a new or sold card can never be redeemed again."""
        return await self._retire(raw_number, admin_id, "void", now or utcnow())

    async def refund(self, raw_number: str, admin_id: int, now: datetime | None = None) -> Card:
        """退卡: a sold, unredeemed card is taken back; it is retired (void), never sold again."""
        return await self._retire(raw_number, admin_id, "refund", now or utcnow())

    async def _retire(self, raw_number: str, admin_id: int, action: rules.CardAction, now: datetime,
                      detail: str = "") -> Card:
        card = await self.card(raw_number, lock=True)
        card.status = rules.transition(card.status, action)
        card.voided_by_id, card.voided_at, card.void_reason = admin_id, now, action
        if action == "refund" and not detail:
            detail = f"sale to {card.sold_to} for {card.sold_price} refunded"
        self._event(card.batch_id, card.id, action, admin_id, detail, now)
        await self.session.flush()
        return card

    async def exchange(self, raw_number: str, admin_id: int, now: datetime | None = None) -> Exchanged:
        """调换: the unredeemed card is retired and a replacement with a fresh number and secret takes its place
        in the same batch and state (a sold card's sale record moves with it). The new secret is returned once
        and stored only hashed."""
        now = now or utcnow()
        old = await self.card(raw_number, lock=True)
        previous = old.status
        rules.transition(previous, "exchange")
        (number,) = await self._fresh_numbers(1)
        secret = rules.new_secret()
        new = Card(batch_id=old.batch_id, number=number, secret_hash=rules.secret_hash(self._hash_key, number, secret),
                   status=previous, sold_to=old.sold_to, sold_price=old.sold_price, sold_by_id=old.sold_by_id,
                   sold_at=old.sold_at, created_at=now)
        self.session.add(new)
        await self.session.flush()
        old.replaced_by_id = new.id
        await self._retire(old.number, admin_id, "exchange", now, detail=f"replaced by {number}")
        self._event(new.batch_id, new.id, "issue", admin_id, f"replaces {old.number}", now)
        await self.session.flush()
        return Exchanged(old=old, new=new, secret=secret)

    # --- redemption ----------------------------------------------------------------------------------------------

    async def redeem(self, user_id: int, raw_number: str, raw_secret: str, now: datetime | None = None) -> Redeemed:
        """number + secret → face value in coins (platform ``card_float`` → the user's available coins).

        Refusals: ``TooManyCardFailures`` (429) once the user has failed ``card_user_failures`` times within the
        window; ``CardAlreadyRedeemed`` (409) only for the right secret; ``InvalidCard`` (400, one message) for
        everything else, after recording the failure — the caller must commit that record although the request
        fails (the failures are the lockout's and the throttle's memory across processes).

        Locks, in this order: the user's row (``FOR NO KEY UPDATE``: one user's attempts queue, so the counts are
        exact; foreign-key checks on the user are not blocked), the card row (two redemptions of one card queue;
        the second sees ``redeemed``), then the ledger's account rows inside ``post``. The ledger key
        ``card:<id>:redeem`` is a second, independent guarantee that a card credits once.
        """
        now = now or utcnow()
        s = self.settings
        await self.session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))
        since_user = now - timedelta(seconds=s.card_user_window_seconds)
        failures, oldest = (await self.session.execute(
            select(func.count(CardRedeemFailure.id), func.min(CardRedeemFailure.created_at))
            .where(CardRedeemFailure.user_id == user_id, CardRedeemFailure.created_at > since_user))).one()
        if int(failures) >= s.card_user_failures:
            retry = math.ceil((oldest + timedelta(seconds=s.card_user_window_seconds) - now).total_seconds())
            raise TooManyCardFailures(retry_after=max(1, retry))

        number, secret = rules.normalize_number(raw_number), rules.normalize_secret(raw_secret)
        # Hash even when the number is malformed or unknown, so every refusal costs the same time.
        digest = rules.secret_hash(self._hash_key, number, secret)
        card = None
        if rules.is_valid_number(number):
            card = await self.session.scalar(
                select(Card).where(Card.number == number).with_for_update().execution_options(populate_existing=True))
        batch = await self._batch(card.batch_id) if card is not None else None
        facts = None
        if card is not None and batch is not None:
            since_card = now - timedelta(seconds=s.card_lock_window_seconds)
            wrong = int(await self.session.scalar(
                select(func.count(CardRedeemFailure.id)).where(
                    CardRedeemFailure.card_id == card.id, CardRedeemFailure.reason == "wrong_secret",
                    CardRedeemFailure.created_at > since_card)) or 0)
            secret_ok = rules.is_well_formed_secret(secret) and hmac.compare_digest(digest, card.secret_hash)
            facts = rules.CardFacts(status=card.status, batch_status=batch.status, expires_on=batch.expires_on,
                                    secret_ok=secret_ok, recent_failures=wrong)
        refusal = rules.redemption_refusal(facts, now.date(), s.card_lock_failures)
        if refusal is not None:
            await self._failed(user_id, card, refusal, now, facts)
            raise InvalidCard()
        assert card is not None
        assert batch is not None
        card.status = rules.transition(card.status, "redeem")
        card.redeemed_by_id, card.redeemed_at = user_id, now
        await ledger.post(
            self.session, kind="card_redeem",
            legs=[ledger.Leg(ledger.platform("card_float"), -batch.face_value),
                  ledger.Leg(ledger.available(user_id), batch.face_value)],
            ref_type="card", ref_id=card.id, idempotency_key=f"card:{card.id}:redeem",
            memo=f"card {card.number[-4:]} redeemed", created_by_id=user_id,
        )
        self._event(batch.id, card.id, "redeem", user_id, f"{batch.face_value} coins", now)
        await self.session.flush()
        available, _held = await ledger.wallet_balances(self.session, user_id)
        return Redeemed(card=card, coins=batch.face_value, available=available)

    async def _failed(self, user_id: int, card: Card | None, refusal: rules.Refusal, now: datetime,
                      facts: rules.CardFacts | None) -> None:
        reason = refusal.value
        self.session.add(CardRedeemFailure(user_id=user_id, card_id=card.id if card else None, reason=reason,
                                           created_at=now))
        if card is not None and reason == "wrong_secret" and facts is not None and \
                facts.recent_failures + 1 == self.settings.card_lock_failures:
            self._event(card.batch_id, card.id, "lock", user_id,
                        f"{self.settings.card_lock_failures} wrong secrets: locked", now)
        await self.session.flush()

    # --- audit log -----------------------------------------------------------------------------------------------

    def _event(self, batch_id: int, card_id: int | None, action: str, actor_id: int | None, detail: str,
               now: datetime) -> None:
        self.session.add(CardEvent(batch_id=batch_id, card_id=card_id, action=action, actor_id=actor_id,
                                   detail=detail[:500], created_at=now))

    async def events(self, *, batch_id: int | None = None, card_id: int | None = None,
                     limit: int = 50) -> list[EventView]:
        stmt = (select(CardEvent, Card.number, User.username)
                .outerjoin(Card, Card.id == CardEvent.card_id)
                .outerjoin(User, User.id == CardEvent.actor_id)
                .order_by(CardEvent.id.desc()).limit(limit))
        if batch_id is not None:
            stmt = stmt.where(CardEvent.batch_id == batch_id)
        if card_id is not None:
            stmt = stmt.where(CardEvent.card_id == card_id)
        return [EventView(id=e.id, batch_id=e.batch_id, card_number=number, action=e.action, actor=username,
                          detail=e.detail, created_at=e.created_at)
                for e, number, username in (await self.session.execute(stmt)).tuples()]
