"""The send ledger: recipients recorded before sending, batches claimed and marked after.

Rows move pending → sent | failed. Batches move pending → sending (claimed by one
worker) → sent | failed. A batch left ``sending`` by a worker that died may have been
accepted by the provider: it is flagged in doubt and resolved by policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, String, func, or_, select, type_coerce, update
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from digest.deliver.notify import notify
from digest.deliver.protocol import BatchOutcome
from digest.deliver.stale import HOST, resolve_stale, worker_name
from digest.store.models import Batch, BatchStatus, Delivery, DeliveryStatus
from subscribers.models import Status, Subscriber

__all__ = ["HOST", "BatchOutcome", "Counts", "resolve_stale", "worker_name"]

ACTIVE = Status.active.name  # as stored: SQLAlchemy keeps an Enum's name


@dataclass(frozen=True)
class Counts:
    recipients: int
    sent: int
    failed: int
    pending: int
    in_doubt: int = 0


def claim(session: Session, edition_id: int, worker: str, now: datetime) -> int | None:
    """Take the next pending batch released by ``now`` for ``worker``; None when none is.

    One statement: the subquery picks the first pending batch (skipping batches other
    transactions have locked, on PostgreSQL) and the update takes it only if it is
    still pending, so two workers never get the same batch. A batch of a wave whose
    time has not come (``release_at`` after ``now``) waits.
    """
    first = aliased(Batch)
    candidate = (
        select(first.id)
        .where(
            first.edition_id == edition_id,
            first.status == BatchStatus.pending,
            released(first.release_at, now),
        )
        .order_by(first.number)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    taken = session.scalar(
        update(Batch)
        .where(Batch.id == candidate, Batch.status == BatchStatus.pending)
        .values(
            status=BatchStatus.sending,
            claimed_by=worker,
            claimed_at=now,
            attempts=Batch.attempts + 1,
        )
        .returning(Batch.number)
        .execution_options(synchronize_session=False)
    )
    return None if taken is None else int(taken)


def released(
    release_at: InstrumentedAttribute[datetime | None], now: datetime
) -> ColumnElement[bool]:
    """SQL: a batch may be claimed at ``now`` (no wave, or its wave's time has come)."""
    return or_(release_at.is_(None), release_at <= now)


def in_waves(session: Session, edition_id: int) -> bool:
    """Whether the edition is sent in waves (a local-time edition of a scheduled slot)."""
    return (
        session.scalar(
            select(Batch.id)
            .where(Batch.edition_id == edition_id, Batch.release_at.is_not(None))
            .limit(1)
        )
        is not None
    )


def waiting(session: Session, edition_id: int, now: datetime) -> bool:
    """Whether all that is left of the edition is waves whose time has not come: nothing
    is being sent, no released batch is pending, and some batch waits."""
    unfinished = session.execute(
        select(Batch.status, Batch.release_at).where(
            Batch.edition_id == edition_id,
            Batch.status.in_((BatchStatus.pending, BatchStatus.sending)),
        )
    ).all()
    return bool(unfinished) and all(
        status == BatchStatus.pending and release is not None and release > now
        for status, release in unfinished
    )


def batch_variant(session: Session, edition_id: int, number: int) -> int | None:
    """The variant (a personalised edition's render) the batch's readers get; None: the
    edition's own render."""
    return session.scalar(
        select(Batch.variant_id).where(Batch.edition_id == edition_id, Batch.number == number)
    )


Pending = tuple[int, str, int, str]
"""A ledger row about to be sent: (delivery id, email, subscriber id, subscriber's name).

A plain tuple: a batch is a thousand of them, made on the hot path.
"""


def batch_rows(session: Session, edition_id: int, number: int) -> list[Pending]:
    """Pending rows of a batch whose subscriber is still active (suppression checked now).

    The rows of suppressed subscribers are failed here, one UPDATE per reason. Plain
    columns, not ORM objects: a batch is a thousand rows and this is the hot path.
    """
    rows = (
        session.connection()
        .execute(
            select(
                Delivery.id,
                Delivery.email,
                Subscriber.id,
                Subscriber.name,
                type_coerce(Subscriber.status, String()),  # the stored name, not an Enum per row
            )
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(
                Delivery.edition_id == edition_id,
                Delivery.batch == number,
                Delivery.status == DeliveryStatus.pending,
            )
            .order_by(Delivery.id)
        )
        .all()
    )
    active: list[Pending] = []
    suppressed: dict[str, list[int]] = {}
    for row in rows:
        if row[4] == ACTIVE:
            active.append(row[:4])
        else:
            suppressed.setdefault(row[4], []).append(row[0])
    for status, ids in suppressed.items():
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(status=DeliveryStatus.failed, error=f"suppressed: {status}")
        )
    return active


def record_outcome(
    session: Session,
    edition_id: int,
    number: int,
    outcome: BatchOutcome,
    now: datetime,
    backend: str = "",
) -> None:
    """Mark what the provider accepted and refused, and that ``backend`` accepted some of
    it; the batch is done when nothing is left.

    Called by the worker that holds the batch's claim, so the batch's pending rows are
    the ones it sent: when the provider took them all under one message id (SendGrid),
    one UPDATE of the batch's pending rows records them, with no list of a thousand ids.
    """
    in_batch = (
        Delivery.edition_id == edition_id,
        Delivery.batch == number,
        Delivery.status == DeliveryStatus.pending,
    )
    ids = set(outcome.accepted.values())
    pending = session.scalar(select(func.count()).where(*in_batch)) or 0
    if len(ids) == 1 and not outcome.failed and len(outcome.accepted) == pending:
        session.execute(
            update(Delivery)
            .where(*in_batch)
            .values(status=DeliveryStatus.sent, message_id=ids.pop(), sent_at=now)
        )
        left = 0
    else:
        changes = [
            {"id": i, "status": DeliveryStatus.sent, "message_id": m, "sent_at": now}
            for i, m in outcome.accepted.items()
        ] + [
            {"id": i, "status": DeliveryStatus.failed, "error": reason[:1000]}
            for i, reason in outcome.failed.items()
        ]
        if changes:
            session.execute(update(Delivery), changes)
        left = session.scalar(select(func.count()).where(*in_batch)) or 0
    values: dict[str, object] = {"claimed_by": ""}
    if backend and outcome.accepted:
        values.update(backend=_with_backend(session, edition_id, number, backend))
    if not left:
        values.update(status=BatchStatus.sent, sent_at=now, message_id=_first(outcome))
    else:
        values.update(status=BatchStatus.pending)
        notify(session)  # its rows left pending are ready for another worker
    if outcome.doubtful:
        values.update(in_doubt=True, doubt_resolution="resent")
    session.execute(
        update(Batch).where(Batch.edition_id == edition_id, Batch.number == number).values(values)
    )


def _with_backend(session: Session, edition_id: int, number: int, backend: str) -> str:
    """The batch's backends with ``backend`` added (a resume may finish it with another)."""
    recorded = session.scalar(
        select(Batch.backend).where(Batch.edition_id == edition_id, Batch.number == number)
    )
    names = [name for name in (recorded or "").split(",") if name]
    return ",".join(names if backend in names else [*names, backend])


def _first(outcome: BatchOutcome) -> str:
    return next(iter(outcome.accepted.values()), "")


def release(
    session: Session,
    edition_id: int,
    number: int,
    error: str,
    *,
    permanent: bool,
    doubtful: bool = False,
) -> None:
    """A batch whose request failed: failed for good, or pending again for a later run."""
    if permanent:
        session.execute(
            update(Delivery)
            .where(
                Delivery.edition_id == edition_id,
                Delivery.batch == number,
                Delivery.status == DeliveryStatus.pending,
            )
            .values(status=DeliveryStatus.failed, error=error[:1000])
        )
    values: dict[str, object] = {
        "status": BatchStatus.failed if permanent else BatchStatus.pending,
        "last_error": error[:1000],
        "claimed_by": "",
    }
    if doubtful:
        values.update(in_doubt=True, doubt_resolution="resent")
    session.execute(
        update(Batch).where(Batch.edition_id == edition_id, Batch.number == number).values(values)
    )
    if not permanent:
        notify(session)


def counts(session: Session, edition_id: int) -> Counts:
    rows = dict(
        session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.edition_id == edition_id)
            .group_by(Delivery.status)
        ).all()
    )
    doubt = session.scalar(
        select(func.count()).where(Batch.edition_id == edition_id, Batch.in_doubt.is_(True))
    )
    sent = rows.get(DeliveryStatus.sent, 0)
    failed = rows.get(DeliveryStatus.failed, 0)
    pending = rows.get(DeliveryStatus.pending, 0)
    return Counts(sent + failed + pending, sent, failed, pending, int(doubt or 0))
