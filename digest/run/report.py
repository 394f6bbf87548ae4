"""What a run says about each segment: one row of the results table."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from digest.compose.edition import Draft
from digest.render.email import Rendered


@dataclass(frozen=True)
class SegmentReport:
    segment: str
    items: int = 0
    recipients: int = 0
    written: int = 0
    preview: Path | None = None
    note: str = ""
    failed: bool = False
    backend: str = ""  # the backend this run delivered the edition through, if it did
    edition: int = 0  # the edition this run sent or resumed, if it did

    @property
    def delivered(self) -> str:
        return delivered_word(self.backend)


def delivered_word(backend: str) -> str:
    """What a backend does with a message: "written" to the outbox, or "sent"."""
    return "written" if backend == "outbox" else "sent"


Finisher = Callable[[], SegmentReport]
"""Waits for a segment's sending to end and reports it (worker processes may still be
sending it while the run records the next segment's edition)."""


def already(report: SegmentReport) -> Finisher:
    """A finisher with nothing left to wait for."""
    return lambda: report


def nothing_to_send(draft: Draft, zone: ZoneInfo) -> str:
    """Why a run records nothing of ``draft``: no new articles, or fewer than the segment's
    ``min_items`` (they stay new for the next run); "" when it has enough to send."""
    if not draft.items:
        since = draft.since.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if draft.since else ""
        return f"no new articles since {since or 'the start'}"
    if len(draft.items) < draft.segment.min_items:
        return f"only {len(draft.items)} new items; waiting for {draft.segment.min_items}"
    return ""


def left_out_note(renders: Iterable[Rendered]) -> str:
    """Which items ``renders`` (an edition's, and its variants') left out to stay under
    Gmail's clip; "" when none did."""
    left = {item.article_id: item.title for rendered in renders for item in rendered.left_out}
    if not left:
        return ""
    named = "; ".join(f"#{article} {title!r}" for article, title in left.items())
    count = f"{len(left)} item{'s' if len(left) > 1 else ''}"
    return f"left out {count} to stay under Gmail's clip (max_html_bytes): {named}"
