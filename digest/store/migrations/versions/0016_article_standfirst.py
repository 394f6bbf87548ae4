"""The publisher's own standfirst of each article: the feed's summary or the page's
og:description, kept apart from the article's text ("" when it has none).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("standfirst", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch_op:
        batch_op.drop_column("standfirst")
