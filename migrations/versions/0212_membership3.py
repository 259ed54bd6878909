"""membership3: member_activity_days (a login, a bid or a purchase per user and UTC day; docs/rules.md §16)

Revision ID: 0212_membership3
Revises: 0207_perf
Create Date: 2026-12-01 15:40:00

Backfills the days already known: the UTC days of each buyer's purchases (what the growth score counted before).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0212_membership3'
down_revision: str | None = '0211_listing_edits'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'member_activity_days',
        sa.Column('user_id', BigId, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_member_activity_days_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', 'day', name=op.f('pk_member_activity_days')),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("INSERT INTO member_activity_days (user_id, day) SELECT DISTINCT buyer_id, "
                   "CAST(created_at AT TIME ZONE 'UTC' AS DATE) FROM orders WHERE source IN ('purchase', 'buy_now')")
    else:
        op.execute("INSERT INTO member_activity_days (user_id, day) SELECT DISTINCT buyer_id, date(created_at) "
                   "FROM orders WHERE source IN ('purchase', 'buy_now')")


def downgrade() -> None:
    op.drop_table('member_activity_days')
