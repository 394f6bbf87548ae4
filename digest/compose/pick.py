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


@dataclass
class Choice:
    """The picks, and what it takes to say why each other candidate was left out."""

    picks: list[Pick]
    rest: list[Scored]  # the candidates not picked, in ranking order
    per_source: dict[str, int]
    segment: SegmentSettings

    def dropped(self) -> list[Dropped]:
        cap = self.segment.max_per_source
        room = f"below the cut: room for {self.segment.max_items} items"
        left = []
        for scored in self.rest:
            name = scored.article.outlet
            full = bool(cap) and self.per_source.get(name, 0) >= cap
            left.append(drop(scored, f"source cap: already {cap} from {name}" if full else room))
        return left


def choose(
    ranked: Sequence[Scored], segment: SegmentSettings, pinned: Collection[int] = ()
) -> tuple[list[Pick], list[Dropped]]:
    """The items in edition order, and the left-out candidates with their reasons."""
    choice = pick(ranked, segment, pinned)
    return choice.picks, choice.dropped()


def pick(
    ranked: Sequence[Scored], segment: SegmentSettings, pinned: Collection[int] = ()
) -> Choice:
    """:func:`choose`, leaving the reasons for the candidates left out until asked for."""
    pool = list(ranked)
    top = max((s.score for s in pool), default=0.0) or 1.0
    picks: list[Pick] = []
    per_source: dict[str, int] = {}
    if pinned:
        for scored in [s for s in pool if s.article.id in pinned]:
            pool.remove(scored)
            picks.append(Pick(scored, "pinned by the editor; " + scored.reason))
            per_source[scored.article.outlet] = per_source.get(scored.article.outlet, 0) + 1
    cap = segment.max_per_source
    weight = segment.diversity
    chosen = [p.scored.article.tag_set for p in picks]
    near: dict[int, tuple[float, int]] = {}  # article → its overlap with the first n chosen
    while pool and len(picks) < segment.max_items:
        best, value, overlap = -1, -math.inf, 0.0
        for i, scored in enumerate(pool):
            article = scored.article
            if cap and per_source.get(article.outlet, 0) >= cap:
                continue
            bound = (1 - weight) * scored.score / top
            if bound <= value:
                break  # ranked by score: no later candidate can do better
            closest = 0.0
            if weight and chosen:
                closest, compared = near.get(article.id, (0.0, 0))
                for tags in chosen[compared:]:
                    closest = max(closest, jaccard(article.tag_set, tags))
                near[article.id] = (closest, len(chosen))
            if bound - weight * closest > value:
                best, value, overlap = i, bound - weight * closest, closest
        if best < 0:
            break
        scored = pool.pop(best)
        why = scored.reason + (f"; tag overlap {overlap:.2f}" if weight and overlap else "")
        picks.append(Pick(scored, why))
        chosen.append(scored.article.tag_set)
        per_source[scored.article.outlet] = per_source.get(scored.article.outlet, 0) + 1
    return Choice(picks, pool, per_source, segment)


def drop(scored: Scored, reason: str) -> Dropped:
    article = scored.article
    return Dropped(article.id, article.title, article.outlet, reason, scored.score)


def jaccard(mine: frozenset[str], other: frozenset[str]) -> float:
    union = len(mine | other)
    return len(mine & other) / union if union else 0.0
