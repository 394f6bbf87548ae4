"""Each article's lead image: its https address, alt text and size where known.

Revision ID: 0017
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch_op:
        batch_op.add_column(
            sa.Column("image_url", sa.String(length=2000), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("image_alt", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("image_width", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("image_height", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch_op:
        for column in ("image_height", "image_width", "image_alt", "image_url"):
            batch_op.drop_column(column)
