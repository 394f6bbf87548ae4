"""When each editor last logged out: sessions opened before it, copies of the cookie
included, no longer count.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subscribers.db import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("editors", sa.Column("signed_out_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("editors") as batch_op:
        batch_op.drop_column("signed_out_at")
