"""The fan-out benchmark's world: a store of many subscribers, built by SQL, and a stand-in.

Subscribers are made by one ``INSERT … SELECT`` over a recursive counter, not by the CSV
import, so that a million take seconds. The SendGrid stand-in runs in a process of its own
(its HTTP parsing would otherwise share the sender's interpreter lock) and only counts.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

from sqlalchemy import text

from digest.store.database import open_store
from digest.store.models import Article, ArticleTag, Source

TESTS = Path(__file__).resolve().parent.parent / "tests"
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite


def segment_name(n: int) -> str:
    return f"seg-{n:02d}"


def write_config(folder: Path, segments: int, concurrency: int, processes: int = 1) -> Path:
    tables = "".join(
        f'\n[segments.{segment_name(n)}]\nlists = ["{segment_name(n)}"]\n' for n in range(segments)
    )
    path = folder / "digest.toml"
    path.write_text(
        f"""
[digest]
database_url = {json.dumps(f"sqlite:///{folder / 'digest.db'}")}
backend = "sendgrid"
timezone = "UTC"
batch_size = 1000
concurrency = {concurrency}
processes = {processes}

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


def build_store(folder: Path, subscribers: int, segments: int, now: datetime) -> None:
    """``subscribers`` active readers, each on one of ``segments`` lists in turn, and news."""
    stamp = now.astimezone(UTC).strftime(SQLITE_TIME)
    with open_store(f"sqlite:///{folder / 'digest.db'}") as store:
        with store.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO subscribers (id, email, name, status, timezone, locale,"
                    " followed_tags, attributes, signed_up_at, confirmed_at)"
                    " WITH RECURSIVE n(i) AS"
                    " (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)"
                    " SELECT i, 'reader' || i || '@readers.example', 'Reader ' || i, 'active',"
                    " 'UTC', '', '[]', '{}', :stamp, :stamp FROM n"
                ),
                {"count": subscribers, "stamp": stamp},
            )
            connection.execute(
                text(
                    "INSERT INTO subscriber_lists (subscriber_id, list_name)"
                    " SELECT id, 'seg-' || printf('%02d', (id - 1) % :segments) FROM subscribers"
                ),
                {"segments": segments},
            )
        with store.session() as session:
            source = Source(name="wire", location="https://wire.example/feed.xml", title="Wire")
            session.add(source)
            session.flush()
            for n in range(10):
                article = Article(
                    source_id=source.id,
                    url=f"https://wire.example/story-{n}",
                    title=f"Council vote number {n} reshapes the city budget",
                    published_at=now - timedelta(hours=n + 1),
                    first_seen_at=now - timedelta(hours=n + 1),
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


def _serve(connection: Connection) -> None:
    sys.path.insert(0, str(TESTS))
    from sendgrid_standin import SendGridStandIn

    with SendGridStandIn(validate=False) as standin:
        connection.send(standin.url)
        while connection.recv() == "counts":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu = usage.ru_utime + usage.ru_stime
            connection.send((standin.accepted_count, standin.recipient_count, cpu))


@contextmanager
def standin_process() -> Iterator[RemoteStandIn]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs,), name="sendgrid-standin")
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
