"""messages: listing questions and answers, per-order private messages with evidence photos

Revision ID: 0210_messages
Revises: 0207_perf
Create Date: 2026-12-01 15:30:00

docs/rules.md §19.5 and §19.6. Two new tables; nothing else changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = '0210_messages'
down_revision: str | None = '0214_localtime'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('listing_questions',
    sa.Column('id', BigId, nullable=False),
    sa.Column('listing_id', BigId, nullable=False),
    sa.Column('asker_id', BigId, nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('hidden', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asker_id'], ['users.id'], name=op.f('fk_listing_questions_asker_id_users')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_questions_listing_id_listings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_questions'))
    )
    with op.batch_alter_table('listing_questions', schema=None) as batch_op:
        batch_op.create_index('ix_listing_questions_asker_id', ['asker_id'], unique=False)
        batch_op.create_index('ix_listing_questions_listing_id_id', ['listing_id', 'id'], unique=False)

    op.create_table('order_messages',
    sa.Column('id', BigId, nullable=False),
    sa.Column('order_id', BigId, nullable=False),
    sa.Column('sender_id', BigId, nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('photo_key', sa.String(length=200), nullable=True),
    sa.Column('photo_thumb_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_messages_order_id_orders')),
    sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_order_messages_sender_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_messages'))
    )
    with op.batch_alter_table('order_messages', schema=None) as batch_op:
        batch_op.create_index('ix_order_messages_order_id_id', ['order_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('order_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_order_messages_order_id_id')
    op.drop_table('order_messages')
    with op.batch_alter_table('listing_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_listing_questions_listing_id_id')
        batch_op.drop_index('ix_listing_questions_asker_id')
    op.drop_table('listing_questions')
