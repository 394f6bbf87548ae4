"""The fan-out benchmark's world: a store of many subscribers, built by SQL, and a stand-in.

Subscribers are made by one ``INSERT … SELECT`` over a counter (a recursive one on SQLite,
``generate_series`` on PostgreSQL), not by the CSV import, so that a million take seconds.
The SendGrid stand-in runs in a process of its own (its HTTP parsing would otherwise share
the sender's interpreter lock), only counts, and may take ``latency`` seconds per request,
as a real API does. `digest worker` processes are started as they would be on other
machines: ``python -m digest worker``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from digest.store.database import Store, open_store
from digest.store.models import Article, ArticleTag, Source

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite


def segment_name(n: int) -> str:
    return f"seg-{n:02d}"


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'digest.db'}"


def write_config(
    folder: Path,
    segments: int,
    concurrency: int,
    processes: int = 1,
    *,
    database_url: str = "",
    send: str = "self",
    name: str = "digest.toml",
) -> Path:
    tables = "".join(
        f'\n[segments.{segment_name(n)}]\nlists = ["{segment_name(n)}"]\n' for n in range(segments)
    )
    path = folder / name
    path.write_text(
        f"""
[digest]
database_url = {json.dumps(database_url or sqlite_url(folder))}
backend = "sendgrid"
timezone = "UTC"
batch_size = 1000
concurrency = {concurrency}
processes = {processes}
send = "{send}"

[sender]
name = "City Desk"
email = "digest@desk.example"
postal_address = "1 Harbour Street, 00100 Helsinki, Finland"
base_url = "https://desk.example/digest"

[sendgrid]
timeout = 60
{tables}""",
        encoding="utf-8",
    )
    return path


@contextmanager
def postgres_schema(base: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL server of ``base``, dropped afterwards."""
    schema = "fanout_" + uuid.uuid4().hex[:10]
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


SUBSCRIBERS = {
    "sqlite": "INSERT INTO subscribers (id, email, name, status, timezone, locale,"
    " followed_tags, attributes, signed_up_at, confirmed_at)"
    " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)"
    " SELECT i, 'reader' || i || '@readers.example', 'Reader ' || i, 'active',"
    " 'UTC', '', '[]', '{}', :stamp, :stamp FROM n",
    "postgresql": "INSERT INTO subscribers (id, email, name, status, timezone, locale,"
    " followed_tags, attributes, signed_up_at, confirmed_at)"
    " SELECT i, 'reader' || i || '@readers.example', 'Reader ' || i, 'active',"
    " 'UTC', '', '[]'::json, '{}'::json, :stamp, :stamp FROM generate_series(1, :count) AS i",
}
LISTS = {
    "sqlite": "INSERT INTO subscriber_lists (subscriber_id, list_name)"
    " SELECT id, 'seg-' || printf('%02d', (id - 1) % :segments) FROM subscribers",
    "postgresql": "INSERT INTO subscriber_lists (subscriber_id, list_name)"
    " SELECT id, 'seg-' || lpad(((id - 1) % :segments)::text, 2, '0') FROM subscribers",
}


def build_store(database_url: str, subscribers: int, segments: int, now: datetime) -> None:
    """``subscribers`` active readers, each on one of ``segments`` lists in turn, and news."""
    with open_store(database_url) as store:
        dialect = store.engine.dialect.name
        stamp: object = (
            now if dialect == "postgresql" else now.astimezone(UTC).strftime(SQLITE_TIME)
        )
        with store.engine.begin() as connection:
            connection.execute(text(SUBSCRIBERS[dialect]), {"count": subscribers, "stamp": stamp})
            connection.execute(text(LISTS[dialect]), {"segments": segments})
            if dialect == "postgresql":
                connection.execute(
                    text("SELECT setval(pg_get_serial_sequence('subscribers', 'id'), :count)"),
                    {"count": subscribers},
                )
        add_news(store, now)


def add_news(store: Store, now: datetime, round: int = 0) -> None:
    """Ten new articles first seen just before ``now``: the next edition of every segment."""
    with store.session() as session:
        source = session.query(Source).filter_by(name="wire").one_or_none()
        if source is None:
            source = Source(name="wire", location="https://wire.example/feed.xml", title="Wire")
            session.add(source)
            session.flush()
        for n in range(10):
            seen = now - timedelta(minutes=n + 1)
            article = Article(
                source_id=source.id,
                url=f"https://wire.example/{round}/story-{n}",
                title=f"Council vote number {n} of round {round} reshapes the city budget",
                published_at=seen,
                first_seen_at=seen,
                text=" ".join(
                    f"Sentence {k} of story {n} says what the council decided and why."
                    for k in range(12)
                ),
                html="",
            )
            article.tags = [ArticleTag(tag="politics")]
            session.add(article)


@dataclass(frozen=True)
class StandInCounts:
    requests: int
    recipients: int
    cpu_seconds: float  # the stand-in process's, since it started


class RemoteStandIn:
    """A SendGrid stand-in (``validate=False``) in another process."""

    def __init__(self, url: str, connection: Connection) -> None:
        self.url = url
        self._connection = connection

    def counts(self) -> StandInCounts:
        self._connection.send("counts")
        requests, recipients, cpu = self._connection.recv()
        return StandInCounts(int(requests), int(recipients), float(cpu))


def _serve(connection: Connection, latency: float) -> None:
    sys.path.insert(0, str(TESTS))
    from sendgrid_standin import SendGridStandIn

    with SendGridStandIn(validate=False, latency=(latency, latency)) as standin:
        connection.send(standin.url)
        while connection.recv() == "counts":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu = usage.ru_utime + usage.ru_stime
            connection.send((standin.accepted_count, standin.recipient_count, cpu))


@contextmanager
def standin_process(latency: float = 0.0) -> Iterator[RemoteStandIn]:
    """The stand-in in a process of its own, answering each request after ``latency`` s."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs, latency), name="sendgrid-standin")
    process.start()
    try:
        yield RemoteStandIn(str(ours.recv()), ours)
    finally:
        ours.send("stop")
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join()
        ours.close()
        theirs.close()


class WorkerProcess:
    """A `digest worker` started as on another machine; its output kept in a file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        self._handle = log.open("w")
        paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "digest", "worker", "--config", str(config)],
            stdout=self._handle,
            stderr=subprocess.STDOUT,
            env=env,
        )

    def started(self) -> bool:
        return " started: " in self.log.read_text()

    def peak_rss_mb(self) -> float:
        """The process's peak resident memory so far (VmHWM), read while it runs."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(60)
        self._handle.close()
        return code


@contextmanager
def worker_processes(config: Path, count: int, folder: Path) -> Iterator[list[WorkerProcess]]:
    """``count`` workers on ``config``, each ready (listening or polling) when this yields."""
    started = [WorkerProcess(config, folder / f"worker-{count}-{n}.log") for n in range(count)]
    try:
        deadline = time.monotonic() + 60
        while not all(w.started() for w in started):
            if time.monotonic() > deadline or any(w.process.poll() is not None for w in started):
                raise RuntimeError("a worker did not start: " + started[0].log.read_text())
            time.sleep(0.05)
        yield started
    finally:
        for worker in started:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()
