"""Body text the extractor left out, found again in the page between the body's first and
last paragraphs.

Trafilatura drops some of the body it finds: a list whose items are all links (qualified
teams, each linked to its page), a paragraph cut into a block of its own by a metered
page, a table's heading. The body's paragraphs it kept are located in the page, and every
block of text of the page between the first and the last of them that the extractor did
not give back is put back in its place, with the hints its markup and its ancestors'
give. Nothing before the body's first paragraph or after its last one (or the list that
its last one introduces) comes back, and the cleaner judges what does like any other
block.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from lxml import etree
from lxml.html import HtmlElement

from digest.intake.html_text import TAG_HINTS, Block, blocks, hints_of

WORD = re.compile(r"\w+")
# Elements a page shows as blocks of text; a div, section or article only when it holds
# text of its own beside its blocks (else its blocks are walked).
TEXT_BLOCKS = frozenset(
    {"p", "li", "h2", "h3", "h4", "h5", "h6", "tr", "dt", "dd", "blockquote", "pre"}
)
CONTAINERS = frozenset({"div", "section", "article", "main", "span", "ul", "ol", "dl"})
CONTAINERS |= {"table", "thead", "tbody", "tfoot", "font", "center", "body"}
SKIPPED = frozenset({"script", "style", "noscript", "template", "figure", "figcaption"})
SKIPPED |= {"aside", "nav", "form", "header", "footer", "button", "select", "svg"}
MIN_FOUND = 2  # fewer of the body's paragraphs found in the page is too little to go on


def _key(text: str) -> str:
    return " ".join(WORD.findall(text.lower()))


def _own_text(element: HtmlElement) -> bool:
    """Text straight in the element or between its children, not only inside them."""
    if (element.text or "").strip():
        return True
    return any((child.tail or "").strip() for child in element)


def _units(element: HtmlElement) -> Iterator[HtmlElement]:
    """The page's blocks of text under ``element``, in document order."""
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if not tag or tag in SKIPPED:
            continue
        if tag in TEXT_BLOCKS or (tag in CONTAINERS and _own_text(child) and tag != "span"):
            yield child
        elif tag in CONTAINERS:
            yield from _units(child)


def _hints(element: HtmlElement) -> frozenset[str]:
    """The role hints of the element's ancestors (its own come with its blocks)."""
    found: set[str] = set()
    for ancestor in element.iterancestors():
        found |= hints_of(list(ancestor.attrib.items()))
        if ancestor.tag in TAG_HINTS:
            found.add(TAG_HINTS[str(ancestor.tag)])
    return frozenset(found)


def _blocks_of(unit: HtmlElement) -> list[Block]:
    """The unit's blocks with its ancestors' hints; a container with text of its own
    beside its blocks (a paragraph a metered page cut in two) is one block."""
    inherited = _hints(unit)
    markup = etree.tostring(unit, encoding="unicode", with_tail=False)
    found = [replace(b, hints=b.hints | inherited) for b in blocks(markup)]
    if unit.tag in TEXT_BLOCKS or len(found) < 2:
        return found
    sizes = [len(b.text) for b in found]
    linked = sum(b.link_density * n for b, n in zip(found, sizes, strict=True))
    return [
        Block(
            " ".join(b.text for b in found),
            tag="p",
            link_density=round(linked / sum(sizes), 3),
            hints=frozenset().union(*(b.hints for b in found)),
        )
    ]


def _end(units: Sequence[HtmlElement], last: int, block: Block) -> int:
    """The last unit to look at: the body's last paragraph found, or the last item of the
    list it introduces ("These are the teams that have qualified:")."""
    if not block.text.endswith(":"):
        return last
    while last + 1 < len(units) and units[last + 1].tag == "li":
        last += 1
    return last


def recover(page: HtmlElement, extracted: Sequence[Block]) -> list[Block]:
    """``extracted`` with the body text it lacks put back in place; as it was when fewer
    than :data:`MIN_FOUND` of its blocks are found in ``page``."""
    known = {_key(b.text): i for i, b in enumerate(extracted)}
    body = page.find(".//body")
    units = list(_units(body if body is not None else page))
    keys = [_key(etree.tostring(u, method="text", encoding="unicode")) for u in units]
    found = [n for n, k in enumerate(keys) if k in known]
    if len(found) < MIN_FOUND:
        return list(extracted)
    everything = " ".join(known)
    after: dict[int, list[Block]] = {}
    place = known[keys[found[0]]]
    for n in range(found[0], _end(units, found[-1], extracted[known[keys[found[-1]]]]) + 1):
        if keys[n] in known:
            place = max(place, known[keys[n]])
            continue
        if not keys[n] or keys[n] in everything:
            continue
        more = [b for b in _blocks_of(units[n]) if _key(b.text) not in everything]
        after.setdefault(place, []).extend(more)
    if not after:
        return list(extracted)
    out: list[Block] = []
    for i, block in enumerate(extracted):
        out.append(block)
        out.extend(after.get(i, []))
    return out
