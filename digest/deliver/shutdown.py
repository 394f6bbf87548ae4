"""A process's request to stop sending, made by SIGTERM or Ctrl-C.

`digest schedule` and `digest worker` install :func:`on_signals`; when a signal comes,
each sending thread finishes and records the batch in hand and claims no other, and the
command exits 0. What is left is pending in the ledger, for the next run or worker.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

_requested = threading.Event()

SIGNALS = (signal.SIGTERM, signal.SIGINT)


def request() -> None:
    """Ask every sender of this process to stop after the batch in hand."""
    _requested.set()


def requested() -> bool:
    return _requested.is_set()


def wait(seconds: float) -> bool:
    """Sleep up to ``seconds``, waking early when a stop is requested; True if it was."""
    return _requested.wait(seconds)


def reset() -> None:
    """Forget a stop request (a test that asked for one, or a command run again in-process)."""
    _requested.clear()


@contextmanager
def on_signals(then: Callable[[], None] | None = None) -> Iterator[None]:
    """While inside, SIGTERM and SIGINT request a stop (and call ``then``, say to wake a
    scheduler) instead of killing the process; the previous handlers come back after.
    Only the main thread may install handlers: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        request()
        if then is not None:
            then()

    previous = {signum: signal.signal(signum, handle) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
