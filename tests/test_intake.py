from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from feedserver import Route, serve
from helpers import EXAMPLE, write_intake_config
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
    return write_intake_config(tmp_path / "digest.toml", sources)


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


RSS_091 = b"""<?xml version="1.0"?>
<rss version="0.91"><channel><title>Old Desk</title><link>https://old.example/</link>
<description>d</description><language>en</language>
<item><title>Council votes on the bridge</title><link>https://old.example/bridge</link>
<description>The council voted 7 to 2 on Tuesday to rebuild the Mill Street bridge.</description>
</item></channel></rss>"""

RSS_10 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://rdf.example/"><title>RDF Desk</title>
<link>https://rdf.example/</link><description>d</description></channel>
<item rdf:about="https://rdf.example/harbour"><title>Harbour reopens</title>
<link>https://rdf.example/harbour</link>
<description>The harbour reopened on Monday after a storm closed it for a week.</description>
<dc:creator>Ana Pires</dc:creator><dc:subject>Local News</dc:subject>
<dc:date>2026-11-20T09:00:00Z</dc:date></item></rdf:RDF>"""

ATOM_03 = b"""<?xml version="1.0"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Atom Desk</title>
<link rel="alternate" type="text/html" href="https://atom.example/"/>
<entry><title>Rail strike called off</title>
<link rel="alternate" type="text/html" href="https://atom.example/rail"/>
<issued>2026-11-21T10:00:00Z</issued><modified>2026-11-21T10:00:00Z</modified>
<author><name>Sam Okoro</name></author>
<content type="text/html" mode="escaped">
&lt;p&gt;The union called off Friday's rail strike.&lt;/p&gt;</content>
</entry></feed>"""


def test_older_feed_formats_rss_091_rss_10_and_atom_03_parse() -> None:
    (old,) = parse_feed(RSS_091)[1]
    assert (old.url, old.title) == ("https://old.example/bridge", "Council votes on the bridge")
    assert "Mill Street bridge" in old.text
    (rdf,) = parse_feed(RSS_10)[1]
    assert (rdf.url, rdf.author, rdf.tags) == (
        "https://rdf.example/harbour",
        "Ana Pires",
        ("local-news",),
    )
    assert rdf.published == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    (atom,) = parse_feed(ATOM_03)[1]
    assert (atom.url, atom.author) == ("https://atom.example/rail", "Sam Okoro")
    assert atom.published == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert "rail strike" in atom.text


RELATIVE = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Site</title><link>https://news.example/</link>
<item><title>Flood defences finished</title><link>/2026/11/flood-defences</link>
<description><![CDATA[<p>The <a href="/topics/floods">flood</a> wall is done.
<img src="../img/wall.jpg" alt="The wall"> <a href="javascript:alert(1)">x</a>
<a href="//cdn.example/map.pdf">map</a></p>]]></description></item>
</channel></rss>"""


def test_relative_links_become_absolute_from_a_file_and_from_a_url() -> None:
    (from_file,) = parse_feed(RELATIVE)[1]
    assert from_file.url == "https://news.example/2026/11/flood-defences"
    assert 'href="https://news.example/topics/floods"' in from_file.html
    assert 'src="https://news.example/2026/img/wall.jpg"' in from_file.html
    assert 'href="https://cdn.example/map.pdf"' in from_file.html
    assert "javascript" not in from_file.html
    (from_url,) = parse_feed(RELATIVE, location="https://feeds.other.example/rss/all.xml")[1]
    assert from_url.url == "https://feeds.other.example/2026/11/flood-defences"
    assert 'href="https://feeds.other.example/topics/floods"' in from_url.html


def test_a_json_feed_resolves_relative_item_urls_against_its_home_page() -> None:
    document = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J",'
        b' "home_page_url": "https://j.example/blog/",'
        b' "items": [{"id": "1", "url": "posts/one", "title": "One",'
        b' "content_html": "<p>See <a href=\\"/about\\">us</a> for the full story today.</p>"}]}'
    )
    (entry,) = parse_feed(document)[1]
    assert entry.url == "https://j.example/blog/posts/one"
    assert 'href="https://j.example/about"' in entry.html


def test_an_unchanged_feed_file_is_not_read_again_and_a_changed_one_is(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = tmp_path / "desk.xml"
    feed.write_bytes((FEEDS / "techwire.atom").read_bytes())
    config = load_config(_config(tmp_path, '[sources.desk]\npath = "desk.xml"\n'))
    (first,) = ingest_all(store, config, NOW)
    assert first.new >= 10
    with store.session() as session:
        validator = session.scalars(select(Source.etag)).one()
    assert validator.startswith("sha256:")

    def unread(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged file was parsed again")

    with monkeypatch.context() as patched:
        patched.setattr("digest.intake.sources.feed.parse_feed", unread)
        (second,) = ingest_all(store, config, NOW)
    assert second.line == "ok desk 0 new, 0 updated"

    feed.write_bytes(feed.read_bytes().replace(b"</feed>", LATE_ATOM_ENTRY + b"</feed>"))
    (third,) = ingest_all(store, config, NOW)
    assert third.line == "ok desk 1 new, 0 updated"


LATE_ATOM_ENTRY = (
    b"<entry><title>Late entry</title><link href='https://techwire.example/late'/>"
    b"<id>urn:late</id><updated>2026-11-25T10:00:00Z</updated>"
    b"<content type='html'>&lt;p&gt;A late entry with one sentence of text in it.&lt;/p&gt;"
    b"</content></entry>"
)
