"""Open the store, bring its schema to the latest migration, and hand out sessions."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from digest.errors import StoreError
from digest.store.models import AppSecret

MIGRATIONS = Path(__file__).parent / "migrations"


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
                row = AppSecret(name=name, value=secrets.token_urlsafe(32))
                session.add(row)
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
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


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


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply Alembic migrations up to ``revision``."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except OperationalError as e:
        raise StoreError(f"cannot open or migrate the database: {e.orig}") from e


def open_store(url: str) -> Store:
    engine = make_engine(url)
    migrate(engine)
    return Store(engine)
