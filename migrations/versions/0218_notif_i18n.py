"""notif_i18n: notifications.params, the message ids and values of a notification's title and body

``{"title": {"msgid": …, "values": {…}}, "body": {…}}`` (a value may itself be such a message): the pages,
the live message and the e-mail translate them into the reader's language; ``title``/``body`` stay the English
text (the API's fields). Older rows have NULL and are shown in English (docs/architecture.md "Languages").

Revision ID: 0218_notif_i18n
Revises: 0213_i18n
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0218_notif_i18n'
down_revision: str | None = '0213_i18n'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("params")
