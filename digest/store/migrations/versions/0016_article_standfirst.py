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
    if op.get_bind().dialect.name == "sqlite":  # in place: a rebuilt table's rows would take
        op.execute("ALTER TABLE articles DROP COLUMN standfirst")  # their tags and items along
    else:
        op.drop_column("articles", "standfirst")
