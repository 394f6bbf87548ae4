"""Remove the boilerplate that articles carry around and inside their text.

Every block (paragraph) gets a score from its features; a block scoring at least
:data:`THRESHOLD` is dropped.  Positive parts point to boilerplate, negative parts to
prose.  The features: position (before the first or after the last prose paragraph),
length, terminal punctuation, capitals (Title Case tag lines, ALL CAPS labels), link
density, block tag and class/id hints from the HTML, phrase rules (promos, share,
subscribe and comment prompts, credits, tag lines, bylines, author bios) and, from
:mod:`digest.intake.boilerplate`, repetition across the source's articles.  A decisive
phrase or repetition drops a block by itself; a weaker sign needs others to agree.
:func:`explain` returns every block's parts and the reason, so a drop can be read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from digest.intake.html_text import Block, blocks
from digest.intake.phrases import DECISIVE, phrase_hits

THRESHOLD = 1.0
REPETITION = 2.5  # a line recurring across the source's articles goes, whatever it looks like
SENTENCE_END = re.compile(r"[.!?…:][\"'”’)\]]*$")
HINT_WEIGHTS = {  # a box the markup names is boilerplate, unless it wraps most of the text
    **dict.fromkeys(("figcaption", "caption", "share", "related", "newsletter"), DECISIVE),
    **dict.fromkeys(("author-bio", "comments", "tags", "nav", "form", "promo"), DECISIVE),
    **{"aside": 0.6, "footer": 0.6, "header": 0.5},
    # A linked headline, a line break, a sentence: another article's teaser. Dropped before
    # or after the body (with the position's weight); kept inside it, where it may be prose.
    "teaser": 1.5,
}
BIO = re.compile(
    r"^[A-Z][\w'’-]+(\s+[A-Z][\w.'’-]+){0,3}(,[^.]{0,160},)?\s+(covers|has covered|"
    r"writes (about|for|on)|reports on|is the author of|(is|was) (a|an|the) ([\w'’-]+ ){0,4}"
    r"(reporter|writer|correspondent|journalist|editor|contributor|columnist|producer|"
    r"photographer|critic|fellow|novelist)\b)"
)
CAPTION_WORDS = 25  # a caption is a line; a longer paragraph before a credit is prose
CAPTION_WEIGHT = DECISIVE  # a caption beside its credit goes, like the credit
SENTENCE_BREAK = re.compile(r"[.!?][\"'”’)]*\s+[A-Z“\"]")
REPORTED = re.compile(
    r"\b(said|says|told|tells|according|announced|reported|added|warned|will|would|has|have|"
    r"had|was|were)\b|\b(?!pictured\b)\w{3,}ed\b",
    re.IGNORECASE,
)
SMALL_WORDS = frozenset(
    ("a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to", "with")
)


def is_bio(paragraph: str) -> bool:
    """A short note that opens with a person's name and says what they do or cover."""
    return len(paragraph.split()) < 60 and bool(BIO.match(paragraph))


def is_title_case(text: str) -> bool:
    """Two or more words, nearly all capitalised: a tag line, caption or label."""
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", text) if w.lower() not in SMALL_WORDS]
    capitals = sum(1 for w in words if w[0].isupper())
    return len(words) >= 2 and capitals >= 0.75 * len(words)


@dataclass(frozen=True)
class Verdict:
    """Why one block was kept or dropped."""

    block: Block
    score: float
    parts: dict[str, float]  # feature → contribution; positive means boilerplate
    dropped: bool
    reason: str

    @property
    def line(self) -> str:
        """One readable line: the decision, the score, its parts and the text's start."""
        mark = "drop" if self.dropped else "keep"
        return f"{mark} {self.score:+.2f} {self.reason} | {self.block.text[:70]}"


def is_caption(paragraph: str) -> bool:
    """A photo's caption by its shape: one short line that reports nothing (no "said", no
    past tense but "pictured"). Only a line right before a credit is taken for one."""
    words = paragraph.split()
    if not 2 <= len(words) <= CAPTION_WORDS or len(SENTENCE_BREAK.findall(paragraph)) > 1:
        return False
    return not REPORTED.search(paragraph)


def is_sentence_like(paragraph: str) -> bool:
    """A paragraph that reads as prose: enough words and a closing punctuation mark."""
    return bool(SENTENCE_END.search(paragraph[-8:])) and len(paragraph.split()) >= 8


def _phrase_parts(
    block: Block, title: str, author: str, wrappers: frozenset[str], flats: tuple[str, ...]
) -> dict[str, float]:
    """``flats``: the flattened title, author and "by " + author, worked out once."""
    parts: dict[str, float] = {}
    text = block.text
    long = len(text.split()) >= 40  # a plug-like phrase inside long prose counts less
    for phrase in phrase_hits(text):
        parts[f"phrase:{phrase.name}"] = phrase.in_long_prose if long else phrase.weight
    flat = _flat(text)
    if title and flat == flats[0]:
        parts["title"] = 2.0
    if author and flat in flats[1:]:
        parts["phrase:byline"] = 2.0
    if is_bio(text):
        parts["phrase:bio"] = 1.2 + (0.8 if author and _names_author(text, author) else 0.0)
    hints = block.hints - wrappers
    hint = max(hints, key=lambda h: HINT_WEIGHTS.get(h, 0.0), default="")
    if HINT_WEIGHTS.get(hint, 0.0):
        parts[f"hint:{hint}"] = HINT_WEIGHTS[hint]
    if block.tag == "h1":
        parts["tag:h1"] = 0.5
    return parts


def _shape_parts(block: Block) -> dict[str, float]:
    text, words = block.text, len(block.text.split())
    parts: dict[str, float] = {}
    if words <= 6:
        parts["short"] = 0.5 if words <= 3 else 0.3
    elif words >= 15:
        parts["long"] = -0.6 if words >= 40 else -0.3
    ended = bool(SENTENCE_END.search(text))
    parts["punctuation"] = -0.4 if ended else 0.3
    shouting = _shouting(text)
    if shouting or (not ended and is_title_case(text)):
        parts["capitals"] = 0.3
    if block.link_density > 0.3:
        parts["links"] = round(0.9 * min(1.0, (block.link_density - 0.3) / 0.5), 2)
    return parts


def _shouting(text: str) -> bool:
    """Two or more letters, all of them capitals; stops at the first other letter."""
    letters = 0
    for c in text:
        if c.isalpha():
            if not c.isupper():
                return False
            letters += 1
    return letters >= 2


def _flat(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _wrappers(items: Sequence[Block]) -> frozenset[str]:
    """Hints on elements that hold most of the text: a page wrapper, not a box."""
    words = [len(b.text.split()) for b in items]
    covered: dict[str, int] = {}
    for block, n in zip(items, words, strict=True):
        for hint in block.hints:
            covered[hint] = covered.get(hint, 0) + n
    return frozenset(h for h, n in covered.items() if n * 2 > sum(words))


def _names_author(text: str, author: str) -> bool:
    names = [n for n in author.split() if len(n) > 1]
    return any(text.startswith(n) for n in names)


def explain(
    items: Sequence[Block],
    *,
    title: str = "",
    author: str = "",
    recurring: Callable[[str], bool] | None = None,
) -> list[Verdict]:
    """Each block's score, its parts and the reason it is kept or dropped."""
    wrappers = _wrappers(items)
    flats = (_flat(title), _flat(author), _flat("by " + author))
    found = [_phrase_parts(b, title, author, wrappers, flats) for b in items]
    shapes = [_shape_parts(b) for b in items]
    for i in range(1, len(items)):
        if "phrase:credit" in found[i] and is_caption(items[i - 1].text):
            found[i - 1]["caption:before-credit"] = CAPTION_WEIGHT
    anchors = [
        i
        for i, b in enumerate(items)
        if is_sentence_like(b.text)
        and b.link_density < 0.5
        and not any(v >= THRESHOLD for v in found[i].values())
    ]
    verdicts = []
    for i, block in enumerate(items):
        parts = {**found[i], **shapes[i]}
        if anchors and i < anchors[0]:
            parts["position:leading"] = 0.6
        elif anchors and i > anchors[-1]:
            parts["position:trailing"] = 0.6
        elif anchors:
            parts["position:body"] = -0.2
            if block.tag in ("h2", "h3", "h4", "h5", "h6"):
                parts["tag:subheading"] = -0.4
        if recurring is not None and recurring(block.text):
            parts["repetition"] = REPETITION
        verdicts.append(_verdict(block, parts))
    return _keep_some_body(verdicts)


def _verdict(block: Block, parts: dict[str, float]) -> Verdict:
    score = round(sum(parts.values()), 2)
    dropped = score >= THRESHOLD
    shown = sorted(parts.items(), key=lambda kv: -abs(kv[1]))
    reason = " ".join(f"{name}{value:+.1f}" for name, value in shown)
    return Verdict(block, score, parts, dropped, reason)


def _keep_some_body(verdicts: list[Verdict]) -> list[Verdict]:
    """Never drop every paragraph of prose: the lowest-scoring one stays."""
    if not verdicts or any(not v.dropped for v in verdicts):
        return verdicts
    prose = [i for i, v in enumerate(verdicts) if is_sentence_like(v.block.text)]
    if not prose:
        return verdicts
    best = min(prose, key=lambda i: verdicts[i].score)
    v = verdicts[best]
    verdicts[best] = Verdict(v.block, v.score, v.parts, False, "kept: the only body left")
    return verdicts


def clean_blocks(items: Sequence[Block], *, title: str = "", author: str = "") -> list[str]:
    """The text of the blocks that are the article's own, order kept."""
    return [v.block.text for v in explain(items, title=title, author=author) if not v.dropped]


def clean_html(html: str, *, title: str = "", author: str = "") -> str:
    """Cleaned plain text of article HTML, paragraphs separated by blank lines."""
    return "\n\n".join(clean_blocks(blocks(html), title=title, author=author))


def clean_paragraphs(paragraphs: Sequence[str], *, title: str = "", author: str = "") -> list[str]:
    """The article's own paragraphs, boilerplate removed, order kept."""
    items = [Block(" ".join(p.split())) for p in paragraphs if p.strip()]
    return clean_blocks(items, title=title, author=author)
