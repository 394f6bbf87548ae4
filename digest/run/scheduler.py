"""``digest schedule``'s loop: the due pass of a cron ``digest run``
(:func:`~digest.run.job.due_job`) each time a segment's slot or an approval deadline comes,
and at least once a minute, until the process is asked to stop.

Each pass decides what is due exactly as a cron job does and keys each edition by its slot,
so a scheduler and a cron job on one store still send once per slot. On SIGTERM or Ctrl-C
(:mod:`digest.deliver.shutdown`) the pass in hand finishes the batch it is sending, starts
no other segment, and the loop ends.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from digest.clock import Clock, utcnow
from digest.config import Config
from digest.deliver import ledger, shutdown
from digest.errors import DigestError
from digest.run.due import due_segments
from digest.run.job import JobResult, JobWatcher, due_job
from digest.run.sending import unfinished_editions
from digest.run.waves import next_release
from digest.store.database import Store
from digest.store.models import HeldEdition, HoldStatus
from subscribers.errors import AudienceError

LONGEST_SLEEP = timedelta(minutes=1)  # also catches what other processes changed
SHORTEST_SLEEP = 1.0  # seconds: a wake a little early never spins


def run_schedule(
    store: Store,
    config: Config,
    backend: str,
    watcher: JobWatcher,
    told: Callable[[JobResult], None],
    failed: Callable[[str], None],
    clock: Clock | None = None,
) -> None:
    """Due passes until a stop is requested; ``told`` hears what each pass did, ``failed``
    why a pass stopped short (the next pass tries again)."""
    clock = clock or utcnow
    while not shutdown.requested():
        try:
            told(due_job(store, config, backend, watcher, now=clock()))
        except (DigestError, AudienceError) as e:  # the scheduler keeps going
            failed(str(e))
        if shutdown.requested():
            break
        now = clock()
        pause = (next_wake(store, config, now) - now).total_seconds()
        shutdown.wait(max(pause, SHORTEST_SLEEP))


def next_wake(store: Store, config: Config, now: datetime) -> datetime:
    """The first of: any segment's next slot, any held edition's approval deadline, the
    next wave of a local-time edition, and a minute from ``now``."""
    wakes = [now + LONGEST_SLEEP]
    wave = next_release(store, now)
    if wave is not None:
        wakes.append(wave)
    wakes += [d.next_at for d in due_segments(store, config, now) if d.next_at is not None]
    with store.session() as session:
        deadlines = session.scalars(
            select(HeldEdition.deadline_at).where(
                HeldEdition.status == HoldStatus.waiting, HeldEdition.deadline_at.is_not(None)
            )
        )
        wakes += [d for d in deadlines if d is not None and d > now]
    return min(wakes)


def left_pending(store: Store) -> str:
    """What a stop left for the next run, in words: each unfinished edition's pending
    recipients; "" when nothing is left."""
    with store.session() as session:
        left = [
            (edition_id, ledger.counts(session, edition_id).pending)
            for edition_id in unfinished_editions(store)
        ]
    return ", ".join(f"edition {e}: {pending} recipients" for e, pending in left if pending)
