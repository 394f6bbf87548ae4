"""When a sign-up through the form last asked for a confirmation link: pending sign-ups
never confirmed are purged after ``[web] unconfirmed_days``; rows from imports have none
and are never purged.

Revision ID: 0011_confirm
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_confirm"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers") as batch_op:
        batch_op.add_column(
            sa.Column("confirm_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_subscribers_confirm_requested_at"), ["confirm_requested_at"]
        )


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscribers_confirm_requested_at"))
        batch_op.drop_column("confirm_requested_at")
