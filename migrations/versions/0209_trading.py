"""trading: addresses, idempotency keys, strikes, second-chance offers, order source/address

Revision ID: 0209_trading
Revises: 0203_security
Create Date: 2026-12-01 13:24:54

docs/rules.md §19. ``orders`` only gains columns (plain ADD COLUMN, no table copy).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = '0209_trading'
down_revision: str | None = '0203_security'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('addresses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=11), nullable=False),
    sa.Column('province', sa.String(length=30), nullable=False),
    sa.Column('city', sa.String(length=30), nullable=False),
    sa.Column('district', sa.String(length=30), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_addresses_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addresses'))
    )
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.create_index('ix_addresses_user_id_id', ['user_id', 'id'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('endpoint', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('user_id', 'endpoint', 'key', name=op.f('uq_idempotency_keys_user_id_endpoint_key'))
    )
    op.create_table('second_chance_offers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('listing_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cancelled_order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('buyer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('price', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('expires_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('offered', 'accepted', 'declined', 'expired')", name=op.f('ck_second_chance_offers_status')),
    sa.CheckConstraint('price > 0', name=op.f('ck_second_chance_offers_price_positive')),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_second_chance_offers_buyer_id_users')),
    sa.ForeignKeyConstraint(['cancelled_order_id'], ['orders.id'], name=op.f('fk_second_chance_offers_cancelled_order_id_orders')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_second_chance_offers_listing_id_listings')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_second_chance_offers_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_second_chance_offers')),
    sa.UniqueConstraint('cancelled_order_id', name=op.f('uq_second_chance_offers_cancelled_order_id'))
    )
    with op.batch_alter_table('second_chance_offers', schema=None) as batch_op:
        batch_op.create_index('ix_second_chance_offers_buyer_id', ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_second_chance_offers_listing_id'), ['listing_id'], unique=False)

    op.create_table('strikes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('buyer', 'seller')", name=op.f('ck_strikes_role')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_strikes_order_id_orders')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_strikes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strikes')),
    sa.UniqueConstraint('order_id', 'role', name=op.f('uq_strikes_order_id_role'))
    )
    with op.batch_alter_table('strikes', schema=None) as batch_op:
        batch_op.create_index('ix_strikes_user_id_created_at', ['user_id', 'created_at'], unique=False)

    op.add_column('listings', sa.Column('relisted_from_id', BigId, nullable=True))
    op.add_column('orders', sa.Column('source', sa.String(length=16), server_default='purchase', nullable=False))
    op.add_column('orders', sa.Column('shipping_address', sa.JSON(), nullable=True))
    op.add_column('orders', sa.Column('cancel_reason', sa.Text(), nullable=True))
    # Orders made before: an auction's order is a win when the auction had bids, else a Buy Now.
    op.execute("UPDATE orders SET source = CASE WHEN (SELECT bid_count FROM listings WHERE listings.id = "
               "orders.listing_id) > 0 THEN 'auction' ELSE 'buy_now' END WHERE listing_id IN "
               "(SELECT id FROM listings WHERE mode = 'auction')")



def downgrade() -> None:
    for column in ('cancel_reason', 'shipping_address', 'source'):
        op.drop_column('orders', column)
    op.drop_column('listings', 'relisted_from_id')

    with op.batch_alter_table('strikes', schema=None) as batch_op:
        batch_op.drop_index('ix_strikes_user_id_created_at')

    op.drop_table('strikes')
    with op.batch_alter_table('second_chance_offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_second_chance_offers_listing_id'))
        batch_op.drop_index('ix_second_chance_offers_buyer_id')

    op.drop_table('second_chance_offers')
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('addresses', schema=None) as batch_op:
        batch_op.drop_index('ix_addresses_user_id_id')

    op.drop_table('addresses')
