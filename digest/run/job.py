"""The main job, top to bottom: merge the subscribers file, ingest every source, then for
each segment compose, render, record and send (:mod:`digest.run.segments`).

``digest run``, ``digest send`` and the scheduler all come through :func:`main_job`; what
it finds on the way it tells a :class:`JobWatcher` (the command line prints it).
:func:`due_job` is what ``digest run`` from cron and each pass of ``digest schedule`` do:
continue unfinished editions, apply passed approval deadlines, then the main job for the
segments that are due (:mod:`digest.run.due`), and nothing more when none is.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from digest.clock import Clock, utcnow
from digest.config import Config
from digest.deliver import ledger, shutdown
from digest.errors import DigestError
from digest.intake.ingest import SourceReport, ingest_all
from digest.run.approval import apply_deadline
from digest.run.delivery import delivery_settings
from digest.run.due import MISSED, Due, due_segments, mark_handled
from digest.run.holding import APPROVAL_REQUIRED
from digest.run.report import SegmentReport
from digest.run.segments import STOPPING, run_segments
from digest.run.sending import resume_edition, unfinished_editions
from digest.run.subscribers_file import AudienceReport, merge_subscribers_file
from digest.run.waves import release_waves, zones_of
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
    schedules: list[Due] = field(default_factory=list)  # what was due, for a due job

    @property
    def failed(self) -> bool:
        """Something failed (the rest was done and stored): the command exits 1."""
        return (
            bool(self.audience and self.audience.error)
            or any(s.error for s in self.sources)
            or any(s.failed for s in self.segments)
        )

    @property
    def missed(self) -> list[Due]:
        return [d for d in self.schedules if d.state == MISSED]

    @property
    def idle(self) -> bool:
        """Nothing was due and nothing was done."""
        return not self.segments and not any(d.due for d in self.schedules)


def main_job(
    store: Store,
    config: Config,
    backend: str,
    segments: Sequence[str],
    watcher: JobWatcher,
    *,
    ingest: bool = True,
    slot: str = "",
    slots: Mapping[str, str] | None = None,
    now: datetime | None = None,
    clock: Clock = utcnow,
) -> JobResult:
    """Merge subscribers → ingest → each segment; one failing step never stops the next.
    ``slots`` gives some segments their own run key (else ``slot``, else the minute's)."""
    now = now or utcnow()
    result = JobResult()
    result.audience = merge_subscribers_file(store, config, now)
    if result.audience is not None:
        watcher.merged(result.audience)
    if ingest:
        result.sources = ingest_all(store, config, now)
        watcher.ingested(result.sources)
    result.segments = run_segments(
        store, config, backend, segments, now=now, slot=slot, slots=slots, clock=clock
    )
    return result


def due_job(
    store: Store,
    config: Config,
    backend: str,
    watcher: JobWatcher,
    *,
    now: datetime | None = None,
) -> JobResult:
    """What is due at ``now``: continue every unfinished edition (sending the waves of a
    local-time edition that have come; with ``send = "workers"`` the workers do), apply
    every approval deadline that has passed, then merge, ingest and run the due segments,
    each keyed by its slot; a missed slot is recorded as handled. With nothing due, nothing
    is fetched."""
    now = now or utcnow()
    started = time.monotonic()

    def clock() -> datetime:  # runs on from ``now`` as the job does
        return now + timedelta(seconds=time.monotonic() - started)

    result = JobResult()
    settings = delivery_settings(config)
    if settings.send != "workers":  # then `digest worker` continues them
        result.segments += release_waves(store, config, backend, now)
        for edition_id in unfinished_editions(store):
            if shutdown.requested():
                return result
            with store.session() as session:
                if ledger.in_waves(session, edition_id):
                    continue  # release_waves sends its waves as they come
            try:
                resumed = resume_edition(
                    store, settings, backend, edition_id, clock=clock, zones=zones_of(config)
                )
                result.segments.append(resumed)
            except DigestError as e:
                failed = SegmentReport(f"#{edition_id}", note=f"error: {e}", failed=True)
                result.segments.append(failed)
    for segment in config.segments.values():
        if segment.approval != APPROVAL_REQUIRED or shutdown.requested():
            continue
        try:
            report = apply_deadline(store, config, segment.name, now, backend=backend)
        except DigestError as e:
            report = SegmentReport(segment.name, note=f"error: {e}", failed=True)
        if report is not None:
            result.segments.append(report)
    result.schedules = due_segments(store, config, now)
    for missed in result.missed:
        if missed.latest is not None:
            mark_handled(store, missed.segment, missed.latest, now)
    due = [d for d in result.schedules if d.due]
    if not due or shutdown.requested():
        return result
    ran = main_job(
        store,
        config,
        backend,
        [d.segment for d in due],
        watcher,
        slots={d.segment: d.slot for d in due},
        now=now,
        clock=clock,
    )
    result.audience, result.sources = ran.audience, ran.sources
    result.segments += ran.segments
    for schedule, report in zip(due, ran.segments, strict=True):
        started = report.note != STOPPING  # a stop before its turn: the next run's
        if started and not report.failed and schedule.latest is not None:
            mark_handled(store, schedule.segment, schedule.latest, now)
    return result
