"""i18n: users.language, the interface language a user chose (NULL: the lang cookie or the browser decides)

The three home blocks 0205 inserted with bilingual titles ("Featured · 精选") get their English ids, which the
block template translates (docs/architecture.md "Languages"); a title an admin has changed is left alone.

Revision ID: 0213_i18n
Revises: 0215_search_cn
Create Date: 2026-12-01 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0213_i18n'
down_revision: str | None = '0215_search_cn'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# 0205's bilingual default block titles → the English ids of marketplace/site/blocks.py DEFAULT_HOME_BLOCKS.
BLOCK_TITLES = {
    "Featured · 精选": "Featured",
    "Ending soon · 即将结束": "Ending soon",
    "Newest · 最新上架": "Newest",
}


def _retitle(mapping: dict[str, str]) -> None:
    blocks = sa.table("site_blocks", sa.column("title", sa.String), sa.column("slot", sa.String))
    for old, new in mapping.items():
        op.execute(blocks.update().where(blocks.c.title == old, blocks.c.slot == "home").values(title=new))


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    _retitle(BLOCK_TITLES)


def downgrade() -> None:
    _retitle({new: old for old, new in BLOCK_TITLES.items()})
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
