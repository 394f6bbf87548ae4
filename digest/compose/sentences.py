"""Split prose into sentences without NLTK data.

One regular-expression pass finds the places where a sentence may end (a full stop, question
or exclamation mark, possibly followed by closing quotes or brackets, then a space or a capital
letter right after the stop), and a few rules decide each one:

* titles and other abbreviations that never end a sentence (``Mr.``, ``Dr.``, ``Jan. 5``,
  ``No. 10``, ``e.g.``) never split; company suffixes and initials (``Inc.``, ``U.S.``,
  ``John F. Kennedy``) split only before a word that usually starts a sentence (``The``, ``It``);
* decimals, domains and versions (``2.1``, ``example.com``) never split: the next character
  must be a capital, a digit, an opening quote or bracket;
* a missing space after a full stop (``said.It``) splits when a lowercase word stops and a
  capitalised word starts;
* a quotation's closing mark stays with its sentence, and a question or exclamation inside a
  quotation followed by its attribution (``“Why?” he asked.``) does not split;
* paragraphs (blank lines) always end a sentence.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NEVER_END = _words(
    "mr mrs ms messrs dr prof sr rev hon st mt ft gen col lt sgt capt cmdr adm maj gov sen rep "
    "pres supt insp det fr vs v fig figs approx dept univ ave blvd rd e.g i.e cf "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
MAY_END = _words("inc ltd co corp plc llc bros etc jr esq al")
NUMBER_SIGNS = _words("no nos")  # "No. 10" but "He said no."
STARTERS = _words(
    "a an the it its he she they we i you this that these those there here his her their our "
    "but and so yet or if in on at for as by to of after before when while since although "
    "however meanwhile still then now later mr mrs ms dr some many most all one two three "
    "what who why how no not only"
)
# Terminal punctuation, then closing quotes or brackets, then either spaces or (missing space)
# a capitalised word.  Group 1 ends the sentence; the match ends where the next one starts.
BOUNDARY = re.compile(r"([.!?…]+[\"'”’)\]]*)(?:\s+|(?=[A-Z][a-z]))")
OPENERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789“\"‘'([£$€")
INITIALS = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]?$")
PARAGRAPHS = re.compile(r"\n\s*\n")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` in order; paragraphs (blank lines) always end a sentence."""
    sentences: list[str] = []
    for paragraph in PARAGRAPHS.split(text):
        sentences.extend(split_paragraph(" ".join(paragraph.split())))
    return sentences


def split_paragraphs(text: str) -> list[list[str]]:
    """The sentences of each non-empty paragraph of ``text``."""
    out = [split_paragraph(" ".join(p.split())) for p in PARAGRAPHS.split(text)]
    return [p for p in out if p]


def split_paragraph(paragraph: str) -> list[str]:
    """Sentences of one paragraph whose whitespace is already single spaces."""
    out: list[str] = []
    start = 0
    for match in BOUNDARY.finditer(paragraph):
        end, following = match.end(1), match.end()
        if following >= len(paragraph):
            break
        if not _ends_sentence(paragraph, start, end, following):
            continue
        out.append(paragraph[start:end])
        start = following
    tail = paragraph[start:].strip()
    if tail:
        out.append(tail)
    return out


def _ends_sentence(paragraph: str, start: int, end: int, following: int) -> bool:
    nxt = paragraph[following]
    if nxt not in OPENERS:
        return False
    stop = end
    while paragraph[stop - 1] in "\"'”’)]":
        stop -= 1
    if paragraph[stop - 1] != "." or paragraph[stop - 2 : stop] == "..":
        return True  # ! ? … and ellipses end a sentence before a capital or a quote
    space = paragraph.rfind(" ", start, stop - 1)
    word = paragraph[space + 1 if space >= 0 else start : stop - 1].lstrip("(\"'“‘[")
    if following == end and not (len(word) > 1 and word[-1].islower()):
        return False  # "U.S" or "A.B": a missing space after initials is no boundary
    bare = word.lower()
    if bare in NEVER_END:
        return False
    if bare in NUMBER_SIGNS:
        return not nxt.isdigit()
    if bare in MAY_END or INITIALS.match(word + ".") or (len(word) == 1 and word.isupper()):
        return nxt in '“"‘' or _next_word(paragraph, following).lower() in STARTERS
    return True


def _next_word(paragraph: str, at: int) -> str:
    end = at
    while end < len(paragraph) and paragraph[end].isalpha():
        end += 1
    return paragraph[at:end]
