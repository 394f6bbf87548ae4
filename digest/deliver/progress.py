"""A progress bar for long sends in a terminal, silent when output is not a terminal.

A bar clears itself when its edition is sent: the run's table says what each one did,
and a finished bar left behind (an empty line when the terminal reports no width) would
only push the table down."""

from __future__ import annotations

import sys
import threading
from typing import Never, TextIO

from tqdm import tqdm


class Progress:
    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self._bar: tqdm[Never] | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.shown(self.stream)

    @staticmethod
    def shown(stream: TextIO | None = None) -> bool:
        """Whether progress bars show on ``stream`` (standard error by default)."""
        return (stream or sys.stderr).isatty()

    def start(self, total: int, done: int = 0) -> None:
        if self.enabled and total:
            self._bar = tqdm(
                total=total,
                initial=done,
                desc=self.label,
                unit=" recipients",
                file=self.stream,
                leave=False,
            )

    def advance(self, count: int) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.update(count)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.refresh()  # its last state, drawn however fast it got there
            self._bar.close()
            self._bar = None
