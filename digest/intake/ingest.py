"""Ingest sources into the store: one source's failure never stops the rest.

For each source: harvest it through its kind, give each entry its canonical URL and
tags, strip the lines that recur across the source, store each article once (by
canonical URL, or by identical text), group new articles into stories, and record the
source's health.

Two runs may ingest at once (overlapping cron jobs, several hosts on one PostgreSQL
store). Each fetches on its own, but they store their harvests one at a time, under a lock,
reading what is stored only once they hold it: the second finds the first's articles and
stores only what is new to it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import false, func, insert, select, update
from sqlalchemy.orm import Session

from digest.config import Config
from digest.intake.boilerplate import strip_recurring
from digest.intake.cluster import RunIndex, assign_clusters, recluster_updated
from digest.intake.entries import Entry
from digest.intake.fetch import Fetcher, host_of
from digest.intake.images import guarded
from digest.intake.sources import KINDS
from digest.intake.sources.base import Harvest, HarvestContext, SourceProblem, SourceState
from digest.settings import SourceSettings
from digest.store.database import Store, insert_missing
from digest.store.images import Image
from digest.store.models import Article, ArticleTag, Source, SourceStatus
from digest.store.tags import normalise_tags
from digest.store.urls import canonical_url

INTAKE_LOCK = 0x6469676573740002  # PostgreSQL advisory lock key of storing a harvest


@dataclass(frozen=True)
class SourceReport:
    source: str
    new: int = 0
    updated: int = 0
    error: str = ""
    problems: tuple[str, ...] = ()  # items skipped while the source itself succeeded

    @property
    def line(self) -> str:
        if self.error:
            return f"error {self.source} {self.error}"
        return f"ok {self.source} {self.new} new, {self.updated} updated"

    @property
    def skipped(self) -> list[str]:
        """One line per skipped item, naming the source and the item."""
        return [f"skipped {self.source} {problem}" for problem in self.problems]


def ingest_all(
    store: Store, config: Config, now: datetime, fetcher: Fetcher | None = None
) -> list[SourceReport]:
    """Ingest every configured source, in order: one report each, whatever fails.

    A fetcher passed in stays open for the caller; one made here is closed here.  With
    several sources and megabytes of local feed files, the harvests (fetch, parse and
    clean: CPU work, independent per source) run in two worker processes, each with its
    own fetcher; the store is written in this process only, source by source, in order.
    """
    if fetcher is None and _worth_a_pool(config):
        return _ingest_pooled(store, config, now)
    shared = fetcher or Fetcher(config.intake)
    run = RunIndex(config.intake.cluster_threshold)
    reports: list[SourceReport] = []
    try:
        for source in config.sources:
            try:
                reports.append(ingest_source(store, config, source, now, shared, run))
            except Exception as e:  # a bug or a rejected row in one source spares the rest
                run.reset()
                reports.append(_record_failure(store, config, source.name, _unexpected(e)))
    finally:
        if fetcher is None:
            shared.close()
    return reports


def ingest_source(
    store: Store,
    config: Config,
    settings: SourceSettings,
    now: datetime,
    fetcher: Fetcher | None = None,
    run: RunIndex | None = None,
) -> SourceReport:
    fetcher = fetcher or Fetcher(config.intake)
    state = _state(store, config, settings)
    if isinstance(state, SourceReport):
        return state
    context = HarvestContext(fetcher=fetcher, base_dir=config.base_dir, now=now)
    try:
        harvest = prepared(KINDS[settings.kind].harvest(settings, state, context), config, settings)
    except SourceProblem as e:
        return _record_failure(store, config, settings.name, str(e))
    return _store_harvest(store, config, settings, harvest, now, run)


def prepared(harvest: Harvest, config: Config, settings: SourceSettings) -> Harvest:
    """The harvest with each entry's canonical URL, normalised tags and a lead image the
    fetcher would not refuse: the part of storing an entry that needs no store, done where
    the harvest was made (in a worker process, when there are several)."""
    synonyms = config.intake.tag_synonyms
    own = host_of(settings.url) if settings.allow_private else ""
    harvest.entries = [
        replace(
            e,
            url=canonical_url(e.url, e.declared_canonical),
            tags=normalise_tags(e.tags, synonyms),
            image=guarded(e.image, allow_hosts=config.intake.allow_hosts, trusted_host=own),
        )
        for e in harvest.entries
    ]
    return harvest


def _unexpected(error: Exception) -> str:
    detail = str(error).splitlines()[0][:300] if str(error) else ""
    return f"unexpected {type(error).__name__}: {detail}; please report this"


def _state(store: Store, config: Config, settings: SourceSettings) -> SourceState | SourceReport:
    """What the store remembers of the source, or the report of a source left alone."""
    with store.session() as session:
        source = _source_row(session, settings, _configured(config, settings))
        if source.status != SourceStatus.active:
            return SourceReport(settings.name, error=_inactive(source))
        return SourceState(source.location, source.etag, source.last_modified, source.cursor)


def _configured(config: Config, settings: SourceSettings) -> str:
    return settings.url or str(config.resolve(settings.path))


def _store_harvest(
    store: Store,
    config: Config,
    settings: SourceSettings,
    harvest: Harvest,
    now: datetime,
    run: RunIndex | None = None,
) -> SourceReport:
    with store.session() as session:
        _hold_intake_lock(session)
        source = _source_row(session, settings, _configured(config, settings))
        entries = strip_recurring(session, source.id, harvest.entries)
        new, updated = store_entries(session, source, entries, now)
        assign_clusters(session, new, config.intake.cluster_threshold, run)
        recluster_updated(session, updated, config.intake.cluster_threshold, run)
        _record_success(source, harvest, settings.title, now)
    if harvest.gone:
        return SourceReport(settings.name, error="retired: the source answered 410 Gone")
    return SourceReport(
        settings.name, new=len(new), updated=len(updated), problems=tuple(harvest.problems)
    )


POOL_MIN_SOURCES = 4
POOL_MIN_BYTES = 2_000_000  # of local feed files; below this, starting workers costs more


def _worth_a_pool(config: Config) -> bool:
    if len(config.sources) < POOL_MIN_SOURCES or (os.cpu_count() or 1) < 2:
        return False
    paths = [config.resolve(s.path) for s in config.sources if s.path and not s.url]
    return sum(p.stat().st_size for p in paths if p.is_file()) >= POOL_MIN_BYTES


def _harvest_alone(
    config: Config, settings: SourceSettings, state: SourceState, now: datetime
) -> Harvest:
    """One source's harvest in a worker process, with a fetcher of its own."""
    fetcher = Fetcher(config.intake)
    try:
        context = HarvestContext(fetcher=fetcher, base_dir=config.base_dir, now=now)
        return prepared(KINDS[settings.kind].harvest(settings, state, context), config, settings)
    finally:
        fetcher.close()


def _ingest_pooled(store: Store, config: Config, now: datetime) -> list[SourceReport]:
    reports: list[SourceReport] = []
    run = RunIndex(config.intake.cluster_threshold)
    with ProcessPoolExecutor(max_workers=2) as pool:
        pending: list[tuple[SourceSettings, SourceReport | Future[Harvest]]] = []
        for settings in config.sources:
            try:
                state = _state(store, config, settings)
            except Exception as e:
                state = _record_failure(store, config, settings.name, _unexpected(e))
            if isinstance(state, SourceReport):
                pending.append((settings, state))
            else:
                pending.append(
                    (settings, pool.submit(_harvest_alone, config, settings, state, now))
                )
        for settings, waiting in pending:
            if isinstance(waiting, SourceReport):
                reports.append(waiting)
                continue
            try:
                harvest = waiting.result()
                reports.append(_store_harvest(store, config, settings, harvest, now, run))
            except SourceProblem as e:
                reports.append(_record_failure(store, config, settings.name, str(e)))
            except Exception as e:  # a bug or a rejected row in one source spares the rest
                run.reset()
                reports.append(_record_failure(store, config, settings.name, _unexpected(e)))
    return reports


def _inactive(source: Source) -> str:
    """The one line for a source that is skipped until someone acts."""
    if source.status == SourceStatus.retired:
        return "retired: it answered 410 Gone; remove it from the config"
    return (
        f"paused after {source.consecutive_failures} consecutive failures "
        f"(last: {source.last_error}); fix it, then `digest sources --resume {source.name}`"
    )


def _hold_intake_lock(session: Session) -> None:
    """Wait until no other run is storing a harvest, and keep the others waiting until this
    transaction ends. PostgreSQL: an advisory lock; SQLite: the write lock, which a write
    statement takes even when it changes no row. Only the storing waits, never a fetch."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(INTAKE_LOCK)))
    else:
        nothing = update(Source).where(false()).values(name=Source.name)
        session.execute(nothing.execution_options(synchronize_session=False))


def _source_row(session: Session, settings: SourceSettings, configured: str) -> Source:
    """The source's row, made on its first visit (by this run or one beside it). When its
    kind, URL or path in the config has changed, it starts afresh there: no validators or
    cursor of the old place, and active again, since a new place is the fix a paused or
    retired source was waiting for."""
    find = select(Source).where(Source.name == settings.name)
    source = session.scalar(find)
    if source is None:
        row = {"name": settings.name, "kind": settings.kind, "title": ""}
        row.update(location=configured, configured=configured)
        insert_missing(session, Source.__table__, row)
        source = session.scalars(find).one()
    if source.kind != settings.kind or source.configured != configured:
        source.kind, source.location, source.configured = settings.kind, configured, configured
        source.etag = source.last_modified = source.cursor = ""
        source.status, source.consecutive_failures, source.last_error = SourceStatus.active, 0, ""
    return source


def _record_success(source: Source, harvest: Harvest, title: str, now: datetime) -> None:
    if not harvest.not_modified:  # a validator too long to store is not worth a cut copy
        source.etag = harvest.etag if len(harvest.etag) <= 300 else ""
        source.last_modified = harvest.last_modified if len(harvest.last_modified) <= 100 else ""
    source.title = (title or harvest.title or source.title or source.name)[:300]
    source.cursor = harvest.cursor or source.cursor
    if harvest.moved_to:
        source.location = harvest.moved_to
    source.last_success_at = now
    source.consecutive_failures = 0
    source.last_error = ""
    if harvest.gone:
        source.status = SourceStatus.retired
        source.last_error = "answered 410 Gone"


def _record_failure(store: Store, config: Config, name: str, error: str) -> SourceReport:
    """Count one more consecutive failure; at ``max_failures`` the source is paused."""
    error = " ".join(error.split()) or "failed without a reason"
    with store.session() as session:
        source = session.scalar(select(Source).where(Source.name == name))
        if source is None:  # it failed before its row was made: nothing to count on
            return SourceReport(name, error=error)
        source.consecutive_failures += 1
        source.last_error = error
        if source.consecutive_failures >= config.intake.max_failures:
            source.status = SourceStatus.paused
            error += (
                f" (now paused after {source.consecutive_failures} consecutive failures;"
                f" fix it, then `digest sources --resume {name}`)"
            )
    return SourceReport(name, error=error)


def text_hash(text: str) -> str:
    """Identity of an article's cleaned text, blind to case and spacing."""
    return hashlib.sha256(" ".join(text.lower().split()).encode("utf-8")).hexdigest()


def store_entries(
    session: Session, source: Source, entries: Sequence[Entry], now: datetime
) -> tuple[list[Article], list[Article]]:
    """Insert new articles and refresh changed ones. Returns (new articles, changed ones).

    An entry is the same article as a stored one when its canonical URL is, or when its
    cleaned text is identical (a copy under another URL). Only the source that first
    brought an article updates it: two feeds carrying one URL with different wording would
    otherwise rewrite it in turn on every run.
    """
    unique = {entry.url: entry for entry in entries}
    hashes = {url: text_hash(e.text) for url, e in unique.items() if e.text.strip()}
    known = {
        a.url: a for a in session.scalars(select(Article).where(Article.url.in_(list(unique))))
    }
    copies = set(
        session.scalars(
            select(Article.content_hash).where(Article.content_hash.in_(list(hashes.values())))
        )
    )
    new: list[Article] = []
    new_tags: list[tuple[Article, Sequence[str]]] = []
    updated: list[Article] = []
    for url, entry in unique.items():
        digest = hashes.get(url, "")
        article = known.get(url)
        if article is None:
            if digest and digest in copies:
                continue  # the same text under another URL is stored already
            article = Article(source=source, url=url, first_seen_at=now, published_at=now)
            session.add(article)
            new.append(article)
            new_tags.append((article, entry.tags))
            if digest:
                copies.add(digest)
        elif article.source_id != source.id:
            continue  # another source's copy: the article stays as its own source has it
        elif (article.title, article.text, article.tag_names) == (
            entry.title,
            entry.text,
            sorted(entry.tags),
        ):
            _set_image(article, entry.image)  # a new image alone is no new story text
            article.standfirst = entry.standfirst  # a new standfirst alone is no update
            continue
        else:
            updated.append(article)
        article.title, article.author = entry.title, entry.author
        article.text, article.html, article.content_hash = entry.text, entry.html, digest
        article.standfirst = entry.standfirst
        if entry.published:  # a date in the future is a publisher's clock error
            article.published_at = min(entry.published, article.first_seen_at)
        _set_image(article, entry.image)
        if url in known:
            _set_tags(article, entry.tags)
    session.flush()
    rows = [{"article_id": a.id, "tag": t} for a, tags in new_tags for t in dict.fromkeys(tags)]
    if rows:  # one INSERT for the new articles' tags, not one ORM object each
        session.execute(insert(ArticleTag), rows)
    return new, updated


def _set_image(article: Article, image: Image | None) -> None:
    """The article's lead image columns as the entry has them (none clears them)."""
    article.image_url = image.url if image else ""
    article.image_alt = image.alt if image else ""
    article.image_width = image.width if image else None
    article.image_height = image.height if image else None


def _set_tags(article: Article, tags: Sequence[str]) -> None:
    wanted = set(tags)
    have = {t.tag for t in article.tags}
    article.tags = [t for t in article.tags if t.tag in wanted] + [
        ArticleTag(tag=tag) for tag in sorted(wanted - have)
    ]
