"""Choose an edition's items from the ranked stories, and say why each other one was left.

The editor's pins come first, in ranking order. Then, while there is room (``max_items``),
maximal marginal relevance picks the story with the best

    (1 − diversity) × score / top score − diversity × overlap

where ``overlap`` is the largest Jaccard similarity between its tags and those of an item
already picked; so one topic does not fill the edition (``diversity = 0`` keeps the plain
ranking). A source that has ``max_per_source`` items gives no more. Whatever is left is
below the cut. Every candidate not chosen becomes a :class:`Dropped` with its reason.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from digest.compose.rank import Scored
from digest.settings import SegmentSettings
from digest.store.models import Article


@dataclass(frozen=True)
class Dropped:
    """A candidate the edition left out, and why."""

    article_id: int
    title: str
    source: str
    reason: str
    score: float


@dataclass(frozen=True)
class Pick:
    scored: Scored
    reason: str  # the ranker's reason, with what the choice added


def choose(
    ranked: Sequence[Scored], segment: SegmentSettings, pinned: Collection[int] = ()
) -> tuple[list[Pick], list[Dropped]]:
    """The items in edition order, and the left-out candidates with their reasons."""
    pool = list(ranked)
    top = max((s.score for s in pool), default=0.0) or 1.0
    picks: list[Pick] = []
    dropped: list[Dropped] = []
    per_source: dict[str, int] = {}
    for scored in [s for s in pool if s.article.id in pinned]:
        pool.remove(scored)
        picks.append(Pick(scored, "pinned by the editor; " + scored.reason))
        per_source[outlet(scored.article)] = per_source.get(outlet(scored.article), 0) + 1
    cap = segment.max_per_source
    weight = segment.diversity
    tags = {id(s): frozenset(s.article.tag_names) for s in pool}
    chosen = [frozenset(p.scored.article.tag_names) for p in picks]

    def full(scored: Scored) -> bool:
        return bool(cap) and per_source.get(outlet(scored.article), 0) >= cap

    while pool and len(picks) < segment.max_items:
        best, value, overlap = -1, -math.inf, 0.0
        for i, scored in enumerate(pool):
            if full(scored):
                continue
            bound = (1 - weight) * scored.score / top
            if bound <= value:
                break  # ranked by score: no later candidate can do better
            near = max((jaccard(tags[id(scored)], c) for c in chosen), default=0.0)
            if bound - weight * near > value:
                best, value, overlap = i, bound - weight * near, near
        if best < 0:
            break
        scored = pool.pop(best)
        why = scored.reason + (f"; tag overlap {overlap:.2f}" if weight and overlap else "")
        picks.append(Pick(scored, why))
        chosen.append(tags[id(scored)])
        per_source[outlet(scored.article)] = per_source.get(outlet(scored.article), 0) + 1
    room = f"below the cut: room for {segment.max_items} items"
    for scored in pool:
        name = outlet(scored.article)
        reason = f"source cap: already {cap} from {name}" if full(scored) else room
        dropped.append(drop(scored, reason))
    return picks, dropped


def drop(scored: Scored, reason: str) -> Dropped:
    article = scored.article
    return Dropped(article.id, article.title, outlet(article), reason, scored.score)


def jaccard(mine: frozenset[str], other: frozenset[str]) -> float:
    union = len(mine | other)
    return len(mine & other) / union if union else 0.0


def outlet(article: Article) -> str:
    return article.source.title or article.source.name
