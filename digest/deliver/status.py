"""What the ledger says about each edition: for `digest status` and for people."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.deliver import ledger
from digest.store.models import Batch, BatchStatus, Edition


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
    backend: str
    created_at: datetime
    sent_at: datetime | None
    recipients: int
    sent: int
    failed: int
    pending: int
    in_doubt: int
    failed_batches: tuple[BatchNote, ...]
    doubtful_batches: tuple[BatchNote, ...]

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


def edition_status(session: Session, edition: Edition) -> EditionStatusReport:
    counts = ledger.counts(session, edition.id)
    batches = list(session.scalars(select(Batch).where(Batch.edition_id == edition.id)))
    return EditionStatusReport(
        edition=edition.id,
        segment=edition.segment,
        slot=edition.slot,
        status=edition.status.value,
        backend=edition.backend,
        created_at=edition.created_at,
        sent_at=edition.sent_at,
        recipients=counts.recipients,
        sent=counts.sent,
        failed=counts.failed,
        pending=counts.pending,
        in_doubt=sum(b.size for b in batches if b.in_doubt),
        failed_batches=tuple(_note(b) for b in batches if b.status == BatchStatus.failed),
        doubtful_batches=tuple(_note(b) for b in batches if b.in_doubt),
    )


def statuses(
    session: Session, edition_id: int | None = None, limit: int = 20
) -> list[EditionStatusReport]:
    query = select(Edition).order_by(Edition.id.desc()).limit(limit)
    if edition_id is not None:
        query = select(Edition).where(Edition.id == edition_id)
    return [edition_status(session, e) for e in session.scalars(query)]
