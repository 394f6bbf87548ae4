"""Web pages and teaser feeds: full text by trafilatura, cleaned, over a loopback server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from feedserver import FeedServer, Route, serve
from helpers import write_intake_config
from sqlalchemy import select

from digest.config import load_config
from digest.intake.fetch import Fetcher
from digest.intake.ingest import ingest_all
from digest.intake.pages import PageError, extract_page, page_entry
from digest.intake.sources.base import HarvestContext, SourceState
from digest.intake.sources.feed import FeedSource
from digest.settings import IntakeSettings, SourceSettings
from digest.store.database import Store
from digest.store.models import Article

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
PAGES = Path(__file__).parent / "data" / "pages"
SEED = PAGES / "seed-article.html"
SEED_URL = "https://talkingdemocrat.example/2026/11/putin-russian-interference-inventions-of-trump-opponents/"
JUNK = (
    "Trump Putin Western liberalism",  # the tag line
    "Putin/CC",  # the caption and credit
    "Must Read",  # the in-body promo
    "sociologist",  # the author's bio
    "Share this",
    "cookies",
    "Sign up",
    "Gerald",  # a comment
    "Senate Democrats",  # a related story
    "All rights reserved",
    "Advertisement",
)


def test_a_page_gives_its_metadata_and_clean_text() -> None:
    page = extract_page(SEED.read_bytes())
    assert (
        page.title
        == "Putin: Russian Interference in 2016 Elections Are Inventions of Trump’s Opponents"
    )
    assert page.author == "Andrei Santov"
    assert page.published == datetime(2026, 11, 26, 4, 10, tzinfo=UTC)
    assert {"Russia", "U.S. Politics", "Politics"} <= set(page.tags)
    assert page.canonical == SEED_URL + "?utm_source=rss&utm_medium=feed"
    assert page.site == "The Talking Democrat"
    entry = page_entry(page, SEED_URL)
    assert entry.text.startswith("Russian President Vladimir Putin ruled Thursday")
    assert entry.text.endswith("North Korea, etc.”")
    assert entry.text.count("\n\n") == 9  # ten paragraphs
    for junk in JUNK:
        assert junk not in entry.text, junk
    assert {"russia", "us-politics", "politics"} <= set(entry.tags)
    assert entry.html.startswith("<p>Russian President") and "<script" not in entry.html


@pytest.mark.parametrize(
    ("document", "content_type", "reason"),
    [
        (b"", "", "not an HTML page"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "", "not an HTML page"),
        (b'{"title": "json"}', "application/json", "not an HTML page (application/json)"),
        (b"<html><body><p>fine</p></body></html>", "image/png", "not an HTML page (image/png)"),
        (b"<html><body><nav><a href=/>Home</a></nav></body></html>", "", "no article text"),
        (b"<html><body>" + b"<div>" * 20000 + b"</body></html>", "text/html", "no article text"),
    ],
    ids=["empty", "pdf", "json", "image", "navigation-only", "deeply-nested"],
)
def test_what_is_not_an_article_page_is_one_clear_line(
    document: bytes, content_type: str, reason: str
) -> None:
    with pytest.raises(PageError) as failure:
        page_entry(extract_page(document, content_type=content_type), "https://x.example/a")
    assert str(failure.value).startswith(reason) and "\n" not in str(failure.value)


def test_encodings_and_entities_come_out_as_text() -> None:
    latin = (
        '<html><head><meta charset="iso-8859-1"><title>Caf\xe9 culture</title></head><body>'
        "<article><h1>Caf\xe9 culture</h1><p>Le caf\xe9 est tr\xe8s bon et nous y allons "
        "souvent le matin avec des amis de longue date, avant le travail.</p></article>"
        "</body></html>"
    ).encode("latin-1")
    assert extract_page(latin).paragraphs[-1].startswith("Le café est très bon")
    entities = (
        b"<html><body><article><h1>A &amp; B</h1><p>Caf&eacute; &#8220;quoted&#8221; and "
        b"more words so that this is long enough to be a paragraph.</p></article></body></html>"
    )
    assert extract_page(entities).paragraphs[-1].startswith("Café “quoted” and more")


def _config(tmp_path: Path, body: str) -> Path:
    return write_intake_config(tmp_path / "digest.toml", "[intake]\nhost_delay = 0\n" + body)


@pytest.fixture
def site() -> Iterator[FeedServer]:
    """The seed article on loopback, its canonical link pointing at its own host."""
    html = SEED.read_text(encoding="utf-8").replace(
        "https://talkingdemocrat.example/2026/11/putin-russian", "/2026/11/putin-russian"
    )
    with serve() as server:
        server.routes["/2026/11/putin"] = Route(
            html.encode(), content_type="text/html; charset=utf-8", etag='"p1"'
        )
        server.routes["/data.json"] = Route(b'{"a": 1}', content_type="application/json")
        yield server


def test_ingest_stores_pages_by_url_and_by_file(
    store: Store, tmp_path: Path, site: FeedServer
) -> None:
    anonymous = (PAGES / "no-canonical.html").read_text(encoding="utf-8")
    (tmp_path / "saved.html").write_text(
        anonymous.replace(
            "<title>", '<link rel="canonical" href="https://notes.example/harbour"><title>'
        ),
        encoding="utf-8",
    )
    (tmp_path / "anonymous.html").write_text(anonymous, encoding="utf-8")
    config = load_config(
        _config(
            tmp_path,
            f'[sources.web]\nkind = "page"\nurl = "{site.url}/2026/11/putin"\n'
            "allow_private = true\n"
            f'[sources.guarded]\nkind = "page"\nurl = "{site.url}/2026/11/putin"\n'
            f'[sources.json]\nkind = "page"\nurl = "{site.url}/data.json"\nallow_private = true\n'
            '[sources.saved]\nkind = "page"\npath = "saved.html"\n'
            '[sources.anonymous]\nkind = "page"\npath = "anonymous.html"\n',
        )
    )
    first = {r.source: r for r in ingest_all(store, config, NOW)}
    second = {r.source: r for r in ingest_all(store, config, NOW)}
    assert first["web"].line == "ok web 1 new, 0 updated"
    assert second["web"].line == "ok web 0 new, 0 updated"
    assert [h.get("If-None-Match") for p, h in site.requests if p == "/2026/11/putin"] == [
        None,
        '"p1"',
    ]  # the guarded source never connected
    assert (
        first["guarded"].error.startswith("refused ") and "allow_private" in first["guarded"].error
    )
    assert first["json"].error.startswith("not an HTML page (application/json)")
    assert first["saved"].line == "ok saved 1 new, 0 updated"
    assert first["anonymous"].error.endswith(
        'declares no http(s) URL (<link rel="canonical"> or og:url); add one to the file, '
        "or give the page by url"
    )
    with store.session() as session:
        urls = sorted(session.scalars(select(Article.url)))
        assert urls == [
            f"{site.url}/2026/11/putin-russian-interference-inventions-of-trump-opponents/",
            "https://notes.example/harbour",
        ]  # canonical links honoured, their utm_ parameters dropped
        text = session.scalar(select(Article.text).where(Article.url == urls[0]))
        assert text and text.startswith("Russian President Vladimir Putin ruled")
        assert not any(junk in text for junk in JUNK)


TEASER_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Teasers</title><link>{url}/</link>
<item><title>Putin: Russian Interference Claims Are Inventions</title>
<link>{url}/2026/11/putin</link><category>Russia</category>
<description>Putin said the charges were invented by his opponents.</description>
</item>
<item><title>A Story Whose Page Is Missing</title><link>{url}/missing</link>
<description>This teaser is all there is: the page answers 404.</description></item>
<item><title>A Story Whose Page Is JSON</title><link>{url}/data.json</link>
<description>This teaser stays too: its link is not a web page.</description></item>
</channel></rss>"""


def test_a_teaser_feed_gets_each_page_text_and_keeps_teasers_that_fail(
    site: FeedServer,
) -> None:
    site.routes["/teasers.xml"] = Route(TEASER_FEED.format(url=site.url).encode())
    settings = SourceSettings(
        name="teasers", url=f"{site.url}/teasers.xml", teaser=True, allow_private=True
    )
    with Fetcher(IntakeSettings(host_delay=0)) as fetcher:
        context = HarvestContext(fetcher=fetcher, base_dir=Path("."), now=NOW)
        harvest = FeedSource().harvest(settings, SourceState(settings.url), context)
    full, missing, json_page = harvest.entries
    assert full.text.startswith("Russian President Vladimir Putin ruled Thursday")
    assert len(full.text.split()) > 350 and "Must Read" not in full.text
    assert full.title == "Putin: Russian Interference Claims Are Inventions"  # the feed's
    assert full.author == "Andrei Santov"  # the page's, as the feed has none
    assert full.tags == ("russia",)  # the feed's own tags win
    assert full.declared_canonical.endswith(
        "/2026/11/putin-russian-interference-inventions-of-trump-opponents/?utm_source=rss&utm_medium=feed"
    )
    assert missing.text == "This teaser is all there is: the page answers 404."
    assert json_page.text == "This teaser stays too: its link is not a web page."
    assert len(harvest.problems) == 2
    assert harvest.problems[0].startswith(f"{site.url}/missing: HTTP 404")
    assert harvest.problems[0].endswith("; kept the feed's teaser")
    assert harvest.problems[1].startswith(f"{site.url}/data.json: not an HTML page")


def test_a_teaser_feed_through_ingest(store: Store, tmp_path: Path, site: FeedServer) -> None:
    site.routes["/teasers.xml"] = Route(TEASER_FEED.format(url=site.url).encode())
    config = load_config(
        _config(
            tmp_path,
            f'[sources.teasers]\nurl = "{site.url}/teasers.xml"\nteaser = true\n'
            "allow_private = true\n",
        )
    )
    assert [r.line for r in ingest_all(store, config, NOW)] == ["ok teasers 3 new, 0 updated"]
    with store.session() as session:
        texts = {a.title: a.text for a in session.scalars(select(Article))}
    assert texts["Putin: Russian Interference Claims Are Inventions"].endswith("North Korea, etc.”")
    assert texts["A Story Whose Page Is Missing"].startswith("This teaser is all there is")


BODY = (
    "<p>The harbour authority said on Monday that the north quay would reopen in March after "
    "two years of repairs, ahead of the date it gave last spring.</p>"
    "<p>Engineers replaced the timber piles with steel ones and raised the deck by forty "
    "centimetres, which should keep it above the highest tides forecast for the coming decades.</p>"
    "<p><a href='/quay-history'>The quay's long history</a><br>is told in a new exhibition at "
    "the maritime museum, which opens on the same day as the quay itself.</p>"
    "<p>Fishing boats that moved to the south basin during the works will return in April, the "
    "authority said, once the new moorings have been inspected and certified.</p>"
)
RAIL = (
    "<p><a href='/a'>Council approves new cycle lanes</a><br>The city council voted on Tuesday "
    "to build twelve kilometres of protected cycle lanes by the end of next year.</p>"
    "<p><a href='/b'>School meals to go free for all pupils</a><br>Every primary pupil in the "
    "region will get a free lunch from September, the education office said.</p>"
)


def test_a_rail_of_other_articles_teasers_after_the_body_is_dropped() -> None:
    html = (
        "<html><head><title>North quay to reopen in March</title></head><body><table><tr>"
        f"<td class='content'><h1>North quay to reopen in March</h1>{BODY}</td>"
        f"<td class='rightcol'><b>Top Stories</b>{RAIL}</td></tr></table></body></html>"
    )
    text = page_entry(
        extract_page(html, "https://port.example/quay"), "https://port.example/q"
    ).text
    assert "cycle lanes" not in text and "free lunch" not in text
    assert text.startswith("The harbour authority said on Monday")
    assert "The quay's long history is told in a new exhibition" in text  # a link in the body
    assert text.endswith("inspected and certified.")
