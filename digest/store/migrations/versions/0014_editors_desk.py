"""The editors' desk: editors, the log of what they change, their edits and notes for a
segment's next edition, editions held for approval, and each edition's approver and
archive page.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from subscribers.db import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editors")),
        sa.UniqueConstraint("email", name=op.f("uq_editors_email")),
    )
    op.create_table(
        "editor_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=100), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=True),
        sa.Column("editor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_editor_log_edition_id_editions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editor_log")),
    )
    op.create_index(op.f("ix_editor_log_segment"), "editor_log", ["segment"])
    op.create_index(op.f("ix_editor_log_edition_id"), "editor_log", ["edition_id"])
    op.create_index(op.f("ix_editor_log_created_at"), "editor_log", ["created_at"])
    op.create_table(
        "editor_edits",
        sa.Column("segment", sa.String(length=100), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("edited_by", sa.String(length=320), nullable=False),
        sa.Column("edited_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_editor_edits_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("segment", "article_id", name=op.f("pk_editor_edits")),
    )
    op.create_table(
        "next_editions",
        sa.Column("segment", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("order", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("segment", name=op.f("pk_next_editions")),
    )
    op.create_table(
        "held_editions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=100), nullable=False),
        sa.Column("slot", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "approved",
                "skipped",
                "sent",
                name="holdstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("deadline_at", UTCDateTime(), nullable=True),
        sa.Column("notified_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=320), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("edition_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["editions.id"],
            name=op.f("fk_held_editions_edition_id_editions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_editions")),
        sa.UniqueConstraint("segment", "slot", name=op.f("uq_held_editions_segment_slot")),
    )
    op.create_index(op.f("ix_held_editions_segment"), "held_editions", ["segment"])
    # Added in place (a rebuilt editions table would take its deliveries with it on SQLite).
    op.add_column(
        "editions",
        sa.Column("approved_by", sa.String(length=320), nullable=False, server_default=""),
    )
    op.add_column(
        "editions",
        sa.Column("archive_slug", sa.String(length=100), nullable=False, server_default=""),
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column in ("archive_slug", "approved_by"):
        if sqlite:  # in place: a rebuilt table's rows would take their deliveries with them
            op.execute(f"ALTER TABLE editions DROP COLUMN {column}")
        else:
            op.drop_column("editions", column)
    op.drop_table("held_editions")
    op.drop_table("next_editions")
    op.drop_table("editor_edits")
    op.drop_table("editor_log")
    op.drop_table("editors")
