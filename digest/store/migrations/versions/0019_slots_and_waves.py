"""Schedules and waves: each segment's last handled slot, and each batch's release time.

``segment_locks.last_slot`` is the wall-clock time (``YYYY-MM-DDTHH:MM`` in the segment's
zone) of the newest scheduled slot a run handled, whatever it found: an edition, a held
draft, nothing new, or a slot missed beyond ``catch_up``. ``batches.release_at`` is when a
batch may be claimed (a local-time edition's wave); NULL means at once.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subscribers.db import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "segment_locks",
        sa.Column("last_slot", sa.String(length=20), server_default="", nullable=False),
    )
    op.add_column("batches", sa.Column("release_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("batches", "release_at")
    op.drop_column("segment_locks", "last_slot")
