"""Parse RSS, Atom (feedparser) and JSON Feed documents into entries."""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime
from typing import Any

import feedparser

from digest.intake import jsonfeed
from digest.intake.clean import clean_html
from digest.intake.entries import Entry
from digest.intake.html_text import sanitise
from digest.intake.tags import normalise_tags


class FeedParseError(ValueError):
    """The document is not a feed Digest can read."""


def parse_feed(document: bytes, *, content_type: str = "") -> tuple[str, list[Entry]]:
    """The feed's title and its entries; raise :class:`FeedParseError` if nothing usable."""
    if jsonfeed.looks_like_json(document, content_type):
        try:
            feed = jsonfeed.parse(document)
        except jsonfeed.JSONFeedError as e:
            raise FeedParseError(str(e)) from e
        return feed.title, [e for e in (make_entry(**item) for item in feed.items) if e]
    headers = {"content-type": content_type} if content_type else None
    # Digest sanitises every entry's HTML itself (``sanitise``), so feedparser's own pass
    # over each entry's markup is skipped.
    parsed = feedparser.parse(
        document, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    if not parsed.entries:
        reason = parsed.get("bozo_exception")
        detail = f" ({_first_line(reason)})" if reason else ""
        raise FeedParseError(
            f"no feed entries found{detail}; check that this is an RSS, Atom or JSON feed"
        )
    entries = [e for e in (_from_feedparser(item) for item in parsed.entries) if e]
    if not entries:
        reason = parsed.get("bozo_exception")
        detail = f"; the XML is malformed: {_first_line(reason)}" if reason else ""
        raise FeedParseError(
            f"none of its {len(parsed.entries)} entries has both a title and an http(s) link"
            + detail
        )
    return str(parsed.feed.get("title", "")), entries


def _first_line(error: Any) -> str:
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__


def make_entry(
    *,
    url: str,
    title: str,
    html: str,
    author: str,
    raw_tags: tuple[str, ...],
    published: datetime | None,
) -> Entry | None:
    """An entry from one item's fields, or None when it has no usable URL or title."""
    url = url.strip()
    title = " ".join(title.split())
    if not url.startswith(("http://", "https://")) or not title:
        return None
    tags = normalise_tags(raw_tags)
    return Entry(
        url=url,
        title=title,
        published=published,
        author=author.strip(),
        tags=tags,
        text=clean_html(html, title=title, author=author.strip()),
        html=sanitise(html),
        raw_tags=raw_tags,
    )


def _from_feedparser(item: Any) -> Entry | None:
    detail = item.get("author_detail") or {}
    return make_entry(
        url=str(item.get("link") or item.get("id") or ""),
        title=str(item.get("title", "")),
        html=_body_html(item),
        author=str(detail.get("name") or item.get("author", "")),
        raw_tags=tuple(
            str(t.get("term", "")).strip() for t in item.get("tags", []) if t.get("term")
        ),
        published=_when(item),
    )


def _body_html(item: Any) -> str:
    for content in item.get("content", []):
        if content.get("value"):
            return str(content["value"])
    return str(item.get("summary", ""))


def _when(item: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value: time.struct_time | None = item.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None
