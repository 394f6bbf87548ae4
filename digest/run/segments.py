"""Each segment of a run: compose its next edition, render it once (and once per reader
group), record it with its recipients, and start sending it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from digest.clock import Clock, utcnow
from digest.compose.edition import Draft, compose
from digest.compose.pool import Pool
from digest.config import Config
from digest.deliver import shutdown
from digest.deliver.progress import Progress
from digest.deliver.recipients import Topics, audience, reader_groups, variant_draft
from digest.deliver.settings import DeliverySettings
from digest.deliver.workers import SendWorkers
from digest.errors import DigestError
from digest.render.email import Rendered
from digest.run.archive import archive_url, new_slug
from digest.run.delivery import delivery_settings
from digest.run.editions import ANOTHER_RUN, OnRecord, record_edition, unfinished_edition
from digest.run.holding import APPROVAL_REQUIRED, held_run
from digest.run.rendering import render_draft
from digest.run.report import (
    Finisher,
    SegmentReport,
    already,
    left_out_note,
    nothing_to_send,
)
from digest.run.sending import queue_for_workers, send_workers, start_send
from digest.run.waves import slot_waves, zones_of
from digest.settings import SegmentSettings
from digest.store.database import Store

STOPPING = "not started: the process was asked to stop"


def slot_now(config: Config, now: datetime) -> str:
    """The run key of an unscheduled run: the local minute."""
    return "at " + now.astimezone(config.zone).strftime("%Y-%m-%dT%H:%M")


def run_segments(
    store: Store,
    config: Config,
    backend: str,
    names: Sequence[str],
    *,
    now: datetime | None = None,
    slot: str = "",
    slots: Mapping[str, str] | None = None,
    clock: Clock = utcnow,
) -> list[SegmentReport]:
    """Run each named segment once; one segment's failure never stops the others.

    ``backend`` names the delivery backend; empty means the configured one. ``slots`` gives
    some segments their own run key; the others get ``slot``, else the minute's. Once the
    process is asked to stop (:mod:`digest.deliver.shutdown`) no other segment starts.
    ``clock`` says when each batch is claimed and sent (a local-time edition's waves go out
    once their time has come by it).
    """
    now = now or utcnow()
    settings = delivery_settings(config)
    known = [config.segments[name] for name in names if name in config.segments]
    with store.session() as session:
        pool = Pool.load(session, known, now)  # read once for every segment
    finishers: list[Finisher] = []
    with send_workers(store, settings) as workers:
        for name in names:
            if shutdown.requested():
                finishers.append(already(SegmentReport(name, note=STOPPING)))
                continue
            try:
                segment = config.segment(name)
                slot_key = (slots or {}).get(name) or slot or slot_now(config, now)
                run = SegmentRun(store, config, settings, backend, pool, workers, clock)
                finish = run.start(segment, now, slot_key)
            except DigestError as e:
                finish = already(SegmentReport(name, note=f"error: {e}", failed=True))
            # While worker processes send this edition, record the next one; in a terminal,
            # one edition at a time, so that each progress bar runs to its end.
            finishers.append(already(wait_for(name, finish)) if Progress.shown() else finish)
        return [wait_for(name, finish) for name, finish in zip(names, finishers, strict=True)]


def wait_for(name: str, finish: Finisher) -> SegmentReport:
    """The segment's report once its sending has ended; an error becomes a failed report."""
    try:
        return finish()
    except DigestError as e:
        return SegmentReport(name, note=f"error: {e}", failed=True)


class SegmentRun:
    """One segment's turn in a run, over the run's articles and worker processes."""

    def __init__(
        self,
        store: Store,
        config: Config,
        settings: DeliverySettings,
        backend: str,
        pool: Pool | None = None,
        workers: SendWorkers | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.settings = settings
        self.backend = backend
        self.pool = pool  # the articles the run composes from (read per segment if None)
        self.workers = workers
        self.left_out: dict[int, str] = {}  # edition → the items its renders left out

    def start(self, segment: SegmentSettings, now: datetime, slot: str) -> Finisher:
        """Compose, render, record and start sending the segment's next edition; the
        returned function waits for the sending's end and reports. A segment that requires
        approval holds its edition for an editor instead (:mod:`digest.run.holding`)."""
        unfinished = unfinished_edition(self.store, segment.name)
        if unfinished is not None:
            note = "resumed an unfinished edition"
            return self.send(unfinished, note)
        if segment.approval == APPROVAL_REQUIRED:
            return already(held_run(self, segment, now, slot))
        draft, seen = self.compose(segment, now)
        waiting = nothing_to_send(draft, self.config.zone)
        if waiting:  # nothing recorded: the articles stay new for the next run
            return already(SegmentReport(segment.name, note=waiting))
        edition_id = self.record(draft, seen, slot, now)
        if edition_id is None:
            return already(SegmentReport(segment.name, note=f"already ran for slot {slot}"))
        if edition_id == ANOTHER_RUN:
            note = "another run made this edition just now"
            return already(SegmentReport(segment.name, note=note))
        return self.send(edition_id)

    def compose(self, segment: SegmentSettings, now: datetime) -> tuple[Draft, int | None]:
        """The segment's next edition, and its newest edition's id read before composing
        (see :func:`~digest.run.editions.record_edition`)."""
        with self.store.session() as session:
            pool = self.pool or Pool.load(session, [segment], now)
            seen = pool.history(segment.name).latest  # read before composing: see record_edition
            weights = {s.name: s.weight for s in self.config.sources}
            modes = {s.name: s.summary_source for s in self.config.sources}
            draft = compose(
                session,
                segment,
                now,
                source_weights=weights,
                pool=pool,
                summary_sources=modes,
            )
        return draft, seen

    def record(
        self,
        draft: Draft,
        seen: int | None,
        slot: str,
        now: datetime,
        *,
        approved_by: str = "",
        on_record: OnRecord | None = None,
    ) -> int | None:
        """Render and record ``draft`` as the edition of ``slot`` (see
        :func:`~digest.run.editions.record_edition` for what it returns)."""
        segment = draft.segment
        slug = new_slug(self.config, segment, draft.composed_at)  # every render links to it
        link = archive_url(self.config, segment.name, slug)
        variants = self._variants(draft, link)
        rendered = render_draft(self.config, draft, archive_url=link)
        edition_id = record_edition(
            self.store,
            draft,
            rendered,
            slot=slot,
            now=now,
            backend=self.backend or self.settings.backend,
            batch_size=self.settings.batch_size,
            seen=seen,
            render_variant=variants.render,
            approved_by=approved_by,
            on_record=on_record,
            archive_slug=slug,
            waves=slot_waves(self.config, segment, slot),
        )
        if edition_id:  # neither None nor ANOTHER_RUN: the report of its send says it
            self.left_out[edition_id] = left_out_note([rendered, *variants.made.values()])
        return edition_id

    def _variants(self, draft: Draft, link: str = "") -> Variants:
        """The renders of a personalised edition's reader groups, made before the segment is
        locked (a group that appears meanwhile renders while it is)."""
        variants = Variants(self.config, link)
        if draft.segment.personalised:
            with self.store.session() as session:
                groups, _ = reader_groups(session, draft, audience(draft.segment))
            for topics in sorted(t for t in groups if t is not None):
                variants.render(variant_draft(draft, topics), topics)
        return variants

    def send(self, edition_id: int, note: str = "") -> Finisher:
        """Start sending the edition (with ``[digest] send = "workers"``, leave it to
        `digest worker`); its report says which items the render left out."""
        note = "; ".join(filter(None, (note, self.left_out.pop(edition_id, ""))))
        if self.settings.send == "workers":
            report = queue_for_workers(
                self.store,
                self.settings,
                self.backend,
                edition_id,
                note,
                zones=zones_of(self.config),
            )
            return already(report)
        return start_send(
            self.store,
            self.settings,
            self.backend,
            edition_id,
            note,
            workers=self.workers,
            clock=self.clock,
            zones=zones_of(self.config),
        )


class Variants:
    """Each reader group's render, made once."""

    def __init__(self, config: Config, link: str = "") -> None:
        self.config = config
        self.link = link  # the edition's page in the archive, which every variant links to
        self.made: dict[Topics, Rendered] = {}

    def render(self, draft: Draft, topics: Topics) -> Rendered:
        if topics not in self.made:
            self.made[topics] = render_draft(self.config, draft, topics, self.link)
        return self.made[topics]
