"""Split prose into sentences without NLTK data: abbreviations, decimals and quotes kept whole."""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "gov",
        "sen",
        "rep",
        "pres",
        "rev",
        "vs",
        "etc",
        "inc",
        "ltd",
        "co",
        "corp",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "no",
        "fig",
        "approx",
        "est",
        "dept",
        "univ",
    ]
)
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then space(s)
# or a missing space before a capital letter.
BOUNDARY = re.compile(r"([.!?…]+[\"'”’)\]]*)(\s+|(?=[A-Z“\"]))")
INITIALS = re.compile(r"(?:\b[A-Za-z]\.){2,}$")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` in order; paragraphs (blank lines) always end a sentence."""
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        sentences.extend(_split_paragraph(" ".join(paragraph.split())))
    return sentences


def _split_paragraph(paragraph: str) -> list[str]:
    out: list[str] = []
    start = 0
    for match in BOUNDARY.finditer(paragraph):
        end = match.end(1)
        before = paragraph[start:end]
        after = paragraph[match.end() : match.end() + 1]
        if not after or not _ends_sentence(before, after):
            continue
        out.append(paragraph[start:end].strip())
        start = match.end()
    tail = paragraph[start:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


def _ends_sentence(before: str, after: str) -> bool:
    if before.endswith(".") and not before.endswith(".."):
        word = before[:-1].rsplit(None, 1)[-1] if before[:-1].split() else ""
        bare = word.lstrip("(\"'“‘").lower()
        if bare in ABBREVIATIONS:
            return False
        if INITIALS.search(word + ".") and not after.isupper():
            return False
        if len(bare) == 1 and bare.isalpha() and after.isupper():
            return False  # a middle initial: "John F. Kennedy"
    return after.isupper() or after.isdigit() or after in "“\"‘'(["
