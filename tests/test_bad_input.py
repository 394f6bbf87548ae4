"""A corpus of malformed and tricky feeds, served by a misbehaving loopback server.

Every bad source must give exactly one ``error <name> <reason>`` line, no traceback, and
never keep the good sources of the same run from being stored.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from badserver import BadServer, Reply, serve
from click.testing import CliRunner
from helpers import EXAMPLE, use_database, write_intake_config
from sqlalchemy import select

from digest.cli import cli
from digest.config import load_config
from digest.intake.ingest import ingest_all
from digest.store.database import Store, open_store
from digest.store.models import Article, Source

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
GOOD_FEED = (EXAMPLE / "feeds" / "techwire.atom").read_bytes()
MAX_BYTES = 2_000_000
RSS = "application/rss+xml"


WORDS = [
    c1 + v1 + c2 + v2
    for c1 in "bdfgklmnprstvz"
    for v1 in "aeiou"
    for c2 in "lnrst"
    for v2 in "aeio"
]


def prose(n: int) -> str:
    """Distinct, deterministic text: entries that differ like real stories do."""
    rng = random.Random(n)
    return " ".join(rng.choice(WORDS) for _ in range(20)).capitalize() + "."


def item(n: int, title: str = "", body: str = "") -> str:
    body = body or f"<p>{prose(n)}</p>"
    return (
        f"<item><title>{title or f'Story {n}'}</title>"
        f"<link>https://news.example/story/{n}</link>"
        f"<pubDate>Wed, 25 Nov 2026 0{n % 10}:00:00 GMT</pubDate>"
        f"<description><![CDATA[{body}]]></description></item>"
    )


def rss(items: list[str], encoding: str = "utf-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        f"<title>Feed</title><link>https://news.example/</link>{''.join(items)}</channel></rss>"
    )


def many(count: int, start: int = 0) -> bytes:
    return rss([item(n) for n in range(start, start + count)]).encode()


def bulk(count: int) -> bytes:
    """A big feed, quick to make: it is refused before it is parsed."""
    return rss([item(n, body="<p>Filler.</p>" * 10) for n in range(count)]).encode()


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")
HTML_PAGE = b"<!doctype html><html><head><title>Home</title></head><body><h1>Hi</h1></body></html>"

# name → (reply, the start of its line after the name)
CORPUS: dict[str, tuple[Reply, str]] = {
    "latin-1": (
        Reply(rss([item(1, "Café déjà vu")], "iso-8859-1").encode("latin-1")),
        "ok latin-1 1 new",
    ),
    "utf8-bom": (Reply(b"\xef\xbb\xbf" + rss([item(2, "Zürich façade")]).encode()), "ok"),
    "charset-conflict": (
        Reply(rss([item(3, "Naïve café")]).encode(), content_type=f"{RSS}; charset=iso-8859-1"),
        "ok",
    ),
    "windows-1252": (
        Reply(rss([item(4, "“Smart” quotes — and dashes")], "windows-1252").encode("cp1252")),
        "ok",
    ),
    "entities": (
        Reply(
            rss(
                [
                    item(
                        5,
                        "Tom &amp; Jerry &lt;3 it&#8217;s",
                        "<p>AT&amp;T &eacute;t&eacute; caf&#233; &lt;script&gt; story.</p>",
                    )
                ]
            ).encode()
        ),
        "ok",
    ),
    "broken-xml": (Reply(many(3, start=10)[:-60] + b"<item><title>Unclosed"), "ok"),
    "empty-body": (Reply(b""), "error empty-body no feed entries"),
    "empty-feed": (Reply(rss([]).encode()), "error empty-feed no feed entries"),
    "huge": (Reply(bulk(9_000)), "error huge "),
    "huge-streamed": (
        Reply(bulk(9_000), send_length=False),
        "error huge-streamed ",
    ),
    "html-page": (Reply(HTML_PAGE, content_type="text/html"), "error html-page "),
    "json-not-feed": (
        Reply(b'{"status": "ok"}', content_type="application/json"),
        "error json-not-feed JSON without a jsonfeed.org version",
    ),
    "png": (Reply(PNG, content_type="image/png"), "error png "),
    "loop": (Reply(status=302, headers={"Location": "/loop-b.xml"}), "error loop redirect loop: "),
    "server-error": (Reply(b"oops", status=500), "error server-error HTTP 500 "),
    "cut": (Reply(many(20, start=300), cut_after=500), "error cut cannot fetch "),
    "silent": (Reply(many(2, start=400), delay=3), "error silent timed out after 0.5 s"),
    "drip": (Reply(many(2, start=500), drip=0.2), "error drip timed out after 0.5 s"),
    "gone": (Reply(status=410), "error gone retired: the source answered 410 Gone"),
}


def write_config(tmp_path: Path, database_url: str, server: BadServer, names: list[str]) -> Path:
    sources = "".join(
        f'[sources.{name}]\nurl = "{server.url}/{name}.xml"\nallow_private = true\n'
        for name in names
    )
    path = write_intake_config(
        tmp_path / "digest.toml",
        f"[intake]\ntimeout = 0.5\nhost_delay = 0\nmax_bytes = {MAX_BYTES}\n"
        f'[sources.good]\nurl = "{server.url}/good.xml"\nallow_private = true\n'
        f'[sources.internal]\nurl = "{server.url}/good.xml"\n' + sources,
    )
    use_database(path, database_url)
    return path


@pytest.fixture
def server() -> Iterator[BadServer]:
    with serve() as running:
        running.routes["/good.xml"] = Reply(GOOD_FEED, content_type="application/atom+xml")
        for name, (reply, _) in CORPUS.items():
            running.routes[f"/{name}.xml"] = reply
        running.routes["/loop-b.xml"] = Reply(status=301, headers={"Location": "/loop.xml"})
        yield running


def titles(store: Store, source: str) -> list[str]:
    with store.session() as session:
        query = select(Article.title).join(Source).where(Source.name == source)
        return sorted(session.scalars(query))


def test_the_whole_corpus_gives_one_line_each_and_stores_the_good(
    server: BadServer, tmp_path: Path, database_url: str
) -> None:
    config = write_config(tmp_path, database_url, server, list(CORPUS))
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["ingest", "--config", str(config)])
    took = time.monotonic() - started
    lines = result.output.splitlines()
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert len(lines) == len(CORPUS) + 2
    assert lines[0].startswith("ok good ") and int(lines[0].split()[2]) >= 10
    assert lines[1].startswith(f"error internal refused {server.url}/good.xml: it resolves to")
    for line, (name, (_, expected)) in zip(lines[2:], CORPUS.items(), strict=True):
        assert line.startswith(f"{expected.split()[0]} {name} "), line
        assert line.startswith(expected), line
    assert "larger than [intake] max_bytes = 2000000 bytes (it declares" in result.output
    assert f"redirect loop: {server.url}/loop.xml → {server.url}/loop-b.xml → " in result.output
    assert took < 8, f"the corpus took {took:.1f} s"
    with open_store(load_config(config).database_url) as store:
        assert len(titles(store, "good")) >= 10


def test_encodings_and_entities_are_stored_as_text(
    server: BadServer, tmp_path: Path, store: Store, database_url: str
) -> None:
    names = ["latin-1", "utf8-bom", "charset-conflict", "windows-1252", "entities", "broken-xml"]
    config = load_config(write_config(tmp_path, database_url, server, names))
    reports = {r.source: r for r in ingest_all(store, config, NOW)}
    assert all(not reports[name].error for name in names), [r.line for r in reports.values()]
    assert titles(store, "latin-1") == ["Café déjà vu"]
    assert titles(store, "utf8-bom") == ["Zürich façade"]
    assert titles(store, "charset-conflict") == ["Naïve café"]
    assert titles(store, "windows-1252") == ["“Smart” quotes — and dashes"]
    assert titles(store, "entities") == ["Tom & Jerry <3 it’s"]
    assert titles(store, "broken-xml")[:2] == ["Story 10", "Story 11"]  # the good part of it
    with store.session() as session:
        text = session.scalar(select(Article.text).where(Article.title == "Tom & Jerry <3 it’s"))
        html = session.scalar(select(Article.html).where(Article.title == "Tom & Jerry <3 it’s"))
    assert text == "AT&T été café <script> story."
    assert html is not None and "<script>" not in html


@pytest.mark.slow
def test_five_thousand_entries_are_stored_without_blowing_up(
    server: BadServer, tmp_path: Path
) -> None:
    """On SQLite only. The bound catches a quadratic step, not a slow machine: it is loose,
    and benchmarks/ measures the speed."""
    server.routes["/many.xml"] = Reply(many(5000))
    url = f"sqlite:///{tmp_path / 'many.db'}"
    config = load_config(write_config(tmp_path, url, server, ["many"]))
    with open_store(url) as store:
        started = time.monotonic()
        report = ingest_all(store, config, NOW)[-1]
        took = time.monotonic() - started
        stored = len(titles(store, "many"))
    assert report.line == "ok many 5000 new, 0 updated"
    assert stored == 5000
    assert took < 30, f"5,000 entries took {took:.1f} s"


def test_second_run_follows_the_move_asks_conditionally_and_skips_the_retired(
    server: BadServer, tmp_path: Path, store: Store, database_url: str
) -> None:
    server.routes["/moved.xml"] = Reply(status=301, headers={"Location": "/new-home.xml"})
    server.routes["/new-home.xml"] = Reply(many(2, start=600))
    server.routes["/conditional.xml"] = Reply(many(2, start=700), etag='"v1"')
    server.routes["/stamped.xml"] = Reply(
        many(2, start=800), last_modified="Wed, 25 Nov 2026 10:00:00 GMT"
    )
    names = ["moved", "conditional", "stamped", "gone"]
    config = load_config(write_config(tmp_path, database_url, server, names))
    first = [r.line for r in ingest_all(store, config, NOW)]
    server.requests.clear()
    second = [r.line for r in ingest_all(store, config, NOW)]
    assert first[2:] == [
        "ok moved 2 new, 0 updated",
        "ok conditional 2 new, 0 updated",
        "ok stamped 2 new, 0 updated",
        "error gone retired: the source answered 410 Gone",
    ]
    assert second[2:] == [
        "ok moved 0 new, 0 updated",
        "ok conditional 0 new, 0 updated",
        "ok stamped 0 new, 0 updated",
        "error gone retired: it answered 410 Gone; remove it from the config",
    ]
    asked = server.paths()
    assert "/new-home.xml" in asked and "/moved.xml" not in asked
    assert "/gone.xml" not in asked
    sent = {seen.path: seen.headers for seen in server.requests}
    assert sent["/conditional.xml"]["If-None-Match"] == '"v1"'
    assert sent["/stamped.xml"]["If-Modified-Since"] == "Wed, 25 Nov 2026 10:00:00 GMT"
    with store.session() as session:
        moved = session.scalars(select(Source).where(Source.name == "moved")).one()
        assert moved.location == f"{server.url}/new-home.xml"
