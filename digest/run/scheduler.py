"""``digest schedule``: APScheduler runs the due pass of a cron ``digest run``
(:func:`~digest.run.job.due_job`) whenever a segment's slot, an approval deadline or a
local-time wave comes, and at least once a minute, until the process is asked to stop.

Each pass decides what is due exactly as a cron job does and keys each edition by its slot,
so a scheduler and a cron job on one store still send once per slot. The pass's firing
times come from the slot arithmetic (:func:`next_wake`), not from a cron trigger per
segment: a slot is due at its earliest zone's time, which no single trigger knows, and a
time the clocks skip or repeat then fires once. On SIGTERM or Ctrl-C
(:mod:`digest.deliver.shutdown`) the pass in hand finishes the batch it is sending and
starts no other segment; the scheduler waits for it and stops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import select

from digest.clock import utcnow
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


def run_schedule(
    store: Store,
    config: Config,
    backend: str,
    watcher: JobWatcher,
    told: Callable[[JobResult], None],
    failed: Callable[[str], None],
) -> None:
    """Due passes until a stop is requested; ``told`` hears what each pass did, ``failed``
    why a pass stopped short (the next pass tries again)."""

    def due_pass() -> None:
        try:
            told(due_job(store, config, backend, watcher, now=utcnow()))
        except (DigestError, AudienceError) as e:  # the scheduler keeps going
            failed(str(e))

    # A pass that outlasts its next firing is not a fault: that firing folds into the next.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        due_pass,
        DueTrigger(store, config),
        id="due",
        name="due pass",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    scheduler.start()
    try:
        while not shutdown.wait(3600):
            pass
    finally:
        scheduler.shutdown(wait=True)  # the pass in hand ends after its batch


class DueTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler has no type hints
    """Fires at once, then at each :func:`next_wake`."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is None:
            return now
        return next_wake(self.store, self.config, max(now, previous_fire_time))

    def __str__(self) -> str:
        return "at each slot, deadline and wave, and each minute"


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
