"""The units a summary is made of: whole sentences, a quotation kept in one piece, no boilerplate.

Intake already removes boilerplate from stored articles, but ``digest summarise`` also reads
text that never went through intake, so the last guard is here: a line that reads as a promo,
a photo credit, a share or newsletter plug or an author's bio is never a candidate, nor is a
repeat of the title; a caption or a tag line (no closing punctuation) is one only when the
text has no closed sentence at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

OPENING = re.compile(
    r"(must read|read more|read also|also read|related|recommended|you may also like|see also|"
    r"don'?t miss|more from|watch|listen|sponsored)\s*[:|\-–—]|advertisement\W*$|"
    r"(sign up|subscribe|share (this|on)|follow us|click here|leave a comment|"
    r"join the conversation|get our newsletter)\b|"
    r"(photo|image|picture|credit|photograph)s?\s*(:|by\b|courtesy\b)",
    re.IGNORECASE,
)
CREDIT_END = re.compile(
    r"(/\s*(cc|reuters|ap|afp|getty( images)?|shutterstock|epa|wikimedia( commons)?)|"
    r"\((getty images|ap( photo)?|reuters|afp|epa|shutterstock)[^)]*\))\W*$",
    re.IGNORECASE,
)
BIO = re.compile(
    r"\b(covers\b[^.]*\bfor|writes (about|for)|is an? (senior |staff |freelance )?(reporter|"
    r"writer|correspondent|journalist|editor|contributor|columnist)|by profession)\b"
)
NAME_START = re.compile(r"[A-Z][\w'’-]+(,|\s[A-Z][\w'’-]+\b)")
CLOSED = re.compile(r"[.!?…][\"'”’)\]]*$")
NORMAL = re.compile(r"[^\w\s]+")


@dataclass(frozen=True, slots=True)
class Unit:
    """A candidate for the summary: one sentence, or the sentences of one quotation."""

    text: str
    position: int  # order in the article, from 0
    sentences: int
    words: int


def is_boilerplate(text: str) -> bool:
    """A promo, credit, plug or author's bio: never part of a summary."""
    if OPENING.match(text) or CREDIT_END.search(text, max(0, len(text) - 60)):
        return True
    return len(text) < 400 and bool(NAME_START.match(text)) and bool(BIO.search(text))


def candidate_units(title: str, paragraphs: Sequence[Sequence[str]]) -> list[Unit]:
    """The article's units in order, without boilerplate, captions or the title."""
    heading = _normal(title)
    size = len(heading.split())
    units: list[Unit] = []
    loose: list[Unit] = []
    for paragraph in paragraphs:
        for group in _quotations(paragraph):
            text = " ".join(group)
            words = len(text.split())
            if is_boilerplate(text) or (abs(words - size) < 3 and _normal(text) == heading):
                continue
            unit = Unit(text, len(units) + len(loose), len(group), words)
            (units if CLOSED.search(text) else loose).append(unit)
    return units or loose


def _quotations(sentences: Sequence[str]) -> list[list[str]]:
    """Consecutive sentences grouped while a quotation they open is still open.

    A sentence that opens a new quotation ends the group before it: that is how a quotation
    running over several paragraphs is typeset (each paragraph opens the quote anew).
    """
    groups: list[list[str]] = []
    current: list[str] = []
    for sentence in sentences:
        if current and sentence[:1] in '"“':
            groups.append(current)
            current = []
        current.append(sentence)
        if not _open_quotation(" ".join(current)):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _open_quotation(text: str) -> bool:
    return text.count("“") > text.count("”") or text.count('"') % 2 == 1


def _normal(text: str) -> str:
    return " ".join(NORMAL.sub(" ", text.casefold()).split())
