"""`digest worker`: a long-running sender of every edition being sent, on any machine.

Any number of workers, on any number of hosts, share one store. Each runs ``[digest]
concurrency`` threads; a thread takes the oldest edition with a ready batch (pending, and
released: ``release_at`` empty or past), sends its batches with the engine every send uses
(:func:`~digest.deliver.batches.send_pending`, through the backend the edition was
recorded with) until none is ready, and moves on to the next edition. Whoever sends an
edition's last batch marks it sent. Between rounds, and every :data:`STALE_SECONDS`
meanwhile, the worker resolves the claims of workers that died holding a batch
(:func:`~digest.deliver.stale.resolve_stale`: on this host a dead process's claim at once,
another host's after ``claim_timeout``), by the in-doubt policy.

With nothing ready it sleeps: on PostgreSQL until a NOTIFY (:mod:`digest.deliver.notify`),
the next wave's release time or :data:`POLL_SECONDS`; on SQLite it polls every
:data:`SQLITE_POLL_SECONDS`. Asked to stop (SIGTERM, Ctrl-C), each thread finishes and
records the batch in hand, and :meth:`Worker.run` returns. The ledger is the only record:
a batch is claimed there (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two workers never
send the same one, except a batch a dead worker left in doubt.

The run's own worker processes, which share one run's large editions, are
:mod:`digest.deliver.workers`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from digest.clock import Clock, utcnow
from digest.deliver import ledger, shutdown
from digest.deliver.backends import make_backend
from digest.deliver.batches import send_pending
from digest.deliver.notify import CHANNEL, Listener, listens
from digest.deliver.send import finish_edition
from digest.deliver.settings import DeliverySettings
from digest.deliver.workers import BackendSpec
from digest.errors import DigestError
from digest.store.database import Store
from digest.store.models import Batch, BatchStatus, Edition, EditionStatus

POLL_SECONDS = 60.0  # PostgreSQL: the longest sleep without a NOTIFY (one may be missed)
SQLITE_POLL_SECONDS = 2.0  # SQLite has no NOTIFY: look this often
STALE_SECONDS = 10.0  # how often claims of dead workers are looked for
PAUSE_SECONDS = 30.0  # a thread whose backend or store failed waits this long

Say = Callable[[str], None]
"""Prints one line for the operator (the command adds the time)."""


@dataclass
class Ready:
    """An edition a thread may send: its id, segment and the backend it was recorded with."""

    edition: int
    segment: str
    backend: str


def ready_editions(store: Store, now: datetime) -> list[Ready]:
    """Editions being sent that have a batch ready to claim, oldest first."""
    with store.session() as session:
        rows = session.execute(
            select(Edition.id, Edition.segment, Edition.backend)
            .where(
                Edition.status == EditionStatus.sending,
                select(Batch.id)
                .where(
                    Batch.edition_id == Edition.id,
                    Batch.status == BatchStatus.pending,
                    ledger.released(Batch.release_at, now),
                )
                .exists(),
            )
            .order_by(Edition.id)
        ).all()
    return [Ready(int(i), str(s), str(b)) for i, s, b in rows]


def next_release(store: Store, now: datetime) -> datetime | None:
    """When the next wave after ``now`` of an edition still being sent is due; None when
    no wave waits."""
    with store.session() as session:
        found: datetime | None = session.scalar(
            select(func.min(Batch.release_at))
            .join(Edition, Edition.id == Batch.edition_id)
            .where(
                Edition.status == EditionStatus.sending,
                Batch.status == BatchStatus.pending,
                Batch.release_at > now,
            )
        )
    return found


def sending_editions(store: Store) -> list[Ready]:
    """Editions still marked sending, oldest first: some may have a stale claim, or be
    finished by a sender that stopped before marking them."""
    with store.session() as session:
        rows = session.execute(
            select(Edition.id, Edition.segment, Edition.backend)
            .where(Edition.status == EditionStatus.sending)
            .order_by(Edition.id)
        ).all()
    return [Ready(int(i), str(s), str(b)) for i, s, b in rows]


@dataclass
class Share:
    """What this worker did for one edition, and how much of it it has told."""

    segment: str
    accepted: int = 0
    told: int = 0


@dataclass
class Worker:
    """One `digest worker` process: its threads, its tally, its wake-ups."""

    store: Store
    settings: DeliverySettings
    say: Say
    clock: Clock = utcnow
    threads: int = 0  # 0: [digest] concurrency
    shares: dict[int, Share] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _tidied: float = float("-inf")  # time.monotonic() of the last look for stale claims
    _idempotent: dict[str, bool] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        with self._lock:
            return sum(share.accepted for share in self.shares.values())

    def run(self) -> None:
        """Send until asked to stop (:mod:`digest.deliver.shutdown`)."""
        threads = self.threads or max(1, self.settings.concurrency)
        waking = listens(self.store.engine)
        how = (
            f"woken by PostgreSQL NOTIFY on {CHANNEL} (or every {POLL_SECONDS:g} s)"
            if waking
            else f"polling every {SQLITE_POLL_SECONDS:g} s (SQLite has no LISTEN/NOTIFY)"
        )
        self.say(
            f"worker {ledger.HOST}:{os.getpid()} started: {threads} batch"
            f"{'' if threads == 1 else 'es'} in flight, {how}"
        )
        listener = Listener(self.store.engine) if waking else None
        with listener or nullcontext():
            while not shutdown.requested():
                try:
                    self._tidy(force=True)
                    if ready_editions(self.store, self.clock()):
                        self._round(threads)
                        continue
                    self._sleep(listener)
                except (DigestError, SQLAlchemyError) as e:  # the store or a backend
                    self.say(f"{_first_line(e)}; trying again in {PAUSE_SECONDS:g} s")
                    shutdown.wait(PAUSE_SECONDS)
        self.say(f"stopped; this worker handed over {self.accepted} recipients")

    def _round(self, threads: int) -> None:
        """Every thread sends ready batches of any edition until none is ready."""
        if threads == 1:
            self._work()
        else:
            pool = [
                threading.Thread(target=self._work, name=f"digest-worker-{n}")
                for n in range(threads)
            ]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
        if shutdown.requested():
            self.say("asked to stop: the batches in hand were finished and recorded")
        self._tell()

    def _work(self) -> None:
        """One thread: the oldest edition with a ready batch, its batches, the next one."""
        while not shutdown.requested():
            try:
                self._tidy()
                ready = ready_editions(self.store, self.clock())
                if not ready:
                    return
                self._send(ready[0])
            except (DigestError, SQLAlchemyError) as e:
                self.say(f"{_first_line(e)}; this thread tries again in {PAUSE_SECONDS:g} s")
                shutdown.wait(PAUSE_SECONDS)

    def _send(self, edition: Ready) -> None:
        chosen = self.settings.using(edition.backend)
        accepted, errors = send_pending(
            self.store, chosen, BackendSpec(chosen), edition.edition, threads=1, clock=self.clock
        )
        with self._lock:
            share = self.shares.setdefault(edition.edition, Share(edition.segment))
            share.accepted += accepted
        finish_edition(self.store, edition.edition, self.clock)
        if errors:
            self.say(
                f"edition {edition.edition} {edition.segment}: {errors[0]}; the batch is "
                f"pending again, this thread tries again in {PAUSE_SECONDS:g} s"
            )
            shutdown.wait(PAUSE_SECONDS)

    def _tell(self) -> None:
        """After a round: a line per edition this worker sent some of since it last said,
        with the edition's state (whoever sent its last batch marked it sent)."""
        with self._lock:
            untold = [(n, s) for n, s in self.shares.items() if s.accepted > s.told]
            for _, share in untold:
                share.told = share.accepted
        for number, share in untold:
            with self.store.session() as session:
                counts = ledger.counts(session, number)
            if counts.pending:
                where = (
                    "left for the next worker"
                    if shutdown.requested()
                    else "in other workers' hands or waiting for their wave"
                )
                self.say(
                    f"edition {number} {share.segment}: this worker handed over "
                    f"{share.accepted} so far; {counts.pending} recipients pending, {where}"
                )
            else:
                self.say(
                    f"edition {number} {share.segment} sent: {counts.recipients} recipients, "
                    f"{counts.sent} sent, {counts.failed} failed, {counts.in_doubt} batches in "
                    f"doubt; this worker handed over {share.accepted}"
                )

    def _tidy(self, *, force: bool = False) -> None:
        """Resolve stale claims and mark finished editions sent, at most every
        :data:`STALE_SECONDS` (``force``: now), by one thread at a time."""
        with self._lock:
            due = force or time.monotonic() - self._tidied >= STALE_SECONDS
            if not due:
                return
            self._tidied = time.monotonic()
        for edition in sending_editions(self.store):
            with self.store.session() as session:
                doubtful = ledger.resolve_stale(
                    session,
                    edition.edition,
                    self.clock(),
                    policy=self.settings.in_doubt,
                    idempotent=self._backend_idempotent(edition.backend),
                    lease=timedelta(seconds=self.settings.claim_timeout),
                )
            if doubtful:
                self.say(
                    f"edition {edition.edition} {edition.segment}: {doubtful} batch"
                    f"{'' if doubtful == 1 else 'es'} of a worker that stopped mid-send "
                    f"in doubt; by [digest] in_doubt = {self.settings.in_doubt!r}, "
                    + ("taken as sent" if self.settings.in_doubt == "skip" else "sent again")
                )
            finish_edition(self.store, edition.edition, self.clock)

    def _backend_idempotent(self, name: str) -> bool:
        """Whether a retry through backend ``name`` cannot duplicate (the outbox)."""
        name = name or self.settings.backend
        with self._lock:
            known = self._idempotent.get(name)
        if known is None:
            probe = make_backend(self.settings, name)
            known = probe.idempotent
            probe.close()
            with self._lock:
                self._idempotent[name] = known
        return known

    def _sleep(self, listener: Listener | None) -> None:
        """Until a NOTIFY, the next release, the poll interval or a stop request; at most
        :data:`STALE_SECONDS` while another worker holds a batch (it may die)."""
        now = self.clock()
        seconds = POLL_SECONDS if listener is not None else SQLITE_POLL_SECONDS
        release = next_release(self.store, now)
        if release is not None:
            seconds = min(seconds, max(0.0, (release - now).total_seconds()))
        if self._claimed_elsewhere():
            seconds = min(seconds, STALE_SECONDS)
        if listener is None:
            shutdown.wait(seconds)
        else:
            listener.wait(seconds, shutdown.requested)

    def _claimed_elsewhere(self) -> bool:
        with self.store.session() as session:
            held = session.scalar(
                select(func.count())
                .select_from(Batch)
                .join(Edition, Edition.id == Batch.edition_id)
                .where(Edition.status == EditionStatus.sending, Batch.status == BatchStatus.sending)
            )
        return bool(held)


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
