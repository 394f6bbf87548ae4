"""Ranking: a small interface, and the score every candidate gets, part by part.

    score = recency × (½ + ½ · tag_match) × source_weight × (1 + engagement) + boost

- ``recency`` = ½ ^ (age in hours / the segment's ``half_life_hours``): 1 when just
  published, ½ one half-life later;
- ``tag_match`` = the share of the segment's ``include_tags`` the article carries (1 when
  the segment names none), so an unmatched article keeps half its recency;
- ``source_weight`` = the source's ``[sources.NAME] weight`` (default 1);
- ``engagement`` = the article's click rate among readers who opened an edition that
  carried it (:func:`digest.store.engagement.engagement`), 0 when it has none;
- ``boost`` = an editor's boost, added on top (0 unless given).

Each part is kept in :attr:`Scored.parts`, so an item's place can be read off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    """The score of the module docstring; ties go to the newer, then the lower id."""

    def __init__(
        self,
        source_weights: Mapping[str, float] | None = None,
        engagement: Mapping[int, float] | None = None,
        boosts: Mapping[int, float] | None = None,
    ) -> None:
        self.source_weights = source_weights or {}
        self.engagement = engagement or {}
        self.boosts = boosts or {}

    def rank(
        self, articles: Sequence[Article], segment: SegmentSettings, now: datetime
    ) -> list[Scored]:
        scored = [self.score(article, segment, now) for article in articles]
        return sorted(
            scored, key=lambda s: (-s.score, -s.article.published_at.timestamp(), s.article.id)
        )

    def score(self, article: Article, segment: SegmentSettings, now: datetime) -> Scored:
        wanted = set(segment.include_tags)
        half_life = segment.half_life_hours if segment.half_life_hours > 0 else HALF_LIFE_HOURS
        age = max(0.0, (now - article.published_at).total_seconds() / 3600)
        matched = sorted(wanted.intersection(article.tag_names))
        parts = {
            "recency": 0.5 ** (age / half_life),
            "tag_match": len(matched) / len(wanted) if wanted else 1.0,
            "source_weight": self.source_weights.get(article.source.name, 1.0),
            "engagement": self.engagement.get(article.id, 0.0),
            "boost": self.boosts.get(article.id, 0.0),
        }
        score = (
            parts["recency"]
            * (0.5 + 0.5 * parts["tag_match"])
            * parts["source_weight"]
            * (1 + parts["engagement"])
            + parts["boost"]
        )
        why = f"published {age:.0f} h ago"
        why += f"; tagged {', '.join(matched)}" if matched else ""
        why += f"; source weight {parts['source_weight']:g}" if parts["source_weight"] != 1 else ""
        why += f"; click rate {parts['engagement']:.0%}" if parts["engagement"] else ""
        why += f"; editor boost {parts['boost']:g}" if parts["boost"] else ""
        rounded = {name: round(value, 6) for name, value in parts.items()}
        return Scored(article, round(score, 6), rounded, why)
