"""The time, as every part of Digest reads it: a clock a test can replace."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current time, aware of its zone (UTC)."""


def utcnow() -> datetime:
    return datetime.now(UTC)
