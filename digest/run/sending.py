"""Start, finish and resume the sending of recorded editions, and the run's worker
processes that share large ones."""

from __future__ import annotations

from sqlalchemy import select

from digest.clock import Clock, utcnow
from digest.deliver import ledger
from digest.deliver.batches import Tally
from digest.deliver.progress import Progress
from digest.deliver.send import start_delivery
from digest.deliver.settings import DeliverySettings
from digest.deliver.status import UTC_ZONE, Zones, edition_waves, waves_note
from digest.deliver.workers import BackendSpec, SendWorkers
from digest.errors import DeliveryError
from digest.render.email import Rendered
from digest.render.placeholders import Placeholders
from digest.run.preview import edition_preview, write_preview
from digest.run.report import Finisher, SegmentReport
from digest.store.database import Store
from digest.store.models import Edition, EditionStatus

RESUMED = "resumed"  # the note of an edition that `digest resume` continued
# What to check when a backend stopped an edition that `digest resume` was continuing.
CHECK = {
    "outbox": "check that [digest] outbox_dir is writable and has room",
    "smtp": "check [smtp] host, port and security, DIGEST_SMTP_PASSWORD, and that the server "
    "answers",
    "sendgrid": "check SENDGRID_API_KEY, the verified sender and SendGrid's status page",
}


def send_workers(store: Store, settings: DeliverySettings) -> SendWorkers:
    """The run's worker processes (``[digest] processes``), started when first needed."""
    url = store.engine.url.render_as_string(hide_password=False)
    return SendWorkers(url, settings.processes, settings.concurrency)


def start_send(
    store: Store,
    settings: DeliverySettings,
    backend: str,
    edition_id: int,
    note: str = "",
    workers: SendWorkers | None = None,
    *,
    clock: Clock = utcnow,
    zones: Zones | None = None,
) -> Finisher:
    """Start delivering an edition through ``backend`` ("" is the one it was recorded
    with); the returned function waits for the end and reports. While worker processes
    send it, the caller may record the next edition.

    Only batches released by ``clock()`` are sent: a local-time edition's later waves wait
    for :func:`digest.run.waves.release_waves`, and the report says which wave is next
    (its readers without a zone shown in their segment's, by ``zones``)."""
    with store.session() as session:
        edition = session.get_one(Edition, edition_id)
        segment, items = edition.segment, len(edition.items)
        name = backend or edition.backend
        shown = Rendered("", "", edition.html, "", (), Placeholders(edition.placeholder_nonce))
    preview = write_preview(
        settings.sender, shown, edition_preview(settings.outbox_dir, segment, edition_id)
    )
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
            segment, items, after.recipients, tally.accepted, preview, why, True, name, edition_id
        )

    try:
        chosen = settings.using(name)
        delivery = start_delivery(
            store,
            chosen,
            BackendSpec(chosen),
            edition_id,
            clock=clock,
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
        with store.session() as session:
            zone = zones(segment) if zones is not None else UTC_ZONE
            waves = waves_note(edition_waves(session, edition_id, zone, "next"))
        told = "; ".join(filter(None, (told, waves)))
        return SegmentReport(
            segment,
            items,
            after.recipients,
            tally.accepted,
            preview,
            told,
            backend=name,
            edition=edition_id,
        )

    return finish


def queue_for_workers(
    store: Store,
    settings: DeliverySettings,
    backend: str,
    edition_id: int,
    note: str = "",
    *,
    zones: Zones | None = None,
) -> SegmentReport:
    """With ``[digest] send = "workers"``: leave the recorded edition to `digest worker`
    processes (they were woken when it was recorded) and say how many readers wait, and
    for a local-time edition when its first wave goes."""
    with store.session() as session:
        edition = session.get_one(Edition, edition_id)
        segment, items = edition.segment, len(edition.items)
        name = backend or edition.backend
        shown = Rendered("", "", edition.html, "", (), Placeholders(edition.placeholder_nonce))
        counts = ledger.counts(session, edition_id)
        zone = zones(segment) if zones is not None else UTC_ZONE
        waves = waves_note(edition_waves(session, edition_id, zone, "next"))
    preview = write_preview(
        settings.sender, shown, edition_preview(settings.outbox_dir, segment, edition_id)
    )
    queued = f"{counts.pending:,} recipients queued for digest worker"
    done = note if note.startswith("resumed") else "; ".join(filter(None, ("recorded", note)))
    told = "; ".join(filter(None, (done, queued, waves)))
    return SegmentReport(
        segment,
        items,
        counts.recipients,
        counts.sent,
        preview,
        told,
        backend=name,
        edition=edition_id,
    )


def resume_edition(
    store: Store,
    settings: DeliverySettings,
    backend: str,
    edition_id: int,
    workers: SendWorkers | None = None,
    *,
    clock: Clock = utcnow,
    zones: Zones | None = None,
) -> SegmentReport:
    """Continue an unfinished edition: pending batches (of waves that have come), and stale
    ones by the in-doubt policy."""
    return start_send(
        store, settings, backend, edition_id, RESUMED, workers, clock=clock, zones=zones
    )()


def unfinished_editions(store: Store) -> list[int]:
    """Every edition still being sent, oldest first."""
    with store.session() as session:
        return list(
            session.scalars(
                select(Edition.id)
                .where(Edition.status == EditionStatus.sending)
                .order_by(Edition.id)
            )
        )
