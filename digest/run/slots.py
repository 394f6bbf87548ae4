"""A schedule's slots as wall-clock times, and the instant each slot falls on in a zone.

A slot is the wall-clock minute a cron expression names ("Monday 08:00"), a naive
datetime. Its instant in a time zone is that wall time there, read with ``fold=0``: a time
the clocks skip (02:30 on the spring change) falls where the gap pushes it (03:30, as
APScheduler fires it), and a time the clocks pass twice (01:30 on the autumn change) falls
on the first. Each slot has exactly one instant per zone, so a run keyed by the slot's
wall time sends once, whatever the clocks do.

The wall times themselves come from APScheduler's cron trigger run in UTC, which has no
clock changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

WALL_FORMAT = "%Y-%m-%dT%H:%M"
_LOOK_BACK = (
    timedelta(hours=2),
    timedelta(days=2),
    timedelta(days=9),
    timedelta(days=33),
    timedelta(days=367),
)


def _trigger(expression: str) -> CronTrigger:
    return CronTrigger.from_crontab(expression, timezone=UTC)


def _wall(fire: datetime | None) -> datetime | None:
    return None if fire is None else fire.replace(tzinfo=None)


def next_wall(expression: str, after: datetime) -> datetime | None:
    """The schedule's first slot strictly after the wall time ``after``."""
    start = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return _wall(_trigger(expression).get_next_fire_time(None, start.replace(tzinfo=UTC)))


def previous_wall(expression: str, at_or_before: datetime) -> datetime | None:
    """The schedule's latest slot at or before the wall time ``at_or_before`` (looking
    back at most a year)."""
    trigger = _trigger(expression)
    here = at_or_before.replace(tzinfo=UTC)
    for back in _LOOK_BACK:
        fire = trigger.get_next_fire_time(None, here - back)
        if fire is None or fire > here:
            continue
        while True:
            later = trigger.get_next_fire_time(fire, fire + timedelta(minutes=1))
            if later is None or later > here:
                return _wall(fire)
            fire = later
    return None


def instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """When the wall time ``wall`` happens in ``zone``, in UTC (see the module's note on
    skipped and repeated times)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def earliest_instant(wall: datetime, zones: Iterable[ZoneInfo]) -> datetime:
    """When the wall time ``wall`` first happens in any of ``zones``."""
    return min(instant(wall, zone) for zone in zones)


def latest_slot(expression: str, zones: Iterable[ZoneInfo], now: datetime) -> datetime | None:
    """The newest slot that has begun by ``now`` in at least one of ``zones``."""
    zones = list(zones)
    ahead = max(now.astimezone(zone).replace(tzinfo=None) for zone in zones)
    wall = previous_wall(expression, ahead + timedelta(hours=3))
    while wall is not None and earliest_instant(wall, zones) > now:
        wall = previous_wall(expression, wall - timedelta(minutes=1))
    return wall


def next_slot(expression: str, zones: Iterable[ZoneInfo], now: datetime) -> datetime | None:
    """The first slot that has begun in none of ``zones`` by ``now``."""
    zones = list(zones)
    start = latest_slot(expression, zones, now)
    if start is None:
        start = min(now.astimezone(zone).replace(tzinfo=None) for zone in zones)
        start -= timedelta(hours=3)
    found = next_wall(expression, start)
    while found is not None and earliest_instant(found, zones) <= now:
        found = next_wall(expression, found)
    return found


def wall_key(wall: datetime) -> str:
    """The slot as stored and shown: ``YYYY-MM-DDTHH:MM``."""
    return wall.strftime(WALL_FORMAT)
