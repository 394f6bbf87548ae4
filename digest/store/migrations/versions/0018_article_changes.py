"""The store counts the changes to its articles: triggers add one to ``store_changes``
row ``articles`` in the transaction of every insert, update or delete of an article or a
tag, and every insert, delete or rename (name, title) of a source. A process that keeps
the articles it read (the desk's composes) reads again when the count moved.

SQLite triggers fire per row; PostgreSQL's fire per statement, and update the counter in
the schema of the table that changed.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# (table, the events that count, as SQL writes them)
WATCHED = (
    ("articles", ("INSERT", "UPDATE", "DELETE")),
    ("article_tags", ("INSERT", "UPDATE", "DELETE")),
    ("sources", ("INSERT", "UPDATE OF name, title", "DELETE")),
)
COUNT = "UPDATE store_changes SET serial = serial + 1 WHERE name = 'articles'"
FUNCTION = "digest_count_article_change"


def _sqlite_name(table: str, event: str) -> str:
    return f"{table}_{event.split()[0].lower()}_counted"


def upgrade() -> None:
    op.create_table(
        "store_changes",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("serial", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_store_changes")),
    )
    op.execute("INSERT INTO store_changes (name, serial) VALUES ('articles', 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                EXECUTE format(
                    'UPDATE %I.store_changes SET serial = serial + 1 WHERE name = %L',
                    TG_TABLE_SCHEMA, 'articles'
                );
                RETURN NULL;
            END
            $$
            """
        )
        for table, events in WATCHED:
            op.execute(
                f"CREATE TRIGGER {table}_counted AFTER {' OR '.join(events)} OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
        return
    for table, events in WATCHED:
        for event in events:
            op.execute(
                f"CREATE TRIGGER {_sqlite_name(table, event)} AFTER {event} ON {table} "
                f"BEGIN {COUNT}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, _ in WATCHED:
            op.execute(f"DROP TRIGGER {table}_counted ON {table}")
        op.execute(f"DROP FUNCTION {FUNCTION}()")
    else:
        for table, events in WATCHED:
            for event in events:
                op.execute(f"DROP TRIGGER {_sqlite_name(table, event)}")
    op.drop_table("store_changes")
