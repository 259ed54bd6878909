"""membership: levels, the points ledger (account kinds + lots), order pricing fields, listing shipping fee

Revision ID: 0206_membership
Revises: 0202_notifications
Create Date: 2026-12-01 12:30:00

docs/rules.md §13–§15. ``listings`` and ``orders`` only gain columns (plain ADD COLUMN, no table copy, so the
SQLite search triggers of 0103_search survive). ``ledger_accounts`` is rebuilt on SQLite to widen its ``kind``
check (the migration engine runs without ``PRAGMA foreign_keys``, so the copy keeps ledger_entries' references).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = '0206_membership'
down_revision: str | None = '0202_notifications'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("available", "held", "escrow", "revenue", "topup_clearing", "adjustments", "card_float")  # after 0201_cards
NEW_KINDS = (*OLD_KINDS, "marketing", "points_frozen", "points_available", "points_issued", "points_redeemed",
             "points_expired")

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _kind_check(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade() -> None:
    with op.batch_alter_table('ledger_accounts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_ledger_accounts_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_ledger_accounts_kind'), _kind_check(NEW_KINDS))

    op.add_column('listings', sa.Column('shipping_fee', BigId, server_default='0', nullable=False))
    op.add_column('orders', sa.Column('items_total', BigId, server_default='0', nullable=False))
    op.add_column('orders', sa.Column('shipping_fee', BigId, server_default='0', nullable=False))
    op.add_column('orders', sa.Column('points_used', sa.Integer(), server_default='0', nullable=False))
    op.add_column('orders', sa.Column('platform_paid', BigId, server_default='0', nullable=False))
    op.add_column('orders', sa.Column('discounts', sa.JSON(), server_default='[]', nullable=False))
    op.add_column('feedback', sa.Column('photo_key', sa.String(length=200), nullable=True))
    op.add_column('feedback', sa.Column('photo_thumb_key', sa.String(length=200), nullable=True))
    # Orders before membership: the buyer paid the items, nothing else.
    op.execute("UPDATE orders SET items_total = total")

    op.create_table('memberships',
    sa.Column('user_id', BigId, nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('effective_spend', BigId, nullable=False),
    sa.Column('computed_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("level IN ('registered', 'J1', 'J2', 'J3', 'J4', 'J5')", name=op.f('ck_memberships_level')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_memberships'))
    )
    op.create_table('points_lots',
    sa.Column('id', BigId, nullable=False),
    sa.Column('user_id', BigId, nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('order_id', BigId, nullable=True),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('expired', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('unfreeze_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('credited_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('frozen', 'available', 'revoked')", name=op.f('ck_points_lots_state')),
    sa.CheckConstraint('points > 0 AND remaining >= 0 AND remaining <= points AND expired >= 0',
                       name=op.f('ck_points_lots_amounts')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_points_lots_order_id_orders')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_points_lots_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_lots'))
    )
    with op.batch_alter_table('points_lots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_lots_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_points_lots_state_unfreeze_at', ['state', 'unfreeze_at'], unique=False)
        batch_op.create_index('ix_points_lots_user_id_state_expires_at', ['user_id', 'state', 'expires_at'],
                              unique=False)
    op.create_table('points_lot_uses',
    sa.Column('id', BigId, nullable=False),
    sa.Column('lot_id', BigId, nullable=False),
    sa.Column('order_id', BigId, nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('restored_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['lot_id'], ['points_lots.id'], name=op.f('fk_points_lot_uses_lot_id_points_lots')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_points_lot_uses_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_lot_uses'))
    )
    with op.batch_alter_table('points_lot_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_lot_uses_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_points_lot_uses_order_id'), ['order_id'], unique=False)


def downgrade() -> None:
    op.drop_table('points_lot_uses')
    op.drop_table('points_lots')
    op.drop_table('memberships')
    for column in ('discounts', 'platform_paid', 'points_used', 'shipping_fee', 'items_total'):
        op.drop_column('orders', column)
    op.drop_column('listings', 'shipping_fee')
    op.drop_column('feedback', 'photo_thumb_key')
    op.drop_column('feedback', 'photo_key')
    op.execute("DELETE FROM ledger_entries WHERE account_id IN (SELECT id FROM ledger_accounts WHERE kind IN "
               "('marketing', 'points_frozen', 'points_available', 'points_issued', 'points_redeemed', "
               "'points_expired'))")
    op.execute("DELETE FROM ledger_accounts WHERE kind IN ('marketing', 'points_frozen', 'points_available', "
               "'points_issued', 'points_redeemed', 'points_expired')")
    with op.batch_alter_table('ledger_accounts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_ledger_accounts_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_ledger_accounts_kind'), _kind_check(OLD_KINDS))
