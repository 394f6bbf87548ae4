"""The figures of the desk's home and history pages: each segment's audience, schedule in
words, next run and the state of its next edition; each edition's delivery figures from
the ledger, opens and clicks from the provider's events, approver and archive page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digest.clock import utcnow
from digest.compose.pool import Pool
from digest.compose.recent import RecentArticles
from digest.config import Config
from digest.deliver.recipients import segment_rule
from digest.deliver.status import edition_status
from digest.errors import DigestError
from digest.render.email import title_of
from digest.run.archive import archive_url
from digest.run.desk_view import NoSummaries, compose_next, state_of
from digest.run.holds import waiting_hold
from digest.run.schedule import in_words, next_run
from digest.store.database import Store
from digest.store.models import ArticleEngagement, Edition
from subscribers.audience import sizes


class UnknownEditionError(DigestError):
    """No edition has this id."""


@dataclass(frozen=True)
class EditionFigures:
    edition_id: int
    segment: str
    subject: str
    created_at: datetime
    sent_at: datetime | None
    status: str  # sending or sent
    recipients: int
    sent: int
    failed: int
    pending: int
    in_doubt: int
    opens: int  # opens of the edition (each open counts once, not once per article)
    clicks: int  # clicks on its articles' links
    approved_by: str  # "" when no editor approved it
    archive_url: str  # its page in the public archive; "" when it has none


@dataclass(frozen=True)
class SegmentOverview:
    segment: str
    title: str
    readers: int  # active readers the audience rule matches
    schedule_words: str  # "every Monday at 08:00"
    timezone: str
    next_run: datetime | None  # in the segment's zone
    state: str  # as NextEditionView.state
    last: EditionFigures | None


def overview(
    store: Store,
    config: Config,
    now: datetime | None = None,
    recent: RecentArticles | None = None,
) -> list[SegmentOverview]:
    """Every segment, in the config's order; ``recent`` as for
    :func:`~digest.run.desk_view.next_edition`."""
    now = now or utcnow()
    segments = list(config.segments.values())
    found = []
    with store.session() as session:
        pool = Pool.load(session, segments, now, recent=recent)  # one read for every segment
        for segment in segments:
            draft = compose_next(session, config, segment, now, pool=pool, summariser=NoSummaries())
            state = state_of(session, config, draft, waiting_hold(session, segment.name), now)
            latest = session.scalar(
                select(Edition)
                .where(Edition.segment == segment.name)
                .order_by(Edition.id.desc())
                .limit(1)
            )
            found.append(
                SegmentOverview(
                    segment=segment.name,
                    title=title_of(draft),
                    readers=sizes(session, segment_rule(segment))[1],
                    schedule_words=in_words(segment.schedule),
                    timezone=config.segment_zone(segment.name).key,
                    next_run=next_run(segment.schedule, config.segment_zone(segment.name), now),
                    state=state,
                    last=figures(session, config, latest) if latest is not None else None,
                )
            )
    return found


def history(store: Store, config: Config, segment: str, limit: int = 50) -> list[EditionFigures]:
    """The segment's editions, newest first."""
    with store.session() as session:
        editions = session.scalars(
            select(Edition)
            .where(Edition.segment == segment)
            .order_by(Edition.id.desc())
            .limit(limit)
        )
        return [figures(session, config, e) for e in editions]


def edition(store: Store, config: Config, edition_id: int) -> EditionFigures:
    with store.session() as session:
        found = session.get(Edition, edition_id)
        if found is None:
            raise UnknownEditionError(f"no edition {edition_id}; the history lists them")
        return figures(session, config, found)


def figures(session: Session, config: Config, edition: Edition) -> EditionFigures:
    ledger = edition_status(session, edition)
    # An open counts for every article of the edition (the row of each carries it); a
    # click for the one article it went to.
    opens, clicks = session.execute(
        select(func.max(ArticleEngagement.opens), func.sum(ArticleEngagement.clicks)).where(
            ArticleEngagement.edition_id == edition.id
        )
    ).one()
    return EditionFigures(
        edition_id=edition.id,
        segment=edition.segment,
        subject=edition.subject,
        created_at=edition.created_at,
        sent_at=edition.sent_at,
        status=edition.status.value,
        recipients=ledger.recipients,
        sent=ledger.sent,
        failed=ledger.failed,
        pending=ledger.pending,
        in_doubt=ledger.in_doubt,
        opens=int(opens or 0),
        clicks=int(clicks or 0),
        approved_by=edition.approved_by,
        archive_url=archive_url(config, edition.segment, edition.archive_slug),
    )
