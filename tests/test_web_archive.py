"""The public archive: a segment with ``archive = true`` publishes each sent edition at
``<base>/archive/<segment>/<slug>/`` without any reader's data, with a list page and an
Atom feed, and every email of the segment links to its page; other segments publish
nothing."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import feedparser
import httpx
import pytest
from bs4 import BeautifulSoup
from helpers import add_edition, free_port
from sqlalchemy import select, update
from webtools import add_feed_item, open_site, read_message, run_digest, serving, set_base_url

from digest.config import load_config
from digest.errors import DigestError
from digest.store.database import Store, open_store
from digest.store.models import Article, Edition, EditionItem, EditionStatus

ARCHIVED = "everything-weekly"
PLAIN = "tech-weekly"
BASE = "https://newsroom.example/digest"
ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE_SUBJECT = '<script>alert("subject")</script> Budget & "cuts" </h2><i>'
HOSTILE_TITLE = "<img src=x onerror=alert(1)>Council ]]> & <b>vote</b>"


def set_in_segment(config: Path, segment: str, line: str) -> None:
    body = config.read_text(encoding="utf-8")
    marker = f"[segments.{segment}]\n"
    assert marker in body
    config.write_text(body.replace(marker, marker + line + "\n"), encoding="utf-8")


def unset_in_segment(config: Path, segment: str, line: str) -> None:
    body = config.read_text(encoding="utf-8")
    marker = f"[segments.{segment}]\n"
    assert marker + line + "\n" in body
    config.write_text(body.replace(marker + line + "\n", marker), encoding="utf-8")


def messages(config: Path, segment: str) -> list[EmailMessage]:
    found = sorted((load_config(config).outbox_dir / segment).rglob("*.eml"))
    assert found, f"no message of {segment} in the outbox"
    return [read_message(path) for path in found]


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    page = message.get_body(("html",))
    assert text is not None and page is not None
    return str(text.get_content()), str(page.get_content())


def browser_links(message: EmailMessage) -> tuple[str, str]:
    """The "View in browser" link of the HTML part and the "View online" one of the text."""
    text, page = parts(message)
    anchor = BeautifulSoup(page, "html.parser").find("a", string="View in browser")
    assert anchor is not None, "no View in browser link in the HTML part"
    found = re.search(r"^View online: (\S+)$", text, flags=re.M)
    assert found is not None, "no View in browser link in the text part"
    return str(anchor["href"]), found.group(1)


def reader_token(message: EmailMessage) -> str:
    found = re.match(r"<https?://[^>]+/unsubscribe/([^>]+)>", message["List-Unsubscribe"])
    assert found is not None
    return found.group(1)


def editions(store: Store, segment: str) -> list[Edition]:
    with store.session() as session:
        query = select(Edition).where(Edition.segment == segment).order_by(Edition.id)
        return list(session.scalars(query))


def item_titles(store: Store, edition_id: int) -> list[str]:
    with store.session() as session:
        query = (
            select(Article.title)
            .join(EditionItem, EditionItem.article_id == Article.id)
            .where(EditionItem.edition_id == edition_id)
            .order_by(EditionItem.position)
        )
        return list(session.scalars(query))


def path_of(url: str) -> str:
    assert url.startswith(BASE + "/"), url
    return url[len("https://newsroom.example") :]


def test_an_archived_edition_is_listed_in_its_feed_and_shown_without_any_readers_data(
    newsroom: Path, store: Store
) -> None:
    set_in_segment(newsroom, ARCHIVED, "archive = true")
    run_digest(newsroom)
    [edition] = editions(store, ARCHIVED)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d-\d{4}-[0-9a-f]{6}", edition.archive_slug)
    url = f"{BASE}/archive/{ARCHIVED}/{edition.archive_slug}/"
    sent = messages(newsroom, ARCHIVED)
    for message in sent:  # every email links to the page, in both parts
        assert browser_links(message) == (url, url)

    with open_site(newsroom, store) as site:
        listing = site.client.get(f"/digest/archive/{ARCHIVED}/")
        assert listing.status_code == 200
        soup = site.soup(listing)
        assert soup.find("h1").get_text() == "Everything Weekly: past editions"
        [row] = soup.select("ul.archive li")
        assert row.find("h2").find("a")["href"] == path_of(url)
        assert row.find("h2").get_text() == edition.subject
        assert row.find("time")["datetime"] == edition.created_at.isoformat()
        assert listing.headers["x-frame-options"] == "DENY"
        assert "img-src" not in listing.headers["content-security-policy"]
        # Behind a proxy that strips the prefix, the same page, with the public links.
        stripped = site.client.get(f"/archive/{ARCHIVED}/")
        assert stripped.status_code == 200 and path_of(url) in stripped.text

        page = site.client.get(path_of(url))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "img-src https: data:" in policy and "script-src" not in policy
        assert policy.startswith("default-src 'none'; style-src 'unsafe-inline'")
        assert page.headers["content-security-policy"].count("default-src") == 1
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["cache-control"] == "public, max-age=300"  # published: cached
        assert page.headers["x-robots-tag"] == "all"  # and found by search engines
        body = page.text
        shown = BeautifulSoup(body, "html.parser")
        text = " ".join(shown.get_text().split())
        assert "In this edition" in text and "Hello" not in text  # no one is greeted
        for title in item_titles(store, edition.id):  # the whole edition
            assert " ".join(title.split()) in text
        for message in sent:  # nothing of any reader who got it
            token = reader_token(message)
            assert token not in body and html.escape(token) not in body
            [(name, address)] = getaddresses([message["To"]])
            assert address not in body
            if name:
                assert name not in text and html.escape(name) not in body
        assert "/unsubscribe/" not in body and "/preferences/" not in body
        assert "%%" not in body  # no placeholder left
        footer = {a.get_text(): a["href"] for a in shown.find_all("a")}
        assert footer["Unsubscribe"] == footer["Manage your preferences"] == f"{BASE}/subscribe"

        feed = site.client.get(f"/digest/archive/{ARCHIVED}/feed.xml")
        assert feed.status_code == 200
        assert feed.headers["content-type"] == "application/atom+xml; charset=utf-8"
        parsed = feedparser.parse(feed.content)
        assert parsed.bozo == 0 and parsed.version == "atom10"
        assert parsed.feed.id == f"{BASE}/archive/{ARCHIVED}/"
        assert parsed.feed.title == "Everything Weekly · The Newsroom Digest"
        assert parsed.feed.updated_parsed is not None
        links = {link.rel: link.href for link in parsed.feed.links}
        assert links == {
            "self": f"{BASE}/archive/{ARCHIVED}/feed.xml",
            "alternate": f"{BASE}/archive/{ARCHIVED}/",
        }
        [entry] = parsed.entries
        assert (entry.id, entry.link, entry.title) == (url, url, edition.subject)
        assert entry.updated_parsed is not None
        assert entry.content[0].type == "text/html"
        stories = BeautifulSoup(entry.content[0].value, "html.parser").select("li a")
        assert [a.get_text() for a in stories] == item_titles(store, edition.id)


def test_every_email_of_a_personalised_archived_segment_links_to_the_whole_edition(
    newsroom: Path, store: Store
) -> None:
    set_in_segment(newsroom, ARCHIVED, "archive = true\npersonalised = true")
    run_digest(newsroom, "run", "--segment", ARCHIVED)
    [edition] = editions(store, ARCHIVED)
    url = f"{BASE}/archive/{ARCHIVED}/{edition.archive_slug}/"
    counts = set()
    for message in messages(newsroom, ARCHIVED):
        assert browser_links(message) == (url, url)
        text, _ = parts(message)
        counts.add(len(re.findall(r"^\d+\. ", text, flags=re.M)))
    titles = item_titles(store, edition.id)
    assert len(counts) > 1 and max(counts) <= len(titles)  # readers' variants differ
    with open_site(newsroom, store) as site:
        page = site.client.get(path_of(url))
        assert page.status_code == 200
        text = " ".join(BeautifulSoup(page.text, "html.parser").get_text().split())
        assert "for you" not in text and "topics you follow" not in text
        assert all(" ".join(title.split()) in text for title in titles)


def test_a_segment_without_archive_publishes_nothing(newsroom: Path, store: Store) -> None:
    set_in_segment(newsroom, ARCHIVED, "archive = true")
    run_digest(newsroom)
    [plain] = editions(store, PLAIN)
    assert plain.archive_slug == ""
    for message in messages(newsroom, PLAIN):
        text, page = parts(message)
        assert "View in browser" not in text and "View in browser" not in page
        assert "/archive/" not in text and "/archive/" not in page
    [archived] = editions(store, ARCHIVED)
    slug = archived.archive_slug
    with open_site(newsroom, store) as site:
        for path in (
            f"/digest/archive/{PLAIN}/",
            f"/digest/archive/{PLAIN}/feed.xml",
            f"/digest/archive/{PLAIN}/{slug}/",  # another segment's slug
            "/digest/archive/no-such-segment/",
            f"/digest/archive/{ARCHIVED}/{slug[:-1]}{'0' if slug[-1] != '0' else '1'}/",
        ):
            assert site.client.get(path).status_code == 404, path
    # Turned off, the archive publishes nothing, not even what it published before.
    unset_in_segment(newsroom, ARCHIVED, "archive = true")
    with open_site(newsroom, store) as site:
        for path in ("", "feed.xml", f"{slug}/"):
            assert site.client.get(f"/digest/archive/{ARCHIVED}/{path}").status_code == 404


def test_an_edition_from_before_archive_was_turned_on_is_not_listed(
    newsroom: Path, store: Store
) -> None:
    run_digest(newsroom, "send", "--segment", ARCHIVED, "--slot", "first")
    set_in_segment(newsroom, ARCHIVED, "archive = true")
    add_feed_item(newsroom, "late-council-vote", "Late council vote on the bridge", ["politics"])
    run_digest(newsroom, "send", "--segment", ARCHIVED, "--slot", "second")
    before, after = editions(store, ARCHIVED)
    assert before.archive_slug == "" and after.archive_slug
    with open_site(newsroom, store) as site:
        soup = site.soup(site.client.get(f"/digest/archive/{ARCHIVED}/"))
        assert [a.get_text() for a in soup.select("ul.archive h2 a")] == [after.subject]
        parsed = feedparser.parse(site.client.get(f"/digest/archive/{ARCHIVED}/feed.xml").content)
        assert [entry.title for entry in parsed.entries] == [after.subject]


def test_hostile_subjects_and_titles_are_escaped_in_the_list_and_the_feed(
    newsroom: Path, store: Store
) -> None:
    set_in_segment(newsroom, ARCHIVED, "archive = true")
    run_digest(newsroom, "run", "--segment", ARCHIVED)
    [edition] = editions(store, ARCHIVED)
    with store.session() as session:
        session.execute(
            update(Edition).where(Edition.id == edition.id).values(subject=HOSTILE_SUBJECT)
        )
        first = session.scalar(
            select(EditionItem.article_id).where(
                EditionItem.edition_id == edition.id, EditionItem.position == 1
            )
        )
        session.execute(update(Article).where(Article.id == first).values(title=HOSTILE_TITLE))
    with open_site(newsroom, store) as site:
        listing = site.client.get(f"/digest/archive/{ARCHIVED}/")
        assert "<script" not in listing.text and "<i>" not in listing.text
        [link] = site.soup(listing).select("ul.archive h2 a")
        assert link.get_text() == HOSTILE_SUBJECT

        feed = site.client.get(f"/digest/archive/{ARCHIVED}/feed.xml")
        assert "<script" not in feed.text and "<img" not in feed.text
        root = ET.fromstring(feed.content)  # well-formed XML
        entry = root.find(f"{ATOM}entry")
        assert entry is not None
        assert entry.findtext(f"{ATOM}title") == HOSTILE_SUBJECT
        content = BeautifulSoup(entry.findtext(f"{ATOM}content") or "", "html.parser")
        assert content.find("script") is None and content.find("img") is None
        assert content.select("li a")[0].get_text() == HOSTILE_TITLE
        parsed = feedparser.parse(feed.content)
        assert parsed.bozo == 0 and parsed.entries[0].title == HOSTILE_SUBJECT


def test_a_slug_is_chosen_only_for_an_archived_segment_and_never_twice(
    newsroom: Path, store: Store
) -> None:
    from digest.run.archive import archive_url, check_slug_free, new_slug

    set_in_segment(newsroom, ARCHIVED, "archive = true")
    config = load_config(newsroom)
    composed = datetime(2026, 11, 26, 8, 5, tzinfo=UTC)
    slug = new_slug(config, config.segment(ARCHIVED), composed)
    assert re.fullmatch(r"2026-11-26-0805-[0-9a-f]{6}", slug)  # London time in November
    assert new_slug(config, config.segment(PLAIN), composed) == ""
    assert archive_url(config, PLAIN, slug) == ""
    assert archive_url(config, ARCHIVED, "") == ""
    with store.session() as session:
        add_edition(session, ARCHIVED, "s1", EditionStatus.sent, composed, archive_slug=slug)
        check_slug_free(session, PLAIN, slug)  # unique per segment
        check_slug_free(session, ARCHIVED, slug[:-1] + ("0" if slug[-1] != "0" else "1"))
        with pytest.raises(DigestError, match=f"archive page {slug} is taken"):
            check_slug_free(session, ARCHIVED, slug)


def test_the_view_in_browser_link_of_a_real_email_opens_over_real_http(
    newsroom: Path, tmp_path: Path
) -> None:
    port = free_port()
    set_base_url(newsroom, f"http://127.0.0.1:{port}")
    set_in_segment(newsroom, ARCHIVED, "archive = true")
    run_digest(newsroom, "run", "--segment", ARCHIVED)
    message = messages(newsroom, ARCHIVED)[0]
    link, _ = browser_links(message)
    assert link.startswith(f"http://127.0.0.1:{port}/archive/{ARCHIVED}/")
    with (
        open_store(load_config(newsroom).database_url) as store,
        serving(newsroom, port, tmp_path / "serve.log") as base,
    ):
        [edition] = editions(store, ARCHIVED)
        assert link == f"{base}/archive/{ARCHIVED}/{edition.archive_slug}/"
        page = httpx.get(link, timeout=10)
        assert page.status_code == 200 and "In this edition" in page.text
        assert reader_token(message) not in page.text
        feed = feedparser.parse(httpx.get(f"{base}/archive/{ARCHIVED}/feed.xml").content)
        assert [entry.link for entry in feed.entries] == [link]
