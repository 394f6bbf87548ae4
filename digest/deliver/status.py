"""What the ledger says about each edition: for `digest status` and for people."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digest.deliver import ledger
from digest.store.models import Batch, BatchStatus, Delivery, DeliveryStatus, Edition

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

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["sent_at"] = self.sent_at.isoformat() if self.sent_at else None
        return data


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


def edition_status(session: Session, edition: Edition) -> EditionStatusReport:
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
    )


def statuses(
    session: Session, edition_id: int | None = None, limit: int = 20
) -> list[EditionStatusReport]:
    query = select(Edition).order_by(Edition.id.desc()).limit(limit)
    if edition_id is not None:
        query = select(Edition).where(Edition.id == edition_id)
    return [edition_status(session, e) for e in session.scalars(query)]
