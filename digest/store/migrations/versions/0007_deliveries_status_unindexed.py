"""Drop the index on the ledger's status: every ledger query narrows by edition and batch
first, and a million-row send paid to keep the index current on every row it marked.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index("ix_deliveries_status")


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.create_index("ix_deliveries_status", ["status"], unique=False)
