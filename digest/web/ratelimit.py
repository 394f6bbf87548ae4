"""Token buckets in memory: each key may spend ``limit`` requests, refilled over ``window``.

One process keeps its own buckets (a restart forgives everyone); that is enough to
stop a script from using the sign-up form to mail-bomb an address or flood the store.
The table is bounded: past ``max_keys`` keys, the ones that have refilled are dropped,
then the least recently used.

The keys are what one client or one mailbox can vary least: :func:`client_key` puts an
IPv6 client's whole /64 (what one subscriber line gets) in one bucket, and
:func:`mailbox_key` the spellings that reach one inbox (``Bomb+1@``, ``b.o.m.b@``,
full-width ``ｂｏｍｂ@``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable

MAX_KEYS = 100_000
IPV6_PREFIX = 64


def client_key(host: str) -> str:
    """The bucket of a client address: an IPv4 address, or the /64 of an IPv6 one."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host  # not an address (no client known): one bucket per spelling
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


def mailbox_key(address: str) -> str:
    """The bucket of an address: NFKC, case-folded, ``+suffix`` and dots of the local part
    dropped, hashed. Only for counting: the address stored and mailed is the one given."""
    text = unicodedata.normalize("NFKC", address).casefold().strip()
    local, _, domain = text.rpartition("@")
    mailbox = local.partition("+")[0].replace(".", "") + "@" + domain.rstrip(".")
    return hashlib.sha256(mailbox.encode("utf-8", "surrogatepass")).hexdigest()


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

    def refund(self, key: str) -> None:
        """Give back the token a request spent (a sign-in that succeeded counts for nothing)."""
        with self._lock:
            found = self._buckets.get(key)
            if found is not None:
                tokens, then = found
                self._buckets[key] = (min(float(self.limit), tokens + 1.0), then)

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
