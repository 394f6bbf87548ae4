"""Send an edition: one batch alone first, then the rest from this process's threads or
the run's worker processes; the edition is marked sent when nobody is pending.

The engine that claims, sends and records each batch is :mod:`digest.deliver.batches`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from digest.clock import Clock, utcnow
from digest.deliver import ledger
from digest.deliver.batches import BackendFactory, Tally, send_pending
from digest.deliver.progress import Progress
from digest.deliver.settings import DeliverySettings
from digest.deliver.workers import BackendSpec, SendWorkers, WorkerShares
from digest.errors import DeliveryError
from digest.store.database import Store
from digest.store.models import Edition, EditionStatus


def start_delivery(
    store: Store,
    settings: DeliverySettings,
    make_backend: BackendFactory,
    edition_id: int,
    *,
    clock: Clock = utcnow,
    progress: Progress | None = None,
    tally: Tally | None = None,
    workers: SendWorkers | None = None,
) -> Delivery:
    """Start sending every pending batch of the edition; return once the worker processes
    (if they take the edition) are sending: the caller may do other work, such as record the
    next edition, before :meth:`Delivery.finish`.

    ``workers``, given a :class:`~digest.deliver.workers.BackendSpec` as ``make_backend``,
    send a large edition from several processes; otherwise this process's threads do.
    """
    probe = make_backend()
    idempotent = probe.idempotent
    probe.close()
    with store.session() as session:
        ledger.resolve_stale(
            session,
            edition_id,
            clock(),
            policy=settings.in_doubt,
            idempotent=idempotent,
            lease=timedelta(seconds=settings.claim_timeout),
        )
        total = ledger.counts(session, edition_id)
    if progress is not None:
        progress.start(total.recipients, done=total.sent + total.failed)
    delivery = Delivery(store, edition_id, clock, progress, tally if tally is not None else Tally())
    # One batch alone first: a refused key or a broken body fails once, not per worker.
    delivery.add(
        *send_pending(
            store,
            settings,
            make_backend,
            edition_id,
            threads=1,
            limit=1,
            clock=clock,
            progress=progress,
        )
    )
    batches = -(-total.pending // max(1, settings.batch_size))
    if delivery.errors:
        return delivery
    if workers and isinstance(make_backend, BackendSpec) and workers.take(batches):
        delivery.settled = total.sent + total.failed
        delivery.running = (workers, workers.start(edition_id, make_backend))
    else:
        threads = max(1, settings.concurrency)
        delivery.add(
            *send_pending(
                store,
                settings,
                make_backend,
                edition_id,
                threads=threads,
                clock=clock,
                progress=progress,
            )
        )
    return delivery


@dataclass
class Delivery:
    """An edition being delivered: what this process handed over, and the worker
    processes' share while they are still sending it."""

    store: Store
    edition_id: int
    clock: Clock
    progress: Progress | None
    tally: Tally
    errors: list[DeliveryError] = field(default_factory=list)
    running: tuple[SendWorkers, WorkerShares] | None = None
    settled: int = 0  # recipients sent or failed, as the progress bar last showed

    def add(self, accepted: int, errors: list[DeliveryError]) -> None:
        self.tally.accepted += accepted
        self.errors += errors

    def finish(self) -> ledger.Counts:
        """Wait for the workers, if any; mark the edition sent when no recipient is
        pending; raise the first error that stopped a worker."""
        if self.running is not None:
            workers, running = self.running
            self.add(*workers.collect(running, self._poll))
            self.running = None
        if self.progress is not None:
            self.progress.finish()
        result = finish_edition(self.store, self.edition_id, self.clock)
        if self.errors:
            raise self.errors[0]
        return result

    def _poll(self) -> None:
        """Move the progress bar on by what the workers recorded in the ledger."""
        if self.progress is None or not self.progress.enabled:
            return
        with self.store.session() as session:
            now = ledger.counts(session, self.edition_id)
        self.progress.advance(now.sent + now.failed - self.settled)
        self.settled = now.sent + now.failed


def finish_edition(store: Store, edition_id: int, clock: Clock = utcnow) -> ledger.Counts:
    """The edition's counts; the edition is marked sent when no recipient is pending.

    Whoever sends the last batch may call this (the run, `digest resume`, any worker):
    marking it twice keeps the first time.
    """
    with store.session() as session:
        result = ledger.counts(session, edition_id)
        if result.pending == 0:
            edition = session.get_one(Edition, edition_id)
            edition.status = EditionStatus.sent
            edition.sent_at = edition.sent_at or clock()
    return result
