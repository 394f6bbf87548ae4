"""Ranking: a small interface, and the first version from recency and tag match."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from digest.settings import SegmentSettings
from digest.store.models import Article

HALF_LIFE_HOURS = 24.0


@dataclass(frozen=True)
class Scored:
    article: Article
    score: float
    parts: dict[str, float] = field(default_factory=dict)
    reason: str = ""


class Ranker(Protocol):
    def rank(
        self, articles: Sequence[Article], segment: SegmentSettings, now: datetime
    ) -> list[Scored]:
        """Candidates best first, each with its score's parts and a reason."""
        ...


class RecencyTagRanker:
    """Score = recency × (½ + ½ · tag match); recency halves every ``half_life_hours``."""

    def __init__(self, half_life_hours: float = HALF_LIFE_HOURS) -> None:
        self.half_life_hours = half_life_hours

    def rank(
        self, articles: Sequence[Article], segment: SegmentSettings, now: datetime
    ) -> list[Scored]:
        wanted = set(segment.include_tags)
        scored = []
        for article in articles:
            age = max(0.0, (now - article.published_at).total_seconds() / 3600)
            recency = 0.5 ** (age / self.half_life_hours)
            matched = sorted(wanted.intersection(article.tag_names))
            tag_match = len(matched) / len(wanted) if wanted else 1.0
            score = recency * (0.5 + 0.5 * tag_match)
            why = f"published {age:.0f} h ago"
            why += f"; tagged {', '.join(matched)}" if matched else ""
            scored.append(
                Scored(
                    article,
                    round(score, 6),
                    {"recency": round(recency, 6), "tag_match": round(tag_match, 6)},
                    why,
                )
            )
        return sorted(
            scored, key=lambda s: (-s.score, -s.article.published_at.timestamp(), s.article.id)
        )
