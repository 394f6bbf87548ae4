"""Ingest every configured source into the store, one source's failure never stopping the rest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from digest.config import Config
from digest.intake.entries import Entry
from digest.intake.feeds import FeedParseError, parse_feed
from digest.intake.fetch import Fetched, FetchError, fetch_url, read_file
from digest.settings import SourceSettings
from digest.store.database import Store
from digest.store.models import Article, ArticleTag, Source


@dataclass(frozen=True)
class SourceReport:
    source: str
    new: int = 0
    updated: int = 0
    error: str = ""

    @property
    def line(self) -> str:
        if self.error:
            return f"error {self.source} {self.error}"
        return f"ok {self.source} {self.new} new, {self.updated} updated"


def ingest_all(store: Store, config: Config, now: datetime) -> list[SourceReport]:
    return [ingest_source(store, config, source, now) for source in config.sources]


def ingest_source(
    store: Store, config: Config, settings: SourceSettings, now: datetime
) -> SourceReport:
    location = settings.url or str(config.resolve(settings.path))
    with store.session() as session:
        source = _source_row(session, settings.name, location)
        etag, last_modified = source.etag, source.last_modified
    try:
        if settings.url:
            fetched = fetch_url(settings.url, etag=etag, last_modified=last_modified)
        else:
            fetched = read_file(config.resolve(settings.path))
        if fetched.not_modified:
            _record_success(store, settings.name, fetched, "", now)
            return SourceReport(settings.name)
        feed_title, entries = parse_feed(fetched.body, content_type=fetched.content_type)
    except (FetchError, FeedParseError) as e:
        _record_failure(store, settings.name, str(e))
        return SourceReport(settings.name, error=str(e))
    with store.session() as session:
        source = _source_row(session, settings.name, location)
        new, updated = store_entries(session, source, entries, now)
    _record_success(store, settings.name, fetched, settings.title or feed_title, now)
    return SourceReport(settings.name, new=new, updated=updated)


def _source_row(session: Session, name: str, location: str) -> Source:
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        source = Source(name=name, location=location, title=name)
        session.add(source)
        session.flush()
    source.location = location
    return source


def _record_success(store: Store, name: str, fetched: Fetched, title: str, now: datetime) -> None:
    with store.session() as session:
        source = session.scalars(select(Source).where(Source.name == name)).one()
        source.etag, source.last_modified = fetched.etag, fetched.last_modified
        source.title = title or source.title
        source.last_success_at = now
        source.consecutive_failures = 0
        source.last_error = ""


def _record_failure(store: Store, name: str, error: str) -> None:
    with store.session() as session:
        source = session.scalars(select(Source).where(Source.name == name)).one()
        source.consecutive_failures += 1
        source.last_error = error


def store_entries(
    session: Session, source: Source, entries: Sequence[Entry], now: datetime
) -> tuple[int, int]:
    """Insert new articles and refresh changed ones, keyed by URL. Returns (new, updated)."""
    unique = {entry.url: entry for entry in entries}
    known = {
        a.url: a for a in session.scalars(select(Article).where(Article.url.in_(list(unique))))
    }
    new = updated = 0
    for url, entry in unique.items():
        article = known.get(url)
        if article is None:
            article = Article(source=source, url=url, first_seen_at=now, published_at=now)
            session.add(article)
            new += 1
        elif (article.title, article.text, article.tag_names) == (
            entry.title,
            entry.text,
            sorted(entry.tags),
        ):
            continue
        else:
            updated += 1
        article.title, article.author = entry.title, entry.author
        article.text, article.html = entry.text, entry.html
        if entry.published:  # a date in the future is a publisher's clock error
            article.published_at = min(entry.published, article.first_seen_at)
        _set_tags(article, entry.tags)
    session.flush()
    return new, updated


def _set_tags(article: Article, tags: Sequence[str]) -> None:
    wanted = set(tags)
    have = {t.tag for t in article.tags}
    article.tags = [t for t in article.tags if t.tag in wanted] + [
        ArticleTag(tag=tag) for tag in sorted(wanted - have)
    ]
