"""Recording benchmark: a local-time edition's ledger, in waves, beside a plain one.

    python benchmarks/waves.py [--subscribers 1000000] [--database-url URL]

Builds ``--subscribers`` active readers (by SQL, not timed) whose time zones cycle through
eight names, among them a half-hour zone, none given and one that is not a zone; then
times recording one edition's recipients the plain way (everyone at once) and in waves
(each reader at 08:00 in their zone), and reading the waves back as `digest status` does
(every wave's zones named) and as a run's report does (the next wave's).
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from digest.deliver.recipients import record_recipients
from digest.deliver.status import edition_waves
from digest.deliver.zones import Waves
from digest.run.slots import instant
from digest.store.database import Store, open_store
from digest.store.models import Batch, Edition, EditionStatus
from subscribers.audience import Rule

ZONES = (
    "Pacific/Auckland",
    "Asia/Kolkata",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Berlin",
    "",
    "Mars/Olympus_Mons",
)
NOW = datetime(2026, 11, 9, 19, 0, tzinfo=UTC)
WALL = datetime(2026, 11, 10, 8, 0)


def build(store: Store, subscribers: int) -> None:
    cases = " ".join(f"WHEN {n} THEN '{zone}'" for n, zone in enumerate(ZONES))
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO subscribers (id, email, name, status, timezone, locale,"
                " followed_tags, attributes, signed_up_at, confirmed_at)"
                " WITH RECURSIVE n(i) AS"
                " (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)"
                " SELECT i, 'reader' || i || '@readers.example', 'Reader ' || i, 'active',"
                f" CASE i % {len(ZONES)} {cases} END, '', '[]', '{{}}', :stamp, :stamp FROM n"
            ),
            {"count": subscribers, "stamp": NOW},
        )


def edition(store: Store, slot: str) -> int:
    with store.session() as session:
        row = Edition(
            segment="daily",
            slot=slot,
            status=EditionStatus.sending,
            created_at=NOW,
            subject="",
            html="",
            text="",
        )
        session.add(row)
        session.flush()
        return row.id


def timed(store: Store, waves: Waves | None, slot: str) -> tuple[float, int]:
    edition_id = edition(store, slot)
    started = time.perf_counter()
    with store.session() as session:
        recorded = record_recipients(session, edition_id, Rule(), 1000, waves)
    seconds = time.perf_counter() - started
    return seconds, recorded


@contextmanager
def database(url: str, folder: str) -> Iterator[str]:
    """SQLite in ``folder``, or a schema of its own in the PostgreSQL database at ``url``,
    dropped afterwards."""
    if not url:
        yield f"sqlite:///{Path(folder) / 'digest.db'}"
        return
    schema = "bench_waves_" + uuid.uuid4().hex[:8]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        database(args.database_url, folder) as url,
        open_store(url) as store,
    ):
        print(f"building {args.subscribers} readers…", file=sys.stderr, flush=True)
        build(store, args.subscribers)
        plain, count = timed(store, None, "at plain")
        london = Waves(lambda zone: instant(WALL, zone), ZoneInfo("Europe/London"))
        waved, waved_count = timed(store, london, "cron waves")
        with store.session() as session:
            waved_id = session.scalar(select(func.max(Edition.id)))
            assert waved_id is not None
            waves_made = session.scalar(
                select(func.count(func.distinct(Batch.release_at))).where(
                    Batch.edition_id == waved_id
                )
            )
            started = time.perf_counter()
            shown = edition_waves(session, waved_id, london.zone)
            status_seconds = time.perf_counter() - started
            started = time.perf_counter()
            edition_waves(session, waved_id, london.zone, "next")
            next_seconds = time.perf_counter() - started
    assert count == waved_count == args.subscribers
    assert len(shown) == waves_made
    print(
        json.dumps(
            {
                "subscribers": args.subscribers,
                "database": "postgresql" if args.database_url else "sqlite",
                "record_plain_seconds": round(plain, 2),
                "record_waves_seconds": round(waved, 2),
                "waves": waves_made,
                "status_waves_seconds": round(status_seconds, 2),
                "next_wave_seconds": round(next_seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
