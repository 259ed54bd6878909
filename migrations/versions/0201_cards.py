"""cards: prepaid coin card batches, cards, audit log, redemption failures; the card_float ledger account

Revision ID: 0201_cards
Revises: 0103_search
Create Date: 2026-12-01 12:07:03.885860

``ledger_accounts.kind`` gains the platform account ``card_float`` (alembic check does not compare CHECK
constraints: this one is kept in step with marketplace/wallet/models.py by hand).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = '0201_cards'
down_revision: str | None = '0103_search'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_KINDS_OLD = "kind IN ('available', 'held', 'escrow', 'revenue', 'topup_clearing', 'adjustments')"
_KINDS_NEW = "kind IN ('available', 'held', 'escrow', 'revenue', 'topup_clearing', 'adjustments', 'card_float')"


def _ledger_kinds(condition: str) -> None:
    # SQLite rebuilds ledger_accounts (a table copy; the migration connection runs without foreign-key
    # enforcement, so ledger_entries' references survive); PostgreSQL drops and re-adds the constraint.
    with op.batch_alter_table('ledger_accounts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_ledger_accounts_kind'), type_='check')
        batch_op.create_check_constraint('kind', condition)


def upgrade() -> None:
    _ledger_kinds(_KINDS_NEW)
    op.create_table('card_batches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('face_value', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('activated_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('activated_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('exported_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('exported_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('secrets_enc', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('created', 'activated')", name=op.f('ck_card_batches_status')),
    sa.CheckConstraint('count > 0', name=op.f('ck_card_batches_count_positive')),
    sa.CheckConstraint('face_value > 0', name=op.f('ck_card_batches_face_value_positive')),
    sa.ForeignKeyConstraint(['activated_by_id'], ['users.id'], name=op.f('fk_card_batches_activated_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_card_batches_created_by_id_users')),
    sa.ForeignKeyConstraint(['exported_by_id'], ['users.id'], name=op.f('fk_card_batches_exported_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_batches'))
    )
    op.create_table('cards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sold_to', sa.String(length=100), nullable=True),
    sa.Column('sold_price', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('sold_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('sold_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('redeemed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('redeemed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('voided_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('voided_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('void_reason', sa.String(length=16), nullable=True),
    sa.Column('replaced_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('new', 'sold', 'redeemed', 'void')", name=op.f('ck_cards_status')),
    sa.CheckConstraint('sold_price IS NULL OR sold_price >= 0', name=op.f('ck_cards_sold_price_nonnegative')),
    sa.ForeignKeyConstraint(['batch_id'], ['card_batches.id'], name=op.f('fk_cards_batch_id_card_batches')),
    sa.ForeignKeyConstraint(['redeemed_by_id'], ['users.id'], name=op.f('fk_cards_redeemed_by_id_users')),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['cards.id'], name=op.f('fk_cards_replaced_by_id_cards')),
    sa.ForeignKeyConstraint(['sold_by_id'], ['users.id'], name=op.f('fk_cards_sold_by_id_users')),
    sa.ForeignKeyConstraint(['voided_by_id'], ['users.id'], name=op.f('fk_cards_voided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cards')),
    sa.UniqueConstraint('number', name=op.f('uq_cards_number'))
    )
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index('ix_cards_batch_id_status', ['batch_id', 'status'], unique=False)

    op.create_table('card_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_card_events_actor_id_users')),
    sa.ForeignKeyConstraint(['batch_id'], ['card_batches.id'], name=op.f('fk_card_events_batch_id_card_batches')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_card_events_card_id_cards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_events'))
    )
    with op.batch_alter_table('card_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_events_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_events_card_id'), ['card_id'], unique=False)

    op.create_table('card_redeem_failures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_card_redeem_failures_card_id_cards')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_card_redeem_failures_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_redeem_failures'))
    )
    with op.batch_alter_table('card_redeem_failures', schema=None) as batch_op:
        batch_op.create_index('ix_card_redeem_failures_card_id_created_at', ['card_id', 'created_at'], unique=False)
        batch_op.create_index('ix_card_redeem_failures_user_id_created_at', ['user_id', 'created_at'], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('card_redeem_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_card_redeem_failures_user_id_created_at')
        batch_op.drop_index('ix_card_redeem_failures_card_id_created_at')

    op.drop_table('card_redeem_failures')
    with op.batch_alter_table('card_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_events_card_id'))
        batch_op.drop_index(batch_op.f('ix_card_events_batch_id'))

    op.drop_table('card_events')
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_index('ix_cards_batch_id_status')

    op.drop_table('cards')
    op.drop_table('card_batches')
    op.execute("DELETE FROM ledger_accounts WHERE kind = 'card_float'")
    _ledger_kinds(_KINDS_OLD)
    # ### end Alembic commands ###
