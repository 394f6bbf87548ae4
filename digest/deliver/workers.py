"""Worker processes for large sends.

Building a batch's request (a thousand tokens and personalizations) is Python work, and a
process's threads take turns on one interpreter lock. With ``[digest] processes`` above 1,
a run starts that many worker processes once, the first time an edition is large enough
to share, and every such edition of the run is sent by them together: each process
claims batches from the ledger, sends them with its own backend and connections
(``concurrency`` in flight across all processes), and records them, exactly as several
``digest send`` processes would. A worker whose parent has died (``kill -9``) finishes the
batch in hand and claims no more; whatever it leaves is in the ledger for `digest resume`.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier as SyncBarrier

from digest.deliver.backends import make_backend
from digest.deliver.batches import send_pending
from digest.deliver.protocol import Backend
from digest.deliver.settings import DeliverySettings
from digest.errors import DeliveryError
from digest.store.database import Store, make_engine

# A DeliveryError as it crosses from a worker process: (message, permanent, doubtful).
PickledError = tuple[str, bool, bool]
# What a worker did with its share of an edition: its pid, recipients accepted, errors.
ShareDone = tuple[int, int, list[PickledError]]
WorkerShares = list["Future[ShareDone]"]  # an edition's share in each worker, being sent
PR_SET_PDEATHSIG = 1  # prctl(2)
STARTUP_SECONDS = 60.0  # how long a worker waits for the others to start


@dataclass(frozen=True)
class BackendSpec:
    """A backend factory that can travel to another process: the delivery settings."""

    settings: DeliverySettings

    def __call__(self) -> Backend:
        return make_backend(self.settings)


class SendWorkers:
    """A run's worker processes, started on first use; a context manager."""

    def __init__(self, database_url: str, processes: int, threads: int) -> None:
        self.database_url = database_url
        self.processes = processes
        self.threads = max(1, threads // processes) if processes else 1
        self._pool: ProcessPoolExecutor | None = None
        self.pids: set[int] = set()  # the worker processes that have taken part

    def take(self, pending_batches: int) -> bool:
        """Whether the workers take an edition with so many batches left (a small one is
        sent sooner by this process alone)."""
        return self.processes > 1 and pending_batches >= 4 * self.processes

    def start(self, edition_id: int, spec: BackendSpec) -> WorkerShares:
        """Set every worker sending the edition's pending batches."""
        pool = self._start()
        return [pool.submit(_work, spec, edition_id, self.threads) for _ in range(self.processes)]

    def collect(
        self, running: WorkerShares, poll: Callable[[], None]
    ) -> tuple[int, list[DeliveryError]]:
        """Wait for the workers to finish an edition, calling ``poll`` about twice a
        second meanwhile. Returns the recipients they handed over, and their errors."""
        while wait(running, timeout=0.5, return_when=FIRST_EXCEPTION).not_done:
            poll()
        poll()
        accepted, errors = 0, []
        for future in running:
            pid, count, problems = future.result()
            self.pids.add(pid)
            accepted += count
            errors += [DeliveryError(m, permanent=p, doubtful=d) for m, p, d in problems]
        return accepted, errors

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=context,
                initializer=_open,
                initargs=(self.database_url, os.getpid(), context.Barrier(self.processes)),
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> SendWorkers:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


_store: Store | None = None
_parent = 0


def _open(database_url: str, parent: int, ready: SyncBarrier) -> None:
    """Initialise a worker. The workers wait for each other, so that each takes one share
    of the first edition: one that started early would otherwise take every share of a
    small edition in turn while the others were still starting."""
    global _store, _parent
    _die_with_parent(parent)
    _store, _parent = Store(make_engine(database_url)), parent
    with contextlib.suppress(threading.BrokenBarrierError):  # one is late: go on without it
        ready.wait(timeout=STARTUP_SECONDS)


def _die_with_parent(parent: int) -> None:
    """On Linux, have the kernel kill this worker when its parent dies, as a ``kill -9``
    of a single sending process would have killed its threads: the worker's claims are
    then stale, and the next run resolves them by the in-doubt policy. A parent that died
    while this worker was starting, before the request, is noticed here and the worker
    leaves at once; it would otherwise wait for work forever. Elsewhere, a worker whose
    parent died stops claiming batches (:func:`_orphaned`)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(0)


def _orphaned() -> bool:
    return os.getppid() != _parent


def _work(spec: BackendSpec, edition_id: int, threads: int) -> ShareDone:
    assert _store is not None, "worker process not initialised"
    if _orphaned():  # the parent died before this worker could ask to die with it
        return os.getpid(), 0, []
    accepted, errors = send_pending(
        _store, spec.settings, spec, edition_id, threads=threads, stop=_orphaned
    )
    return os.getpid(), accepted, [(str(e), e.permanent, e.doubtful) for e in errors]
