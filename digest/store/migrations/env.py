"""Alembic environment: runs against the connection Digest hands over."""

from __future__ import annotations

from alembic import context

import digest.store.models  # noqa: F401  (registers Digest's tables)
import subscribers.models  # noqa: F401  (registers the audience's tables)
from subscribers.db import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")

if connection is None:
    raise RuntimeError("run migrations through digest.store.database.migrate()")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
