"""The kinds of source Digest reads, each behind the same small interface."""

from __future__ import annotations

from digest.intake.sources.base import SourceKind
from digest.intake.sources.feed import FeedSource
from digest.intake.sources.folder import FolderSource
from digest.intake.sources.page import PageSource
from digest.intake.sources.wordpress import WordPressSource

KINDS: dict[str, SourceKind] = {
    "feed": FeedSource(),
    "wordpress": WordPressSource(),
    "folder": FolderSource(),
    "page": PageSource(),
}
