"""Turn article HTML into blocks of plain text with their features, and make HTML safe to show.

A :class:`Block` is one paragraph-like piece of text with what the markup says about it:
its block tag, the share of its characters inside links, and hints from the class and id
of its ancestors ("share", "related", "newsletter", ...).  The cleaner scores blocks on
those features; :func:`paragraphs` keeps the plain-text view for callers that need no more.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

from digest.intake.urls import join_url

BLOCK_TAGS = frozenset(
    {"p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section"}
    | {"article", "header", "footer", "pre", "dd", "dt", "figcaption", "figure", "aside"}
    | {"nav", "form", "table", "ul", "ol", "dl", "details", "summary", "main"}
)
DROPPED = frozenset(  # elements whose text is never shown as article text
    {"script", "style", "noscript", "template", "iframe", "svg", "math", "object", "embed"}
    | {"select", "textarea", "button", "canvas", "video", "audio", "head", "title"}
)
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    | {"track", "wbr"}
)
# Ancestor tags that are a hint by themselves.
TAG_HINTS = {t: t for t in ("figcaption", "aside", "nav", "footer", "header", "form")}
# Class or id words that mark a block's role; each starts at a word boundary.
HINT_PATTERNS = {
    "share": r"shar(e|ing)|social|addthis|sharedaddy",
    "related": r"related|recommend|read-?more|more-?stories|also-?read|jp-relatedposts|outbrain",
    "newsletter": r"newsletter|subscri(be(?!r)|ption)|sign-?up|opt-?in|mailing-?list",
    "author-bio": r"author-?(bio|box|info|card|about)|about-?(the-?)?author|bio(?![a-z])|byline",
    "caption": r"caption|credit|wp-caption",
    "promo": r"promo|advert|sponsor|ads?(?![a-z])|cta(?![a-z])|donat",
    "comments": r"comments?(?![a-z])|disqus|respond(?![a-z])|reply(?![a-z])",
    "tags": r"tags?(?![a-z])|tag-?(list|links|cloud)|post-?tags|cat-?links|categories",
    "nav": r"nav(?![a-z])|navbar|navigation|breadcrumb|menu|pagination",
}
HINT = {name: re.compile(r"(?<![a-z])(" + p + ")") for name, p in HINT_PATTERNS.items()}
SPACE = re.compile(r"\s+")

ALLOWED_TAGS = {"a", "p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "blockquote"}
ALLOWED_TAGS |= {"h2", "h3", "h4", "figure", "figcaption", "img", "code", "pre"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}
CONTENT_DROPPED = (DROPPED | {"form", "input", "label", "option"}) - ALLOWED_TAGS


@dataclass(frozen=True)
class Block:
    """One paragraph of visible text and what its markup says about it."""

    text: str
    tag: str = "p"  # the innermost block element: p, li, h2, figcaption, blockquote, ...
    link_density: float = 0.0  # share of the text's characters inside <a>
    hints: frozenset[str] = frozenset()  # roles named by ancestors' tags, classes and ids
    lead_link: bool = False  # it opens with a link of two words or more (a headline?)


def opens_with_link(pieces: Sequence[tuple[str, bool]]) -> bool:
    """The (text, inside a link) pieces open with a link of two words or more, and text
    outside it follows: a linked headline and its teaser, or prose led by a linked name."""
    words = 0
    for text, linked in pieces:
        if not text.strip():
            continue
        if not linked:
            return words >= 2
        words += len(text.split())
    return False


def hints_of(attrs: list[tuple[str, str | None]]) -> frozenset[str]:
    """The role hints named by an element's class and id."""
    words = " ".join((v or "").lower() for k, v in attrs if k in ("class", "id"))
    if not words:
        return frozenset()
    return frozenset(name for name, pattern in HINT.items() if pattern.search(words))


@dataclass(frozen=True)
class _Open:
    tag: str
    block: str  # innermost block tag, this element included
    hints: frozenset[str]  # of this element and all its ancestors
    link: bool  # inside an <a>
    dropped: bool  # inside an element whose text is never shown


ROOT = _Open("", "p", frozenset(), False, False)


class _Blocks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._stack: list[_Open] = [ROOT]
        self._pieces: list[tuple[str, bool]] = []

    def _flush(self) -> None:
        text = SPACE.sub(" ", "".join(t for t, _ in self._pieces)).strip()
        if text:
            linked = sum(len("".join(t.split())) for t, a in self._pieces if a)
            total = len("".join(text.split()))
            top = self._stack[-1]
            density = round(linked / total, 3)
            lead = opens_with_link(self._pieces)
            self.blocks.append(Block(text, top.block, density, top.hints, lead))
        self._pieces = []

    def _close_implied(self, tag: str) -> None:
        """A new paragraph or list item ends an open one, as browsers do."""
        closes = "p" if tag != "li" else "li"
        for depth in range(len(self._stack) - 1, 0, -1):
            open_tag = self._stack[depth].tag
            if open_tag == closes:
                del self._stack[depth:]
                return
            if open_tag in BLOCK_TAGS:
                return

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK_TAGS or tag == "br":
            self._flush()
        if tag in BLOCK_TAGS:
            self._close_implied(tag)
        if tag in VOID:
            return
        top = self._stack[-1]
        hints = top.hints | hints_of(attrs)
        if tag in TAG_HINTS:
            hints |= {TAG_HINTS[tag]}
        self._stack.append(
            _Open(
                tag,
                tag if tag in BLOCK_TAGS else top.block,
                hints,
                top.link or tag == "a",
                top.dropped or tag in DROPPED,
            )
        )

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS:
            self._flush()
        if not any(o.tag == tag for o in self._stack[1:]):
            return  # a stray end tag
        while self._stack[-1].tag != tag:
            self._stack.pop()
        self._stack.pop()
        if tag in ("td", "th"):
            self._pieces.append((" ", False))

    def handle_data(self, data: str) -> None:
        top = self._stack[-1]
        if not top.dropped:
            self._pieces.append((data, top.link))

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        """Skip ``<![...]>`` whatever its keyword (the standard parser asserts on unknown ones)."""
        end = self.rawdata.find("]>", i + 3)
        return -1 if end < 0 else end + 2

    def close(self) -> None:
        super().close()
        self._flush()


def blocks(html: str) -> list[Block]:
    """The visible text blocks of ``html`` in order, each with its features."""
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    return parser.blocks


def paragraphs(html: str) -> list[str]:
    """The visible text blocks of ``html``, in order; captions and scripts left out."""
    return [b.text for b in blocks(html) if "figcaption" not in b.hints]


def sanitise(html: str, base_url: str = "") -> str:
    """Keep only harmless markup from an allow-list of tags and attributes.

    No scripts, styles (elements or attributes), event handlers, iframes, forms or
    embedded objects survive, and only http, https and mailto URLs; every link gets
    ``rel="noopener noreferrer"``. With ``base_url`` (the article's own address), relative
    links and image sources are made absolute first, so that they still lead somewhere
    from an email or another site; the scheme check then applies to the result.
    """
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=CONTENT_DROPPED,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=_absolute_urls(base_url) if base_url else None,
    )


URL_ATTRIBUTES = frozenset({"href", "src"})


def _absolute_urls(base_url: str) -> Callable[[str, str, str], str | None]:
    def resolve(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in URL_ATTRIBUTES:
            return value
        return join_url(base_url, value)  # a malformed one (None) is dropped

    return resolve
