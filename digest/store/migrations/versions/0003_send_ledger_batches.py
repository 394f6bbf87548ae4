"""The send ledger's batches, the segment lock, and each edition's backend.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segment_locks",
        sa.Column("segment", sa.String(length=100), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("segment", name=op.f("pk_segment_locks")),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "failed",
                name="batchstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("in_doubt", sa.Boolean(), nullable=False),
        sa.Column("doubt_resolution", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_batches_edition_id_editions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("edition_id", "number", name=op.f("uq_batches_edition_id_number")),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batches_status"), ["status"], unique=False)

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_edition_batch", ["edition_id", "batch"], unique=False)

    with op.batch_alter_table("editions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("backend", sa.String(length=20), server_default="outbox", nullable=False)
        )
    # Editions recorded before batches existed get theirs from their deliveries.
    op.execute(
        "INSERT INTO batches (edition_id, number, size, status, in_doubt, doubt_resolution,"
        " attempts, message_id, last_error, claimed_by)"
        " SELECT edition_id, batch, COUNT(*),"
        " CASE WHEN SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) > 0"
        " THEN 'pending' ELSE 'sent' END, FALSE, '', 0, '', '', ''"
        " FROM deliveries GROUP BY edition_id, batch"
    )


def downgrade() -> None:
    with op.batch_alter_table("editions", schema=None) as batch_op:
        batch_op.drop_column("backend")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_edition_batch")

    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batches_status"))

    op.drop_table("batches")
    op.drop_table("segment_locks")
