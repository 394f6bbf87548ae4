"""The main job: ingest, then for each segment compose, render once, record and deliver.

``digest run``, ``digest send`` and the scheduler all come through :func:`run_segments`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from digest.compose.edition import Draft, compose
from digest.config import Config
from digest.deliver import ledger
from digest.deliver.backend import Backend
from digest.deliver.message import Recipient, personalise
from digest.deliver.outbox import edition_folder, write_atomically
from digest.deliver.send import deliver_edition
from digest.errors import DeliveryError, DigestError
from digest.render.email import Identity, Rendered, render
from digest.settings import SegmentSettings
from digest.store.database import Store
from digest.store.models import Edition, EditionItem, EditionStatus
from subscribers.audience import audience
from subscribers.errors import AudienceError, ImportRowError
from subscribers.importer import SubscriberRow, merge, read_csv


@dataclass(frozen=True)
class SegmentReport:
    segment: str
    items: int = 0
    recipients: int = 0
    written: int = 0
    preview: Path | None = None
    note: str = ""
    failed: bool = False


def slot_now(config: Config, now: datetime) -> str:
    """The run key of an unscheduled run: the local minute."""
    return "at " + now.astimezone(config.zone).strftime("%Y-%m-%dT%H:%M")


def run_segments(
    store: Store,
    config: Config,
    backend: Backend,
    names: Sequence[str],
    *,
    now: datetime | None = None,
    slot: str = "",
) -> list[SegmentReport]:
    """Run each named segment once; one segment's failure never stops the others."""
    now = now or datetime.now(UTC)
    reports = []
    for name in names:
        segment = config.segment(name)
        try:
            reports.append(
                run_segment(store, config, backend, segment, now, slot or slot_now(config, now))
            )
        except DigestError as e:
            reports.append(SegmentReport(name, note=f"error: {e}", failed=True))
    return reports


def run_segment(
    store: Store,
    config: Config,
    backend: Backend,
    segment: SegmentSettings,
    now: datetime,
    slot: str,
) -> SegmentReport:
    unfinished = _unfinished(store, segment.name)
    if unfinished is not None:
        return _send(store, config, backend, unfinished, now, note="resumed an unfinished edition")
    with store.session() as session:
        draft = compose(session, segment, now)
    if not draft.items:
        since = (
            draft.since.astimezone(config.zone).strftime("%Y-%m-%d %H:%M %Z")
            if draft.since
            else "the start"
        )
        return SegmentReport(segment.name, note=f"no new articles since {since}")
    identity = Identity(config.sender.name, config.sender.postal_address, config.zone)
    user_templates = (
        config.resolve(config.general.templates_dir) if config.general.templates_dir else None
    )
    rendered = render(draft, identity, user_templates)
    edition_id = _record(store, config, draft, rendered, slot, now)
    if edition_id is None:
        return SegmentReport(segment.name, note=f"already ran for slot {slot}")
    return _send(store, config, backend, edition_id, now)


def _unfinished(store: Store, segment: str) -> int | None:
    with store.session() as session:
        return session.scalar(
            select(Edition.id).where(
                Edition.segment == segment, Edition.status == EditionStatus.sending
            )
        )


def _record(
    store: Store, config: Config, draft: Draft, rendered: Rendered, slot: str, now: datetime
) -> int | None:
    """Store the edition, its items and its recipients in one transaction; None if the slot ran."""
    segment = draft.segment
    try:
        with store.session() as session:
            edition = Edition(
                segment=segment.name,
                slot=slot,
                status=EditionStatus.sending,
                created_at=now,
                subject=rendered.subject,
                preheader=rendered.preheader,
                html=rendered.html,
                text=rendered.text,
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
            people = audience(session, segment.lists, segment.where)
            ledger.record_recipients(session, edition.id, people, config.general.batch_size)
            return edition.id
    except IntegrityError:
        return None


def _send(
    store: Store, config: Config, backend: Backend, edition_id: int, now: datetime, note: str = ""
) -> SegmentReport:
    with store.session() as session:
        edition = session.get_one(Edition, edition_id)
        segment, items = edition.segment, len(edition.items)
        before = ledger.counts(session, edition_id)
    preview = write_preview(config, edition_id, segment, edition.html)
    try:
        after = deliver_edition(store, config, backend, edition_id)
    except DeliveryError as e:
        with store.session() as session:
            after = ledger.counts(session, edition_id)
        note = f"stopped: {e}; run `digest send --segment {segment}` again to resume"
        return SegmentReport(
            segment, items, after.recipients, after.sent - before.sent, preview, note, True
        )
    if after.failed:
        note = (note + "; " if note else "") + f"{after.failed} failed"
    return SegmentReport(segment, items, after.recipients, after.sent - before.sent, preview, note)


def write_preview(config: Config, edition_id: int, segment: str, html: str) -> Path:
    """The edition's HTML with sample values in place of a recipient's, to open in a browser."""
    base = config.sender.base_url.rstrip("/")
    sample = Recipient(0, "", "reader", f"{base}/unsubscribe", f"{base}/preferences", "")
    path = edition_folder(config.outbox_dir, segment, edition_id) / "preview.html"
    write_atomically(path, personalise(html, sample).encode("utf-8"))
    return path


@dataclass(frozen=True)
class AudienceReport:
    added: int
    updated: int
    problems: tuple[str, ...]


def sync_subscribers(store: Store, config: Config, now: datetime) -> AudienceReport | None:
    """Merge the configured subscribers CSV; bad rows are reported and skipped, good ones kept."""
    if not config.audience.subscribers_file:
        return None
    rows: list[SubscriberRow] = []
    problems: list[str] = []
    try:
        for row in read_csv(config.resolve(config.audience.subscribers_file)):
            if isinstance(row, ImportRowError):
                problems.append(str(row))
            else:
                rows.append(row)
    except AudienceError as e:
        return AudienceReport(0, 0, (str(e),))
    with store.session() as session:
        result = merge(session, rows, now)
    return AudienceReport(result.added, result.updated, tuple(problems))
