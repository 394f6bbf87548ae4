"""The engine of a send: claim a batch from the ledger, send it, record the outcome, claim
the next; from one thread or several of this process.

Each thread has its own backend (SendGrid's client must not be shared between threads;
an SMTP connection is one conversation). Right after the provider answers, the thread
records the outcome and claims its next batch in one transaction, so the window in
which a crash leaves a batch in doubt is the time between the provider's answer and
that commit: a claim and a few statements, milliseconds. Worker processes
(:mod:`digest.deliver.workers`) run the same engine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from digest.clock import Clock, utcnow
from digest.deliver import ledger, shutdown
from digest.deliver.headers import list_id
from digest.deliver.links import Links, signer
from digest.deliver.message import Outgoing
from digest.deliver.progress import Progress
from digest.deliver.protocol import Backend, BatchOutcome
from digest.deliver.settings import DeliverySettings
from digest.errors import DeliveryError
from digest.render.email import Rendered
from digest.render.placeholders import Placeholders
from digest.store.database import Store
from digest.store.models import Edition, EditionVariant

BackendFactory = Callable[[], Backend]


def outgoing_for(settings: DeliverySettings, edition: Edition) -> Outgoing:
    """The edition's message, from the segment's From name, with its List-Id."""
    sender = settings.sender
    identity = settings.identity(edition.segment)
    domain = sender.email.rpartition("@")[2]
    return Outgoing(
        edition_id=edition.id,
        segment=edition.segment,
        rendered=Rendered(
            edition.subject,
            edition.preheader,
            edition.html,
            edition.text,
            (),
            Placeholders(edition.placeholder_nonce),
        ),
        from_name=identity.from_name,
        from_email=sender.email,
        reply_to=sender.reply_to,
        list_id=list_id(identity.list_name, edition.segment, domain),
    )


@dataclass
class Tally:
    """What one send of an edition handed over itself.

    Other processes may be sending the same edition at the same time: the ledger's
    counts before and after are theirs as well as ours.
    """

    accepted: int = 0


@dataclass(frozen=True)
class Finished:
    """A batch after its request: the provider's outcome, or why the request failed."""

    number: int
    outcome: BatchOutcome | None = None
    error: DeliveryError | None = None
    backend: str = ""  # the name of the backend that answered

    def settled(self, attempted: int) -> int:
        """Rows this batch took out of pending, of the ``attempted`` ones."""
        if self.outcome is not None:
            return len(self.outcome.accepted) + len(self.outcome.failed)
        return attempted if self.error is not None and self.error.permanent else 0


def send_pending(
    store: Store,
    settings: DeliverySettings,
    make_backend: BackendFactory,
    edition_id: int,
    *,
    threads: int,
    limit: int | None = None,
    clock: Clock = utcnow,
    progress: Progress | None = None,
    stop: Callable[[], bool] | None = None,
) -> tuple[int, list[DeliveryError]]:
    """Send pending batches of the edition from ``threads`` threads of this process, each
    until none is left (or ``limit`` batches, or ``stop()`` says so, or this process was
    asked to stop (:mod:`digest.deliver.shutdown`), or one failed).
    Returns the recipients accepted and the errors that stopped a thread."""
    with store.session() as session:
        outgoing = outgoing_for(settings, session.get_one(Edition, edition_id))
    tally = Tally()
    sender = _Sender(store, outgoing, Links(settings.sender, signer(store)), clock, progress, tally)
    if stop is not None:
        sender.stop = stop
    if threads == 1:
        sender.work(make_backend, limit)
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="digest-send") as pool:
            for future in [pool.submit(sender.work, make_backend, limit) for _ in range(threads)]:
                future.result()
    return tally.accepted, sender.errors


Claimed = tuple[int, list[ledger.Pending], Outgoing]  # a batch's number, rows and message


class _Sender:
    """The workers of one edition: claim a batch, send it, record it, claim the next.

    Recording a batch and claiming the next happen in one transaction, so a batch
    costs one commit. On SQLite, whose writers take turns anyway, this process's
    workers take turns on a lock rather than in SQLite's busy handler, which sleeps.
    """

    def __init__(
        self,
        store: Store,
        outgoing: Outgoing,
        links: Links,
        clock: Clock,
        progress: Progress | None,
        tally: Tally | None,
    ) -> None:
        self.store = store
        self.outgoing = outgoing
        self.links = links
        self.clock = clock
        self.progress = progress
        self.tally = tally
        self.errors: list[DeliveryError] = []
        self.stop: Callable[[], bool] = lambda: False  # claim no more batches when True
        self._variants: dict[int, Outgoing] = {}
        self._lock = threading.Lock()
        serial = store.engine.dialect.name == "sqlite"
        self._writes: AbstractContextManager[object] = threading.Lock() if serial else nullcontext()

    def work(self, make_backend: BackendFactory, limit: int | None = None) -> None:
        """Send batches until none is pending, ``limit`` are done, or a worker failed."""
        worker = ledger.worker_name()
        try:
            backend = make_backend()
        except DeliveryError as e:
            self._fail(e)
            return
        try:
            done = 0
            claimed = self._step(worker, None, go_on=not shutdown.requested())
            while claimed is not None:
                number, rows, outgoing = claimed
                finished = self._attempt(backend, number, rows, outgoing)
                done += 1
                error = finished.error
                stop = error is not None and not error.permanent
                go_on = not stop and not self.errors and (limit is None or done < limit)
                go_on = go_on and not self.stop() and not shutdown.requested()
                claimed = self._step(worker, finished, go_on=go_on)
                self._count(finished, len(rows))
                if stop and error is not None:
                    self._fail(error)
        finally:
            backend.close()

    def _step(self, worker: str, finished: Finished | None, *, go_on: bool) -> Claimed | None:
        """Record ``finished`` and claim the next batch in one commit; read its rows."""
        edition_id = self.outgoing.edition_id
        with self._writes, self.store.session() as session:
            now = self.clock()
            if finished is not None:
                _record(session, edition_id, finished, now)
            number = ledger.claim(session, edition_id, worker, now) if go_on else None
        if number is None:
            return None
        with self.store.session() as session:  # a read: other workers may write meanwhile
            variant = ledger.batch_variant(session, edition_id, number)
            outgoing = self.outgoing if variant is None else self._variant(session, variant)
            return number, ledger.batch_rows(session, edition_id, number), outgoing

    def _variant(self, session: Session, variant_id: int) -> Outgoing:
        """The outgoing message of a personalised edition's variant, read once."""
        with self._lock:
            found = self._variants.get(variant_id)
        if found is None:
            variant = session.get_one(EditionVariant, variant_id)
            rendered = Rendered(
                variant.subject,
                variant.preheader,
                variant.html,
                variant.text,
                (),
                Placeholders(variant.placeholder_nonce),
            )
            found = replace(self.outgoing, rendered=rendered)
            with self._lock:
                self._variants[variant_id] = found
        return found

    def _attempt(
        self, backend: Backend, number: int, rows: list[ledger.Pending], outgoing: Outgoing
    ) -> Finished:
        recipients = [self.links.recipient(row, outgoing.segment) for row in rows]
        if not recipients:
            return Finished(number, BatchOutcome())
        try:
            outcome = backend.send_batch(outgoing, recipients, number)
            return Finished(number, outcome, backend=backend.name)
        except DeliveryError as e:
            return Finished(number, error=e)

    def _count(self, finished: Finished, attempted: int) -> None:
        if self.tally is not None and finished.outcome is not None:
            with self._lock:
                self.tally.accepted += len(finished.outcome.accepted)
        if self.progress is not None:
            self.progress.advance(finished.settled(attempted))

    def _fail(self, error: DeliveryError) -> None:
        with self._lock:
            self.errors.append(error)


def _record(session: Session, edition_id: int, finished: Finished, now: datetime) -> None:
    if finished.outcome is not None:
        ledger.record_outcome(
            session, edition_id, finished.number, finished.outcome, now, finished.backend
        )
    elif finished.error is not None:
        e = finished.error
        ledger.release(
            session, edition_id, finished.number, str(e), permanent=e.permanent, doubtful=e.doubtful
        )
