"""Collect a segment's candidates: recent articles in its tags, not yet sent to it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Exists, func, select
from sqlalchemy.orm import Session

from digest.settings import SegmentSettings
from digest.store.models import Article, ArticleTag, Edition, EditionItem


def last_cutoff(session: Session, segment: str) -> datetime | None:
    """When the segment's latest edition was composed: articles seen since then are new."""
    return session.scalar(select(func.max(Edition.created_at)).where(Edition.segment == segment))


def candidates(session: Session, segment: SegmentSettings, now: datetime) -> list[Article]:
    """Articles first seen since the segment's last edition, published within the lookback
    window, matching its tags, and never carried by one of its editions."""
    since = now - timedelta(days=segment.lookback_days)
    cutoff = last_cutoff(session, segment.name)
    already = (
        select(EditionItem.article_id)
        .join(Edition, Edition.id == EditionItem.edition_id)
        .where(Edition.segment == segment.name)
    )
    query = select(Article).where(
        Article.published_at >= since,
        Article.id.not_in(already),
    )
    if cutoff is not None:
        query = query.where(Article.first_seen_at > cutoff)
    if segment.include_tags:
        query = query.where(_tagged(segment.include_tags))
    if segment.exclude_tags:
        query = query.where(~_tagged(segment.exclude_tags))
    return list(session.scalars(query.order_by(Article.published_at.desc(), Article.id)))


def _tagged(tags: tuple[str, ...]) -> Exists:
    return (
        select(ArticleTag.article_id)
        .where(ArticleTag.article_id == Article.id, ArticleTag.tag.in_(list(tags)))
        .exists()
    )
