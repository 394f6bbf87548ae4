"""Collect a segment's candidates: recent articles in its tags, not yet sent to it.

A story counts once: an article whose story (cluster) one of the segment's editions
already carried is not a candidate, and :func:`siblings` finds the other reports of the
chosen stories for the "also covered by" links.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Exists, Select, func, select
from sqlalchemy.orm import Session

from digest.settings import SegmentSettings
from digest.store.models import Article, ArticleTag, Edition, EditionItem


def last_cutoff(session: Session, segment: str) -> datetime | None:
    """When the segment's latest edition was composed: articles seen since then are new."""
    return session.scalar(select(func.max(Edition.created_at)).where(Edition.segment == segment))


def candidates(session: Session, segment: SegmentSettings, now: datetime) -> list[Article]:
    """Articles first seen since the segment's last edition, published within the lookback
    window, matching its tags, and of no story one of its editions carried."""
    since = now - timedelta(days=segment.lookback_days)
    cutoff = last_cutoff(session, segment.name)
    carried = (
        select(EditionItem.article_id)
        .join(Edition, Edition.id == EditionItem.edition_id)
        .where(Edition.segment == segment.name)
    )
    carried_stories = select(func.coalesce(Article.cluster_id, Article.id)).where(
        Article.id.in_(carried)
    )
    query = select(Article).where(
        Article.published_at >= since,
        Article.id.not_in(carried),
        func.coalesce(Article.cluster_id, Article.id).not_in(carried_stories),
    )
    if cutoff is not None:
        query = query.where(Article.first_seen_at > cutoff)
    if segment.include_tags:
        query = query.where(_tagged(segment.include_tags))
    return list(session.scalars(_excluding(query, segment).order_by(*ORDER)))


def pinned_extra(session: Session, segment: str, ids: Collection[int]) -> list[Article]:
    """Pinned articles that are not candidates (seen before the last edition, say), unless
    one of the segment's editions already carried them."""
    if not ids:
        return []
    carried = (
        select(EditionItem.article_id)
        .join(Edition, Edition.id == EditionItem.edition_id)
        .where(Edition.segment == segment)
    )
    query = select(Article).where(Article.id.in_(sorted(ids)), Article.id.not_in(carried))
    return list(session.scalars(query.order_by(*ORDER)))


def siblings(
    session: Session, chosen: Sequence[Article], segment: SegmentSettings, now: datetime
) -> dict[int, list[Article]]:
    """Other reports of the chosen articles' stories, by story, oldest first: published
    within the lookback window and not excluded by the segment's tags, whatever their
    other tags (a report of the story filed under another topic is still coverage)."""
    stories = {a.cluster_id for a in chosen if a.cluster_id is not None}
    if not stories:
        return {}
    query = select(Article).where(
        Article.cluster_id.in_(sorted(stories)),
        Article.id.not_in([a.id for a in chosen]),
        Article.published_at >= now - timedelta(days=segment.lookback_days),
    )
    found: dict[int, list[Article]] = {}
    for article in session.scalars(_excluding(query, segment).order_by(*OLDEST_FIRST)):
        found.setdefault(article.cluster_id or article.id, []).append(article)
    return found


ORDER = (Article.published_at.desc(), Article.id)
OLDEST_FIRST = (Article.published_at, Article.id)


def _excluding(query: Select[Article], segment: SegmentSettings) -> Select[Article]:
    return query.where(~_tagged(segment.exclude_tags)) if segment.exclude_tags else query


def _tagged(tags: tuple[str, ...]) -> Exists:
    return (
        select(ArticleTag.article_id)
        .where(ArticleTag.article_id == Article.id, ArticleTag.tag.in_(list(tags)))
        .exists()
    )
