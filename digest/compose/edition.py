"""Compose the next edition of a segment: what goes in, in what order, with what summary.

Candidates are ranked (:mod:`digest.compose.rank`), then one item per story: of the
candidates that report one story (one cluster), the highest-ranked stands for it — on a
tie, the one from the source with the larger ``weight``, then the earliest published —
and the story's other reports become the item's "also covered by" links, one per outlet.
:mod:`digest.compose.choose` then picks the items (pins, per-source caps, topic
diversity); every candidate left out is in :attr:`Draft.dropped` with its reason.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from digest.compose.choices import choices
from digest.compose.choose import Dropped, choose, drop, outlet
from digest.compose.collect import candidates, last_cutoff, pinned_extra, siblings
from digest.compose.rank import Ranker, RecencyTagRanker, Scored
from digest.compose.summarise import Summariser, default_summariser
from digest.compose.summary_cache import summary
from digest.settings import SegmentSettings
from digest.store.engagement import engagement
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
    dropped: tuple[Dropped, ...] = ()  # every other candidate, with the reason it was left


def compose(
    session: Session,
    segment: SegmentSettings,
    now: datetime,
    *,
    ranker: Ranker | None = None,
    summariser: Summariser | None = None,
    source_weights: Mapping[str, float] | None = None,
    pinned: Collection[int] = (),
    excluded: Collection[int] = (),
) -> Draft:
    """``source_weights`` (source name → ``[sources.NAME] weight``) scale the score and
    break ties between reports of one story; ``pinned`` articles lead the edition and
    ``excluded`` ones are left out (the editor's choices)."""
    chosen_by_editor = choices(session, segment.name)
    pinned = set(pinned) | chosen_by_editor.pinned
    excluded = set(excluded) | chosen_by_editor.excluded
    found = candidates(session, segment, now)
    found += pinned_extra(session, segment.name, pinned - {a.id for a in found})
    weights = source_weights or {}
    if ranker is None:
        rates = engagement(session, [a.id for a in found])
        ranker = RecencyTagRanker(weights, {a: e.click_rate for a, e in rates.items()})
    cached = summariser is None  # the default's summaries are kept per article and text
    summariser = summariser or default_summariser()
    ranked = ranker.rank(found, segment, now)
    dropped = [drop(s, "excluded by the editor") for s in ranked if s.article.id in excluded]
    ranked = [s for s in ranked if s.article.id not in excluded]
    stories = one_per_story(ranked, weights)
    best_of = {_story(best.article): best.article for best, _ in stories}
    for scored in ranked:
        first = best_of[_story(scored.article)]
        if first is not scored.article:
            dropped.append(drop(scored, f"same story as #{first.id} {first.title!r}"))
    picks, below = choose([best for best, _ in stories], segment, pinned)
    dropped.extend(below)
    rest_of = {best.article.id: rest for best, rest in stories}
    chosen = [pick.scored.article for pick in picks]
    others = siblings(session, chosen, segment, now)
    items = tuple(
        DraftItem(
            article_id=article.id,
            title=article.title,
            url=article.url,
            source=outlet(article),
            author=article.author,
            published=article.published_at,
            tags=tuple(article.tag_names),
            summary=summary(summariser, article, segment.summary_words)
            if cached
            else summariser.summarise(article.title, article.text, segment.summary_words),
            score=pick.scored.score,
            parts=pick.scored.parts,
            reason=pick.reason,
            also=also_covered(article, [*rest_of[article.id], *others.get(_story(article), [])]),
        )
        for pick, article in zip(picks, chosen, strict=True)
    )
    return Draft(segment, items, last_cutoff(session, segment.name), now, tuple(dropped))


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


def _story(article: Article) -> int:
    return article.cluster_id or article.id
