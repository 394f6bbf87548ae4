"""Every step a run takes before sending is safe beside itself, on SQLite and PostgreSQL.

Overlapping cron jobs and several hosts on one store are normal: opening (and migrating) a
new store, merging the subscribers file, ingesting the same sources and recording the
edition may all happen twice at once. Nothing may crash, nothing may be stored twice, and
the run that finds the work done or in hand says so and exits 0.
"""

from __future__ import annotations

import email.parser
import email.policy
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from feedserver import Route, serve
from helpers import ROOT, together, write_intake_config
from sqlalchemy import func, select

from digest.config import load_config
from digest.intake.ingest import ingest_all
from digest.store.database import Store, open_store
from digest.store.models import Article, Delivery, DeliveryStatus, Edition, Source, SourceLine
from subscribers.importer import ImportOptions, ImportReport, import_file
from subscribers.models import Membership, Subscriber

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
FEEDS = ROOT / "examples" / "newsroom" / "feeds"


def environment() -> dict[str, str]:
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


OPEN_WHEN_TOLD = """
import sys, time
from pathlib import Path
from digest.store.database import open_store
ready, go = Path(sys.argv[2]), Path(sys.argv[3])
ready.touch()
while not go.exists():
    time.sleep(0.001)
with open_store(sys.argv[1]) as store:
    print(store.secret("signing-key"))
"""


def test_processes_opening_a_new_store_at_once_migrate_it_once_and_share_one_secret(
    database_url: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{n}" for n in range(4)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_WHEN_TOLD, database_url, str(flag), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(),
        )
        for flag in ready
    ]
    deadline = time.monotonic() + 120
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()  # every process has imported Digest: they open the new store together
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [p.returncode for p in processes] == [0] * 4, outputs
    secrets = {out.strip() for out, _ in outputs}
    assert len(secrets) == 1 and "" not in secrets, outputs  # one key, made once


def test_two_merges_at_once_take_turns_and_store_each_reader_once(
    database_url: str, tmp_path: Path
) -> None:
    readers = 20_000
    path = tmp_path / "people.csv"
    rows = "".join(f"reader{n:05d}@readers.example,Reader {n},daily\n" for n in range(readers))
    path.write_text("email,name,lists\n" + rows, encoding="utf-8")
    with ExitStack() as stack:
        stores = [stack.enter_context(open_store(database_url)) for _ in range(2)]

        def merge(n: int) -> ImportReport:  # two engines, as two processes have
            with stores[n].engine.begin() as connection:
                return import_file(connection, path, ImportOptions(), NOW)

        reports = together(2, merge)
    assert sorted((r.added, r.unchanged) for r in reports) == [(0, readers), (readers, 0)]
    with open_store(database_url) as store, store.session() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == readers
        assert session.scalar(select(func.count()).select_from(Membership)) == readers


FIRST_VISIT = """<?xml version="1.0"?><rss version="2.0"><channel><title>Desk</title>
<link>https://news.example/</link><item><title>Opening day at the {name} desk</title>
<link>https://news.example/{name}/opening</link><category>news</category>
<description>The {name} desk opened today with a short note to its readers.</description>
</item></channel></rss>"""


def line_counts(store: Store) -> dict[tuple[str, str], int]:
    """How many articles of each source carried each line (boilerplate's evidence)."""
    query = select(Source.name, SourceLine.line_hash, SourceLine.count).join(Source)
    with store.session() as session:
        return {(name, line): count for name, line, count in session.execute(query)}


@pytest.mark.parametrize("visited", [False, True], ids=["new-sources", "known-sources"])
def test_two_runs_ingesting_the_same_sources_at_once_store_each_article_once(
    database_url: str, tmp_path: Path, visited: bool
) -> None:
    """New sources: both runs make the source's row. Known ones: both store its articles
    and count its lines. Either way the store ends as after one run (the reference)."""
    feeds = {"democrat": "talking-democrat.xml", "techwire": "techwire.atom"}
    config_path = tmp_path / "digest.toml"
    with ExitStack() as stack, serve() as server:
        stores = [stack.enter_context(open_store(database_url)) for _ in range(2)]
        reference = stack.enter_context(open_store(f"sqlite:///{tmp_path / 'reference.db'}"))
        sources = "".join(f'[sources.{n}]\nurl = "{server.url}/{f}"\n' for n, f in feeds.items())
        intake = '[intake]\nallow_hosts = ["127.0.0.1"]\nhost_delay = 0\n'
        write_intake_config(config_path, intake + sources)
        config = load_config(config_path)  # ingest_all writes to the store it is given
        if visited:
            for name, file in feeds.items():
                server.routes[f"/{file}"] = Route(FIRST_VISIT.format(name=name).encode())
            for store in (stores[0], reference):
                assert [r.line for r in ingest_all(store, config, NOW)] == [
                    f"ok {name} 1 new, 0 updated" for name in feeds
                ]
        server.routes.update({f"/{f}": Route((FEEDS / f).read_bytes()) for f in feeds.values()})
        alone = ingest_all(reference, config, NOW)
        server.requests.clear()
        server.gate = threading.Barrier(2)  # the two runs' requests are answered together
        first, second = together(2, lambda n: ingest_all(stores[n], config, NOW))

        assert [r.error for r in first + second] == [""] * 4, first + second
        assert len(server.requests) == 4  # both runs fetched both sources, at the same moment
        for report in alone:
            new = sorted(r.new for r in first + second if r.source == report.source)
            assert new == [0, report.new] and report.new >= 10  # one stored, one found them
        with stores[0].session() as session:
            urls = list(session.scalars(select(Article.url)))
            assert session.scalar(select(func.count()).select_from(Source)) == len(feeds)
        with reference.session() as session:
            assert sorted(urls) == sorted(session.scalars(select(Article.url)))
        assert line_counts(stores[0]) == line_counts(reference)  # no line counted twice


# --- two `digest send` processes over the example newsroom ---

SEGMENT = "politics-daily"
# What the run that finds the edition made, or being sent, says on its segment's line.
OTHERS = (
    "another run made this edition just now",
    "resumed an unfinished edition",
    "no new articles since",
)


def write_readers(newsroom: Path, count: int) -> list[str]:
    readers = [f"reader{n:05d}@readers.example" for n in range(count)]
    rows = "".join(f"{address},Reader {n},{SEGMENT}\n" for n, address in enumerate(readers))
    (newsroom.parent / "subscribers.csv").write_text("email,name,lists\n" + rows, "utf-8")
    return readers


def recipients_in_outbox(folder: Path) -> Counter[str]:
    """The To address of every message written, read from the headers only."""
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    found: Counter[str] = Counter()
    for path in folder.rglob("*.eml"):
        with path.open("rb") as handle:
            head = handle.read(8192).split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        found[parser.parsebytes(head)["To"].addresses[0].addr_spec] += 1
    return found


@pytest.mark.parametrize(
    ("readers", "migrated"),
    [
        pytest.param(300, False, id="300-readers-new-store"),
        pytest.param(30_000, True, id="30000-readers", marks=pytest.mark.slow),
    ],
)
def test_two_sends_started_together_make_one_edition_and_reach_each_reader_once(
    newsroom: Path, readers: int, migrated: bool
) -> None:
    addresses = write_readers(newsroom, readers)
    config = load_config(newsroom)
    if migrated:
        open_store(config.database_url).close()
    command = [sys.executable, "-c", "from digest.cli import main; main()", "send"]
    argv = [*command, "--segment", SEGMENT, "--config", str(newsroom)]
    senders = [
        subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment()
        )
        for _ in range(2)
    ]
    outputs = [sender.communicate(timeout=1200)[0] for sender in senders]

    assert [sender.returncode for sender in senders] == [0, 0], outputs
    for output in outputs:
        assert not re.search(r"^(internal )?error\b|Traceback", output, re.M), output
    told = [
        line for output in outputs for line in output.splitlines() if any(o in line for o in OTHERS)
    ]
    assert len(told) == 1 and told[0].startswith(SEGMENT + " "), outputs  # one line, by one run
    with open_store(config.database_url) as store, store.session() as session:
        (edition,) = session.scalars(select(Edition).where(Edition.segment == SEGMENT))
        ledger = Counter(
            session.scalars(
                select(Delivery.email).where(
                    Delivery.edition_id == edition.id, Delivery.status == DeliveryStatus.sent
                )
            )
        )
    assert ledger == Counter(addresses)
    assert recipients_in_outbox(config.outbox_dir / SEGMENT) == Counter(addresses)


def test_two_cron_runs_at_once_make_one_edition_per_slot_and_reach_each_reader_once(
    newsroom: Path,
) -> None:
    """Two overlapping `digest run`s from cron on a new store: every segment is due (never
    sent); between them each makes one edition, keyed by its slot, and sends it once."""
    addresses = write_readers(newsroom, 300)
    config = load_config(newsroom)
    argv = [sys.executable, "-c", "from digest.cli import main; main()", "run"]
    runs = [
        subprocess.Popen(
            [*argv, "--config", str(newsroom)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment(),
        )
        for _ in range(2)
    ]
    outputs = [each.communicate(timeout=1200)[0] for each in runs]

    assert [each.returncode for each in runs] == [0, 0], outputs
    for output in outputs:
        assert not re.search(r"^(internal )?error\b|Traceback", output, re.M), output
    with open_store(config.database_url) as store, store.session() as session:
        made = list(session.scalars(select(Edition).order_by(Edition.id)))
        assert sorted(e.segment for e in made) == sorted(config.segments)  # one each
        assert all(e.slot.startswith("cron ") for e in made), [e.slot for e in made]
        (politics,) = [e for e in made if e.segment == SEGMENT]
        ledger = Counter(
            session.scalars(
                select(Delivery.email).where(
                    Delivery.edition_id == politics.id, Delivery.status == DeliveryStatus.sent
                )
            )
        )
    assert ledger == Counter(addresses)
    assert recipients_in_outbox(config.outbox_dir / SEGMENT) == Counter(addresses)
    # Run again: the slots are handled, nothing is fetched or sent.
    again = subprocess.run(
        [*argv, "--config", str(newsroom)],
        capture_output=True,
        text=True,
        env=environment(),
        timeout=300,
        check=False,
    )
    assert again.returncode == 0 and again.stdout.startswith("nothing due; next: "), again
