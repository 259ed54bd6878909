"""The one way coins move: :func:`post` writes a balanced transaction (docs/architecture.md).

Account keys name accounts without knowing their ids: ``available(user_id)``, ``held(user_id)``,
``escrow(order_id)``, ``platform("revenue")``. Every other module (fees, holds, escrow, payouts, refunds,
top-ups, adjustments, shop plans) calls :func:`post`; nothing else writes ``ledger_*`` rows or balances.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

# Every mapped class, so the flush can resolve ledger_accounts.order_id → orders.id even in a process where
# nothing else imported the orders models yet (a bare `serve` before the orders domain is loaded).
from marketplace import db
from marketplace import models as _all_models  # noqa: F401
from marketplace.wallet import rules
from marketplace.wallet.exceptions import InsufficientCoins, InsufficientPoints, UnbalancedTransaction
from marketplace.wallet.models import PLATFORM_KINDS, LedgerAccount, LedgerEntry, LedgerTransaction, unit_of


@dataclass(frozen=True, slots=True)
class AccountKey:
    kind: str
    user_id: int | None = None
    order_id: int | None = None

    @property
    def key(self) -> str:
        if self.kind in PLATFORM_KINDS:
            return f"platform:{self.kind}"
        if self.kind == "escrow":
            return f"order:{self.order_id}:escrow"
        return f"user:{self.user_id}:{self.kind}"

    @property
    def has_running_balance(self) -> bool:
        return self.kind not in PLATFORM_KINDS

    @property
    def unit(self) -> str:
        """``"coins"`` or ``"points"`` (docs/rules.md §14: points are a second ledger in their own unit)."""
        return unit_of(self.kind)


def available(user_id: int) -> AccountKey:
    return AccountKey("available", user_id=user_id)


def held(user_id: int) -> AccountKey:
    return AccountKey("held", user_id=user_id)


def escrow(order_id: int) -> AccountKey:
    return AccountKey("escrow", order_id=order_id)


def points_available(user_id: int) -> AccountKey:
    return AccountKey("points_available", user_id=user_id)


def points_frozen(user_id: int) -> AccountKey:
    return AccountKey("points_frozen", user_id=user_id)


def platform(kind: str) -> AccountKey:
    if kind not in PLATFORM_KINDS:
        raise ValueError(f"unknown platform account {kind!r}")
    return AccountKey(kind)


@dataclass(frozen=True, slots=True)
class Leg:
    account: AccountKey
    amount: int


async def ensure_accounts(session: AsyncSession, keys: Sequence[AccountKey]) -> dict[AccountKey, int]:
    """Ids of the accounts, creating missing ones. Concurrent creators are harmless (ON CONFLICT DO NOTHING)."""
    wanted = {k.key: k for k in keys}
    rows = (await session.execute(select(LedgerAccount.key, LedgerAccount.id).where(
        LedgerAccount.key.in_(wanted)))).tuples().all()
    found: dict[str, int] = dict(rows)
    missing = [k for name, k in wanted.items() if name not in found]
    if missing:
        # An executemany of one cached statement (a multi-row .values() would be compiled anew each time).
        await session.execute(db.insert_into(session, LedgerAccount).on_conflict_do_nothing(index_elements=["key"]), [
            {"key": k.key, "kind": k.kind, "user_id": k.user_id, "order_id": k.order_id, "balance": 0}
            for k in missing])
        rows = (await session.execute(select(LedgerAccount.key, LedgerAccount.id).where(
            LedgerAccount.key.in_([k.key for k in missing])))).tuples().all()
        found.update(dict(rows))
    return {k: found[k.key] for k in keys}


async def user_accounts(
    session: AsyncSession, user_ids: Iterable[int | ColumnElement[int | None]]
) -> dict[AccountKey, tuple[int, int]]:
    """``(id, balance)`` of the existing available/held accounts of some users, read without a lock.

    An account's id never changes once created, so callers may resolve ids before taking a hot lock and hand
    them to :func:`post` (``account_ids=``) to save it a lookup inside; the balances are only a hint (``post``
    re-reads them under the account lock). ``user_ids`` may include a scalar subquery.
    """
    rows = await session.execute(
        select(LedgerAccount.kind, LedgerAccount.user_id, LedgerAccount.id, LedgerAccount.balance).where(
            LedgerAccount.user_id.in_(list(user_ids)), LedgerAccount.kind.in_(("available", "held"))))
    return {AccountKey(kind, user_id=user_id): (acc_id, bal) for kind, user_id, acc_id, bal in rows.tuples()}


async def post(
    session: AsyncSession,
    *,
    kind: str,
    legs: Sequence[Leg],
    ref_type: str | None = None,
    ref_id: int | None = None,
    idempotency_key: str | None = None,
    memo: str = "",
    created_by_id: int | None = None,
    account_ids: Mapping[AccountKey, int] | None = None,
) -> LedgerTransaction:
    """Write one balanced transaction and update running balances.

    Invariants kept: the legs sum to zero and are all of one unit (coins or points: docs/rules.md §14); no user
    or escrow account goes below zero (``InsufficientCoins``, or ``InsufficientPoints`` for points, with the
    shortfall, nothing written); balances change only here. The running-balance rows are locked in
    ascending id order, so two transactions touching the same accounts queue instead of deadlocking.

    With an ``idempotency_key`` the transaction is written at most once: a second post with the same key writes
    nothing and returns the transaction already recorded (callers that must know compare ``txn.id`` or use
    :func:`find_by_key` first).

    ``account_ids`` may give ids already known (from :func:`user_accounts` or :func:`ensure_accounts`); only the
    other accounts are looked up (and created when missing).
    """
    rules.check_balanced(leg.amount for leg in legs)
    units = {leg.account.unit for leg in legs}
    if len(units) != 1:  # each unit balances on its own: never coins against points in one transaction
        raise UnbalancedTransaction("a transaction moves coins or points, not both")
    if idempotency_key is not None:
        existing = await find_by_key(session, idempotency_key)
        if existing is not None:
            return existing
    known = account_ids or {}
    unknown = [leg.account for leg in legs if leg.account not in known]
    ids = {**known, **(await ensure_accounts(session, unknown) if unknown else {})}
    deltas: dict[int, int] = defaultdict(int)
    for leg in legs:
        deltas[ids[leg.account]] += leg.amount

    txn = LedgerTransaction(
        kind=kind, ref_type=ref_type, ref_id=ref_id, idempotency_key=idempotency_key, memo=memo,
        created_by_id=created_by_id,
    )
    if idempotency_key is not None:
        # Claim the key before touching any balance. A concurrent post with the same key blocks here on the
        # unique index until the other transaction ends; if it committed, we lose the race cleanly (savepoint
        # rolled back, nothing else written) and return its transaction instead of failing the whole request.
        try:
            async with session.begin_nested():
                session.add(txn)
                await session.flush()
        except IntegrityError:
            existing = await find_by_key(session, idempotency_key)
            if existing is None:  # the conflict was not about the key: a real error
                raise
            return existing

    running = sorted({ids[leg.account] for leg in legs if leg.account.has_running_balance})
    accounts: dict[int, LedgerAccount] = {}
    new_balances: dict[int, int] = {}
    if running:
        # Lock, then decide: the balance we check is the one we write. ORDER BY id gives the global lock order.
        locked = await session.scalars(
            select(LedgerAccount)
            .where(LedgerAccount.id.in_(running))
            .order_by(LedgerAccount.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        accounts = {a.id: a for a in locked}
        new_balances, shortfall = rules.apply_deltas(
            {a.id: a.balance for a in accounts.values()}, {i: deltas[i] for i in accounts}
        )
        if shortfall:
            if idempotency_key is not None:
                # Release the claimed key: callers may catch the refusal and carry on in this transaction.
                await session.delete(txn)
                await session.flush()
            raise InsufficientPoints(shortfall) if units == {"points"} else InsufficientCoins(shortfall)

    if idempotency_key is None:
        session.add(txn)
        await session.flush()
    # balance_after is the running balance after each entry in order, so an account that appears in two legs
    # of one transaction still shows a consistent history (the audit recomputes exactly this sequence).
    progress = {acc_id: account.balance for acc_id, account in accounts.items()}
    for leg in legs:
        acc_id = ids[leg.account]
        balance_after: int | None = None
        if acc_id in progress:
            progress[acc_id] += leg.amount
            balance_after = progress[acc_id]
        session.add(LedgerEntry(
            transaction_id=txn.id, account_id=acc_id, amount=leg.amount, balance_after=balance_after,
        ))
    for acc_id, new_balance in new_balances.items():
        accounts[acc_id].balance = new_balance
    await session.flush()
    return txn


async def lock_user_accounts(session: AsyncSession, user_ids: Iterable[int]) -> dict[AccountKey, LedgerAccount]:
    """Lock the available and held coin accounts of some users in one statement, in ascending id order (the
    global lock order of :func:`post`), and return them by key. Users without such accounts are simply absent."""
    locked = await session.scalars(
        select(LedgerAccount)
        .where(LedgerAccount.user_id.in_(sorted(set(user_ids))), LedgerAccount.kind.in_(("available", "held")))
        .order_by(LedgerAccount.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {AccountKey(a.kind, user_id=a.user_id): a for a in locked}


@dataclass(frozen=True, slots=True)
class Posting:
    """One balanced transaction for :func:`post_locked`."""

    kind: str
    legs: Sequence[Leg]
    ref_type: str | None = None
    ref_id: int | None = None
    memo: str = ""
    idempotency_key: str | None = None


async def post_locked(session: AsyncSession, postings: Sequence[Posting],
                      locked: Mapping[AccountKey, LedgerAccount],
                      account_ids: Mapping[AccountKey, int] | None = None) -> list[LedgerTransaction]:
    """Several transactions, in order, over running-balance accounts the caller already holds locked
    (:func:`lock_user_accounts`, :func:`lock_accounts`): the same invariants and rows as one :func:`post` per
    posting (legs balanced, one unit per transaction — coins or points —, no balance below zero, ``balance_after``
    per entry), written with one INSERT per table instead of four statements per transaction. A shortfall raises
    before anything is written; the caller rolls back.

    ``account_ids``: the ids of the accounts without a running balance (platform accounts, from
    :func:`ensure_accounts`), which are never locked. A posting with an ``idempotency_key`` is written at most
    once, as with :func:`post`: a key already recorded (one SELECT for all the keys) or repeated earlier in
    ``postings`` writes nothing and yields the transaction recorded under it."""
    ids = {**(account_ids or {}), **{key: account.id for key, account in locked.items()}}
    balances = {account.id: account.balance for account in locked.values()}
    keys = [p.idempotency_key for p in postings if p.idempotency_key is not None]
    recorded: dict[str, LedgerTransaction] = {}
    if keys:
        recorded = {txn.idempotency_key: txn for txn in await session.scalars(
            select(LedgerTransaction).where(LedgerTransaction.idempotency_key.in_(sorted(set(keys)))))
            if txn.idempotency_key is not None}
    planned: list[tuple[LedgerTransaction, list[tuple[int, int, int | None]]]] = []
    result: list[LedgerTransaction] = []
    for posting in postings:
        rules.check_balanced(leg.amount for leg in posting.legs)
        units = {leg.account.unit for leg in posting.legs}
        if len(units) != 1:  # each unit balances on its own: never coins against points in one transaction
            raise UnbalancedTransaction("a transaction moves coins or points, not both")
        if posting.idempotency_key is not None and posting.idempotency_key in recorded:
            result.append(recorded[posting.idempotency_key])
            continue
        missing = [leg.account for leg in posting.legs if leg.account not in ids
                   or (leg.account.has_running_balance and leg.account not in locked)]
        if missing:
            raise ValueError(f"accounts not locked (or, for platform accounts, not given) by the caller: {missing}")
        deltas: dict[int, int] = defaultdict(int)
        for leg in posting.legs:
            if leg.account.has_running_balance:
                deltas[ids[leg.account]] += leg.amount
        _, shortfall = rules.apply_deltas({i: balances[i] for i in deltas}, deltas)
        if shortfall:
            raise InsufficientPoints(shortfall) if units == {"points"} else InsufficientCoins(shortfall)
        entries: list[tuple[int, int, int | None]] = []
        for leg in posting.legs:
            acc_id = ids[leg.account]
            after: int | None = None
            if leg.account.has_running_balance:
                balances[acc_id] += leg.amount
                after = balances[acc_id]
            entries.append((acc_id, leg.amount, after))
        txn = LedgerTransaction(kind=posting.kind, ref_type=posting.ref_type, ref_id=posting.ref_id,
                                idempotency_key=posting.idempotency_key, memo=posting.memo)
        if posting.idempotency_key is not None:
            recorded[posting.idempotency_key] = txn
        planned.append((txn, entries))
        result.append(txn)
    txns = [txn for txn, _ in planned]
    if not txns:
        return result
    session.add_all(txns)
    await session.flush()  # one multi-row INSERT … RETURNING id
    # The entries are never read back in this transaction: a Core executemany (one cached INSERT) spares the ORM
    # bookkeeping of an object per entry.
    await session.execute(db.insert_into(session, LedgerEntry), [
        {"transaction_id": txn.id, "account_id": acc_id, "amount": amount, "balance_after": after}
        for txn, entries in planned for acc_id, amount, after in entries])
    for account in locked.values():
        if account.balance != balances[account.id]:
            account.balance = balances[account.id]
    return result


async def lock_accounts(session: AsyncSession, keys: Sequence[AccountKey]) -> dict[AccountKey, LedgerAccount]:
    """Lock several running-balance accounts at once, in ascending id order, for a transaction that will make
    several :func:`post` calls touching different users (e.g. release one bidder's hold, then hold another's).

    Each ``post`` locks only its own rows; two such transactions taking them in opposite orders across their
    posts could deadlock. Locking the union first makes the order global again (re-locking a row this
    transaction already holds never waits). Simpler still: put all the legs in one ``post``.
    """
    wanted = [k for k in keys if k.has_running_balance]
    ids = await ensure_accounts(session, wanted)
    locked = await session.scalars(
        select(LedgerAccount)
        .where(LedgerAccount.id.in_(sorted(set(ids.values()))))
        .order_by(LedgerAccount.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    by_id = {a.id: a for a in locked}
    return {k: by_id[ids[k]] for k in wanted}


async def find_by_key(session: AsyncSession, idempotency_key: str) -> LedgerTransaction | None:
    txn: LedgerTransaction | None = await session.scalar(
        select(LedgerTransaction).where(LedgerTransaction.idempotency_key == idempotency_key)
    )
    return txn


async def balance(session: AsyncSession, account: AccountKey) -> int:
    """Current balance: the running balance, or for platform accounts the sum of entries."""
    if account.has_running_balance:
        value = await session.scalar(select(LedgerAccount.balance).where(LedgerAccount.key == account.key))
        return int(value or 0)
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.key == account.key)
    )
    return int(total or 0)


async def wallet_balances(session: AsyncSession, user_id: int) -> tuple[int, int]:
    """(available, held) of a user."""
    result = await session.execute(
        select(LedgerAccount.kind, LedgerAccount.balance).where(LedgerAccount.user_id == user_id)
    )
    rows: dict[str, int] = dict(result.tuples().all())
    return int(rows.get("available", 0)), int(rows.get("held", 0))
