"""The main job, top to bottom: merge the subscribers file, ingest every source, then for
each segment compose, render, record and send (:mod:`digest.run.segments`).

``digest run``, ``digest send`` and the scheduler all come through :func:`main_job`; what
it finds on the way it tells a :class:`JobWatcher` (the command line prints it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from digest.clock import utcnow
from digest.config import Config
from digest.intake.ingest import SourceReport, ingest_all
from digest.run.report import SegmentReport
from digest.run.segments import run_segments
from digest.run.subscribers_file import AudienceReport, merge_subscribers_file
from digest.store.database import Store


class JobWatcher(Protocol):
    def merged(self, report: AudienceReport) -> None:
        """The subscribers file was merged (or could not be: ``report.error``)."""

    def ingested(self, reports: Sequence[SourceReport]) -> None:
        """Every source was visited, one report each."""


@dataclass
class JobResult:
    audience: AudienceReport | None = None
    sources: list[SourceReport] = field(default_factory=list)
    segments: list[SegmentReport] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Something failed (the rest was done and stored): the command exits 1."""
        return (
            bool(self.audience and self.audience.error)
            or any(s.error for s in self.sources)
            or any(s.failed for s in self.segments)
        )


def main_job(
    store: Store,
    config: Config,
    backend: str,
    segments: Sequence[str],
    watcher: JobWatcher,
    *,
    ingest: bool = True,
    slot: str = "",
    now: datetime | None = None,
) -> JobResult:
    """Merge subscribers → ingest → each segment; one failing step never stops the next."""
    now = now or utcnow()
    result = JobResult()
    result.audience = merge_subscribers_file(store, config, now)
    if result.audience is not None:
        watcher.merged(result.audience)
    if ingest:
        result.sources = ingest_all(store, config, now)
        watcher.ingested(result.sources)
    result.segments = run_segments(store, config, backend, segments, now=now, slot=slot)
    return result
