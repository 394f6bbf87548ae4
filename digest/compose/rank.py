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
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from digest.compose.candidate import Candidate
from digest.settings import SegmentSettings

HALF_LIFE_HOURS = 24.0


@dataclass(frozen=True, slots=True)
class Breakdown:
    """The parts of a score, and what the reason quotes."""

    recency: float
    tag_match: float
    source_weight: float
    engagement: float
    boost: float
    age_hours: float
    matched: tuple[str, ...]

    def parts(self) -> dict[str, float]:
        return {
            "recency": round(self.recency, 6),
            "tag_match": round(self.tag_match, 6),
            "source_weight": round(self.source_weight, 6),
            "engagement": round(self.engagement, 6),
            "boost": round(self.boost, 6),
        }

    def reason(self) -> str:
        why = f"published {self.age_hours:.0f} h ago"
        why += f"; tagged {', '.join(self.matched)}" if self.matched else ""
        why += f"; source weight {self.source_weight:g}" if self.source_weight != 1 else ""
        why += f"; click rate {self.engagement:.0%}" if self.engagement else ""
        why += f"; editor boost {self.boost:g}" if self.boost else ""
        return why


class Explainer(Protocol):
    def breakdown(self, article: Candidate) -> Breakdown: ...


class Scored(NamedTuple):
    """A ranked candidate. Its parts and reason are worked out only when asked for: most
    candidates of a large pool are never shown."""

    article: Candidate
    score: float
    explainer: Explainer | None = None

    @property
    def parts(self) -> dict[str, float]:
        return self.explainer.breakdown(self.article).parts() if self.explainer else {}

    @property
    def reason(self) -> str:
        return self.explainer.breakdown(self.article).reason() if self.explainer else ""


class Ranker(Protocol):
    def rank(
        self, articles: Sequence[Candidate], segment: SegmentSettings, now: datetime
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
        self, articles: Sequence[Candidate], segment: SegmentSettings, now: datetime
    ) -> list[Scored]:
        context = _Context(self, segment, now)
        weights, engagement, boosts = self.source_weights, self.engagement, self.boosts
        wanted, share, half_life, stamp = (
            context.wanted,
            0.5 / len(context.wanted) if context.wanted else 0.0,
            context.half_life * 3600,
            now.timestamp(),
        )
        scored = []
        for article in articles:
            recency = 0.5 ** (max(0.0, stamp - article.stamp) / half_life)
            matched = share * len(wanted & article.tag_set) if wanted else 0.5
            score = recency * (0.5 + matched) * weights.get(article.source_name, 1.0)
            if engagement:
                score *= 1 + engagement.get(article.id, 0.0)
            if boosts:
                score += boosts.get(article.id, 0.0)
            scored.append(Scored(article, round(score, 6), context))
        scored.sort(key=lambda s: (-s.score, -s.article.stamp, s.article.id))
        return scored

    def breakdown(
        self, article: Candidate, wanted: frozenset[str], half_life: float, now: datetime
    ) -> Breakdown:
        age = max(0.0, (now - article.published_at).total_seconds() / 3600)
        matched = tuple(t for t in article.tags if t in wanted)
        return Breakdown(
            recency=0.5 ** (age / half_life),
            tag_match=len(matched) / len(wanted) if wanted else 1.0,
            source_weight=self.source_weights.get(article.source_name, 1.0),
            engagement=self.engagement.get(article.id, 0.0),
            boost=self.boosts.get(article.id, 0.0),
            age_hours=age,
            matched=matched,
        )


class _Context:
    """One ranking's settings, shared by its candidates to explain their scores."""

    def __init__(self, ranker: RecencyTagRanker, segment: SegmentSettings, now: datetime) -> None:
        self.ranker, self.now = ranker, now
        self.wanted = frozenset(segment.include_tags)
        self.half_life = segment.half_life_hours if segment.half_life_hours > 0 else HALF_LIFE_HOURS

    def breakdown(self, article: Candidate) -> Breakdown:
        return self.ranker.breakdown(article, self.wanted, self.half_life, self.now)
