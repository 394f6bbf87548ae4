"""The main job: ingest, then for each segment compose, render once, record and deliver.

``digest run``, ``digest send`` and the scheduler all come through :func:`run_segments`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from digest.compose.choices import consume
from digest.compose.edition import Draft, compose
from digest.compose.pool import Pool
from digest.config import Config
from digest.deliver import ledger
from digest.deliver.message import Recipient, personalise
from digest.deliver.outbox import edition_folder, write_atomically
from digest.deliver.personal import (
    RenderVariant,
    Topics,
    reader_groups,
    record_personal_recipients,
    variant_draft,
)
from digest.deliver.progress import Progress
from digest.deliver.send import Tally, start_delivery
from digest.deliver.workers import BackendSpec, SendWorkers
from digest.errors import DeliveryError, DigestError
from digest.render.email import Identity, Rendered, render
from digest.render.placeholders import Placeholders
from digest.settings import SegmentSettings
from digest.store.database import Store
from digest.store.models import Edition, EditionItem, EditionStatus, SegmentLock
from subscribers.audience import conditions
from subscribers.errors import ImportFileError
from subscribers.importer import ImportOptions, ImportReport, import_file


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

    @property
    def delivered(self) -> str:
        return delivered_word(self.backend)


def delivered_word(backend: str) -> str:
    """What a backend does with a message: "written" to the outbox, or "sent"."""
    return "written" if backend == "outbox" else "sent"


RESUMED = "resumed"  # the note of an edition that `digest resume` continued
# What to check when a backend stopped an edition that `digest resume` was continuing.
CHECK = {
    "outbox": "check that [digest] outbox_dir is writable and has room",
    "smtp": "check [smtp] host, port and security, DIGEST_SMTP_PASSWORD, and that the server "
    "answers",
    "sendgrid": "check SENDGRID_API_KEY, the verified sender and SendGrid's status page",
}


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
) -> list[SegmentReport]:
    """Run each named segment once; one segment's failure never stops the others.

    ``backend`` names the delivery backend; empty means the configured one.
    """
    now = now or datetime.now(UTC)
    known = [config.segments[name] for name in names if name in config.segments]
    with store.session() as session:
        pool = Pool.load(session, known, now)  # read once for every segment
    finishers: list[Callable[[], SegmentReport]] = []
    with send_workers(store, config) as workers:
        for name in names:
            try:
                segment = config.segment(name)
                slot_key = slot or slot_now(config, now)
                finish = _run_segment(store, config, backend, segment, now, slot_key, pool, workers)
            except DigestError as e:
                finish = _told(SegmentReport(name, note=f"error: {e}", failed=True))
            # While worker processes send this edition, record the next one; in a terminal,
            # one edition at a time, so that each progress bar runs to its end.
            finishers.append(_told(_finished(name, finish)) if Progress.shown() else finish)
        return [_finished(name, finish) for name, finish in zip(names, finishers, strict=True)]


def _finished(name: str, finish: Callable[[], SegmentReport]) -> SegmentReport:
    try:
        return finish()
    except DigestError as e:
        return SegmentReport(name, note=f"error: {e}", failed=True)


def send_workers(store: Store, config: Config) -> SendWorkers:
    """The run's worker processes (``[digest] processes``), started when first needed."""
    url = store.engine.url.render_as_string(hide_password=False)
    return SendWorkers(url, config.general.processes, config.general.concurrency)


def run_segment(
    store: Store,
    config: Config,
    backend: str,
    segment: SegmentSettings,
    now: datetime,
    slot: str,
    pool: Pool | None = None,
    workers: SendWorkers | None = None,
) -> SegmentReport:
    """``pool`` holds the articles the run composes from (read for this segment if None);
    ``workers`` are the run's worker processes, if it has any."""
    return _run_segment(store, config, backend, segment, now, slot, pool, workers)()


def _told(report: SegmentReport) -> Callable[[], SegmentReport]:
    return lambda: report


def _run_segment(
    store: Store,
    config: Config,
    backend: str,
    segment: SegmentSettings,
    now: datetime,
    slot: str,
    pool: Pool | None = None,
    workers: SendWorkers | None = None,
) -> Callable[[], SegmentReport]:
    """:func:`run_segment`, returning once the edition's sending has started: the
    returned function waits for its end and reports."""
    unfinished = _unfinished(store, segment.name)
    if unfinished is not None:
        note = "resumed an unfinished edition"
        return _start_send(store, config, backend, unfinished, now, note, workers)
    with store.session() as session:
        pool = pool or Pool.load(session, [segment], now)
        seen = pool.history(segment.name).latest  # read before composing: see _record
        draft = compose(
            session,
            segment,
            now,
            source_weights={s.name: s.weight for s in config.sources},
            pool=pool,
        )
    if not draft.items:
        since = (
            draft.since.astimezone(config.zone).strftime("%Y-%m-%d %H:%M %Z")
            if draft.since
            else "the start"
        )
        return _told(SegmentReport(segment.name, note=f"no new articles since {since}"))
    if len(draft.items) < segment.min_items:  # nothing recorded: they stay new for next time
        waiting = f"only {len(draft.items)} new items; waiting for {segment.min_items}"
        return _told(SegmentReport(segment.name, note=waiting))
    identity = Identity(config.sender.name, config.sender.postal_address, config.zone)
    user_templates = (
        config.resolve(config.general.templates_dir) if config.general.templates_dir else None
    )
    rendered = render(draft, identity, user_templates)
    variants: dict[Topics, Rendered] = {}

    def render_variant(variant: Draft, topics: Topics) -> Rendered:
        if topics not in variants:
            variants[topics] = render(variant, identity, user_templates, topics)
        return variants[topics]

    if segment.personalised:  # render before the segment is locked; new groups render later
        with store.session() as session:
            groups, _ = reader_groups(session, draft, audience(segment))
        for topics in sorted(t for t in groups if t is not None):
            render_variant(variant_draft(draft, topics), topics)
    edition_id = _record(
        store,
        config,
        draft,
        rendered,
        slot,
        now,
        backend or config.general.backend,
        seen,
        render_variant,
    )
    if edition_id is None:
        return _told(SegmentReport(segment.name, note=f"already ran for slot {slot}"))
    if edition_id == 0:
        return _told(SegmentReport(segment.name, note="another run made this edition just now"))
    return _start_send(store, config, backend, edition_id, now, workers=workers)


def _unfinished(store: Store, segment: str) -> int | None:
    with store.session() as session:
        return session.scalar(
            select(Edition.id).where(
                Edition.segment == segment, Edition.status == EditionStatus.sending
            )
        )


def _record(
    store: Store,
    config: Config,
    draft: Draft,
    rendered: Rendered,
    slot: str,
    now: datetime,
    backend: str,
    seen: int | None,
    render_variant: RenderVariant | None = None,
) -> int | None:
    """Store the edition, its items and its recipients in one transaction.

    Returns the edition's id; None when the slot already ran; 0 when another run
    recorded an edition of this segment since ``seen``, the newest edition before this
    draft was composed (its articles are that edition's now). The segment's lock row
    serialises concurrent runs. ``seen`` is read before composing because composing
    reads in several statements: an edition recorded between them would not show in
    the draft's ``since`` and the same articles would go out twice.
    """
    segment = draft.segment
    try:
        with store.session() as session:
            lock_segment(session, segment.name, now)
            if latest_edition(session, segment.name) != seen:
                return 0
            edition = Edition(
                segment=segment.name,
                slot=slot,
                status=EditionStatus.sending,
                created_at=now,
                backend=backend,
                subject=rendered.subject,
                preheader=rendered.preheader,
                html=rendered.html,
                text=rendered.text,
                placeholder_nonce=rendered.placeholders.nonce,
            )
            session.add(edition)
            session.flush()
            session.add_all(
                EditionItem(
                    edition_id=edition.id,
                    article_id=item.article_id,
                    position=position,
                    score=item.score,
                    summary=item.summary,
                    reason=item.reason,
                )
                for position, item in enumerate(rendered.items, start=1)
            )
            used = [item.article_id for item in draft.items]
            consume(session, segment.name, [*used, *draft.considered])
            if segment.personalised and render_variant is not None:
                record_personal_recipients(
                    session,
                    edition.id,
                    draft,
                    audience(segment),
                    config.general.batch_size,
                    render_variant,
                )
                return edition.id
            ledger.record_recipients(session, edition.id, segment.rule(), config.general.batch_size)
            return edition.id
    except IntegrityError:
        return None


def audience(segment: SegmentSettings) -> ColumnElement[bool]:
    """SQL for the segment's readers."""
    return conditions(segment.rule())


def latest_edition(session: Session, segment: str) -> int | None:
    """The id of the segment's newest edition (ids grow as editions are recorded)."""
    return session.scalar(select(func.max(Edition.id)).where(Edition.segment == segment))


def lock_segment(session: Session, segment: str, now: datetime) -> None:
    """Hold the segment's lock row until the transaction ends (a write lock on SQLite)."""
    if session.get(SegmentLock, segment) is None:
        try:
            with session.begin_nested():
                session.add(SegmentLock(segment=segment, locked_at=now))
        except IntegrityError:
            pass  # another run created it first; the update below waits for its lock
    session.execute(update(SegmentLock).where(SegmentLock.segment == segment).values(locked_at=now))


def _send(
    store: Store,
    config: Config,
    backend: str,
    edition_id: int,
    now: datetime,
    note: str = "",
    workers: SendWorkers | None = None,
) -> SegmentReport:
    """Deliver an edition; ``written`` counts what this run handed over, not other senders."""
    return _start_send(store, config, backend, edition_id, now, note, workers)()


def _start_send(
    store: Store,
    config: Config,
    backend: str,
    edition_id: int,
    now: datetime,
    note: str = "",
    workers: SendWorkers | None = None,
) -> Callable[[], SegmentReport]:
    """Start delivering an edition; the returned function waits for the end and reports.
    While worker processes send it, the caller may record the next edition."""
    with store.session() as session:
        edition = session.get_one(Edition, edition_id)
        segment, items = edition.segment, len(edition.items)
        name = backend or edition.backend
        shown = Rendered("", "", edition.html, "", (), Placeholders(edition.placeholder_nonce))
    preview = write_preview(config, edition_id, segment, shown)
    tally = Tally()
    resuming = note == RESUMED

    def stopped(e: DeliveryError) -> SegmentReport:
        with store.session() as session:
            after = ledger.counts(session, edition_id)
        if resuming:  # telling `digest resume` to run `digest resume` would not help
            why = f"stopped: {e}; {CHECK.get(name, 'check the backend')}, then resume again"
        else:
            why = f"stopped: {e}; `digest resume` continues it"
        return SegmentReport(
            segment, items, after.recipients, tally.accepted, preview, why, True, name
        )

    try:
        delivery = start_delivery(
            store,
            config,
            BackendSpec(config, name),
            edition_id,
            progress=Progress(f"{segment} #{edition_id}"),
            tally=tally,
            workers=workers,
        )
    except DeliveryError as e:
        report = stopped(e)
        return lambda: report

    def finish() -> SegmentReport:
        try:
            after = delivery.finish()
        except DeliveryError as e:
            return stopped(e)
        told = note + ("; " if note else "") + f"{after.failed} failed" if after.failed else note
        return SegmentReport(
            segment, items, after.recipients, tally.accepted, preview, told, backend=name
        )

    return finish


def resume_edition(
    store: Store,
    config: Config,
    backend: str,
    edition_id: int,
    workers: SendWorkers | None = None,
) -> SegmentReport:
    """Continue an unfinished edition: pending batches, and stale ones by the in-doubt policy."""
    now = datetime.now(UTC)
    return _send(store, config, backend, edition_id, now, note=RESUMED, workers=workers)


def write_preview(config: Config, edition_id: int, segment: str, rendered: Rendered) -> Path:
    """The edition's HTML with sample values in place of a recipient's, to open in a browser."""
    base = config.sender.base_url.rstrip("/")
    sample = Recipient(0, "", "reader", f"{base}/unsubscribe", f"{base}/preferences", "")
    path = edition_folder(config.outbox_dir, segment, edition_id) / "preview.html"
    write_atomically(path, personalise(rendered, sample, "html").encode("utf-8"))
    return path


@dataclass(frozen=True)
class AudienceReport:
    merged: ImportReport  # rows skipped are its problems
    error: str = ""  # the file could not be used at all: nothing was merged


def sync_subscribers(store: Store, config: Config, now: datetime) -> AudienceReport | None:
    """Merge ``[audience] subscribers_file`` as ``subscribers import --skip-invalid`` does,
    with no reject file; a file that cannot be used at all merges nothing and sets ``error``."""
    setting = config.audience.subscribers_file
    if not setting:
        return None
    path = config.resolve(setting)
    options = ImportOptions(
        "csv",
        skip_invalid=True,
        frequencies=tuple(config.web.frequencies),
        replace_lists=config.audience.replace_lists,
        known_lists=config.segment_lists,
        write_rejects=False,
    )
    try:
        with store.session() as session:
            return AudienceReport(import_file(session.connection(), path, options, now))
    except ImportFileError as e:
        why = f"{config.path}: [audience] subscribers_file {setting!r} is unusable: {e.plain}"
        return AudienceReport(ImportReport(source=str(path)), why + "; nothing was merged")
