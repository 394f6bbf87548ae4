"""Whether an item's summary is the publisher's standfirst or made from the article.

``summary_source`` is set per source and per segment (the segment's wins):

* ``"article"``: always the summary made from the article's text;
* ``"feed"``: the publisher's standfirst whenever it has one (cut to the word budget),
  else the article's summary;
* ``"auto"`` (the default): the standfirst when it is a real sentence about the story
  (:func:`is_real_standfirst`) that fits the budget, else the article's summary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from digest.compose.openings import dangling, is_reporting
from digest.compose.summary_score import content_words
from digest.compose.summary_units import is_boilerplate
from digest.settings import SUMMARY_SOURCES

MODES = SUMMARY_SOURCES
SHARED_WORDS = 2  # content words a standfirst must share with the story to be about it
QUESTION = re.compile(r"\?[\"'”’)\]]*$")


def mode_of(segment_mode: str, source_modes: Mapping[str, str], source: str) -> str:
    """The summary source of an item of ``source`` in a segment whose own setting is
    ``segment_mode`` ("" leaves it to each source)."""
    return segment_mode or source_modes.get(source, "article") or "article"


def is_real_standfirst(standfirst: str, title: str, text: str = "") -> bool:
    """A reporting sentence (or two) about the story that can open a summary: not a
    question, a teaser, a tag line, boilerplate or the headline again, sharing words with
    the headline and the article, and opening on nothing the reader has not seen."""
    if not is_reporting(standfirst) or QUESTION.search(standfirst):
        return False
    if is_boilerplate(standfirst) or _stems(standfirst) == _stems(title):
        return False
    if dangling(standfirst, title) is not None:
        return False
    return len(_stems(standfirst) & (_stems(title) | _stems(text))) >= SHARED_WORDS


def choose(mode: str, standfirst: str, title: str, text: str, words: int) -> str | None:
    """The standfirst as the item's summary under ``mode``, or ``None`` when the summary
    is to be made from the article."""
    if mode == "article" or not standfirst or words <= 0:
        return None
    size = len(standfirst.split())
    if mode == "feed":
        return standfirst if size <= words else _cut(standfirst, words)
    if size <= words and is_real_standfirst(standfirst, title, text):
        return standfirst
    return None


def _stems(text: str) -> frozenset[str]:
    return frozenset(w[:-1] if w.endswith("s") and len(w) > 3 else w for w in content_words(text))


def _cut(text: str, words: int) -> str:
    return " ".join(text.split()[:words]).rstrip(",;:") + " …"
