"""What the ledger says about each edition: for `digest status` and for people."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from digest.deliver import ledger
from digest.deliver.zones import reader_zone
from digest.store.models import (
    Batch,
    BatchStatus,
    Delivery,
    DeliveryStatus,
    Edition,
    EditionStatus,
)
from subscribers.models import Subscriber

UTC_ZONE = ZoneInfo("UTC")
REASONS_SHOWN = 10  # the most frequent reasons readers failed; the rest are summed up


@dataclass(frozen=True)
class BatchNote:
    number: int
    status: str
    size: int
    attempts: int
    resolution: str
    error: str


@dataclass(frozen=True)
class ZoneTime:
    zone: str
    local: str  # the wave's wall-clock time there, HH:MM


@dataclass(frozen=True)
class WaveNote:
    """One wave of a local-time edition: its readers, whose wall-clock time comes at
    ``release_at``."""

    release_at: datetime
    zones: tuple[ZoneTime, ...]
    readers: int
    batches: int
    state: str  # pending (none of it taken yet), sending, sent (nothing of it left)

    @property
    def label(self) -> str:
        """The wave as people read it, "09:00 Asia/Kolkata (03:30 UTC)": zones that share
        a local time together; its UTC time alone when its zones were not read."""
        by_time: dict[str, list[str]] = {}
        for each in self.zones:
            by_time.setdefault(each.local, []).append(each.zone)
        where = ", ".join(f"{local} {', '.join(zones)}" for local, zones in by_time.items())
        utc = f"{self.release_at.astimezone(UTC):%H:%M} UTC"
        return f"{where} ({utc})" if where else utc


@dataclass(frozen=True)
class EditionStatusReport:
    edition: int
    segment: str
    slot: str
    status: str
    backend: str  # the one the edition was started with
    backends: dict[str, int]  # the ones that accepted its batches: name → batches
    created_at: datetime
    sent_at: datetime | None
    recipients: int
    sent: int
    failed: int
    pending: int
    in_doubt: int
    failed_batches: tuple[BatchNote, ...]
    doubtful_batches: tuple[BatchNote, ...]
    failure_reasons: dict[str, int]  # why readers failed → how many, most frequent first
    waves: tuple[WaveNote, ...] = ()  # a local-time edition's, earliest first

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["sent_at"] = self.sent_at.isoformat() if self.sent_at else None
        data["waves"] = [
            {**asdict(w), "release_at": w.release_at.isoformat(), "label": w.label}
            for w in self.waves
        ]
        return data


Zones = Callable[[str], ZoneInfo]
"""A segment's zone, by the segment's name: where readers without a known zone are."""


Named = Literal["all", "next", "none"]


def edition_waves(
    session: Session, edition_id: int, zone: ZoneInfo, named: Named = "all"
) -> list[WaveNote]:
    """The edition's waves, earliest first (none for an edition sent to all at once);
    readers without a known zone are shown in ``zone``, the segment's.

    Naming a wave's zones reads each of its readers' (seconds for a million): ``named``
    says which waves' to name: all, the next to send, or none (then a wave's label is its
    time in UTC alone)."""
    rows = session.execute(
        select(Batch.release_at, Batch.status, func.count(), func.sum(Batch.size))
        .where(Batch.edition_id == edition_id, Batch.release_at.is_not(None))
        .group_by(Batch.release_at, Batch.status)
    ).all()
    if not rows:
        return []
    states: dict[datetime, dict[BatchStatus, tuple[int, int]]] = {}
    for release, status, batches, readers in rows:
        if release is None:
            continue
        states.setdefault(release, {})[status] = (int(batches), int(readers or 0))
    chosen = list(states)
    if named == "next":
        unsent = [r for r in sorted(states) if _state(set(states[r])) != "sent"]
        chosen = unsent[:1]
    names = [] if named == "none" else _zone_names(session, edition_id, chosen)
    zones: dict[datetime, dict[str, ZoneInfo]] = {}
    for release, name in names:
        if release is None:
            continue
        found = reader_zone(name, zone)
        zones.setdefault(release, {})[found.key] = found
    waves = []
    for release in sorted(states):
        by_status = states[release]
        shown = zones.get(release, {})
        waves.append(
            WaveNote(
                release,
                tuple(
                    ZoneTime(key, f"{release.astimezone(shown[key]):%H:%M}")
                    for key in sorted(
                        shown, key=lambda k: (f"{release.astimezone(shown[k]):%H:%M}", k)
                    )
                ),
                sum(readers for _, readers in by_status.values()),
                sum(batches for batches, _ in by_status.values()),
                _state(set(by_status)),
            )
        )
    return waves


def _zone_names(
    session: Session, edition_id: int, releases: list[datetime]
) -> list[tuple[datetime | None, str]]:
    """(wave, zone name) of the readers of the waves released at ``releases``, each once."""
    if not releases:
        return []
    rows = session.execute(
        select(Batch.release_at, Subscriber.timezone)
        .join(
            Delivery,
            and_(Delivery.edition_id == Batch.edition_id, Delivery.batch == Batch.number),
        )
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Batch.edition_id == edition_id, Batch.release_at.in_(releases))
        .group_by(Batch.release_at, Subscriber.timezone)
    ).all()
    return [(release, name) for release, name in rows]


def _state(statuses: set[BatchStatus]) -> str:
    if not statuses & {BatchStatus.pending, BatchStatus.sending}:
        return "sent"
    if statuses == {BatchStatus.pending}:
        return "pending"
    return "sending"


def waves_note(waves: list[WaveNote]) -> str:
    """What a run says of a local-time edition: "2 of 6 waves sent; next 09:00
    Asia/Kolkata (03:30 UTC)"; "" for an edition without waves."""
    if not waves:
        return ""
    sent = sum(w.state == "sent" for w in waves)
    if sent == len(waves):
        return f"all {len(waves)} waves sent"
    upcoming = next(w for w in waves if w.state != "sent")
    return f"{sent} of {len(waves)} waves sent; next {upcoming.label}"


def _note(batch: Batch) -> BatchNote:
    return BatchNote(
        batch.number,
        batch.status.value,
        batch.size,
        batch.attempts,
        batch.doubt_resolution,
        batch.last_error,
    )


def accepted_by(batches: list[Batch]) -> dict[str, int]:
    """Backend → how many batches it accepted (some of), in the order of the batches."""
    found: dict[str, int] = {}
    for batch in sorted(batches, key=lambda b: b.number):
        for name in filter(None, batch.backend.split(",")):
            found[name] = found.get(name, 0) + 1
    return found


def failure_reasons(session: Session, edition_id: int, failed: int) -> dict[str, int]:
    """Why the edition's ``failed`` readers failed → how many, most frequent first."""
    count = func.count().label("count")
    rows = session.execute(
        select(Delivery.error, count)
        .where(Delivery.edition_id == edition_id, Delivery.status == DeliveryStatus.failed)
        .group_by(Delivery.error)
        .order_by(count.desc(), Delivery.error)
        .limit(REASONS_SHOWN)
    ).all()
    reasons = {error or "no reason recorded": int(n) for error, n in rows}
    rest = failed - sum(reasons.values())
    if rest > 0:
        reasons["other reasons"] = rest
    return reasons


def edition_status(
    session: Session, edition: Edition, zone: ZoneInfo = UTC_ZONE, named: Named = "all"
) -> EditionStatusReport:
    counts = ledger.counts(session, edition.id)
    batches = list(session.scalars(select(Batch).where(Batch.edition_id == edition.id)))
    return EditionStatusReport(
        edition=edition.id,
        segment=edition.segment,
        slot=edition.slot,
        status=edition.status.value,
        backend=edition.backend,
        backends=accepted_by(batches),
        created_at=edition.created_at,
        sent_at=edition.sent_at,
        recipients=counts.recipients,
        sent=counts.sent,
        failed=counts.failed,
        pending=counts.pending,
        in_doubt=sum(b.size for b in batches if b.in_doubt),
        failed_batches=tuple(_note(b) for b in batches if b.status == BatchStatus.failed),
        doubtful_batches=tuple(_note(b) for b in batches if b.in_doubt),
        failure_reasons=failure_reasons(session, edition.id, counts.failed)
        if counts.failed
        else {},
        waves=tuple(edition_waves(session, edition.id, zone, named)),
    )


def statuses(
    session: Session, edition_id: int | None = None, limit: int = 20, zones: Zones | None = None
) -> list[EditionStatusReport]:
    """The newest editions' reports (or one edition's); ``zones`` gives each segment's zone,
    for the waves of local-time editions (UTC without it). The zones of each wave are
    named for an edition still being sent, or the one asked for; in a list, a sent
    edition's waves are given by their UTC time."""
    query = select(Edition).order_by(Edition.id.desc()).limit(limit)
    if edition_id is not None:
        query = select(Edition).where(Edition.id == edition_id)
    return [
        edition_status(
            session,
            e,
            zones(e.segment) if zones else UTC_ZONE,
            "all" if edition_id is not None or e.status == EditionStatus.sending else "none",
        )
        for e in session.scalars(query)
    ]
