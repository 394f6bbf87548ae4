"""Local-time delivery: the waves of a segment with ``deliver_at = "local"``, and their
release when each one's time comes.

The edition of a scheduled slot is composed once, when the slot's wall-clock time first
comes in any of its readers' zones, and recorded with every reader; each reader's batch
waits until the slot's time in their zone (:func:`digest.run.slots.instant`), so a time
the clocks skip or pass twice still sends once. An unscheduled run (a first or forced run,
keyed "at …") has no slot to wait for: everyone gets it at once.

:func:`release_waves` sends whatever has come due, from `digest run` (cron), `digest
schedule` or a worker; :func:`next_release` (the workers' own) says when the next wave
is due.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.config import Config
from digest.deliver import ledger
from digest.deliver.recipients import local_zones
from digest.deliver.status import Zones
from digest.deliver.worker import next_release as next_release
from digest.deliver.zones import Waves
from digest.errors import DigestError
from digest.run.delivery import delivery_settings
from digest.run.report import SegmentReport
from digest.run.sending import send_workers, start_send
from digest.run.slots import WALL_FORMAT, instant
from digest.settings import SegmentSettings
from digest.store.database import Store
from digest.store.models import Batch, Edition, EditionStatus

LOCAL = "local"  # deliver_at: each reader at the slot's wall-clock time in their zone
SCHEDULED = "cron "  # the run key's prefix of a scheduled slot


def segment_zone(config: Config, segment: SegmentSettings) -> ZoneInfo:
    """The segment's zone: its schedule's, and its readers' who have none."""
    return config.segment_zone(segment.name)


def slot_wall(slot: str) -> datetime | None:
    """The wall-clock time of a scheduled slot's run key ("cron 2026-03-08T08:00"); None
    for an unscheduled run's ("at …") or a key that is not a slot's."""
    if not slot.startswith(SCHEDULED):
        return None
    try:
        return datetime.strptime(slot.removeprefix(SCHEDULED), WALL_FORMAT)
    except ValueError:
        return None


def slot_waves(config: Config, segment: SegmentSettings, slot: str) -> Waves | None:
    """How the edition of ``slot`` reaches the segment's readers: in waves, each at the
    slot's wall-clock time in the readers' zone; None when everyone gets it at once (a
    segment delivered at its own time, or an unscheduled run)."""
    wall = slot_wall(slot) if segment.deliver_at == LOCAL else None
    if wall is None:
        return None
    return Waves(lambda zone: instant(wall, zone), segment_zone(config, segment))


def slot_zones(session: Session, config: Config, segment: SegmentSettings) -> list[ZoneInfo]:
    """The zones a segment's slot comes in: its readers' for a local-time segment (the
    earliest of them is when its edition is composed), else the segment's own."""
    zone = segment_zone(config, segment)
    return local_zones(session, segment, zone) if segment.deliver_at == LOCAL else [zone]


def release_waves(store: Store, config: Config, backend: str, now: datetime) -> list[SegmentReport]:
    """Send the waves that have come due by ``now`` of every edition still being sent, one
    report per edition that had any; an edition's send also resolves its stale claims.

    The send's clock starts at ``now`` and runs on as the send does, so a wave due while
    it runs waits for the next call, and ``now`` may be a fixed time in tests. With
    ``[digest] send = "workers"`` nothing is sent here: `digest worker` sends each wave
    when its time comes.
    """
    settings = delivery_settings(config)
    if settings.send == "workers":
        return []
    started = time.monotonic()

    def clock() -> datetime:
        return now + _seconds(time.monotonic() - started)

    reports: list[SegmentReport] = []
    with send_workers(store, settings) as workers:
        for edition_id, segment in _due(store, now):
            try:
                finish = start_send(
                    store,
                    settings,
                    backend,
                    edition_id,
                    workers=workers,
                    clock=clock,
                    zones=zones_of(config),
                )
                reports.append(finish())
            except DigestError as e:
                reports.append(SegmentReport(segment, note=f"error: {e}", failed=True))
    return reports


def _due(store: Store, now: datetime) -> list[tuple[int, str]]:
    """(edition, segment) of each edition still being sent in waves that has more than
    waves to come by ``now``: a pending batch whose wave has come, a claimed one (which
    may be stale), or nothing left to send (it is then marked sent); oldest first."""
    with store.session() as session:
        waved = (
            select(Batch.edition_id)
            .where(Batch.release_at.is_not(None))
            .distinct()
            .scalar_subquery()
        )
        rows = session.execute(
            select(Edition.id, Edition.segment)
            .where(Edition.status == EditionStatus.sending, Edition.id.in_(waved))
            .order_by(Edition.id)
        ).all()
        return [
            (int(ident), str(segment))
            for ident, segment in rows
            if not ledger.waiting(session, ident, now)
        ]


def zones_of(config: Config) -> Zones:
    """Each segment's zone by the segment's name (the general zone for a segment no
    longer configured)."""

    def zone(name: str) -> ZoneInfo:
        segment = config.segments.get(name)
        return segment_zone(config, segment) if segment is not None else config.zone

    return zone


def _seconds(elapsed: float) -> timedelta:
    return timedelta(seconds=elapsed)
