"""Batches left ``sending`` by a worker that is gone: who claimed them, and what now.

A claim names its worker ``host:pid:thread``. On this host a claim whose process is
gone is stale at once; another host's claim is stale once older than the lease
(``[digest] claim_timeout``), since its process cannot be asked.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from digest.deliver.notify import notify
from digest.store.models import Batch, BatchStatus, Delivery, DeliveryStatus

HOST = socket.gethostname()


def worker_name() -> str:
    return f"{HOST}:{os.getpid()}:{threading.get_ident()}"


def _alive(worker: str, lease: timedelta, claimed_at: datetime | None, now: datetime) -> bool:
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    if host == HOST and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return claimed_at is not None and now - claimed_at < lease


def resolve_stale(
    session: Session,
    edition_id: int,
    now: datetime,
    *,
    policy: str,
    idempotent: bool,
    lease: timedelta,
) -> int:
    """Batches left ``sending`` by a dead worker: back to pending, or in doubt.

    For an idempotent backend (the outbox) a retry cannot duplicate, so the batch is
    simply pending again. Otherwise it is flagged in doubt and, by ``policy``, resent
    ("resend", the default: a duplicate beats a miss) or taken as sent ("skip").
    Returns how many batches were in doubt. The batches are locked while they are
    looked at: two workers resolving at once never both act on one, and one that read a
    claim just before another worker took the batch again never undoes that claim.
    """
    stale = [
        b
        for b in session.scalars(
            select(Batch)
            .where(Batch.edition_id == edition_id, Batch.status == BatchStatus.sending)
            .with_for_update(skip_locked=True)  # another worker resolving or recording them
        )
        if not _alive(b.claimed_by, lease, b.claimed_at, now)
    ]
    doubtful = 0
    for batch in stale:
        batch.claimed_by = ""
        if idempotent:
            batch.status = BatchStatus.pending
            continue
        doubtful += 1
        batch.in_doubt = True
        if policy == "skip":
            batch.status, batch.doubt_resolution, batch.sent_at = BatchStatus.sent, "skipped", now
            session.execute(
                update(Delivery)
                .where(
                    Delivery.edition_id == edition_id,
                    Delivery.batch == batch.number,
                    Delivery.status == DeliveryStatus.pending,
                )
                .values(status=DeliveryStatus.sent, message_id="in doubt", sent_at=now)
            )
        else:
            batch.status, batch.doubt_resolution = BatchStatus.pending, "resent"
    if any(batch.status == BatchStatus.pending for batch in stale):
        notify(session)
    return doubtful
