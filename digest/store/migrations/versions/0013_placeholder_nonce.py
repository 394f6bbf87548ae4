"""The nonce of each render's per-recipient placeholders, so that no content can forge
one; editions and variants recorded before it keep "" and their fixed placeholders.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = ("editions", "edition_variants")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column("placeholder_nonce", sa.String(length=32), nullable=False, server_default=""),
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in TABLES:
        if sqlite:  # in place: a rebuilt table's rows would take their deliveries with them
            op.execute(f"ALTER TABLE {table} DROP COLUMN placeholder_nonce")
        else:
            op.drop_column(table, "placeholder_nonce")
