"""What `digest serve` does by itself: purge sign-ups that were never confirmed.

A sign-up through the form that nobody confirms is deleted ``[web] unconfirmed_days``
after its last request (0 keeps them). The purge runs when the server starts and then
every hour, in a worker thread, never on a request's path. A paused reader and a row
imported as pending are never touched (see :func:`subscribers.consent.purge_unconfirmed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from digest.web.state import AppState
from subscribers.consent import purge_unconfirmed

PURGE_EVERY = 3600.0  # seconds between two purges
BATCH = 1000  # rows deleted per transaction
log = logging.getLogger("digest.web")


def purge_once(web: AppState) -> int:
    """Delete the expired unconfirmed sign-ups now; how many were deleted."""
    days = web.config.web.unconfirmed_days
    if days <= 0:
        return 0
    cutoff = web.clock() - timedelta(days=days)
    total = 0
    while True:
        with web.store.session() as session:
            deleted = purge_unconfirmed(session, cutoff, BATCH)
        total += deleted
        if deleted < BATCH:
            break
    if total:
        log.info("deleted %d sign-ups not confirmed within %g days", total, days)
    return total


async def purge_forever(web: AppState) -> None:
    while True:
        try:
            await run_in_threadpool(purge_once, web)
        except SQLAlchemyError as e:
            log.error("purge of unconfirmed sign-ups failed, tried again in an hour: %s", e)
        await asyncio.sleep(PURGE_EVERY)


def lifespan(web: AppState) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """The app's lifespan: the purge runs in the background while the server does."""

    @contextlib.asynccontextmanager
    async def running(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(purge_forever(web))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return running
