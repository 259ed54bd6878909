"""membership II: PLUS memberships, member-day / PLUS prices on listings, birthdays, coupons, badges

Revision ID: 0208_membership2
Revises: 0209_trading
Create Date: 2026-12-01 13:40:00

docs/rules.md §15. ``listings`` only gains columns (plain ADD COLUMN, no table copy, so the SQLite search
triggers of 0103_search survive).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = '0208_membership2'
down_revision: str | None = '0209_trading'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.add_column('listings', sa.Column('member_day', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('listings', sa.Column('plus_price', BigId, nullable=True))
    op.create_table('plus_memberships',
    sa.Column('user_id', BigId, nullable=False),
    sa.Column('started_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('until', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('auto_renew', sa.Boolean(), nullable=False),
    sa.Column('periods', sa.Integer(), nullable=False),
    sa.Column('lapsed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_plus_memberships_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_plus_memberships'))
    )
    op.create_index(op.f('ix_plus_memberships_until'), 'plus_memberships', ['until'], unique=False)
    op.create_table('member_birthdays',
    sa.Column('user_id', BigId, nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('changed_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_member_birthdays_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_member_birthdays'))
    )
    op.create_table('coupons',
    sa.Column('id', BigId, nullable=False),
    sa.Column('user_id', BigId, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', BigId, nullable=False),
    sa.Column('min_items_total', BigId, nullable=False),
    sa.Column('valid_from', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_until', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issue_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('order_id', BigId, nullable=True),
    sa.CheckConstraint('value > 0 AND min_items_total >= 0', name=op.f('ck_coupons_amounts')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_coupons_order_id_orders')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_coupons_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons')),
    sa.UniqueConstraint('issue_key', name=op.f('uq_coupons_issue_key'))
    )
    op.create_index('ix_coupons_user_id_used_at', 'coupons', ['user_id', 'used_at'], unique=False)
    op.create_table('member_badges',
    sa.Column('user_id', BigId, nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('computed_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_member_badges_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'code', name=op.f('pk_member_badges'))
    )


def downgrade() -> None:
    op.drop_table('member_badges')
    op.drop_index('ix_coupons_user_id_used_at', table_name='coupons')
    op.drop_table('coupons')
    op.drop_table('member_birthdays')
    op.drop_index(op.f('ix_plus_memberships_until'), table_name='plus_memberships')
    op.drop_table('plus_memberships')
    op.drop_column('listings', 'plus_price')
    op.drop_column('listings', 'member_day')
