"""WordPress sources against a local stand-in of the REST API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers import write_intake_config
from sqlalchemy import select
from wpserver import WordPressSite, gmt, make_post, serve_wordpress

from digest.config import load_config
from digest.intake.fetch import Fetcher
from digest.intake.ingest import ingest_all
from digest.intake.sources.base import HarvestContext, SourceProblem, SourceState
from digest.intake.sources.wordpress import WordPressSource, api_root, posts_url
from digest.settings import IntakeSettings, SourceSettings
from digest.store.database import Store
from digest.store.models import Article, Source

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
POSTS = 300  # three full pages of 100


def _site(**options: bool) -> WordPressSite:
    posts = [make_post(n) for n in range(1, POSTS + 1)]
    posts[149] = {**posts[149], "link": None}  # post 150 has no link
    posts[199] = {**posts[199], "title": {"rendered": 12}}  # post 200's title is a number
    return WordPressSite(posts=posts, **options)


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(IntakeSettings(host_delay=0)) as shared:
        yield shared


def _harvest(site: WordPressSite, fetcher: Fetcher, cursor: str = "", private: bool = True):  # type: ignore[no-untyped-def]
    settings = SourceSettings(name="blog", kind="wordpress", url=site.url, allow_private=private)
    context = HarvestContext(fetcher=fetcher, base_dir=Path("."), now=NOW)
    return WordPressSource().harvest(settings, SourceState(site.url, cursor=cursor), context)


def _pages_asked(site: WordPressSite) -> list[int]:
    return [
        int(parse_qs(urlsplit(r).query)["page"][0])
        for r in site.requests
        if urlsplit(r).path == "/wp-json/wp/v2/posts"
    ]


def test_posts_url_asks_for_embedded_posts_by_modification_time() -> None:
    url = posts_url("https://blog.example", 3, "2026-11-20T10:00:00")  # a cursor
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith("https://blog.example/wp-json/wp/v2/posts?")
    assert query == {
        "_embed": "1",
        "per_page": "100",
        "page": "3",
        "orderby": "modified",
        "order": "asc",
        "modified_after": "2026-11-20T09:59:59Z",  # a second early
    }
    assert api_root("https://blog.example/news/wp-json/") == "https://blog.example/news"


@pytest.mark.parametrize("header", [True, False], ids=["with-total-pages", "header-stripped"])
def test_three_pages_are_read_and_a_malformed_post_is_one_problem_line(
    fetcher: Fetcher, header: bool
) -> None:
    with serve_wordpress(_site(total_pages_header=header)) as site:
        harvest = _harvest(site, fetcher)
    assert len(harvest.entries) == POSTS - 2
    assert harvest.problems == [
        "post 150: has no http(s) link; skipped",
        "post 200: its title is not text; skipped",
    ]
    asked = _pages_asked(site)
    assert asked[:3] == [1, 2, 3] and set(asked) <= {1, 2, 3, 4}  # 4 answers 400: the end
    assert harvest.cursor == gmt(datetime(2026, 11, 1, 6, 0, tzinfo=UTC) + timedelta(hours=50))


def test_a_post_has_decoded_title_author_terms_date_and_clean_text(fetcher: Fetcher) -> None:
    with serve_wordpress(_site()) as site:
        entries = {e.url: e for e in _harvest(site, fetcher).entries}
    post = entries["https://blog.example/2026/11/post-4/"]
    assert post.title == "Post 4: Ben & Jerry’s “news”"
    assert post.author == "María López"
    assert set(post.raw_tags) == {"World", "Arts & Culture", "Climate"}
    assert set(post.tags) == {"world", "arts-culture", "climate"}
    assert post.published == datetime(2026, 11, 1, 6, 40, tzinfo=UTC)
    assert post.text.startswith("Story number 4 begins")
    assert "It goes on & on about the matter of post 4" in post.text
    assert "<p>" in post.html and "&amp;" in post.html


def test_terms_are_looked_up_when_not_embedded(fetcher: Fetcher) -> None:
    with serve_wordpress(_site(embed_terms=False)) as site:
        entries = {e.url: e for e in _harvest(site, fetcher).entries}
    assert set(entries["https://blog.example/2026/11/post-4/"].tags) == {
        "world",
        "arts-culture",
        "climate",
    }
    lookups = [r for r in site.requests if "/wp/v2/tags" in r or "/wp/v2/categories" in r]
    assert lookups and all("include=" in r for r in lookups)
    assert len(lookups) == 2  # tags and categories once, remembered for later pages


def test_the_cursor_brings_only_posts_changed_since(fetcher: Fetcher) -> None:
    with serve_wordpress(_site()) as site:
        first = _harvest(site, fetcher)
        edited = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
        for number in (7, 42):
            site.posts[number - 1] = {
                **make_post(number, modified=edited + timedelta(minutes=number)),
                "title": {"rendered": f"Post {number}, corrected"},
            }
        site.requests.clear()
        second = _harvest(site, fetcher, cursor=first.cursor)
        site.requests.clear()
        third = _harvest(site, fetcher, cursor=second.cursor)
    assert [e.title for e in second.entries] == [
        "Post 300: Ben & Jerry’s “news”",  # the cursor's own second, read again
        "Post 7, corrected",
        "Post 42, corrected",
    ]
    assert second.cursor == "2026-11-25T10:12:00"
    assert [e.title for e in third.entries] == ["Post 42, corrected"]  # its own second
    assert third.cursor == second.cursor
    assert "modified_after=2026-11-25T10%3A11%3A59Z" in site.requests[0]


def test_a_site_without_the_rest_api_is_one_line(fetcher: Fetcher) -> None:
    with serve_wordpress(WordPressSite()) as site:
        site_url = site.url
        with pytest.raises(SourceProblem) as failure:
            settings = SourceSettings(name="b", kind="wordpress", url=site_url + "/nothing")
            context = HarvestContext(fetcher=fetcher, base_dir=Path("."), now=NOW)
            WordPressSource().harvest(settings, SourceState(site_url + "/nothing"), context)
    assert "\n" not in str(failure.value)
    assert "refused" in str(failure.value)  # loopback needs allow_private


def _config(tmp_path: Path, body: str) -> Path:
    return write_intake_config(tmp_path / "digest.toml", "[intake]\nhost_delay = 0\n" + body)


def test_ingest_stores_posts_then_only_the_changed_ones(store: Store, tmp_path: Path) -> None:
    with serve_wordpress(_site()) as site:
        config = load_config(
            _config(
                tmp_path,
                f'[sources.blog]\nkind = "wordpress"\nurl = "{site.url}"\nallow_private = true\n'
                f'[sources.notwp]\nkind = "wordpress"\nurl = "{site.url}/elsewhere"\n'
                "allow_private = true\n",
            )
        )
        first = {r.source: r for r in ingest_all(store, config, NOW)}
        site.posts[9] = {
            **make_post(10, modified=datetime(2026, 11, 25, tzinfo=UTC)),
            "title": {"rendered": "Post 10, updated"},
        }
        second = {r.source: r for r in ingest_all(store, config, NOW)}
    assert first["blog"].line == f"ok blog {POSTS - 2} new, 0 updated"
    assert second["blog"].line == "ok blog 0 new, 1 updated"
    assert first["notwp"].line.startswith("error notwp ")
    assert "JSON list of posts" in first["notwp"].line or "HTTP 404" in first["notwp"].line
    with store.session() as session:
        source = session.scalars(select(Source).where(Source.name == "blog")).one()
        assert source.cursor == "2026-11-25T00:00:00"
        article = session.scalars(
            select(Article).where(Article.url == "https://blog.example/2026/11/post-10/")
        ).one()
        assert article.title == "Post 10, updated"
        assert sorted(article.tag_names) == ["arts-culture", "climate", "world"]
