from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import EXAMPLE, SENDER
from sqlalchemy import select

from digest.compose.edition import compose
from digest.compose.standfirst import choose, is_real_standfirst
from digest.config import load_config
from digest.errors import ConfigError
from digest.intake.feeds import parse_feed
from digest.intake.ingest import ingest_all
from digest.intake.pages import extract_page, page_entry
from digest.intake.sources.wordpress import post_entry
from digest.intake.standfirst import standfirst_of
from digest.settings import SegmentSettings
from digest.store.database import Store
from digest.store.models import Article

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
BODY = (
    "<p>Northwind Bank cut its profit forecast on Tuesday after a surge in bad loans in its "
    "furniture and retail lending.</p><p>Shares in Northwind Bank fell 12% in London.</p>"
)
STANDFIRST = "Bad loans to furniture retailers cost Northwind Bank a fifth of its profit."
LOCKNEST_LEAD = "LockNest, a password manager used by about 4 million people, said on Wednesday"
LOCKNEST_STANDFIRST = (
    "Encrypted passwords were not exposed, the company says, but attackers copied website "
    "addresses and account emails."
)
CLAIMWISE_LEAD = "Claimwise, a Boston startup that uses AI agents"
CLAIMWISE_STANDFIRST = "The Boston startup's valuation has roughly tripled"


def _rss(item: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>'
        f"<link>https://news.example/</link><item><title>Northwind cuts forecast</title>"
        f"<link>https://news.example/a</link>{item}</item></channel></rss>"
    ).encode()


def test_a_feed_summary_beside_its_content_is_the_standfirst() -> None:
    both = f"<description>{STANDFIRST}</description><content:encoded><![CDATA[{BODY}]]>"
    [entry] = parse_feed(_rss(both + "</content:encoded>"))[1]
    assert entry.standfirst == STANDFIRST
    assert entry.text.startswith("Northwind Bank cut its profit forecast")
    # a description that is the only text is the body, not a standfirst
    [alone] = parse_feed(_rss(f"<description><![CDATA[{BODY}]]></description>"))[1]
    assert alone.standfirst == "" and alone.text.startswith("Northwind Bank cut")


def test_a_json_feed_summary_is_a_standfirst_only_beside_content() -> None:
    def feed(item: dict[str, str]) -> bytes:
        base = {"url": "https://news.example/a", "title": "Northwind cuts forecast"}
        return json.dumps(
            {"version": "https://jsonfeed.org/version/1.1", "items": [base | item]}
        ).encode()

    [entry] = parse_feed(feed({"content_html": BODY, "summary": STANDFIRST}))[1]
    assert entry.standfirst == STANDFIRST
    [alone] = parse_feed(feed({"summary": "Northwind Bank cut its profit forecast again."}))[1]
    assert alone.standfirst == "" and alone.text


def test_a_wordpress_excerpt_is_a_standfirst_unless_it_is_cut_short() -> None:
    def post(excerpt: str) -> dict[str, object]:
        return {
            "link": "https://news.example/a",
            "title": {"rendered": "Northwind cuts forecast"},
            "content": {"rendered": BODY},
            "excerpt": {"rendered": excerpt},
            "date_gmt": "2026-11-25T10:00:00",
        }

    assert post_entry(post(f"<p>{STANDFIRST}</p>\n"), {}).standfirst == STANDFIRST
    cut = "<p>Northwind Bank cut its profit forecast on Tuesday after a surge [&hellip;]</p>"
    assert post_entry(post(cut), {}).standfirst == ""


def test_a_pages_og_description_is_its_standfirst() -> None:
    page = (
        "<html><head><title>Northwind cuts forecast</title>"
        f'<meta property="og:description" content="{STANDFIRST}"></head><body><article>'
        "<h1>Northwind cuts forecast</h1>" + BODY * 3 + "</article></body></html>"
    )
    entry = page_entry(extract_page(page), "https://news.example/a")
    assert entry.standfirst == STANDFIRST


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"<p>{STANDFIRST}</p>", STANDFIRST),
        ("Plain text &amp; an entity, no markup.", "Plain text & an entity, no markup."),
        ("Northwind Bank cut its forecast… Continue reading", ""),
        ("The post Northwind cuts forecast appeared first on News.", ""),
        ("word " * 81, ""),
        ("", ""),
    ],
)
def test_what_intake_keeps_of_a_summary(text: str, kept: str) -> None:
    assert standfirst_of(text, "Some other body text.") == kept


def test_a_real_standfirst_is_a_reporting_sentence_about_the_story() -> None:
    title = "Northwind Bank cuts its profit forecast"
    text = "Northwind Bank cut its forecast after bad loans to furniture retailers."
    assert is_real_standfirst(STANDFIRST, title, text)
    for teaser in (
        "Politics, world affairs and the news behind the news.",  # the site's tag line
        "What does Northwind's forecast mean for your savings?",
        "Here's what you need to know about Northwind Bank's bad loans.",
        "It said bad loans to furniture retailers cost it a fifth of its profit.",
        "But bad loans to furniture retailers cost Northwind Bank a fifth of its profit.",
        "Northwind Bank cuts its profit forecast.",  # the headline again
        "Northwind forecast cut",
    ):
        assert not is_real_standfirst(teaser, title, text), teaser
    assert choose("auto", STANDFIRST, title, text, 60) == STANDFIRST
    assert choose("auto", STANDFIRST, title, text, 5) is None  # does not fit: the article's
    assert choose("feed", STANDFIRST, title, text, 5) == "Bad loans to furniture retailers …"
    assert choose("feed", "It said so.", title, text, 60) == "It said so."
    assert choose("article", STANDFIRST, title, text, 60) is None
    assert choose("feed", "", title, text, 60) is None


def _summaries(store: Store, segment: SegmentSettings, sources: dict[str, str]) -> dict[str, str]:
    with store.session() as session:
        draft = compose(session, segment, NOW, summary_sources=sources)
    return {i.source: i.summary for i in draft.items if "LockNest" in i.title} | {
        "claimwise": next(i.summary for i in draft.items if "Claimwise" in i.title)
    }


def test_summary_source_per_source_and_per_segment(store: Store) -> None:
    ingest_all(store, load_config(EXAMPLE / "digest.toml"), NOW)
    with store.session() as session:
        kept = session.scalars(select(Article.standfirst)).all()
    assert len(kept) == 37 and all(kept)  # every example item has a standfirst
    segment = SegmentSettings(name="s", max_items=50, lookback_days=30)

    default = _summaries(store, segment, {})  # by default summaries come from the article
    assert default["TechWire"].startswith(LOCKNEST_LEAD)
    auto = _summaries(store, segment, {"techwire": "auto"})
    assert auto["TechWire"] == LOCKNEST_STANDFIRST
    # its standfirst opens on a startup the headline never named: the article's summary
    assert auto["claimwise"].startswith(CLAIMWISE_LEAD)

    article = _summaries(store, segment, {"techwire": "article"})
    assert article["TechWire"].startswith(LOCKNEST_LEAD)
    assert "attackers had copied unencrypted metadata" in article["TechWire"]

    feed = _summaries(store, segment, {"techwire": "feed"})
    assert feed["claimwise"].startswith(CLAIMWISE_STANDFIRST)

    # the segment's setting wins over every source's
    over = _summaries(store, replace(segment, summary_source="feed"), {"techwire": "article"})
    assert over["TechWire"] == LOCKNEST_STANDFIRST
    assert over["claimwise"].startswith(CLAIMWISE_STANDFIRST)
    under = _summaries(store, replace(segment, summary_source="article"), {"techwire": "feed"})
    assert under["TechWire"].startswith(LOCKNEST_LEAD)


def test_summary_source_is_read_from_the_config_and_checked(tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    sources = '[sources.a]\npath = "a.xml"\nsummary_source = "article"\n'
    config.write_text(f'{SENDER}{sources}[defaults]\nsummary_source = "feed"\n[segments.all]\n')
    loaded = load_config(config)
    assert loaded.sources[0].summary_source == "article"
    assert loaded.segment("all").summary_source == "feed"
    config.write_text(f'{SENDER}{sources}[segments.all]\nsummary_source = "standfirst"\n')
    with pytest.raises(ConfigError, match=r"\[segments.all\] summary_source: 'standfirst'"):
        load_config(config)
    config.write_text(f'{SENDER}[sources.a]\npath = "a.xml"\nsummary_source = "x"\n[segments.s]\n')
    with pytest.raises(ConfigError, match=r"\[sources.a\] summary_source: 'x' is not one of"):
        load_config(config)


def test_the_newsroom_config_composes_with_each_sources_setting(
    newsroom: Path, store: Store
) -> None:
    body = newsroom.read_text(encoding="utf-8")
    newsroom.write_text(
        body.replace(
            'path = "feeds/techwire.atom"\n',
            'path = "feeds/techwire.atom"\nsummary_source = "article"\n',
        ).replace(
            'path = "feeds/civic-wire.json"\n',
            'path = "feeds/civic-wire.json"\nsummary_source = "auto"\n',
        ),
        encoding="utf-8",
    )
    config = load_config(newsroom)
    ingest_all(store, config, NOW)
    modes = {s.name: s.summary_source for s in config.sources}
    assert modes["techwire"] == "article" and modes["civic-wire"] == "auto"
    assert modes["talking-democrat"] == "article"  # the default
    summaries = _summaries(store, SegmentSettings(name="s", max_items=50, lookback_days=30), modes)
    assert summaries["TechWire"].startswith(LOCKNEST_LEAD)
