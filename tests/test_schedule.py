"""Cron schedules in the configured zone, and one edition per slot even when a job fires twice.

On 2026-10-25 Helsinki's clocks go back at 04:00, so 03:30 happens twice (+03:00, then
+02:00) and APScheduler fires a 03:30 job twice.  Both firings share one slot.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import ROOT, rss_item, write_desk, write_rss
from sendgrid_standin import SendGridStandIn
from sqlalchemy import select

from digest.cli import main
from digest.commands.run import STOPPED
from digest.config import Config, load_config
from digest.deliver import ledger
from digest.intake.ingest import SourceReport, ingest_all
from digest.run.due import DUE, WAITING, due_segments
from digest.run.job import due_job
from digest.run.scheduler import DueTrigger
from digest.run.segments import run_segments
from digest.run.subscribers_file import AudienceReport, merge_subscribers_file
from digest.store.database import Store, open_store
from digest.store.models import Delivery, DeliveryStatus, Edition

HELSINKI = ZoneInfo("Europe/Helsinki")
FIRST = datetime(2026, 10, 25, 3, 30, tzinfo=timezone(timedelta(hours=3)))
SECOND = datetime(2026, 10, 25, 3, 30, tzinfo=timezone(timedelta(hours=2)))
SLOT = "cron 2026-10-25T03:30"
DIGEST = (sys.executable, "-c", "from digest.cli import main; main()")
SECRETS = {"SENDGRID_API_KEY": "SG.test-key", "DIGEST_SECRET_KEY": "test-signing-key"}
PEOPLE = {"ada@readers.example": "Ada Lovelace", "grace@readers.example": "Grace Hopper"}


STORIES = (
    (
        "Council approves tram extension",
        "The city council approved the eastern tram line "
        "extension on Monday, with works starting in spring and a budget of 80 million euros.",
    ),
    (
        "Mayor vetoes parking fee rise",
        "Mayor Lena Virtanen vetoed the proposed parking fee "
        "increase, saying shop owners in the old harbour district had not been consulted.",
    ),
    (
        "Schools to get new heating",
        "Twelve primary schools will switch to district heating "
        "next winter after the education board signed a contract with the municipal utility.",
    ),
)


def environment() -> dict[str, str]:
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def write_feed(folder: Path, count: int) -> None:
    """An RSS feed of ``count`` distinct politics stories, dated the week before the change."""
    write_rss(
        folder,
        (
            rss_item(
                title,
                f"https://news.example/politics/vote-{n}",
                f"{18 + n} Oct 2026 08:00:00 GMT",
                body,
            )
            for n, (title, body) in enumerate(STORIES[:count], start=1)
        ),
    )


def write_newsroom(folder: Path, database_url: str) -> Path:
    """Two segments in Helsinki time: a daily at 03:30 and a Saturday weekly."""
    schedules = (
        'schedule = "30 3 * * *"\n\n'
        '[segments.weekly]\nlists = ["politics"]\nlookback_days = 36500\nschedule = "0 9 * * sat"'
    )
    return write_desk(
        folder,
        PEOPLE,
        database_url,
        digest='backend = "outbox"',
        more=schedules,
        feed=lambda desk: write_feed(desk, 2),
    )


@pytest.fixture
def config_path(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DIGEST_SECRET_KEY", "test-signing-key")
    return write_newsroom(tmp_path / "desk", database_url)


@pytest.fixture
def config(config_path: Path) -> Config:
    return load_config(config_path)


def editions(store: Store) -> list[tuple[str, str]]:
    with store.session() as session:
        return [(e.segment, e.slot) for e in session.scalars(select(Edition).order_by(Edition.id))]


def test_both_passes_of_the_autumn_change_share_one_slot(config: Config, store: Store) -> None:
    assert (SECOND - FIRST).total_seconds() == 3600  # one hour apart, same wall clock
    (daily, _) = due_segments(store, config, FIRST)
    assert (daily.state, daily.slot) == (DUE, SLOT)
    due_job(store, config, "outbox", Quiet(), now=FIRST)

    (daily, weekly) = due_segments(store, config, SECOND)
    assert daily.state == WAITING and weekly.state == WAITING
    assert daily.next_at == datetime(2026, 10, 26, 3, 30, tzinfo=HELSINKI)
    assert editions(store) == [("politics", SLOT), ("weekly", "cron 2026-10-24T09:00")]


def test_a_second_run_in_the_same_slot_makes_no_second_edition(
    config: Config, store: Store, tmp_path: Path
) -> None:
    backend = "outbox"
    merge_subscribers_file(store, config, FIRST)
    ingest_all(store, config, FIRST)

    (first,) = run_segments(store, config, backend, ["politics"], now=FIRST, slot=SLOT)
    assert (first.items, first.recipients, first.written, first.failed) == (2, 2, 2, False)

    # A new article arrives between the firings: only the slot can stop a second edition.
    write_feed(config.base_dir, 3)
    ingest_all(store, config, SECOND)
    (second,) = run_segments(store, config, backend, ["politics"], now=SECOND, slot=SLOT)

    assert second.note == f"already ran for slot {SLOT}"
    assert not second.failed and second.written == 0
    assert editions(store) == [("politics", SLOT)]
    messages = sorted(p.name.split("-", 1)[1] for p in config.outbox_dir.rglob("*.eml"))
    assert messages == sorted(f"{address}.eml" for address in PEOPLE)


def test_send_twice_with_one_slot_gives_one_edition(
    capsys: pytest.CaptureFixture[str], config_path: Path, store: Store
) -> None:
    def send() -> str:
        main(["send", "--segment", "politics", "--slot", "S1", "--config", str(config_path)])
        return capsys.readouterr().out

    assert "already ran" not in send()
    write_feed(config_path.parent, 3)
    assert "already ran for slot S1" in send()

    assert editions(store) == [("politics", "S1")]
    assert len(list((config_path.parent / "outbox").rglob("*.eml"))) == len(PEOPLE)


Step = Callable[[], None]


class Quiet:
    def merged(self, report: AudienceReport) -> None:
        pass

    def ingested(self, reports: Sequence[SourceReport]) -> None:
        pass


STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d "


def test_the_scheduler_fires_at_once_then_at_each_wake(config: Config, store: Store) -> None:
    trigger = DueTrigger(store, config)
    assert trigger.get_next_fire_time(None, FIRST) == FIRST
    # After the first 03:30 of the autumn change, the second 03:30 is no new slot: the
    # scheduler wakes each minute (to see what other processes did) until the next day's.
    due_job(store, config, "outbox", Quiet(), now=FIRST)
    assert trigger.get_next_fire_time(FIRST, SECOND) == SECOND + timedelta(minutes=1)
    before = datetime(2026, 10, 26, 3, 29, 30, tzinfo=HELSINKI)
    assert trigger.get_next_fire_time(before, before) == datetime(
        2026, 10, 26, 3, 30, tzinfo=HELSINKI
    )


def test_digest_schedule_says_what_is_due_sends_it_once_with_stamped_lines_and_stops_on_sigterm(
    config_path: Path, store: Store, tmp_path: Path
) -> None:
    log = tmp_path / "schedule.log"
    with log.open("w") as output:
        scheduler = subprocess.Popen(
            [*DIGEST, "schedule", "--config", str(config_path)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment(),
        )
        try:
            deadline = time.monotonic() + 120
            outbox = config_path.parent / "outbox"
            while len(list(outbox.rglob("*.eml"))) < 2 * len(PEOPLE):
                assert time.monotonic() < deadline and scheduler.poll() is None, log.read_text()
                time.sleep(0.05)
            time.sleep(0.5)  # the pass prints its table
            scheduler.send_signal(signal.SIGTERM)
            code = scheduler.wait(timeout=60)
        finally:
            scheduler.kill()
    out = log.read_text()
    lines = out.splitlines()
    assert code == 0, out
    assert all(re.match(STAMP, line) for line in lines), out
    assert "segment " in lines[0] and "next slot" in lines[0], out
    assert "every day at 03:30, Europe/Helsinki" in lines[1] and "never sent" in lines[1]
    assert "every Saturday at 09:00, Europe/Helsinki" in lines[2], out
    assert re.search(STAMP + r"segment +items +recipients +written", out), out
    assert lines[-1].endswith(STOPPED), out
    assert [segment for segment, _ in editions(store)] == ["politics", "weekly"]
    assert len(list((config_path.parent / "outbox").rglob("*.eml"))) == 2 * len(PEOPLE)


# --- a stop while sending ---


def received(standin: SendGridStandIn) -> list[str]:
    """The address of every personalization the stand-in accepted, repeats included."""
    return [
        to["email"]
        for request in standin.accepted
        for personalization in request.body["personalizations"]
        for to in personalization["to"]
    ]


def test_sigterm_while_sending_finishes_the_batch_in_hand_and_exits_0(
    tmp_path: Path, database_url: str
) -> None:
    readers = {f"reader{n:03d}@readers.example": f"Reader {n}" for n in range(60)}
    settings = 'backend = "sendgrid"\nbatch_size = 5\nconcurrency = 1\nprocesses = 1'
    path = write_desk(tmp_path / "desk", readers, database_url, digest=settings)
    log = tmp_path / "schedule.log"
    with SendGridStandIn(latency=(0.2, 0.3)) as standin, log.open("w") as output:
        scheduler = subprocess.Popen(
            [*DIGEST, "schedule", "--config", str(path)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**environment(), "SENDGRID_API_HOST": standin.url, **SECRETS},
        )
        try:
            deadline = time.monotonic() + 120
            while standin.request_count < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            scheduler.send_signal(signal.SIGTERM)
            code = scheduler.wait(timeout=60)
        finally:
            scheduler.kill()
        accepted = received(standin)
        out = log.read_text()
        assert code == 0, out
        assert all(re.match(STAMP, line) for line in out.splitlines()), out
        with open_store(database_url) as store, store.session() as session:
            (edition,) = session.scalars(select(Edition))
            counts = ledger.counts(session, edition.id)
            sent = set(
                session.scalars(
                    select(Delivery.email).where(Delivery.status == DeliveryStatus.sent)
                )
            )
        assert sent == set(accepted) and len(accepted) == len(sent)  # the batch in hand
        assert 0 < counts.sent < len(readers) and counts.pending == len(readers) - counts.sent
        assert counts.in_doubt == 0
        assert out.splitlines()[-1].endswith(
            f"{STOPPED}; pending for the next run: edition {edition.id}: "
            f"{counts.pending} recipients"
        ), out

        # The next run (from cron, say) sends the rest, and nobody gets two.
        after = subprocess.run(
            [*DIGEST, "run", "--config", str(path)],
            capture_output=True,
            text=True,
            env={**environment(), "SENDGRID_API_HOST": standin.url, **SECRETS},
            timeout=300,
            check=False,
        )
        assert after.returncode == 0 and "(resumed)" in after.stdout, after
        assert Counter(received(standin)) == Counter(list(readers))
