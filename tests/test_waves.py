"""Local-time delivery on a fixed clock, on SQLite and PostgreSQL: one edition composed at
the earliest zone's slot, its readers released in waves at the slot's wall-clock time in
their own zones, each reader once, through the SendGrid stand-in; across both DST changes."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from helpers import DESK_SENDER, cli_ok, rss_item, write_city_feed, write_rss
from sendgrid_standin import SendGridStandIn
from sqlalchemy import select, update

from digest.config import Config, load_config
from digest.deliver.recipients import local_zones
from digest.deliver.zones import reader_zone
from digest.errors import ConfigError
from digest.intake.ingest import ingest_all
from digest.run.editions import unfinished_edition
from digest.run.segments import run_segments
from digest.run.slots import latest_slot, wall_key
from digest.run.waves import next_release, release_waves, slot_waves, slot_zones
from digest.store.database import Store, open_store
from digest.store.models import Batch, Delivery, Edition, EditionStatus
from subscribers.models import Status, Subscriber

SEGMENT = "daily"
READERS = {  # address → time zone as stored
    "aroha@readers.example": "Pacific/Auckland",
    "priya@readers.example": "Asia/Kolkata",
    "rahul@readers.example": "Asia/Kolkata",
    "olive@readers.example": "Europe/London",
    "nate@readers.example": "America/New_York",
    "lupe@readers.example": "America/Los_Angeles",
    "leo@readers.example": "America/Los_Angeles",  # unsubscribes before his wave
    "nobody@readers.example": "",  # no zone: the segment's
    "default@readers.example": "UTC",  # the column's default: none given
    "bogus@readers.example": "Mars/Olympus_Mons",  # not a zone: the segment's
}
# 08:00 on Tuesday 10 November 2026 in each zone (London is on GMT, New York on EST).
RELEASE = {
    "Pacific/Auckland": datetime(2026, 11, 9, 19, 0, tzinfo=UTC),
    "Asia/Kolkata": datetime(2026, 11, 10, 2, 30, tzinfo=UTC),
    "Europe/London": datetime(2026, 11, 10, 8, 0, tzinfo=UTC),
    "America/New_York": datetime(2026, 11, 10, 13, 0, tzinfo=UTC),
    "America/Los_Angeles": datetime(2026, 11, 10, 16, 0, tzinfo=UTC),
}
UNSUBSCRIBES = "leo@readers.example"
UNSUBSCRIBED_AT = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)


def release_of(address: str) -> datetime:
    return RELEASE.get(READERS[address], RELEASE["Europe/London"])


def write_config(
    folder: Path, database_url: str, schedule: str = "0 8 * * *", more: str = "", batch: int = 1
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_city_feed(folder)
    config = folder / "digest.toml"
    config.write_text(
        f"""
[digest]
database_url = {json.dumps(database_url)}
timezone = "Europe/London"
backend = "sendgrid"
batch_size = {batch}
processes = 1
concurrency = 1

{DESK_SENDER}name = "City Desk"

[sendgrid]
timeout = 5

[sources.desk]
path = "feed.xml"

[segments.{SEGMENT}]
schedule = "{schedule}"
deliver_at = "local"
lookback_days = 36500
{more}""",
        encoding="utf-8",
    )
    return config


def add_readers(
    store: Store, readers: dict[str, str], follows: dict[str, list[str]] | None = None
) -> None:
    with store.session() as session:
        for address, zone in readers.items():
            session.add(
                Subscriber(
                    email=address,
                    name=address.split("@")[0].title(),
                    timezone=zone,
                    followed_tags=(follows or {}).get(address, []),
                    signed_up_at=datetime(2026, 1, 1, tzinfo=UTC),
                )
            )


def prepared(
    tmp_path: Path,
    database_url: str,
    readers: dict[str, str],
    schedule: str,
    follows: dict[str, list[str]] | None = None,
    **options: Any,
) -> Config:
    path = write_config(tmp_path / "desk", database_url, schedule, **options)
    config = load_config(path)
    with open_store(database_url) as store:
        add_readers(store, readers, follows)
        ingest_all(store, config, datetime(2026, 11, 3, tzinfo=UTC))
    return config


def due_slot(store: Store, config: Config, now: datetime) -> datetime | None:
    """The newest slot begun by ``now`` in any of the segment's zones (as the due logic
    reads it)."""
    segment = config.segment(SEGMENT)
    with store.session() as session:
        zones = local_zones(session, segment, config.zone)
    return latest_slot(segment.schedule, zones, now)


def record(store: Store, config: Config, now: datetime, wall: datetime) -> str:
    """Run the segment for the slot at ``wall`` at ``now``; the report's note."""
    reports = run_segments(
        store,
        config,
        "sendgrid",
        [SEGMENT],
        now=now,
        slot="cron " + wall_key(wall),
        clock=lambda: now,
    )
    assert not reports[0].failed, reports[0].note
    return reports[0].note


def test_each_wave_goes_at_its_readers_local_time_and_each_reader_once(
    tmp_path: Path, database_url: str, sendgrid: SendGridStandIn
) -> None:
    config = prepared(tmp_path, database_url, READERS, "0 8 * * *")
    first = RELEASE["Pacific/Auckland"]
    with open_store(database_url) as store:
        with store.session() as session:
            zones = local_zones(session, config.segment(SEGMENT), config.zone)
        assert sorted(z.key for z in zones) == sorted(RELEASE)  # no-zone and bogus: London
        # The segment is due at the earliest zone's slot, not before.
        wall = datetime(2026, 11, 10, 8, 0)
        assert due_slot(store, config, first - timedelta(minutes=1)) == wall - timedelta(days=1)
        assert due_slot(store, config, first) == wall

        note = record(store, config, first, wall)
        assert "1 of 5 waves sent; next 08:00 Asia/Kolkata (02:30 UTC)" in note
        assert sendgrid.recipients() == ["aroha@readers.example"]
        # A second firing of the same slot records nothing.
        record(store, config, first + timedelta(hours=1), wall)
        with store.session() as session:
            edition = session.scalars(select(Edition)).one()
            assert edition.status == EditionStatus.sending
            batches = session.scalars(select(Batch).order_by(Batch.number)).all()
        assert [b.release_at for b in batches] == sorted(release_of(a) for a in READERS)
        assert next_release(store, first) == RELEASE["Asia/Kolkata"]

        moments = sorted(
            {t + d for t in RELEASE.values() for d in (timedelta(minutes=-1), timedelta())}
            | {UNSUBSCRIBED_AT, datetime(2026, 11, 10, 23, 0, tzinfo=UTC)}
        )
        for now in (t for t in moments if t > first):
            if now == UNSUBSCRIBED_AT:
                with store.session() as session:
                    session.execute(
                        update(Subscriber)
                        .where(Subscriber.email == UNSUBSCRIBES)
                        .values(status=Status.unsubscribed)
                    )
            # An edition in waves never holds up the segment's next edition.
            assert unfinished_edition(store, SEGMENT) is None
            release_waves(store, config, "sendgrid", now)
            got = Counter(sendgrid.recipients())
            expected = {
                a: 1
                for a in READERS
                if release_of(a) <= now and not (a == UNSUBSCRIBES and now >= UNSUBSCRIBED_AT)
            }
            assert got == expected, now

        assert next_release(store, moments[-1]) is None
        with store.session() as session:
            assert session.get_one(Edition, edition.id).status == EditionStatus.sent
            leo = session.scalars(select(Delivery).where(Delivery.email == UNSUBSCRIBES)).one()
            assert (leo.status.value, leo.error) == ("failed", "suppressed: unsubscribed")


def test_waves_still_to_come_do_not_hold_up_the_next_edition(
    tmp_path: Path, database_url: str, sendgrid: SendGridStandIn
) -> None:
    readers = {a: z for a, z in READERS.items() if a != UNSUBSCRIBES}
    config = prepared(tmp_path, database_url, readers, "0 8,20 * * *")
    morning, evening = datetime(2026, 11, 10, 8, 0), datetime(2026, 11, 10, 20, 0)

    def release(wall: datetime, address: str) -> datetime:
        name = readers[address]
        zone = ZoneInfo(name if name in RELEASE else "Europe/London")
        return wall.replace(tzinfo=zone).astimezone(UTC)

    with open_store(database_url) as store:
        record(store, config, RELEASE["Pacific/Auckland"], morning)
        # 20:00 comes in Auckland at 07:00 UTC, before the morning's London, New York and
        # Los Angeles waves: the evening edition is composed then, from a new story.
        second = due = datetime(2026, 11, 10, 7, 0, tzinfo=UTC)
        assert due_slot(store, config, due) == evening
        write_rss(
            tmp_path / "desk",
            [
                rss_item(
                    "Evening vote on the harbour",
                    "https://news.example/politics/harbour",
                    "Tue, 10 Nov 2026 06:00:00 GMT",
                    "The council voted on the harbour. \\\nMembers said it would take years.",
                )
            ],
        )
        ingest_all(store, config, due)
        note = record(store, config, second, evening)
        assert "resumed" not in note and "1 of 5 waves sent" in note
        now = second
        while now < datetime(2026, 11, 11, 6, 0, tzinfo=UTC):
            now += timedelta(minutes=30)
            release_waves(store, config, "sendgrid", now)
            got = Counter(sendgrid.recipients())
            assert got == {
                a: n
                for a in readers
                if (n := sum(release(w, a) <= now for w in (morning, evening)))
            }, now
        with store.session() as session:
            statuses = session.scalars(select(Edition.status).order_by(Edition.id)).all()
        assert statuses == [EditionStatus.sent, EditionStatus.sent]


def test_a_release_reports_the_wave_it_sent_and_the_next(
    tmp_path: Path, database_url: str, sendgrid: SendGridStandIn
) -> None:
    config = prepared(tmp_path, database_url, READERS, "0 8 * * *")
    with open_store(database_url) as store:
        record(store, config, RELEASE["Pacific/Auckland"], datetime(2026, 11, 10, 8, 0))
        assert release_waves(store, config, "sendgrid", RELEASE["Pacific/Auckland"]) == []
        (report,) = release_waves(store, config, "sendgrid", RELEASE["Asia/Kolkata"])
        assert (report.segment, report.written, report.failed) == (SEGMENT, 2, False)
        assert "2 of 5 waves sent; next 08:00 Europe/London (08:00 UTC)" in report.note
        (report,) = release_waves(store, config, "sendgrid", datetime(2026, 11, 11, tzinfo=UTC))
        assert (report.written, report.note) == (len(READERS) - 3, "all 5 waves sent")


def test_digest_status_shows_the_waves_pending_and_sent(
    tmp_path: Path,
    database_url: str,
    sendgrid: SendGridStandIn,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = prepared(tmp_path, database_url, READERS, "0 8 * * *")
    path = str(tmp_path / "desk" / "digest.toml")
    with open_store(database_url) as store:
        record(store, config, RELEASE["Pacific/Auckland"], datetime(2026, 11, 10, 8, 0))
        release_waves(store, config, "sendgrid", RELEASE["Asia/Kolkata"])
    shown = cli_ok(capsys, "status", "--config", path)
    assert "  wave 1 of 5 at 08:00 Pacific/Auckland (19:00 UTC): 1 reader, sent" in shown
    assert "  wave 2 of 5 at 08:00 Asia/Kolkata (02:30 UTC): 2 readers, sent" in shown
    assert "  wave 3 of 5 at 08:00 Europe/London (08:00 UTC): 4 readers, pending" in shown
    assert "  wave 5 of 5 at 08:00 America/Los_Angeles (16:00 UTC): 2 readers, pending" in shown
    (line,) = cli_ok(capsys, "status", "--json", "--config", path).splitlines()
    waves = json.loads(line)["waves"]
    assert [(w["readers"], w["state"]) for w in waves] == [
        (1, "sent"),
        (2, "sent"),
        (4, "pending"),
        (1, "pending"),
        (2, "pending"),
    ]
    assert waves[1]["zones"] == [{"zone": "Asia/Kolkata", "local": "08:00"}]
    assert waves[1]["release_at"] == "2026-11-10T02:30:00+00:00"
    with open_store(database_url) as store:
        release_waves(store, config, "sendgrid", datetime(2026, 11, 11, tzinfo=UTC))
    # Sent: the list gives each wave's UTC time; the edition asked for names its zones.
    shown = cli_ok(capsys, "status", "--config", path)
    assert "edition 1 daily (cron 2026-11-10T08:00) sent" in shown
    assert "  wave 3 of 5 at 08:00 UTC: 4 readers, sent" in shown
    shown = cli_ok(capsys, "status", "--edition", "1", "--config", path)
    assert "  wave 4 of 5 at 08:00 America/New_York (13:00 UTC): 1 reader, sent" in shown


DST = {  # (schedule, the slot's wall time, when New York's reader gets it)
    # 02:30 does not happen on 8 March: New York's wave goes when the clocks have jumped.
    "spring": ("30 2 * * *", datetime(2026, 3, 8, 2, 30), datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
    # 01:30 happens twice on 1 November: New York's wave goes on the first.
    "autumn": (
        "30 1 * * *",
        datetime(2026, 11, 1, 1, 30),
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
    ),
}


@pytest.mark.parametrize("change", sorted(DST))
def test_a_time_the_clocks_skip_or_repeat_sends_once(
    tmp_path: Path, database_url: str, sendgrid: SendGridStandIn, change: str
) -> None:
    schedule, wall, new_york = DST[change]
    readers = {
        "nate@readers.example": "America/New_York",
        "olive@readers.example": "Europe/London",
        "priya@readers.example": "Asia/Kolkata",
    }
    config = prepared(tmp_path, database_url, readers, schedule)
    kolkata = wall.replace(tzinfo=ZoneInfo("Asia/Kolkata")).astimezone(UTC)
    london = wall.replace(tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)
    with open_store(database_url) as store:
        assert due_slot(store, config, kolkata) == wall
        record(store, config, kolkata, wall)
        now = kolkata
        while now < kolkata + timedelta(days=1):
            now += timedelta(minutes=15)
            if now == new_york + timedelta(hours=1):  # the scheduler fires again
                record(store, config, now, wall)
            release_waves(store, config, "sendgrid", now)
            got = Counter(sendgrid.recipients())
            assert got["nate@readers.example"] == (1 if now >= new_york else 0), now
            assert got["olive@readers.example"] == (1 if now >= london else 0), now
            assert max(got.values()) == 1
        assert Counter(sendgrid.recipients()) == dict.fromkeys(readers, 1)
        with store.session() as session:
            (edition,) = session.scalars(select(Edition)).all()
            assert edition.status == EditionStatus.sent


def test_a_personalised_edition_has_a_batch_per_wave_and_variant(
    tmp_path: Path, database_url: str, sendgrid: SendGridStandIn
) -> None:
    readers = {
        "aroha@readers.example": "Pacific/Auckland",
        "priya@readers.example": "Asia/Kolkata",
        "rahul@readers.example": "Asia/Kolkata",
        "olive@readers.example": "Europe/London",
        "sam@readers.example": "Europe/London",
        "nobody@readers.example": "",
    }
    follows = {
        "aroha@readers.example": ["politics"],
        "priya@readers.example": ["politics"],
        "sam@readers.example": ["sport"],  # nothing of theirs in this edition: no email
    }
    config = prepared(
        tmp_path,
        database_url,
        readers,
        "0 8 * * *",
        follows,
        more="personalised = true\n",
        batch=1000,
    )
    with open_store(database_url) as store:
        record(store, config, RELEASE["Pacific/Auckland"], datetime(2026, 11, 10, 8, 0))
        with store.session() as session:
            batches = session.scalars(select(Batch).order_by(Batch.number)).all()
            shape = [(b.release_at, b.variant_id is not None, b.size) for b in batches]
        assert shape == [
            (RELEASE["Pacific/Auckland"], True, 1),
            (RELEASE["Asia/Kolkata"], False, 1),  # rahul follows nothing: the whole edition
            (RELEASE["Asia/Kolkata"], True, 1),
            (RELEASE["Europe/London"], False, 2),  # olive, and nobody in the segment's zone
        ]
        release_waves(store, config, "sendgrid", datetime(2026, 11, 10, 9, 0, tzinfo=UTC))
        assert Counter(sendgrid.recipients()) == dict.fromkeys(
            set(readers) - {"sam@readers.example"}, 1
        )


def test_an_unscheduled_run_sends_to_every_zone_at_once(
    tmp_path: Path, database_url: str, sendgrid: SendGridStandIn
) -> None:
    config = prepared(tmp_path, database_url, READERS, "0 8 * * *")
    segment = config.segment(SEGMENT)
    assert slot_waves(config, segment, "at 2026-11-10T08:00") is None
    with open_store(database_url) as store:
        now = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
        reports = run_segments(store, config, "sendgrid", [SEGMENT], now=now, clock=lambda: now)
        assert reports[0].written == len(READERS)
        assert sorted(sendgrid.recipients()) == sorted(READERS)
        with store.session() as session:
            assert session.scalars(select(Batch.release_at)).all() == [None] * len(READERS)


def test_a_local_segments_slot_comes_in_its_readers_zones(
    tmp_path: Path, database_url: str
) -> None:
    config = prepared(tmp_path, database_url, READERS, "0 8 * * *")
    local = config.segment(SEGMENT)
    with open_store(database_url) as store, store.session() as session:
        assert [z.key for z in slot_zones(session, config, local)] == sorted(RELEASE)
        at_its_own = replace(local, deliver_at="segment")
        assert [z.key for z in slot_zones(session, config, at_its_own)] == ["Europe/London"]
        assert slot_waves(config, at_its_own, "cron 2026-11-10T08:00") is None


def test_deliver_at_must_be_segment_or_local(tmp_path: Path) -> None:
    path = write_config(tmp_path, "sqlite://")
    path.write_text(path.read_text().replace('"local"', '"sunrise"'))
    with pytest.raises(
        ConfigError, match=r"deliver_at: 'sunrise' is not one of 'segment', 'local'"
    ):
        load_config(path)


@pytest.mark.parametrize(
    ("name", "zone"),
    [
        ("Asia/Kolkata", "Asia/Kolkata"),
        ("Etc/UTC", "Etc/UTC"),  # named on purpose
        ("UTC", "Europe/London"),  # the column's default: none given
        ("", "Europe/London"),
        ("Mars/Olympus_Mons", "Europe/London"),
        ("../../etc/passwd", "Europe/London"),
        ("America", "Europe/London"),  # a folder of zones, not a zone
        ("Asia/Kolkata\x00", "Europe/London"),
    ],
)
def test_a_reader_without_a_known_zone_gets_the_segments(name: str, zone: str) -> None:
    assert reader_zone(name, ZoneInfo("Europe/London")).key == zone
