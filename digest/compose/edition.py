"""Compose the next edition of a segment: what goes in, in what order, with what summary.

Candidates are ranked (:mod:`digest.compose.rank`), then one item per story: of the
candidates that report one story (one cluster), the highest-ranked stands for it — on a
tie, the one from the source with the larger ``weight``, then the earliest published —
and the story's other reports become the item's "also covered by" links, one per outlet.
A pinned report always stands (for its story, before a better-ranked one).
:mod:`digest.compose.pick` then picks the items (pins, per-source caps, topic
diversity); every candidate left out is in :attr:`Draft.dropped` with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy.orm import Session

from digest.compose import summary_cache
from digest.compose.candidate import Candidate
from digest.compose.editor_changes import in_order
from digest.compose.pick import Dropped, drop, pick
from digest.compose.pool import Pool, standfirsts, texts
from digest.compose.rank import Ranker, RecencyTagRanker, Scored
from digest.compose.standfirst import choose, mode_of
from digest.compose.summarise import Summariser, default_summariser
from digest.settings import SegmentSettings
from digest.store.images import Image


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
    image: Image | None = None  # the article's lead image (url, alt, width, height)


@dataclass(frozen=True)
class Draft:
    """An edition before it is stored: its items in order, and the time it covers from."""

    segment: SegmentSettings
    items: tuple[DraftItem, ...]
    since: datetime | None
    composed_at: datetime
    # every candidate's id (the items' included) and every pin: recording the edition
    # uses up the editor's choices about them
    considered: frozenset[int] = frozenset()
    leftovers: Callable[[], Iterable[Dropped]] = field(default=tuple, repr=False, compare=False)
    pinned: frozenset[int] = frozenset()  # the editor's pins, stored and given
    # The editor's changes it carries (:mod:`digest.compose.editor_changes`): the items
    # whose headline or summary is the editor's, a note (Markdown) and a subject line.
    edited: frozenset[int] = frozenset()
    note: str = ""
    subject: str = ""  # "" is the segment's own
    reordered: bool = False  # the items are in the editor's order, not the order picked

    @cached_property
    def dropped(self) -> tuple[Dropped, ...]:
        """Every candidate not in the edition, with the reason it was left out (worked out
        when first asked for: a run that only sends never needs them)."""
        return tuple(self.leftovers())


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
    pool: Pool | None = None,
    summary_sources: Mapping[str, str] | None = None,
) -> Draft:
    """``source_weights`` (source name → ``[sources.NAME] weight``) scale the score and
    break ties between reports of one story; ``summary_sources`` (source name →
    ``[sources.NAME] summary_source``) say whether an item's summary may be the publisher's
    standfirst (:mod:`digest.compose.standfirst`); ``pinned`` articles lead the edition and
    ``excluded`` ones are left out (the editor's choices, added to those stored). ``pool``
    is the run's :class:`~digest.compose.pool.Pool` when it composes several segments;
    without one, this segment's is read."""
    pool = pool or Pool.load(session, [segment], now)
    history = pool.history(segment.name)
    pinned = set(pinned) | history.pinned
    excluded = set(excluded) | history.excluded
    found = pool.candidates(segment, now)
    found += pool.pinned_extra(session, segment.name, pinned - {a.id for a in found})
    weights = source_weights or {}
    ranker = ranker or RecencyTagRanker(weights, pool.click_rates)
    cached = summariser is None  # the default's summaries are kept per article and text
    summariser = summariser or default_summariser()
    ranked = ranker.rank(found, segment, now)
    kept = [s for s in ranked if s.article.id not in excluded] if excluded else ranked
    stories = one_per_story(kept, weights, pinned)
    choice = pick([best for best, _ in stories], segment, pinned)
    picks = choice.picks

    def leftovers() -> Iterator[Dropped]:
        yield from (drop(s, "excluded by the editor") for s in ranked if s.article.id in excluded)
        stands_for = {other.id: best.article for best, rest in stories for other in rest}
        for scored in kept:
            first = stands_for.get(scored.article.id)
            if first is not None:
                yield drop(scored, f"same story as #{first.id} {first.title!r}")
        yield from choice.dropped()

    picked = {p.scored.article.id for p in picks}
    rest_of = {best.article.id: rest for best, rest in stories if best.article.id in picked}
    chosen = [p.scored.article for p in picks]
    others = pool.siblings(chosen, segment, now)
    changes = history.changes
    # The lead story (first in the editor's order, else the picking's) gets a longer summary.
    lead = next(iter(in_order(chosen, changes.order, lambda a: a.id)), None)

    def words_of(article: Candidate) -> int:
        lead_words = segment.lead_summary_words
        return lead_words if article is lead and lead_words else segment.summary_words

    edits = {a: e for a, e in changes.edits.items() if e.title or e.summary}
    written = {a for a, e in edits.items() if e.summary}  # the editor's summary stands
    modes = summary_sources or {}
    mode = {a.id: mode_of(segment.summary_source, modes, a.source_name) for a in chosen}
    standfirst = standfirsts(session, [a.id for a in chosen if mode[a.id] != "article"])
    unsummarised = [
        a.id
        for a in chosen
        if a.id not in written
        and (
            (mode[a.id] == "auto" and a.id in standfirst)
            or (not cached or summary_cache.cached(summariser, a, words_of(a)) is None)
        )
    ]
    text_of = texts(session, unsummarised)

    def summary_of(article: Candidate) -> str:
        if article.id in written:
            return edits[article.id].summary
        text = text_of.get(article.id, "")
        words = words_of(article)
        own = choose(mode[article.id], standfirst.get(article.id, ""), article.title, text, words)
        if own is not None:
            return own
        if cached:
            return summary_cache.summary(summariser, article, text, words)
        return summariser.summarise(article.title, text, words)

    composed = [
        DraftItem(
            article_id=article.id,
            title=(edits[article.id].title if article.id in edits else "") or article.title,
            url=article.url,
            source=article.outlet,
            author=article.author,
            published=article.published_at,
            tags=article.tags,
            summary=summary_of(article),
            score=item.scored.score,
            parts=item.scored.parts,
            reason=item.reason,
            also=also_covered(article, [*rest_of[article.id], *others.get(article.story, [])]),
            image=article.image,
        )
        for item, article in zip(picks, chosen, strict=True)
    ]
    items = tuple(in_order(composed, changes.order, lambda i: i.article_id))
    considered = frozenset(a.id for a in found) | pinned  # a pin left out was already sent
    return Draft(
        segment,
        items,
        history.cutoff,
        now,
        considered,
        leftovers,
        frozenset(pinned),
        edited=frozenset(a for a in edits if a in picked),
        note=changes.note,
        subject=changes.subject,
        reordered=list(items) != composed,
    )


def one_per_story(
    ranked: Sequence[Scored], weights: Mapping[str, float], pinned: Collection[int] = ()
) -> list[tuple[Scored, list[Candidate]]]:
    """The best candidate of each story, in ranking order, with the story's other candidates.

    A pinned candidate is the best of its story; a second pinned report of the story stands
    on its own (the editor asked for both), with no "also covered by" links."""
    stories: dict[int, list[Scored]] = {}
    for scored in ranked:
        if scored.article.cluster_id is not None:
            stories.setdefault(scored.article.cluster_id, []).append(scored)
    best_of: dict[int, Scored] = {}
    for story, members in stories.items():
        best_of[story] = min(
            members,
            key=lambda s: (
                s.article.id not in pinned,
                -s.score,
                -weights.get(s.article.source_name, 1.0),
                s.article.published_at,
                s.article.id,
            ),
        )
    chosen: list[tuple[Scored, list[Candidate]]] = []
    for scored in ranked:
        cluster = scored.article.cluster_id
        if cluster is None:
            chosen.append((scored, []))
        elif best_of[cluster] is scored:
            rest = [m.article for m in stories[cluster] if m is not scored]
            chosen.append((scored, [a for a in rest if a.id not in pinned]))
        elif scored.article.id in pinned:
            chosen.append((scored, []))
    return chosen


def also_covered(item: Candidate, others: Sequence[Candidate]) -> tuple[tuple[str, str], ...]:
    """(outlet, url) of each other outlet's report, the first one per outlet."""
    seen = {item.outlet}
    links = []
    for other in others:
        name = other.outlet
        if name not in seen:
            seen.add(name)
            links.append((name, other.url))
    return tuple(links)
