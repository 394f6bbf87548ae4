"""The interface every kind of source implements, and what it hands back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from digest.intake.entries import Entry
from digest.intake.fetch import Fetched, Fetcher, FetchError
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


def fetch_document(
    settings: SourceSettings, state: SourceState, context: HarvestContext
) -> tuple[Fetched, Harvest]:
    """The source's one document (by URL, conditionally, or by path) and a Harvest noting
    its validators, a permanent move, a 304 or a 410. A file unchanged since the last
    visit counts as a 304."""
    try:
        if settings.url:
            fetched = context.fetcher.get(
                state.location,
                etag=state.etag,
                last_modified=state.last_modified,
                allow_private=settings.allow_private,
            )
        else:
            fetched = _unless_unchanged(context.fetcher.read(Path(state.location)), state)
    except FetchError as e:
        raise SourceProblem(str(e)) from e
    harvest = Harvest(
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        moved_to=fetched.moved_to,
        gone=fetched.gone,
        not_modified=fetched.not_modified,
    )
    return fetched, harvest


def _unless_unchanged(fetched: Fetched, state: SourceState) -> Fetched:
    """A file's answer as a server's to a conditional request: its content hash is its
    validator, and the same content as at the last visit is "not modified"."""
    validator = "sha256:" + hashlib.sha256(fetched.body).hexdigest()
    if validator == state.etag:
        return Fetched(b"", etag=validator, final_url=fetched.final_url, not_modified=True)
    return replace(fetched, etag=validator)
