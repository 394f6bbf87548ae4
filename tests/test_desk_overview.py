"""The desk's home and history figures: audience, schedule in words, next run in the
configured zone, the state of the next edition, and each edition's figures from the ledger
and the provider's events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from digest.config import Config, load_config
from digest.intake.ingest import ingest_all
from digest.run import desk
from digest.run.schedule import in_words, last_run, next_run
from digest.run.segments import run_segments
from digest.run.subscribers_file import merge_subscribers_file
from digest.store.database import Store
from digest.store.engagement import record_click, record_opens
from digest.store.models import Delivery, DeliveryStatus, Edition, EditionItem, EditionStatus
from subscribers.models import Membership, Status, Subscriber

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # a Thursday
LONDON = ZoneInfo("Europe/London")
HELSINKI = ZoneInfo("Europe/Helsinki")
POLITICS = "politics-daily"


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("0 7 * * *", "every day at 07:00"),
        ("0 8 * * mon", "every Monday at 08:00"),
        ("0 7 * * mon-fri", "at 07:00 on weekdays"),
        ("0 7 * * 0-4", "at 07:00 on weekdays"),  # APScheduler 3 counts 0 as Monday
        ("30 9 * * sat,sun", "at 09:30 on weekends"),
        ("30 6 * * mon,wed,fri", "every Monday, Wednesday and Friday at 06:30"),
        ("0 7,19 * * *", "every day at 07:00 and 19:00"),
        ("*/15 * * * *", "every 15 minutes"),
        ("0 * * * *", "every hour on the hour"),
        ("0 */2 * * *", "every 2 hours on the hour"),
        ("0 7 1 * *", "at 07:00 on day 1 of every month"),
        ("0 7 1-7 * mon", "on the cron schedule '0 7 1-7 * mon'"),
    ],
)
def test_a_schedule_in_words(expression: str, words: str) -> None:
    assert in_words(expression) == words


def test_the_next_and_last_runs_are_in_the_configured_zone() -> None:
    assert next_run("0 8 * * mon", LONDON, NOW) == datetime(2026, 11, 30, 8, 0, tzinfo=LONDON)
    assert last_run("0 8 * * mon", LONDON, NOW) == datetime(2026, 11, 23, 8, 0, tzinfo=LONDON)
    # 29 March 2026: Helsinki's clocks go forward at 03:00; 07:00 is still 07:00 local.
    spring = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    upcoming = next_run("0 7 * * *", HELSINKI, spring)
    assert upcoming is not None and upcoming.utcoffset() == timedelta(hours=3)
    assert (upcoming.day, upcoming.hour, upcoming.tzinfo) == (29, 7, HELSINKI)
    assert last_run("*/15 * * * *", LONDON, NOW + timedelta(minutes=7)) == NOW.astimezone(LONDON)


@pytest.fixture
def config(newsroom: Path, store: Store) -> Config:
    loaded = load_config(newsroom)
    merge_subscribers_file(store, loaded, NOW)
    ingest_all(store, loaded, NOW)
    return loaded


def readers_of(store: Store, segment: str) -> int:
    with store.session() as session:
        return len(
            session.scalars(
                select(Subscriber.id)
                .join(Membership)
                .where(Membership.list_name == segment, Subscriber.status == Status.active)
            ).all()
        )


def test_the_home_shows_each_segment_its_readers_schedule_and_state(
    store: Store, config: Config
) -> None:
    with store.session() as session:  # one reader of politics-daily left: not counted
        gone = session.scalars(
            select(Subscriber).join(Membership).where(Membership.list_name == POLITICS)
        ).first()
        assert gone is not None
        gone.status = Status.unsubscribed
    home = desk.overview(store, config, NOW)
    assert [s.segment for s in home] == ["politics-daily", "tech-weekly", "everything-weekly"]
    assert [s.schedule_words for s in home] == [
        "every day at 07:00",
        "every Monday at 08:00",
        "every Saturday at 09:00",
    ]
    assert [s.readers for s in home] == [readers_of(store, s.segment) for s in home]
    assert all(s.timezone == "Europe/London" and s.state == desk.DRAFT for s in home)
    assert home[0].next_run == datetime(2026, 11, 27, 7, 0, tzinfo=LONDON)
    assert home[0].title == "Politics Daily" and home[0].last is None

    (report,) = run_segments(store, config, "outbox", [POLITICS], now=NOW)
    politics = desk.overview(store, config, NOW + timedelta(minutes=1))[0]
    assert politics.state == desk.SENT
    last = politics.last
    assert last is not None and last.segment == POLITICS and last.status == "sent"
    assert last.recipients == last.sent == report.recipients == politics.readers
    assert (last.failed, last.pending, last.in_doubt, last.opens, last.clicks) == (0,) * 5
    assert (last.approved_by, last.archive_url) == ("", "")
    tomorrow = desk.overview(store, config, NOW + timedelta(days=1))[0]
    assert tomorrow.state == desk.NOTHING_NEW  # its 07:00 run came; nothing was new


def test_the_state_says_sending_and_waiting(store: Store, config: Config) -> None:
    run_segments(store, config, "outbox", [POLITICS], now=NOW)
    with store.session() as session:
        session.execute(update(Edition).values(status=EditionStatus.sending))
    assert desk.overview(store, config, NOW)[0].state == desk.SENDING


def test_history_has_the_ledgers_figures_and_the_events_opens_and_clicks(
    store: Store, config: Config
) -> None:
    run_segments(store, config, "outbox", [POLITICS], now=NOW)
    run_segments(store, config, "outbox", ["tech-weekly"], now=NOW)
    with store.session() as session:
        edition = session.scalars(select(Edition).where(Edition.segment == POLITICS)).one()
        first, second = session.scalars(
            select(EditionItem.article_id)
            .where(EditionItem.edition_id == edition.id)
            .order_by(EditionItem.position)
        ).all()[:2]
        record_opens(session, edition.id, 3, NOW)
        record_opens(session, edition.id, 2, NOW)
        for article in (first, first, second):
            record_click(session, edition.id, article, NOW)
        failed = session.scalars(select(Delivery).where(Delivery.edition_id == edition.id)).first()
        assert failed is not None
        failed.status = DeliveryStatus.failed
        edition.archive_slug = "2026-11-26"
    (figures,) = desk.history(store, config, POLITICS)
    assert (figures.opens, figures.clicks, figures.failed) == (5, 3, 1)
    assert figures.sent == figures.recipients - 1
    assert figures.archive_url == ""  # the segment publishes no archive
    assert desk.edition(store, config, figures.edition_id) == figures
    with pytest.raises(desk.UnknownEditionError, match="no edition 999"):
        desk.edition(store, config, 999)

    text = config.path.read_text(encoding="utf-8")
    marker = f"[segments.{POLITICS}]\n"
    config.path.write_text(text.replace(marker, marker + "archive = true\n"), "utf-8")
    archived = desk.history(store, load_config(config.path), POLITICS)[0]
    url = "https://newsroom.example/digest/archive/politics-daily/2026-11-26/"
    assert archived.archive_url == url
