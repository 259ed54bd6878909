"""localtime: users.time_zone (IANA name, default Asia/Shanghai) and users.username_key (NFKC + casefold, unique)

Revision ID: 0214_localtime
Revises: 0207_perf
Create Date: 2026-12-01 15:40:00

docs/rules.md "Usernames" and "Local time". Existing usernames are ASCII letters, digits and "_" (the old rule),
for which NFKC + casefold is ``lower()``: the backfill is one UPDATE. The old registration refused a name equal
to an existing one ignoring case, so the keys are already distinct.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0214_localtime'
down_revision: str | None = '0207_perf'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_key', sa.String(length=96), nullable=True))
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), server_default='Asia/Shanghai',
                                      nullable=False))
    op.execute("UPDATE users SET username_key = lower(username)")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('username_key', existing_type=sa.String(length=96), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_users_username_key'), ['username_key'])


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_username_key'), type_='unique')
        batch_op.drop_column('time_zone')
        batch_op.drop_column('username_key')
