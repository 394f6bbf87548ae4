"""Which segments are due: what ``digest run`` from cron, ``digest schedule`` and
``digest due`` decide on one fixed ``now``.

A segment is due when its schedule has had a slot that nothing has handled yet: neither an
edition made since the slot began (``Edition.created_at`` at or after its instant) nor a run
that recorded it as handled (``segment_locks.last_slot``). Any number of missed slots make
one edition, of the latest. A latest slot older than the segment's ``catch_up`` is missed:
reported once, recorded as handled, and the next slot sends. A segment that has never had an
edition nor a handled slot is due at once, so a new newsroom's first run writes its emails.

The run key of a due segment's edition is its latest slot's (``"cron " + wall key``), so a
retried or overlapping cron job, or a scheduler beside it, makes one edition per slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from digest.config import Config
from digest.run.editions import lock_segment
from digest.run.schedule import in_words
from digest.run.segments import slot_now
from digest.run.slots import earliest_instant, latest_slot, next_slot, wall_key
from digest.run.waves import slot_zones
from digest.settings import SegmentSettings
from digest.store.database import Store
from digest.store.models import Edition, SegmentLock

DUE = "due"
MISSED = "missed"  # the latest slot is older than catch_up: reported and skipped
WAITING = "waiting"  # nothing due until the next slot

SHOWN = "%Y-%m-%d %H:%M %Z"


def segment_zones(session: Session, config: Config, segment: SegmentSettings) -> list[ZoneInfo]:
    """The zones the segment's slots happen in; a slot is due at the earliest of them (its
    readers' zones for a local-time segment: :func:`digest.run.waves.slot_zones`)."""
    return slot_zones(session, config, segment)


@dataclass(frozen=True)
class Due:
    """One segment's schedule seen at ``now``."""

    segment: str
    schedule: str  # in words with its zone: "every Monday at 08:00, Europe/London"
    zone: ZoneInfo  # the segment's zone, the one its times are shown in
    latest: datetime | None  # the latest slot's wall time, None when it has had none
    latest_at: datetime | None  # when that slot began (UTC)
    next: datetime | None  # the next slot's wall time
    next_at: datetime | None  # when it begins (UTC)
    state: str  # DUE, MISSED or WAITING
    why: str  # in words, for a person
    slot: str  # the run key of the edition a due segment makes

    @property
    def due(self) -> bool:
        return self.state == DUE

    def shown(self, when: datetime | None) -> str:
        """A time in the segment's zone, as the tables print it."""
        return when.astimezone(self.zone).strftime(SHOWN) if when is not None else "none"


def due_segments(
    store: Store, config: Config, now: datetime, names: list[str] | None = None
) -> list[Due]:
    """Every segment (or those named), in the config's order, seen at ``now``."""
    with store.session() as session:
        return [
            segment_due(session, config, config.segment(name), now)
            for name in (names if names is not None else list(config.segments))
        ]


def segment_due(session: Session, config: Config, segment: SegmentSettings, now: datetime) -> Due:
    """Whether ``segment`` is due at ``now``, and why."""
    zone = config.segment_zone(segment.name)
    zones = segment_zones(session, config, segment)
    latest = latest_slot(segment.schedule, zones, now)
    upcoming = next_slot(segment.schedule, zones, now)
    latest_at = earliest_instant(latest, zones) if latest is not None else None
    next_at = earliest_instant(upcoming, zones) if upcoming is not None else None
    handled = handled_slot(session, segment.name)
    newest = session.scalar(
        select(func.max(Edition.created_at)).where(Edition.segment == segment.name)
    )
    words = f"{in_words(segment.schedule)}, {zone.key}"

    def found(state: str, why: str) -> Due:
        key = "cron " + wall_key(latest) if latest is not None else slot_now(config, now)
        return Due(segment.name, words, zone, latest, latest_at, upcoming, next_at, state, why, key)

    def shown(when: datetime | None) -> str:
        return when.astimezone(zone).strftime(SHOWN) if when is not None else "none"

    if newest is None and not handled:
        return found(DUE, "never sent: due at once")
    if latest is None or latest_at is None:
        return found(WAITING, "no slot in the past year")
    if newest is not None and newest >= latest_at:
        return found(WAITING, f"sent {shown(newest)}, since the slot of {shown(latest_at)}")
    if handled and handled >= wall_key(latest):
        return found(WAITING, f"the slot of {shown(latest_at)} was handled by an earlier run")
    late = now - latest_at
    if late > timedelta(minutes=segment.catch_up):
        return found(
            MISSED,
            f"missed the slot of {shown(latest_at)} by {duration(late)} (catch_up "
            f"{duration(timedelta(minutes=segment.catch_up))}); skipped, next {shown(next_at)}",
        )
    return found(DUE, f"the slot of {shown(latest_at)} has come")


def duration(span: timedelta) -> str:
    """A span as people say it, to the minute: "3 days 4 h", "12 h", "5 min"."""
    minutes = int(span.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes and not days:
        parts.append(f"{minutes} min")
    return " ".join(parts) or "0 min"


def handled_slot(session: Session, segment: str) -> str:
    """The wall key of the segment's newest handled slot; "" when none was."""
    return session.scalar(select(SegmentLock.last_slot).where(SegmentLock.segment == segment)) or ""


def mark_handled(store: Store, segment: str, slot: datetime, now: datetime) -> None:
    """Record that a run handled the slot whose wall time is ``slot``. Under the segment's
    lock, and only forward: a run that handled an older slot never moves it back."""
    key = wall_key(slot)
    with store.session() as session:
        lock_segment(session, segment, now)
        session.execute(
            update(SegmentLock)
            .where(SegmentLock.segment == segment, SegmentLock.last_slot < key)
            .values(last_slot=key)
        )
