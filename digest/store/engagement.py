"""Per-article engagement from the provider's open and click events, for ranking.

One row per (edition, article). An open of an edition counts for every article in it
(the article was seen); a click counts for the article its link points to. The ratio
``clicks / opens`` is the article's click rate among readers who opened the edition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from digest.store.models import Article, ArticleEngagement, EditionItem


@dataclass(frozen=True)
class Engagement:
    opens: int
    clicks: int

    @property
    def click_rate(self) -> float:
        return self.clicks / self.opens if self.opens else 0.0


def _ensure_rows(
    session: Session, edition_id: int, article_ids: Iterable[int], now: datetime
) -> None:
    wanted = set(article_ids)
    have = set(
        session.scalars(
            select(ArticleEngagement.article_id).where(ArticleEngagement.edition_id == edition_id)
        )
    )
    session.add_all(
        ArticleEngagement(edition_id=edition_id, article_id=a, opens=0, clicks=0, updated_at=now)
        for a in sorted(wanted - have)
    )
    session.flush()


def record_opens(session: Session, edition_id: int, count: int, now: datetime) -> bool:
    """Count ``count`` opens for every article of the edition; False if it has none."""
    items = list(
        session.scalars(select(EditionItem.article_id).where(EditionItem.edition_id == edition_id))
    )
    if not items:
        return False
    _ensure_rows(session, edition_id, items, now)
    session.execute(
        update(ArticleEngagement)
        .where(ArticleEngagement.edition_id == edition_id)
        .values(opens=ArticleEngagement.opens + count, updated_at=now)
    )
    return True


def record_click(session: Session, edition_id: int, article_id: int, now: datetime) -> None:
    _ensure_rows(session, edition_id, [article_id], now)
    session.execute(
        update(ArticleEngagement)
        .where(
            ArticleEngagement.edition_id == edition_id,
            ArticleEngagement.article_id == article_id,
        )
        .values(clicks=ArticleEngagement.clicks + 1, updated_at=now)
    )


def engagement(session: Session, article_ids: Iterable[int]) -> dict[int, Engagement]:
    """Opens and clicks of each article over all editions; articles with none are absent."""
    rows = session.execute(
        select(
            ArticleEngagement.article_id,
            func.sum(ArticleEngagement.opens),
            func.sum(ArticleEngagement.clicks),
        )
        .where(ArticleEngagement.article_id.in_(list(article_ids)))
        .group_by(ArticleEngagement.article_id)
    )
    return {int(a): Engagement(int(o or 0), int(c or 0)) for a, o, c in rows}


def engagement_since(session: Session, since: datetime) -> dict[int, Engagement]:
    """Opens and clicks of each article published since ``since``, as :func:`engagement`."""
    rows = session.execute(
        select(
            ArticleEngagement.article_id,
            func.sum(ArticleEngagement.opens),
            func.sum(ArticleEngagement.clicks),
        )
        .join(Article, Article.id == ArticleEngagement.article_id)
        .where(Article.published_at >= since)
        .group_by(ArticleEngagement.article_id)
    )
    return {int(a): Engagement(int(o or 0), int(c or 0)) for a, o, c in rows}
