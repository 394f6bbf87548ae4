"""Shared fixtures: a store on SQLite and (when configured) PostgreSQL, the example newsroom,
the web app on it, a plain SMTP server, the SendGrid stand-in, and Debian's chromium for
pytest-playwright."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from browsing import CHROMIUM, CHROMIUM_ARGS, SAVED, unavailable
from helpers import EXAMPLE, Inbox, free_port, use_database
from sendgrid_standin import SendGridStandIn
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from webtools import Site, open_site

from digest.store.database import Store, open_store

PG_ENV = "DIGEST_TEST_DATABASE_URL"


def _postgres_schema_url(base: str) -> Iterator[str]:
    """A fresh schema per test, dropped afterwards, so tests never see each other's rows."""
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'digest.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    yield from _postgres_schema_url(base)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema, for what only PostgreSQL does (mark the test postgres)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    yield from _postgres_schema_url(base)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = open_store(database_url)
    yield opened
    opened.close()


@pytest.fixture
def newsroom(tmp_path: Path, database_url: str) -> Path:
    """A private copy of the example newsroom on the test's database; returns its config."""
    folder = tmp_path / "newsroom"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("outbox", "digest.db*"))
    config = folder / "digest.toml"
    use_database(config, database_url)
    return config


@pytest.fixture
def site(newsroom: Path, store: Store) -> Iterator[Site]:
    """The web app on the newsroom's config and store, through an in-process client."""
    with open_site(newsroom, store) as opened:
        yield opened


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A plain SMTP server on 127.0.0.1 (no TLS, no login) and its port."""
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def sendgrid(monkeypatch: pytest.MonkeyPatch) -> Iterator[SendGridStandIn]:
    """The SendGrid stand-in, with the key and the signing secret a send needs."""
    with SendGridStandIn() as standin:
        monkeypatch.setenv("SENDGRID_API_HOST", standin.url)
        monkeypatch.setenv("SENDGRID_API_KEY", "SG.test-key")
        monkeypatch.setenv("DIGEST_SECRET_KEY", "test-signing-key")
        yield standin


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (DIGEST_REQUIRE_POSTGRES=1) a run in which no PostgreSQL test passed fails."""
    if os.environ.get("DIGEST_REQUIRE_POSTGRES") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    passed = reporter.stats.get("passed", []) if reporter else []
    ran = [r for r in passed if "postgres" in r.keywords]
    if not ran:
        if reporter:
            reporter.write_line(
                f"FAILED: no PostgreSQL test ran; set {PG_ENV} to a reachable database", red=True
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif reporter:
        reporter.write_line(f"{len(ran)} PostgreSQL-backed tests passed")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's browser is Debian's chromium, headless."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: pytest-playwright keeps one browser for the rest of the run."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Where the browser tests saved their screenshots."""
    if SAVED:
        terminalreporter.section("screenshots")
        for path in SAVED:
            terminalreporter.write_line(str(path))
