"""Cron schedules in the configured zone, and one edition per slot even when a job fires twice.

On 2026-10-25 Helsinki's clocks go back at 04:00, so 03:30 happens twice (+03:00, then
+02:00) and APScheduler fires a 03:30 job twice.  Both firings share one slot.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from helpers import rss_item, write_desk, write_rss
from sqlalchemy import select

import digest.run.schedule
from digest.cli import main
from digest.config import Config, load_config
from digest.intake.ingest import ingest_all
from digest.run.schedule import build_scheduler, slot_for, trigger_for
from digest.run.segments import run_segments
from digest.run.subscribers_file import merge_subscribers_file
from digest.store.database import Store
from digest.store.models import Edition

HELSINKI = ZoneInfo("Europe/Helsinki")
FIRST = datetime(2026, 10, 25, 3, 30, tzinfo=timezone(timedelta(hours=3)))
SECOND = datetime(2026, 10, 25, 3, 30, tzinfo=timezone(timedelta(hours=2)))
SLOT = "cron 2026-10-25T03:30"
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


@pytest.fixture
def unstored_config(tmp_path: Path) -> Config:
    """For tests that never open the store: no need to run them on each database."""
    return load_config(write_newsroom(tmp_path / "desk", f"sqlite:///{tmp_path / 'unused.db'}"))


def never(segment: str, slot: str) -> None:
    raise AssertionError("no job should run here")


def editions(store: Store) -> list[tuple[str, str]]:
    with store.session() as session:
        return [(e.segment, e.slot) for e in session.scalars(select(Edition).order_by(Edition.id))]


class Clock(datetime):
    """``datetime`` whose ``now()`` is set by the test."""

    current: datetime = FIRST

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return cls.current.astimezone(tz)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Clock]]:
    monkeypatch.setattr(digest.run.schedule, "datetime", Clock)
    Clock.current = FIRST
    yield Clock


def test_one_cron_job_per_segment_in_the_configured_zone(unstored_config: Config) -> None:
    scheduler = build_scheduler(unstored_config, never)

    assert not scheduler.running
    assert str(scheduler.timezone) == "Europe/Helsinki"
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == ["segment:politics", "segment:weekly"]
    for job in jobs.values():
        assert isinstance(job.trigger, CronTrigger)
        assert job.trigger.timezone == HELSINKI
    # 03:30 in Helsinki, whatever the machine's zone: 00:30 UTC in summer, 01:30 in winter.
    daily = jobs["segment:politics"].trigger
    summer = daily.get_next_fire_time(None, datetime(2026, 7, 1, tzinfo=UTC))
    winter = daily.get_next_fire_time(None, datetime(2026, 12, 1, tzinfo=UTC))
    assert summer.astimezone(UTC) == datetime(2026, 7, 1, 0, 30, tzinfo=UTC)
    assert winter.astimezone(UTC) == datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    weekly = jobs["segment:weekly"].trigger
    saturday = weekly.get_next_fire_time(None, datetime(2026, 10, 21, tzinfo=UTC))
    assert saturday.astimezone(HELSINKI).replace(tzinfo=None) == datetime(2026, 10, 24, 9, 0)


def test_both_firings_of_the_autumn_change_share_one_slot() -> None:
    trigger = trigger_for("30 3 * * *", HELSINKI)

    assert (SECOND - FIRST).total_seconds() == 3600  # one hour apart, same wall clock
    assert slot_for(trigger, HELSINKI, FIRST) == SLOT
    assert slot_for(trigger, HELSINKI, SECOND) == SLOT
    # A firing a little late keeps its slot; the next day has its own.
    assert slot_for(trigger, HELSINKI, SECOND + timedelta(minutes=3)) == SLOT
    assert slot_for(trigger, HELSINKI, FIRST + timedelta(days=1)) == "cron 2026-10-26T03:30"


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


def test_the_scheduled_job_is_called_with_segment_and_slot(
    unstored_config: Config, clock: type[Clock]
) -> None:
    calls: list[tuple[str, str]] = []
    scheduler = build_scheduler(
        unstored_config, lambda segment, slot: calls.append((segment, slot))
    )
    job = next(j for j in scheduler.get_jobs() if j.id == "segment:politics")

    job.func(*job.args)
    clock.current = SECOND
    job.func(*job.args)

    assert calls == [("politics", SLOT), ("politics", SLOT)]


def test_a_job_firing_twice_on_the_autumn_change_sends_once(
    config: Config, store: Store, tmp_path: Path, clock: type[Clock]
) -> None:
    backend = "outbox"
    merge_subscribers_file(store, config, FIRST)
    ingest_all(store, config, FIRST)

    def job(segment: str, slot: str) -> None:
        ingest_all(store, config, clock.current)
        run_segments(store, config, backend, [segment], now=clock.current, slot=slot)

    scheduler = build_scheduler(config, job)
    daily = next(j for j in scheduler.get_jobs() if j.id == "segment:politics")
    daily.func(*daily.args)
    write_feed(config.base_dir, 3)
    clock.current = SECOND
    daily.func(*daily.args)

    assert editions(store) == [("politics", SLOT)]
    assert len(list(config.outbox_dir.rglob("*.eml"))) == len(PEOPLE)


def test_digest_schedule_runs_each_firing_through_send_with_its_slot(
    capsys: pytest.CaptureFixture[str],
    config_path: Path,
    store: Store,
    clock: type[Clock],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``digest schedule`` with a start() that fires the daily job twice instead of blocking."""

    def fire_twice(scheduler: BlockingScheduler) -> None:
        daily = next(j for j in scheduler.get_jobs() if j.id == "segment:politics")
        daily.func(*daily.args)
        write_feed(config_path.parent, 3)
        clock.current = SECOND
        daily.func(*daily.args)

    monkeypatch.setattr(BlockingScheduler, "start", fire_twice)
    main(["schedule", "--config", str(config_path)])
    output = capsys.readouterr().out

    assert "scheduled digest politics" in output
    assert "in Europe/Helsinki" in output
    assert f"already ran for slot {SLOT}" in output
    assert editions(store) == [("politics", SLOT)]
    assert len(list((config_path.parent / "outbox").rglob("*.eml"))) == len(PEOPLE)
