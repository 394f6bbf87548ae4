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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlalchemy.orm import Session

from digest.config import Config
from digest.deliver import ledger
from digest.deliver.backend import Backend, BatchOutcome
from digest.deliver.message import Outgoing, Recipient
from digest.deliver.progress import Progress
from digest.errors import DeliveryError
from digest.render.email import Rendered
from digest.store.database import Store
from digest.store.models import Edition, EditionStatus
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
        rendered=Rendered(edition.subject, edition.preheader, edition.html, edition.text, ()),
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
) -> ledger.Counts:
    """Send every pending batch; the edition is marked sent when no recipient is pending.

    Raises DeliveryError (transient) when a worker had to stop: what it could not send
    stays pending for `digest resume`.
    """
    probe = make_backend()
    idempotent = probe.idempotent
    probe.close()
    with store.session() as session:
        edition = session.get_one(Edition, edition_id)
        outgoing = outgoing_for(config, edition)
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
    sender = _Sender(store, outgoing, Links(config, signer(store)), clock, progress, tally)
    # One batch alone first: a refused key or a broken body fails once, not per worker.
    sender.work(make_backend, limit=1)
    workers = max(1, config.general.concurrency)
    if not sender.errors:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="digest-send") as pool:
            for future in [pool.submit(sender.work, make_backend) for _ in range(workers)]:
                future.result()
    if progress is not None:
        progress.finish()
    with store.session() as session:
        result = ledger.counts(session, edition_id)
        if result.pending == 0:
            edition = session.get_one(Edition, edition_id)
            edition.status = EditionStatus.sent
            edition.sent_at = edition.sent_at or clock()
    if sender.errors:
        raise sender.errors[0]
    return result


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
                number, rows = claimed
                finished = self._attempt(backend, number, rows)
                done += 1
                error = finished.error
                stop = error is not None and not error.permanent
                go_on = not stop and not self.errors and (limit is None or done < limit)
                claimed = self._step(worker, finished, go_on=go_on)
                self._count(finished, len(rows))
                if stop and error is not None:
                    self._fail(error)
        finally:
            backend.close()

    def _step(
        self, worker: str, finished: Finished | None, *, go_on: bool
    ) -> tuple[int, list[ledger.Pending]] | None:
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
            return number, ledger.batch_rows(session, edition_id, number)

    def _attempt(self, backend: Backend, number: int, rows: list[ledger.Pending]) -> Finished:
        recipients = [self.links.recipient(row, self.outgoing.segment) for row in rows]
        if not recipients:
            return Finished(number, BatchOutcome())
        try:
            return Finished(number, backend.send_batch(self.outgoing, recipients, number))
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
        ledger.record_outcome(session, edition_id, finished.number, finished.outcome, now)
    elif finished.error is not None:
        e = finished.error
        ledger.release(
            session, edition_id, finished.number, str(e), permanent=e.permanent, doubtful=e.doubtful
        )
