"""The articles a compose starts from: every article published within the lookback window,
as composing knows it (:class:`~digest.compose.candidate.Candidate`, all but its text).

Reading them is most of a compose's time (10,000 articles: two queries and a Candidate
each). :class:`RecentArticles` keeps what it read for the next compose of a long-lived
process (the desk's pages), and reads again whenever the store's articles changed since,
which the store counts (:func:`digest.store.changes.articles_changed`): any insert, update
or delete of an article, a tag or a source's name, by any process, counts, so what it
gives is always what a fresh read would give.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.compose.candidate import Candidate
from digest.store.changes import articles_changed
from digest.store.images import Image
from digest.store.models import Article, ArticleTag, Source


def read_recent(session: Session, since: datetime) -> list[Candidate]:
    """Every article published since ``since``."""
    recent = Article.published_at >= since
    # Plain rows through the session's connection: the ORM's per-row work would double
    # the time these two reads of every recent article take.
    connection = session.connection()
    tags: dict[int, list[str]] = {}
    for article_id, tag in connection.execute(
        select(ArticleTag.article_id, ArticleTag.tag).join(Article).where(recent)
    ):
        tags.setdefault(article_id, []).append(tag)
    rows = connection.execute(
        select(
            Article.id,
            Article.url,
            Article.title,
            Article.author,
            Article.published_at,
            Article.first_seen_at,
            Article.cluster_id,
            Article.content_hash,
            Source.name,
            Source.title,
            Article.image_url,
            Article.image_alt,
            Article.image_width,
            Article.image_height,
        )
        .join(Source, Source.id == Article.source_id)
        .where(recent)
    )
    articles = []
    for ident, url, title, author, published, seen, cluster, digest, name, outlet, *pic in rows:
        tagged = tuple(sorted(tags.get(ident, ())))
        articles.append(
            Candidate(
                ident,
                url,
                title,
                author or "",
                published,
                seen,
                cluster,
                digest or "",
                name,
                outlet or name,
                tagged,
                frozenset(tagged),
                Image.stored(*pic),
            )
        )
    return articles


@dataclass(frozen=True)
class _Kept:
    changes: int  # the store's count of article changes when they were read
    since: datetime
    articles: list[Candidate]


class RecentArticles:
    """:func:`read_recent` that keeps what it read, for a process that composes often."""

    def __init__(self) -> None:
        self._kept: _Kept | None = None
        self._lock = threading.Lock()  # one read at a time; the others wait and use it
        self.reads = 0  # how many times the store was read (the rest were kept)

    def read(self, session: Session, since: datetime) -> list[Candidate]:
        """Every article published since ``since``, as :func:`read_recent` reads it now."""
        with self._lock:
            # The count first: a change committed after it is read next time, whether or
            # not the rows below show it already.
            changes = articles_changed(session)
            kept = self._kept
            if kept is not None and kept.changes == changes and kept.since <= since:
                return [a for a in kept.articles if a.published_at >= since]
            articles = read_recent(session, since)
            self.reads += 1
            if changes is not None:
                self._kept = _Kept(changes, since, articles)
            return articles
