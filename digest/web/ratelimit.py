"""Token buckets in memory: each key may spend ``limit`` requests, refilled over ``window``.

One process keeps its own buckets (a restart forgives everyone); that is enough to
stop a script from using the sign-up form to mail-bomb an address or flood the store.
The table is bounded: past ``max_keys`` keys, the ones that have refilled are dropped,
then the least recently used.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_KEYS = 100_000


class RateLimiter:
    def __init__(
        self,
        limit: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.limit = max(1, limit)
        self.rate = self.limit / max(window, 1e-9)  # tokens per second
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """Spend one token of ``key``: 0 if allowed, else the seconds to wait (at least 1)."""
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.pop(key, (float(self.limit), now))
            tokens = min(float(self.limit), tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                self._trim(now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.rate))

    def __len__(self) -> int:
        return len(self._buckets)

    def _trim(self, now: float) -> None:
        if len(self._buckets) <= self.max_keys:
            return
        full = [
            k
            for k, (tokens, then) in self._buckets.items()
            if tokens + (now - then) * self.rate >= self.limit
        ]
        for key in full:
            del self._buckets[key]
        target = self.max_keys * 9 // 10  # room to grow before the next scan
        while len(self._buckets) > target:
            self._buckets.popitem(last=False)
