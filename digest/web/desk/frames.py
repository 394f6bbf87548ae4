"""The email a segment's page was just composed with, kept for the page's preview frame.

A segment's page composes the next edition once, for the page and for the email its frame
shows. The browser asks for the frame a moment later, in a request of its own; composing
again would double the time an editor waits after each change, and could show another
draft than the page around it (the one its Approve button names). So the page leaves its
email here, and the frame's request takes it: once, within :data:`SECONDS`, from the same
session, for the same segment and reader group. Every other request for the email (a
reload of the frame alone, a new tab, a later visit) composes afresh, and any change made
from the desk drops every email left, so none outlives an action.
"""

from __future__ import annotations

from dataclasses import dataclass

SECONDS = 10.0  # a frame asks within moments of its page; after this it composes afresh
KEPT = 64  # emails left at most (one per session, segment and group being looked at)

Key = tuple[str, str, str]  # (the session's CSRF token, segment, reader group)


@dataclass(frozen=True)
class Left:
    html: str
    at: float  # seconds since the epoch, on the app's clock


class Frames:
    def __init__(self, seconds: float = SECONDS, kept: int = KEPT) -> None:
        self.seconds = seconds
        self.kept = kept
        self._left: dict[Key, Left] = {}

    def leave(self, key: Key, html: str, now: float) -> None:
        """The email of the page just composed for ``key``, for its frame to take."""
        self._left.pop(key, None)
        self._left[key] = Left(html, now)
        while len(self._left) > self.kept:
            del self._left[next(iter(self._left))]  # the oldest

    def take(self, key: Key, now: float) -> str | None:
        """The email left for ``key`` if it is fresh, once; None: compose it."""
        left = self._left.pop(key, None)
        if left is None or not 0 <= now - left.at <= self.seconds:
            return None
        return left.html

    def clear(self) -> None:
        """Drop every email left (something changed from the desk)."""
        self._left.clear()
