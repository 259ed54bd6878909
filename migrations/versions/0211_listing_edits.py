"""listing edits: condition, location, edit history; ban reasons on users and shops

Revision ID: 0211_listing_edits
Revises: 0207_perf
Create Date: 2026-12-01 15:30:00

docs/rules.md §19.5–§19.6. ``listings``, ``users`` and ``shops`` only gain nullable (or server-defaulted) columns:
plain ADD COLUMN, no table copy. ``condition`` is checked by listings.rules (no ALTER TABLE ADD CONSTRAINT on
SQLite, see 0103_search).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = '0211_listing_edits'
down_revision: str | None = '0210_messages'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.add_column('listings', sa.Column('condition', sa.String(length=16), nullable=True))
    op.add_column('listings', sa.Column('location', sa.String(length=60), nullable=True))
    op.add_column('listings', sa.Column('edit_count', sa.Integer(), server_default='0', nullable=False))
    op.add_column('users', sa.Column('ban_reason', sa.String(length=500), nullable=True))
    op.add_column('shops', sa.Column('suspended_reason', sa.String(length=500), nullable=True))
    op.create_table('listing_edits',
    sa.Column('id', BigId, nullable=False),
    sa.Column('listing_id', BigId, nullable=False),
    sa.Column('editor_id', BigId, nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['editor_id'], ['users.id'], name=op.f('fk_listing_edits_editor_id_users')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_edits_listing_id_listings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_edits'))
    )
    with op.batch_alter_table('listing_edits', schema=None) as batch_op:
        batch_op.create_index('ix_listing_edits_listing_id_id', ['listing_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('listing_edits', schema=None) as batch_op:
        batch_op.drop_index('ix_listing_edits_listing_id_id')
    op.drop_table('listing_edits')
    op.drop_column('shops', 'suspended_reason')
    op.drop_column('users', 'ban_reason')
    op.drop_column('listings', 'edit_count')
    op.drop_column('listings', 'location')
    op.drop_column('listings', 'condition')
