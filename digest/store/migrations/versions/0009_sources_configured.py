"""Remember where each source was configured to be, apart from where it is fetched now
(a permanent redirect moves the latter), so that a changed URL or path in the config is
noticed.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch_op:
        batch_op.add_column(sa.Column("configured", sa.Text(), nullable=False, server_default=""))
    # Until now the configured place was only known as the fetched one.
    op.execute("UPDATE sources SET configured = location")


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch_op:
        batch_op.drop_column("configured")
