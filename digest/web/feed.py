"""The Atom feed (RFC 4287) of a segment's archive, made with feedgen.

Each entry is one edition: its subject as title, its page as id and link, the time it was
composed, and as content its stories (headline, link and summary) in HTML rendered from
``web/archive_entry.html`` with autoescaping. feedgen writes the XML, escaping it again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from feedgen.feed import FeedGenerator

from digest.run.archive import Archived, ArchivedItem, archive_url, list_path
from digest.web.state import AppState

FEED_ENTRIES = 50  # the newest editions the feed carries


def atom_feed(
    web: AppState,
    segment: str,
    title: str,
    editions: Sequence[Archived],
    items: Mapping[str, Sequence[ArchivedItem]],
) -> bytes:
    """The feed of ``editions`` (newest first) as UTF-8 XML."""
    listing = web.base_url + list_path(segment)
    feed = FeedGenerator()
    feed.id(listing)
    feed.title(f"{title} · {web.config.sender.name}")
    feed.author({"name": web.config.sender.name})
    feed.link(href=listing + "feed.xml", rel="self", type="application/atom+xml")
    feed.link(href=listing, rel="alternate", type="text/html")
    feed.updated(editions[0].created_at if editions else web.clock())
    entry_template = web.pages.env.get_template("web/archive_entry.html")
    for edition in editions:
        page = archive_url(web.config, segment, edition.slug)
        entry = feed.add_entry(order="append")
        entry.id(page)
        entry.title(edition.subject)
        entry.link(href=page, rel="alternate", type="text/html")
        entry.published(edition.created_at)
        entry.updated(edition.created_at)
        if edition.preheader:
            entry.summary(edition.preheader)
        context = {"items": items.get(edition.slug, ()), "page": page}
        entry.content(entry_template.render(context), type="html")
    xml: bytes = feed.atom_str(pretty=True)
    return xml
