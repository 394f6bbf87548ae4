"""Parse RSS, Atom (feedparser) and JSON Feed documents into entries."""

from __future__ import annotations

import calendar
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser

from digest.intake import jsonfeed
from digest.intake.clean import clean_html
from digest.intake.entries import Entry
from digest.intake.html_text import sanitise
from digest.intake.images import ImageRef, lead_image, side
from digest.intake.media import ItemMedia, item_media
from digest.intake.standfirst import standfirst_of
from digest.intake.urls import join_url
from digest.store.tags import normalise_tags

# Media files a media:content may name without saying what it is.
NOT_IMAGES: tuple[str, ...] = (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".mp3", ".m4a", ".aac")
NOT_IMAGES += (".ogg", ".wav", ".flac", ".pdf", ".m3u8", ".mpd")


class FeedParseError(ValueError):
    """The document is not a feed Digest can read."""


def parse_feed(
    document: bytes, *, content_type: str = "", location: str = ""
) -> tuple[str, list[Entry]]:
    """The feed's title and its entries; raise :class:`FeedParseError` if nothing usable.

    Relative entry links are resolved against ``location`` (the feed's http(s) address)
    or, for a feed read from a file, against the site address the feed names; relative
    links inside an entry's HTML against the entry's own address.
    """
    remote = location if location.startswith(("http://", "https://")) else ""
    if jsonfeed.looks_like_json(document, content_type):
        try:
            feed = jsonfeed.parse(document)
        except jsonfeed.JSONFeedError as e:
            raise FeedParseError(str(e)) from e
        base = remote or feed.home_page_url
        found = (make_entry(**item, base_url=base) for item in feed.items)
        return feed.title, [e for e in found if e]
    headers = {"content-type": content_type} if content_type else {}
    if remote:
        headers["content-location"] = remote  # feedparser's base for relative links
    # Digest sanitises every entry's HTML itself (``sanitise``), so feedparser's own pass
    # over each entry's markup is skipped.
    parsed = feedparser.parse(
        document,
        response_headers=headers or None,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not parsed.entries:
        reason = parsed.get("bozo_exception")
        detail = f" ({_first_line(reason)})" if reason else ""
        raise FeedParseError(
            f"no feed entries found{detail}; check that this is an RSS, Atom or JSON feed"
        )
    base = remote or str(parsed.feed.get("link", ""))
    media = item_media(document, len(parsed.entries)) or [ItemMedia()] * len(parsed.entries)
    found = (_from_feedparser(item, base, m) for item, m in zip(parsed.entries, media, strict=True))
    entries = [e for e in found if e]
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
    base_url: str = "",
    images: Sequence[ImageRef] = (),
    summary: str = "",
) -> Entry | None:
    """An entry from one item's fields, or None when it has no usable URL or title.

    A relative ``url`` is resolved against ``base_url``; relative links in ``html``
    and the ``images`` (best first; the first usable one leads) against the entry's
    resulting address.  ``summary`` is the item's own summary when it has one beside
    its content: the article's standfirst (:mod:`digest.intake.standfirst`).
    """
    url = _absolute(base_url, url.strip())
    title = " ".join(title.split())
    if not url.startswith(("http://", "https://")) or not title:
        return None
    tags = normalise_tags(raw_tags)
    text = clean_html(html, title=title, author=author.strip())
    return Entry(
        url=url,
        title=title,
        published=published,
        author=author.strip(),
        tags=tags,
        text=text,
        html=sanitise(html, base_url=url),
        raw_tags=raw_tags,
        image=lead_image(images, base=url),
        standfirst=standfirst_of(summary, text),
    )


def _absolute(base_url: str, url: str) -> str:
    if not base_url or not url or url.startswith(("http://", "https://")):
        return url
    return join_url(base_url, url) or url  # a malformed one: the entry is skipped as linkless


def _from_feedparser(item: Any, base_url: str, media: ItemMedia) -> Entry | None:
    detail = item.get("author_detail") or {}
    return make_entry(
        base_url=base_url,
        url=str(item.get("link") or item.get("id") or ""),
        title=str(item.get("title", "")),
        html=_body_html(item, media.descriptions),
        author=str(detail.get("name") or item.get("author", "")),
        raw_tags=tuple(
            str(t.get("term", "")).strip() for t in item.get("tags", []) if t.get("term")
        ),
        published=_when(item),
        images=media_images(item, media.alt_for),
        summary=_summary_html(item, media.descriptions),
    )


def media_images(item: Any, alt_for: Mapping[str, str] | None = None) -> list[ImageRef]:
    """An item's images, best first: Media RSS ``media:content`` (the widest first), then
    ``media:thumbnail``, then image enclosures (RSS ``<enclosure>``, Atom
    ``rel="enclosure"`` links). ``alt_for`` gives an image's alt text by its address."""
    alt = alt_for or {}
    contents = [c for c in _dicts(item.get("media_content")) if _is_image(c)]
    contents.sort(key=lambda c: -(side(c.get("width")) or 0))
    found = [_ref(c, "url", alt) for c in contents]
    found += [_ref(t, "url", alt) for t in _dicts(item.get("media_thumbnail"))]
    found += [
        _ref(e, "href", alt)
        for e in _dicts(item.get("enclosures"))
        if str(e.get("type", "")).lower().startswith("image/")
    ]
    return found


def _ref(node: dict[str, Any], key: str, alt_for: Mapping[str, str]) -> ImageRef:
    url = node.get(key)
    alt = alt_for.get(url.strip(), "") if isinstance(url, str) else ""
    return ImageRef(url, alt, node.get("width"), node.get("height"))


def _dicts(value: Any) -> list[Any]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _is_image(content: Any) -> bool:
    """A media:content that is an image, or that says nothing of what it is and whose
    address does not end like another kind of file (``.mp4``, ``.mp3``, ``.pdf``)."""
    medium = str(content.get("medium", "")).lower()
    kind = str(content.get("type", "")).lower()
    if medium:
        return medium == "image"
    if kind:
        return kind.startswith("image/")
    path = urlsplit(str(content.get("url", ""))).path.lower()
    return not path.endswith(NOT_IMAGES)


def _summary_html(item: Any, captions: Collection[str] = ()) -> str:
    """The item's summary when it has content of its own besides (else the summary is the
    body, and no standfirst); a Media RSS description filed as content is no content."""
    return str(item.get("summary", "")) if _content(item, captions) else ""


def _body_html(item: Any, captions: Collection[str] = ()) -> str:
    """The item's content (a Media RSS description, which feedparser files as content, is
    a caption, not the article), else its summary."""
    return _content(item, captions) or str(item.get("summary", ""))


def _content(item: Any, captions: Collection[str]) -> str:
    """The item's first content that is not one of the ``captions``; "" for none."""
    for content in item.get("content", []):
        value = str(content.get("value") or "")
        if value and " ".join(value.split()) not in captions:
            return value
    return ""


def _when(item: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value: time.struct_time | None = item.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None
