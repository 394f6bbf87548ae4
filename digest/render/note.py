"""The editor's note at the top of an edition: Markdown, made safe HTML for the HTML part
and readable plain text for the text part.

The note is content, never code (DESIGN decision 8): ``markdown`` makes HTML of it and
``nh3`` keeps only a few harmless tags (paragraphs, emphasis, lists, quotes, code and
http/https/mailto links); the rest of any raw HTML is dropped or escaped. The text part is
made from that same sanitised HTML, so both parts say the same.
"""

from __future__ import annotations

import textwrap
from html.parser import HTMLParser

import markdown
import nh3

TAGS = {"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "blockquote", "code"}
ATTRIBUTES = {"a": {"href"}}
SCHEMES = {"http", "https", "mailto"}
BLOCKS = {"p", "ul", "ol", "li", "blockquote"}
WIDTH = 72


def note_html(source: str) -> str:
    """The note as sanitised HTML ("" for no note)."""
    if not source.strip():
        return ""
    made = markdown.markdown(source, output_format="html")
    return nh3.clean(made, tags=TAGS, attributes=ATTRIBUTES, url_schemes=SCHEMES).strip()


def note_text(source: str) -> str:
    """The note as plain text: paragraphs wrapped at 72 columns, list items with a dash or
    their number, a link's address after its text ("" for no note)."""
    html = note_html(source)
    if not html:
        return ""
    reader = _TextReader()
    reader.feed(html)
    reader.close()
    return reader.result()


class _TextReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, bool]] = []  # (wrapped text, a list item)
        self.current: list[str] = []
        self.lists: list[list[int]] = []  # per open list: [next number] (0 for bullets)
        self.marker = ""  # a list item's dash or number, for its first text
        self.href = ""
        self.link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS:
            self._end_block()
        if tag in {"ul", "ol"}:
            self.lists.append([1 if tag == "ol" else 0])
        elif tag == "li" and self.lists:
            counter = self.lists[-1]
            marker = f"{counter[0]}. " if counter[0] else "- "
            counter[0] += 1 if counter[0] else 0
            self.marker = marker
        elif tag == "br":
            self._end_block()
        elif tag == "a":
            self.href = dict(attrs).get("href") or ""
            self.link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            shown = "".join(self.link_text).strip()
            if self.href and self.href != shown and self.href != f"mailto:{shown}":
                self.current.append(f" <{self.href}>")
            self.href = ""
        elif tag in BLOCKS:
            self._end_block()
            if tag in {"ul", "ol"} and self.lists:
                self.lists.pop()

    def handle_data(self, data: str) -> None:
        self.current.append(data)
        if self.href:
            self.link_text.append(data)

    def _end_block(self) -> None:
        text = " ".join("".join(self.current).split())
        self.current = []
        if text:
            text, self.marker = self.marker + text, ""
            item = bool(self.lists)
            wrapped = textwrap.fill(
                text,
                WIDTH,
                subsequent_indent="  " if item else "",
                break_long_words=False,
                break_on_hyphens=False,
            )
            self.blocks.append((wrapped, item))

    def result(self) -> str:
        self._end_block()
        out = ""
        for n, (text, item) in enumerate(self.blocks):
            if n:
                out += "\n" if item and self.blocks[n - 1][1] else "\n\n"
            out += text
        return out
