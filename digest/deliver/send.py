"""Send an edition: workers claim batches from the ledger, send them, record the outcome.

Each worker has its own backend (SendGrid's client must not be shared between threads;
an SMTP connection is one conversation). Right after the provider answers, the worker
records the outcome and claims its next batch in one transaction, so the window in
which a crash leaves a batch in doubt is the time between the provider's answer and
that commit: a claim and a few statements, milliseconds.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlalchemy.orm import Session

from digest.config import Config
from digest.deliver import ledger
from digest.deliver.backend import Backend, BatchOutcome
from digest.deliver.message import Outgoing, Recipient
from digest.deliver.progress import Progress
from digest.deliver.workers import BackendSpec, Running, SendWorkers
from digest.errors import DeliveryError
from digest.render.email import Rendered
from digest.render.placeholders import Placeholders
from digest.store.database import Store
from digest.store.models import Edition, EditionStatus, EditionVariant
from subscribers.tokens import TokenSigner

Clock = Callable[[], datetime]
BackendFactory = Callable[[], Backend]
URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")  # what quote() leaves as it is


def utcnow() -> datetime:
    return datetime.now(UTC)


def signer(store: Store) -> TokenSigner:
    """Signs links with DIGEST_SECRET_KEY, or a key generated once and kept in the store."""
    return TokenSigner(os.environ.get("DIGEST_SECRET_KEY") or store.secret("signing-key"))


def outgoing_for(config: Config, edition: Edition) -> Outgoing:
    domain = config.sender.email.rpartition("@")[2]
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
        from_name=config.sender.name,
        from_email=config.sender.email,
        reply_to=config.sender.reply_to,
        list_id=f"<{edition.segment}.{domain}>",
    )


class Links:
    """Per-recipient links: one signed token serves unsubscribe, mailto and preferences."""

    def __init__(self, config: Config, tokens: TokenSigner) -> None:
        base = config.sender.base_url.rstrip("/")
        mailbox = config.sender.unsubscribe_mailto or (
            "unsubscribe@" + config.sender.email.rpartition("@")[2]
        )
        self.tokens = tokens
        self._unsubscribe = f"{base}/unsubscribe/"
        self._preferences = f"{base}/preferences/"
        self._mailto = f"mailto:{mailbox}?subject={quote('unsubscribe ')}"
        # Tokens are base64url and dots, which quote() leaves alone: check the form once.
        self._quote = not URL_SAFE.fullmatch(tokens.token(0, "sample list"))

    def recipient(self, row: ledger.Pending, segment: str) -> Recipient:
        delivery_id, email, subscriber_id, name = row
        token = self.tokens.token(subscriber_id, segment)
        return Recipient(
            delivery_id,
            email,
            name,
            self._unsubscribe + token,
            self._preferences + token,
            self._mailto + (quote(token) if self._quote else token),
        )


@dataclass
class Tally:
    """What one call of :func:`deliver_edition` handed over itself.

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


def deliver_edition(
    store: Store,
    config: Config,
    make_backend: BackendFactory,
    edition_id: int,
    *,
    clock: Clock = utcnow,
    progress: Progress | None = None,
    tally: Tally | None = None,
    workers: SendWorkers | None = None,
) -> ledger.Counts:
    """Send every pending batch; the edition is marked sent when no recipient is pending.

    ``workers``, given a :class:`~digest.deliver.workers.BackendSpec` as ``make_backend``,
    send a large edition from several processes; otherwise this process's threads do.
    Raises DeliveryError (transient) when a worker had to stop: what it could not send
    stays pending for `digest resume`.
    """
    delivery = start_delivery(
        store,
        config,
        make_backend,
        edition_id,
        clock=clock,
        progress=progress,
        tally=tally,
        workers=workers,
    )
    return delivery.finish()


def start_delivery(
    store: Store,
    config: Config,
    make_backend: BackendFactory,
    edition_id: int,
    *,
    clock: Clock = utcnow,
    progress: Progress | None = None,
    tally: Tally | None = None,
    workers: SendWorkers | None = None,
) -> Delivery:
    """:func:`deliver_edition` up to the point where the worker processes (if they take
    the edition) are sending: the caller may do other work before :meth:`Delivery.finish`."""
    probe = make_backend()
    idempotent = probe.idempotent
    probe.close()
    with store.session() as session:
        ledger.resolve_stale(
            session,
            edition_id,
            clock(),
            policy=config.general.in_doubt,
            idempotent=idempotent,
            lease=timedelta(seconds=config.general.claim_timeout),
        )
        total = ledger.counts(session, edition_id)
    if progress is not None:
        progress.start(total.recipients, done=total.sent + total.failed)
    delivery = Delivery(store, edition_id, clock, progress, tally if tally is not None else Tally())
    # One batch alone first: a refused key or a broken body fails once, not per worker.
    delivery.add(
        *send_pending(
            store,
            config,
            make_backend,
            edition_id,
            threads=1,
            limit=1,
            clock=clock,
            progress=progress,
        )
    )
    batches = -(-total.pending // max(1, config.general.batch_size))
    if delivery.errors:
        return delivery
    if workers and isinstance(make_backend, BackendSpec) and workers.worth(batches):
        delivery.settled = total.sent + total.failed
        delivery.running = (workers, workers.start(edition_id, make_backend))
    else:
        threads = max(1, config.general.concurrency)
        delivery.add(
            *send_pending(
                store,
                config,
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
    running: tuple[SendWorkers, Running] | None = None
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
        with self.store.session() as session:
            result = ledger.counts(session, self.edition_id)
            if result.pending == 0:
                edition = session.get_one(Edition, self.edition_id)
                edition.status = EditionStatus.sent
                edition.sent_at = edition.sent_at or self.clock()
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


def send_pending(
    store: Store,
    config: Config,
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
    until none is left (or ``limit`` batches, or ``stop()`` says so, or one failed).
    Returns the recipients accepted and the errors that stopped a thread."""
    with store.session() as session:
        outgoing = outgoing_for(config, session.get_one(Edition, edition_id))
    tally = Tally()
    sender = _Sender(store, outgoing, Links(config, signer(store)), clock, progress, tally)
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
            claimed = self._step(worker, None, go_on=True)
            while claimed is not None:
                number, rows, outgoing = claimed
                finished = self._attempt(backend, number, rows, outgoing)
                done += 1
                error = finished.error
                stop = error is not None and not error.permanent
                go_on = not stop and not self.errors and (limit is None or done < limit)
                go_on = go_on and not self.stop()
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
