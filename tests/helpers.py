"""Helpers shared by the tests: the example newsroom, configs and a small desk of one feed,
the command line run in this process, loopback servers, and the test-only shortcuts into
the run (one segment, one whole delivery)."""

from __future__ import annotations

import csv
import json
import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import HTTPServer
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.cli import main
from digest.config import Config
from digest.deliver.batches import BackendFactory
from digest.deliver.ledger import Counts
from digest.deliver.send import start_delivery
from digest.intake.clean import clean_paragraphs
from digest.run.delivery import delivery_settings
from digest.run.report import SegmentReport
from digest.run.segments import SegmentRun
from digest.settings import SegmentSettings
from digest.store.database import Store
from digest.store.models import Delivery, Edition, EditionStatus

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "newsroom"

# --- configs ---

SENDER = """[sender]
email = "digest@news.example"
postal_address = "1 Main Street, Springfield"
base_url = "https://news.example"
"""
MINIMAL = f"\n{SENDER}[segments.daily]\n"  # the smallest valid config
DESK_SENDER = """[sender]
email = "digest@desk.example"
postal_address = "1 Harbour Street, 00100 Helsinki, Finland"
base_url = "https://desk.example/digest"
"""


def use_database(config_path: Path, url: str) -> None:
    """Point a copied config at ``url`` by setting [digest] database_url."""
    body = config_path.read_text(encoding="utf-8")
    line = f"database_url = {url!r}\n".replace("'", '"')
    if re.search(r"^\[digest\]\s*$", body, flags=re.M):
        body = re.sub(
            r"^\[digest\]\s*$", "[digest]\n" + line.rstrip("\n"), body, count=1, flags=re.M
        )
    else:
        body = "[digest]\n" + line + body
    config_path.write_text(body, encoding="utf-8")


def write_intake_config(path: Path, tables: str) -> Path:
    """A config at ``path`` of a sender, one segment ("all") and ``tables`` (the sources)."""
    path.write_text(f"{SENDER}[segments.all]\n{tables}", encoding="utf-8")
    return path


def write_audience_config(path: Path, database_url: str, segments: str = "") -> Path:
    """A config at ``path`` for the subscribers commands: the desk's sender, a segment
    "everyone" and ``segments``."""
    path.write_text(
        f"[digest]\ndatabase_url = {json.dumps(database_url)}\n\n{DESK_SENDER}\n"
        f'[segments.everyone]\nsubject = "The week"\n{segments}',
        encoding="utf-8",
    )
    return path


# --- a desk of its own: one RSS feed, a subscribers file and a config, in a folder ---


def rss_item(title: str, url: str, published: str, text: str, category: str = "politics") -> str:
    """One RSS item whose description is ``text`` as a paragraph."""
    return f"""
    <item>
      <title>{title}</title>
      <link>{url}</link>
      <guid>{url}</guid>
      <pubDate>{published}</pubDate>
      <category>{category}</category>
      <description>&lt;p&gt;{text}&lt;/p&gt;</description>
    </item>"""


def write_rss(folder: Path, items: Iterable[str]) -> None:
    """The City Desk's feed of ``items`` as feed.xml in ``folder``."""
    (folder / "feed.xml").write_text(
        f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>City Desk</title><link>https://news.example/</link>
<description>Local news</description>{"".join(items)}
</channel></rss>
""",
        encoding="utf-8",
    )


def write_city_feed(folder: Path) -> None:
    """Two politics items, 1 and 2 November 2026, as feed.xml in ``folder``."""
    write_rss(
        folder,
        (
            rss_item(
                f"Council vote number {n}",
                f"https://news.example/politics/vote-{n}",
                f"Mon, 0{n} Nov 2026 08:00:00 GMT",
                f"The council voted on measure {n} after a long debate. \\\n"
                "Members said the result would shape the budget for years.",
            )
            for n in (1, 2)
        ),
    )


def write_subscribers(folder: Path, people: Mapping[str, str], lists: str) -> None:
    """subscribers.csv in ``folder``: each address with its name, on ``lists``."""
    with (folder / "subscribers.csv").open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["email", "name", "lists"])
        writer.writerows([address, name, lists] for address, name in people.items())


def write_desk(
    folder: Path,
    people: Mapping[str, str],
    database_url: str = "",
    *,
    segment: str = "politics",
    digest: str = "",
    more: str = "",
    feed: Callable[[Path], None] = write_city_feed,
) -> Path:
    """A desk of its own in ``folder`` on ``database_url``; returns its config. ``feed``
    writes feed.xml, and subscribers.csv holds ``people`` on the list ``segment``, which the
    City Desk in Helsinki sends to. ``digest`` adds settings to [digest]; ``more`` follows
    the segment's table (keys of the segment first, then tables of their own)."""
    folder.mkdir(parents=True, exist_ok=True)
    feed(folder)
    write_subscribers(folder, people, segment)
    config = folder / "digest.toml"
    config.write_text(
        f"""
[digest]
database_url = {json.dumps(database_url)}
timezone = "Europe/Helsinki"
{digest}

{DESK_SENDER}name = "City Desk"

[audience]
subscribers_file = "subscribers.csv"

[sources.desk]
path = "feed.xml"

[segments.{segment}]
lists = ["{segment}"]
lookback_days = 36500
{more}
""",
        encoding="utf-8",
    )
    return config


# --- the command line, in this process ---


class Ran(NamedTuple):
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    """A digest command through the entry point: its exit code, stdout and stderr."""
    try:
        main(list(argv))
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
    out, err = capsys.readouterr()
    return Ran(code, out, err)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """A digest command through the entry point: (exit code, stdout and stderr)."""
    code, out, err = run_cli(capsys, *argv)
    return code, out + err


def cli_ok(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """A digest command that must succeed: its stdout and stderr."""
    code, output = cli(capsys, *argv)
    assert code == 0, output
    return output


def send_segment(
    capsys: pytest.CaptureFixture[str], config: Path, backend: str, segment: str = "politics"
) -> tuple[int, str]:
    """``digest send`` of ``segment`` through ``backend``: (exit code, stdout and stderr)."""
    return cli(capsys, "send", "--segment", segment, "--backend", backend, "--config", str(config))


def subscribers_cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> Ran:
    """``digest subscribers COMMAND --config CONFIG ARGS``, with only its own output."""
    capsys.readouterr()
    return run_cli(capsys, "subscribers", args[0], "--config", str(config), *args[1:])


def add_edition(
    session: Session,
    segment: str,
    slot: str,
    status: EditionStatus,
    created_at: datetime,
    **values: Any,
) -> Edition:
    """A new edition row, flushed so that it has its id; its subject, HTML and text are
    empty unless ``values`` give them (or any other column)."""
    edition = Edition(
        segment=segment,
        slot=slot,
        status=status,
        created_at=created_at,
        **{"subject": "", "html": "", "text": "", **values},
    )
    session.add(edition)
    session.flush()
    return edition


def ledger(store: Store) -> dict[str, Delivery]:
    """Every delivery row, by address."""
    with store.session() as session:
        return {d.email: d for d in session.scalars(select(Delivery))}


# --- loopback servers ---


def free_port() -> int:
    """A port nothing listens on now (for a server to take, or for a refused connection)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def in_thread(server: HTTPServer) -> Iterator[int]:
    """Serve from a thread until the block ends; yields the port."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps each message's bytes."""

    received: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(bytes(envelope.content))
        return "250 2.0.0 queued"


# --- at the same moment ---

T = TypeVar("T")


def together(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(0)`` … ``work(count - 1)`` in threads released at one moment."""
    start = threading.Barrier(count)
    results: list[T | BaseException | None] = [None] * count

    def body(n: int) -> None:
        start.wait(timeout=30)
        try:
            results[n] = work(n)
        except BaseException as e:  # reported below, in the test's own thread
            results[n] = e

    threads = [threading.Thread(target=body, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    failed = [r for r in results if isinstance(r, BaseException)]
    assert not failed, failed
    return [r for r in results if r is not None and not isinstance(r, BaseException)]


# --- shortcuts into the run ---


def run_segment(
    store: Store,
    config: Config,
    backend: str,
    segment: SegmentSettings,
    now: datetime,
    slot: str,
) -> SegmentReport:
    """One segment's turn, as a run takes it, waited for to the end."""
    run = SegmentRun(store, config, delivery_settings(config), backend)
    return run.start(segment, now, slot)()


def deliver(
    store: Store, config: Config, make_backend: BackendFactory, edition_id: int, **options: Any
) -> Counts:
    """Send every pending batch of the edition through ``make_backend`` and wait for it."""
    settings = delivery_settings(config)
    return start_delivery(store, settings, make_backend, edition_id, **options).finish()


def clean_text(paragraphs: Sequence[str], *, title: str = "", author: str = "") -> str:
    """Cleaned plain text, paragraphs separated by blank lines."""
    return "\n\n".join(clean_paragraphs(paragraphs, title=title, author=author))
