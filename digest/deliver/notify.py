"""Waking `digest worker`: a PostgreSQL NOTIFY when batches become ready, and the LISTEN
that waits for it.

The ledger stays the one record of what is to be sent; a notification only says "look
again". It is sent with :func:`notify` inside the transaction that made batches ready
(an edition's recipients recorded, a batch back to pending), so PostgreSQL delivers it
when that transaction commits, and not at all if it rolls back. On SQLite there is no
NOTIFY: workers there poll.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from collections.abc import Callable

    import psycopg

CHANNEL = "digest_batches"
SLICE_SECONDS = 0.5  # how often a wait looks up from the socket to see whether to stop


def notify(session: Session) -> None:
    """Tell listening workers, when this transaction commits, that batches are ready."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def listens(engine: Engine) -> bool:
    """Whether workers on this store can wait for a notification (PostgreSQL)."""
    return engine.dialect.name == "postgresql"


class Listener:
    """One connection of its own that LISTENs on :data:`CHANNEL`; a context manager.

    Its own connection, outside the store's pool, in autocommit: notifications arrive
    between transactions only, and a pooled connection would be reset on return.
    """

    def __init__(self, engine: Engine) -> None:
        url = engine.url.set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None

    def __enter__(self) -> Listener:
        import psycopg  # the postgres extra: only a PostgreSQL store gets here

        self._connection = psycopg.connect(self._conninfo, autocommit=True)
        self._connection.execute(f"LISTEN {CHANNEL}")
        return self

    def __exit__(self, *_: object) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def wait(self, seconds: float, stop: Callable[[], bool]) -> bool:
        """Wait up to ``seconds`` for a notification; True if one came. Looks up every
        :data:`SLICE_SECONDS` and returns False at once when ``stop()`` says so. Every
        notification already queued is taken: one wake-up answers them all."""
        if self._connection is None:  # lost, and not back yet
            self._reconnect()
            return True
        import psycopg

        deadline = time.monotonic() + max(0.0, seconds)
        woken = False
        while not stop():
            left = deadline - time.monotonic()
            timeout = max(0.0, min(SLICE_SECONDS, left))
            try:
                for _ in self._connection.notifies(timeout=timeout, stop_after=1):
                    woken = True
            except psycopg.OperationalError:  # the server restarted, say: listen again
                self._reconnect()
                return True  # what was notified meanwhile is unknown: look
            if woken:
                self._drain()
                return True
            if left <= 0:
                return False
        return False

    def _reconnect(self) -> None:
        import psycopg

        self.__exit__()
        time.sleep(SLICE_SECONDS)
        try:
            self.__enter__()
        except psycopg.OperationalError:
            self._connection = None

    def _drain(self) -> None:
        assert self._connection is not None
        for _ in self._connection.notifies(timeout=0.001):
            pass
