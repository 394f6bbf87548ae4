from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from digest.store.database import Store, migrate
from subscribers.db import Base

EXPECTED = {
    "alembic_version",
    "app_secrets",
    "article_engagement",
    "editor_choices",
    "edition_variants",
    "webhook_events",
    "article_signatures",
    "batches",
    "segment_locks",
    "source_lines",
    "article_tags",
    "articles",
    "deliveries",
    "edition_items",
    "editions",
    "sources",
    "subscriber_lists",
    "subscribers",
    "suppressions",
    "editors",
    "editor_log",
    "editor_edits",
    "next_editions",
    "held_editions",
    "store_changes",
}


def test_migrations_create_every_table(store: Store) -> None:
    assert set(inspect(store.engine).get_table_names()) == EXPECTED


def test_migrations_match_the_models(store: Store) -> None:
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_migrating_twice_is_harmless(store: Store) -> None:
    migrate(store.engine)
    assert set(inspect(store.engine).get_table_names()) == EXPECTED


def test_generated_secret_is_kept(store: Store) -> None:
    first = store.secret("signing-key")
    assert len(first) >= 32
    assert store.secret("signing-key") == first
