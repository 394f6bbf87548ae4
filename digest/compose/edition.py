"""Compose the next edition of a segment: what goes in, in what order, with what summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from digest.compose.collect import candidates, last_cutoff
from digest.compose.rank import Ranker, RecencyTagRanker
from digest.compose.summarise import LeadSummariser, Summariser
from digest.settings import SegmentSettings


@dataclass(frozen=True)
class DraftItem:
    article_id: int
    title: str
    url: str
    source: str
    author: str
    published: datetime
    tags: tuple[str, ...]
    summary: str
    score: float
    parts: dict[str, float]
    reason: str


@dataclass(frozen=True)
class Draft:
    """An edition before it is stored: its items in order, and the time it covers from."""

    segment: SegmentSettings
    items: tuple[DraftItem, ...]
    since: datetime | None
    composed_at: datetime


def compose(
    session: Session,
    segment: SegmentSettings,
    now: datetime,
    *,
    ranker: Ranker | None = None,
    summariser: Summariser | None = None,
) -> Draft:
    ranker = ranker or RecencyTagRanker()
    summariser = summariser or LeadSummariser()
    ranked = ranker.rank(candidates(session, segment, now), segment, now)[: segment.max_items]
    items = tuple(
        DraftItem(
            article_id=s.article.id,
            title=s.article.title,
            url=s.article.url,
            source=s.article.source.title or s.article.source.name,
            author=s.article.author,
            published=s.article.published_at,
            tags=tuple(s.article.tag_names),
            summary=summariser.summarise(s.article.title, s.article.text, segment.summary_words),
            score=s.score,
            parts=s.parts,
            reason=s.reason,
        )
        for s in ranked
    )
    return Draft(segment, items, last_cutoff(session, segment.name), now)
