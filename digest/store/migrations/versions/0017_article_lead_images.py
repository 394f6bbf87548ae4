"""Each article's lead image: its https address, alt text and size where known.

Revision ID: 0017
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "articles",
        sa.Column("image_url", sa.String(length=2000), server_default="", nullable=False),
    )
    op.add_column("articles", sa.Column("image_alt", sa.Text(), server_default="", nullable=False))
    op.add_column("articles", sa.Column("image_width", sa.Integer(), nullable=True))
    op.add_column("articles", sa.Column("image_height", sa.Integer(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later): a batch copy of the table
    # would drop the old one, and with it the rows that cascade from articles.
    for column in ("image_height", "image_width", "image_alt", "image_url"):
        op.drop_column("articles", column)
