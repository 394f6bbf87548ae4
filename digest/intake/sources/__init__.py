"""The kinds of source Digest reads, each behind the same small interface."""

from __future__ import annotations

from digest.intake.sources.base import SourceKind
from digest.intake.sources.feed import FeedSource

KINDS: dict[str, SourceKind] = {
    "feed": FeedSource(),
}
