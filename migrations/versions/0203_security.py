"""security: API tokens expire (issue 11)

Revision ID: 0203_security
Revises: 0205_site
Create Date: 2026-12-01 12:20:00

``api_tokens.expires_at``: a token stops working after it (NULL = never: the tokens issued before this
migration keep working until revoked). A plain ADD COLUMN, no table rebuild on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = '0203_security'
down_revision: str | None = '0205_site'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('api_tokens', sa.Column('expires_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
