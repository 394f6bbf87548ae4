"""Web pages: the article's full text and metadata, extracted by trafilatura.

Shared by page sources and teaser feeds.  Extraction runs offline: trafilatura
and htmldate read only the document they are given.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import Document

from digest.intake.clean import SENTENCE_END, clean_blocks
from digest.intake.entries import Entry
from digest.intake.fetch import Fetcher, FetchError
from digest.intake.html_text import BLOCK_TAGS as HTML_BLOCKS
from digest.intake.html_text import Block, opens_with_link, sanitise
from digest.intake.images import ImageRef, lead_image
from digest.intake.recover import recover
from digest.intake.standfirst import standfirst_of
from digest.intake.urls import join_url
from digest.store.images import Image
from digest.store.tags import normalise_tags

DATE_OPTIONS = {
    "extensive_search": False,  # a copyright year in the footer is not a publication date
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}
HTML_START = re.compile(rb"<(!doctype\s+html|html|head|body|article|main|div|p)[\s>/]", re.I)
SPACE = re.compile(r"\s+")
LINE_BREAK = "\u2028"  # a <br> in trafilatura's output; whitespace, so _plain makes it a space
# Elements of trafilatura's output that start a block of text of their own.
BLOCK_TAGS = frozenset({"p", "head", "list", "item", "quote", "code", "table", "row", "cell"})
BLOCK_TAGS |= {"div", "main", "body", "doc"}
TAG_NAMES = {"item": "li", "quote": "blockquote", "code": "pre", "row": "tr", "cell": "td"}
# Elements of a page a browser shows as blocks of their own.
SPACED = tuple(sorted(HTML_BLOCKS | {"td", "th"}))
MIN_WORDS = 8  # less is a menu or a stub, not an article
NO_TEXT = "no article text found in the page; is it an article?"
TAG_SPLIT = re.compile(r"\s*[;,]\s*")


class PageError(ValueError):
    """The document gave no article text; the message says why in one line."""


@dataclass(frozen=True)
class Page:
    """What a web page says about its article."""

    title: str
    author: str
    published: datetime | None
    tags: tuple[str, ...]
    blocks: tuple[Block, ...]  # the extracted text blocks, boilerplate not yet removed
    canonical: str = ""  # its <link rel="canonical">, made absolute
    url: str = ""  # its own URL as the page declares it (canonical or og:url)
    site: str = ""  # the outlet's name (og:site_name or the host)
    image: Image | None = None  # og:image or twitter:image, https only
    description: str = ""  # og:description or the meta description, plain text

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(b.text for b in self.blocks)


def extract_page(
    document: bytes | str, url: str = "", *, content_type: str = "", precise: bool = False
) -> Page:
    """The article in an HTML document; raise :class:`PageError` when there is none.

    Trafilatura runs with its focus on recall unless ``precise``: it then keeps the lists,
    tables and later parts of a body split across containers that its precision focus
    drops, and the cleaner (:mod:`digest.intake.clean`) removes what it brings along.
    """
    if not looks_like_html(document, content_type):
        kind = f" ({content_type.split(';')[0].strip()})" if content_type else ""
        raise PageError(f"not an HTML page{kind}; check that the URL or file is a web page")
    tree = trafilatura.load_html(document)
    if tree is None:
        raise PageError("not an HTML page; check that the URL or file is a web page")
    canonical = _canonical(tree, url)
    images = meta_images(tree)  # before extraction, which prunes the tree
    _space_blocks(tree)
    found = trafilatura.bare_extraction(
        tree,
        url=_http(url) or None,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_links=True,  # for each block's link density
        favor_precision=precise,
        favor_recall=not precise,
        date_extraction_params=DATE_OPTIONS,
    )
    if not isinstance(found, Document) or found.body is None:
        raise PageError(NO_TEXT)
    blocks = tuple(recover(tree, _blocks(found.body)))
    if not blocks:
        raise PageError(NO_TEXT)
    return Page(
        title=_plain(found.title or ""),
        author=_plain(found.author or ""),
        published=_date(found.date),
        tags=_tags([*(found.tags or []), *(found.categories or [])]),
        blocks=blocks,
        canonical=canonical,
        url=_http(found.url or ""),
        site=_plain(found.sitename or ""),
        image=lead_image(images, base=_http(url) or canonical or _http(found.url or "")),
        description=_plain(found.description or ""),
    )


def looks_like_html(document: bytes | str, content_type: str = "") -> bool:
    """HTML by its start, and not declared as something else (JSON, PDF, an image...)."""
    declared = content_type.split(";")[0].strip().lower()
    if declared and "html" not in declared and "xml" not in declared and declared != "text/plain":
        return False
    head = document[:4096]
    return bool(HTML_START.search(head.encode("utf-8") if isinstance(head, str) else head))


def page_entry(page: Page, url: str) -> Entry:
    """The entry intake stores for a page reached at ``url``; its text is cleaned.

    Raise :class:`PageError` when less than a sentence is left after cleaning.
    """
    text = "\n\n".join(clean_blocks(page.blocks, title=page.title, author=page.author))
    if len(text.split()) < MIN_WORDS:
        raise PageError(NO_TEXT)
    body = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p)
    return Entry(
        url=url,
        title=page.title,
        published=page.published,
        author=page.author,
        tags=normalise_tags(page.tags),
        text=text,
        html=sanitise(body),
        raw_tags=page.tags,
        declared_canonical=page.canonical,
        image=page.image,
        standfirst=standfirst_of(html.escape(page.description), text),
    )


def fill_teasers(
    entries: Sequence[Entry], fetcher: Fetcher, *, trusted_host: str = ""
) -> tuple[list[Entry], list[str]]:
    """Each entry with its teaser replaced by its page's text; one problem line per failure.

    An entry whose page cannot be had or read keeps its teaser. ``trusted_host`` (the
    source's own host, when it has ``allow_private``) may be private; the feed names the
    pages, so every other host passes the guard.
    """
    filled: list[Entry] = []
    problems: list[str] = []
    for entry in entries:
        try:
            fetched = fetcher.get(entry.url, trusted_host=trusted_host)
            if fetched.gone:
                raise PageError("the page answered 410 Gone")
            page = extract_page(
                fetched.body, fetched.final_url or entry.url, content_type=fetched.content_type
            )
            full = page_entry(page, entry.url)
        except (FetchError, PageError) as e:
            problems.append(f"{entry.url}: {e}; kept the feed's teaser")
            filled.append(entry)
            continue
        filled.append(
            replace(
                entry,
                text=full.text,
                html=full.html,
                author=entry.author or full.author,
                published=entry.published or full.published,
                tags=entry.tags or full.tags,
                raw_tags=entry.raw_tags or full.raw_tags,
                declared_canonical=entry.declared_canonical or full.declared_canonical,
                image=entry.image or full.image,
                standfirst=entry.standfirst or full.standfirst,
            )
        )
    return filled, problems


def meta_images(tree: HtmlElement) -> list[ImageRef]:
    """The page's Open Graph images (``og:image`` with its ``:secure_url``, ``:alt``,
    ``:width`` and ``:height``), then its ``twitter:image`` with ``twitter:image:alt``.
    An ``og:image`` without alt text takes the Twitter card's when both name one image."""
    og: list[dict[str, str]] = []
    twitter: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = str(meta.get("property") or meta.get("name") or "").strip().lower()
        value = str(meta.get("content") or "").strip()
        if not value:
            continue
        if key == "og:image" or (key == "og:image:url" and not og):
            og.append({"url": value})
        elif key.startswith("og:image:") and og:
            og[-1].setdefault(key.removeprefix("og:image:"), value)
        elif key in ("twitter:image", "twitter:image:src"):
            twitter.setdefault("url", value)
        elif key == "twitter:image:alt":
            twitter.setdefault("alt", value)
    refs: list[ImageRef] = []
    for image in og:
        alt = image.get("alt") or (
            twitter.get("alt", "") if twitter.get("url") == image["url"] else ""
        )
        size = image.get("width"), image.get("height")
        secure = image.get("secure_url")
        if secure:
            refs.append(ImageRef(secure, alt, *size))
        refs.append(ImageRef(image["url"], alt, *size))
    if twitter.get("url"):
        refs.append(ImageRef(twitter["url"], twitter.get("alt", "")))
    return refs


def _space_blocks(tree: HtmlElement) -> None:
    """Whitespace on both sides of each block element whose markup has none there.

    A browser breaks the line around a block; trafilatura, which flattens a block found
    inside text into it, would join the words on either side ("rose" + "that" giving
    "rosethat").
    """
    for element in tree.iter(*SPACED):
        before = element.getprevious()
        if before is not None:
            if not before.tail or not before.tail[-1].isspace():
                before.tail = f"{before.tail or ''}\n"
        else:
            parent = element.getparent()
            if parent is not None and not (parent.text or " ")[-1].isspace():
                parent.text = f"{parent.text}\n"
        if element.tail and not element.tail[0].isspace():
            element.tail = "\n" + element.tail


def _canonical(tree: HtmlElement, url: str) -> str:
    for href in tree.xpath('//head/link[@rel="canonical"]/@href'):
        absolute = join_url(url, str(href)) or ""
        if absolute.startswith(("http://", "https://")):
            return absolute
    return ""


def _http(url: str) -> str:
    return url if url.startswith(("http://", "https://")) else ""


def _blocks(node: HtmlElement) -> list[Block]:
    """The text blocks of trafilatura's output in order, with their tag and link density.

    A table row of short cells is one block ("a | b"); a layout table's cells, which
    hold paragraphs of their own, are walked like any other container.
    """
    out: list[Block] = []
    pieces: list[tuple[str, bool]] = []  # (text, inside a link)

    def flush(tag: str) -> None:
        text = _plain("".join(t for t, _ in pieces))
        if text:
            linked = sum(len("".join(t.split())) for t, link in pieces if link)
            density = round(linked / max(1, len("".join(text.split()))), 3)
            hints = frozenset({"teaser"}) if _is_teaser(pieces) else frozenset()
            lead = opens_with_link(pieces)
            out.append(Block(text, tag, min(1.0, density), hints, lead))
        pieces.clear()

    def walk(element: HtmlElement) -> None:
        tag = _html_tag(element)
        if element.tag == "row" and _is_data_row(element):
            flush(tag)
            cells = (_plain("".join(t for t, _ in _inline(c))) for c in element)
            out.append(Block(" | ".join(c for c in cells if c), tag="tr"))
            return
        pieces.append((element.text or "", False))
        for child in element:
            if child.tag in BLOCK_TAGS:
                flush(tag)
                walk(child)
                flush(tag)
            elif child.tag != "graphic":
                pieces.extend(_inline(child))
            pieces.append((child.tail or "", False))
        flush(tag)

    walk(node)
    return out


def _html_tag(element: HtmlElement) -> str:
    if element.tag == "head":
        rend = str(element.get("rend") or "h2")
        return rend if rend in ("h1", "h2", "h3", "h4", "h5", "h6") else "h2"
    return TAG_NAMES.get(str(element.tag), "p")


def _is_data_row(row: HtmlElement) -> bool:
    return all(
        not any(d.tag in BLOCK_TAGS for d in cell.iterdescendants())
        and len("".join(t for t, _ in _inline(cell)).split()) < 30
        for cell in row
    )


def _is_teaser(pieces: Sequence[tuple[str, bool]]) -> bool:
    """A block that opens with a linked headline (two or more words, no closing
    punctuation) and goes on after a line break: a list entry pointing to another article."""
    head: list[str] = []
    for number, (text, linked) in enumerate(pieces):
        if text == LINE_BREAK:
            rest = "".join(t for t, _ in pieces[number + 1 :])
            headline = _plain("".join(head))
            return (
                len(headline.split()) >= 2
                and not SENTENCE_END.search(headline)
                and bool(rest.strip())
            )
        if text.strip() and not linked:
            return False
        head.append(text)
    return False


def _inline(element: HtmlElement, linked: bool = False) -> list[tuple[str, bool]]:
    """An inline element's text in pieces, each marked when inside a link; a line break
    is a piece of its own (:data:`LINE_BREAK`)."""
    if element.tag == "lb":
        return [(LINE_BREAK, linked)]
    linked = linked or element.tag == "ref"
    out = [(element.text or "", linked)]
    for child in element:
        out += [*_inline(child, linked), (child.tail or "", linked)]
    return out


def _plain(text: str) -> str:
    return SPACE.sub(" ", text).strip()


def _tags(raw: Sequence[str]) -> tuple[str, ...]:
    split = (t for value in raw for t in TAG_SPLIT.split(value))
    return tuple(dict.fromkeys(t for t in (_plain(s) for s in split) if t))


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
