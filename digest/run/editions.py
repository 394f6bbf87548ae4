"""Record an edition: its render, items and recipients in one transaction, under the
segment's lock, so that two runs at once make one edition."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from digest.compose.edition import Draft
from digest.compose.editor_changes import consume_changes
from digest.compose.editor_choices import consume
from digest.deliver import ledger
from digest.deliver.notify import notify
from digest.deliver.recipients import (
    RenderVariant,
    audience,
    record_personal_recipients,
    record_recipients,
    segment_rule,
)
from digest.deliver.zones import Waves
from digest.render.email import Rendered
from digest.run.archive import check_slug_free
from digest.run.desk_log import claim_for
from digest.store.database import Store
from digest.store.models import Edition, EditionItem, EditionStatus, SegmentLock

ANOTHER_RUN = 0  # what record_edition returns when another run recorded this edition first

OnRecord = Callable[[Session, int], None]
"""Called in the recording's transaction with the new edition's id; raises
:class:`Undone` to record nothing (say, the held edition was decided meanwhile)."""


class Undone(Exception):
    """Raised by an :data:`OnRecord` hook: roll the recording back."""


def record_edition(
    store: Store,
    draft: Draft,
    rendered: Rendered,
    *,
    slot: str,
    now: datetime,
    backend: str,
    batch_size: int,
    seen: int | None,
    render_variant: RenderVariant | None = None,
    approved_by: str = "",
    on_record: OnRecord | None = None,
    archive_slug: str = "",
    waves: Waves | None = None,
) -> int | None:
    """Store the edition, its items and its recipients in one transaction.

    Returns the edition's id; None when the slot already ran; :data:`ANOTHER_RUN` when
    another run recorded an edition of this segment since ``seen``, the newest edition
    before this draft was composed (its articles are that edition's now). The segment's
    lock row serialises concurrent runs. ``seen`` is read before composing because
    composing reads in several statements: an edition recorded between them would not
    show in the draft's ``since`` and the same articles would go out twice.
    ``archive_slug``: the edition's page in the public archive, which its render links to.

    The editor's choices and changes the draft carried are used up, and the log of the
    changes made to the next edition is claimed by this one. ``on_record`` runs last, in
    the same transaction; when it raises :class:`Undone` nothing is recorded and
    :data:`ANOTHER_RUN` is returned. With ``waves`` (a local-time segment's scheduled
    slot), each reader's batch waits for the slot's time in their zone.
    """
    segment = draft.segment
    try:
        with store.session() as session:
            lock_segment(session, segment.name, now)
            if latest_edition(session, segment.name) != seen:
                return ANOTHER_RUN
            if archive_slug:
                check_slug_free(session, segment.name, archive_slug)
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
                approved_by=approved_by,
                archive_slug=archive_slug,
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
            consume_changes(
                session,
                segment.name,
                [*used, *draft.considered],
                note=draft.note,
                subject=draft.subject,
            )
            claim_for(session, segment.name, edition.id)
            if segment.personalised and render_variant is not None:
                record_personal_recipients(
                    session,
                    edition.id,
                    draft,
                    audience(segment),
                    batch_size,
                    render_variant,
                    waves,
                )
            else:
                record_recipients(session, edition.id, segment_rule(segment), batch_size, waves)
            if on_record is not None:
                on_record(session, edition.id)
            notify(session)  # workers wake when this commits
            return edition.id
    except IntegrityError:
        return None
    except Undone:
        return ANOTHER_RUN


def latest_edition(session: Session, segment: str) -> int | None:
    """The id of the segment's newest edition (ids grow as editions are recorded)."""
    return session.scalar(select(func.max(Edition.id)).where(Edition.segment == segment))


def unfinished_edition(store: Store, segment: str) -> int | None:
    """The segment's edition still being sent, if there is one. An edition sent in waves
    does not count: several may be under way at once, each wave going at its time
    (:func:`digest.run.waves.release_waves` sends them and retries what failed), so it
    never holds up the segment's next edition."""
    with store.session() as session:
        found = session.scalars(
            select(Edition.id)
            .where(Edition.segment == segment, Edition.status == EditionStatus.sending)
            .order_by(Edition.id)
        ).all()
        return next((e for e in found if not ledger.in_waves(session, e)), None)


def lock_segment(session: Session, segment: str, now: datetime) -> None:
    """Hold the segment's lock row until the transaction ends (a write lock on SQLite)."""
    if session.get(SegmentLock, segment) is None:
        try:
            with session.begin_nested():
                session.add(SegmentLock(segment=segment, locked_at=now))
        except IntegrityError:
            pass  # another run created it first; the update below waits for its lock
    session.execute(update(SegmentLock).where(SegmentLock.segment == segment).values(locked_at=now))
