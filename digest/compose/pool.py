"""The articles a run composes from, read once for all the segments it composes.

Composing segment by segment with a round of queries each costs a run of 100 segments
100 rounds over the same articles. :meth:`Pool.load` reads, in a handful of queries,
every article published within the longest lookback window (all but its text: only the
chosen items' summaries need that, see :func:`texts`), their tags and sources
(:mod:`digest.compose.recent`, which can keep them between loads), their engagement, and
for each segment what its editions already carried and the editor's choices.
:meth:`Pool.candidates` then picks a segment's candidates in memory.

A segment's candidates are the articles first seen since its last edition, published
within its lookback window, carrying one of its ``include_tags`` (any article when it
names none) and none of its ``exclude_tags``, and of no story one of its editions carried.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from digest.compose.candidate import Candidate
from digest.compose.editor_changes import EditorChanges, load_changes
from digest.compose.recent import RecentArticles, read_recent
from digest.settings import SegmentSettings
from digest.store.engagement import engagement, engagement_since
from digest.store.models import Article, Edition, EditionItem, EditorAction, EditorChoice


@dataclass
class History:
    """What one segment's editions and editor left behind."""

    latest: int | None = None  # the newest edition's id, read before anything else
    cutoff: datetime | None = None  # when the newest edition was composed
    carried: set[int] = field(default_factory=set)  # articles its editions carried
    carried_stories: set[int] = field(default_factory=set)
    pinned: set[int] = field(default_factory=set)
    excluded: set[int] = field(default_factory=set)
    changes: EditorChanges = field(default_factory=EditorChanges)  # order, edits, note, subject


class Pool:
    def __init__(
        self,
        articles: Iterable[Candidate],
        histories: dict[str, History],
        click_rates: dict[int, float],
    ) -> None:
        self.articles = {a.id: a for a in articles}
        self.histories = histories
        self.click_rates = click_rates
        self.by_tag: dict[str, list[Candidate]] = {}
        self.by_story: dict[int, list[Candidate]] = {}
        for article in self.articles.values():
            for tag in article.tags:
                self.by_tag.setdefault(tag, []).append(article)
            if article.cluster_id is not None:
                self.by_story.setdefault(article.cluster_id, []).append(article)

    @classmethod
    def load(
        cls,
        session: Session,
        segments: Sequence[SegmentSettings],
        now: datetime,
        *,
        recent: RecentArticles | None = None,
    ) -> Pool:
        """The pool of ``segments`` at ``now``; ``recent`` keeps the articles between loads
        (the desk's), read again only when they changed."""
        names = sorted({s.name for s in segments})
        histories = {name: History() for name in names}
        for name, latest, cutoff in session.execute(
            select(Edition.segment, func.max(Edition.id), func.max(Edition.created_at))
            .where(Edition.segment.in_(names))
            .group_by(Edition.segment)
        ):
            histories[name].latest, histories[name].cutoff = latest, cutoff
        since = now - timedelta(days=max((s.lookback_days for s in segments), default=0))
        articles = recent.read(session, since) if recent else read_recent(session, since)
        story = func.coalesce(Article.cluster_id, Article.id)
        stories_in_window = select(story).where(Article.published_at >= since)
        for name, article_id, carried_story in session.execute(
            select(Edition.segment, EditionItem.article_id, story)
            .join(Edition, Edition.id == EditionItem.edition_id)
            .join(Article, Article.id == EditionItem.article_id)
            .where(Edition.segment.in_(names), story.in_(stories_in_window))
        ):
            histories[name].carried.add(article_id)
            histories[name].carried_stories.add(carried_story)
        for choice in session.scalars(select(EditorChoice).where(EditorChoice.segment.in_(names))):
            history = histories[choice.segment]
            (history.pinned if choice.action == EditorAction.pin else history.excluded).add(
                choice.article_id
            )
        for name, changes in load_changes(session, names).items():
            histories[name].changes = changes
        rates = {a: e.click_rate for a, e in engagement_since(session, since).items()}
        return cls(articles, histories, rates)

    def history(self, segment: str) -> History:
        return self.histories.get(segment) or History()

    def candidates(self, segment: SegmentSettings, now: datetime) -> list[Candidate]:
        """The segment's candidates (see the module docstring), newest first."""
        history = self.history(segment.name)
        carried, stories = history.carried, history.carried_stories
        found = [
            a for a in self._new(segment, now) if a.id not in carried and a.story not in stories
        ]
        return sorted(found, key=newest_first)

    def carried_reports(self, segment: SegmentSettings, now: datetime) -> list[Candidate]:
        """The articles that would be candidates but that the segment's editions already
        carried them or a report of their story, newest first."""
        history = self.history(segment.name)
        carried, stories = history.carried, history.carried_stories
        found = [a for a in self._new(segment, now) if a.id in carried or a.story in stories]
        return sorted(found, key=newest_first)

    def _new(self, segment: SegmentSettings, now: datetime) -> Iterable[Candidate]:
        """The articles first seen since the segment's last edition, within its lookback
        window and tags."""
        since = now - timedelta(days=segment.lookback_days)
        cutoff = self.history(segment.name).cutoff
        if segment.include_tags:
            tagged: dict[int, Candidate] = {}
            for tag in segment.include_tags:
                tagged.update((a.id, a) for a in self.by_tag.get(tag, ()))
            pool: Iterable[Candidate] = tagged.values()
        else:
            pool = self.articles.values()
        unwanted = frozenset(segment.exclude_tags)
        return (
            a
            for a in pool
            if a.published_at >= since
            and (cutoff is None or a.first_seen_at > cutoff)
            and not (unwanted and unwanted & a.tag_set)
        )

    def pinned_extra(self, session: Session, segment: str, ids: Collection[int]) -> list[Candidate]:
        """Pinned articles that are not candidates (seen before the last edition, say),
        unless one of the segment's editions already carried them."""
        history = self.history(segment)
        found = [self.articles[i] for i in ids if i in self.articles and i not in history.carried]
        elsewhere = sorted(i for i in ids if i not in self.articles)
        if elsewhere:
            carried = (
                select(EditionItem.article_id)
                .join(Edition, Edition.id == EditionItem.edition_id)
                .where(Edition.segment == segment)
            )
            query = select(Article).where(Article.id.in_(elsewhere), Article.id.not_in(carried))
            found += [Candidate.of(a) for a in session.scalars(query)]
            rates = engagement(session, elsewhere)
            self.click_rates.update((a, e.click_rate) for a, e in rates.items())
        return sorted(found, key=newest_first)

    def siblings(
        self, chosen: Sequence[Candidate], segment: SegmentSettings, now: datetime
    ) -> dict[int, list[Candidate]]:
        """Other reports of the chosen articles' stories, by story, oldest first: published
        within the lookback window and not excluded by the segment's tags, whatever their
        other tags (a report of the story filed under another topic is still coverage)."""
        since = now - timedelta(days=segment.lookback_days)
        shown = {a.id for a in chosen}
        unwanted = frozenset(segment.exclude_tags)
        found: dict[int, list[Candidate]] = {}
        for story in sorted({a.cluster_id for a in chosen if a.cluster_id is not None}):
            others = [
                a
                for a in self.by_story.get(story, ())
                if a.id not in shown and a.published_at >= since and not (unwanted & a.tag_set)
            ]
            if others:
                found[story] = sorted(others, key=lambda a: (a.published_at, a.id))
        return found


def newest_first(article: Candidate) -> tuple[float, int]:
    return (-article.published_at.timestamp(), article.id)


def texts(session: Session, ids: Collection[int]) -> dict[int, str]:
    """The articles' cleaned texts, by id."""
    if not ids:
        return {}
    rows = session.execute(select(Article.id, Article.text).where(Article.id.in_(sorted(ids))))
    return {ident: text or "" for ident, text in rows}


def standfirsts(session: Session, ids: Collection[int]) -> dict[int, str]:
    """The articles' standfirsts, by id, for those that have one."""
    if not ids:
        return {}
    query = select(Article.id, Article.standfirst).where(
        Article.id.in_(sorted(ids)), Article.standfirst != ""
    )
    return {ident: text for ident, text in session.execute(query)}
