"""Schedules cron can trust: `digest run` every five minutes sends each segment once per
slot, at the slot's instant in the segment's own zone, across both clock changes; missed
slots within catch_up make one edition, older ones are reported once and skipped; a
segment never sent is due at once. On fixed clocks, on SQLite and PostgreSQL.

Europe/London's clocks go forward at 01:00 on 29 March 2026 (01:30 does not happen: its
slot falls at 02:30 BST, 01:30 UTC) and back at 02:00 on 25 October 2026 (01:30 happens
twice, at 00:30 and 01:30 UTC: the slot is the first). Helsinki's do the same at 03:00 and
04:00 local time.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import rss_item, run_cli, write_desk, write_rss
from sendgrid_standin import SendGridStandIn
from sqlalchemy import select, update
from test_waves import READERS, RELEASE, prepared, release_of
from test_waves import SEGMENT as WAVES_SEGMENT

from digest.config import Config, load_config
from digest.deliver import shutdown
from digest.errors import ConfigError
from digest.intake.ingest import SourceReport
from digest.run.due import DUE, MISSED, WAITING, due_segments, mark_handled
from digest.run.job import JobResult, due_job
from digest.run.scheduler import next_wake
from digest.run.segments import STOPPING
from digest.run.subscribers_file import AudienceReport
from digest.store.database import Store, open_store
from digest.store.models import Edition, HeldEdition, SegmentLock

PEOPLE = {"ada@readers.example": "Ada Lovelace", "grace@readers.example": "Grace Hopper"}
SEGMENT = "politics"
FIVE = timedelta(minutes=5)
WORDS = [a + b + c for a in "bdfklmnprstvz" for b in "aeiou" for c in ("n", "r", "l", "sk", "t")]


class Quiet:
    """A job watcher that keeps nothing."""

    def merged(self, report: AudienceReport) -> None:
        pass

    def ingested(self, reports: Sequence[SourceReport]) -> None:
        pass


@dataclass
class Newsroom:
    """A desk whose feed gets a new, unrelated story whenever a test publishes one."""

    path: Path
    published: list[datetime]

    def publish(self, when: datetime) -> None:
        self.published.append(when)
        items = []
        for n, at in enumerate(self.published):
            words = random.Random(n).sample(WORDS, 40)
            title = " ".join(words[:5]).capitalize()
            text = ". ".join(" ".join(words[i : i + 8]).capitalize() for i in range(5, 40, 8))
            stamp = at.strftime("%a, %d %b %Y %H:%M:%S GMT")
            items.append(rss_item(title, f"https://news.example/story-{n}", stamp, text + "."))
        write_rss(self.path.parent, items)

    @property
    def config(self) -> Config:
        return load_config(self.path)


def newsroom(tmp_path: Path, database_url: str, segment: str) -> Newsroom:
    """One segment, ``segment`` its settings, on a desk whose [digest] zone is Helsinki."""
    path = write_desk(
        tmp_path / "desk",
        PEOPLE,
        database_url,
        digest='backend = "outbox"',
        more=segment,
        feed=lambda folder: write_rss(folder, []),
    )
    return Newsroom(path, [])


def editions(store: Store) -> list[tuple[str, datetime]]:
    with store.session() as session:
        found = session.execute(select(Edition.slot, Edition.created_at).order_by(Edition.id))
        return [(slot, created.astimezone(UTC)) for slot, created in found]


def last_slot(store: Store) -> str:
    with store.session() as session:
        return session.scalar(select(SegmentLock.last_slot).where(SegmentLock.segment == SEGMENT))


def cron(
    store: Store, room: Newsroom, start: datetime, end: datetime, extra: datetime | None = None
) -> list[JobResult]:
    """`digest run` every five minutes from ``start`` to ``end``; a story is published at
    noon UTC each day (and at ``extra``), and the results of the runs that did something
    are kept."""
    config, done = room.config, []
    now = start
    while now < end:
        if (now.hour, now.minute) == (12, 0) or now == extra:
            room.publish(now)
        result = due_job(store, config, "outbox", Quiet(), now=now)
        assert not result.failed, result.segments
        if not result.idle or result.missed:
            done.append(result)
        now += FIVE
    return done


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Each case: the segment's settings, the day of the change, and each day's slot (wall
# time) with its instant in UTC, around the change.
CHANGES = {
    "london-spring": (
        'schedule = "30 1 * * *"\ntimezone = "Europe/London"',
        "2026-03-29",
        [
            ("cron 2026-03-28T01:30", "2026-03-28T01:30"),  # GMT
            ("cron 2026-03-29T01:30", "2026-03-29T01:30"),  # skipped wall time: 02:30 BST
            ("cron 2026-03-30T01:30", "2026-03-30T00:30"),  # BST
        ],
    ),
    "london-autumn": (
        'schedule = "30 1 * * *"\ntimezone = "Europe/London"',
        "2026-10-25",
        [
            ("cron 2026-10-24T01:30", "2026-10-24T00:30"),  # BST
            ("cron 2026-10-25T01:30", "2026-10-25T00:30"),  # the first of two 01:30s
            ("cron 2026-10-26T01:30", "2026-10-26T01:30"),  # GMT
        ],
    ),
    "helsinki-spring": (
        'schedule = "30 3 * * *"',  # the [digest] zone
        "2026-03-29",
        [
            ("cron 2026-03-28T03:30", "2026-03-28T01:30"),  # EET
            ("cron 2026-03-29T03:30", "2026-03-29T01:30"),  # skipped wall time: 04:30 EEST
            ("cron 2026-03-30T03:30", "2026-03-30T00:30"),  # EEST
        ],
    ),
    "helsinki-autumn": (
        'schedule = "30 3 * * *"\ntimezone = "Europe/Helsinki"',
        "2026-10-25",
        [
            ("cron 2026-10-24T03:30", "2026-10-24T00:30"),  # EEST
            ("cron 2026-10-25T03:30", "2026-10-25T00:30"),  # the first of two 03:30s
            ("cron 2026-10-26T03:30", "2026-10-26T01:30"),  # EET
        ],
    ),
}


@pytest.mark.parametrize("case", list(CHANGES))
def test_cron_every_five_minutes_sends_once_a_day_at_the_slot_across_the_change(
    tmp_path: Path, database_url: str, store: Store, case: str
) -> None:
    settings, day, slots = CHANGES[case]
    room = newsroom(tmp_path, database_url, settings)
    change = at(day + "T00:00")
    first = change - timedelta(days=2, hours=-11)  # two days before, at 11:00
    room.publish(first)
    # The first run finds a segment never sent: due at once, keyed by its latest slot.
    start = first + timedelta(minutes=30)
    (opening,) = due_job(store, room.config, "outbox", Quiet(), now=start).segments
    assert opening.written == len(PEOPLE), opening
    # On the day of the change, a story at 01:00 UTC: in autumn, between the two passes
    # of the repeated hour, it waits for the next day's slot.
    extra = change + timedelta(hours=1)

    done = cron(store, room, start + FIVE, change + timedelta(days=1, hours=6), extra)

    made = editions(store)[1:]
    assert made == [(slot, at(instant)) for slot, instant in slots], made
    assert len(done) == len(slots)  # no other run did anything
    assert last_slot(store) == slots[-1][0].removeprefix("cron ")


def test_the_second_pass_of_a_repeated_hour_is_not_due(
    tmp_path: Path, database_url: str, store: Store
) -> None:
    room = newsroom(tmp_path, database_url, 'schedule = "30 1 * * *"\ntimezone = "Europe/London"')
    room.publish(at("2026-10-24T12:00"))
    config = room.config
    due_job(store, config, "outbox", Quiet(), now=at("2026-10-24T13:00"))  # never sent
    room.publish(at("2026-10-24T14:00"))

    (first,) = due_segments(store, config, at("2026-10-25T00:30"))
    assert (first.state, first.slot) == (DUE, "cron 2026-10-25T01:30")
    assert first.why == "the slot of 2026-10-25 01:30 BST has come"
    due_job(store, config, "outbox", Quiet(), now=at("2026-10-25T00:30"))
    (second,) = due_segments(store, config, at("2026-10-25T01:30"))  # 01:30 GMT
    assert second.state == WAITING
    assert second.why == "sent 2026-10-25 01:30 BST, since the slot of 2026-10-25 01:30 BST"
    assert second.next_at == at("2026-10-26T01:30")


def test_slots_missed_within_catch_up_make_one_edition_and_older_ones_are_skipped(
    tmp_path: Path, database_url: str, store: Store
) -> None:
    room = newsroom(tmp_path, database_url, 'schedule = "0 7 * * *"\ntimezone = "Europe/London"')
    config = room.config
    room.publish(at("2026-12-01T06:00"))
    due_job(store, config, "outbox", Quiet(), now=at("2026-12-01T07:00"))
    room.publish(at("2026-12-01T12:00"))
    room.publish(at("2026-12-02T12:00"))

    # The machine was off on 2 and 3 December until noon: one edition, for the 3rd's slot.
    caught = due_job(store, config, "outbox", Quiet(), now=at("2026-12-03T12:00"))
    (report,) = caught.segments
    assert report.items == 2 and report.written == len(PEOPLE)
    assert editions(store)[-1] == ("cron 2026-12-03T07:00", at("2026-12-03T12:00"))
    assert due_job(store, config, "outbox", Quiet(), now=at("2026-12-03T12:05")).idle

    # Off again until 20:00 on the 4th: 13 hours after the slot, beyond catch_up (12 hours).
    room.publish(at("2026-12-04T06:00"))
    late = due_job(store, config, "outbox", Quiet(), now=at("2026-12-04T20:00"))
    (missed,) = late.missed
    assert late.segments == [] and missed.state == MISSED
    assert missed.why == (
        "missed the slot of 2026-12-04 07:00 GMT by 13 h (catch_up 12 h); skipped, "
        "next 2026-12-05 07:00 GMT"
    )
    assert last_slot(store) == "2026-12-04T07:00"
    again = due_job(store, config, "outbox", Quiet(), now=at("2026-12-04T20:05"))
    assert again.missed == [] and again.idle  # reported once
    assert len(editions(store)) == 2

    # The next slot sends what waited.
    (sent,) = due_job(store, config, "outbox", Quiet(), now=at("2026-12-05T07:00")).segments
    assert sent.items == 1 and editions(store)[-1][0] == "cron 2026-12-05T07:00"


def test_a_longer_catch_up_sends_a_slot_missed_by_a_day(
    tmp_path: Path, database_url: str, store: Store
) -> None:
    settings = 'schedule = "0 7 * * *"\ntimezone = "Europe/London"\ncatch_up = 1500'
    room = newsroom(tmp_path, database_url, settings)
    room.publish(at("2026-12-01T06:00"))
    due_job(store, room.config, "outbox", Quiet(), now=at("2026-12-01T07:00"))
    room.publish(at("2026-12-01T09:00"))

    late = due_job(store, room.config, "outbox", Quiet(), now=at("2026-12-03T06:00"))
    assert late.missed == [] and [r.written for r in late.segments] == [len(PEOPLE)]
    assert editions(store)[-1][0] == "cron 2026-12-02T07:00"


def test_a_saturday_segment_run_by_cron_on_a_friday_sends_nothing(
    tmp_path: Path, database_url: str, store: Store
) -> None:
    """The bug of the issue: an "Everything Weekly" went out on a Friday."""
    room = newsroom(tmp_path, database_url, 'schedule = "0 9 * * sat"')
    config = room.config
    room.publish(at("2026-11-30T12:00"))
    # Never sent: due at once, on a Wednesday, keyed by the last Saturday.
    (first,) = due_segments(store, config, at("2026-12-02T10:00"))
    assert (first.state, first.why) == (DUE, "never sent: due at once")
    due_job(store, config, "outbox", Quiet(), now=at("2026-12-02T10:00"))
    assert editions(store) == [("cron 2026-11-28T09:00", at("2026-12-02T10:00"))]

    # Thursday noon to Saturday 09:00 Helsinki (07:00 UTC), new stories every day.
    done = cron(store, room, at("2026-12-03T12:00"), at("2026-12-05T07:00"))
    assert done == [] and len(editions(store)) == 1
    (friday,) = due_segments(store, config, at("2026-12-04T18:00"))
    assert friday.state == WAITING and friday.next_at == at("2026-12-05T07:00")

    (saturday,) = due_job(store, config, "outbox", Quiet(), now=at("2026-12-05T07:00")).segments
    assert saturday.items == 2
    assert editions(store)[-1] == ("cron 2026-12-05T09:00", at("2026-12-05T07:00"))


def test_a_slot_with_nothing_new_is_handled_and_the_next_one_is_due(
    tmp_path: Path, database_url: str, store: Store
) -> None:
    room = newsroom(tmp_path, database_url, 'schedule = "0 7 * * *"\ntimezone = "UTC"')
    config = room.config
    room.publish(at("2026-12-01T06:00"))
    due_job(store, config, "outbox", Quiet(), now=at("2026-12-01T06:30"))  # never sent

    (empty,) = due_job(store, config, "outbox", Quiet(), now=at("2026-12-02T07:00")).segments
    assert empty.note.startswith("no new articles since")
    assert last_slot(store) == "2026-12-02T07:00"
    (handled,) = due_segments(store, config, at("2026-12-02T07:05"))
    assert handled.why == "the slot of 2026-12-02 07:00 UTC was handled by an earlier run"
    assert due_job(store, config, "outbox", Quiet(), now=at("2026-12-02T07:05")).idle
    room.publish(at("2026-12-02T08:00"))
    assert due_job(store, config, "outbox", Quiet(), now=at("2026-12-02T23:55")).idle
    (sent,) = due_job(store, config, "outbox", Quiet(), now=at("2026-12-03T07:00")).segments
    assert sent.items == 1


def test_the_scheduler_wakes_at_the_next_slot_or_within_a_minute(
    tmp_path: Path, database_url: str, store: Store
) -> None:
    room = newsroom(tmp_path, database_url, 'schedule = "0 7 * * *"\ntimezone = "UTC"')
    assert next_wake(store, room.config, at("2026-12-01T06:59:30")) == at("2026-12-01T07:00")
    assert next_wake(store, room.config, at("2026-12-01T05:00")) == at("2026-12-01T05:01")


def test_an_unknown_segment_zone_is_one_line_naming_the_segment(tmp_path: Path) -> None:
    path = write_desk(tmp_path / "desk", PEOPLE, more='timezone = "Europe/Londn"')
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.endswith(
        "[segments.politics] timezone: unknown time zone 'Europe/Londn' for segment politics; "
        "use an IANA name such as Europe/London, or leave it empty for [digest] timezone"
    )


def test_the_segment_zone_defaults_to_the_digest_zone(tmp_path: Path) -> None:
    config = load_config(write_desk(tmp_path / "desk", PEOPLE))
    assert config.segment_zone(SEGMENT).key == "Europe/Helsinki"
    assert config.segments[SEGMENT].catch_up == 720


# --- the command line ---


def test_run_all_and_run_segment_force_segments_that_are_not_due(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    room = newsroom(tmp_path, database_url, 'schedule = "0 9 1 1 *"')  # once a year
    room.publish(datetime.now(UTC) - timedelta(hours=1))
    argv = ("--config", str(room.path))
    first = run_cli(capsys, "run", *argv)
    assert first.code == 0 and first.out.splitlines()[-1].startswith(f"{SEGMENT} "), first
    nothing = run_cli(capsys, "run", *argv)
    assert nothing.code == 0
    assert nothing.out.startswith(f"nothing due; next: {SEGMENT} ") and nothing.out.count("\n") == 1

    room.publish(datetime.now(UTC) - timedelta(minutes=1))
    forced = run_cli(capsys, "run", "--segment", SEGMENT, *argv)
    assert forced.code == 0
    assert forced.out.splitlines()[-1].split()[:4] == [SEGMENT, "1", "2", "2"], forced.out
    every = run_cli(capsys, "run", "--all", *argv)
    assert every.code == 0 and "no new articles since" in every.out.splitlines()[-1]
    both = run_cli(capsys, "run", "--all", "--segment", SEGMENT, *argv)
    assert both.code == 2 and both.err.count("\n") == 1 and "--all" in both.err
    with open_store(room.config.database_url) as store:
        assert [slot.split()[0] for slot, _ in editions(store)] == ["cron", "at"]


def test_digest_due_shows_each_segment_at_a_given_time(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = 'schedule = "0 8 * * mon"\ntimezone = "Europe/London"'
    room = newsroom(tmp_path, database_url, settings)
    argv = ("--config", str(room.path))
    with open_store(room.config.database_url) as store:
        room.publish(at("2026-11-30T06:00"))
        due_job(store, room.config, "outbox", Quiet(), now=at("2026-11-30T08:00"))

    # Without an offset, --at is read in the [digest] zone (Helsinki: 10:03 is 08:03 UTC).
    shown = run_cli(capsys, "due", "--at", "2026-12-07T10:03", *argv)
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0] == "at 2026-12-07T10:03+02:00:"
    assert lines[1].split() == ["segment", "schedule", "last", "slot", "next", "slot", "due", "why"]
    assert lines[2].split("  ")[0] == SEGMENT
    assert "every Monday at 08:00, Europe/London" in lines[2]
    assert "2026-12-07 08:00 GMT  2026-12-14 08:00 GMT" in lines[2]
    assert lines[2].endswith("yes  the slot of 2026-12-07 08:00 GMT has come")

    found = run_cli(capsys, "due", "--json", "--at", "2026-12-01T12:00+00:00", *argv)
    assert found.code == 0, found.err
    assert json.loads(found.out) == [
        {
            "segment": SEGMENT,
            "schedule": "every Monday at 08:00, Europe/London",
            "timezone": "Europe/London",
            "last_slot": "2026-11-30T08:00:00+00:00",
            "next_slot": "2026-12-07T08:00:00+00:00",
            "due": False,
            "state": "waiting",
            "why": "sent 2026-11-30 08:00 GMT, since the slot of 2026-11-30 08:00 GMT",
            "run_key": "",
        }
    ]

    bad = run_cli(capsys, "due", "--at", "next monday", *argv)
    assert bad.code == 2 and bad.out == ""
    assert bad.err == (
        "error: --at 'next monday': not an ISO 8601 time; write e.g. 2026-12-05T08:00 or "
        "2026-12-05T08:00+01:00\n"
    )


class StopAfterIngest(Quiet):
    """A watcher through which SIGTERM comes while the sources are fetched."""

    def ingested(self, reports: Sequence[SourceReport]) -> None:
        shutdown.request()


def test_a_stop_before_a_segment_starts_leaves_its_slot_for_the_next_run(
    tmp_path: Path, database_url: str, store: Store
) -> None:
    room = newsroom(tmp_path, database_url, 'schedule = "0 7 * * *"\ntimezone = "UTC"')
    room.publish(at("2026-12-01T06:00"))
    try:
        stopped = due_job(
            store, room.config, "outbox", StopAfterIngest(), now=at("2026-12-01T07:00")
        )
    finally:
        shutdown.reset()
    (report,) = stopped.segments
    assert report.note == STOPPING and not report.failed
    assert editions(store) == [] and last_slot(store) in (None, "")

    (sent,) = due_job(store, room.config, "outbox", Quiet(), now=at("2026-12-01T07:05")).segments
    assert sent.written == len(PEOPLE)
    assert editions(store) == [("cron 2026-12-01T07:00", at("2026-12-01T07:05"))]


def test_digest_run_reports_a_missed_slot_once(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The slot was 13 to 14 hours ago and the last edition two days ago: beyond catch_up."""
    hour = (datetime.now(UTC) - timedelta(hours=13)).hour
    room = newsroom(tmp_path, database_url, f'schedule = "0 {hour} * * *"\ntimezone = "UTC"')
    room.publish(datetime.now(UTC) - timedelta(days=3))
    argv = ("--config", str(room.path))
    assert run_cli(capsys, "run", *argv).code == 0  # never sent: due at once
    with open_store(room.config.database_url) as store, store.session() as session:
        session.execute(update(Edition).values(created_at=datetime.now(UTC) - timedelta(days=2)))
        session.execute(update(SegmentLock).values(last_slot=""))

    first = run_cli(capsys, "run", *argv)
    assert first.code == 0, first.err
    missed, waiting = first.out.splitlines()
    assert re.fullmatch(
        rf"{SEGMENT}: missed the slot of \d{{4}}-\d\d-\d\d {hour:02d}:00 UTC by 13 h( \d+ min)? "
        rf"\(catch_up 12 h\); skipped, next \d{{4}}-\d\d-\d\d {hour:02d}:00 UTC",
        missed,
    ), missed
    assert waiting.startswith(f"nothing due; next: {SEGMENT} ")
    second = run_cli(capsys, "run", *argv)
    assert second.out == waiting + "\n"  # reported once


def test_a_late_hold_gives_the_editors_the_whole_approval_window(
    tmp_path: Path, database_url: str, store: Store
) -> None:
    settings = (
        'schedule = "0 9 * * sat"\napproval = "required"\napproval_deadline = 30\n'
        'on_deadline = "send"'
    )
    room = newsroom(tmp_path, database_url, settings)
    room.publish(at("2026-11-30T12:00"))
    # Never sent: due at once on a Wednesday, for last Saturday's slot, and held.
    (held,) = due_job(store, room.config, "outbox", Quiet(), now=at("2026-12-02T10:00")).segments
    assert held.note.startswith("waiting for approval"), held.note
    with store.session() as session:
        (deadline,) = session.scalars(select(HeldEdition.deadline_at))
    assert deadline == at("2026-12-02T10:30")  # not last Saturday's 09:30
    assert due_job(store, room.config, "outbox", Quiet(), now=at("2026-12-02T10:25")).idle
    (sent,) = due_job(store, room.config, "outbox", Quiet(), now=at("2026-12-02T10:30")).segments
    assert sent.note == "approval deadline passed: sent by on_deadline"


# --- a local-time segment (deliver_at = "local") under cron ---


def test_cron_runs_release_each_wave_of_a_local_segment_at_its_time(
    tmp_path: Path, database_url: str, sendgrid: SendGridStandIn
) -> None:
    """Readers in five zones (one half an hour off): the edition is due at the earliest
    zone's 08:00 and each wave goes with the cron run at its zone's 08:00, once."""
    config = prepared(tmp_path, database_url, READERS, "0 8 * * *")
    first = RELEASE["Pacific/Auckland"]
    with open_store(database_url) as store:
        mark_handled(store, WAVES_SEGMENT, datetime(2026, 11, 9, 8, 0), first)  # sent before
        (waiting,) = due_segments(store, config, first - FIVE)
        assert waiting.next_at == first  # Auckland's 08:00 is the first
        now = first - timedelta(minutes=30)
        while now <= RELEASE["America/Los_Angeles"] + timedelta(minutes=30):
            result = due_job(store, config, "sendgrid", Quiet(), now=now)
            assert not result.failed, result.segments
            expected = {a: 1 for a in READERS if release_of(a) <= now}
            assert Counter(sendgrid.recipients()) == expected, now
            now += FIVE
        with store.session() as session:
            (edition,) = session.scalars(select(Edition))
        assert edition.slot == "cron 2026-11-10T08:00" and edition.created_at == first
