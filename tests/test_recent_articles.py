"""The articles a compose starts from, kept between the desk's composes: the store counts
every change to them, whichever process or statement makes it, and what is kept is only
ever what a fresh read would give."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert, text, update

from digest.compose.recent import RecentArticles, read_recent
from digest.config import load_config
from digest.intake.ingest import ingest_all
from digest.run import desk
from digest.store.changes import articles_changed
from digest.store.database import Store, open_store
from digest.store.models import Article, ArticleTag, Source

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=3)


def count(store: Store) -> int:
    with store.session() as session:
        found = articles_changed(session)
    assert found is not None
    return found


def add_article(store: Store, ident: int, published: datetime = NOW) -> None:
    with store.session() as session:
        session.execute(
            insert(Article).values(
                id=ident, source_id=1, url=f"https://news.example/{ident}", title=f"Story {ident}",
                published_at=published, first_seen_at=published,
            )
        )  # fmt: skip
        session.execute(insert(ArticleTag).values(article_id=ident, tag="news"))


def test_every_change_to_articles_tags_and_source_names_is_counted(store: Store) -> None:
    counted: list[tuple[str, Callable[[], object]]] = [
        ("a source", lambda: store_run(insert(Source).values(id=1, name="wire", location="x"))),
        ("an article", lambda: add_article(store, 1)),
        (
            "a headline",
            lambda: store_run(update(Article).values(title="New").where(Article.id == 1)),
        ),
        ("a story", lambda: store_run(update(Article).values(cluster_id=1))),
        ("a tag", lambda: store_run(update(ArticleTag).values(tag="world"))),
        ("a tag gone", lambda: store_run(delete(ArticleTag))),
        ("an outlet", lambda: store_run(update(Source).values(title="The Wire"))),
        ("a source renamed", lambda: store_run(update(Source).values(name="wire2"))),
        ("in plain SQL", lambda: store_run(text("UPDATE articles SET author = 'Ada'"))),
        ("an article gone", lambda: store_run(delete(Article))),
        ("a source gone", lambda: store_run(delete(Source))),
    ]

    def store_run(statement: object) -> None:
        with store.session() as session:
            session.execute(statement)  # type: ignore[call-overload]

    for what, change in counted:
        before = count(store)
        change()
        assert count(store) > before, f"{what} was not counted"
    store_run(insert(Source).values(id=2, name="other", location="x"))
    before = count(store)
    store_run(update(Source).values(etag="abc", consecutive_failures=2, last_error="down"))
    assert count(store) == before  # a source's fetch state is no article's


def test_kept_articles_are_what_a_fresh_read_gives(store: Store, database_url: str) -> None:
    with store.session() as session:
        session.execute(insert(Source).values(id=1, name="wire", location="x"))
    for ident in range(1, 6):
        add_article(store, ident, NOW - timedelta(days=ident))
    recent = RecentArticles()

    def kept(since: datetime = SINCE) -> list[str]:
        with store.session() as session:
            found = sorted(recent.read(session, since), key=lambda a: a.id)
            assert found == sorted(read_recent(session, since), key=lambda a: a.id)
        return [a.title for a in found]

    assert kept() == ["Story 1", "Story 2", "Story 3"] and recent.reads == 1
    assert kept() == ["Story 1", "Story 2", "Story 3"] and recent.reads == 1
    assert kept(SINCE + timedelta(days=1)) == ["Story 1", "Story 2"] and recent.reads == 1
    assert len(kept(SINCE - timedelta(days=1))) == 4 and recent.reads == 2  # a wider window

    with open_store(database_url) as elsewhere, elsewhere.session() as session:  # another process
        session.execute(update(Article).values(title="Changed").where(Article.id == 2))
    assert kept() == ["Story 1", "Changed", "Story 3"] and recent.reads == 3
    with open_store(database_url) as elsewhere, elsewhere.session() as session:
        session.execute(delete(ArticleTag).where(ArticleTag.article_id == 1))
    with store.session() as session:
        assert next(a for a in recent.read(session, SINCE) if a.id == 1).tags == ()
    assert recent.reads == 4


def test_the_desk_keeps_its_articles_and_shows_every_change(newsroom: Path, store: Store) -> None:
    config = load_config(newsroom)
    ingest_all(store, config, NOW)
    recent = RecentArticles()
    segment = "politics-daily"

    def shown() -> desk.NextEditionView:
        kept = desk.next_edition(store, config, segment, now=NOW, recent=recent)
        assert kept == desk.next_edition(store, config, segment, now=NOW)  # as composed afresh
        return kept

    first = shown().items[0]
    assert recent.reads == 1
    shown()
    home = desk.overview(store, config, now=NOW, recent=recent)
    assert home == desk.overview(store, config, now=NOW) and recent.reads == 1
    with store.session() as session:
        session.execute(
            update(Article).values(title="A new headline").where(Article.id == first.article_id)
        )
    assert shown().items[0].title == "A new headline" and recent.reads == 2
