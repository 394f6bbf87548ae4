"""When a sign-up through the form last asked for a confirmation link: pending sign-ups
never confirmed are purged after ``[web] unconfirmed_days``; rows from imports have none
and are never purged.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
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
