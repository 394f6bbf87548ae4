"""The interface every kind of source implements, and what it hands back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from digest.intake.entries import Entry
from digest.intake.fetch import Fetcher
from digest.settings import SourceSettings


@dataclass(frozen=True)
class SourceState:
    """What the store remembers of a source between runs."""

    location: str  # its URL (updated after a permanent redirect) or its resolved path
    etag: str = ""
    last_modified: str = ""
    cursor: str = ""  # where an incremental source resumes, e.g. WordPress modified_after


@dataclass(frozen=True)
class HarvestContext:
    fetcher: Fetcher
    base_dir: Path
    now: datetime


@dataclass
class Harvest:
    """One visit to a source: its entries, and what to remember for the next visit."""

    entries: list[Entry] = field(default_factory=list)
    title: str = ""
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False
    moved_to: str = ""  # a permanent redirect: the stored URL becomes this one
    gone: bool = False  # 410 Gone: the source is retired
    cursor: str = ""
    problems: list[str] = field(default_factory=list)  # one line per skipped item


class SourceKind(Protocol):
    def harvest(
        self, settings: SourceSettings, state: SourceState, context: HarvestContext
    ) -> Harvest:
        """Fetch and parse the source; raise SourceProblem when nothing could be had."""
        ...


class SourceProblem(Exception):
    """The whole source failed this time; the message says why and what to check."""
