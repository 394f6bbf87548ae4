"""What intake makes of pages and feeds, for editors (``digest extract``).

No configuration and no store: each argument is fetched or read, recognised as a feed
(RSS, Atom, JSON Feed) or a web page by its content, parsed and cleaned the way intake
does it, and printed as one JSON object per article.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from digest.intake.cluster import cluster_entries
from digest.intake.entries import Entry
from digest.intake.feeds import FeedParseError, parse_feed
from digest.intake.fetch import Fetched, Fetcher, FetchError, PrivateAddressError, host_of
from digest.intake.images import guarded
from digest.intake.jsonfeed import looks_like_json
from digest.intake.pages import PageError, extract_page, page_entry
from digest.settings import IntakeSettings
from digest.store.urls import canonical_url

FEED_ROOT = re.compile(rb"<(rss|feed|rdf:RDF)[\s>]", re.IGNORECASE)
HTML_ROOT = re.compile(rb"<(!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE)
AUTHORS = re.compile(r"\s*[;,]\s*|\s+and\s+")


class ExtractError(Exception):
    """One argument could not be read as a page or a feed; the message says why."""


@dataclass(frozen=True)
class Extracted:
    source: str  # the argument as given
    entry: Entry


def extract_records(
    items: Sequence[str], allow_private: bool, failed: Callable[[str, str], None]
) -> list[dict[str, Any]]:
    """One record per article found in ``items`` (files or URLs), with its story cluster;
    an item that cannot be read is told to ``failed`` (item, why) and the rest go on."""
    found: list[Extracted] = []
    with Fetcher(IntakeSettings()) as fetcher:
        for item in items:
            try:
                found += [Extracted(item, e) for e in extract_entries(item, fetcher, allow_private)]
            except ExtractError as e:
                failed(item, str(e))
    threshold = IntakeSettings().cluster_threshold
    numbers = cluster_entries([f.entry for f in found], threshold) if found else []
    return [{**as_record(each), "cluster": n} for each, n in zip(found, numbers, strict=True)]


def extract_entries(item: str, fetcher: Fetcher, allow_private: bool = False) -> list[Entry]:
    """The entries intake makes of one file or URL; raise :class:`ExtractError`."""
    try:
        if item.startswith(("http://", "https://")):
            fetched = fetcher.get(item, allow_private=allow_private)
        elif "://" in item:
            raise ExtractError("is neither an http(s) URL nor a file; check the argument")
        else:
            fetched = fetcher.read(Path(item).resolve())
    except PrivateAddressError as e:  # no config here: the way through is the option
        hint = "pass --allow-private to fetch from your own machine or network"
        raise ExtractError(str(PrivateAddressError(e.url, e.reason, hint))) from e
    except FetchError as e:
        raise ExtractError(str(e)) from e
    if fetched.gone:
        raise ExtractError("answered 410 Gone; the page or feed was removed")
    if not fetched.body.strip():
        raise ExtractError("is empty; check that it is a feed or a web page")
    entries = _feed_entries(fetched) if is_feed(fetched) else [_page_entry(item, fetched)]
    own = host_of(item) if allow_private else ""  # the lead images' guard trusts it too
    return [_as_stored(e, own) for e in entries]


def is_feed(fetched: Fetched) -> bool:
    """A feed by its content (RSS, Atom, RDF or JSON), whatever its content type says."""
    head = fetched.body[:4096]
    if looks_like_json(head, ""):
        return True
    feed, page = FEED_ROOT.search(head), HTML_ROOT.search(head)
    if feed and page:
        return feed.start() < page.start()
    if feed or page:
        return bool(feed)
    return "html" not in fetched.content_type.lower()


def _feed_entries(fetched: Fetched) -> list[Entry]:
    try:
        return parse_feed(
            fetched.body, content_type=fetched.content_type, location=fetched.final_url
        )[1]
    except FeedParseError as e:
        raise ExtractError(str(e)) from e


def _page_entry(item: str, fetched: Fetched) -> Entry:
    url = item if item.startswith(("http://", "https://")) else ""
    try:
        page = extract_page(
            fetched.body, fetched.final_url if url else "", content_type=fetched.content_type
        )
        where = fetched.final_url if url else (page.url or fetched.final_url)
        return page_entry(page, where)
    except PageError as e:
        raise ExtractError(str(e)) from e


def _as_stored(entry: Entry, trusted_host: str = "") -> Entry:
    return replace(
        entry,
        url=canonical_url(entry.url, entry.declared_canonical),
        image=guarded(entry.image, trusted_host=trusted_host),
    )


def as_record(found: Extracted) -> dict[str, Any]:
    entry = found.entry
    return {
        "source": found.source,
        "url": entry.url,
        "title": entry.title,
        "published": entry.published.isoformat() if entry.published else None,
        "authors": [a for a in AUTHORS.split(entry.author) if a],
        "tags": list(entry.tags),
        "text": entry.text,
        "image": asdict(entry.image) if entry.image else None,
    }
