"""Open the store, bring its schema to the latest migration, and hand out sessions.

Several processes may open one store at once (two cron jobs, a run beside ``digest
serve``): migrations take a lock and wait for each other, and what a process creates on
first use (a secret, a source's row) is inserted unless another process inserted it first.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, func, insert, make_url, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from digest.errors import StoreError
from digest.store.models import AppSecret

MIGRATIONS = Path(__file__).parent / "migrations"
WAL_WAIT_SECONDS = 30.0
MIGRATION_LOCK = 0x6469676573740000  # PostgreSQL advisory lock key of migrations


class Store:
    """An engine plus a session factory, migrated to head when opened."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def secret(self, name: str) -> str:
        """A secret generated once and kept in the store (when the environment has none)."""
        with self.session() as session:
            row = session.get(AppSecret, name)
            if row is None:
                value = secrets.token_urlsafe(32)
                insert_missing(session, AppSecret.__table__, {"name": name, "value": value})
                row = session.get_one(AppSecret, name)  # ours, or another process's first
            return row.value

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    _use_wal(cursor)
    cursor.close()


def _use_wal(cursor: Any) -> None:
    """Switch the file to write-ahead logging, once for good (the mode stays in the file).

    The switch needs the file to itself and SQLite does not wait for it the way it waits
    for a write lock: a process opening a new store while another migrates it would fail
    with "database is locked". It waits here instead, as long as the busy timeout would.
    """
    deadline = time.monotonic() + WAL_WAIT_SECONDS
    while True:
        if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


DISTRIBUTION = "digest-newsletter"  # the name on PyPI; the package and command are "digest"
# dialect → (the extra that installs its driver, the driver it installs)
DRIVERS = {"postgresql": ("postgres", "psycopg")}


def make_engine(url: str) -> Engine:
    try:
        engine = create_engine(url)
    except ImportError as e:
        raise StoreError(_missing_driver(url, e)) from e
    except (ArgumentError, SQLAlchemyError) as e:
        raise StoreError(f"database URL {url!r} is not usable: {e}") from e
    if engine.dialect.name == "sqlite":
        if engine.url.database:
            Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _missing_driver(url: str, error: ImportError) -> str:
    """The line for a URL whose database driver is not installed, with how to install it."""
    shown = _hide_password(url)
    try:
        parsed = make_url(url)
        dialect, driver = parsed.get_backend_name(), parsed.get_driver_name()
    except ArgumentError:
        dialect = driver = ""
    if dialect not in DRIVERS:
        return f"database URL {shown!r} needs a driver that is not installed ({error})"
    extra, ours = DRIVERS[dialect]
    install = f"pip install '{DISTRIBUTION}[{extra}]' (in a checkout: pip install '.[{extra}]')"
    if driver != ours:
        return (
            f"database URL {shown!r}: its driver {driver!r} is not installed ({error}); "
            f"Digest's {extra} extra brings {ours}: {install}, and write the URL as "
            f"{dialect}+{ours}://…"
        )
    return f"database URL {shown!r}: the {dialect} driver is not installed ({error}); {install}"


def _hide_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def insert_missing(session: Session, table: Any, values: dict[str, Any]) -> None:
    """INSERT a row unless one with the same unique key is there, or is being inserted by
    another transaction (then wait for it to end: the row is there after this)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(table).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(table).values(values).on_conflict_do_nothing())
    else:
        session.execute(insert(table).values(values))


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply Alembic migrations up to ``revision``, one process at a time."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        if revision == "head" and _at_head(engine, config):
            return  # the usual case: nothing to do, and no lock taken
        with engine.begin() as connection:
            _hold_migration_lock(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)  # reads the version again, under the lock
    except OperationalError as e:
        raise StoreError(f"cannot open or migrate the database: {e.orig}") from e


def _at_head(engine: Engine, config: AlembicConfig) -> bool:
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == set(ScriptDirectory.from_config(config).get_heads())


def _hold_migration_lock(connection: Connection) -> None:
    """Make a second process that migrates at the same time wait, then find it done."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
    elif connection.dialect.name == "sqlite":  # the write lock now, and DDL in the transaction
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def open_store(url: str) -> Store:
    engine = make_engine(url)
    migrate(engine)
    return Store(engine)
