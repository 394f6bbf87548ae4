"""Compose the next edition of a segment: what goes in, in what order, with what summary.

One item per story: of the candidates that report one story (one cluster), the
highest-ranked stands for it — on a tie, the one from the source with the larger
``weight``, then the earliest published — and the story's other reports become the
item's "also covered by" links, one per outlet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from digest.compose.collect import candidates, last_cutoff, siblings
from digest.compose.rank import Ranker, RecencyTagRanker, Scored
from digest.compose.summarise import Summariser, default_summariser
from digest.settings import SegmentSettings
from digest.store.models import Article


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
    also: tuple[tuple[str, str], ...] = ()  # (outlet, url) of the story's other reports


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
    source_weights: Mapping[str, float] | None = None,
) -> Draft:
    """``source_weights`` (source name → ``[sources.NAME] weight``) break ranking ties."""
    ranker = ranker or RecencyTagRanker()
    summariser = summariser or default_summariser()
    ranked = ranker.rank(candidates(session, segment, now), segment, now)
    stories = one_per_story(ranked, source_weights or {})[: segment.max_items]
    others = siblings(session, [best.article for best, _ in stories], segment, now)
    items = tuple(
        DraftItem(
            article_id=best.article.id,
            title=best.article.title,
            url=best.article.url,
            source=outlet(best.article),
            author=best.article.author,
            published=best.article.published_at,
            tags=tuple(best.article.tag_names),
            summary=summariser.summarise(
                best.article.title, best.article.text, segment.summary_words
            ),
            score=best.score,
            parts=best.parts,
            reason=best.reason,
            also=also_covered(best.article, [*rest, *others.get(_story(best.article), [])]),
        )
        for best, rest in stories
    )
    return Draft(segment, items, last_cutoff(session, segment.name), now)


def one_per_story(
    ranked: Sequence[Scored], weights: Mapping[str, float]
) -> list[tuple[Scored, list[Article]]]:
    """The best candidate of each story, in ranking order, with the story's other candidates."""
    stories: dict[int, list[Scored]] = {}
    for scored in ranked:
        stories.setdefault(_story(scored.article), []).append(scored)
    position = {id(s): i for i, s in enumerate(ranked)}
    chosen = []
    for members in stories.values():
        best = min(
            members,
            key=lambda s: (
                -s.score,
                -weights.get(s.article.source.name, 1.0),
                s.article.published_at,
                s.article.id,
            ),
        )
        chosen.append((best, [m.article for m in members if m is not best]))
    return sorted(chosen, key=lambda pair: position[id(pair[0])])


def also_covered(item: Article, others: Sequence[Article]) -> tuple[tuple[str, str], ...]:
    """(outlet, url) of each other outlet's report, the first one per outlet."""
    seen = {outlet(item)}
    links = []
    for other in others:
        name = outlet(other)
        if name not in seen:
            seen.add(name)
            links.append((name, other.url))
    return tuple(links)


def outlet(article: Article) -> str:
    return article.source.title or article.source.name


def _story(article: Article) -> int:
    return article.cluster_id or article.id
