"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser 6.0 cannot read."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from digest.intake.images import ImageRef


class JSONFeedError(ValueError):
    """The document is JSON but not a JSON Feed."""


@dataclass(frozen=True)
class JSONFeed:
    title: str
    items: list[dict[str, Any]]
    home_page_url: str = ""


def looks_like_json(document: bytes, content_type: str) -> bool:
    if "json" in content_type.lower():
        return True
    return document.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def parse(document: bytes) -> JSONFeed:
    """The feed's title and each item as keyword arguments for ``make_entry``."""
    try:
        data = json.loads(document.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise JSONFeedError(f"invalid JSON ({e}); check the feed's syntax") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise JSONFeedError("JSON without a jsonfeed.org version; not a JSON Feed")
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise JSONFeedError("no feed entries found in the JSON Feed's items")
    feed_authors = _authors(data)
    return JSONFeed(
        title=str(data.get("title", "")),
        items=[_item(i, feed_authors) for i in items if isinstance(i, dict)],
        home_page_url=str(data.get("home_page_url") or data.get("feed_url") or ""),
    )


def _item(item: dict[str, Any], feed_authors: str) -> dict[str, Any]:
    body = item.get("content_html")
    summary = item.get("summary")
    standfirst = html.escape(summary) if isinstance(summary, str) else ""
    if not isinstance(body, str) or not body:
        if not item.get("content_text"):
            standfirst = ""  # the summary is the item's only text: its body
        text = str(item.get("content_text") or item.get("summary") or "")
        body = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    tags = item.get("tags")
    if not isinstance(tags, list):
        tags = []
    return {
        "url": str(item.get("url") or item.get("external_url") or item.get("id") or ""),
        "title": str(item.get("title") or ""),
        "html": body,
        "author": _authors(item) or feed_authors,
        "raw_tags": tuple(str(t).strip() for t in tags if str(t).strip()),
        "published": _date(item.get("date_published") or item.get("date_modified")),
        "images": _images(item),
        "summary": standfirst,
    }


def _images(item: dict[str, Any]) -> list[ImageRef]:
    """The item's ``image``, then its ``banner_image``, then image attachments."""
    found = [ImageRef(item.get("image")), ImageRef(item.get("banner_image"))]
    attachments = item.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        if isinstance(attachment, dict) and str(attachment.get("mime_type", "")).startswith(
            "image/"
        ):
            found.append(ImageRef(attachment.get("url")))
    return found


def _authors(node: dict[str, Any]) -> str:
    people = node.get("authors")
    if not isinstance(people, list):
        single = node.get("author")  # JSON Feed 1.0
        people = [single] if isinstance(single, dict) else []
    return ", ".join(str(p["name"]) for p in people if isinstance(p, dict) and p.get("name"))


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
