"""Lead images: captured at intake from every kind of source, over a loopback server, kept
to https and public hosts, stored, and carried to the edition's items and the templates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from click.testing import CliRunner
from feedserver import FeedServer, Route, serve
from helpers import EXAMPLE, write_intake_config
from sqlalchemy import MetaData, Table, insert, inspect, select
from wpserver import WordPressSite, make_post, serve_wordpress

from digest.commands.intake import extract
from digest.compose.edition import compose
from digest.config import load_config
from digest.intake.feeds import parse_feed
from digest.intake.images import ImageRef, guarded, image_of, lead_image
from digest.intake.ingest import ingest_all
from digest.intake.pages import extract_page
from digest.render.email import Identity, render
from digest.settings import SegmentSettings
from digest.store.database import MIGRATIONS, Store, make_engine, migrate
from digest.store.images import Image
from digest.store.models import Article

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CDN = "https://cdn.news.example"
STORIES = [
    "Rescuers searched collapsed buildings in Antakya through the night after the earthquake.",
    "The harbour at Portsmouth reopened on Monday after storms closed it for a week.",
    "Shares in the chipmaker rose sharply after it raised its forecast for the year.",
    "A panel of judges ruled that the regional election must be held again in March.",
    "The city council approved a plan to plant ten thousand trees along its ring road.",
    "Researchers found that a common antibiotic shortens recovery from the infection.",
    "The national orchestra announced a tour of twelve cities starting next spring.",
    "Train drivers called off the strike planned for Friday after a new pay offer.",
    "The museum returned three bronze sculptures to the kingdom they were taken from.",
    "Farmers warned that the dry autumn will cut next year's wheat harvest sharply.",
]


def _item(n: int, media: str, link: str = "") -> str:
    text = STORIES[n - 1]
    return f"""
    <item><title>Story {n}: {text.split()[0]} {text.split()[1]}</title>
      <link>{link or f"https://news.example/{n}"}</link>
      <pubDate>Thu, 26 Nov 2026 0{n % 10}:00:00 +0000</pubDate>
      <description>{text} It is story number {n} of the day.</description>{media}
    </item>"""


def rss(own: str) -> bytes:
    """One item per case; ``own`` is the feed's own host over https."""
    items = [
        _item(
            1,
            f"""<media:content url="{CDN}/1-small.jpg" medium="image" width="300" height="200"/>
      <media:content url="{CDN}/1.jpg" medium="image" type="image/jpeg" width="1200"
        height="800"><media:description>Rescuers search the rubble in Antakya.</media:description>
      </media:content>
      <content:encoded><![CDATA[<p>{STORIES[0]} It is story number 1 of the day.</p>]]>
      </content:encoded>""",
        ),
        _item(2, '<media:thumbnail url="/thumbs/2.jpg" width="150" height="100"/>'),
        _item(3, f'<enclosure url="{CDN}/3.jpg" type="image/jpeg" length="12345"/>'),
        _item(4, '<media:content url="http://cdn.news.example/4.jpg" medium="image"/>'),
        _item(5, '<media:content url="https://10.0.0.7/5.jpg" medium="image"/>'),
        _item(6, '<media:content url="https://localhost/6.jpg" medium="image"/>'),
        _item(7, f'<media:content url="{own}/7.jpg" medium="image"/>'),
        _item(8, '<media:content url="https://[::1/8.jpg" medium="image" width="wide"/>'),
        _item(
            9,
            f"""<media:content url="{CDN}/9.mp4" medium="video"/>
      <media:thumbnail url="{CDN}/9.jpg"/>
      <media:description>A train waits at the platform.</media:description>""",
        ),
    ]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>News</title><link>https://news.example/</link>
{"".join(items)}
</channel></rss>""".encode()


ATOM = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom desk</title><id>urn:desk</id>
<updated>2026-11-26T09:00:00Z</updated>
<entry><title>The museum returns three bronzes</title><id>urn:a1</id>
<link href="https://atom.example/bronzes"/>
<link rel="enclosure" type="image/png" href="{CDN}/bronzes.png" length="100"/>
<updated>2026-11-26T09:00:00Z</updated>
<content type="html">&lt;p&gt;{STORIES[8]}&lt;/p&gt;</content></entry>
</feed>""".encode()

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON desk",
        "items": [
            {
                "id": "j1",
                "url": "https://json.example/j1",
                "title": "Farmers warn of a poor harvest",
                "content_text": STORIES[9],
                "image": f"{CDN}/j1.jpg",
                "banner_image": f"{CDN}/j1-banner.jpg",
                "date_published": "2026-11-26T07:30:00Z",
            },
            {
                "id": "j2",
                "url": "https://json.example/news/j2",
                "title": "The orchestra goes on tour",
                "content_text": STORIES[6],
                "banner_image": "../banners/j2.jpg",
                "date_published": "2026-11-26T07:40:00Z",
            },
        ],
    }
).encode()


def page(head: str, first: int = 3) -> bytes:
    body = "".join(
        f"<p>{s} It matters to everyone in the region.</p>" for s in STORIES[first : first + 3]
    )
    return f"""<!doctype html><html><head><title>Judges order a new election</title>
<meta property="og:title" content="Judges order a new election">{head}</head>
<body><article><h1>Judges order a new election</h1>{body}</article></body></html>""".encode()


OG = f"""
<meta property="og:image" content="http://cdn.news.example/p.jpg">
<meta property="og:image:secure_url" content="{CDN}/p.jpg">
<meta property="og:image:width" content="1600">
<meta property="og:image:height" content="900">
<meta property="og:image" content="{CDN}/p-second.jpg">
<meta property="og:image:alt" content="Not the first image's alt">
<meta name="twitter:image" content="http://cdn.news.example/p.jpg">
<meta name="twitter:image:alt" content="Judges enter the court in Vilnius.">"""
TWITTER = f"""
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:image" content="{CDN}/card.jpg">
<meta name="twitter:image:alt" content="Voters queue outside a polling station.">"""

MEDIA: dict[int, dict[str, Any]] = {
    51: {
        "id": 51,
        "media_type": "image",
        "alt_text": "Wind turbines off the coast at dawn &amp; a ferry",
        "source_url": "https://blog.example/wp-content/uploads/2026/11/wind.jpg",
        "media_details": {"width": 2048, "height": 1365, "sizes": {}},
    },
    52: {"code": "rest_forbidden", "message": "Sorry, you cannot view this.", "data": {}},
    53: {
        "id": 53,
        "media_type": "file",
        "source_url": "https://blog.example/wp-content/uploads/report.pdf",
    },
}


@contextmanager
def newsroom(tmp_path: Path) -> Iterator[tuple[FeedServer, WordPressSite, Path]]:
    """A loopback server with every kind of source, and a config reading them."""
    posts = [make_post(n) for n in (1, 2, 3)]
    for post, media in zip(posts, (51, 52, 53), strict=True):
        post["featured_media"] = media
    with serve() as server, serve_wordpress(WordPressSite(posts=posts, media=MEDIA)) as site:
        own = server.url.replace("http://", "https://")
        server.routes["/rss.xml"] = Route(rss(own))
        server.routes["/atom.xml"] = Route(ATOM, content_type="application/atom+xml")
        server.routes["/feed.json"] = Route(JSON_FEED, content_type="application/feed+json")
        server.routes["/og.html"] = Route(page(OG), content_type="text/html")
        server.routes["/card.html"] = Route(page(TWITTER, 0), content_type="text/html")
        sources = "".join(
            f'[sources.{name}]\nkind = "{kind}"\nurl = "{url}"\nallow_private = true\n'
            for name, kind, url in [
                ("rss", "feed", f"{server.url}/rss.xml"),
                ("atom", "feed", f"{server.url}/atom.xml"),
                ("json", "feed", f"{server.url}/feed.json"),
                ("og", "page", f"{server.url}/og.html"),
                ("card", "page", f"{server.url}/card.html"),
                ("wordpress", "wordpress", site.url),
            ]
        )
        config = write_intake_config(
            tmp_path / "digest.toml", f"[intake]\nhost_delay = 0\n{sources}"
        )
        yield server, site, config


def stored_images(store: Store) -> dict[str, Image | None]:
    with store.session() as session:
        return {a.url: a.image for a in session.scalars(select(Article))}


def test_each_kind_of_source_gives_its_lead_image_with_alt_and_size(
    store: Store, tmp_path: Path
) -> None:
    with newsroom(tmp_path) as (server, _, config):
        reports = ingest_all(store, load_config(config), NOW)
        own = server.url.replace("http://", "https://")
    assert [r.error for r in reports] == [""] * 6
    images = stored_images(store)
    assert len(images) == 9 + 1 + 2 + 2 + 3  # every article, with its image or without
    assert images["https://news.example/1"] == Image(
        f"{CDN}/1.jpg", "Rescuers search the rubble in Antakya.", 1200, 800
    )  # the widest media:content, its media:description as alt
    assert images["https://news.example/2"] == Image(
        "https://news.example/thumbs/2.jpg", "", 150, 100
    )
    assert images["https://news.example/3"] == Image(f"{CDN}/3.jpg")  # an image enclosure
    assert images["https://news.example/7"] == Image(f"{own}/7.jpg")  # the source's own host
    assert images["https://news.example/9"] == Image(
        f"{CDN}/9.jpg", "A train waits at the platform."
    )  # the video is passed over for the thumbnail
    assert images["https://atom.example/bronzes"] == Image(f"{CDN}/bronzes.png")
    assert images["https://json.example/j1"] == Image(f"{CDN}/j1.jpg")  # image before banner
    assert images["https://json.example/news/j2"] == Image("https://json.example/banners/j2.jpg")
    og, card = (images[f"{server.url}/{name}.html"] for name in ("og", "card"))
    assert og == Image(f"{CDN}/p.jpg", "Judges enter the court in Vilnius.", 1600, 900)
    assert card == Image(f"{CDN}/card.jpg", "Voters queue outside a polling station.")
    assert images["https://blog.example/2026/11/post-1/"] == Image(
        "https://blog.example/wp-content/uploads/2026/11/wind.jpg",
        "Wind turbines off the coast at dawn & a ferry",
        2048,
        1365,
    )


def test_http_private_and_malformed_images_are_left_out_but_never_the_article(
    store: Store, tmp_path: Path
) -> None:
    with newsroom(tmp_path) as (_, _, config):
        ingest_all(store, load_config(config), NOW)
    images = stored_images(store)
    for refused in (4, 5, 6, 8):  # http, 10.0.0.7, localhost, a broken IPv6 host
        assert images[f"https://news.example/{refused}"] is None
    for withheld in (2, 3):  # featured media WordPress withheld, and a PDF
        assert images[f"https://blog.example/2026/11/post-{withheld}/"] is None
    with store.session() as session:
        first = session.scalars(select(Article).where(Article.url == "https://news.example/1"))
        assert "Rescuers search the rubble" not in first.one().text  # the caption is no article


def test_without_allow_private_the_feeds_own_private_host_is_refused(tmp_path: Path) -> None:
    with serve() as server:
        own = server.url.replace("http://", "https://")
        server.routes["/rss.xml"] = Route(rss(own))
        fetched = CliRunner().invoke(extract, ["--allow-private", f"{server.url}/rss.xml"])
    item = parse_feed(rss(own))[1][6]
    assert item.image == Image(f"{own}/7.jpg")  # parsing alone keeps it; the guard decides
    assert guarded(item.image) is None
    assert guarded(item.image, trusted_host="127.0.0.1") == item.image
    assert guarded(item.image, allow_hosts=["127.0.0.1"]) == item.image
    records = [json.loads(line) for line in fetched.stdout.splitlines()]
    assert records[6]["image"]["url"] == f"{own}/7.jpg"  # --allow-private trusts the host
    from_file = tmp_path / "rss.xml"
    from_file.write_bytes(rss(own))
    offline = CliRunner().invoke(extract, [str(from_file)]).stdout.splitlines()
    assert json.loads(offline[6])["image"] is None  # a file's images get no trusted host


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://img.example/a.jpg", "https://img.example/a.jpg"),
        ("//img.example/a.jpg", "https://img.example/a.jpg"),  # scheme-relative
        ("../img/a.jpg", "https://news.example/img/a.jpg"),
        ("/a b.jpg", None),
        ("http://img.example/a.jpg", None),
        ("data:image/png;base64,iVBORw0KGgo=", None),
        ("javascript:alert(1)", None),
        ("https://user:secret@img.example/a.jpg", None),
        ("https://img.example:99999/a.jpg", None),
        ('https://img.example/a.jpg"onerror="x', None),
        ("", None),
        (42, None),
    ],
)
def test_an_image_address_is_resolved_and_must_be_https(url: object, expected: str | None) -> None:
    found = image_of(ImageRef(url), "https://news.example/2026/story")
    assert (found.url if found else None) == expected


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f.0.0.1",
        "[::1]",
        "10.1.2.3",
        "169.254.169.254",
        "[::ffff:192.168.0.1]",
        "localhost",
        "img.localhost",
        "100.64.0.1",
    ],
)
def test_hosts_spelled_as_non_public_addresses_are_refused(host: str) -> None:
    assert guarded(Image(f"https://{host}/a.jpg")) is None
    assert guarded(Image("https://8.8.8.8/a.jpg")) is not None


def test_sizes_and_alt_text_are_cleaned_or_dropped() -> None:
    found = lead_image(
        [ImageRef("https://img.example/a.jpg", "  <b>Fire</b>\n crews &amp; a  truck ", "640px", 0)]
    )
    assert found == Image("https://img.example/a.jpg", "Fire crews & a truck", 640, None)
    for bad in ("wide", -5, True, 10**9, "1e3", 1.5):
        odd = image_of(ImageRef("https://img.example/a.jpg", width=bad))
        assert odd is not None and odd.width is None


def test_a_pages_relative_image_resolves_against_the_page_address() -> None:
    head = '<meta property="og:image" content="../img/lead.jpg">'
    found = extract_page(page(head), "https://news.example/2026/11/story.html")
    assert found.image == Image("https://news.example/2026/img/lead.jpg")
    assert extract_page(page(head), "http://news.example/2026/11/story.html").image is None


def test_an_updated_article_updates_its_image(store: Store, tmp_path: Path) -> None:
    def feed(media: str) -> bytes:
        return f"""<?xml version="1.0"?><rss version="2.0"
xmlns:media="http://search.yahoo.com/mrss/"><channel><title>N</title>
{_item(1, media)}</channel></rss>""".encode()

    with serve() as server:
        config = load_config(
            write_intake_config(
                tmp_path / "digest.toml",
                f'[intake]\nhost_delay = 0\n[sources.n]\nurl = "{server.url}/n.xml"\n'
                "allow_private = true\n",
            )
        )
        seen = []
        for media in (
            f'<media:content url="{CDN}/old.jpg" width="600" height="400"/>',
            f'<media:thumbnail url="{CDN}/new.jpg"/><media:description>New</media:description>',
            "",
        ):
            server.routes["/n.xml"] = Route(feed(media))
            (report,) = ingest_all(store, config, NOW)
            assert not report.error
            seen.append(stored_images(store)["https://news.example/1"])
    assert seen == [Image(f"{CDN}/old.jpg", "", 600, 400), Image(f"{CDN}/new.jpg", "New"), None]


def test_edition_items_carry_the_image_to_the_templates(store: Store, tmp_path: Path) -> None:
    with newsroom(tmp_path) as (_, _, config):
        ingest_all(store, load_config(config), NOW)
    segment = SegmentSettings(name="all", max_items=50, lookback_days=30, diversity=0)
    with store.session() as session:
        draft = compose(session, segment, NOW)
    by_url = {i.url: i for i in draft.items}
    assert by_url["https://news.example/1"].image == Image(
        f"{CDN}/1.jpg", "Rescuers search the rubble in Antakya.", 1200, 800
    )
    assert by_url["https://news.example/4"].image is None
    templates = tmp_path / "templates" / "email"
    templates.mkdir(parents=True)
    (templates / "digest.txt.j2").write_text(
        "{% for item in items %}{% if item.image %}"
        "{{ item.url }} {{ item.image.url }} [{{ item.image.alt }}] "
        "{{ item.image.width }}x{{ item.image.height }}\n{% endif %}{% endfor %}",
        encoding="utf-8",
    )
    rendered = render(draft, Identity("Desk", "1 Street", UTC), tmp_path / "templates")
    lines = rendered.text.splitlines()
    assert (
        f"https://news.example/1 {CDN}/1.jpg [Rescuers search the rubble in Antakya.] 1200x800"
        in lines
    )
    assert f"https://news.example/3 {CDN}/3.jpg [] NonexNone" in lines
    assert len(lines) == sum(1 for i in draft.items if i.image)


def test_digest_extract_shows_each_articles_image(tmp_path: Path) -> None:
    with newsroom(tmp_path) as (server, _, _):
        result = CliRunner().invoke(
            extract, ["--allow-private", f"{server.url}/rss.xml", f"{server.url}/og.html"]
        )
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["image"] == {
        "url": f"{CDN}/1.jpg",
        "alt": "Rescuers search the rubble in Antakya.",
        "width": 1200,
        "height": 800,
    }
    assert records[3]["image"] is None  # http
    assert records[-1]["image"]["alt"] == "Judges enter the court in Vilnius."


def test_the_example_newsroom_shows_lead_images() -> None:
    feeds = sorted(str(p) for p in (EXAMPLE / "feeds").iterdir())
    records = [json.loads(line) for line in CliRunner().invoke(extract, feeds).stdout.splitlines()]
    with_images = [r for r in records if r["image"]]
    assert len({r["source"] for r in with_images}) == 3  # every feed has some
    assert all(r["image"]["url"].startswith("https://") for r in with_images)
    assert sum(1 for r in with_images if r["image"]["alt"]) >= len(with_images) // 2


def test_the_migration_adds_empty_image_columns_and_takes_them_away(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine, "0015")
        with engine.begin() as connection:
            tables = MetaData()
            sources = Table("sources", tables, autoload_with=connection)
            articles = Table("articles", tables, autoload_with=connection)
            connection.execute(
                insert(sources).values(
                    id=1,
                    name="n",
                    kind="feed",
                    status="active",
                    location="x",
                    title="",
                    etag="",
                    last_modified="",
                    consecutive_failures=0,
                    last_error="",
                )
            )
            connection.execute(
                insert(articles).values(
                    id=1,
                    source_id=1,
                    url="https://news.example/old",
                    title="Old",
                    author="",
                    published_at=NOW,
                    first_seen_at=NOW,
                    text="t",
                    html="",
                )
            )
        migrate(engine)
        with Store(engine).session() as session:
            old = session.scalars(select(Article)).one()
            assert (old.image_url, old.image_alt, old.image_width, old.image) == (
                "",
                "",
                None,
                None,
            )
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0015")
        columns = {c["name"] for c in inspect(engine).get_columns("articles")}
        assert not {c for c in columns if c.startswith("image_")}
        migrate(engine)
        columns = {c["name"] for c in inspect(engine).get_columns("articles")}
        assert {"image_url", "image_alt", "image_width", "image_height"} <= columns
    finally:
        engine.dispose()


def test_a_teaser_feed_takes_the_pages_image_when_it_names_none(
    store: Store, tmp_path: Path
) -> None:
    with serve() as server:
        items = _item(1, "", link=f"{server.url}/story-1") + _item(
            2, f'<media:content url="{CDN}/feed-2.jpg"/>', link=f"{server.url}/story-2"
        )
        server.routes["/teasers.xml"] = Route(
            f"""<?xml version="1.0"?><rss version="2.0"
xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title>{items}
</channel></rss>""".encode()
        )
        server.routes["/story-1"] = Route(page(OG), content_type="text/html")
        server.routes["/story-2"] = Route(page(TWITTER, 0), content_type="text/html")
        config = write_intake_config(
            tmp_path / "digest.toml",
            f'[intake]\nhost_delay = 0\n[sources.t]\nurl = "{server.url}/teasers.xml"\n'
            "teaser = true\nallow_private = true\n",
        )
        (report,) = ingest_all(store, load_config(config), NOW)
    assert not report.error and not report.problems
    images = stored_images(store)
    assert images[f"{server.url}/story-1"] == Image(
        f"{CDN}/p.jpg", "Judges enter the court in Vilnius.", 1600, 900
    )
    assert images[f"{server.url}/story-2"] == Image(f"{CDN}/feed-2.jpg")  # the feed's own


def test_a_folder_article_names_its_image(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "harbour.md").write_text(
        "---\ntitle: The harbour reopens\nurl: https://folder.example/harbour\n"
        f"image:\n  url: {CDN}/harbour.jpg\n  alt: Boats return to the harbour.\n"
        "  width: 1024\n  height: 768\n---\n" + STORIES[1] + "\n",
        encoding="utf-8",
    )
    lines = [
        {
            "url": "https://folder.example/a/trees",
            "title": "Trees",
            "text": STORIES[4],
            "image": "../img/trees.jpg",
        },
        {
            "url": "https://folder.example/strike",
            "title": "Strike off",
            "text": STORIES[7],
            "image": {"alt": "no address"},
        },
    ]
    (folder / "more.jsonl").write_text(
        "\n".join(json.dumps(line) for line in lines), encoding="utf-8"
    )
    config = write_intake_config(
        tmp_path / "digest.toml", '[sources.f]\nkind = "folder"\npath = "articles"\n'
    )
    (report,) = ingest_all(store, load_config(config), NOW)
    assert (report.new, report.problems) == (3, ())
    images = stored_images(store)
    assert images["https://folder.example/harbour"] == Image(
        f"{CDN}/harbour.jpg", "Boats return to the harbour.", 1024, 768
    )
    assert images["https://folder.example/a/trees"] == Image("https://folder.example/img/trees.jpg")
    assert images["https://folder.example/strike"] is None


def test_a_media_content_of_no_stated_type_is_judged_by_its_address() -> None:
    media = f'<media:content url="{CDN}/clip.MP4" width="1920"/><media:content url="{CDN}/still"/>'
    document = f"""<?xml version="1.0"?><rss version="2.0"
xmlns:media="http://search.yahoo.com/mrss/"><channel><title>N</title>{_item(1, media)}
</channel></rss>""".encode()
    (entry,) = parse_feed(document)[1]
    assert entry.image == Image(f"{CDN}/still")
