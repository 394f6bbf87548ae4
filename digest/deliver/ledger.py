"""The send ledger: recipients recorded before sending, marked only after acceptance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from digest.deliver.backend import BatchOutcome
from digest.store.models import Delivery, DeliveryStatus
from subscribers.models import Status, Subscriber


@dataclass(frozen=True)
class Counts:
    recipients: int
    sent: int
    failed: int
    pending: int


def record_recipients(
    session: Session, edition_id: int, audience: Sequence[Subscriber], batch_size: int
) -> int:
    """One pending row per subscriber, numbered into batches; returns how many."""
    session.add_all(
        Delivery(
            edition_id=edition_id,
            subscriber_id=s.id,
            email=s.email,
            batch=index // batch_size,
            status=DeliveryStatus.pending,
        )
        for index, s in enumerate(audience)
    )
    session.flush()
    return len(audience)


def pending_batches(session: Session, edition_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Delivery.batch)
            .where(Delivery.edition_id == edition_id, Delivery.status == DeliveryStatus.pending)
            .distinct()
            .order_by(Delivery.batch)
        )
    )


def batch_rows(session: Session, edition_id: int, batch: int) -> list[tuple[Delivery, Subscriber]]:
    """Pending rows of a batch whose subscriber is still active (suppression checked now)."""
    rows = session.execute(
        select(Delivery, Subscriber)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(
            Delivery.edition_id == edition_id,
            Delivery.batch == batch,
            Delivery.status == DeliveryStatus.pending,
        )
        .order_by(Delivery.id)
    ).all()
    active: list[tuple[Delivery, Subscriber]] = []
    for delivery, subscriber in rows:
        if subscriber.status == Status.active:
            active.append((delivery, subscriber))
        else:
            delivery.status = DeliveryStatus.failed
            delivery.error = f"suppressed: {subscriber.status.value}"
    return active


def record_outcome(session: Session, outcome: BatchOutcome, now: datetime) -> None:
    for delivery_id, ident in outcome.accepted.items():
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(status=DeliveryStatus.sent, message_id=ident, sent_at=now)
        )
    for delivery_id, reason in outcome.failed.items():
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(status=DeliveryStatus.failed, error=reason[:1000])
        )


def record_batch_error(session: Session, edition_id: int, batch: int, error: str) -> None:
    session.execute(
        update(Delivery)
        .where(
            Delivery.edition_id == edition_id,
            Delivery.batch == batch,
            Delivery.status == DeliveryStatus.pending,
        )
        .values(status=DeliveryStatus.failed, error=error[:1000])
    )


def counts(session: Session, edition_id: int) -> Counts:
    rows = dict(
        session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.edition_id == edition_id)
            .group_by(Delivery.status)
        ).all()
    )
    sent = rows.get(DeliveryStatus.sent, 0)
    failed = rows.get(DeliveryStatus.failed, 0)
    pending = rows.get(DeliveryStatus.pending, 0)
    return Counts(sent + failed + pending, sent, failed, pending)
