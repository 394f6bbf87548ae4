"""Media RSS descriptions, read from the feed's XML itself.

feedparser files a ``media:description`` (a photo's caption) under the entry's
``content``, where it reads as the article (a feed that puts the caption before
``content:encoded``, or has no ``content:encoded``, would have its caption stored as the
story). Reading the descriptions here lets intake leave them out of the article and use
them as the image's alt text instead.

Only a well-formed document is read (no entities expanded, nothing fetched); for
anything else, or when its items do not line up one to one with feedparser's entries,
there is nothing to say and intake goes on as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

MEDIA = ("http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss")
ITEMS = frozenset({"item", "entry"})
# The namespaces of RSS 2.0 (none), RSS 0.90 and 1.0, and Atom 0.3 and 1.0 items.
FEEDS = frozenset(
    {
        None,
        "http://my.netscape.com/rdf/simple/0.9/",
        "http://purl.org/rss/1.0/",
        "http://purl.org/atom/ns#",
        "http://www.w3.org/2005/Atom",
    }
)
IMAGE_HOLDERS = frozenset({"content", "thumbnail"})


@dataclass(frozen=True)
class ItemMedia:
    """One item's Media RSS descriptions: every one of them, and by image address the
    one that belongs to it (inside its ``media:content``, or beside it in its
    ``media:group`` or item)."""

    descriptions: frozenset[str] = frozenset()  # each with its spacing normalised
    alt_for: dict[str, str] = field(default_factory=dict)


def item_media(document: bytes, count: int) -> list[ItemMedia] | None:
    """Each item's media descriptions, in document order, when the document is
    well-formed XML with ``count`` items; None otherwise (or when it names none)."""
    if b"search.yahoo.com/mrss" not in document:
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(document, parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    items = [e for e in root.iter() if isinstance(e.tag, str) and _is_item(etree.QName(e))]
    if len(items) != count:
        return None
    return [_media(item) for item in items]


def _is_item(name: etree.QName) -> bool:
    return name.localname in ITEMS and name.namespace in FEEDS


def _media(item: etree._Element) -> ItemMedia:
    descriptions: set[str] = set()
    alt_for: dict[str, str] = {}
    for holder in [*_children(item, {"group"}), item]:
        shared = _description(holder)
        for image in _children(holder, IMAGE_HOLDERS):
            url = str(image.get("url") or "").strip()
            own = _description(image)
            if own:
                descriptions.add(own)
            if url and (own or shared):
                alt_for.setdefault(url, own or shared)
        if shared:
            descriptions.add(shared)
    return ItemMedia(frozenset(descriptions), alt_for)


def _children(node: etree._Element, names: set[str] | frozenset[str]) -> list[etree._Element]:
    return [
        child
        for child in node
        if isinstance(child.tag, str)
        and etree.QName(child).namespace in MEDIA
        and etree.QName(child).localname in names
    ]


def _description(node: etree._Element) -> str:
    for child in _children(node, {"description"}):
        text = " ".join("".join(str(t) for t in child.itertext()).split())
        if text:
            return text
    return ""
