"""The next edition of a segment as the editors' desk shows it: composed exactly as a send
composes it (pins, exclusions, the editor's order, edits, note and subject applied), with
why each item is in and each candidate out, the email as a reader group gets it, and the
state of the edition; recording nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digest.clock import utcnow
from digest.compose.edition import Draft, DraftItem, compose
from digest.compose.editor_choices import sent_in
from digest.compose.pool import Pool
from digest.compose.recent import RecentArticles
from digest.compose.summarise import Summariser
from digest.config import Config
from digest.deliver.message import personalise
from digest.deliver.recipients import Topics, audience, reader_groups, variant_draft
from digest.render.email import title_of
from digest.render.note import note_html
from digest.run.fingerprint import fingerprint_of
from digest.run.holds import Held, waiting_hold
from digest.run.preview import sample_reader
from digest.run.rendering import render_draft
from digest.run.report import nothing_to_send
from digest.run.schedule import last_run
from digest.settings import SegmentSettings
from digest.store.database import Store
from digest.store.models import Article, Edition, EditionItem, EditionStatus

NOTHING_NEW = "nothing new yet"
DRAFT = "draft"
WAITING = "waiting for approval"
SENDING = "sending"
SENT = "sent"


@dataclass(frozen=True)
class DeskItem:
    article_id: int
    title: str
    summary: str
    url: str
    source: str
    author: str
    published: datetime
    tags: tuple[str, ...]
    score: float
    parts: dict[str, float]
    reason: str
    pinned: bool
    edited: bool  # the headline or the summary is the editor's version
    position: int  # 1-based
    also: tuple[tuple[str, str], ...] = ()  # (outlet, url) of the story's other reports


@dataclass(frozen=True)
class LeftOut:
    article_id: int
    title: str
    url: str
    source: str
    score: float
    reason: str


@dataclass(frozen=True)
class ReaderGroup:
    topics: Topics | None  # None: readers who follow no tag and get the whole edition
    readers: int


@dataclass(frozen=True)
class NextEditionView:
    segment: str
    title: str
    state: str  # NOTHING_NEW, DRAFT, WAITING, SENDING or SENT
    items: tuple[DeskItem, ...]
    left_out: tuple[LeftOut, ...]
    subject: str  # as sent
    note: str  # Markdown; "" none
    note_html: str  # sanitised
    html: str  # the email as the shown group's readers get it, a sample reader's values in
    text: str
    groups: tuple[ReaderGroup, ...]  # empty unless the segment is personalised
    group: Topics | None  # the shown group's topics; None the whole edition
    fingerprint: str  # changes whenever what a send would compose changes
    waiting_since: datetime | None  # when the held edition was due
    deadline: datetime | None
    composed_at: datetime


class NoSummaries:
    """For a compose that only needs the items and their order, not their summaries."""

    def summarise(self, title: str, text: str, words: int) -> str:
        return ""


def compose_next(
    session: Session,
    config: Config,
    segment: SegmentSettings,
    now: datetime,
    *,
    pool: Pool | None = None,
    summariser: Summariser | None = None,
) -> Draft:
    """The segment's next edition as a send composes it."""
    weights = {s.name: s.weight for s in config.sources}
    modes = {s.name: s.summary_source for s in config.sources}
    return compose(
        session,
        segment,
        now,
        source_weights=weights,
        pool=pool,
        summariser=summariser,
        summary_sources=modes,
    )


def next_edition(
    store: Store,
    config: Config,
    segment: str,
    *,
    group: Topics | None = None,
    now: datetime | None = None,
    recent: RecentArticles | None = None,
) -> NextEditionView:
    """The segment's next edition, shown as the readers of ``group`` get it (None: the
    whole edition, as readers who follow no tag get it). ``recent``: the articles a
    long-lived caller keeps between composes (see :mod:`digest.compose.recent`)."""
    now = now or utcnow()
    settings = config.segment(segment)
    with store.session() as session:
        pool = Pool.load(session, [settings], now, recent=recent)
        draft = compose_next(session, config, settings, now, pool=pool)
        left_out = left_out_of(session, draft, pool, now)
        groups = groups_of(session, draft) if settings.personalised and draft.items else ()
        held = waiting_hold(session, segment)
        state = state_of(session, config, draft, held, now)
    shown = draft if group is None else variant_draft(draft, group)
    rendered = render_draft(config, shown, group or ()) if shown.items else None
    sample = sample_reader(config.sender)
    return NextEditionView(
        segment=segment,
        title=title_of(draft),
        state=state,
        items=tuple(desk_item(draft, item, n) for n, item in enumerate(draft.items, start=1)),
        left_out=tuple(left_out),
        subject=rendered.subject if rendered else "",
        note=draft.note,
        note_html=note_html(draft.note),
        html=personalise(rendered, sample, "html") if rendered else "",
        text=personalise(rendered, sample, "text") if rendered else "",
        groups=groups,
        group=group,
        fingerprint=fingerprint_of(draft, config.zone),
        waiting_since=held.due_at if held else None,
        deadline=held.deadline_at if held else None,
        composed_at=draft.composed_at,
    )


def desk_item(draft: Draft, item: DraftItem, position: int) -> DeskItem:
    return DeskItem(
        article_id=item.article_id,
        title=item.title,
        summary=item.summary,
        url=item.url,
        source=item.source,
        author=item.author,
        published=item.published,
        tags=item.tags,
        score=item.score,
        parts=item.parts,
        reason=item.reason,
        pinned=item.article_id in draft.pinned,
        edited=item.article_id in draft.edited,
        position=position,
        also=item.also,
    )


def state_of(
    session: Session, config: Config, draft: Draft, held: Held | None, now: datetime
) -> str:
    """The state of the segment's next edition."""
    segment = draft.segment
    sending = session.scalar(
        select(Edition.id).where(
            Edition.segment == segment.name, Edition.status == EditionStatus.sending
        )
    )
    if sending is not None:
        return SENDING
    if held is not None:
        return WAITING
    if not nothing_to_send(draft, config.zone):
        return DRAFT
    latest = session.scalar(
        select(func.max(Edition.created_at)).where(Edition.segment == segment.name)
    )
    due = last_run(segment.schedule, config.segment_zone(segment.name), now)
    if latest is not None and due is not None and latest >= due:
        return SENT  # this period's edition went out, and nothing is new since
    return NOTHING_NEW


def groups_of(session: Session, draft: Draft) -> tuple[ReaderGroup, ...]:
    """A personalised edition's reader groups, readers who follow no tag first, then the
    largest."""
    found, _ = reader_groups(session, draft, audience(draft.segment))
    groups = [ReaderGroup(topics, len(readers)) for topics, readers in found.items()]
    return tuple(sorted(groups, key=lambda g: (g.topics is not None, -g.readers, g.topics or ())))


def left_out_of(session: Session, draft: Draft, pool: Pool, now: datetime) -> list[LeftOut]:
    """Every candidate the draft leaves out with its reason; pinned articles it cannot
    carry; and new reports of stories the segment already sent."""
    segment = draft.segment.name
    dropped = list(draft.dropped)
    urls = {a.id: a.url for a in pool.articles.values()}
    missing = [d.article_id for d in dropped if d.article_id not in urls]
    if missing:
        urls.update(session.execute(select(Article.id, Article.url).where(Article.id.in_(missing))))
    found = [
        LeftOut(d.article_id, d.title, urls.get(d.article_id, ""), d.source, d.score, d.reason)
        for d in dropped
    ]
    known = {i.article_id for i in draft.items} | {d.article_id for d in dropped}
    for article_id in sorted(draft.pinned - known):
        article = session.get(Article, article_id)
        if article is None:
            continue
        edition = sent_in(session, segment, article_id)
        reason = (
            f"already sent in edition {edition.id} ({edition.created_at:%Y-%m-%d}); pinned: "
            "the next edition clears the pin"
            if edition is not None
            else "pinned, but not a candidate of this segment"
        )
        outlet = article.source.title or article.source.name
        found.append(LeftOut(article_id, article.title, article.url, outlet, 0.0, reason))
    carried = pool.carried_reports(draft.segment, now)
    if carried:
        story = func.coalesce(Article.cluster_id, Article.id)
        first = dict(
            session.execute(
                select(story, func.min(Edition.id))
                .join(EditionItem, EditionItem.article_id == Article.id)
                .join(Edition, Edition.id == EditionItem.edition_id)
                .where(Edition.segment == segment, story.in_(sorted({a.story for a in carried})))
                .group_by(story)
            ).all()
        )
        for a in carried:
            if a.story in first:
                reason = f"already sent in edition {first[a.story]}: a report of the same story"
                found.append(LeftOut(a.id, a.title, a.url, a.outlet, 0.0, reason))
    return found
