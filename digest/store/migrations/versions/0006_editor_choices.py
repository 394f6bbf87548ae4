"""Editors' pins and exclusions for a segment's next edition.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editor_choices",
        sa.Column("segment", sa.String(length=100), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum("pin", "exclude", name="editoraction", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_editor_choices_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("segment", "article_id", name=op.f("pk_editor_choices")),
    )


def downgrade() -> None:
    op.drop_table("editor_choices")
