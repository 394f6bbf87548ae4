"""Readers' time zones, and the waves of a local-time edition.

A segment with ``deliver_at = "local"`` sends each reader its scheduled edition at the
schedule's wall-clock time in the reader's own zone. The readers whose zone puts that
time on the same instant share a wave; each wave's batches carry its instant as their
``release_at`` and are claimed only once it has come.

A reader's zone is :attr:`subscribers.models.Subscriber.timezone`, an IANA name. The
column's default, ``"UTC"``, is what a reader gets when nobody gave a zone (imports
without a time-zone column), so it counts as none given, like ``""``; those readers, and
readers with a name Python's ``zoneinfo`` does not know, get the segment's zone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NOT_GIVEN = frozenset({"", "UTC"})  # the column's default stands for "no zone given"

Release = Callable[[ZoneInfo], datetime]
"""When the edition's wall-clock time happens in a zone, in UTC."""


@lru_cache(maxsize=2048)
def known_zone(name: str) -> ZoneInfo | None:
    """The zone a reader gave, or None when they gave none or one that is not known."""
    if name in NOT_GIVEN:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def reader_zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    """The zone a reader's edition arrives in: theirs, or ``default`` (the segment's)."""
    return known_zone(name or "") or default


def distinct_zones(names: Iterable[str | None], default: ZoneInfo) -> list[ZoneInfo]:
    """The zones of readers with these zone names, and ``default``, each once, by name."""
    zones = {default.key: default}
    for name in names:
        zone = reader_zone(name, default)
        zones.setdefault(zone.key, zone)
    return [zones[key] for key in sorted(zones)]


@dataclass(frozen=True)
class Waves:
    """How an edition's readers are released: ``release`` maps a zone to its instant;
    readers without a known zone are in ``zone``, the segment's."""

    release: Release
    zone: ZoneInfo

    def plan(self, names: Iterable[str | None]) -> WavePlan:
        """Number the waves of readers with these zone names, earliest first."""
        at = {name: self.release(reader_zone(name, self.zone)) for name in {n or "" for n in names}}
        default = self.release(self.zone)
        times = sorted({default, *at.values()})
        order = {moment: number for number, moment in enumerate(times)}
        return WavePlan(
            tuple(times),
            order[default],
            {name: order[moment] for name, moment in at.items() if moment != default},
        )


@dataclass(frozen=True)
class WavePlan:
    """The waves of one edition: their instants, earliest first; the wave of readers
    whose zone name is not in ``wave_of`` (the segment's zone's); each other name's wave."""

    times: tuple[datetime, ...]
    default: int
    wave_of: dict[str, int] = field(default_factory=dict)

    def wave(self, name: str | None) -> int:
        return self.wave_of.get(name or "", self.default)
