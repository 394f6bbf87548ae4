from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import EXAMPLE
from feedserver import Route, serve
from sqlalchemy import func, select

from digest.config import load_config
from digest.intake.feeds import parse_feed
from digest.intake.ingest import ingest_all
from digest.store.database import Store
from digest.store.models import Article, Source

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
FEEDS = EXAMPLE / "feeds"
SEED_URL_PART = "putin-russian-interference"


def feed_entries(name: str) -> list:  # type: ignore[type-arg]
    return parse_feed((FEEDS / name).read_bytes())[1]


def test_every_example_feed_parses() -> None:
    counts = {p.name: len(feed_entries(p.name)) for p in FEEDS.iterdir()}
    assert len(counts) >= 3 and all(n >= 10 for n in counts.values())
    assert sum(counts.values()) >= 30


def test_each_entry_has_title_url_time_author_tags_text_and_html() -> None:
    for path in FEEDS.iterdir():
        for entry in feed_entries(path.name):
            assert entry.title and entry.url.startswith("https://")
            assert entry.published is not None and entry.published.tzinfo is not None
            assert entry.author and entry.tags and entry.html
            assert len(entry.text.split()) > 60, entry.url


def test_seed_article_is_clean_and_tagged() -> None:
    seed = next(e for e in feed_entries("talking-democrat.xml") if SEED_URL_PART in e.url)
    assert seed.text.startswith("Russian President Vladimir Putin ruled Thursday")
    for junk in ("Must Read", "Putin/CC", "Western liberalism", "sociologist", "Andrei Santov"):
        assert junk not in seed.text
    assert "Russian President Vladimir Putin\n" not in seed.text
    assert {"politics", "russia", "us-politics"} <= set(seed.tags)
    assert seed.author == "Andrei Santov"


def test_ingest_stores_each_url_once(store: Store) -> None:
    config = load_config(EXAMPLE / "digest.toml")
    first = ingest_all(store, config, NOW)
    assert all(not r.error for r in first)
    again = ingest_all(store, config, NOW)
    assert [r.line for r in again] == [f"ok {r.source} 0 new, 0 updated" for r in first]
    with store.session() as session:
        total = session.scalar(select(func.count()).select_from(Article))
        assert total == sum(r.new for r in first) >= 30


def _config(tmp_path: Path, sources: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(
        '[sender]\nemail = "d@news.example"\npostal_address = "1 Road"\n'
        'base_url = "https://news.example"\n[segments.all]\n' + sources,
        encoding="utf-8",
    )
    return path


def test_bad_sources_get_one_line_each_and_never_block_the_good(
    store: Store, tmp_path: Path
) -> None:
    (tmp_path / "broken.xml").write_text("<rss><channel><item><title>half", encoding="utf-8")
    (tmp_path / "empty.xml").write_bytes(b"")
    good = (FEEDS / "techwire.atom").resolve()
    config = load_config(
        _config(
            tmp_path,
            '[sources.missing]\npath = "nope.xml"\n'
            '[sources.broken]\npath = "broken.xml"\n'
            '[sources.empty]\npath = "empty.xml"\n'
            f'[sources.good]\npath = "{good}"\n',
        )
    )
    reports = {r.source: r for r in ingest_all(store, config, NOW)}
    assert reports["good"].new >= 10 and not reports["good"].error
    for name in ("missing", "broken", "empty"):
        line = reports[name].line
        assert line.startswith(f"error {name} ") and "\n" not in line
    assert "cannot read" in reports["missing"].error and "nope.xml" in reports["missing"].error
    assert "no feed entries" in reports["empty"].error
    with store.session() as session:
        failing = session.scalars(select(Source).where(Source.name == "missing")).one()
        assert failing.consecutive_failures == 1 and failing.last_error


def test_feed_over_http_uses_etag_and_survives_errors(store: Store, tmp_path: Path) -> None:
    with serve() as server:
        server.routes["/feed.xml"] = Route(
            (FEEDS / "talking-democrat.xml").read_bytes(), etag='"v1"'
        )
        server.routes["/gone.xml"] = Route(b"gone", status=410)
        config = load_config(
            _config(
                tmp_path,
                '[intake]\nallow_hosts = ["127.0.0.1"]\nhost_delay = 0\n'
                f'[sources.web]\nurl = "{server.url}/feed.xml"\n'
                f'[sources.gone]\nurl = "{server.url}/gone.xml"\n',
            )
        )
        first = {r.source: r for r in ingest_all(store, config, NOW)}
        second = {r.source: r for r in ingest_all(store, config, NOW)}
    assert first["web"].new >= 10
    assert first["gone"].error == "retired: the source answered 410 Gone"
    assert second["gone"].error.startswith("retired: it answered 410 Gone")
    assert second["web"].line == "ok web 0 new, 0 updated"
    conditional = [h for path, h in server.requests if path == "/feed.xml"][1]
    assert conditional.get("If-None-Match") == '"v1"'
    assert conditional.get("User-Agent", "").startswith("Digest/")
