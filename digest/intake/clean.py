"""Remove the boilerplate that scraped articles carry around their text.

First version: rules over paragraphs.  Promo lines ("Must Read: ..."),
photo captions and credits, share and subscribe prompts, a tag line or
caption before the first real paragraph, and the byline and author bio
after the last one are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

PROMO = re.compile(
    r"^(must read|read more|read also|also read|related|recommended|you may also like|"
    r"see also|don'?t miss|more from|watch|listen)\b\s*[:\-–—]?",
    re.IGNORECASE,
)
PLUG = re.compile(
    r"^(sign up|subscribe|share (this|on)|follow us|click here|leave a comment|"
    r"join the conversation|get our newsletter)\b",
    re.IGNORECASE,
)
CREDIT = re.compile(
    r"(^(photo|image|picture|credit|photograph)s?\s*(:|by\b|courtesy\b))|"
    r"(/\s*(cc|reuters|ap|afp|getty( images)?|shutterstock|epa|wikimedia( commons)?)\s*$)|"
    r"(\((getty images|ap( photo)?|reuters|afp|epa|shutterstock)[^)]*\)\s*$)",
    re.IGNORECASE,
)
BIO = re.compile(
    r"\b(covers|writes about|writes for|reports on|is a (senior |staff )?(reporter|writer|"
    r"correspondent|journalist|editor|contributor|columnist)|by profession)\b",
    re.IGNORECASE,
)
NAME_START = re.compile(r"^[A-Z][\w'’-]+(,|\s[A-Z][\w'’-]+\b)")
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


def is_sentence_like(paragraph: str) -> bool:
    """A paragraph that reads as prose: enough words and a closing punctuation mark."""
    return len(paragraph.split()) >= 8 and bool(SENTENCE_END.search(paragraph))


def is_noise(paragraph: str) -> bool:
    """A line that is boilerplate wherever it stands."""
    return bool(PROMO.match(paragraph) or PLUG.match(paragraph) or CREDIT.search(paragraph))


def _is_bio(paragraph: str, author: str) -> bool:
    names = [n for n in re.split(r"\s+", author.strip()) if len(n) > 1]
    starts_with_author = any(paragraph.startswith(n) for n in names)
    return (
        len(paragraph.split()) <= 60
        and (starts_with_author or paragraph == author)
        and (bool(BIO.search(paragraph)) or not is_sentence_like(paragraph))
    )


def _is_named_bio(paragraph: str) -> bool:
    """A short closing note that opens with a person's name and says what they cover."""
    return (
        len(paragraph.split()) < 40
        and bool(NAME_START.match(paragraph))
        and bool(BIO.search(paragraph))
    )


def clean_paragraphs(paragraphs: Sequence[str], *, title: str = "", author: str = "") -> list[str]:
    """The article's own paragraphs, boilerplate removed, order kept."""
    kept = [p for p in paragraphs if p.strip() and p.strip() != title.strip() and not is_noise(p)]
    prose = [i for i, p in enumerate(kept) if is_sentence_like(p)]
    if not prose:
        return kept
    first, last = prose[0], prose[-1]
    body = kept[first : last + 1]
    while len(body) > 1 and (_is_bio(body[-1], author) or _is_named_bio(body[-1])):
        body.pop()
    return [p for p in body if is_sentence_like(p) or len(p.split()) > 3 or p.endswith(":")]


def clean_text(paragraphs: Sequence[str], *, title: str = "", author: str = "") -> str:
    """Cleaned plain text, paragraphs separated by blank lines."""
    return "\n\n".join(clean_paragraphs(paragraphs, title=title, author=author))
