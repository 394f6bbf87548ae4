"""Group articles that report the same story, so that a digest shows each story once.

Each article joins the story of its most similar earlier article when their similarity
(see :mod:`digest.intake.story_index`) reaches ``[intake] cluster_threshold`` — the
earliest such article on a tie — or starts a story of its own. Stories are never merged
afterwards, and the result is the same on every run.

Stored articles keep their signatures in ``article_signatures``, so a new article is
compared with the stored ones published within 72 hours of it without reading or
hashing their text again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import cast

import numpy as np
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from digest.intake.entries import Entry
from digest.intake.signatures import BANDS, VERSION, Keys, Signature, band_keys, signature
from digest.intake.story_index import WINDOW_HOURS, StoryIndex
from digest.store.models import Article, ArticleSignature

BATCH = 8000  # articles matched at once: fewer, larger sorted-array searches


def cluster_entries(entries: Sequence[Entry], threshold: float) -> list[int]:
    """For each entry, the position in ``entries`` of the first entry of its story.

    Entries are taken in order of publication; one without a date counts as published
    with the latest dated entry (a feed's undated items are usually its newest).
    """
    dated = [_aware(e.published) for e in entries if e.published is not None]
    fallback = max(dated, default=datetime(1970, 1, 1, tzinfo=UTC))
    times = [_aware(e.published) if e.published else fallback for e in entries]
    order = sorted(range(len(entries)), key=lambda i: (times[i], i))
    labels = list(range(len(entries)))
    index = StoryIndex(threshold)
    for start in range(0, len(order), BATCH):
        chunk = order[start : start + BATCH]
        sigs = [signature(entries[i].title, entries[i].text, times[i]) for i in chunk]
        index.forget_before(sigs[0].published)
        for i, story in zip(chunk, index.assign(sigs, band_keys(sigs), chunk), strict=True):
            labels[i] = story
    first: dict[int, int] = {}
    for position, label in enumerate(labels):
        first.setdefault(label, position)
    return [first[label] for label in labels]


class RunIndex:
    """The story index of one ingest run, kept from one source visit to the next.

    Each visit adds only the stored articles the index does not hold yet (those of other
    runs, or of another process meanwhile) instead of reading and indexing every article
    of its window again. The stories found are the same either way (see
    :meth:`StoryIndex.assign`). A visit that fails must :meth:`reset` it: the index
    would otherwise hold articles its rolled-back transaction never stored.
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.reset()

    def reset(self) -> None:
        self.index = StoryIndex(self.threshold)
        self.slots: dict[int, int] = {}  # article id -> slot in the index

    def add(
        self, ids: Sequence[int], sigs: Sequence[Signature], keys: Keys, stories: list[int]
    ) -> None:
        base = self.index.size
        self.index.extend(sigs, keys, stories, ids)
        self.slots.update((article_id, base + n) for n, article_id in enumerate(ids))

    def assign(self, ids: Sequence[int], sigs: Sequence[Signature], keys: Keys) -> list[int]:
        base = self.index.size
        stories = self.index.assign(sigs, keys, ids)
        self.slots.update((article_id, base + n) for n, article_id in enumerate(ids))
        return stories

    def forget(self, ids: Sequence[int]) -> None:
        self.index.forget([self.slots.pop(i) for i in ids if i in self.slots])


def assign_clusters(
    session: Session, articles: Sequence[Article], threshold: float, run: RunIndex | None = None
) -> None:
    """Give each new article the cluster of its story: the id of the story's first article.

    ``articles`` are flushed rows without a cluster; each is compared with the stored
    articles published within 72 hours of it and with the new ones before it. Their
    signatures are stored for the next visits. ``run``, when given, is the index the
    earlier visits of the same run left, and keeps these articles for the later ones.
    """
    new = sorted(
        (a for a in articles if a.cluster_id is None), key=lambda a: (a.published_at, a.id)
    )
    if not new:
        return
    run = run or RunIndex(threshold)
    window = timedelta(hours=WINDOW_HOURS)
    since, until = new[0].published_at - window, new[-1].published_at + window
    held = {a.id for a in new} | run.slots.keys()
    run.add(*_stored(session, since, until, skip=held))
    sigs = [signature(a.title, a.text, a.published_at) for a in new]
    keys = band_keys(sigs)
    for article, story in zip(new, run.assign([a.id for a in new], sigs, keys), strict=True):
        article.cluster_id = story
    _save(session, [a.id for a in new], sigs, keys, replace=False)


def recluster_updated(
    session: Session, articles: Sequence[Article], threshold: float, run: RunIndex | None = None
) -> None:
    """Refresh the signatures of articles whose title or text changed, and find the story
    again for those that are a story alone: a first short report, updated with the full
    text, may now be seen to be one that other outlets cover. An article that others have
    joined keeps its story, so that a story, once formed, is never split or moved."""
    if not articles:
        return
    ids = [a.id for a in articles]
    if run is not None:
        run.forget(ids)
    session.execute(delete(ArticleSignature).where(ArticleSignature.article_id.in_(ids)))
    joined = set(
        session.scalars(
            select(Article.cluster_id).where(
                Article.cluster_id.in_(ids), Article.id != Article.cluster_id
            )
        )
    )
    alone = [a for a in articles if a.cluster_id == a.id and a.id not in joined]
    lone = {a.id for a in alone}
    kept = [a for a in articles if a.id not in lone]
    sigs = [signature(a.title, a.text, a.published_at) for a in kept]
    _save(session, [a.id for a in kept], sigs, band_keys(sigs), replace=False)
    for article in alone:  # saved before, or the search below would make theirs again
        article.cluster_id = None
    assign_clusters(session, alone, threshold, run)


def _stored(
    session: Session, since: datetime, until: datetime, skip: Collection[int]
) -> tuple[list[int], list[Signature], Keys, list[int]]:
    """Ids, signatures, band keys and stories of the articles published in
    [since, until] but ``skip``. Those stored before signatures were kept, or with signatures of an
    older version, get theirs computed from their text now, and saved."""
    query = (
        select(
            Article.id,
            Article.cluster_id,
            Article.published_at,
            ArticleSignature.version,
            ArticleSignature.salient,
            ArticleSignature.bands,
            ArticleSignature.sketch,
        )
        .outerjoin(ArticleSignature, ArticleSignature.article_id == Article.id)
        .where(Article.published_at >= since, Article.published_at <= until)
        .order_by(Article.published_at, Article.id)
    )
    ids: list[int] = []
    stories: list[int] = []
    sigs: list[Signature] = []
    bands: list[bytes] = []
    outdated: list[tuple[int, int]] = []  # (position, article id)
    rows = session.connection().execute(query)  # plain rows: no ORM loading
    for article_id, story, published, version, salient, band, sketch in rows:
        if article_id in skip:
            continue
        ids.append(article_id)
        stories.append(story or article_id)
        if version == VERSION:
            sigs.append(Signature(salient, published.timestamp(), stored_sketch=sketch))
            bands.append(band)
        else:
            article = session.get_one(Article, article_id)
            outdated.append((len(sigs), article_id))
            sigs.append(signature(article.title, article.text, published))
            bands.append(b"")
    if outdated:
        fresh = [sigs[position] for position, _ in outdated]
        fresh_keys = band_keys(fresh)
        for (position, _), row in zip(outdated, fresh_keys, strict=True):
            bands[position] = row.astype("<u8").tobytes()
        _save(session, [article_id for _, article_id in outdated], fresh, fresh_keys, replace=True)
    keys = np.frombuffer(b"".join(bands), dtype="<u8").astype(np.uint64).reshape(-1, BANDS)
    return ids, sigs, keys, stories


def _save(
    session: Session, ids: Sequence[int], sigs: Sequence[Signature], keys: Keys, *, replace: bool
) -> None:
    table = cast(Table, ArticleSignature.__table__)
    if replace:
        session.execute(delete(ArticleSignature).where(ArticleSignature.article_id.in_(ids)))
    rows = [
        {
            "article_id": article_id,
            "version": VERSION,
            "salient": sig.names,
            "bands": row.astype("<u8").tobytes(),
            "sketch": sig.sketch,
        }
        for article_id, sig, row in zip(ids, sigs, keys, strict=True)
    ]
    if rows:
        session.connection().execute(insert(table), rows)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
